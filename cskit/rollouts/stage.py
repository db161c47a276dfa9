"""Stage 01: on-policy rollouts, labelled by unit tests in the sandbox.

N samples per problem -> strict and lenient extraction -> sandbox grading -> one row per sample in
``data/rollouts.parquet`` (columns in docs/contracts.md). The label is the paper's: a sample *passes*
when its strictly extracted code (exactly one fenced block that parses) passes every test; the
lenient code (last fenced block, the evaluation protocol's rule) is graded too when it differs.

Resumable: problems are processed in fixed chunks; each finished chunk is written atomically to
``data/rollouts.parts/`` with its own seed (``seed + chunk index``), so a run killed midway continues
where it stopped and produces exactly the rows an uninterrupted run would, with no duplicate or lost
samples. The final table is assembled only when every chunk is present.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Sequence

import pandas as pd

from cskit.extract import extract_lenient, extract_strict
from cskit.io import write_json, write_parquet
from cskit.problems import Problem
from cskit.sandbox import SandboxLimits, grade_codes

ROLLOUT_COLUMNS = ["problem_id", "source", "sample_idx", "question", "response", "code_strict", "code_lenient",
                   "valid", "passed", "pass_fraction", "verdict", "test_verdicts", "passed_lenient",
                   "n_tokens", "finish_reason", "gen_time_s", "grade_time_s", "model", "isolation_level"]


def _chunk_key(problems: Sequence[Problem], n: int, model: str, seed: int, max_new_tokens: int) -> str:
    h = hashlib.sha256(json.dumps([[p.id for p in problems], n, model, seed, max_new_tokens]).encode())
    return h.hexdigest()[:10]


def sample_and_grade(problems: Sequence[Problem], generator, tokenizer, *, n: int, sampling, limits,
                     workers: int = 0, model_name: str = "", max_prompt_tokens: int = 0,
                     progress: bool = False) -> pd.DataFrame:
    """Generate ``n`` samples for each problem, extract, grade; one row per sample."""
    from cskit.prompts import question_text, render_policy_prompt

    kept, prompts = [], []
    for p in problems:
        text = render_policy_prompt(tokenizer, p)
        if max_prompt_tokens and len(tokenizer(text, add_special_tokens=False)["input_ids"]) > max_prompt_tokens:
            continue
        kept.append(p)
        prompts.append(text)
    if not kept:
        return pd.DataFrame(columns=ROLLOUT_COLUMNS)
    t0 = time.perf_counter()
    gens = generator.generate(prompts, sampling)
    gen_time = (time.perf_counter() - t0) / max(1, len(kept) * n)
    rows, jobs = [], []
    for p, samples in zip(kept, gens):
        q = question_text(p)
        for i, g in enumerate(samples):
            strict, lenient = extract_strict(g.text), extract_lenient(g.text)
            rows.append(dict(problem_id=p.id, source=p.source, sample_idx=i, question=q, response=g.text,
                             code_strict=strict, code_lenient=lenient, valid=bool(strict),
                             n_tokens=int(g.n_tokens), finish_reason=g.finish_reason,
                             gen_time_s=gen_time, model=model_name))
            jobs.append((p, strict))
            jobs.append((p, lenient))
    t1 = time.perf_counter()
    results = grade_codes(jobs, limits, workers=workers, progress=progress)
    grade_time = (time.perf_counter() - t1) / max(1, len(rows))
    for k, row in enumerate(rows):
        rs, rl = results[2 * k], results[2 * k + 1]
        row.update(passed=bool(rs.passed), pass_fraction=float(rs.pass_fraction), verdict=rs.verdict,
                   test_verdicts=[t.verdict for t in rs.tests], passed_lenient=bool(rl.passed),
                   grade_time_s=grade_time, isolation_level=rs.isolation_level)
    return pd.DataFrame(rows, columns=ROLLOUT_COLUMNS)


def collect_rollouts(problems: Sequence[Problem], *, model_name: str, out_path: Path, cfg, n: int | None = None,
                     chunk_problems: int | None = None, progress: bool | None = None,
                     generator=None, tokenizer=None) -> pd.DataFrame:
    """Resumable rollouts for ``problems`` with policy ``model_name`` into ``out_path`` (parquet)."""
    from cskit.models.generate import SamplingParams
    from cskit.models import load_policy, pick_device

    out_path = Path(out_path)
    if out_path.exists():
        return pd.read_parquet(out_path)
    n = int(n or cfg.rollout_n)
    progress = cfg.progress if progress is None else progress
    problems = [p for p in problems if p.has_tests]
    if not problems:
        raise ValueError("no problems with tests to roll out (test-free problems cannot be labelled)")
    chunk_problems = chunk_problems or max(1, int(cfg.gen_batch_size) // n)
    chunks = [problems[i:i + chunk_problems] for i in range(0, len(problems), chunk_problems)]
    parts_dir = out_path.with_suffix(".parts")
    parts_dir.mkdir(parents=True, exist_ok=True)
    limits = SandboxLimits.from_config(cfg)
    from tqdm.auto import tqdm

    frames = []
    bar = tqdm(total=len(problems) * n, desc=f"rollouts ({Path(model_name).name})", unit="sample",
               disable=not progress)
    for ci, chunk in enumerate(chunks):
        seed = int(cfg.seed) + ci
        part = parts_dir / f"chunk-{ci:05d}-{_chunk_key(chunk, n, model_name, seed, int(cfg.max_new_tokens))}.parquet"
        if part.exists():
            df = pd.read_parquet(part)
        else:
            if generator is None:  # loaded only when some chunk is still missing
                from cskit.models.generate import make_generator

                model, tokenizer = load_policy(model_name, device=pick_device(cfg.device),
                                               dtype=None if cfg.dtype == "auto" else cfg.dtype)
                generator = make_generator(cfg.gen_backend, model, tokenizer=tokenizer,
                                           batch_size=int(cfg.gen_batch_size))
            sampling = SamplingParams.from_config(cfg, n=n, max_new_tokens=int(cfg.max_new_tokens), seed=seed)
            df = sample_and_grade(chunk, generator, tokenizer, n=n, sampling=sampling, limits=limits,
                                  workers=int(cfg.sandbox_workers), model_name=model_name,
                                  max_prompt_tokens=int(cfg.max_prompt_tokens), progress=False)
            write_parquet(part, df)
        frames.append(df)
        bar.update(len(chunk) * n)
        bar.set_postfix(pass_rate=f"{pd.concat(frames).passed.mean():.2f}")
    bar.close()
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ROLLOUT_COLUMNS)
    write_parquet(out_path, table)
    return table


def rollout_stats(df: pd.DataFrame) -> dict:
    """Headline numbers of a rollouts table."""
    if df.empty:
        return {"samples": 0}
    per_problem = df.groupby("problem_id")

    def mean(col: str) -> float | None:
        v = pd.to_numeric(df[col], errors="coerce") if col in df else pd.Series(dtype=float)
        return float(v.mean()) if v.notna().any() else None

    out = {
        "samples": int(len(df)),
        "problems": int(per_problem.ngroups),
        "pass_rate": float(df.passed.mean()),
        "pass_rate_lenient": float(df.passed_lenient.mean()),
        "validity_rate": float(df.valid.mean()),
        "mean_pass_fraction": float(df.pass_fraction.mean()),
        "problems_with_a_pass": int(per_problem.passed.any().sum()),
        "problems_with_pass_and_fail": int((per_problem.passed.any() & ~per_problem.passed.all()).sum()),
        "mean_tokens": mean("n_tokens"),
        "truncated_rate": float((df.finish_reason == "length").mean()),
        "verdicts": {k: int(v) for k, v in df.verdict.value_counts().items()},
        # verdicts decided by the sandbox's flagged in-process fallback (tests needing candidate-defined objects)
        "in_process_verdicts": int((df.isolation_level == "in_process").sum()) if "isolation_level" in df else 0,
        "gen_time_per_sample_s": mean("gen_time_s"),
        "grade_time_per_sample_s": mean("grade_time_s"),
    }
    from cskit.stats import rate

    # every rate with its n and 95% Wilson interval (samples are not independent within a problem: the
    # interval is a floor on the uncertainty; per-problem numbers are in the table)
    out["rates"] = {"pass": rate(int(df.passed.sum()), len(df)), "pass_lenient": rate(int(df.passed_lenient.sum()), len(df)),
                    "valid": rate(int(df.valid.sum()), len(df)),
                    "problems_with_a_pass": rate(int(per_problem.passed.any().sum()), int(per_problem.ngroups))}
    if "grpo_step" in df and df.grpo_step.notna().any():   # the trajectory: how the pass rate moved
        by = df.groupby("grpo_step")
        out["by_step"] = [{"grpo_step": int(s), "samples": int(len(g)), "pass_rate": float(g.passed.mean()),
                           "validity_rate": float(g.valid.mean())} for s, g in by]
    return out


def rlvr_rollouts(cfg, run, problems: Sequence[Problem]) -> tuple[pd.DataFrame, dict]:
    """The RLVR trajectory: GRPO of the policy with the execution reward (the run stage 04 reuses as its
    execution baseline, ``models/policy-execution``), every completion recorded by a :class:`TrajectoryLog`."""
    from cskit.models import resolve_model
    from cskit.prompts import question_text
    from cskit.rl import batch_layout, train_grpo
    from cskit.rl.grpo import load_val_problems
    from cskit.rollouts.trajectory import TRAJECTORY_COLUMNS, TrajectoryLog, assemble

    out_path = run.data / "rollouts.parquet"
    parts_dir = run.data / "rollouts.trajectory"
    # the training problems with tests: the same list stage 04 trains its execution baseline on
    train = [p for p in problems if p.has_tests]
    layout = batch_layout(cfg.rl_prompts_per_step, cfg.rl_num_generations, cfg.rl_updates_per_step, 1,
                          cfg.rl_micro_batch_size)
    log = TrajectoryLog(parts_dir, {p.id: question_text(p) for p in train}, {p.id: p.source for p in train},
                        {p.id: p for p in train}, updates_per_step=layout["updates_per_step"],
                        policy_name="policy-execution", model=resolve_model(cfg.policy_model),
                        limits=SandboxLimits.from_config(cfg), workers=int(cfg.sandbox_workers))
    training = train_grpo(cfg, run, "execution", "policy-execution", problems=train,
                          val_problems=load_val_problems(cfg), on_graded=log)
    df = assemble(parts_dir, ROLLOUT_COLUMNS + TRAJECTORY_COLUMNS)
    if not len(df):
        raise RuntimeError(f"the RLVR run recorded no completion in {parts_dir}; if models/policy-execution was "
                           "trained before (or by another profile), delete it to record the trajectory again")
    write_parquet(out_path, df)
    info = {"rlvr_steps": int(df.grpo_step.max()) + 1, "policies": sorted(df.policy.unique().tolist()),
            "rlvr_cached": bool(training.get("cached")), "rlvr_policy_dir": training.get("policy_dir")}
    return df, info


def run_rollouts(cfg, run) -> dict:
    """Stage 01: the rollouts the RM learns from -- the RLVR trajectory (``rollout_source: rlvr``), one-shot
    samples of the fixed policy (``sample``) or another trainer's log (``file:PATH``); and the off-policy
    model's samples when ``pairs_offpolicy``."""
    from cskit.models import resolve_model
    from cskit.problems import load_problems
    from cskit.runinfo import write_stage_results

    problems = load_problems(cfg.train_problems, limit=int(cfg.max_train_problems), seed=int(cfg.seed))
    skipped = sum(not p.has_tests for p in problems)
    policy = resolve_model(cfg.policy_model)
    source = str(cfg.rollout_source)
    extra: dict = {}
    if source == "rlvr":
        df, extra = rlvr_rollouts(cfg, run, problems)
    elif source.startswith("file:"):
        from cskit.rollouts.external import load_external_rollouts

        df = load_external_rollouts(source[5:], [p for p in problems if p.has_tests], ROLLOUT_COLUMNS,
                                    limits=SandboxLimits.from_config(cfg), workers=int(cfg.sandbox_workers))
        write_parquet(run.data / "rollouts.parquet", df)
    else:
        df = collect_rollouts(problems, model_name=policy, out_path=run.data / "rollouts.parquet", cfg=cfg)
    metrics = rollout_stats(df)
    metrics.update(extra)
    metrics["rollout_source"] = source
    metrics["problems_without_tests_skipped"] = int(skipped)
    metrics["policy"] = cfg.policy_model
    if cfg.pairs_offpolicy and cfg.offpolicy_model:
        off = collect_rollouts(problems, model_name=resolve_model(cfg.offpolicy_model),
                               out_path=run.data / "rollouts_offpolicy.parquet", cfg=cfg)
        metrics["offpolicy"] = rollout_stats(off)
    write_json(run.data / "rollouts.stats.json", metrics)
    if len(df):
        from cskit.rollouts.plots import save_figures

        save_figures(df, run)
    write_stage_results(run, "01_rollouts", cfg, metrics)
    return metrics
