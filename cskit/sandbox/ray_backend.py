"""Grading on a Ray cluster (``sandbox_backend: ray``): sandbox jobs as Ray tasks on any node, in order.

``grade_many_ray(items, limits)`` grades ``(problem, code)`` pairs like :func:`cskit.sandbox.grade_many`
and returns the same :class:`cskit.sandbox.GradeResult` list, in input order, but each sample is graded by a
Ray task that runs :func:`cskit.sandbox.grade` -- the same sandbox, limits and verdict rules -- on whichever
node of the cluster has a free CPU (and the custom resource named by ``resource``, if any: start the CPU
grading nodes with ``ray start --resources='{"sandbox": N}'`` and pass ``resource="sandbox"`` to keep
grading off the GPU trainer nodes).

* Batching: one task per ``samples_per_task`` samples (default 1: a sample's tests run together inside one
  task, so ``skip_after_timeout`` works as locally); the problem travels with its task.
* Bounded in flight: at most ``max_in_flight`` tasks are submitted at a time (default: 2 x the cluster's
  CPUs for the requested resource), so a million samples never become a million queued tasks.
* Failures: a task whose worker process or node dies is re-run by Ray (``max_retries``, default 3). A
  sample's result is taken from the one task that completed for it; a second result for an index that
  already has one raises instead of being used, and every index must have exactly one result at the end.
  A retried sample is graded again from scratch (grading has no side effects outside its sandbox).
* Identity with the local backend: every sample is graded independently in its own sandboxes, so verdicts,
  pass counts and per-test verdicts equal ``grade_many``'s; only ``time_s`` differs. Each node resolves its
  own isolation (bwrap / unshare / none per ``SandboxLimits``), so a cluster whose nodes differ reports
  per-sample ``isolation``; ``require_same_isolation=True`` (default) raises if one batch mixed modes.

Connecting: ``address`` (e.g. ``"ray://head:10001"`` or ``"auto"``), else ``$RAY_ADDRESS``, else a local
Ray instance is started on this machine (``ray.init``; reused by later calls, never shut down here).
Every node needs the same environment: this package installed, ``bwrap`` (or root for ``unshare``), and
the same ``CSKIT_SANDBOX_*`` variables.

Not guaranteed: progress when the cluster has no node with the requested resource (Ray waits for one;
``timeout_s`` bounds the whole call); identical timings or identical verdicts for time-limit-bound
programs on nodes of different speed (wall-clock limits depend on the machine: record the CPUs).
"""
from __future__ import annotations

import time
from typing import Any, Sequence

from cskit.sandbox.grading import GradeResult, grade
from cskit.sandbox.isolation import resolve_isolation
from cskit.sandbox.limits import SandboxLimits

_REMOTE: dict[tuple, Any] = {}


def grade_chunk(chunk: list[tuple[object, str]], limits: SandboxLimits) -> list[GradeResult]:
    """What one Ray task runs: the samples of ``chunk`` through :func:`cskit.sandbox.grade`, on that node."""
    from cskit.sandbox.isolation import SandboxWorker

    needs_sandbox = any(p.has_tests and code and code.strip() for p, code in chunk)
    iso = resolve_isolation(limits) if needs_sandbox else None
    if iso is None:
        return [grade(p, code, limits, isolation=iso) for p, code in chunk]
    with SandboxWorker(limits, iso) as w:   # one warm sandbox for the chunk's samples
        return [grade(p, code, limits, isolation=iso, worker=w) for p, code in chunk]


def import_ray():
    try:
        import ray
    except ImportError as e:  # pragma: no cover - ray is in the lock
        raise ImportError("sandbox_backend=ray needs the 'ray' package (pip install 'ray>=2.40')") from e
    return ray


def ensure_ray(address: str | None = None, **init_kwargs: Any):
    """Connect to (or start) Ray once per process; returns the ``ray`` module."""
    ray = import_ray()
    if not ray.is_initialized():
        kw = dict(address=address, logging_level="ERROR", log_to_driver=False)
        kw.update(init_kwargs)
        ray.init(**{k: v for k, v in kw.items() if v is not None or k == "address"})
    return ray


def remote_grader(ray, max_retries: int, resource: str | None):
    key = (max_retries, resource)
    if key not in _REMOTE:
        opts: dict[str, Any] = dict(num_cpus=1, max_retries=int(max_retries), retry_exceptions=False)
        if resource:
            opts["resources"] = {resource: 1}
        _REMOTE[key] = ray.remote(grade_chunk).options(**opts)
    return _REMOTE[key]


def default_in_flight(ray, resource: str | None) -> int:
    res = ray.cluster_resources()
    n = res.get(resource, 0) if resource else res.get("CPU", 0)
    return max(2, int(2 * n))


def grade_many_ray(items: Sequence[tuple[object, str]], limits: SandboxLimits | None = None, *,
                   address: str | None = None, max_in_flight: int = 0, samples_per_task: int = 1,
                   resource: str | None = None, max_retries: int = 3, timeout_s: float | None = None,
                   progress: bool = False, desc: str = "grading (ray)", require_same_isolation: bool = True,
                   init_kwargs: dict | None = None) -> list[GradeResult]:
    """Grade ``(problem, code)`` pairs as Ray tasks; results in input order (see the module docstring)."""
    from tqdm.auto import tqdm

    items = list(items)
    limits = limits or SandboxLimits()
    if not items:
        return []
    ray = ensure_ray(address, **(init_kwargs or {}))
    task = remote_grader(ray, max_retries, resource)
    k = max(1, int(samples_per_task))
    chunks = [(i, items[i:i + k]) for i in range(0, len(items), k)]
    in_flight = int(max_in_flight) if max_in_flight and max_in_flight > 0 else default_in_flight(ray, resource)
    limits_ref = ray.put(limits)
    results: list[GradeResult | None] = [None] * len(items)
    pending: dict[Any, tuple[int, int]] = {}
    deadline = time.monotonic() + timeout_s if timeout_s else None
    bar = tqdm(total=len(items), desc=desc, disable=not progress, unit="sample")
    nxt = 0
    try:
        while nxt < len(chunks) or pending:
            while nxt < len(chunks) and len(pending) < in_flight:
                start, chunk = chunks[nxt]
                pending[task.remote(chunk, limits_ref)] = (start, len(chunk))
                nxt += 1
            wait_s = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
            done, _ = ray.wait(list(pending), num_returns=1, timeout=wait_s)
            if not done and deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"grade_many_ray: {len(pending)} tasks still running after {timeout_s} s")
            for ref in done:
                start, n = pending.pop(ref)
                out = ray.get(ref)  # raises (e.g. WorkerCrashedError) once Ray gave up retrying
                if len(out) != n:
                    raise RuntimeError(f"grade_many_ray: a task returned {len(out)} results for {n} samples")
                for j, r in enumerate(out):
                    if results[start + j] is not None:
                        raise RuntimeError(f"grade_many_ray: sample {start + j} got a second result")
                    results[start + j] = r
                bar.update(n)
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        bar.close()
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        raise RuntimeError(f"grade_many_ray: no result for samples {missing[:10]}")
    if require_same_isolation:
        isos = {r.isolation for r in results if r.isolation}
        if len(isos) > 1:
            raise RuntimeError(f"grade_many_ray: the cluster's nodes graded with different isolations {isos}; "
                               "make them equal or pass require_same_isolation=False")
    return results  # type: ignore[return-value]
