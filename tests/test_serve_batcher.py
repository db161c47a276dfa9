"""Dynamic batching (cskit.serve.batcher): each request gets its own slice exactly once, errors, caps, stop.

The compute function here is a real pure function of its inputs (no model), so every answer can be checked.
"""
from __future__ import annotations

import asyncio
import threading

import pytest

from cskit.serve.batcher import BatcherFull, BatcherStopped, DynamicBatcher
from cskit.serve.engine import EngineResult, split_openrlhf_query, strip_special


class LenReward:
    """reward = len(question) * 1000 + len(response); records every batch it computed."""

    def __init__(self, gate: threading.Event | None = None):
        self.batches: list[int] = []
        self.gate = gate

    def __call__(self, questions, responses):
        if self.gate is not None:
            self.gate.wait(10)
        self.batches.append(len(responses))
        rewards = [len(q) * 1000.0 + len(r) for q, r in zip(questions, responses)]
        return EngineResult(rewards, list(rewards), [True] * len(rewards))


def expected(questions, responses):
    return [len(q) * 1000.0 + len(r) for q, r in zip(questions, responses)]


def test_concurrent_requests_get_their_own_results_once():
    gate = threading.Event()
    fn = LenReward(gate)
    b = DynamicBatcher(fn, max_batch_items=64, max_wait_ms=20).start()
    reqs = [([("q" * (i % 7 + 1))] * (i % 5 + 1), [("r" * (i + j)) for j in range(i % 5 + 1)]) for i in range(40)]
    futures = [b.submit(q, r) for q, r in reqs]  # all queued while the worker is blocked on the first batch
    gate.set()
    for (q, r), f in zip(reqs, futures):
        res = f.result(10)
        assert res.rewards == expected(q, r)
    b.stop()
    assert sum(fn.batches) == sum(len(r) for _, r in reqs)     # every input computed once
    assert max(fn.batches) <= 64
    assert len(fn.batches) < len(reqs)                           # requests were merged into batches
    assert b.stats.jobs == len(reqs) and b.stats.items == sum(fn.batches)


def test_threads_and_asyncio_callers():
    fn = LenReward()
    b = DynamicBatcher(fn, max_batch_items=32, max_wait_ms=5).start()
    out: dict[int, list[float]] = {}

    def worker(i):
        q, r = [f"question {i}"] * 3, [f"resp {i} {k}" * (k + 1) for k in range(3)]
        out[i] = (b.submit(q, r).result(10).rewards, expected(q, r))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(out) == 24 and all(got == want for got, want in out.values())

    async def main():
        qs = [[f"aq{i}"] for i in range(16)]
        rs = [[f"ar{i}" * i] for i in range(16)]
        res = await asyncio.gather(*(b.run(q, r) for q, r in zip(qs, rs)))
        return [x.rewards for x in res] == [expected(q, r) for q, r in zip(qs, rs)]

    assert asyncio.run(main())
    b.stop()


def test_failure_fails_the_batch_and_worker_survives():
    calls = []

    def flaky(questions, responses):
        calls.append(len(responses))
        if "boom" in responses:
            raise RuntimeError("model exploded")
        return EngineResult([1.0] * len(responses), [1.0] * len(responses), [True] * len(responses))

    b = DynamicBatcher(flaky, max_batch_items=8, max_wait_ms=0).start()
    with pytest.raises(RuntimeError, match="model exploded"):
        b.submit(["q"], ["boom"]).result(10)
    assert b.submit(["q"], ["fine"]).result(10).rewards == [1.0]
    assert b.stats.failed_batches == 1
    b.stop()


def test_wrong_result_length_is_an_error_not_a_misalignment():
    b = DynamicBatcher(lambda q, r: EngineResult([0.0], [0.0], [True]), max_batch_items=8, max_wait_ms=0).start()
    with pytest.raises(RuntimeError, match="1 results for 2 inputs"):
        b.submit(["a", "b"], ["x", "y"]).result(10)
    b.stop()


def test_caps_backpressure_and_stop():
    gate = threading.Event()
    b = DynamicBatcher(LenReward(gate), max_batch_items=4, max_wait_ms=0, max_pending=2).start()
    with pytest.raises(ValueError, match="exceeds max_batch_items"):
        b.submit(["q"] * 5, ["r"] * 5)
    with pytest.raises(ValueError, match="questions but"):
        b.submit(["q"], ["r", "s"])
    first = b.submit(["q"], ["r"])          # taken by the worker, which blocks on the gate
    deadline = threading.Event()
    for _ in range(200):                    # wait (bounded) until the worker holds the first request
        if b.pending() == 0:
            break
        deadline.wait(0.01)
    queued = [b.submit(["q"], ["r"]), b.submit(["q"], ["r"])]
    with pytest.raises(BatcherFull):
        b.submit(["q"], ["r"])
    gate.set()
    assert first.result(10).rewards == [1001.0]
    assert all(f.result(10).rewards == [1001.0] for f in queued)
    b.stop()
    with pytest.raises(BatcherStopped):
        b.submit(["q"], ["r"])


def test_oversized_follower_starts_the_next_batch_in_order():
    gate = threading.Event()
    fn = LenReward(gate)
    b = DynamicBatcher(fn, max_batch_items=4, max_wait_ms=50).start()
    f1 = b.submit(["a"], ["x"])
    f2 = b.submit(["a"] * 2, ["y"] * 2)
    f3 = b.submit(["a"] * 2, ["z"] * 2)     # does not fit beside f1+f2 (3 of 4): carried into the next batch
    f4 = b.submit(["a"], ["w"])
    gate.set()
    assert f1.result(10).rewards == [1001.0]
    assert f2.result(10).rewards == [1001.0] * 2
    assert f3.result(10).rewards == [1001.0] * 2
    assert f4.result(10).rewards == [1001.0]
    b.stop()
    assert sum(fn.batches) == 6 and max(fn.batches) <= 4
    assert b.stats.jobs == 4


def test_openrlhf_query_split():
    specials = ("<|pad|>", "<|endoftext|>")
    prompt = "<|im_start|>user\nAdd.<|im_end|>\n<|im_start|>assistant\n"
    resp = "```python\nprint(1)\n```"
    q, r = split_openrlhf_query("<|pad|><|pad|>" + prompt + resp + "<|endoftext|><|pad|>", "<|pad|>" + prompt,
                                "Add two numbers.", specials)
    assert (q, r) == ("Add two numbers.", resp)
    q, r = split_openrlhf_query(prompt + resp, prompt, None, specials)
    assert (q, r) == (prompt, resp)                      # no label: the prompt text is the question
    q, r = split_openrlhf_query(resp, None, {"question": "Q"}, specials)
    assert (q, r) == ("Q", resp)
    assert strip_special("<|pad|> x <|endoftext|><|pad|>", specials) == "x"
