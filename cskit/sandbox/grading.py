"""Grading: output comparison (LiveCodeBench-like), per-test verdicts, and ``grade`` / ``execute``.

Comparison rules
* stdio: lines compared after stripping each line and dropping trailing empty lines; when a line
  differs, it is split into whitespace tokens and tokens match if equal, or if both are numbers:
  integers exactly (``007 == 7``), otherwise ``math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)``.
* call: the harness returns ``json.dumps`` of the return value (tuples as lists); it is compared with
  the test's JSON ``output`` recursively: exact for ints, strings, bools (``true != 1``), float tolerance otherwise.
* assert: a test passes iff the setup + candidate + test program ran to completion without exception.
A test is graded only when the harness confirmed completion over its private result pipe (random
nonce): early exits, killed harnesses and crashes after correct output never pass.

Verdicts per test: ``passed, wrong_answer, timeout, runtime_error, memory, syntax_error,
output_limit, skipped`` (after a timeout, when ``SandboxLimits.skip_after_timeout``); per sample
also ``no_code`` and ``no_tests``. A sample's verdict is ``passed`` when every test passed, else the
verdict of its first failing test.
"""
from __future__ import annotations

import json
import math
import re
import signal
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

from cskit.sandbox.isolation import RawRun, SandboxError, resolve_isolation, run_job
from cskit.sandbox.limits import SandboxLimits

VERDICTS = ("passed", "wrong_answer", "timeout", "runtime_error", "memory", "syntax_error", "output_limit",
            "no_code", "no_tests", "skipped")
_NUM = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_INT = re.compile(r"^[+-]?\d+$")
REL_TOL = ABS_TOL = 1e-6


@dataclass
class TestResult:
    verdict: str
    time_s: float = 0.0
    error_type: str | None = None
    detail: str = ""

    __test__ = False


@dataclass
class GradeResult:
    verdict: str
    passed: bool
    n_passed: int
    n_tests: int
    tests: list[TestResult] = field(default_factory=list)
    time_s: float = 0.0
    error_type: str | None = None
    isolation: str = ""
    problem_id: str = ""

    @property
    def pass_fraction(self) -> float:
        return self.n_passed / self.n_tests if self.n_tests else 0.0

    @property
    def test_verdicts(self) -> list[str]:
        return [t.verdict for t in self.tests]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["pass_fraction"] = self.pass_fraction
        return d


@dataclass
class ExecResult:
    verdict: str            # ok, timeout, runtime_error, memory, syntax_error, output_limit, no_code
    output: str = ""
    stderr: str = ""
    exit_code: int | None = None
    time_s: float = 0.0
    truncated: bool = False
    error_type: str | None = None
    isolation: str = ""


# ---------------------------------------------------------------- comparison
def _tok_equal(a: str, b: str) -> bool:
    if a == b:
        return True
    if not (_NUM.match(a) and _NUM.match(b)):
        return False
    if _INT.match(a) and _INT.match(b):
        return int(a) == int(b)
    try:
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=ABS_TOL)
    except (ValueError, OverflowError):
        return False


def _lines(s: str) -> list[str]:
    lines = [ln.strip() for ln in s.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def compare_stdio(got: str, expected: str) -> bool:
    g, e = _lines(got), _lines(expected)
    if len(g) != len(e):
        return False
    for a, b in zip(g, e):
        if a == b:
            continue
        ta, tb = a.split(), b.split()
        if len(ta) != len(tb) or not all(_tok_equal(x, y) for x, y in zip(ta, tb)):
            return False
    return True


def _val_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_val_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_val_equal(a[k], b[k]) for k in a)
    return a == b


def compare_call(got_json: str, expected: str) -> bool:
    try:
        want = json.loads(expected)
    except ValueError:
        return got_json.strip() == expected.strip()
    try:
        got = json.loads(got_json)
    except ValueError:
        return False
    return _val_equal(got, want)


# ---------------------------------------------------------------- one run -> verdict
def _signal_name(rc: int | None) -> str | None:
    if rc is None:
        return None
    sig = -rc if rc < 0 else (rc - 128 if rc > 128 else 0)
    if sig <= 0:
        return None
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal{sig}"


def _run_verdict(raw: RawRun) -> tuple[str, str | None]:
    """(verdict, error_type) of a run ignoring the expected output; 'ok' when it completed cleanly."""
    if raw.output_exceeded:
        return "output_limit", None
    if raw.timed_out:
        return "timeout", None
    end = raw.end
    if end is None:
        sig = _signal_name(raw.returncode)
        if sig == "SIGXCPU":
            return "timeout", "SIGXCPU"
        if b"MemoryError" in raw.stderr[-4096:]:
            return "memory", "MemoryError"
        if sig:
            return "runtime_error", sig
        return "runtime_error", "EarlyExit" if raw.returncode == 0 else f"exit{raw.returncode}"
    status = end.get("status")
    if status == "ok":
        return "ok", None
    etype = end.get("error_type") or None
    if status == "syntax_error":
        return "syntax_error", etype
    if etype == "MemoryError":
        return "memory", etype
    return "runtime_error", etype


def _detail(raw: RawRun) -> str:
    err = raw.stderr.decode("utf-8", "replace").strip()
    return err[-300:]


def _job(problem, code: str, test_input: str) -> tuple[dict, bytes]:
    kind = problem.kind
    if kind == "stdio":
        return {"mode": "stdio", "code": code}, test_input.encode("utf-8")
    if kind == "call":
        return {"mode": "call", "code": code, "input": test_input, "entry_point": problem.entry_point}, b""
    if kind == "assert":
        return {"mode": "assert", "code": code, "input": test_input, "setup_code": problem.setup_code or ""}, b""
    raise ValueError(f"problem {problem.id!r} has kind {kind!r}; only stdio/call/assert can be executed")


def host_syntax_error(code: str) -> str | None:
    """Exception name if ``code`` does not compile (checked on the host: compiling runs nothing)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<solution>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError) as e:
        return type(e).__name__
    return None


def _run_with_retry(job: dict, stdin: bytes, limits: SandboxLimits, isolation: str) -> RawRun:
    """A sandbox that failed before the candidate started (e.g. start-up starved on a loaded host)
    is retried once; a second failure raises ``SandboxError`` (never graded as the candidate's fault)."""
    try:
        return run_job(job, stdin, limits, isolation)
    except SandboxError:
        time.sleep(0.5)
        return run_job(job, stdin, limits, isolation)


def run_test(problem, code: str, test, limits: SandboxLimits, isolation: str) -> TestResult:
    job, stdin = _job(problem, code, test.input)
    raw = _run_with_retry(job, stdin, limits, isolation)
    verdict, etype = _run_verdict(raw)
    t = round(raw.time_s, 4)
    if verdict != "ok":
        return TestResult(verdict, t, etype, _detail(raw) if verdict == "runtime_error" else "")
    if problem.kind == "stdio":
        got = raw.stdout.decode("utf-8", "replace")
        ok = compare_stdio(got, test.output)
        detail = "" if ok else f"expected {test.output[:80]!r}, got {got[:80]!r}"
    elif problem.kind == "call":
        got = raw.end.get("result") or ""
        ok = compare_call(got, test.output)
        detail = "" if ok else f"expected {test.output[:80]!r}, got {got[:80]!r}"
    else:
        ok, detail = True, ""
    return TestResult("passed" if ok else "wrong_answer", t, None, detail)


# ---------------------------------------------------------------- public API
def grade(problem, code: str, limits: SandboxLimits | None = None, *, isolation: str | None = None) -> GradeResult:
    """Run ``code`` on every test of ``problem`` in the sandbox and return its verdicts."""
    limits = (limits or SandboxLimits()).for_problem(getattr(problem, "time_limit", None))
    t0 = time.monotonic()
    pid = getattr(problem, "id", "")
    if not problem.has_tests:
        return GradeResult("no_tests", False, 0, 0, [], 0.0, None, "", pid)
    n = len(problem.tests)
    if not code or not code.strip():
        return GradeResult("no_code", False, 0, n, [TestResult("no_code") for _ in problem.tests], 0.0, None, "", pid)
    iso = isolation or resolve_isolation(limits)
    syn = host_syntax_error(code)
    if syn:
        tests = [TestResult("syntax_error", 0.0, syn) for _ in problem.tests]
        return GradeResult("syntax_error", False, 0, n, tests, round(time.monotonic() - t0, 4), syn, iso, pid)
    results: list[TestResult] = []
    stop = False
    for test in problem.tests:
        if stop:
            results.append(TestResult("skipped", 0.0, None, "skipped after an earlier timeout"))
            continue
        r = run_test(problem, code, test, limits, iso)
        results.append(r)
        if r.verdict == "timeout" and limits.skip_after_timeout:
            stop = True
    n_passed = sum(r.verdict == "passed" for r in results)
    first_bad = next((r for r in results if r.verdict != "passed"), None)
    verdict = "passed" if first_bad is None else first_bad.verdict
    return GradeResult(verdict, first_bad is None, n_passed, n, results, round(time.monotonic() - t0, 4),
                       first_bad.error_type if first_bad else None, iso, pid)


def execute(problem, code: str, test_input: str, limits: SandboxLimits | None = None, *,
            isolation: str | None = None) -> ExecResult:
    """Run ``code`` once on ``test_input`` the way ``problem.kind`` feeds it (stdin, or JSON args).

    ``output`` is the stdout (stdio/assert) or the JSON of the return value (call)."""
    limits = (limits or SandboxLimits()).for_problem(getattr(problem, "time_limit", None))
    if not code or not code.strip():
        return ExecResult("no_code")
    iso = isolation or resolve_isolation(limits)
    syn = host_syntax_error(code)
    if syn:
        return ExecResult("syntax_error", error_type=syn, isolation=iso)
    kind = problem.kind if problem.kind != "none" else "stdio"
    job, stdin = _job(_KindView(problem, kind), code, test_input)
    raw = _run_with_retry(job, stdin, limits, iso)
    verdict, etype = _run_verdict(raw)
    if kind == "call":
        output = (raw.end or {}).get("result") or "" if verdict == "ok" else ""
    else:
        output = raw.stdout.decode("utf-8", "replace")
    return ExecResult(verdict, output, raw.stderr.decode("utf-8", "replace"), raw.returncode,
                      round(raw.time_s, 4), raw.output_exceeded, etype, iso)


class _KindView:
    """A problem seen with another kind (``none`` problems execute as stdio programs)."""

    def __init__(self, problem, kind: str):
        self.kind, self.id = kind, getattr(problem, "id", "")
        self.entry_point = getattr(problem, "entry_point", "")
        self.setup_code = getattr(problem, "setup_code", "")
