"""Batch grading: ``grade_many`` over a thread pool (each thread drives sandbox subprocesses).

Order is preserved and results do not depend on ``workers``: every sample is graded independently
(its own sandboxes, private uid, fresh /tmp), so only timings differ between runs. The isolation is
resolved once per batch, so a batch never mixes isolation modes.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from tqdm.auto import tqdm

from cskit.sandbox.grading import GradeResult, grade
from cskit.sandbox.isolation import resolve_isolation
from cskit.sandbox.limits import SandboxLimits


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def grade_many(items: Sequence[tuple[object, str]], limits: SandboxLimits | None = None, workers: int = 0,
               progress: bool = True, desc: str = "grading") -> list[GradeResult]:
    """Grade ``(problem, code)`` pairs; ``workers=0`` uses one worker per available core."""
    items = list(items)
    limits = limits or SandboxLimits()
    if not items:
        return []
    needs_sandbox = any(p.has_tests and code and code.strip() for p, code in items)
    iso = resolve_isolation(limits) if needs_sandbox else None
    workers = workers if workers and workers > 0 else default_workers()
    workers = min(workers, len(items))
    bar = tqdm(total=len(items), desc=desc, disable=not progress, unit="sample")
    try:
        if workers == 1:
            out = []
            for p, code in items:
                out.append(grade(p, code, limits, isolation=iso))
                bar.update(1)
            return out
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cskit-sandbox") as ex:
            futures = [ex.submit(grade, p, code, limits, isolation=iso) for p, code in items]
            for f in futures:  # in order; the bar advances as the head of the queue finishes
                f.result()
                bar.update(1)
            return [f.result() for f in futures]
    finally:
        bar.close()
