"""Batch grading: ``grade_many`` over a thread pool; each thread keeps one warm sandbox
(:class:`~cskit.sandbox.isolation.SandboxWorker`) for the batch and closes it at the end.

Order is preserved and results do not depend on ``workers``: every sample is graded independently
(its own candidate zygote, a private uid per test run, an emptied /tmp), so only timings differ
between runs. The isolation is resolved once per batch, so a batch never mixes isolation modes.
A batch always yields one result per sample, in order.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from tqdm.auto import tqdm

from cskit.sandbox.grading import GradeResult, TestResult, grade
from cskit.sandbox.isolation import SandboxError, SandboxWorker, resolve_isolation
from cskit.sandbox.limits import SandboxLimits, env_pin


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def usable_cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return list(range(os.cpu_count() or 1))


def worker_cpus(limits: SandboxLimits, workers: int) -> list[int | None]:
    """The CPU each of a batch's ``workers`` sandboxes is pinned to (``None``: not pinned); see
    ``SandboxLimits.pin_workers``."""
    cpus = usable_cpus()
    pin = limits.pin_workers if limits.pin_workers is not None else env_pin()
    if pin is None:
        pin = workers == len(cpus) and workers > 1
    return [cpus[k % len(cpus)] for k in range(workers)] if pin else [None] * workers


def grade_many(items: Sequence[tuple[object, str]], limits: SandboxLimits | None = None, workers: int = 0,
               progress: bool = True, desc: str = "grading") -> list[GradeResult]:
    """Grade ``(problem, code)`` pairs; ``workers=0`` uses one worker per available core. With
    ``limits.backend == "ray"`` the batch runs as Ray tasks on a cluster (:mod:`cskit.sandbox.ray_backend`;
    ``workers`` then bounds the tasks in flight), with the same results in the same order."""
    items = list(items)
    limits = limits or SandboxLimits()
    if not items:
        return []
    if limits.backend == "ray":
        from cskit.sandbox.ray_backend import grade_many_ray

        return grade_many_ray(items, limits, address=limits.ray_address or None,
                              resource=limits.ray_resource or None, max_in_flight=workers, progress=progress,
                              desc=desc, samples_per_task=4)   # a warm sandbox serves a task's samples
    needs_sandbox = any(p.has_tests and code and code.strip() for p, code in items)
    iso = resolve_isolation(limits) if needs_sandbox else None
    workers = workers if workers and workers > 0 else default_workers()
    workers = min(workers, len(items))
    cpus = worker_cpus(limits, workers)
    bar = tqdm(total=len(items), desc=desc, disable=not progress, unit="sample")
    local = threading.local()
    opened: list[SandboxWorker] = []
    lock = threading.Lock()
    aborting = threading.Event()

    def one(p, code):
        w = getattr(local, "worker", None)
        if w is None and iso is not None:
            with lock:
                if aborting.is_set():
                    raise KeyboardInterrupt
                w = local.worker = SandboxWorker(limits, iso, cpus[len(opened) % len(cpus)])
                opened.append(w)
        try:
            return grade(p, code, limits, isolation=iso, worker=w)
        except SandboxError as e:  # the sandbox failed twice on this sample: its verdict, not the batch's end
            if aborting.is_set():
                raise
            why = f"the sandbox failed: {e}"[:500]
            n = len(p.tests)
            return GradeResult("harness_error", False, 0, n, [TestResult("harness_error", 0.0, "SandboxError", why)
                                                              for _ in range(n)], 0.0, "SandboxError", iso or "",
                               getattr(p, "id", ""))

    try:
        if workers == 1:
            out = []
            for p, code in items:
                out.append(one(p, code))
                bar.update(1)
            return out
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cskit-sandbox") as ex:
            futures = [ex.submit(one, p, code) for p, code in items]
            try:
                for f in futures:  # in order; the bar advances as the head of the queue finishes
                    f.result()
                    bar.update(1)
            except BaseException:  # Ctrl-C (or a SandboxError): stop queued samples, end running sandboxes
                for f in futures:
                    f.cancel()
                with lock:
                    aborting.set()
                    for w in opened:
                        w.kill()
                raise
            out = [f.result() for f in futures]
            for w in opened:  # closed from here: a worker is closed only after its thread is done with it
                w.close()
            return out
    finally:
        for w in opened:
            w.close()
        bar.close()


def grade_codes(problems_codes: Sequence[tuple[object, str]], limits: SandboxLimits | None = None, workers: int = 0,
                progress: bool = False, desc: str = "grading") -> list[GradeResult]:
    """Like :func:`grade_many`, but each distinct ``(problem.id, code)`` is graded once; results are aligned
    with the input (duplicates share one result object)."""
    uniq: dict[tuple[str, str], int] = {}
    items = []
    for p, code in problems_codes:
        key = (p.id, code)
        if key not in uniq:
            uniq[key] = len(items)
            items.append((p, code))
    results = grade_many(items, limits=limits, workers=workers, progress=progress, desc=desc)
    return [results[uniq[(p.id, code)]] for p, code in problems_codes]
