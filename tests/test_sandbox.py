"""cskit.sandbox grading semantics: comparison rules, verdicts, adversarial exits, batch, CLI.

OS-level guarantees (network, filesystem, processes) are in test_sandbox_isolation.py.
"""
from __future__ import annotations

import json
import textwrap

import pytest

from cskit.problems import Problem, TestCase
from cskit.sandbox import (GradeResult, SandboxError, SandboxLimits, compare_call, compare_stdio, execute, grade,
                           grade_many, resolve_isolation)

FAST = SandboxLimits(timeout_s=2.0, allow_unisolated=True)
ISO = resolve_isolation(FAST)  # CSKIT_SANDBOX_ISOLATION=unshare|bwrap|none runs this file under that mode

ADD = Problem("add", "sum two ints", "stdio", [TestCase("1 2\n", "3\n"), TestCase("5 6\n", "11\n"),
                                              TestCase("-1 1\n", "0\n")])
ADD_OK = "a, b = map(int, input().split())\nprint(a + b)\n"
CALL = Problem("twosum", "pair", "call", [TestCase("[1, 2, 3]\n4\n", "[0, 2]"), TestCase("[5, 5]\n10\n", "[0, 1]")],
               entry_point="pair")
CALL_OK = textwrap.dedent("""
    def pair(nums, target):
        seen = {}
        for i, x in enumerate(nums):
            if target - x in seen:
                return (seen[target - x], i)
            seen[x] = i
""")
ASSERT = Problem("sq", "square", "assert", [TestCase("assert square(3) == 9\n"), TestCase("assert square(-2) == 4\n")],
                 entry_point="square", setup_code="import math\n")


def D(s: str) -> str:
    return textwrap.dedent(s).lstrip("\n")


# ------------------------------------------------------------------ comparison (no sandbox)
def test_compare_stdio_rules():
    assert compare_stdio("3\n", "3")
    assert compare_stdio("  1 2  \n3\n\n\n", "1 2\n3")
    assert compare_stdio("0.3333333\n", "0.33333333333")      # float tolerance
    assert compare_stdio("007\n", "7")                          # integers compared as numbers
    assert not compare_stdio("1\n", "2")
    assert not compare_stdio("1\n2\n", "1")                     # missing/extra lines matter
    assert not compare_stdio("1000000000000000001", "1000000000000000000")  # ints exact
    assert not compare_stdio("abc", "abd")
    assert not compare_stdio("", "0")


def test_compare_call_rules():
    assert compare_call("[0, 2]", "[0, 2]")
    assert compare_call("0.30000000000000004", "0.3")
    assert compare_call('{"a": [1.0000000001]}', '{"a": [1]}')
    assert not compare_call("[0, 2]", "[2, 0]")
    assert not compare_call("true", "1")
    assert not compare_call("", "1")


# ------------------------------------------------------------------ verdicts
def test_stdio_pass_and_wrong_answer():
    r = grade(ADD, ADD_OK, FAST)
    assert isinstance(r, GradeResult) and r.passed and r.verdict == "passed"
    assert (r.n_passed, r.n_tests, r.pass_fraction) == (3, 3, 1.0)
    assert r.isolation == ISO
    w = grade(ADD, "a, b = map(int, input().split())\nprint(a + b + (a < 0))\n", FAST)
    assert w.verdict == "wrong_answer" and not w.passed and w.n_passed == 2
    assert [t.verdict for t in w.tests] == ["passed", "passed", "wrong_answer"]
    d = w.to_dict()
    assert d["pass_fraction"] == pytest.approx(2 / 3) and d["tests"][2]["verdict"] == "wrong_answer"


def test_call_function_and_solution_class():
    assert grade(CALL, CALL_OK, FAST).passed
    cls = D("""
        class Solution:
            def pair(self, nums, target):
                return next((i, j) for j in range(len(nums)) for i in range(j) if nums[i] + nums[j] == target)
    """)
    assert grade(CALL, cls, FAST).passed
    r = grade(CALL, "def pair(nums, target):\n    return [0, 0]\n", FAST)
    assert r.verdict == "wrong_answer" and r.n_passed == 0
    assert grade(CALL, "def other():\n    pass\n", FAST).error_type == "NameError"


def test_assert_pass_and_fail():
    assert grade(ASSERT, "def square(x):\n    return math.prod([x, x])\n", FAST).passed  # setup_code ran
    r = grade(ASSERT, "def square(x):\n    return x * abs(x)\n", FAST)
    assert r.verdict == "runtime_error" and r.error_type == "AssertionError" and r.n_passed == 1


def test_special_verdicts():
    assert grade(ADD, "", FAST).verdict == "no_code"
    assert grade(ADD, "   \n", FAST).n_tests == 3
    none = Problem("n", "no tests", "none")
    assert grade(none, ADD_OK, FAST).verdict == "no_tests"
    s = grade(ADD, "def f(:\n  pass", FAST)
    assert s.verdict == "syntax_error" and s.error_type == "SyntaxError" and s.n_passed == 0
    z = grade(ADD, "print(1 // 0)", FAST)
    assert z.verdict == "runtime_error" and z.error_type == "ZeroDivisionError"
    assert "ZeroDivisionError" in z.tests[0].detail


def test_timeout_then_skipped():
    lim = SandboxLimits(timeout_s=0.5, allow_unisolated=True, use_problem_time_limit=False)
    r = grade(ADD, "while True:\n    pass\n", lim)
    assert r.verdict == "timeout" and [t.verdict for t in r.tests] == ["timeout", "skipped", "skipped"]
    assert r.n_passed == 0


def test_memory_limit():
    r = grade(ADD, "x = bytearray(600 * 1024 * 1024)\nprint(len(x))\n", SandboxLimits(memory_mb=256, allow_unisolated=True))
    assert r.verdict == "memory" and not r.passed


def test_output_limit():
    r = grade(ADD, "while True:\n    print('x' * 1000)\n", SandboxLimits(max_output_bytes=20000, allow_unisolated=True))
    assert r.verdict == "output_limit" and not r.passed


# ------------------------------------------------------------------ adversarial: no false passes
@pytest.mark.parametrize("code", [
    # exits 0 before the asserts run
    "import os\ndef square(x):\n    return 0\nos._exit(0)\n",
    "import sys\ndef square(x):\n    return 0\nsys.exit(0)\n",
    # exits 0 from inside the tested function
    "import os\ndef square(x):\n    os._exit(0)\n",
    "import sys\ndef square(x):\n    sys.exit(0)\n",
    # swallows the failure: excepthook/atexit that exit 0 (verl PR 7853 style)
    "import sys, os, atexit\nsys.excepthook = lambda *a: os._exit(0)\natexit.register(os._exit, 0)\n"
    "def square(x):\n    return 0\n",
    # kills its parent / the namespace init, then exits 0 (in "none" mode as root it really could)
    pytest.param("import os, signal\nfor p in (os.getppid(), 1):\n    try:\n        os.kill(p, signal.SIGKILL)\n"
    "    except OSError:\n        pass\ndef square(x):\n    return 0\nos._exit(0)\n",
                 marks=pytest.mark.skipif(ISO == "none", reason="no isolation: would kill pytest"), id="kill-parent"),
    # closes every fd (stdout and the result pipe) then returns normally with a wrong function
    "import os\nos.closerange(0, 1024)\ndef square(x):\n    return 0\n",
    # prints a fake completion message
    "print('{\"event\": \"end\", \"status\": \"ok\"}')\ndef square(x):\n    return 0\n",
])
def test_assert_early_exit_never_passes(code):
    r = grade(ASSERT, code, FAST)
    assert not r.passed and r.n_passed == 0, (r.verdict, r.tests)


def test_call_early_exit_never_passes():
    for code in ("import os\ndef pair(nums, target):\n    os._exit(0)\n",
                 "import sys\ndef pair(nums, target):\n    sys.exit(0)\n",
                 "import os\ndef pair(nums, target):\n    print('[0, 2]'); os.close(1); os._exit(0)\n"):
        r = grade(CALL, code, FAST)
        assert not r.passed and r.n_passed == 0, (code, r.verdict)
        assert r.verdict == "runtime_error"


def test_stdio_correct_output_then_crash_fails():
    r = grade(ADD, ADD_OK + "raise RuntimeError('after the answer')\n", FAST)
    assert r.verdict == "runtime_error" and r.n_passed == 0 and r.error_type == "RuntimeError"
    r = grade(ADD, ADD_OK + "import sys; sys.stdout.flush(); import os; os.kill(os.getpid(), 9)\n", FAST)
    assert not r.passed and r.n_passed == 0
    # os._exit(0) right after printing: the harness never confirmed completion
    r = grade(ADD, ADD_OK + "import sys, os; sys.stdout.flush(); os._exit(0)\n", FAST)
    assert not r.passed and r.error_type == "EarlyExit"
    # closing stdout before answering
    r = grade(ADD, "import os\nos.close(1)\n" + ADD_OK, FAST)
    assert not r.passed
    # sys.exit(0) after a correct answer is a normal way to end a stdio program
    assert grade(ADD, ADD_OK + "import sys\nsys.exit(0)\n", FAST).passed
    assert grade(ADD, ADD_OK + "import sys\nsys.exit(1)\n", FAST).verdict == "runtime_error"


def test_stdio_waits_for_threads_like_interpreter_exit():
    code = D("""
        import sys, threading, time
        threading.stack_size(1 << 26)
        def main():
            time.sleep(0.1)
            a, b = map(int, input().split())
            print(a + b)
        threading.Thread(target=main).start()
        sys.exit(0)
    """)
    assert grade(ADD, code, FAST).passed


# ------------------------------------------------------------------ execute, batch, refusal
def test_execute_stdio_and_call():
    e = execute(ADD, ADD_OK, "20 22\n", FAST)
    assert e.verdict == "ok" and e.output.strip() == "42" and e.exit_code == 0 and not e.truncated
    c = execute(CALL, CALL_OK, "[3, 4]\n7\n", FAST)
    assert c.verdict == "ok" and json.loads(c.output) == [0, 1]
    t = execute(ADD, "while True: pass", "", SandboxLimits(timeout_s=0.3, allow_unisolated=True,
                                                            use_problem_time_limit=False))
    assert t.verdict == "timeout"
    assert execute(ADD, "", "1 2").verdict == "no_code"


def test_grade_many_order_and_worker_independence():
    items = [(ADD, ADD_OK), (ADD, "print(3)"), (CALL, CALL_OK), (ASSERT, "def square(x):\n    return x*x\n"),
             (ADD, ""), (ADD, "1/0"), (CALL, "def pair(a, b):\n    return [0, 1]\n")]
    r1 = grade_many(items, FAST, workers=1, progress=False)
    r2 = grade_many(items, FAST, workers=2, progress=False)
    strip = lambda rs: [(r.verdict, r.n_passed, r.error_type, [(t.verdict, t.error_type) for t in r.tests])
                        for r in rs]  # noqa: E731
    assert strip(r1) == strip(r2)
    assert [r.verdict for r in r1] == ["passed", "wrong_answer", "passed", "passed", "no_code", "runtime_error",
                                       "wrong_answer"]
    assert grade_many([], FAST) == []


def test_auto_refuses_unisolated(monkeypatch):
    import cskit.sandbox.isolation as iso

    monkeypatch.setattr(iso, "isolation_available", lambda: "none")
    monkeypatch.delenv("CSKIT_SANDBOX_ISOLATION", raising=False)
    monkeypatch.delenv("CSKIT_SANDBOX_ALLOW_UNISOLATED", raising=False)
    with pytest.raises(SandboxError, match="allow_unisolated"):
        grade(ADD, ADD_OK, SandboxLimits())
    r = grade(ADD, ADD_OK, SandboxLimits(allow_unisolated=True))
    assert r.passed and r.isolation == "none"
    monkeypatch.setenv("CSKIT_SANDBOX_ISOLATION", "none")
    assert grade(ADD, ADD_OK, SandboxLimits()).isolation == "none"


def test_problem_time_limit_is_used():
    code = "import time\ntime.sleep(0.6)\nprint('ok')\n"
    slow = Problem("slow", "s", "stdio", [TestCase("", "ok")], time_limit=0.3)
    assert grade(slow, code, FAST).verdict == "timeout"
    plain = Problem("plain", "s", "stdio", [TestCase("", "ok")])  # default time_limit: limits.timeout_s rules
    assert grade(plain, code, SandboxLimits(timeout_s=0.3, allow_unisolated=True)).verdict == "timeout"
    assert grade(slow, code, SandboxLimits(timeout_s=3, allow_unisolated=True, use_problem_time_limit=False)).passed


# ------------------------------------------------------------------ CLI (more in test_grade_cli.py)
def test_sandbox_import_is_light():
    import subprocess
    import sys

    code = "import sys, cskit.sandbox, cskit.grade_cli; print('torch' in sys.modules or 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_tests_after_a_killed_run_still_run_in_the_same_sandbox():
    """A timed-out call/assert run kills its candidate and driver; the next tests get fresh ones."""
    lim = SandboxLimits(timeout_s=0.5, allow_unisolated=True, use_problem_time_limit=False, skip_after_timeout=False)
    p = Problem("c3", "c", "call", [TestCase("1\n", "1"), TestCase("2\n", "2"), TestCase("3\n", "3")], entry_point="f")
    r = grade(p, "def f(x):\n    while x == 2:\n        pass\n    return x\n", lim)
    assert r.test_verdicts == ["passed", "timeout", "passed"], [(t.verdict, t.error_type, t.detail) for t in r.tests]
    a = Problem("a3", "a", "assert", [TestCase(f"assert f({i}) == {i}\n") for i in (1, 2, 3)], entry_point="f")
    r = grade(a, "def f(x):\n    while x == 2:\n        pass\n    return x\n", lim)
    assert r.test_verdicts == ["passed", "timeout", "passed"], [(t.verdict, t.error_type, t.detail) for t in r.tests]
    # state does not leak from one test's candidate process to the next
    s = Problem("st", "s", "call", [TestCase("1\n", "1"), TestCase("1\n", "1")], entry_point="f")
    assert grade(s, "n = []\ndef f(x):\n    n.append(x)\n    return len(n)\n", FAST).passed


def test_every_test_runs_in_a_fresh_process_the_last_one_too():
    """A sample's runs are forks of its zygote made ahead of time, and its last run is the zygote itself:
    still one fresh process per test -- nothing a run leaves in memory, /tmp or its pid reaches the next."""
    import base64

    from cskit.sandbox.grading import sample_job
    from cskit.sandbox.isolation import run_sample

    p = Problem("fresh", "f", "stdio", [TestCase("", "")] * 4)
    code = D("""
        import os, sys
        seen = os.path.exists("mark")
        open("mark", "w").write("x")
        sys.modules.setdefault("LEFT_BEHIND", []).append(1)
        print(os.getpid(), seen, len(sys.modules["LEFT_BEHIND"]))
    """)
    header, trusted = sample_job(p, code, [t.input for t in p.tests])
    raw = run_sample(header, trusted, 4, FAST, ISO)
    rows = [base64.b64decode(t["stdout"]).decode().split() for t in raw.tests]
    assert [r[1:] for r in rows] == [["False", "1"]] * 4, rows
    assert len({r[0] for r in rows}) == 4, rows


def test_every_run_starts_from_a_fresh_random_seed():
    import base64

    from cskit.sandbox.grading import sample_job
    from cskit.sandbox.isolation import run_sample

    p = Problem("rnd", "r", "stdio", [TestCase("", "")] * 3)
    header, trusted = sample_job(p, "print(random.random(), randint(1, 10 ** 9))\n", ["", "", ""])
    outs = {base64.b64decode(t["stdout"]) for t in run_sample(header, trusted, 3, FAST, ISO).tests}
    outs |= {execute(Problem("r1", "r", "stdio", [TestCase("", "")]), "print(random.random(), randint(1, 10 ** 9))\n",
                     "", FAST).output.encode() for _ in range(2)}
    assert len(outs) == 5, outs


def test_call_kind_bad_arguments_load_errors_and_exceptions():
    bad = Problem("c/bad", "b", "call", [TestCase("[1, 2\n", "3")], entry_point="f")
    r = grade(bad, "def f(xs):\n    return 3\n", FAST)
    assert r.verdict == "runtime_error" and r.error_type == "BadTest"
    ok = Problem("c/ok", "o", "call", [TestCase("[1, 2]\n", "3")], entry_point="f")
    r = grade(ok, "raise KeyError('at import')\ndef f(xs):\n    return 3\n", FAST)
    assert r.verdict == "runtime_error" and r.error_type == "KeyError"
    r = grade(ok, "def f(xs):\n    return xs[5]\n", FAST)
    assert r.verdict == "runtime_error" and r.error_type == "IndexError"
    r = grade(ok, "def f(xs):\n    return (x for x in xs)\n", FAST)   # not plain data: it cannot equal 3
    assert not r.passed and r.verdict == "runtime_error"


def test_pinned_sandbox_runs_on_its_cpu(monkeypatch):
    """``pin_workers``: the whole sandbox, candidate runs included, on the worker's CPU."""
    import os

    from cskit.sandbox import SandboxWorker
    from cskit.sandbox.pool import usable_cpus, worker_cpus

    cpus = usable_cpus()
    p = Problem("aff", "a", "call", [TestCase("0\n", "[%d]" % cpus[-1])], entry_point="f")
    code = "import os\ndef f(x):\n    return sorted(os.sched_getaffinity(0))\n"
    with SandboxWorker(FAST, ISO, cpu=cpus[-1]) as w:
        assert grade(p, code, FAST, isolation=ISO, worker=w).passed
    free = Problem("aff2", "a", "call", [TestCase("0\n", json.dumps(sorted(os.sched_getaffinity(0))))],
                   entry_point="f")
    assert grade(free, code, FAST).passed  # a sandbox of its own (grade): not pinned
    n = len(cpus)
    assert worker_cpus(SandboxLimits(pin_workers=False), n) == [None] * n
    assert worker_cpus(SandboxLimits(pin_workers=True), n + 1) == [cpus[k % n] for k in range(n + 1)]
    assert worker_cpus(SandboxLimits(), n) == (cpus if n > 1 else [None])
    assert worker_cpus(SandboxLimits(), n + 1) == [None] * (n + 1)
    monkeypatch.setenv("CSKIT_SANDBOX_PIN", "0")
    assert worker_cpus(SandboxLimits(), n) == [None] * n
    monkeypatch.setenv("CSKIT_SANDBOX_PIN", "1")
    assert worker_cpus(SandboxLimits(), 1) == cpus[:1]
