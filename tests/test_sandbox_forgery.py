"""Verdicts a candidate cannot forge: one adversarial test per class (tampering with the interpreter in
which the verdict is computed, reading the test's expected values, forging the result channel,
reaching the driver's process, crashing the host's decoder), including each example the forgery report named.

Every test here is a real attack whose success would be a *pass*; each must end in a failing verdict
(or, for the probes, in a pass that proves the attack was blocked).
"""
from __future__ import annotations

import base64
import json
import textwrap
import uuid

import pytest

from cskit.problems import Problem, TestCase
from cskit.sandbox import SandboxLimits, grade, grade_many
from cskit.sandbox.codec import CodecError, decode, encode
from cskit.sandbox.grading import results_from_raw
from cskit.sandbox.isolation import RawSample, validate_result

FAST = SandboxLimits(timeout_s=3.0, allow_unisolated=True)
D = textwrap.dedent

HE = Problem("he/add", "add", "assert", [TestCase(D("""
    METADATA = {}
    def check(candidate):
        assert candidate(2, 3) == 5
        assert abs(candidate(0.1, 0.2) - 0.3) < 1e-9
        assert candidate(-1, 1) == 0
    check(add)
    """))], entry_point="add", starter_code="def add(a, b):\n    \"\"\"a + b\"\"\"\n")
MBPP = Problem("mbpp/x", "rev", "assert", [TestCase("assert rev('abc') == 'cba'\n"), TestCase("assert rev('') == ''\n")],
               entry_point="rev", setup_code="import math")
CALL = Problem("call/x", "sum", "call", [TestCase("[1, 2]\n", "3"), TestCase("[5]\n", "5")], entry_point="total")


# every process's memory/cmdline/environ this uid may read, searched for the secret (indented for a function body)
PROC_SCAN = D("""
    for pid in os.listdir("/proc"):
        for what in ("cmdline", "environ", "mem"):
            try:
                data = open(f"/proc/{pid}/{what}", "rb").read(1 << 20)
            except Exception:
                continue
            if b"SECRET-" in data:
                i = data.index(b"SECRET-")
                return data[i:i + 39].decode()
""")


def with_proc_scan(src):
    """``src`` with its ``{PROC_SCAN}`` line replaced by the /proc search, at that line's indentation."""
    lines = []
    for line in src.split("\n"):
        if line.strip() == "{PROC_SCAN}":
            pad = line[:len(line) - len(line.lstrip())]
            lines += [pad + x for x in PROC_SCAN.rstrip("\n").split("\n")]
        else:
            lines.append(line)
    return "\n".join(lines)


def fails(problem, code):
    r = grade(problem, D(code), FAST)
    assert not r.passed and r.n_passed == 0, (r.verdict, [(t.verdict, t.error_type, t.detail) for t in r.tests])
    return r


def test_honest_solutions_pass():
    assert grade(HE, "def add(a, b):\n    return a + b\n", FAST).passed
    assert grade(MBPP, "def rev(s):\n    return s[::-1]\n", FAST).passed
    assert grade(CALL, "def total(xs):\n    return sum(xs)\n", FAST).passed


# ------------------------------------------------------------------ the interpreter that decides the verdict
@pytest.mark.parametrize("code", [
    # issue example 1: the harness's own exec of the test program becomes a no-op
    "import builtins\nbuiltins.exec = lambda *a, **k: None\n",
    # issue example 5: compile the test program into nothing
    """
    import builtins
    _compile = builtins.compile
    builtins.compile = lambda src, fn, *a, **k: _compile("pass", fn, "exec") if fn != "<solution>" else _compile(src, fn, *a, **k)
    def add(a, b):
        return 0
    """,
    # same class: neuter AssertionError / assert machinery, patch the result encoder, the exit path
    "import builtins\nbuiltins.AssertionError = type('AE', (BaseException,), {})\ndef add(a, b):\n    return 0\n",
    "import json\njson.dumps = lambda *a, **k: '{\"status\": \"ok\"}'\njson.loads = lambda *a, **k: {}\ndef add(a, b):\n    return 0\n",
    "import sys\nsys.excepthook = lambda *a: None\nsys.settrace(lambda *a: None)\ndef add(a, b):\n    return 0\n",
    "import os\nos._exit = lambda *a: None\ndef add(a, b):\n    return 0\n",
])
def test_patching_the_interpreter_does_not_reach_the_verdict(code):
    fails(HE, code)


@pytest.mark.parametrize("code", [
    # issue example 2: __eq__ always true, with __sub__/__abs__/__lt__ so tolerance asserts hold too
    """
    class Yes:
        def __eq__(self, o): return True
        def __ne__(self, o): return False
        def __sub__(self, o): return self
        def __rsub__(self, o): return self
        def __abs__(self): return self
        def __lt__(self, o): return True
        def __gt__(self, o): return True
        def __bool__(self): return True
        def __hash__(self): return 0
    def add(a, b):
        return Yes()
    """,
    # same class, disguised as plain types: subclasses with a lying __eq__ travel as their base value
    """
    class I(int):
        def __eq__(self, o): return True
        __hash__ = int.__hash__
    class F(float):
        def __sub__(self, o): return F(0.0)
        def __eq__(self, o): return True
        __hash__ = float.__hash__
    def add(a, b):
        return F(7.5) if isinstance(a, float) else I(7)
    """,
    # lying __class__
    """
    class Fake:
        __class__ = int
        def __eq__(self, o): return True
    def add(a, b):
        return Fake()
    """,
])
def test_candidate_objects_never_reach_the_comparison(code):
    fails(HE, code)


def test_exceptions_the_test_catches_still_fail():
    t = Problem("t", "t", "assert", [TestCase(D("""
        try:
            assert f(1) == 2
        except Exception:
            pass
        """))], entry_point="f")
    # dies, or breaks the protocol: the failure is sticky though the test catches errors
    fails(t, "import os\ndef f(x):\n    os._exit(0)\n")
    fails(t, "import os\ndef f(x):\n    os.write(3, b'\\x00\\x00\\x00\\x02[]')\n    return 2\n")


def test_non_plain_returns_are_opaque_truth_values():
    """An ``re.Match`` (MBPP 737/787/794 return one) passes ``assert f(x)`` as in-process; an opaque value
    equals nothing and supports no arithmetic, so it cannot stand in for an expected value."""
    t = Problem("m", "m", "assert", [TestCase("assert f('annie')\n"), TestCase("assert not f('dawood')\n")],
                entry_point="f")
    assert grade(t, "import re\ndef f(s):\n    return re.search('^[aeiou]', s)\n", FAST).passed
    fails(HE, "def add(a, b):\n    return iter([a + b])\n")


# ------------------------------------------------------------------ expected values never enter the candidate
def test_test_constants_are_not_in_the_candidates_process():
    secret = "SECRET-" + uuid.uuid4().hex
    p = Problem("s", "s", "assert", [TestCase(f"assert f() == {secret!r}\n")], entry_point="f")
    # issue example 4: a constant read from the test's code object, plus a search of the whole heap and of
    # every process's memory/cmdline/environ that this uid may read
    fails(p, with_proc_scan("""
        import gc, os, sys
        def f():
            try:
                for c in sys._getframe(1).f_code.co_consts:
                    if isinstance(c, str) and c.startswith("SECRET-"):
                        return c
            except Exception:
                pass
            for o in gc.get_objects():
                try:
                    for v in (vars(o).values() if hasattr(o, "__dict__") else [o]):
                        if isinstance(v, str) and "SECRET-" in v:
                            i = v.index("SECRET-")
                            return v[i:i + 39]
                except Exception:
                    pass
            {PROC_SCAN}
            return None
    """))


def test_call_kind_expected_values_are_not_in_the_candidates_process():
    """Call kind: the candidate's process gets the arguments only; the return value is compared outside it."""
    secret = "SECRET-" + uuid.uuid4().hex
    p = Problem("c/s", "s", "call", [TestCase("1\n", json.dumps(secret))], entry_point="f")
    fails(p, with_proc_scan("""
        import gc, os
        def f(x):
            for o in gc.get_objects():
                if isinstance(o, (str, bytes)) and ("SECRET-" in o if isinstance(o, str) else b"SECRET-" in o):
                    return o
            for fd in range(64):
                try:
                    data = os.pread(fd, 1 << 20, 0)
                except OSError:
                    continue
                if b"SECRET-" in data:
                    return data.decode(errors="replace")
            {PROC_SCAN}
            return None
    """))


@pytest.mark.parametrize("code", [
    # forge the outcome frame on descriptor 3 (before the real one): a stream with two frames is no result
    """
    import os
    body = b'["d","t","ret","v",3]'
    os.write(3, len(body).to_bytes(4, "big") + body)
    def total(xs):
        return 0
    """,
    # the right answer as a frame, then an exception: the wrapper's frame follows, and two frames are no result
    """
    import os
    def total(xs):
        body = ('["d","t","ret","v",%d]' % sum(xs)).encode()
        os.write(3, len(body).to_bytes(4, "big") + body)
        raise ValueError("after the answer")
    """,
])
def test_call_kind_result_channel_cannot_be_forged_into_a_pass(code):
    fails(CALL, code)


def test_patching_json_at_import_changes_neither_call_arguments_nor_verdict():
    # the arguments are parsed before candidate code runs, the outcome is encoded and decoded by code bound earlier
    code = "import json, builtins\njson.loads = lambda *a, **k: [100]\nbuiltins.sum = lambda *a: 7\n" \
           "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n"
    r = grade(CALL, code, FAST)
    assert r.passed, [(t.verdict, t.error_type, t.detail) for t in r.tests]


# ------------------------------------------------------------------ the result channel
@pytest.mark.parametrize("code", [
    # issue example 3: forge the harness's result message, then leave
    "import sys, os\nsys._getframe(1).f_locals['send']('end', 'ok')\nos._exit(0)\n",
    # same class: write fake result lines to every descriptor, then exit 0
    """
    import os
    for fd in range(256):
        for line in (b'{"event": "end", "status": "ok"}\\n', b'{"event": "test", "i": 0, "status": "ok"}\\n'):
            try:
                os.write(fd, line)
            except OSError:
                pass
    os._exit(0)
    """,
    # walk the frames of the process for anything that looks like a sender, call it, exit
    """
    import sys, os
    f = sys._getframe()
    while f is not None:
        for v in list(f.f_locals.values()) + list(f.f_globals.values()):
            if callable(v) and getattr(v, "__name__", "") in ("send", "reply", "host", "send_frame"):
                try:
                    v({"t": "ret", "v": 5})
                except Exception:
                    pass
        f = f.f_back
    os._exit(0)
    """,
])
def test_forged_results_never_pass(code):
    fails(HE, code)


def test_driver_cannot_be_signalled_traced_or_read():
    """A probe that tries to kill, ptrace and read every process that is not its own uid; the test
    passes only when nothing worked (and the probe itself ran)."""
    probe = Problem("probe", "p", "assert", [TestCase("assert probe() == 0\n")], entry_point="probe")
    r = grade(probe, D("""
        import ctypes, os, signal
        def probe():
            me, hits, seen = os.getuid(), 0, 0
            libc = ctypes.CDLL(None, use_errno=True)
            for p in os.listdir("/proc"):
                if not p.isdigit() or int(p) == os.getpid():
                    continue
                try:
                    if os.stat(f"/proc/{p}").st_uid == me:
                        continue
                except OSError:
                    continue
                seen += 1
                try:
                    os.kill(int(p), signal.SIGSTOP); hits += 1
                except OSError:
                    pass
                if libc.ptrace(16, int(p), 0, 0) == 0:  # PTRACE_ATTACH
                    hits += 1
                for what in ("mem", "environ", "fd"):
                    try:
                        (os.listdir if what == "fd" else lambda q: open(q, "rb").read(64))(f"/proc/{p}/{what}")
                        hits += 1
                    except OSError:
                        pass
            return hits if seen else -1
    """), FAST)
    if r.isolation == "none":
        pytest.skip("no private uids without namespaces")
    assert r.passed, [(t.verdict, t.error_type, t.detail) for t in r.tests]


# ------------------------------------------------------------------ the host's decoder
def test_json_patch_in_call_candidate_does_not_abort_the_batch():
    # issue example 6: used to raise TypeError on the host while decoding the result
    good = "import json\njson.dumps = lambda v, *a, **k: '9'\ndef total(xs):\n    return sum(xs)\n"
    bad = "import json\njson.dumps = lambda v, *a, **k: '9'\ndef total(xs):\n    return 9\n"
    res = grade_many([(CALL, good), (CALL, bad), (CALL, "def total(xs):\n    return sum(xs)\n")], FAST,
                     workers=2, progress=False)
    assert [r.verdict for r in res] == ["passed", "wrong_answer", "passed"]


@pytest.mark.parametrize("code", [
    "def total(xs):\n    x = []\n    for _ in range(5000):\n        x = [x]\n    return x\n",          # too deep
    "def total(xs):\n    return {1, 2}\n",                                                          # not JSON
    "def total(xs):\n    return b'\\xff'\n",
    "def total(xs):\n    return lambda: 3\n",
    "import sys\ndef total(xs):\n    sys.stdout.write('{\"nonce\": 1}\\n' * 1000)\n    return 2\n",
    "import os\ndef total(xs):\n    os.write(3, b'\\x00\\x00\\x00\\x05garbage' * 3)\n    return sum(xs)\n",
    "import os\ndef total(xs):\n    os.write(3, b'\\xff\\xff\\xff\\xff')\n    os._exit(0)\n",
])
def test_hostile_return_values_get_a_verdict(code):
    r = grade(CALL, code, FAST)
    assert not r.passed and r.verdict in ("runtime_error", "wrong_answer", "harness_error", "output_limit"), r.verdict


def test_oversized_return_value_is_output_limit():
    lim = SandboxLimits(timeout_s=5.0, allow_unisolated=True, max_output_bytes=1 << 16)
    r = grade(CALL, "def total(xs):\n    return 'x' * (1 << 17)\n", lim)
    assert r.verdict == "output_limit", [(t.verdict, t.error_type, t.detail) for t in r.tests]


def test_host_validates_every_result():
    """Malformed, forged, duplicated or missing supervisor messages become harness_error, one per test."""
    p = Problem("p", "s", "stdio", [TestCase("", "1\n")] * 5)
    ok = {"status": "ok", "stdout": base64.b64encode(b"1\n").decode(), "time_s": 0.1, "level": "process"}
    raw = RawSample(tests=[ok, None, {"status": "ok", "stdout": "%%%"}, {"status": "ok", "stdout": "AA=="}, None],
                    errors={4: "duplicated result for this test"})
    res = results_from_raw(p, raw, FAST)
    assert [r.verdict for r in res] == ["passed", "harness_error", "harness_error", "wrong_answer", "harness_error"]
    assert validate_result({"status": "ok", "time_s": "fast"})[0] is None
    assert validate_result({"status": "pwned"})[0] is None
    assert validate_result({"status": "ok", "rc": True})[0] is None
    assert validate_result({"status": "ok", "result": 3})[0] is None


# ------------------------------------------------------------------ the codec
def test_codec_round_trips_plain_data_only():
    v = [None, True, 1, -2 ** 80, 1.5, float("inf"), 2j, "é\ud800", b"\x00", (1, (2,)), {"a": {1, 2}},
         frozenset({3}), {(1, 2): [3]}]
    got = decode(encode(v))
    assert got[:6] == v[:6] and got[7:] == v[7:] and got[6] == 2j
    assert type(got[9]) is tuple and type(got[10]["a"]) is set
    from collections import Counter, OrderedDict, namedtuple

    P = namedtuple("P", "x y")
    assert decode(encode([P(1, 2), Counter("aa"), OrderedDict(b=1)])) == [(1, 2), {"a": 2}, {"b": 1}]
    for bad in ('{"a": 1}', '["zz", 1]', '["d", 1]', '["s", ["l", 1]]', "[" * 5000, '["I", "xyz"]', "12" * 3000,
                b"\xff", 10 ** 20, '["b", "zz"]'):
        with pytest.raises(CodecError):
            decode(bad if not isinstance(bad, int) else str(bad))
    assert decode(encode([int, str, frozenset])) == [int, str, frozenset]
    for bad in ('["T", "object"]', '["T", "type"]', '["T", "Node"]'):
        with pytest.raises(CodecError):
            decode(bad)
    with pytest.raises(CodecError):
        encode(object())
    with pytest.raises(CodecError):
        encode(object)
    with pytest.raises(CodecError):
        decode("[" + '"l",' * 10 + "1" + "]" * 10, max_bytes=8)


def test_a_sandbox_failure_is_that_samples_verdict(monkeypatch):
    import cskit.sandbox.isolation as iso

    orig = iso.SandboxWorker.run

    def run(self, header, trusted, n, limits):
        if "BREAK" in header["code"]:
            self.close()
            raise iso.SandboxError("boom")
        return orig(self, header, trusted, n, limits)

    monkeypatch.setattr(iso.SandboxWorker, "run", run)
    ok = "def total(xs):\n    return sum(xs)\n"
    res = grade_many([(CALL, ok), (CALL, "# BREAK\n" + ok), (CALL, ok)], FAST, workers=1, progress=False)
    assert [r.verdict for r in res] == ["passed", "harness_error", "passed"]
    assert "boom" in res[1].tests[0].detail
