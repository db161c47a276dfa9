"""Benchmark evaluation of a policy: avg@k (the paper's metric) and unbiased pass@k, per benchmark and averaged.

Protocol (recipe: "Evaluation"): for every problem, sample ``k`` responses from the policy's chat-rendered prompt
(:func:`cskit.prompts.render_policy_prompt`, the same LCB-style template for every benchmark) at the
profile's temperature / top-p / top-k and ``eval_max_new_tokens``; take the **last** fenced block
(:func:`cskit.extract.extract_lenient`, no single-block rule and no AST check); grade it in the sandbox
(``test_timeout`` per test, ``memory_mb``); a sample passes only when every test passes.

* ``avg@k`` = mean over problems of (passing samples / k) = the mean pass rate over all samples. With k = 8
  this is the paper's avg@8.
* ``pass@j`` (j = 1, 2, 4, ..., k) = the unbiased estimator of Chen et al. (2021, HumanEval):
  1 - C(n-c, j) / C(n, j) per problem (n samples, c correct), averaged over problems. pass@1 == avg@k.
* The benchmark average (``average``) is the unweighted mean over benchmarks, as in the paper's tables.

Benchmarks are problem-source specs (:mod:`cskit.problems.sources`), one benchmark per spec of
``cfg.eval_problems``: the paper's five (``deepcoder:lcbv5:test``, ``cure:CodeContests``, ``cure:CodeForces``,
``cure:LiveBench``, ``cure:MBPP``) when their data is available, ``humaneval`` and ``bundled:val`` offline.
Problems without tests (kind ``none``) cannot be evaluated and are skipped (counted in ``n_skipped``).

Deterministic under ``cfg.seed``: the sampling seed is the profile seed, grading is deterministic.
"""
from __future__ import annotations

import math
import time
import warnings
from typing import Any, Mapping, Sequence

import numpy as np

from cskit.config import Config

# pretty names for the paper's benchmarks (anything else is named by its spec)
BENCHMARK_NAMES = {
    "deepcoder:lcbv5:test": "LiveCodeBench",
    "lcb": "LiveCodeBench",
    "cure:CodeContests": "CodeContests",
    "cure:CodeForces": "CodeForces",
    "cure:LiveBench": "LiveBench",
    "cure:MBPP": "MBPP",
    "humaneval": "HumanEval",
    "bundled:val": "bundled-val",
}


# --- estimators -----------------------------------------------------------------------------------------


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with ``n`` samples of which ``c`` pass (Chen et al. 2021)."""
    if not 0 <= c <= n:
        raise ValueError(f"pass_at_k: need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass_at_k: need 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1, dtype=np.float64)))


def avg_at_k(passes: Sequence[Sequence[bool]]) -> float:
    """Mean pass rate over problems of their samples (``passes[i][j]`` = sample j of problem i passed)."""
    if not passes:
        return float("nan")
    return float(np.mean([np.mean(np.asarray(p, dtype=np.float64)) for p in passes]))


def k_values(k: int) -> list[int]:
    """1, 2, 4, ... up to and including ``k``."""
    out, j = [], 1
    while j < k:
        out.append(j)
        j *= 2
    return out + [k]


def summarize(passes: Sequence[Sequence[bool]], k: int) -> dict[str, float]:
    """avg@k and pass@j (j in :func:`k_values`) for one benchmark's per-problem pass lists."""
    out = {f"avg@{k}": avg_at_k(passes)}
    for j in k_values(k):
        vals = [pass_at_k(len(p), int(sum(p)), j) for p in passes if len(p) >= j]
        out[f"pass@{j}"] = float(np.mean(vals)) if vals else float("nan")
    return out


# --- benchmarks ---------------------------------------------------------------------------------------


def benchmark_name(spec: str) -> str:
    return BENCHMARK_NAMES.get(spec.strip(), spec.strip())


def load_benchmarks(cfg: Config, specs: str | None = None, limit: int | None = None) -> dict[str, list]:
    """One benchmark per spec of ``specs`` (default ``cfg.eval_problems``), each capped at ``limit``
    (default ``cfg.max_eval_problems``; 0 = all) with a seeded subsample."""
    from cskit.problems import load_problems

    specs = specs if specs is not None else cfg.eval_problems
    limit = cfg.max_eval_problems if limit is None else limit
    out: dict[str, list] = {}
    for spec in [s.strip() for s in str(specs).split(",") if s.strip()]:
        out[benchmark_name(spec)] = load_problems(spec, limit=limit, seed=cfg.seed)
    return out


def sampling_from_cfg(cfg: Config, k: int | None = None):
    """The paper's eval sampling from a profile: n = k, T / top-p / top-k, eval_max_new_tokens, seed."""
    from cskit.models import SamplingParams

    import dataclasses

    params = SamplingParams.from_config(cfg, n=int(k or cfg.eval_k), max_new_tokens=int(cfg.eval_max_new_tokens),
                                        seed=int(cfg.seed))
    if int(cfg.eval_top_k) >= 0:   # -1: the profile's top_k; 0: no top-k (the authors' eval.py)
        params = dataclasses.replace(params, top_k=int(cfg.eval_top_k))
    if int(cfg.eval_max_total_tokens) > 0:   # prompt + response <= the cap (the authors' max_model_len)
        params = dataclasses.replace(params, max_total_tokens=int(cfg.eval_max_total_tokens))
    return params


# --- evaluation ---------------------------------------------------------------------------------------


def _load_for_generation(model_name_or_obj: Any, cfg: Config, tokenizer: Any):
    """(generator, tokenizer, owned) where ``owned`` says we loaded weights that should be freed after."""
    from cskit.models.generate import make_generator

    backend = cfg.gen_backend
    device = cfg.device
    if not isinstance(model_name_or_obj, str) and not hasattr(model_name_or_obj, "__fspath__"):
        if tokenizer is None:
            raise ValueError("evaluate_policy: pass the tokenizer together with a model object")
        gen = make_generator("transformers", model_name_or_obj, tokenizer, batch_size=cfg.gen_batch_size,
                             device=None)
        return gen, tokenizer, False
    name = str(model_name_or_obj)
    if backend == "vllm":
        from transformers import AutoTokenizer

        from cskit.models import resolve_model

        path = resolve_model(name)
        tok = tokenizer or AutoTokenizer.from_pretrained(path)
        gen = make_generator("vllm", path, tok, batch_size=cfg.gen_batch_size, device=device)
        return gen, tok, True
    from cskit.models import load_policy, pick_device

    dev = pick_device(device)
    model, tok = load_policy(name, device=dev, dtype=cfg.dtype)
    gen = make_generator("transformers", model, tokenizer or tok, batch_size=cfg.gen_batch_size, device=dev)
    return gen, tokenizer or tok, True


def evaluate_policy(model_name_or_obj: Any, problems_by_benchmark: Mapping[str, Sequence[Any]], k: int | None = None,
                    sampling: Any = None, cfg: Config | None = None, *, tokenizer: Any = None,
                    progress: bool | None = None, keep_samples: bool = False) -> dict[str, Any]:
    """Evaluate one policy on several benchmarks (see the module docstring for the protocol).

    ``model_name_or_obj``: a model name/dir (loaded with :func:`cskit.models.load_policy`, or served by vLLM
    when ``cfg.gen_backend == 'vllm'``) or a loaded causal LM (then pass ``tokenizer``).
    ``sampling``: a :class:`cskit.models.generate.SamplingParams` (default :func:`sampling_from_cfg`); ``n`` is set to
    ``k``. Returns ``{"k", "benchmarks": {name: {avg@k, pass@j.., n_problems, n_samples, n_skipped,
    valid_rate, mean_tokens, truncated_rate, gen_time_s, grade_time_s}}, "average": {avg@k, pass@j..},
    "per_problem": {name: [{problem_id, n, c}]}, "gen_time_s"}`` (+ ``"samples"`` when ``keep_samples``).
    Every benchmark's prompts go through one generation call (one decoding loop, batched by
    ``gen_batch_size``); a benchmark's ``gen_time_s`` is that call's time apportioned by generated tokens.
    """
    import dataclasses

    from cskit.config import Config
    from cskit.extract import extract_lenient
    from cskit.prompts import render_policy_prompt
    from cskit.sandbox import SandboxLimits, grade_many

    cfg = cfg or Config.defaults()
    k = int(k or (sampling.n if sampling is not None else cfg.eval_k))
    sampling = sampling_from_cfg(cfg, k) if sampling is None else dataclasses.replace(sampling, n=k)
    progress = cfg.progress if progress is None else progress
    limits = SandboxLimits.from_config(cfg)
    if bool(cfg.eval_fixed_test_timeout):  # the authors: a fixed time per test, whatever the row says
        limits = dataclasses.replace(limits, use_problem_time_limit=False)
    gen, tok, owned = _load_for_generation(model_name_or_obj, cfg, tokenizer)
    result: dict[str, Any] = {"k": k, "sampling": dataclasses.asdict(sampling), "benchmarks": {},
                              "per_problem": {}}
    samples: dict[str, list] = {}
    try:
        usable_by: dict[str, list] = {}
        for name, problems in problems_by_benchmark.items():
            usable = [p for p in problems if p.kind != "none" and p.tests]
            skipped = len(problems) - len(usable)
            if skipped:
                warnings.warn(f"evaluate: {skipped} problem(s) of benchmark {name!r} have no tests and are skipped")
            if not usable:
                result["benchmarks"][name] = {"n_problems": 0, "n_skipped": skipped}
                continue
            usable_by[name] = usable
        # one generation call for every benchmark: one decoding loop instead of one per benchmark
        t0 = time.perf_counter()
        prompts = [render_policy_prompt(tok, p) for us in usable_by.values() for p in us]
        all_gens = gen.generate(prompts, sampling) if prompts else []
        gen_time = time.perf_counter() - t0
        total_tokens = max(1, sum(g.n_tokens for row in all_gens for g in row))
        result["gen_time_s"] = round(gen_time, 3)
        start = 0
        for name, usable in usable_by.items():
            skipped = len(problems_by_benchmark[name]) - len(usable)
            gens, start = all_gens[start:start + len(usable)], start + len(usable)
            texts = [[g.text for g in row] for row in gens]
            codes = [[extract_lenient(t) for t in row] for row in texts]
            items, where = [], []
            for i, p in enumerate(usable):
                for j, code in enumerate(codes[i]):
                    if code:
                        items.append((p, code))
                        where.append((i, j))
            t1 = time.perf_counter()
            graded = grade_many(items, limits=limits, workers=cfg.sandbox_workers, progress=progress)
            grade_time = time.perf_counter() - t1
            passes = [[False] * len(row) for row in codes]
            verdicts = [["no_code"] * len(row) for row in codes]
            for (i, j), r in zip(where, graded):
                passes[i][j] = bool(r.passed)
                verdicts[i][j] = r.verdict
            n_samples = sum(len(r) for r in codes)
            ntok = [g.n_tokens for row in gens for g in row]
            trunc = [g.finish_reason == "length" for row in gens for g in row]
            row = {"n_problems": len(usable), "n_samples": n_samples, "n_skipped": skipped,
                   **summarize(passes, k),
                   "valid_rate": float(np.mean([bool(c) for r in codes for c in r])) if n_samples else float("nan"),
                   "mean_tokens": float(np.mean(ntok)) if ntok else float("nan"),
                   "truncated_rate": float(np.mean(trunc)) if trunc else float("nan"),
                   # the shared generation call's time, apportioned by generated tokens
                   "gen_time_s": round(gen_time * sum(ntok) / total_tokens, 3), "grade_time_s": round(grade_time, 3),
                   # verdicts decided by the sandbox's flagged in-process fallback
                   "in_process_verdicts": int(sum(r.isolation_level == "in_process" for r in graded))}
            result["benchmarks"][name] = row
            result["per_problem"][name] = [{"problem_id": p.id, "n": len(passes[i]), "c": int(sum(passes[i]))}
                                           for i, p in enumerate(usable)]
            if keep_samples:
                samples[name] = [{"problem_id": p.id, "responses": texts[i], "passed": passes[i],
                                  "verdicts": verdicts[i]} for i, p in enumerate(usable)]
    finally:
        if owned:
            del gen
            from cskit.models import free_memory

            free_memory()
    from cskit.stats import mean_ci

    for name, rows in result["per_problem"].items():   # avg@k with n and a bootstrap interval over problems
        if rows and name in result["benchmarks"]:
            result["benchmarks"][name][f"avg@{k}_ci"] = mean_ci([r["c"] / r["n"] for r in rows if r["n"]])
    scored = [r for r in result["benchmarks"].values() if r.get("n_problems")]
    metric_keys = [f"avg@{k}"] + [f"pass@{j}" for j in k_values(k)]
    result["average"] = {m: (float(np.mean([r[m] for r in scored])) if scored else float("nan"))
                         for m in metric_keys}
    if keep_samples:
        result["samples"] = samples
    return result


def paired_comparison(a: Mapping[str, Any], b: Mapping[str, Any], *, seed: int = 0) -> dict[str, Any]:
    """avg@k of method ``a`` minus method ``b`` on the same problems (evaluation results of
    :func:`evaluate_policy`), per benchmark and over all problems, each with a paired bootstrap interval
    (:func:`cskit.stats.paired_difference`). Problems evaluated for only one method are left out."""
    from cskit.stats import paired_difference

    out: dict[str, Any] = {}
    xs, ys = [], []
    for name, rows_a in (a.get("per_problem") or {}).items():
        rb = {r["problem_id"]: r for r in (b.get("per_problem") or {}).get(name, [])}
        pa = [(r["c"] / r["n"], rb[r["problem_id"]]["c"] / rb[r["problem_id"]]["n"]) for r in rows_a
              if r["n"] and r["problem_id"] in rb and rb[r["problem_id"]]["n"]]
        if pa:
            out[name] = paired_difference([x for x, _ in pa], [y for _, y in pa], seed=seed)
            xs += [x for x, _ in pa]
            ys += [y for _, y in pa]
    out["all"] = paired_difference(xs, ys, seed=seed)
    return out


def compare_methods(evals: Mapping[str, Mapping[str, Any]], pairs: Sequence[tuple[str, str]],
                    names: Mapping[str, str] | None = None, *, seed: int = 0) -> dict[str, Any]:
    """:func:`paired_comparison` for each ``(a, b)`` of ``pairs`` present in ``evals``, keyed ``"a - b"``; the
    over-all-problems entry carries its reading (:func:`cskit.stats.describe_difference`)."""
    from cskit.stats import describe_difference

    names = names or {}
    out = {}
    for a, b in pairs:
        if a in evals and b in evals:
            c = paired_comparison(evals[a], evals[b], seed=seed)
            c["all"]["wording"] = describe_difference(c["all"], names.get(a, a), names.get(b, b), " avg@k")
            out[f"{a} - {b}"] = c
    return out


def pooled_avg(evals: Mapping[str, Mapping[str, Any]]) -> dict[str, dict]:
    """avg@k over every evaluated problem of each method, with n and a bootstrap interval over problems."""
    from cskit.stats import mean_ci

    return {m: mean_ci([r["c"] / r["n"] for rows in (e.get("per_problem") or {}).values() for r in rows if r["n"]])
            for m, e in evals.items()}


def results_table(results_by_method: Mapping[str, Mapping[str, Any]], metric: str | None = None) -> dict[str, dict]:
    """The paper's table: rows = methods, columns = benchmarks + ``Average`` (values in %, 2 decimals)."""
    table: dict[str, dict] = {}
    for method, res in results_by_method.items():
        m = metric or f"avg@{res['k']}"
        row = {}
        for bench, r in res["benchmarks"].items():
            v = r.get(m)
            row[bench] = round(100.0 * v, 2) if v is not None and not math.isnan(v) else None
        avg = res.get("average", {}).get(m)
        row["Average"] = round(100.0 * avg, 2) if avg is not None and not math.isnan(avg) else None
        table[method] = row
    return table


