"""Stage 01 as the paper runs it: the RLVR trajectory, recorded completion by completion.

The paper's RM learns from on-policy rollouts collected *while the base policy is trained with RLVR* (GRPO
with the binary execution reward; docs/recipe.md, "Preference pairs"). :class:`TrajectoryLog` is handed to
the execution reward (``ExecutionReward(on_graded=...)``) through :func:`cskit.rl.train_grpo`: every time
trl scores a generation round, the log writes one parquet part with every completion of that round --
problem, prompt question, response, strict and lenient code, per-test verdicts, pass fraction, passed, the
GRPO step and the policy checkpoint that produced it.

Nothing is lost or duplicated across a kill: a part is written atomically (it exists whole or not at all),
and when training resumes from a trl checkpoint at optimizer step N, :meth:`TrajectoryLog.resume_from`
deletes the parts of rounds generated at step >= N, which the resumed run generates again. Without a
checkpoint the run restarts from step 0 and every part is dropped. :func:`assemble` concatenates the parts
in (step, round) order into the rollouts table (``ROLLOUT_COLUMNS`` + ``TRAJECTORY_COLUMNS``).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

PART_RE = re.compile(r"^step-(\d{7})-(\d{4})\.parquet$")
TRAJECTORY_COLUMNS = ["grpo_step", "global_step", "policy", "round"]

__all__ = ["TRAJECTORY_COLUMNS", "TrajectoryLog", "assemble", "parts"]


def parts(parts_dir: str | Path) -> list[tuple[int, int, Path]]:
    """The finished parts of a trajectory, as (global_step, round, path), in order."""
    d = Path(parts_dir)
    out = []
    for p in d.glob("step-*.parquet") if d.is_dir() else []:
        m = PART_RE.match(p.name)
        if m:
            out.append((int(m.group(1)), int(m.group(2)), p))
    return sorted(out)


class TrajectoryLog:
    """Records every graded completion of an RLVR run (picklable: holds paths and plain data only).

    ``questions``: problem id -> the question text (the RM's ``question_content``); ``sources``: problem id ->
    source name; ``updates_per_step``: optimizer updates per GRPO step (trl's ``global_step`` counts updates);
    ``policy_name``: label of the policy being trained (``policy-execution``); ``limits``/``workers``: the sandbox
    settings used to grade the lenient code where it differs from the strict code.
    """

    def __init__(self, parts_dir: str | Path, questions: Mapping[str, str], sources: Mapping[str, str],
                 problems: Mapping[str, Any], *, updates_per_step: int, policy_name: str, model: str,
                 limits: Any = None, workers: int = 0):
        self.parts_dir = str(parts_dir)
        self.questions = dict(questions)
        self.sources = dict(sources)
        self.problems = dict(problems)
        self.updates_per_step = max(1, int(updates_per_step))
        self.policy_name = policy_name
        self.model = model
        self.limits = limits
        self.workers = workers

    def resume_from(self, global_step: int) -> int:
        """Drop the parts of rounds generated at ``global_step`` or later; returns how many were dropped."""
        dropped = 0
        for step, _, path in parts(self.parts_dir):
            if step >= global_step:
                path.unlink()
                dropped += 1
        return dropped

    def policy_label(self, global_step: int) -> str:
        return "initial" if global_step == 0 else f"{self.policy_name}@step{global_step // self.updates_per_step}"

    def __call__(self, rows: Sequence[dict], global_step: int) -> Path:
        from cskit.extract import extract_lenient
        from cskit.io import write_parquet
        from cskit.sandbox import grade_codes

        done = [r for s, r, _ in parts(self.parts_dir) if s == global_step]
        rnd = (max(done) + 1) if done else 0
        out = []
        lenient_jobs, lenient_at = [], []
        for k, r in enumerate(rows):
            pid = r["problem_id"]
            lenient = extract_lenient(r["response"])
            row = dict(problem_id=pid, source=self.sources.get(pid, ""), sample_idx=-1,
                       question=self.questions.get(pid, ""), response=r["response"], code_strict=r["code_strict"],
                       code_lenient=lenient, valid=bool(r["valid"]), passed=bool(r["passed"]),
                       pass_fraction=float(r["pass_fraction"]), verdict=r["verdict"],
                       test_verdicts=list(r["test_verdicts"]), passed_lenient=bool(r["passed"]),
                       n_tokens=r.get("n_tokens"), finish_reason=None, gen_time_s=None, grade_time_s=None,
                       model=self.model, grpo_step=global_step // self.updates_per_step, global_step=global_step,
                       policy=self.policy_label(global_step), round=rnd,
                       isolation_level=r.get("isolation_level", ""))
            if lenient and lenient != r["code_strict"] and pid in self.problems:
                lenient_jobs.append((self.problems[pid], lenient))
                lenient_at.append(k)
            elif not lenient:
                row["passed_lenient"] = False
            out.append(row)
        if lenient_jobs:
            for k, res in zip(lenient_at, grade_codes(lenient_jobs, self.limits, workers=self.workers)):
                out[k]["passed_lenient"] = bool(res.passed)
        path = Path(self.parts_dir) / f"step-{global_step:07d}-{rnd:04d}.parquet"
        write_parquet(path, pd.DataFrame(out))
        return path


def assemble(parts_dir: str | Path, columns: Sequence[str]) -> pd.DataFrame:
    """The whole trajectory as one table, in (step, round) order; ``sample_idx`` numbers each problem's
    completions across the trajectory (0, 1, ...)."""
    frames = [pd.read_parquet(p) for _, _, p in parts(parts_dir)]
    if not frames:
        return pd.DataFrame(columns=list(columns))
    df = pd.concat(frames, ignore_index=True)
    df["sample_idx"] = df.groupby("problem_id").cumcount()
    return df[[c for c in columns if c in df.columns]]
