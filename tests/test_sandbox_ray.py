"""sandbox_backend=ray: grading as Ray tasks on a local Ray cluster started by the test (2 worker CPUs).

Verdicts equal the local backend's, in order; chunked tasks too; a worker process killed mid-batch has its
task retried and no result is lost or duplicated.
"""
from __future__ import annotations

import os
import signal
import textwrap
import threading
import time

import pytest

# Single-node Ray on loopback: with this set before ray is imported, the node's address (GCS, raylet,
# workers) is 127.0.0.1 instead of the machine's network address, so all Ray traffic stays on loopback.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

from cskit.problems import Problem, TestCase  # noqa: E402
from cskit.sandbox import SandboxLimits, grade_many  # noqa: E402
from cskit.sandbox.ray_backend import grade_many_ray  # noqa: E402

pytestmark = pytest.mark.slow  # starts a Ray instance (~10 s)

FAST = SandboxLimits(timeout_s=2.0, allow_unisolated=True)
ADD = Problem("add", "sum two ints", "stdio", [TestCase("1 2\n", "3\n"), TestCase("5 6\n", "11\n"),
                                              TestCase("-1 1\n", "0\n")])
CALL = Problem("twosum", "pair", "call", [TestCase("[1, 2, 3]\n4\n", "[0, 2]"), TestCase("[5, 5]\n10\n", "[0, 1]")],
               entry_point="pair")
ASSERT = Problem("sq", "square", "assert", [TestCase("assert square(3) == 9\n"), TestCase("assert square(-2) == 4\n")],
                 entry_point="square")
NOTESTS = Problem("free", "no tests", "none", [])
CALL_OK = textwrap.dedent("""
    def pair(nums, target):
        seen = {}
        for i, x in enumerate(nums):
            if target - x in seen:
                return (seen[target - x], i)
            seen[x] = i
""")
ITEMS = [
    (ADD, "a, b = map(int, input().split())\nprint(a + b)\n"),
    (ADD, "a, b = map(int, input().split())\nprint(a - b)\n"),
    (ADD, "print(int(input().split()[0]) +\n"),
    (ADD, ""),
    (CALL, CALL_OK),
    (CALL, "def pair(nums, target):\n    raise ValueError('no')\n"),
    (ASSERT, "def square(x):\n    return x * x\n"),
    (ASSERT, "def square(x):\n    return x + x\n"),
    (NOTESTS, "print(1)\n"),
    (ADD, "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n"),
]


def key(r):
    return (r.problem_id, r.verdict, r.passed, r.n_passed, r.n_tests, r.test_verdicts, r.isolation)


@pytest.fixture(scope="module")
def cluster():
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 << 20, logging_level="ERROR",
             log_to_driver=False)
    assert ray.nodes()[0]["NodeManagerAddress"] == "127.0.0.1"
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def local_results():
    return grade_many(ITEMS, FAST, workers=2, progress=False)


def test_same_verdicts_as_local_in_order(cluster, local_results):
    got = grade_many_ray(ITEMS, FAST, max_in_flight=3)
    assert [key(r) for r in got] == [key(r) for r in local_results]
    assert [r.verdict for r in got][:4] == ["passed", "wrong_answer", "syntax_error", "no_code"]
    assert got[8].verdict == "no_tests"


def test_chunked_tasks_and_empty_input(cluster, local_results):
    got = grade_many_ray(ITEMS, FAST, samples_per_task=3, max_in_flight=2)
    assert [key(r) for r in got] == [key(r) for r in local_results]
    assert grade_many_ray([], FAST) == []


def test_sandbox_backend_ray_through_grade_many_and_the_config(cluster, local_results):
    """``sandbox_backend: ray`` reaches every stage through SandboxLimits.from_config -> grade_many."""
    from dataclasses import replace

    from cskit.config import load_config

    lim = SandboxLimits.from_config(load_config("smoke", {"sandbox_backend": "ray"}))
    assert lim.backend == "ray"
    got = grade_many(ITEMS, replace(FAST, backend="ray"), workers=2, progress=False)
    assert [key(r) for r in got] == [key(r) for r in local_results]


def ray_task_workers() -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(p.info.get("cmdline") or [])
        if cmd.startswith("ray::grade_chunk"):
            out.append(p)
    return out


def test_worker_killed_mid_batch_is_retried_without_loss_or_duplicates(cluster):
    slow = "import time\ntime.sleep(0.4)\na, b = map(int, input().split())\nprint(a + b)\n"
    wrong = "import time\ntime.sleep(0.4)\nprint(0)\n"
    items = [(ADD, slow if i % 3 else wrong) for i in range(8)]
    want = grade_many(items, FAST, workers=2, progress=False)
    box: dict[str, object] = {}

    def run():
        try:
            box["results"] = grade_many_ray(items, FAST, max_in_flight=4, max_retries=3, timeout_s=240)
        except BaseException as e:  # noqa: BLE001 - inspected below
            box["error"] = e

    t = threading.Thread(target=run)
    t.start()
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and time.monotonic() < deadline and t.is_alive():
        busy = ray_task_workers()
        if busy:
            time.sleep(0.3)                     # let it get into the sandbox runs of its sample
            killed = busy[0].pid
            os.kill(killed, signal.SIGKILL)
        else:
            time.sleep(0.05)
    t.join(240)
    assert not t.is_alive()
    assert killed is not None, "never saw a worker running a grading task"
    assert "error" not in box, box.get("error")
    got = box["results"]
    assert len(got) == len(items)
    assert [key(r) for r in got] == [key(r) for r in want]
    assert sum(r.passed for r in got) == sum(1 for i in range(8) if i % 3)
