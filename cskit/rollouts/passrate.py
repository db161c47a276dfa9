"""Pass-rate distribution of a policy on a problem set: how many problems are solved never, sometimes, always.

``pass_rate_distribution(problems, model, n=8)`` samples ``n`` answers per problem (chat prompt from
``cskit.prompts.render_policy_prompt``), extracts code strictly (``cskit.extract.extract_strict``; no
block -> empty code -> fails), grades every sample in the sandbox and returns a :class:`PassRateReport`:
per-problem pass rates, a histogram over the buckets ``0``, ``(0, 0.25]``, ``(0.25, 0.5]``,
``(0.5, 0.75]``, ``(0.75, 1)``, ``1``, and the number of *mixed* problems (some samples pass, some
fail -- the ones that yield preference pairs). ``format_pass_rates`` prints it;
``pass_rate_main`` is the CLI helper (``cskit problems SPEC --pass-rate MODEL [-n 8]``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

from cskit.problems import Problem

__all__ = ["BUCKETS", "PassRateReport", "bucket_of", "histogram", "pass_rate_distribution", "format_pass_rates",
           "pass_rate_main"]

BUCKETS = ("0", "(0,0.25]", "(0.25,0.5]", "(0.5,0.75]", "(0.75,1)", "1")


def bucket_of(rate: float) -> str:
    if rate <= 0:
        return BUCKETS[0]
    if rate >= 1:
        return BUCKETS[5]
    if rate <= 0.25:
        return BUCKETS[1]
    if rate <= 0.5:
        return BUCKETS[2]
    if rate <= 0.75:
        return BUCKETS[3]
    return BUCKETS[4]


def histogram(rates: Sequence[float]) -> dict[str, int]:
    h = {b: 0 for b in BUCKETS}
    for r in rates:
        h[bucket_of(r)] += 1
    return h


@dataclass
class PassRateReport:
    model: str
    n: int
    pass_rates: dict[str, float]                    # problem id -> share of its n samples that passed
    histogram: dict[str, int]
    n_mixed: int                                    # 0 < pass rate < 1
    n_problems: int
    n_no_code: int = 0                              # samples without an extractable code block
    per_problem: dict[str, list[bool]] = field(default_factory=dict)

    @property
    def mean_pass_rate(self) -> float:
        return sum(self.pass_rates.values()) / len(self.pass_rates) if self.pass_rates else 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(asdict(self), mean_pass_rate=self.mean_pass_rate)


def pass_rate_distribution(problems: Sequence[Problem], model: Any, n: int = 8, *, max_new_tokens: int = 512,
                           seed: int = 0, temperature: float = 0.6, top_p: float = 0.95, top_k: int = 20,
                           limits=None, backend: str = "transformers", batch_size: int = 16,
                           device: str | None = None, tokenizer: Any = None,
                           stop_after_code_block: bool = False) -> PassRateReport:
    """Sample ``n`` answers per problem from ``model`` (a name for ``cskit.models.load_policy``, or a model
    object with ``tokenizer``), grade them in the sandbox, and summarise the per-problem pass rates."""
    from cskit.extract import extract_strict
    from cskit.models import SamplingParams, load_policy, make_generator
    from cskit.prompts import render_policy_prompt
    from cskit.sandbox import SandboxLimits, grade_many

    probs = [p for p in problems if p.has_tests]
    name = model if isinstance(model, str) else type(model).__name__
    if isinstance(model, str):
        model_obj, tok = load_policy(model, device=device) if backend != "vllm" else (model, tokenizer)
    else:
        model_obj, tok = model, tokenizer
    if tok is None and backend != "vllm":
        raise ValueError("pass a tokenizer with a model object")
    gen = make_generator(backend, model_obj, tok, batch_size=batch_size, device=device)
    tok = tok if tok is not None else getattr(gen, "tokenizer", None)
    prompts = [render_policy_prompt(tok, p) for p in probs]
    params = SamplingParams(n=n, temperature=temperature, top_p=top_p, top_k=top_k, max_new_tokens=max_new_tokens,
                            seed=seed, stop_after_code_block=stop_after_code_block)
    outs = gen.generate(prompts, params) if prompts else []
    items, owners = [], []
    n_no_code = 0
    for p, samples in zip(probs, outs):
        for g in samples[:n]:
            code = extract_strict(g.text)
            n_no_code += not code
            items.append((p, code))
            owners.append(p.id)
    results = grade_many(items, limits=limits or SandboxLimits(), progress=False) if items else []
    per: dict[str, list[bool]] = {p.id: [] for p in probs}
    for pid, r in zip(owners, results):
        per[pid].append(bool(r.passed))
    rates = {pid: (sum(v) / len(v) if v else 0.0) for pid, v in per.items()}
    mixed = sum(0 < r < 1 for r in rates.values())
    return PassRateReport(str(name), n, rates, histogram(list(rates.values())), mixed, len(probs), n_no_code, per)


def format_pass_rates(report: PassRateReport, *, per_problem: bool = False) -> str:
    lines = [f"pass rates of {report.model} on {report.n_problems} problems, n={report.n} samples each "
             f"(mean {report.mean_pass_rate:.1%}; {report.n_no_code} samples without a code block)"]
    width = max((v for v in report.histogram.values()), default=0) or 1
    for b in BUCKETS:
        c = report.histogram.get(b, 0)
        lines.append(f"  {b:>11s}  {c:5d}  " + "#" * round(40 * c / width))
    lines.append(f"mixed problems (0 < pass rate < 1, usable for preference pairs): {report.n_mixed}")
    if per_problem:
        lines += [f"  {pid}  {rate:.2f}" for pid, rate in sorted(report.pass_rates.items())]
    return "\n".join(lines)


def pass_rate_main(problems: Sequence[Problem], model: str, n: int = 8, *, out: Callable[[str], Any] = print,
                   json_path: str | None = None, **kw: Any) -> int:
    """CLI helper: sample, grade, print the distribution (and write JSON); returns 0."""
    report = pass_rate_distribution(problems, model, n=n, **kw)
    out(format_pass_rates(report))
    if json_path:
        from cskit.io import write_json

        write_json(json_path, report.to_dict())
    return 0
