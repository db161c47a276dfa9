"""Reward-hacking probes (beyond the paper): shadow execution of RM-rewarded completions during GRPO.

A general RM rewarding plausible wrong code is the failure CodeScaler was built against. With any RM reward
(CodeScaler, raw RM, untrained RM), :class:`ShadowProbe` takes a configurable share (``rl_probe_share``) of
each reward call's completions, grades their strict code in the sandbox on a background thread (the training
step does not wait for it; :meth:`ShadowProbe.close` waits at the end of training) and logs, per GRPO step:

The execution verdict of a probed completion is the evaluation protocol's (its lenient code -- the last fenced
block -- passes every test), whatever the reward's own extraction; validity is strict extraction's.

* ``auroc``: the RM reward against the execution verdict (pass vs fail, among the probed completions);
* ``reward_pass_mean`` / ``reward_fail_mean``: mean reward of passing vs failing completions;
* ``high_reward_fail_share``: among the probed completions whose reward is in the step's top quarter, the
  share that fails its tests (plausible wrong code the RM likes);
* ``invalid_share``: the share with no valid code (strict extraction gave ε; never executed);
* ``n`` (probed), ``n_passed``, ``n_valid``; ``samples``: the probed completions (reward, passed, valid, top quarter).

:func:`probe_summary` pools a run's steps: AUROC with a bootstrap interval, the shares with Wilson intervals.

Rows go to ``<run>/data/probes/<method>.jsonl`` (one line per step, appended atomically per line) and come back
with :func:`read_probes`. Nothing here changes a reward: probes only observe.
"""
from __future__ import annotations

import json
import random
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["PROBE_COLUMNS", "ShadowProbe", "probe_row", "probe_summary", "read_probes"]

PROBE_COLUMNS = ("grpo_step", "n", "n_valid", "n_passed", "auroc", "reward_pass_mean", "reward_fail_mean",
                 "high_reward_fail_share", "invalid_share")


def probe_row(step: int, rewards: Sequence[float], valid: Sequence[bool], passed: Sequence[bool]) -> dict:
    """The per-step statistics of probed completions (see the module docstring)."""
    from cskit.stats import auroc

    r = np.asarray(rewards, dtype=float)
    v = np.asarray(valid, dtype=bool)
    p = np.asarray(passed, dtype=bool)
    n = int(r.size)

    def mean(x):
        return float(x.mean()) if x.size else float("nan")

    high = r >= np.quantile(r, 0.75) if n else np.zeros(0, dtype=bool)
    return {"grpo_step": int(step), "n": n, "n_valid": int(v.sum()), "n_passed": int(p.sum()),
            "auroc": auroc(r, p), "reward_pass_mean": mean(r[p]), "reward_fail_mean": mean(r[~p]),
            "high_reward_fail_share": mean((~p[high]).astype(float)) if high.any() else float("nan"),
            "invalid_share": mean((~v).astype(float)),
            # the probed completions themselves (reward, passed, valid, in the step's top quarter): pooled
            # over steps by probe_summary, with intervals
            "samples": [[round(float(x), 6), bool(y), bool(z), bool(h)] for x, y, z, h in zip(r, p, v, high)]}


def probe_summary(rows: Sequence[Mapping[str, Any]], seed: int = 0) -> dict:
    """Every probed completion of a run pooled over GRPO steps, each number with its n and a 95% interval:
    ``auroc`` (bootstrap over completions), ``pass_rate``, ``invalid_share`` and ``high_reward_fail_share``
    (Wilson; "high reward" = the top quarter of its own step), mean reward of passing vs failing completions.
    Rows without ``samples`` (older logs) give the counts only."""
    from cskit.stats import auroc, auroc_ci, rate

    samples = [s for r in rows for s in (r.get("samples") or [])]
    n = sum(int(r.get("n", 0)) for r in rows)
    out: dict[str, Any] = {"steps": len(rows), "n": n,
                           "pass_rate": rate(sum(int(r.get("n_passed", 0)) for r in rows), n),
                           "invalid_share": rate(n - sum(int(r.get("n_valid", 0)) for r in rows), n)}
    if not samples or len(samples) != n:
        out["note"] = "per-completion samples not logged: counts only"
        return out
    r = np.asarray([s[0] for s in samples], dtype=float)
    p = np.asarray([s[1] for s in samples], dtype=bool)
    high = np.asarray([s[3] for s in samples], dtype=bool)
    out["auroc"] = {"value": auroc(r, p), "n": n, "n_passed": int(p.sum()), "ci": list(auroc_ci(r, p, seed=seed))}
    out["high_reward_fail_share"] = rate(int((high & ~p).sum()), int(high.sum()))
    out["reward_pass_mean"] = float(r[p].mean()) if p.any() else float("nan")
    out["reward_fail_mean"] = float(r[~p].mean()) if (~p).any() else float("nan")
    return out


class ShadowProbe:
    """Shadow execution of a share of each step's RM-rewarded completions (picklable until first used)."""

    def __init__(self, problems: Mapping[str, Any], out_path: str | Path, *, share: float, limits: Any = None,
                 updates_per_step: int = 1, seed: int = 0):
        if not 0 < share <= 1:
            raise ValueError(f"rl_probe_share must be in (0, 1], got {share}")
        self.problems = dict(problems)
        self.out_path = str(out_path)
        self.share = float(share)
        self.limits = limits
        self.updates_per_step = max(1, int(updates_per_step))
        self.seed = int(seed)
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list[Future] = []
        self._lock = threading.Lock()

    def __getstate__(self):
        state = dict(self.__dict__)
        state.update(_pool=None, _futures=[], _lock=None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __call__(self, problem_ids: Sequence[str], responses: Sequence[str], rewards: Sequence[float],
                 global_step: int) -> None:
        """Sample, then grade in the background; returns at once."""
        n = len(responses)
        k = max(1, int(round(self.share * n))) if n else 0
        rng = random.Random(self.seed * 1_000_003 + int(global_step))
        pick = sorted(rng.sample(range(n), k)) if k < n else list(range(n))
        ids = [str(problem_ids[i]) for i in pick]
        if not all(i in self.problems for i in ids):
            return   # a problem without tests cannot be probed (kind none)
        job = ([self.problems[i] for i in ids], [responses[i] for i in pick], [float(rewards[i]) for i in pick],
               global_step // self.updates_per_step)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cskit-probe")
        self._futures.append(self._pool.submit(self._grade_and_log, *job))

    def _grade_and_log(self, problems, responses, rewards, step) -> None:
        from cskit.extract import extract_lenient, extract_strict
        from cskit.sandbox import grade_codes

        lenient = [extract_lenient(r) for r in responses]
        todo = [(p, c) for p, c in zip(problems, lenient) if c]
        res = iter(grade_codes(todo, self.limits, workers=1)) if todo else iter(())
        passed = [bool(next(res).passed) if c else False for c in lenient]
        row = probe_row(step, rewards, [extract_strict(r) != "" for r in responses], passed)
        line = json.dumps(row, allow_nan=True) + "\n"
        with self._lock:
            Path(self.out_path).parent.mkdir(parents=True, exist_ok=True)
            with open(self.out_path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()

    def resume_from(self, global_step: int) -> None:
        """Keep only the rows of steps before ``global_step`` (the resumed run probes the rest again)."""
        keep_below = global_step // self.updates_per_step
        p = Path(self.out_path)
        if not p.exists():
            return
        if keep_below <= 0:
            p.unlink()
            return
        kept = [r for r in read_probes(p) if r["grpo_step"] < keep_below]
        from cskit.io import write_text

        write_text(p, "".join(json.dumps(r) + "\n" for r in kept))

    def close(self) -> None:
        """Wait for every pending probe (called when training ends)."""
        for f in self._futures:
            f.result()
        self._futures = []
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def read_probes(path: str | Path) -> list[dict]:
    """The probe rows of one run, merged per GRPO step (several reward calls of one step add up)."""
    p = Path(path)
    if not p.exists():
        return []
    rows = []
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:   # a line cut by a kill: the step is probed again or dropped
            continue
    merged: dict[int, dict] = {}
    for r in rows:
        s = int(r["grpo_step"])
        if s not in merged:
            merged[s] = r
        else:   # weight by n (a step's reward calls are separate probes of the same policy)
            a, b = merged[s], r
            tot = a["n"] + b["n"]
            out = {"grpo_step": s, "n": tot, "n_valid": a["n_valid"] + b["n_valid"],
                   "n_passed": a["n_passed"] + b["n_passed"],
                   "samples": (a.get("samples") or []) + (b.get("samples") or [])}
            for key in PROBE_COLUMNS[4:]:
                x, y = a.get(key), b.get(key)
                vals = [(v, w) for v, w in ((x, a["n"]), (y, b["n"])) if v is not None and v == v]
                out[key] = sum(v * w for v, w in vals) / sum(w for _, w in vals) if vals else float("nan")
            merged[s] = out
    return [merged[s] for s in sorted(merged)]
