"""In-sandbox, trusted side: the test driver of assert-kind tests (HumanEval, MBPP). Call-kind tests need
no driver: their arguments are plain data, the candidate's process reports the return value as a codec
frame and the supervisor decodes it (``candidate.run_call``, ``outcomes.call_outcome``).

Shipped into the sandbox with the other ``isolation.SHIPPED`` files (one namespace, stdlib
only). The supervisor forks one driver per sandbox (again after a test that had to be killed), under a
uid of its own (not the candidate's), in a process in which candidate code never ran; it runs the
samples' tests one after another, each in fresh globals, each with a fresh candidate process. The
driver holds the test program -- HumanEval's ``check``, MBPP's asserts and ``test_setup_code``, the
problem's own helpers (the top-level code of its starter code other than the entry point, e.g.
HumanEval/32's ``poly``) -- and reaches the candidate only through :class:`CandidateFunction` proxies
that send plain data over a socket to the candidate's process (``candidate.serve``) and decode the
answer with the codec.

Guaranteed: the verdict is computed in this interpreter, which the candidate cannot patch, trace,
signal or read (other uid; only codec-decoded plain data arrives: no candidate object, type or
code). A return value compared with ``==`` or used in ``abs(f(x) - y) < tol`` is a real ``int``,
``float``, ``list``...; exceptions the candidate raises arrive as the nearest built-in exception
class; a return value that is not plain data arrives as an :class:`OpaqueValue` (its truth value
only, equal to nothing else). A candidate that dies, hangs up or answers garbage fails the test even
when the test program catches the exception (the failure is sticky).

The in-process fallback (``NeedsInProcess``): when the test program refers to a name the candidate
defines as a class or other non-data object (MBPP 367/927 build instances of the solution's
``Node`` class in their setup code), or passes the candidate something that is not plain data, the
test is re-run by the supervisor in the candidate's own interpreter and flagged ``in_process``.
The candidate cannot trigger this for a test that does not refer to such names.

Not guaranteed: identity/aliasing and argument mutation are not visible across the boundary
(``f(xs) is xs``; a function that sorts its argument in place and returns None).
"""
import ast
import builtins
import os
import socket

BUILTIN_NAMES = frozenset(dir(builtins))
PASSTHROUGH_EXCEPTIONS = ("SystemExit", "KeyboardInterrupt", "GeneratorExit")


class CandidateFailure(BaseException):
    """The candidate process died, hung up, broke the protocol or returned non-plain data. A
    ``BaseException`` so that ``except Exception`` in a test program cannot turn it into a pass."""

    def __init__(self, etype, detail="", verdict="runtime_error"):
        BaseException.__init__(self, detail or etype)
        self.etype, self.detail, self.verdict = etype, detail, verdict


class NeedsInProcess(BaseException):
    """This test needs candidate-defined objects: run it with the in-process fallback."""


class BadTest(Exception):
    """The test's own data is malformed (not the candidate's fault)."""


def candidate_exception(etype, mro):
    """The exception to raise in the test program for one the candidate raised: the first built-in
    ``Exception`` class in its MRO (nothing of the candidate's is constructed)."""
    if etype in PASSTHROUGH_EXCEPTIONS:
        return CandidateFailure(etype, "the candidate raised %s" % etype)
    for n in (mro if isinstance(mro, list) else []):
        cls = getattr(builtins, n, None) if isinstance(n, str) else None
        if isinstance(cls, type) and issubclass(cls, Exception):
            for args in (("raised by the candidate: %s" % etype,), ()):
                try:
                    e = cls(*args)
                    e.candidate_etype = etype
                    return e
                except Exception:
                    continue
    e = Exception("raised by the candidate: %s" % etype)
    e.candidate_etype = etype
    return e


class Channel:
    """The driver's end of the socket to the candidate's process."""

    def __init__(self, sock, max_bytes):
        self.sock, self.max_bytes = sock, max_bytes
        self.failure = None
        self.needs_inproc = None

    def fail(self, etype, detail, verdict="runtime_error"):
        if self.failure is None:
            self.failure = CandidateFailure(etype, detail, verdict)
        raise self.failure

    def receive(self):
        try:
            raw = recv_frame(self.sock.recv, self.max_bytes)  # noqa: F821 - codec.py, same namespace
        except CodecError as e:  # noqa: F821
            if "too large" in str(e):
                self.fail("OutputLimit", "the candidate's reply exceeds %d bytes" % self.max_bytes, "output_limit")
            self.fail("ProtocolError", "cut reply from the candidate: %s" % e, "harness_error")
        except OSError as e:
            self.fail("EarlyExit", "candidate connection lost: %s" % type(e).__name__)
        if raw is None:
            self.fail("EarlyExit", "the candidate's process ended before answering")
        try:
            msg = decode(raw, self.max_bytes)  # noqa: F821
        except CodecError as e:  # noqa: F821
            self.fail("ProtocolError", "malformed reply from the candidate: %s" % e, "harness_error")
        if type(msg) is not dict or type(msg.get("t")) is not str:
            self.fail("ProtocolError", "reply from the candidate is not a message", "harness_error")
        return msg

    def send(self, msg):
        if self.failure is not None:
            raise self.failure
        try:
            payload = encode(msg).encode()  # noqa: F821
        except CodecError as e:  # noqa: F821 - the *test* passed something that is not plain data
            self.needs_inproc = "argument is not plain data (%s)" % e
            raise NeedsInProcess(self.needs_inproc)
        try:
            send_frame(self.sock.sendall, payload)  # noqa: F821
        except OSError as e:
            self.fail("EarlyExit", "candidate connection lost: %s" % type(e).__name__)

    def first(self):
        """The candidate's load report: returns on ``loaded``, raises what its module raised."""
        msg = self.receive()
        if msg["t"] == "loaded":
            return
        if msg["t"] == "load_error":
            raise candidate_exception(str(msg.get("etype", "Exception"))[:80], msg.get("mro"))
        self.fail("ProtocolError", "unexpected first message from the candidate", "harness_error")

    def request(self, msg, want):
        self.send(msg)
        reply = self.receive()
        t = reply["t"]
        if t == want:
            return reply
        if t == "exc":
            raise candidate_exception(str(reply.get("etype", "Exception"))[:80], reply.get("mro"))
        if t == "opaque" and want == "ret":
            truth = reply.get("truth")
            return {"t": "ret", "v": OpaqueValue(str(reply.get("type", "object"))[:60],
                                                 truth if type(truth) is bool else None)}
        if t == "unencodable":
            self.fail("UnencodableValue", "the candidate returned a %s, which is not plain data"
                      % str(reply.get("type", "value"))[:60])
        self.fail("ProtocolError", "unexpected reply from the candidate", "harness_error")

    def call(self, name, args, kwargs):
        r = self.request({"t": "call", "name": name, "args": list(args), "kwargs": dict(kwargs)}, "ret")
        if "v" not in r:
            self.fail("ProtocolError", "reply without a value", "harness_error")
        return r["v"]

    def describe(self, names):
        tags = self.request({"t": "describe", "names": list(names)}, "tags").get("tags")
        if type(tags) is not dict:
            self.fail("ProtocolError", "bad describe reply", "harness_error")
        return {n: (tags.get(n) if type(tags.get(n)) is str else "absent") for n in names}

    def get(self, name):
        r = self.request({"t": "get", "name": name}, "ret")
        return r.get("v")


class OpaqueValue:
    """What the test sees for a return value that is not plain data (an ``re.Match``, a generator):
    its truth value, as the candidate's process computed it (``assert f(x)`` / ``assert not f(x)``
    work as in-process), and nothing else -- it equals only itself, supports no arithmetic, no
    ordering, no iteration. Its truth value gives the candidate nothing a returned ``True`` would not."""

    __slots__ = ("type_name", "truth")

    def __init__(self, type_name, truth):
        self.type_name, self.truth = type_name, truth

    def __bool__(self):
        if self.truth is None:
            raise TypeError("the candidate's %s object has no truth value" % self.type_name)
        return self.truth

    def __repr__(self):
        return "<candidate %s object>" % self.type_name


class CandidateFunction:
    """A proxy for one of the candidate's functions: plain data in, plain data out."""

    __slots__ = ("channel", "name")

    def __init__(self, channel, name):
        self.channel, self.name = channel, name

    def __call__(self, *args, **kwargs):
        return self.channel.call(self.name, args, kwargs)

    @property
    def __name__(self):
        return self.name

    def __repr__(self):
        return "<candidate function %s>" % self.name


def names_of(src):
    """(names read, names bound) anywhere in ``src`` (empty sets when it does not parse)."""
    loaded, bound = set(), set()
    try:
        tree = ast.parse(src)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return loaded, bound
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                bound.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return loaded, bound


def helpers_source(starter_code, entry_point):
    """The problem's own trusted helpers: the top-level statements of its starter code other than the
    entry point's definition (and ``class Solution``); "" when the starter code does not parse."""
    try:
        tree = ast.parse(starter_code or "")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ""
    keep = [n for n in tree.body if not (isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                                         and n.name in (entry_point, "Solution"))]
    return ast.unparse(ast.Module(body=keep, type_ignores=[])) if keep else ""


def norm(v):
    """LiveCodeBench's rule: tuples count as lists."""
    if isinstance(v, (tuple, list)):
        return [norm(x) for x in v]
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    return v


PROGRAMS = {}  # (entry, helpers, setup, test) -> analysed test program; this process is trusted and long-lived


def test_program(entry, helpers, setup, test):
    """The names a test program needs from the candidate, and its three parts compiled (``None`` where a
    part does not compile: it is compiled again where it runs, to raise there). Parsed once per distinct
    program: a batch grades many samples of each problem."""
    key = (entry, helpers, setup, test)
    got = PROGRAMS.get(key)
    if got is not None:
        return got
    loaded, bound = set(), set()
    for src in (helpers, setup, test):
        a, b = names_of(src)
        loaded |= a
        bound |= b
    needed = sorted((loaded - bound - BUILTIN_NAMES) | ({entry} if entry else set()))
    codes = []
    for src, name in ((helpers, "<helpers>"), (setup, "<setup>"), (test, "<test>")):
        try:
            codes.append(compile(src, name, "exec") if src else None)
        except BaseException:
            codes.append(None)
    if len(PROGRAMS) >= 512:
        PROGRAMS.clear()
    got = PROGRAMS[key] = (needed, codes)
    return got


def drive_assert(chan, entry, helpers, setup, test):
    chan.first()
    needed, (helpers_code, setup_code, test_code) = test_program(entry, helpers, setup, test)
    tags = chan.describe(needed) if needed else {}
    for n in needed:
        if tags[n] in ("class", "other"):
            chan.needs_inproc = "the test uses the candidate's %s %r" % (tags[n], n)
            raise NeedsInProcess(chan.needs_inproc)
    g = {"__name__": "__main__", "__builtins__": builtins}
    for n in needed:
        tag = tags[n]
        if tag == "function":
            g[n] = CandidateFunction(chan, n)
        elif tag == "data":
            g[n] = chan.get(n)
        elif tag.startswith("module:"):
            mod = tag[7:]
            if mod and all(p.isidentifier() for p in mod.split(".")):
                try:
                    g[n] = __import__(mod, fromlist=["_"])
                except BaseException:
                    pass
    if helpers:
        exec(helpers_code or compile(helpers, "<helpers>", "exec"), g)
    if entry and tags.get(entry) == "function":
        g[entry] = CandidateFunction(chan, entry)
    if setup:
        exec(setup_code or compile(setup, "<setup>", "exec"), g)
    exec(test_code or compile(test, "<test>", "exec"), g)


def format_tb():
    try:
        import traceback

        return traceback.format_exc(limit=6)[-1500:]
    except BaseException:
        return ""


def run_test(job, test_input, sock_fd):
    """Run one test in this (trusted) process; its outcome as a dict (the candidate socket is closed)."""
    chan = Channel(socket.socket(fileno=sock_fd), job["max_bytes"])
    out = {"status": "ok", "etype": "", "result": None, "detail": "", "fallback": ""}
    try:
        drive_assert(chan, job["entry_point"], job["helpers"], job["setup_code"], test_input)
    except NeedsInProcess as e:
        out["fallback"] = str(e) or "needs candidate objects"
    except CandidateFailure as e:
        out.update(status=e.verdict if e.verdict in ("harness_error", "output_limit") else "error", etype=e.etype,
                   detail=e.detail)
    except BadTest as e:
        out.update(status="bad_test", etype="BadTest", detail=str(e))
    except BaseException as e:
        out.update(status="error", etype=getattr(e, "candidate_etype", None) or error_name(e),  # noqa: F821
                   detail=format_tb())
    if chan.needs_inproc and not out["fallback"]:
        out.update(status="ok", etype="", detail="", fallback=chan.needs_inproc)
    elif chan.failure is not None and out["status"] == "ok" and not out["fallback"]:
        f = chan.failure
        out.update(status=f.verdict if f.verdict in ("harness_error", "output_limit") else "error", etype=f.etype,
                   detail=f.detail)
    try:
        chan.sock.close()
    except OSError:
        pass
    return out


def serve_tests(ctl, res_fd):
    """The driver loop: a ``sample`` command brings the sample's trusted half (driver job and tests) on a
    pipe; each ``(test index, candidate socket)`` after it runs that test and writes its outcome as one
    frame to ``res_fd``. Ends when the supervisor hangs up."""
    import marshal

    write = fd_writer(res_fd)  # noqa: F821
    job, tests = None, []
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(ctl, 64, 2)
        except OSError:
            os._exit(0)
        if not data or len(fds) != 1:
            os._exit(0)
        if data == b"sample":
            chunks = []
            while True:
                b = os.read(fds[0], 1 << 20)
                if not b:
                    break
                chunks.append(b)
            os.close(fds[0])
            job, tests = marshal.loads(b"".join(chunks))
            continue
        out = run_test(job, tests[int(data)], fds[0])
        try:
            data = JSON_DUMPS(out).encode()  # noqa: F821
        except BaseException:
            data = JSON_DUMPS({"status": "error", "etype": "TypeError", "result": None, "detail": "",  # noqa: F821
                               "fallback": ""}).encode()
        try:
            send_frame(write, data)  # noqa: F821
        except OSError:
            os._exit(0)
