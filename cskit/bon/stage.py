"""Stage 05: Best-of-N test-time scaling -- CodeScaler RM reranking vs unit-test reranking (recipe: "Best-of-N").

N candidates per problem are sampled ONCE at ``max(bon_n_values)`` (timed) and stored in
``data/bon_candidates.parquet``; every N in ``bon_n_values`` then uses the *first* N of them, so all
selectors see exactly the same candidates. Selectors (``SELECTORS``):

* ``rm``          -- argmax of the CodeScaler scorer over (question_text, strictly extracted code). A
  candidate whose strict extraction is empty (ε) is not sent to the RM and scores ``-inf``; ties (and the
  all-invalid case) go to the lowest index.
* ``unit_tests``  -- CURE-style: the policy writes ``bon_num_tests`` tests per problem
  (:mod:`cskit.bon.unit_tests`), every candidate runs every generated test in the sandbox, the one passing
  most wins; ties -> candidates with code first, then the lowest index.
* ``vote``        -- majority vote by behaviour: candidates are clustered by their outputs on the first
  ``bon_vote_inputs`` distinct generated inputs; the largest cluster wins (clusters whose every output is
  an error rank below any other; ties -> the cluster whose first member has the lowest index), and its
  lowest-index member is chosen. Candidates without code join no cluster.
* ``random``      -- a seeded draw among the N (seed = (cfg.seed, problem index, N)), and
  ``random_expected`` -- the expected accuracy of a uniform draw (mean real pass rate of the N candidates);
* ``oracle``      -- upper bound: some candidate among the N passes the real tests.

Accuracy: a candidate is correct when its lenient code (last fenced block: the evaluation protocol, spec
recipe "Evaluation") passes all the problem's real tests; each candidate is graded once. 95 % CIs are a seeded percentile
bootstrap over problems (``bootstrap_ci``; ``wilson_ci`` is provided for 0/1 accuracies).

Latency per problem (seconds; see ``latency_columns``): ``generation`` = the wall time of sampling Nmax
candidates in one call, scaled by N/Nmax; ``selection`` = for ``rm`` the measured wall time of scoring the
first N candidates (one scorer call per N, after a warm-up; model load excluded and reported apart), for
``unit_tests``/``vote`` the measured wall time of generating the tests (policy call with M samples) plus
the summed sandbox time of the N x M (N x V) executions, i.e. the serial, one-core cost; ``total`` = both.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from cskit.io import write_parquet
from cskit.problems import Problem, TestCase
from cskit.stats import bootstrap_ci

SELECTORS = ("rm", "unit_tests", "vote", "random", "random_expected", "oracle")
CANDIDATE_COLUMNS = ["problem_id", "cand_idx", "question", "response", "code_strict", "code_lenient", "valid",
                     "n_tokens", "finish_reason", "gen_time_s", "n_max", "key", "model",
                     "passed", "pass_fraction", "verdict", "isolation_level"]
TEST_COLUMNS = ["problem_id", "sample_idx", "response", "n_tokens", "ok", "drop_reason", "test_input",
                "test_output", "gen_time_s", "key", "model"]


# --- selectors (pure) ------------------------------------------------------------------------------------

def select_rm(scores: Sequence[float], valid: Sequence[bool] | None = None) -> int:
    """Index of the highest RM score; invalid candidates (``valid`` False, or NaN) count as ``-inf``;
    ties and the all-invalid case -> the lowest index."""
    s = np.asarray(scores, dtype=float).copy()
    if s.size == 0:
        raise ValueError("select_rm: no candidates")
    s[np.isnan(s)] = -np.inf
    if valid is not None:
        s[~np.asarray(valid, dtype=bool)] = -np.inf
    return int(np.argmax(s))  # argmax returns the first maximum


def select_unit_tests(passes: np.ndarray, has_code: Sequence[bool] | None = None) -> int:
    """Candidate passing the most generated tests (``passes[N, M]``); ties -> has code, then lowest index."""
    p = np.asarray(passes, dtype=bool)
    n = p.shape[0]
    if n == 0:
        raise ValueError("select_unit_tests: no candidates")
    counts = p.reshape(n, -1).sum(axis=1)
    code = np.ones(n, bool) if has_code is None else np.asarray(has_code, dtype=bool)
    return int(min(range(n), key=lambda i: (-counts[i], not code[i], i)))


def vote_clusters(signatures: Sequence[tuple | None]) -> list[list[int]]:
    """Candidates grouped by identical signature, in order of first appearance; ``None`` joins none."""
    groups: dict[tuple, list[int]] = {}
    for i, s in enumerate(signatures):
        if s is not None:
            groups.setdefault(tuple(s), []).append(i)
    return list(groups.values())


def _all_errors(sig: tuple) -> bool:
    return len(sig) > 0 and all(isinstance(x, str) and x.startswith("<") and x.endswith(">") for x in sig)


def select_majority_vote(signatures: Sequence[tuple | None]) -> int:
    """Lowest index of the largest behaviour cluster (error-only clusters rank last; ties -> the cluster
    that appears first). No candidate with code -> 0."""
    clusters = vote_clusters(signatures)
    if not clusters:
        return 0
    best = min(clusters, key=lambda c: (_all_errors(tuple(signatures[c[0]])), -len(c), c[0]))
    return int(best[0])


def select_random(n: int, seed: Any) -> int:
    """A seeded uniform draw in ``range(n)``; ``seed`` may be a tuple of ints."""
    return int(np.random.default_rng(seed).integers(0, n))


# --- statistics -------------------------------------------------------------------------------------------

# --- per-problem measurements -> selections -------------------------------------------------------------

@dataclass
class ProblemMeasure:
    """Everything the selectors and the latency accounting need for one problem (Nmax candidates)."""

    problem_id: str
    passed: np.ndarray                    # [Nmax] real tests, all passed
    valid: np.ndarray                     # [Nmax] strict extraction non-empty (RM input exists)
    has_code: np.ndarray                  # [Nmax] lenient code non-empty (executable)
    rm_scores: np.ndarray                 # [Nmax] -inf where invalid
    rm_time_s: dict[int, float]           # N -> seconds to score the first N
    ut_passes: np.ndarray                 # [Nmax, M] generated-test outcomes
    ut_exec_s: np.ndarray                 # [Nmax] sandbox seconds per candidate (its M tests)
    vote_sigs: list                       # [Nmax] behaviour signatures (None = no code)
    vote_exec_s: np.ndarray               # [Nmax] sandbox seconds per candidate (its V inputs)
    gen_time_s: float                     # wall time of sampling the Nmax candidates
    testgen_time_s: float                 # wall time of sampling the M test responses
    n_tests: int = 0
    extra: dict = field(default_factory=dict)


def latency_columns(m: ProblemMeasure, selector: str, n: int) -> tuple[float, float]:
    """(generation_s, selection_s) of ``selector`` at ``n`` candidates for one problem."""
    nmax = len(m.passed)
    gen = m.gen_time_s * n / nmax
    if selector == "rm":
        sel = float(m.rm_time_s[n])
    elif selector == "unit_tests":
        sel = m.testgen_time_s + float(np.sum(m.ut_exec_s[:n]))
    elif selector == "vote":
        sel = m.testgen_time_s + float(np.sum(m.vote_exec_s[:n]))
    elif selector in ("random", "random_expected"):
        sel = 0.0
    elif selector == "oracle":
        sel = float("nan")  # needs the hidden tests: not a deployable selector
    else:
        raise ValueError(f"unknown selector {selector!r}; expected one of {SELECTORS}")
    return gen, sel


def selection_table(measures: Sequence[ProblemMeasure], n_values: Sequence[int], seed: int = 0) -> pd.DataFrame:
    """One row per (problem, N, selector): chosen index, correct (0/1; expected value for
    ``random_expected``), generation_s, selection_s, total_s."""
    rows = []
    for pi, m in enumerate(measures):
        nmax = len(m.passed)
        for n in n_values:
            if n > nmax:
                raise ValueError(f"{m.problem_id}: N={n} > {nmax} candidates")
            passed = np.asarray(m.passed[:n], dtype=bool)
            choice = {
                "rm": select_rm(m.rm_scores[:n], m.valid[:n]),
                "unit_tests": select_unit_tests(m.ut_passes[:n], m.has_code[:n]),
                "vote": select_majority_vote(m.vote_sigs[:n]),
                "random": select_random(n, (int(seed), pi, int(n))),
            }
            for sel in SELECTORS:
                if sel == "random_expected":
                    idx, correct = -1, float(passed.mean())
                elif sel == "oracle":
                    hits = np.flatnonzero(passed)
                    idx, correct = (int(hits[0]) if hits.size else -1), float(hits.size > 0)
                else:
                    idx = choice[sel]
                    correct = float(passed[idx])
                gen, s = latency_columns(m, sel, n)
                rows.append(dict(problem_id=m.problem_id, N=int(n), selector=sel, chosen=int(idx), correct=correct,
                                 generation_s=gen, selection_s=s, total_s=gen + s if s == s else float("nan")))
    return pd.DataFrame(rows)


def summarize(table: pd.DataFrame, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per (selector, N): accuracy with bootstrap CI over problems, mean latencies per problem."""
    out = []
    for (sel, n), g in table.groupby(["selector", "N"], sort=False):
        lo, hi = bootstrap_ci(g.correct.to_numpy(), n_boot=n_boot, seed=seed)
        out.append(dict(selector=sel, N=int(n), accuracy=float(g.correct.mean()), ci_lo=lo, ci_hi=hi,
                        problems=int(len(g)), generation_s=float(g.generation_s.mean()),
                        selection_s=float(g.selection_s.mean()), total_s=float(g.total_s.mean())))
    df = pd.DataFrame(out)
    order = {s: i for i, s in enumerate(SELECTORS)}
    return df.sort_values(["selector", "N"], key=lambda c: c.map(order) if c.name == "selector" else c,
                          ignore_index=True)


def latency_ratios(summary: pd.DataFrame, num: str = "unit_tests", den: str = "rm",
                   column: str = "selection_s") -> dict[int, float]:
    """``summary[num][column] / summary[den][column]`` for every N (e.g. unit-test vs RM selection cost)."""
    a = summary[summary.selector == num].set_index("N")[column]
    b = summary[summary.selector == den].set_index("N")[column]
    return {int(n): float(a[n] / b[n]) if b.get(n, 0) else float("inf") for n in a.index if n in b.index}


# --- stage pieces ---------------------------------------------------------------------------------------------

def _key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:12]


def _sampling(cfg, n: int, seed: int, stop_after_code_block: bool = False):
    from cskit.models import SamplingParams

    return SamplingParams.from_config(cfg, n=n, max_new_tokens=int(cfg.eval_max_new_tokens), seed=seed,
                                      stop_after_code_block=stop_after_code_block)


def _resumable_generate(path, problems, prompt_fn, make_rows, n, key_fn, sampling_fn, get_gen, progress,
                        desc) -> pd.DataFrame:
    """Generate ``n`` samples per problem (one timed call each), saving after every problem; rows of
    problems already in ``path`` with the same key are reused."""
    from tqdm.auto import tqdm

    old = pd.read_parquet(path) if path.exists() else None
    done: dict[str, pd.DataFrame] = {}
    if old is not None and len(old):
        for pid, g in old.groupby("problem_id", sort=False):
            done[pid] = g
    todo = [(pi, p) for pi, p in enumerate(problems)
            if not (p.id in done and len(done[p.id]) == n and done[p.id].key.iloc[0] == key_fn(pi, p))]
    keep = {p.id for p in problems} - {p.id for _, p in todo}
    frames = [done[pid] for pid in done if pid in keep]
    for pi, p in tqdm(todo, desc=desc, disable=not progress):
        generator, tokenizer = get_gen()
        prompt = prompt_fn(tokenizer, p)
        t0 = time.perf_counter()
        gens = generator.generate([prompt], sampling_fn(pi), progress=False)[0]
        wall = time.perf_counter() - t0
        frames.append(pd.DataFrame(make_rows(pi, p, gens, wall)))
        write_parquet(path, pd.concat(frames, ignore_index=True))
    order = {p.id: i for i, p in enumerate(problems)}
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(df):
        df = df.assign(_o=df.problem_id.map(order)).sort_values(["_o", df.columns[1]]).drop(columns="_o")
        df = df.reset_index(drop=True)
    return df


def measure_problem(problem: Problem, cands: pd.DataFrame, tests: list[TestCase], testgen_time_s: float,
                    scorer, n_values: Sequence[int], *, vote_k: int, limits=None, workers: int = 0,
                    rm_score_invalid: bool = False) -> ProblemMeasure:
    """RM scores (timed per N), generated-test pass matrix and vote signatures for one problem.

    ``rm_score_invalid``: also send candidates without strict code to the RM (their lenient code, else the
    raw response) so that the timed cost is that of N forward passes whatever the policy wrote (the
    latency benchmark's conservative setting); their score is still ``-inf`` for selection."""
    from cskit.prompts import question_text
    from cskit.bon.unit_tests import pass_matrix, vote_inputs, vote_signatures

    cands = cands.sort_values("cand_idx")
    strict = cands.code_strict.fillna("").tolist()
    lenient = cands.code_lenient.fillna("").tolist()
    valid = np.array([bool(c) for c in strict])
    q = question_text(problem)
    scores = np.full(len(strict), -np.inf)
    rm_time: dict[int, float] = {}
    responses = cands.response.fillna("").tolist()
    rm_in = [strict[i] or (lenient[i] if rm_score_invalid else "") or (responses[i] if rm_score_invalid else "")
             for i in range(len(strict))]
    for n in sorted(set(n_values)):
        idx = [i for i in range(n) if rm_in[i]]
        t0 = time.perf_counter()
        s = scorer.score([q] * len(idx), [rm_in[i] for i in idx]) if idx else np.zeros(0)
        rm_time[n] = time.perf_counter() - t0
        scores[:] = -np.inf
        scores[idx] = np.asarray(s, dtype=float)
        scores[~valid] = -np.inf
    if len(n_values) and max(n_values) < len(strict):
        scores[max(n_values):] = -np.inf
    t0 = time.perf_counter()
    passes, ut_s = pass_matrix(problem, lenient, tests, limits=limits, workers=workers)
    ut_wall = time.perf_counter() - t0
    inputs = vote_inputs(problem, tests, vote_k)
    t0 = time.perf_counter()
    sigs, vote_s = vote_signatures(problem, lenient, inputs, limits=limits, workers=workers)
    vote_wall = time.perf_counter() - t0
    return ProblemMeasure(problem_id=problem.id, passed=cands.passed.to_numpy(bool), valid=valid,
                          has_code=np.array([bool(c.strip()) for c in lenient]), rm_scores=scores,
                          rm_time_s=rm_time, ut_passes=passes, ut_exec_s=ut_s, vote_sigs=sigs, vote_exec_s=vote_s,
                          gen_time_s=float(cands.gen_time_s.iloc[0]), testgen_time_s=float(testgen_time_s),
                          n_tests=len(tests), extra={"vote_inputs": len(inputs), "ut_exec_wall_s": ut_wall,
                                                     "vote_exec_wall_s": vote_wall})


def scorer_class():
    """``cskit.rm.RewardScorer`` (imported lazily: it pulls in torch)."""
    from cskit.rm import RewardScorer

    return RewardScorer


def _load_scorer(rm, run, cfg, device):
    RewardScorer = scorer_class()
    if rm is None:
        from cskit.rm.score import trained_rm_reference

        rm = trained_rm_reference(cfg.rm_path, run.models)   # this run's stage-03 RM, or rm_path (dir or hub id)
    if hasattr(rm, "score"):
        return rm
    return RewardScorer(str(rm), max_length=int(cfg.rm_max_length), batch_size=int(cfg.rm_score_batch_size),
                        device=device, dtype=None if cfg.dtype == "auto" else cfg.dtype)


def run_best_of_n(cfg, run, *, rm=None, generator=None, tokenizer=None, progress: bool | None = None,
                  rm_score_invalid: bool = False) -> dict:
    """Stage 05 (see the module docstring). ``rm``: a path or a scorer (default ``run.models/"rm"``);
    ``generator``/``tokenizer``: an already-built policy generator (default: load ``cfg.policy_model``);
    ``rm_score_invalid``: see :func:`measure_problem`."""
    from cskit.extract import extract_lenient, extract_strict
    from cskit.models import pick_device, resolve_model
    from cskit.problems import load_problems
    from cskit.prompts import question_text, render_policy_prompt
    from cskit.sandbox import SandboxLimits, grade_codes
    from cskit.runinfo import write_stage_results
    from cskit.bon.unit_tests import parse_generated_test, render_unit_test_prompt, unit_test_prefix

    progress = cfg.progress if progress is None else progress
    n_values = sorted(set(cfg.list("bon_n_values", int)))
    if not n_values or n_values[0] < 1:
        raise ValueError(f"bon_n_values must be positive integers, got {cfg.bon_n_values!r}")
    nmax, m_tests, vote_k = n_values[-1], int(cfg.bon_num_tests), int(cfg.bon_vote_inputs)
    specs = cfg.bon_problems or cfg.eval_problems
    limit = int(cfg.bon_max_problems) or int(cfg.max_eval_problems)
    problems = [p for p in load_problems(specs, limit=limit, seed=int(cfg.seed)) if p.has_tests]
    if not problems:
        key = "bon_problems" if cfg.bon_problems else "eval_problems"
        raise ValueError(f"no problems with tests in {key}={specs!r}")
    device = pick_device(cfg.device)
    policy = resolve_model(cfg.policy_model) if generator is None else str(cfg.policy_model)
    state = {"gen": generator, "tok": tokenizer}

    def get_gen():
        if state["gen"] is None:
            from cskit.models.generate import make_generator
            from cskit.models import load_policy

            model, tok = load_policy(policy, device=device, dtype=None if cfg.dtype == "auto" else cfg.dtype)
            state["gen"] = make_generator(cfg.gen_backend, model, tokenizer=tok, batch_size=int(cfg.gen_batch_size))
            state["tok"] = tok
        return state["gen"], state["tok"]

    base = [policy, int(cfg.seed), float(cfg.temperature), float(cfg.top_p), int(cfg.top_k),
            int(cfg.eval_max_new_tokens)]

    # 1. candidates, sampled once at Nmax (resumable per problem)
    stop_block = bool(cfg.gen_stop_after_code_block)  # candidates only: a test spans 2 blocks
    cand_key = lambda pi, p: _key("cand", p.id, pi, nmax, stop_block, *base)  # noqa: E731

    def cand_rows(pi, p, gens, wall):
        q = question_text(p)
        return [dict(problem_id=p.id, cand_idx=i, question=q, response=g.text, code_strict=extract_strict(g.text),
                     code_lenient=extract_lenient(g.text), valid=bool(extract_strict(g.text)), n_tokens=int(g.n_tokens),
                     finish_reason=g.finish_reason, gen_time_s=wall, n_max=nmax, key=cand_key(pi, p),
                     model=str(cfg.policy_model), passed=None, pass_fraction=None, verdict=None,
                     isolation_level=None)
                for i, g in enumerate(gens)]

    cand_path = run.data / "bon_candidates.parquet"
    cands = _resumable_generate(cand_path, problems, render_policy_prompt, cand_rows, nmax, cand_key,
                                lambda pi: _sampling(cfg, nmax, int(cfg.seed) + pi, stop_block), get_gen, progress,
                                "BoN candidates")
    # 2. real tests, graded once per candidate (kept in the table)
    limits, workers = SandboxLimits.from_config(cfg), int(cfg.sandbox_workers)
    byid = {p.id: p for p in problems}
    todo = cands.index[cands.verdict.isna()].tolist()
    if todo:
        res = grade_codes([(byid[cands.at[i, "problem_id"]], cands.at[i, "code_lenient"] or "") for i in todo],
                          limits, workers, progress)
        if "isolation_level" not in cands:
            cands["isolation_level"] = None
        cands = cands.astype({"passed": object, "pass_fraction": object, "verdict": object, "isolation_level": object})
        for i, r in zip(todo, res):
            cands.at[i, "passed"], cands.at[i, "pass_fraction"], cands.at[i, "verdict"] = (
                bool(r.passed), float(r.pass_fraction), r.verdict)
            cands.at[i, "isolation_level"] = r.isolation_level
        write_parquet(cand_path, cands)
    # 3. generated unit tests: M samples per problem, one test each (resumable)
    test_key = lambda pi, p: _key("tests-v2", p.id, pi, m_tests, *base)  # noqa: E731

    def test_rows(pi, p, gens, wall):
        rows = []
        for i, g in enumerate(gens):
            text = unit_test_prefix(p) + g.text
            t, why = parse_generated_test(text, p)
            rows.append(dict(problem_id=p.id, sample_idx=i, response=text, n_tokens=int(g.n_tokens),
                             ok=t is not None, drop_reason="" if t else why, test_input=t.input if t else "",
                             test_output=t.output if t else "", gen_time_s=wall, key=test_key(pi, p),
                             model=str(cfg.policy_model)))
        return rows

    tests_df = pd.DataFrame(columns=TEST_COLUMNS)
    if m_tests > 0:
        tests_df = _resumable_generate(
            run.data / "bon_tests.parquet", problems, render_unit_test_prompt, test_rows, m_tests, test_key,
            lambda pi: _sampling(cfg, m_tests, int(cfg.seed) + 100_003 + pi), get_gen, progress, "BoN unit tests")
    # 4. RM scores, executions, selections
    t0 = time.perf_counter()
    scorer = _load_scorer(rm, run, cfg, device)
    first = cands.head(1)
    if len(first):  # warm-up (lazy load, kernels); not counted in per-problem selection latency
        scorer.score(first.question.tolist(), [first.code_strict.iloc[0] or first.response.iloc[0] or "pass"])
    rm_load_s = time.perf_counter() - t0
    from tqdm.auto import tqdm

    measures = []
    tgroups = dict(tuple(tests_df.groupby("problem_id"))) if len(tests_df) else {}
    for pid, g in tqdm(cands.groupby("problem_id", sort=False), desc="BoN select", disable=not progress):
        tg = tgroups.get(pid)
        tests = [TestCase(r.test_input, r.test_output) for r in tg.itertuples() if r.ok] if tg is not None else []
        ttime = float(tg.gen_time_s.iloc[0]) if tg is not None and len(tg) else 0.0
        measures.append(measure_problem(byid[pid], g, tests, ttime, scorer, n_values, vote_k=vote_k, limits=limits,
                                        workers=workers, rm_score_invalid=rm_score_invalid))
    table = selection_table(measures, n_values, seed=int(cfg.seed))
    summary = summarize(table, seed=int(cfg.seed))
    write_parquet(run.data / "bon_selections.parquet", table)
    write_parquet(run.data / "bon_summary.parquet", summary)
    metrics = bon_metrics(summary, measures, tests_df, cands, table=table, seed=int(cfg.seed))
    metrics.update(policy=str(cfg.policy_model), rm=str(getattr(scorer, "path", None) or rm or run.models / "rm"),
                   rm_inputs_truncated=int(getattr(scorer, "n_truncated", 0)),
                   rm_load_and_warmup_s=rm_load_s, device=device, rm_score_invalid=bool(rm_score_invalid))
    try:
        from cskit.sandbox import isolation_available

        metrics["sandbox_isolation"] = isolation_available()
    except Exception:  # pragma: no cover - informational only
        pass
    from cskit.bon.plots import save_figures

    save_figures(summary, run)
    write_stage_results(run, "05_best_of_n", cfg, metrics)
    return metrics


def paired_selector_differences(table: pd.DataFrame, seed: int = 0,
                                 against: Sequence[str] = ("random_expected", "vote", "unit_tests")) -> dict:
    """RM selection minus each other selector, per N, paired on the same problems and candidates
    (:func:`cskit.stats.paired_difference`: accuracy difference with a paired bootstrap interval)."""
    from cskit.stats import paired_difference

    out: dict[str, dict] = {}
    for n, g in table.groupby("N", sort=True):
        wide = g.pivot_table(index="problem_id", columns="selector", values="correct", aggfunc="first")
        if "rm" not in wide:
            continue
        out[str(int(n))] = {f"rm - {o}": paired_difference(wide["rm"].to_numpy(), wide[o].to_numpy(), seed=seed)
                            for o in against if o in wide}
    return out


def _wall_ratio(measures: Sequence[ProblemMeasure]) -> dict:
    """Mean per-problem wall-clock selection time at the largest N, unit tests over RM."""
    ut, rm = [], []
    for m in measures:
        nmax = len(m.passed)
        w = m.extra.get("ut_exec_wall_s")
        if w is not None and w == w and nmax in m.rm_time_s:
            ut.append(m.testgen_time_s + float(w))
            rm.append(float(m.rm_time_s[nmax]))
    if not ut or not sum(rm):
        return {"ratio": float("nan"), "unit_tests_s": float("nan"), "rm_s": float("nan"), "n": len(ut)}
    return {"ratio": float(np.mean(ut) / np.mean(rm)), "unit_tests_s": float(np.mean(ut)),
            "rm_s": float(np.mean(rm)), "n": len(ut)}


def bon_metrics(summary: pd.DataFrame, measures: Sequence[ProblemMeasure], tests_df: pd.DataFrame,
                cands: pd.DataFrame, table: pd.DataFrame | None = None, seed: int = 0) -> dict:
    """The JSON-able numbers of stage 05 (keys of N are strings)."""
    acc, lat = {}, {}
    for r in summary.itertuples():
        acc.setdefault(r.selector, {})[str(r.N)] = {"accuracy": r.accuracy, "ci_lo": r.ci_lo, "ci_hi": r.ci_hi,
                                                     "n": int(r.problems)}
        lat.setdefault(r.selector, {})[str(r.N)] = {"generation_s": r.generation_s, "selection_s": r.selection_s,
                                                    "total_s": r.total_s}
    ok = tests_df.ok.astype(bool) if len(tests_df) else pd.Series(dtype=bool)
    reasons = tests_df.drop_reason[~ok].value_counts().to_dict() if len(tests_df) else {}
    return {
        "problems": len(measures),
        "n_values": sorted(int(n) for n in summary.N.unique()),
        "accuracy": acc,
        "paired": paired_selector_differences(table, seed) if table is not None and len(table) else {},
        "latency_s": lat,
        "selection_latency_ratio_unit_tests_over_rm": {str(k): v for k, v in latency_ratios(summary).items()},
        "total_latency_ratio_unit_tests_over_rm": {str(k): v for k, v in
                                                   latency_ratios(summary, column="total_s").items()},
        "candidates": {"per_problem": int(cands.groupby("problem_id").size().max()),
                       "in_process_verdicts": int((cands.get("isolation_level") == "in_process").sum())
                       if "isolation_level" in cands else 0,
                       "pass_rate": float(cands.passed.astype(float).mean()),
                       "strict_valid_rate": float(cands.valid.astype(float).mean())},
        "generated_tests": {"samples": int(len(tests_df)), "parsed": int(ok.sum()), "dropped": int((~ok).sum()),
                            "drop_reasons": {str(k): int(v) for k, v in reasons.items()},
                            "problems_without_tests": int(sum(m.n_tests == 0 for m in measures))},
        # the headline latency ratio: wall clock, both selectors with the same parallelism (all cores: the RM's
        # batched forward pass vs test generation + the generated tests run on sandbox_workers), at N = Nmax
        "selection_latency_ratio_wall_at_nmax": _wall_ratio(measures),
        "parallel_exec_wall_s_at_nmax": {
            "unit_tests": float(np.mean([m.extra.get("ut_exec_wall_s", np.nan) for m in measures])),
            "vote": float(np.mean([m.extra.get("vote_exec_wall_s", np.nan) for m in measures])),
            "serial_unit_tests": float(np.mean([np.sum(m.ut_exec_s) for m in measures])),
            "serial_vote": float(np.mean([np.sum(m.vote_exec_s) for m in measures]))},
        "latency_method": "generation = wall(Nmax samples) * N/Nmax; rm selection = wall of scoring the first N "
                          "(after warm-up); unit_tests/vote selection = wall of test generation + summed sandbox "
                          "time of the executions (serial, one core; parallel_exec_wall_s_at_nmax gives the "
                          "measured wall time with sandbox_workers); oracle has no latency",
    }


