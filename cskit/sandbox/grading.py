"""Grading: output comparison (LiveCodeBench-like), per-test verdicts, and ``grade`` / ``execute``.

Comparison rules
* stdio: lines compared after stripping each line and dropping trailing empty lines; when a line
  differs, it is split into whitespace tokens and tokens match if equal, or if both are numbers:
  integers exactly (``007 == 7``), otherwise ``math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)``.
* call: the trusted driver returns ``json.dumps`` of the decoded return value (tuples as lists); it
  is compared here with the test's JSON ``output`` recursively: exact for ints, strings, bools
  (``true != 1``), float tolerance otherwise. Expected outputs never leave the host.
* assert: a test passes iff setup + test program ran to completion in the driver, calling the
  candidate through proxies (or, flagged ``in_process``, in the candidate's interpreter).
A test is graded only from a validated supervisor message; anything malformed, duplicated or
missing is ``harness_error`` with the reason, never an exception on the host.

Verdicts per test: ``passed, wrong_answer, timeout, runtime_error, memory, syntax_error,
output_limit, skipped`` (after a timeout, when ``SandboxLimits.skip_after_timeout``),
``harness_error``; per sample also ``no_code`` and ``no_tests``. A sample's verdict is ``passed``
when every test passed, else the verdict of its first failing test.
"""
from __future__ import annotations

import ast
import base64
import json
import math
import re
import signal
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

from cskit.sandbox.isolation import RawSample, SandboxError, SandboxWorker, resolve_isolation, run_sample
from cskit.sandbox.limits import SandboxLimits

VERDICTS = ("passed", "wrong_answer", "timeout", "runtime_error", "memory", "syntax_error", "output_limit",
            "no_code", "no_tests", "skipped", "harness_error")
ISOLATION_LEVELS = ("process", "in_process")  # where a verdict was decided (see the package docstring)
_NUM = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_INT = re.compile(r"^[+-]?\d+$")
REL_TOL = ABS_TOL = 1e-6


@dataclass
class TestResult:
    verdict: str
    time_s: float = 0.0
    error_type: str | None = None
    detail: str = ""
    isolation_level: str = ""   # "process" (decided outside the candidate's interpreter) or "in_process"

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
    isolation_level: str = ""   # "in_process" when any test used the flagged fallback, else "process"

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


# ---------------------------------------------------------------- one sample's messages -> verdicts
def _signal_name(rc: int | None) -> str | None:
    if rc is None or isinstance(rc, bool) or not isinstance(rc, int):
        return None
    sig = -rc if rc < 0 else (rc - 128 if rc > 128 else 0)
    if sig <= 0:
        return None
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal{sig}"


def _tail(s: str, n: int = 300) -> str:
    return (s or "").strip()[-n:]


def _run_verdict(res: dict) -> tuple[str, str | None, str]:
    """(verdict, error_type, detail) of one validated test message, ignoring the expected output;
    verdict 'ok' when the run completed cleanly."""
    status, etype = res.get("status"), res.get("etype") or None
    stderr, rc = res.get("stderr", ""), res.get("rc")
    sig = _signal_name(rc)
    if status == "timeout":
        return "timeout", None, res.get("detail", "")
    if status == "output_limit":
        return "output_limit", None, ""
    if status == "harness_error":
        return "harness_error", etype, res.get("detail", "") or "the sandbox reported a harness error"
    if status == "exited" or (status == "error" and etype == "EarlyExit"):
        if sig == "SIGXCPU":
            return "timeout", "SIGXCPU", ""
        if "MemoryError" in stderr[-4096:]:
            return "memory", "MemoryError", ""
        if sig and sig != "SIGKILL" or (sig == "SIGKILL" and status == "exited"):
            return "runtime_error", sig, _tail(stderr)
        return "runtime_error", "EarlyExit" if rc in (0, None) or status == "error" else f"exit{rc}", _tail(stderr)
    if status == "syntax_error":
        return "syntax_error", etype, ""
    if status == "bad_test":
        return "runtime_error", etype or "BadTest", res.get("detail", "")
    if status == "ok":
        return "ok", None, ""
    if etype == "MemoryError":
        return "memory", etype, ""
    detail = _tail(stderr) or _tail(res.get("detail", ""))
    return "runtime_error", etype, detail


def _test_result(kind: str, res: dict, expected: str) -> TestResult:
    verdict, etype, detail = _run_verdict(res)
    t = round(float(res.get("time_s", 0.0)), 4)
    level = res.get("level", "") if res.get("level") in ISOLATION_LEVELS else ""
    if verdict != "ok":
        return TestResult(verdict, t, etype, detail, level)
    if kind == "stdio":
        got = base64.b64decode(res.get("stdout", ""), validate=True).decode("utf-8", "replace")
        ok = compare_stdio(got, expected)
        detail = "" if ok else f"expected {expected[:80]!r}, got {got[:80]!r}"
    elif kind == "call":
        got = res.get("result")
        if not isinstance(got, str):
            return TestResult("harness_error", t, "NoResult", "the driver reported no return value", level)
        ok = compare_call(got, expected)
        detail = "" if ok else f"expected {expected[:80]!r}, got {got[:80]!r}"
    else:
        ok, detail = True, ""
    return TestResult("passed" if ok else "wrong_answer", t, None, detail, level)


def results_from_raw(problem, raw: RawSample, limits: SandboxLimits) -> list[TestResult]:
    out: list[TestResult] = []
    stop = False
    for i, test in enumerate(problem.tests):
        res = raw.tests[i] if i < len(raw.tests) else None
        if i in raw.errors:
            out.append(TestResult("harness_error", 0.0, "BadResult", raw.errors[i]))
        elif res is None:
            if stop:
                out.append(TestResult("skipped", 0.0, None, "skipped after an earlier timeout"))
            else:
                why = raw.fatal or "the sandbox sent no result for this test"
                out.append(TestResult("harness_error", 0.0, "NoResult", why[:300]))
        else:
            try:
                out.append(_test_result(problem.kind, res, test.output))
            except Exception as e:  # the host never fails on what a sandbox sends
                out.append(TestResult("harness_error", 0.0, "BadResult", f"undecodable result: {type(e).__name__}"))
        if out[-1].verdict == "timeout" and limits.skip_after_timeout:
            stop = True
    return out


def setup_imports(setup_code: str) -> str:
    """The import statements of a problem's setup code: run in the candidate's process after its own
    code, so that names the setup imports are visible to it as in ``code, setup, tests`` order."""
    try:
        tree = ast.parse(setup_code or "")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ""
    keep = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    return ast.unparse(ast.Module(body=keep, type_ignores=[])) if keep else ""


def sample_job(problem, code: str, inputs: list[str], want_stdout: bool = False) -> tuple[dict, dict]:
    """(header, trusted) of one sample: the header is all the candidate's side is forked from (no
    test data); the trusted half holds the test inputs/programs, setup code and the problem's helpers."""
    kind = problem.kind
    if kind not in ("stdio", "call", "assert"):
        raise ValueError(f"problem {getattr(problem, 'id', '')!r} has kind {kind!r}; "
                         "only stdio/call/assert can be executed")
    setup = getattr(problem, "setup_code", "") or ""
    header = {"mode": kind, "code": code, "entry_point": getattr(problem, "entry_point", "") or "",
              "want_stdout": want_stdout}
    if kind == "assert":
        header["setup_imports"] = setup_imports(setup)
    trusted = {"tests": list(inputs), "setup_code": setup if kind == "assert" else "",
               "starter_code": (getattr(problem, "starter_code", "") or "") if kind == "assert" else ""}
    return header, trusted


def host_syntax_error(code: str) -> str | None:
    """Exception name if ``code`` does not compile (checked on the host: compiling runs nothing)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<solution>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError) as e:
        return type(e).__name__
    return None


def _run_with_retry(header: dict, trusted: dict, n: int, limits: SandboxLimits, isolation: str,
                    worker: SandboxWorker | None = None) -> RawSample:
    """A sandbox that failed before the candidate started (e.g. start-up starved on a loaded host)
    is retried once (a worker restarts); a second failure raises ``SandboxError`` (never graded as the
    candidate's fault)."""
    try:
        return run_sample(header, trusted, n, limits, isolation, worker)
    except SandboxError:
        time.sleep(0.5)
        return run_sample(header, trusted, n, limits, isolation, worker)


def _level(results: list[TestResult]) -> str:
    levels = {r.isolation_level for r in results}
    return "in_process" if "in_process" in levels else ("process" if "process" in levels else "")


def verdict_summary(results) -> dict:
    """Counts a stage reports with its grades: samples, passes, verdicts, and how many verdicts used the
    in-process fallback (``isolation_level == "in_process"``) or ended in ``harness_error``."""
    results = list(results)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    return {"n": len(results), "passed": counts.get("passed", 0), "verdicts": counts,
            "in_process": sum(getattr(r, "isolation_level", "") == "in_process" for r in results),
            "harness_error": counts.get("harness_error", 0)}


# ---------------------------------------------------------------- public API
def grade(problem, code: str, limits: SandboxLimits | None = None, *, isolation: str | None = None,
          worker: SandboxWorker | None = None) -> GradeResult:
    """Run ``code`` on every test of ``problem`` in one sandbox (``worker``'s, when given: batches reuse
    one warm sandbox per thread) and return its verdicts."""
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
    header, trusted = sample_job(problem, code, [t.input for t in problem.tests])
    raw = _run_with_retry(header, trusted, n, limits, iso, worker)
    results = results_from_raw(problem, raw, limits)
    n_passed = sum(r.verdict == "passed" for r in results)
    first_bad = next((r for r in results if r.verdict != "passed"), None)
    verdict = "passed" if first_bad is None else first_bad.verdict
    return GradeResult(verdict, first_bad is None, n_passed, n, results, round(time.monotonic() - t0, 4),
                       first_bad.error_type if first_bad else None, iso, pid, _level(results))


def execute(problem, code: str, test_input: str, limits: SandboxLimits | None = None, *,
            isolation: str | None = None) -> ExecResult:
    """Run ``code`` once on ``test_input`` the way ``problem.kind`` feeds it (stdin, JSON args, or an
    assert-kind test program). ``output`` is the stdout (stdio/assert) or the JSON of the return
    value (call)."""
    limits = (limits or SandboxLimits()).for_problem(getattr(problem, "time_limit", None))
    if not code or not code.strip():
        return ExecResult("no_code")
    iso = isolation or resolve_isolation(limits)
    syn = host_syntax_error(code)
    if syn:
        return ExecResult("syntax_error", error_type=syn, isolation=iso)
    kind = problem.kind if problem.kind != "none" else "stdio"
    header, trusted = sample_job(_KindView(problem, kind), code, [test_input], want_stdout=True)
    raw = _run_with_retry(header, trusted, 1, limits, iso)
    res = raw.tests[0]
    if res is None:
        why = raw.errors.get(0) or raw.fatal or "the sandbox sent no result"
        return ExecResult("harness_error", "", why + "\n" + raw.stderr.decode("utf-8", "replace"), raw.returncode,
                          0.0, False, "NoResult", iso)
    verdict, etype, _ = _run_verdict(res)
    try:
        stdout = base64.b64decode(res.get("stdout", ""), validate=True).decode("utf-8", "replace")
    except ValueError:
        stdout = ""
    output = ((res.get("result") or "") if verdict == "ok" else "") if kind == "call" else stdout
    rc = res.get("rc")
    return ExecResult(verdict, output, res.get("stderr", ""), rc, round(float(res.get("time_s", 0.0)), 4),
                      verdict == "output_limit", etype, iso)


class _KindView:
    """A problem seen with another kind (``none`` problems execute as stdio programs)."""

    def __init__(self, problem, kind: str):
        self.kind, self.id = kind, getattr(problem, "id", "")
        self.entry_point = getattr(problem, "entry_point", "")
        self.setup_code = getattr(problem, "setup_code", "")
        self.starter_code = getattr(problem, "starter_code", "")
