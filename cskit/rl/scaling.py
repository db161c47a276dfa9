"""Execution-free scaling (recipe: "RL (GRPO)"): RL on problems without tests, and the other-RM baseline.

The paper's claim: the CodeScaler reward needs no tests, so RL can scale to synthetic problems that have none
(v2: 44K problems incl. synthetic data, +14.64 over the base model), whereas execution-based RL on a large
synthetic set whose tests miss corner cases does worse than on a smaller verified set (motivating example:
KodCode 447K 11.51 vs DeepCoder 14.41). :func:`run_scaling` measures this at the profile's scale, every run
from the SAME initial policy (``policy_model``) and seed, with the same GRPO settings:

* ``verified``     -- CodeScaler reward (stage-03 RM, softplus shaping) on the verified problems only
                      (``train_problems``, i.e. stage 04's CodeScaler run; reused when the settings match);
* ``testfree``     -- CodeScaler reward on verified + the test-free pool (``scaling_testfree_problems``; any
                      tests those problems have are hidden: :meth:`cskit.problems.Problem.without_tests`);
* ``weak_tests``   -- execution reward on verified + a weak-test pool (``scaling_weak_problems``, '' = the same
                      problems as the test-free pool) whose tests are cut to ``scaling_weak_tests_keep`` each
                      (:func:`weaken_tests`; 0 = keep them as they come, e.g. KodCode's own synthetic tests);
* ``untrained_rm`` -- the other-RM baseline: the untrained initial RM (``rm_model``: Skywork-Reward-V2 in the
                      paper profile; a fresh random head on CPU profiles -- near-meaningless) through the same
                      strict extraction + softplus shaping, on the verified problems: what RM training adds.

Pools never overlap evaluation: a pool problem whose id or whitespace-normalised statement equals one of a
training, validation or evaluation problem (stage 04's evaluation set and this one's) is dropped (counted in
``pools``). All policies (and the base
model) are evaluated by execution on the eval benchmarks (:mod:`cskit.rl.evaluate`, avg@k), the same table shape
as ``results/04_rl.json`` (rows = methods incl. ``base``, columns = benchmarks + ``Average``, %).
Sizes: ``scaling_rl_steps`` / ``scaling_prompts_per_step`` / ``scaling_max_completion_length`` /
``scaling_rl_eval_steps`` / ``scaling_max_eval_problems`` (0 or -1 = as stage 04). Trained policies live in
``models/scaling-<row>-<hash>`` (the hash covers the settings and the pool's ids, so a changed pool trains anew);
evaluations are cached in ``results/04b_scaling_eval/``; stage 04's cached evaluations (``results/04_rl_eval/``)
are reused when equal.
"""
from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import random
from pathlib import Path
from typing import Any, Mapping, Sequence

from cskit.io import read_json, write_json
from cskit.config import Config

STAGE = "04b_scaling"
ROWS = ("verified", "testfree", "weak_tests", "untrained_rm")
ROW_REWARD = {"verified": "codescaler", "testfree": "codescaler", "weak_tests": "execution",
              "untrained_rm": "untrained_rm"}
ROW_LABELS = {"base": "base model",
              "verified": "CodeScaler RL, verified problems",
              "testfree": "CodeScaler RL, verified + test-free problems",
              "weak_tests": "execution RL, verified + weak-test problems",
              "untrained_rm": "untrained-RM RL (other RM), verified problems"}
EVAL_KEYS = ("eval_problems", "max_eval_problems", "eval_k", "eval_max_new_tokens", "temperature", "top_p",
             "top_k", "seed", "test_timeout", "memory_mb", "gen_backend")  # as cskit.rl.run_rl's cache key


# --- problem pools -----------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(str(text).split()).lower()


def _test_units(program: str) -> tuple[ast.Module, ast.FunctionDef, list[int]] | None:
    """For an assert-kind test program with a ``check`` function (HumanEval), the indices of the statements
    in its body that contain an ``assert`` (each one "test")."""
    try:
        tree = ast.parse(program)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            units = [i for i, s in enumerate(node.body) if any(isinstance(n, ast.Assert) for n in ast.walk(s))]
            return tree, node, units
    return None


def count_tests(problem: Any) -> int:
    """Tests of a problem, counting each assert statement of a single ``check`` program (HumanEval) as one."""
    if problem.kind == "assert" and len(problem.tests) == 1:
        found = _test_units(problem.tests[0].input)
        if found and found[2]:
            return len(found[2])
    return len(problem.tests)


def weaken_tests(problem: Any, keep: int = 1) -> Any:
    """A copy of ``problem`` with only its first ``keep`` tests (0 = unchanged). A single assert-kind program with
    a ``check`` function (HumanEval's layout) keeps the first ``keep`` assert statements of ``check`` (and every
    statement without an assert). Problems without tests raise ValueError."""
    from cskit.problems import TestCase

    if not problem.has_tests:
        raise ValueError(f"weaken_tests: problem {problem.id!r} has no tests to weaken")
    n = count_tests(problem)
    if keep <= 0 or n <= keep:
        return problem
    if len(problem.tests) > 1:
        tests = list(problem.tests[:keep])
    else:
        tree, check, units = _test_units(problem.tests[0].input)
        drop = set(units[keep:])
        check.body = [s for i, s in enumerate(check.body) if i not in drop]
        tests = [TestCase(ast.unparse(tree) + "\n", problem.tests[0].output)]
    meta = dict(problem.metadata, tests_weakened=True, n_tests_original=n)
    return dataclasses.replace(problem, tests=tests, metadata=meta)


def _cap(problems: list, limit: int, seed: int) -> list:
    if limit and 0 < limit < len(problems):
        keep = sorted(random.Random(seed).sample(range(len(problems)), limit))
        return [problems[i] for i in keep]
    return problems


def _pool(specs: str, limit: int, seed: int, excluded_ids: set, excluded_text: set) -> tuple[list, dict]:
    from cskit.problems import load_problems

    loaded = load_problems(specs) if str(specs).strip() else []
    kept = [p for p in loaded if p.id not in excluded_ids and _norm(p.statement) not in excluded_text]
    capped = _cap(kept, int(limit), seed)
    return capped, {"loaded": len(loaded), "dropped_overlap": len(loaded) - len(kept), "kept": len(capped)}


def build_problem_sets(cfg: Config) -> dict[str, Any]:
    """Every problem set of the experiment: ``verified`` (train_problems), ``val`` (in-training validation),
    ``benchmarks`` (evaluation, :func:`cskit.rl.evaluate.load_benchmarks`), ``testfree`` (kind ``none``) and
    ``weak`` (tests cut to ``scaling_weak_tests_keep``), plus ``pools`` (counts) and ``excluded_ids``."""
    from cskit.rl.evaluate import load_benchmarks
    from cskit.rl.grpo import load_train_problems, load_val_problems

    verified = load_train_problems(cfg)
    val = load_val_problems(cfg)
    benchmarks = load_benchmarks(cfg, limit=scaling_eval_limit(cfg))
    stage04 = benchmarks if scaling_eval_limit(cfg) == int(cfg.max_eval_problems) else load_benchmarks(cfg)
    held_out = list(val) + [p for b in (benchmarks, stage04) for ps in b.values() for p in ps]
    ids = {p.id for p in list(verified) + held_out}
    texts = {_norm(p.statement) for p in list(verified) + held_out}
    seed, limit = int(cfg.seed), int(cfg.scaling_testfree_max)
    pool, tf_info = _pool(cfg.scaling_testfree_problems, limit, seed, ids, texts)
    testfree = [p.without_tests() if p.kind != "none" else p for p in pool]
    if str(cfg.scaling_weak_problems).strip():
        weak_src, weak_info = _pool(cfg.scaling_weak_problems, limit, seed, ids, texts)
    else:
        weak_src, weak_info = pool, dict(tf_info)
    keep = int(cfg.scaling_weak_tests_keep)
    weak = [weaken_tests(p, keep) for p in weak_src if p.has_tests]
    weak_info.update(no_tests_dropped=len(weak_src) - len(weak), keep=keep,
                     tests_before=sum(count_tests(p) for p in weak_src if p.has_tests),
                     tests_after=sum(count_tests(p) for p in weak))
    return {"verified": list(verified), "val": list(val), "benchmarks": benchmarks, "testfree": testfree,
            "weak": weak, "excluded_ids": ids,
            "pools": {"testfree": {**tf_info, "specs": cfg.scaling_testfree_problems},
                      "weak": {**weak_info, "specs": cfg.scaling_weak_problems or cfg.scaling_testfree_problems}}}


# --- settings ------------------------------------------------------------------------------------------------


def scaling_eval_limit(cfg: Config) -> int:
    return int(cfg.scaling_max_eval_problems) or int(cfg.max_eval_problems)


def scaling_config(cfg: Config):
    """The profile with the scaling run sizes in place of stage 04's (0 / -1 = keep stage 04's)."""
    changes = {"max_eval_problems": scaling_eval_limit(cfg)}
    if int(cfg.scaling_rl_steps) > 0:
        changes["rl_steps"] = int(cfg.scaling_rl_steps)
    if int(cfg.scaling_prompts_per_step) > 0:
        changes["rl_prompts_per_step"] = int(cfg.scaling_prompts_per_step)
    if int(cfg.scaling_max_completion_length) > 0:
        changes["rl_max_completion_length"] = int(cfg.scaling_max_completion_length)
    if int(cfg.scaling_rl_eval_steps) >= 0:
        changes["rl_eval_steps"] = int(cfg.scaling_rl_eval_steps)
    return cfg.replace(**changes)


def scaling_rows(cfg: Config) -> list[str]:
    rows = [r.strip() for r in str(cfg.scaling_methods).split(",") if r.strip()]
    bad = [r for r in rows if r not in ROWS]
    if bad:
        raise ValueError(f"scaling_methods: unknown row(s) {bad}; expected some of {list(ROWS)}")
    return list(dict.fromkeys(rows))


def _same_as_stage04(cfg: Config, scfg: Config) -> bool:
    return all(getattr(cfg, k) == getattr(scfg, k) for k in cfg.keys() if k.startswith("rl_"))


def out_name(row: str, cfg: Config, scfg: Config, problems: Sequence[Any]) -> str:
    """Model dir name of a row: stage 04's ``policy-<reward>`` when the row is exactly one of its runs (same
    settings, the verified problems), else ``scaling-<row>-<hash of settings + problem ids>``."""
    from cskit.rl.grpo import train_fingerprint

    reward = ROW_REWARD[row]
    if row in ("verified", "untrained_rm") and _same_as_stage04(cfg, scfg):
        return f"policy-{reward}"
    blob = json.dumps({"fp": train_fingerprint(scfg, reward), "ids": sorted(p.id for p in problems),
                       "keep": scfg.scaling_weak_tests_keep if row == "weak_tests" else None},
                      sort_keys=True, default=str)
    return f"scaling-{row}-{hashlib.sha256(blob.encode()).hexdigest()[:8]}"


def row_problems(row: str, sets: Mapping[str, Any]) -> list:
    if row == "testfree":
        return sets["verified"] + sets["testfree"]
    if row == "weak_tests":
        return sets["verified"] + sets["weak"]
    return list(sets["verified"])


# --- the experiment ----------------------------------------------------------------------------------------


def _evaluate(label: str, model: str, trained: Any, scfg: Config, benchmarks, run) -> dict:
    from cskit.rl.evaluate import evaluate_policy

    key = {"model": str(model), "trained": trained, **{k: getattr(scfg, k) for k in EVAL_KEYS}}
    for path in (Path(run.results) / "04_rl_eval" / f"{label}.json",
                 Path(run.results) / f"{STAGE}_eval" / f"{label}.json"):
        if path.exists() and read_json(path).get("cache_key") == key:
            return read_json(path)
    res = {**evaluate_policy(model, benchmarks, scfg.eval_k, None, scfg), "cache_key": key}
    write_json(Path(run.results) / f"{STAGE}_eval" / f"{label}.json", res)
    return res


def run_scaling(cfg: Config, run: Any) -> dict[str, Any]:
    """The scaling experiment (module docstring). Writes ``results/04b_scaling.json``; metrics: ``enabled``,
    ``rows``, ``labels`` (row -> display label), ``pools`` (sizes, overlap drops, tests before/after
    weakening), ``n_train_problems`` per row, ``training`` (per-row GRPO results without log history),
    ``eval``, ``table`` (rows = ``base`` + rows, columns = benchmarks + ``Average``, %), ``metric``,
    ``comparisons`` (each row - base and - verified, paired avg@k differences with intervals) and ``pooled``
    (avg@k over all evaluated problems with n and a 95% bootstrap interval)."""
    from cskit.rl.evaluate import compare_methods, pooled_avg, results_table
    from cskit.runinfo import write_stage_results

    if not cfg.scaling_enabled:
        metrics = {"enabled": False, "rows": [], "labels": {}, "table": {}, "training": {}, "pools": {},
                   "metric": f"avg@{cfg.eval_k}", "note": "scaling_enabled is false in this profile"}
        write_stage_results(run, STAGE, cfg, metrics)
        return metrics
    from cskit.rl.grpo import train_grpo

    rows = scaling_rows(cfg)
    scfg = scaling_config(cfg)
    sets = build_problem_sets(cfg)
    if "testfree" in rows and not sets["testfree"]:
        raise ValueError(f"scaling: the test-free pool is empty (scaling_testfree_problems="
                         f"{cfg.scaling_testfree_problems!r}, after dropping overlaps: {sets['pools']['testfree']})")
    if "weak_tests" in rows and not sets["weak"]:
        raise ValueError(f"scaling: no weak-test problems ({sets['pools']['weak']}); set scaling_weak_problems to "
                         "a source with tests")
    training: dict[str, dict] = {}
    for row in rows:
        probs = row_problems(row, sets)
        training[row] = train_grpo(scfg, run, ROW_REWARD[row], out_name(row, cfg, scfg, probs), problems=probs,
                                   val_problems=sets["val"])
    evals = {"base": _evaluate("base", cfg.policy_model, None, scfg, sets["benchmarks"], run)}
    for row in rows:
        name = training[row]["method"]
        label = name[len("policy-"):] if name.startswith("policy-") else row
        evals[row] = _evaluate(label, training[row]["policy_dir"], training[row].get("train_time_s"), scfg,
                               sets["benchmarks"], run)
    metrics = {
        "enabled": True, "rows": rows, "labels": {k: ROW_LABELS[k] for k in ["base"] + rows},
        "rewards": {r: ROW_REWARD[r] for r in rows},
        "pools": sets["pools"], "n_train_problems": {r: len(row_problems(r, sets)) for r in rows},
        "n_verified": len(sets["verified"]), "n_val_problems": len(sets["val"]),
        "benchmarks": {k: len(v) for k, v in sets["benchmarks"].items()},
        "same_eval_as_stage04": scaling_eval_limit(cfg) == int(cfg.max_eval_problems),
        "settings": {k: getattr(scfg, k) for k in ("rl_steps", "rl_prompts_per_step", "rl_max_completion_length",
                                          "rl_eval_steps", "max_eval_problems", "eval_k")},
        "training": {r: {k: v for k, v in t.items() if k != "log_history"} for r, t in training.items()},
        "eval": {m: {k: v for k, v in e.items() if k not in ("per_problem", "cache_key")} for m, e in evals.items()},
        "table": results_table(evals), "metric": f"avg@{scfg.eval_k}",
        # each row against the base model and against the verified-only row, paired on the same problems
        "comparisons": compare_methods(evals, [(r, "base") for r in rows] +
                                       [(r, "verified") for r in rows if r != "verified"], ROW_LABELS,
                                       seed=int(cfg.seed)),
        "pooled": pooled_avg(evals),   # avg@k over all evaluated problems, n and a bootstrap interval
    }
    from cskit.rl.plots_scaling import save_figures

    save_figures(metrics, run)
    write_stage_results(run, STAGE, cfg, metrics)
    return metrics


# --- tables for the notebook / report ---------------------------------------------------------------------


def scaling_frame(metrics: Mapping[str, Any]):
    """The evaluation table with display labels, reward, training problems (incl. pool) per row (%), and each
    row's avg@k over all problems with its 95% interval and n."""
    import pandas as pd

    rows = []
    for key, vals in (metrics.get("table") or {}).items():
        p = (metrics.get("pooled") or {}).get(key) or {}
        ci = (f"{100 * p['value']:.1f} [{100 * p['ci'][0]:.1f}, {100 * p['ci'][1]:.1f}] (n = {p['n']})"
              if p.get("n") else "-")
        rows.append({"method": metrics.get("labels", {}).get(key, key), "row": key,
                     "reward": metrics.get("rewards", {}).get(key, "-"),
                     "train problems": metrics.get("n_train_problems", {}).get(key, 0), **vals,
                     "all problems: avg@k % [95% CI] (n)": ci})
    return pd.DataFrame(rows).set_index("method") if rows else pd.DataFrame()


def pools_frame(metrics: Mapping[str, Any]):
    """One row per pool: sources, loaded, dropped for overlap with training/validation/evaluation, kept."""
    import pandas as pd

    return pd.DataFrame.from_dict(metrics.get("pools") or {}, orient="index")
