"""Dynamic batching: many concurrent requests, one reward computation (one RM forward pass per batch).

Requests (a list of questions and responses each) enter a bounded queue. One worker thread takes the first
waiting request, then keeps collecting requests until either ``max_batch_items`` inputs are gathered or
``max_wait_ms`` have passed since that first request *arrived* (so a request that already waited while the
previous batch ran is not held back further: whatever is queued then is taken at once). The batch's inputs
are concatenated in arrival order and computed by one call of ``compute(questions, responses)`` -- the
reward engine, whose :class:`cskit.rm.RewardScorer` sorts the inputs by token length into its forward
batches (``length-sorted batches``) and maps the scores back to input order.

Each request's slice ``[offset, offset + n)`` of the result is handed to its own future exactly once: the
offsets are fixed when the batch is formed, every future is resolved by the one worker thread, and a future
that already holds a result is never set again (a duplicate would raise, not be delivered). A request that
would overflow ``max_batch_items`` starts the next batch instead of being re-queued (arrival order is kept).
A failing computation fails every request of that batch with the same error; the worker keeps serving.

Not guaranteed: fairness between clients beyond arrival order; a bound on latency under overload (the queue
bound ``max_pending`` makes :meth:`DynamicBatcher.submit` raise :class:`BatcherFull` instead, which the
server answers with 503); results of a request whose client has gone away are computed and dropped.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

log = logging.getLogger(__name__)


class BatcherFull(RuntimeError):
    """The pending-request queue is full (backpressure): retry later."""


class BatcherStopped(RuntimeError):
    """The batcher is not running (not started, or shutting down)."""


@dataclass
class Job:
    questions: list[str]
    responses: list[str]
    future: concurrent.futures.Future
    t_submit: float = field(default_factory=time.monotonic)

    def __len__(self) -> int:
        return len(self.responses)


@dataclass
class BatcherStats:
    batches: int = 0
    jobs: int = 0
    items: int = 0
    max_jobs_in_batch: int = 0
    max_items_in_batch: int = 0
    failed_batches: int = 0
    dropped_cancelled: int = 0

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["mean_jobs_per_batch"] = round(self.jobs / self.batches, 3) if self.batches else 0.0
        return d


class DynamicBatcher:
    """Collects concurrent requests into batches for ``compute(questions, responses) -> result``.

    ``result`` must support ``len()`` and ``.slice(start, stop)`` (``EngineResult`` does), with one entry per
    input in order. ``max_batch_items``: most inputs per computation (a single request may not exceed it;
    the server's per-request cap is at most this). ``max_wait_ms``: how long the first request of a batch may
    wait for company. ``max_pending``: most requests waiting (``submit`` raises :class:`BatcherFull` beyond).
    """

    def __init__(self, compute: Callable[[list[str], list[str]], Any], *, max_batch_items: int = 512,
                 max_wait_ms: float = 5.0, max_pending: int = 4096):
        if max_batch_items < 1 or max_pending < 1 or max_wait_ms < 0:
            raise ValueError("max_batch_items and max_pending must be >= 1, max_wait_ms >= 0")
        self.compute = compute
        self.max_batch_items = int(max_batch_items)
        self.max_wait_s = float(max_wait_ms) / 1000.0
        self.max_pending = int(max_pending)
        self.stats = BatcherStats()
        self._queue: queue.Queue[Job] = queue.Queue(maxsize=self.max_pending)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._carry: Job | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> "DynamicBatcher":
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="cskit-rm-batcher", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking requests; fail the ones still queued with :class:`BatcherStopped`."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        pending = [self._carry] if self._carry is not None else []
        self._carry = None
        while True:
            try:
                pending.append(self._queue.get_nowait())
            except queue.Empty:
                break
        for job in pending:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(BatcherStopped("the reward server is shutting down"))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def pending(self) -> int:
        return self._queue.qsize() + (1 if self._carry is not None else 0)

    # -- submitting -----------------------------------------------------------------------------------------
    def submit(self, questions: Sequence[str], responses: Sequence[str]) -> concurrent.futures.Future:
        """Queue one request; its future resolves to the request's own slice of the batch result."""
        if len(questions) != len(responses):
            raise ValueError(f"{len(questions)} questions but {len(responses)} responses")
        if len(responses) > self.max_batch_items:
            raise ValueError(f"a request of {len(responses)} inputs exceeds max_batch_items={self.max_batch_items}")
        if not self.running:
            raise BatcherStopped("the batcher is not running")
        job = Job(list(questions), list(responses), concurrent.futures.Future())
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise BatcherFull(f"{self.max_pending} requests already waiting") from None
        return job.future

    async def run(self, questions: Sequence[str], responses: Sequence[str]):
        """``submit`` for asyncio callers: await the request's result."""
        return await asyncio.wrap_future(self.submit(questions, responses))

    # -- the worker -------------------------------------------------------------------------------------------
    def _next_first(self) -> Job | None:
        if self._carry is not None:
            job, self._carry = self._carry, None
            return job
        try:
            return self._queue.get(timeout=0.05)
        except queue.Empty:
            return None

    def _collect(self, first: Job) -> list[Job]:
        jobs, n = [first], len(first)
        deadline = first.t_submit + self.max_wait_s
        while n < self.max_batch_items and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            try:
                job = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if n + len(job) > self.max_batch_items:
                self._carry = job  # starts the next batch; arrival order kept
                break
            jobs.append(job)
            n += len(job)
        return jobs

    def _run(self) -> None:
        while not self._stop.is_set():
            first = self._next_first()
            if first is None:
                continue
            jobs = self._collect(first)
            live = [j for j in jobs if j.future.set_running_or_notify_cancel()]
            self.stats.dropped_cancelled += len(jobs) - len(live)
            if live:
                self._execute(live)

    def _execute(self, jobs: list[Job]) -> None:
        questions = [q for j in jobs for q in j.questions]
        responses = [r for j in jobs for r in j.responses]
        try:
            result = self.compute(questions, responses)
            if len(result) != len(responses):
                raise RuntimeError(f"compute returned {len(result)} results for {len(responses)} inputs")
        except Exception as e:  # every request of the batch gets the error; the worker keeps serving
            log.exception("reward computation failed for a batch of %d requests", len(jobs))
            self.stats.failed_batches += 1
            for j in jobs:
                j.future.set_exception(e)
            return
        offset = 0
        for j in jobs:
            j.future.set_result(result.slice(offset, offset + len(j)))
            offset += len(j)
        s = self.stats
        s.batches += 1
        s.jobs += len(jobs)
        s.items += len(responses)
        s.max_jobs_in_batch = max(s.max_jobs_in_batch, len(jobs))
        s.max_items_in_batch = max(s.max_items_in_batch, len(responses))
