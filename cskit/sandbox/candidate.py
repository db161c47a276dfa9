"""In-sandbox, candidate side: the warm zygotes and the process of each test run.

Shipped into the sandbox with the other ``isolation.SHIPPED`` files (executed into one
namespace; stdlib only, never imports cskit). The supervisor (``harness.py``) forks the zygote
*before* it reads the trusted half of the job (tests, nonce, setup code), so neither the zygote nor
any process forked from it ever holds a test program or an expected value.

The sample's zygote (root inside the namespace, or the caller's uid without one) is forked from a
warm prelude zygote (LiveCodeBench's prelude imported once per sandbox) and compiles the candidate's
code -- it never *runs* candidate code. It sets the limits all runs share, then serves two
``SOCK_SEQPACKET`` sockets: on ``ctl`` the supervisor asks for the next run's process (``f``: a fork,
made while the current run runs; ``z``: the zygote itself, for the sample's last run) and gets each
run's exit status (``x PID RC``); on ``rctl`` the waiting process receives its run's command and
descriptors (SCM_RIGHTS), reports its pid, closes both sockets, moves to a fresh private uid (a new
one per run, so the supervisor can kill every process of the run by uid), applies the per-run
rlimits and runs:

* ``stdio``  -- the program as ``__main__`` with real stdin/stdout; its completion status is a line
  on descriptor 3 (written by the wrapper, so an ``os._exit`` before the end never reports ``ok``);
* ``call``   -- the arguments read from stdin and parsed before any candidate code runs, the module
  loaded, the entry point called once, the outcome written as one codec frame on descriptor 3
  (the supervisor decodes it: plain data only; the expected value never comes here);
* ``serve``  -- (assert) the program as module ``solution``, then answers the driver's requests
  (describe names, call a function, read a plain-data global) over descriptor 3, values encoded by
  the codec; a return value that is not plain data (an ``re.Match``, a generator) is answered with
  its type name and truth value only. Expected values never reach this process;
* ``inproc`` -- the flagged fallback for tests that need objects of candidate-defined classes: the
  supervisor sends setup and test program, and they run here, after the candidate's code.

Not guaranteed here (and not needed): anything a run reports about itself is the candidate's say-so.
The supervisor and driver treat every byte from this side as untrusted data.
"""
import builtins
import os
import sys

HARD_EXIT = os._exit  # bound before any candidate code runs: a patched ``os._exit`` does not keep a run alive

# LiveCodeBench's import prelude, exactly as ``lcb_runner/evaluation/testing_util.py`` (``import_string``,
# LiveCodeBench/LiveCodeBench) prepends it to call- and stdio-kind programs.
LCB_IMPORT_STRING = (
    "from string import *\nfrom re import *\nfrom datetime import *\nfrom collections import *\n"
    "from heapq import *\nfrom bisect import *\nfrom copy import *\nfrom math import *\nfrom random import *\n"
    "from statistics import *\nfrom itertools import *\nfrom functools import *\nfrom operator import *\n"
    "from io import *\nfrom sys import *\nfrom json import *\nfrom builtins import *\nfrom typing import *\n"
    "import string\nimport re\nimport datetime\nimport collections\nimport heapq\nimport bisect\nimport copy\n"
    "import math\nimport random\nimport statistics\nimport itertools\nimport functools\nimport operator\n"
    "import io\nimport sys\nimport json\nsys.setrecursionlimit(50000)\n")


def error_name(e):
    """An exception's class name, reduced to characters that are safe anywhere."""
    n = "".join(c for c in type(e).__name__ if c.isascii() and (c.isalnum() or c in "._"))
    return n[:80] or "Exception"


def mro_names(e):
    out = []
    try:
        for c in type(e).__mro__[:12]:
            out.append("".join(ch for ch in c.__name__ if ch.isascii() and (ch.isalnum() or ch == "_"))[:60])
    except BaseException:
        pass
    return out


def print_traceback():
    try:
        import traceback

        traceback.print_exc(limit=8)
    except BaseException:
        pass


ZYGOTE_RLIMITS = ("RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_FSIZE", "RLIMIT_NOFILE")  # set once, in the zygote


def limit_zygote(rlimit_items):
    """The limits every run of a sample shares, set once in its zygote (inherited by each fork) rather
    than per run; the zygote drops its supplementary groups for the same reason. Returns the limits
    each run still sets itself (CPU time and processes are per process / per uid)."""
    import resource

    if os.getuid() == 0:
        os.setgroups([])
    for name, (soft, hard) in rlimit_items:
        if name in ZYGOTE_RLIMITS:
            resource.setrlimit(getattr(resource, name), (soft, hard))
    return [(name, lim) for name, lim in rlimit_items if name not in ZYGOTE_RLIMITS]


def become_child(fds, uid, rlimit_items):
    """In a freshly forked run child: descriptors to 0..3, own process group, uid, rlimits (the zygote
    has already cleared the supplementary groups and set the shared limits: ``limit_zygote``)."""
    import fcntl
    import resource

    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 200) for fd in fds]
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    os.closerange(4, 1 << 16)
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    if uid is not None:
        if os.getgroups():
            os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    for name, (soft, hard) in rlimit_items:
        resource.setrlimit(getattr(resource, name), (soft, hard))


def fresh_globals(name, prelude_builtins):
    """A module namespace; with the prelude, its names are found through ``__builtins__`` (a dict of
    the built-ins overlaid with the prelude's bindings, built once in the zygote), so a run does not
    copy -- and so touch and page-fault in -- the thousand objects of the prelude."""
    return {"__name__": name, "__builtins__": prelude_builtins if prelude_builtins is not None else builtins}


def run_stdio(code, prelude_ns):
    sys.argv[:] = ["solution.py"]
    g = fresh_globals("__main__", prelude_ns)
    status, etype = "ok", ""
    try:
        exec(code, g)
    except SystemExit as e:  # sys.exit(0) ends a stdio program normally
        if e.code not in (None, 0):
            status, etype = "error", "SystemExit"
    except BaseException as e:
        status, etype = "error", error_name(e)
        print_traceback()
    if status == "ok":
        try:  # like interpreter exit: join non-daemon threads (the threading.stack_size idiom), flush
            if "threading" in sys.modules:
                sys.modules["threading"]._shutdown()
            sys.stdout.flush()
        except BaseException as e:
            status, etype = "error", error_name(e)
    try:
        sys.stderr.flush()
    except BaseException:
        pass
    line = ("%s %s\n" % (status, etype)).encode()
    try:
        os.write(3, line)
    except OSError:
        pass
    HARD_EXIT(0)


def resolve(g, name, lcb):
    """The callable the driver asked for: a function of the module, or (call kind, LiveCodeBench style)
    a method of an instance of ``class Solution``."""
    if lcb:
        sol = g.get("Solution")
        if isinstance(sol, type) and hasattr(sol, name):
            return getattr(sol(), name)
    if name in g:
        return g[name]
    raise NameError("entry point %r not defined" % name)


def describe(g, name):
    if name not in g:
        return "absent"
    v = g[name]
    if isinstance(v, type):
        return "class"
    if type(v).__name__ == "module":
        n = getattr(v, "__name__", "")
        return "module:" + n if isinstance(n, str) else "other"
    if callable(v):
        return "function"
    try:
        to_tree(v)  # noqa: F821 - codec.py is executed into the same namespace
        return "data"
    except BaseException:
        return "other"


def serve(code, prelude_ns, setup_imports=None):
    """call/assert: load the module, then answer the driver until it hangs up."""
    import socket

    sock = socket.socket(fileno=3)
    read, write = sock.recv, sock.sendall

    def reply(msg):
        try:
            payload = encode(msg).encode()  # noqa: F821
        except BaseException:
            payload = encode({"t": "unencodable"}).encode()  # noqa: F821
        send_frame(write, payload)  # noqa: F821

    def exc_msg(e):
        return {"t": "exc", "etype": error_name(e), "mro": mro_names(e)}

    g = fresh_globals("solution", prelude_ns)
    try:
        exec(code, g)
        if setup_imports is not None:  # code, setup, tests: the setup's imports are visible to the code
            exec(setup_imports, g)
    except BaseException as e:
        print_traceback()
        reply({"t": "load_error", "etype": error_name(e), "mro": mro_names(e)})
        HARD_EXIT(0)
    reply({"t": "loaded"})
    while True:
        try:
            raw = recv_frame(read)  # noqa: F821
        except BaseException:
            HARD_EXIT(0)
        if raw is None:
            HARD_EXIT(0)
        try:
            msg = decode(raw)  # noqa: F821
            op = msg["t"]
        except BaseException:
            HARD_EXIT(0)
        if op == "describe":
            tags = {}
            for n in msg.get("names", []):
                try:
                    tags[n] = describe(g, n)
                except BaseException:
                    tags[n] = "other"
            reply({"t": "tags", "tags": tags})
        elif op == "get":
            try:
                reply({"t": "ret", "v": g[msg["name"]]})
            except BaseException as e:
                reply(exc_msg(e))
        elif op == "call":
            try:
                fn = resolve(g, msg["name"], False)
                v = fn(*msg.get("args", ()), **msg.get("kwargs", {}))
            except BaseException as e:
                print_traceback()
                reply(exc_msg(e))
                continue
            try:
                tree = to_tree(v)  # noqa: F821
            except BaseException:  # not plain data: the driver gets an opaque handle with its truth value
                try:
                    truth = bool(v)
                except BaseException:
                    truth = None
                reply({"t": "opaque", "type": type_name(v), "truth": truth})  # noqa: F821
                continue
            try:
                send_frame(write, JSON_DUMPS(["d", "t", "ret", "v", tree]).encode())  # noqa: F821
            except BaseException:
                HARD_EXIT(0)
        else:
            HARD_EXIT(0)


def run_call(code, prelude_ns, entry):
    """call kind (LiveCodeBench's functional tests): read the test's arguments -- one JSON value per line
    on stdin -- and parse them *before* any candidate code runs, load the module, call the entry point
    (a method of ``class Solution`` when there is one) once, and write the outcome as one codec frame on
    descriptor 3: ``ret`` with the plain-data value, ``exc``, ``load_error``, ``opaque`` (not plain
    data) or ``bad_test``. The supervisor decodes it; the expected value never comes here."""
    write = fd_writer(3)  # noqa: F821 - codec.py

    def report(msg):
        try:
            payload = encode(msg).encode()  # noqa: F821
        except BaseException:
            payload = encode({"t": "unencodable"}).encode()  # noqa: F821
        try:
            send_frame(write, payload)  # noqa: F821
        except BaseException:
            pass
        HARD_EXIT(0)

    chunks = []
    while True:
        b = os.read(0, 1 << 16)
        if not b:
            break
        chunks.append(b)
    try:
        text = b"".join(chunks).decode("utf-8")
        args = [JSON_LOADS(line) for line in text.split("\n") if line.strip()]  # noqa: F821
    except BaseException:
        report({"t": "bad_test"})
    g = fresh_globals("solution", prelude_ns)
    try:
        exec(code, g)
    except BaseException as e:
        print_traceback()
        report({"t": "load_error", "etype": error_name(e)})
    try:
        v = resolve(g, entry, True)(*args)
    except BaseException as e:
        print_traceback()
        report({"t": "exc", "etype": error_name(e)})
    try:
        tree = to_tree(v)  # noqa: F821
    except BaseException:
        report({"t": "opaque", "type": type_name(v)})  # noqa: F821
    try:
        sys.stdout.flush()
    except BaseException:
        pass
    try:
        send_frame(write, JSON_DUMPS(["d", "t", "ret", "v", tree]).encode())  # noqa: F821
    except BaseException:
        pass
    HARD_EXIT(0)


def run_inproc(code):
    """The flagged fallback: setup and test program run after the candidate, in its interpreter."""
    import socket

    sock = socket.socket(fileno=3)
    try:
        raw = recv_frame(sock.recv)  # noqa: F821
        job = decode(raw)  # noqa: F821
    except BaseException:
        HARD_EXIT(0)
    g = fresh_globals("solution", None)
    status, etype = "ok", ""
    try:
        exec(code, g)
        if job.get("setup"):
            exec(compile(job["setup"], "<setup>", "exec"), g)
        exec(compile(job["test"], "<test>", "exec"), g)
    except BaseException as e:
        status, etype = "error", error_name(e)
        print_traceback()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    send_frame(sock.sendall, encode({"status": status, "etype": etype}).encode())  # noqa: F821
    HARD_EXIT(0)


def wait_rc(pid):
    """The exit status of child ``pid`` as a return code (``-N`` when killed by signal N)."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def prelude_zygote(ctl, with_prelude):
    """Warm once per sandbox (LiveCodeBench's prelude imported when ``with_prelude``), then, per sample,
    fork the sample's candidate zygote, which reads its header (code, mode, limits) from a pipe: this
    process never holds candidate code, and no sample's zygote inherits another's. It waits for the
    sample's zygote and reports its exit on the sample's control socket (``x PID RC``): the zygote may
    end as the sample's last run (``zygote``)."""
    import fcntl  # noqa: F401 - imported once here, not in every child
    import gc
    import marshal
    import resource  # noqa: F401
    import socket

    prelude_ns = None
    if with_prelude:
        ns = {"__builtins__": builtins}
        exec(compile(LCB_IMPORT_STRING, "<prelude>", "exec"), ns)  # ``random`` reseeds in every fork
        prelude_ns = dict(builtins.__dict__)  # what LiveCodeBench's prepended prelude leaves bound
        prelude_ns.update((k, v) for k, v in ns.items() if k != "__builtins__")
    # not ``threading``: a process that has imported it pays ~100 more page faults on every fork
    gc.freeze()  # children do not copy the warm heap when their collector runs
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(ctl, 1024, 4)
        except OSError:
            HARD_EXIT(0)
        if not data or len(fds) != 3:
            HARD_EXIT(0)
        pid = os.fork()
        if pid == 0:
            try:
                ctl.close()
                chunks = []
                while True:
                    b = os.read(fds[2], 1 << 20)
                    if not b:
                        break
                    chunks.append(b)
                os.close(fds[2])
                job = marshal.loads(b"".join(chunks))
                zygote(socket.socket(fileno=fds[0]), socket.socket(fileno=fds[1]), job, prelude_ns)
            except BaseException:
                pass
            HARD_EXIT(0)
        os.close(fds[1])
        os.close(fds[2])
        rc = wait_rc(pid)
        report = socket.socket(fileno=fds[0])
        try:
            report.send(b"x %d %d" % (pid, rc))
        except OSError:  # the supervisor has closed the sample: nobody waits for this report
            pass
        report.close()


def run_child(ctl, rctl, code, setup_imports, prelude_ns, rlimit_items, entry):
    """A process made for one run (forked by the zygote, or the zygote itself for a sample's last run):
    wait for the run's command and descriptors on ``rctl``, report this process's pid, drop both
    control sockets, become the run (descriptors 0..3, private uid, rlimits) and run the candidate.
    Nothing of the zygote's channels is left open when candidate code starts."""
    import socket

    try:
        ctl.close()
        data, fds, _flags, _addr = socket.recv_fds(rctl, 256, 8)
        if not data:
            HARD_EXIT(0)
        word, kind, uid = data.decode().split(" ")
        if word != "run" or len(fds) != 4:
            HARD_EXIT(0)
        rctl.send(b"p %d" % os.getpid())
        rctl.close()
        become_child(fds, None if uid == "-" else int(uid), rlimit_items)
    except BaseException:
        HARD_EXIT(120)
    if kind == "stdio":
        run_stdio(code, prelude_ns)
    elif kind == "call":
        run_call(code, prelude_ns, entry)
    elif kind == "serve":
        serve(code, prelude_ns, setup_imports)
    else:
        run_inproc(code)
    HARD_EXIT(0)


def zygote(ctl, rctl, job, prelude_ns):
    """One sample's zygote: compile the code (never run it), report ``ready PID``, then serve the
    supervisor's requests on ``ctl`` until it hangs up: ``f`` forks a process for the next run (it
    waits on ``rctl`` for the run's command, see :func:`run_child`) and reports its exit as
    ``x PID RC``; ``z`` makes this process the sample's last run (its exit is reported by the prelude
    zygote). One run process exists at a time; the supervisor asks for the next one while the
    current one runs, so the fork overlaps the run."""
    import gc

    rlimit_items = job["rlimits"]
    entry = job.get("entry_point", "")
    try:
        code = compile(job["code"], "<solution>", "exec")
        setup_imports = compile(job["setup_imports"], "<setup>", "exec") if job.get("setup_imports") else None
    except BaseException as e:
        ctl.send(b"compile_error " + error_name(e).encode())
        return
    rlimit_items = limit_zygote(rlimit_items)
    gc.freeze()  # children do not copy the warm heap when their collector runs
    ctl.send(b"ready %d" % os.getpid())
    while True:
        try:
            req = ctl.recv(16)
        except OSError:
            return
        if req == b"z":
            run_child(ctl, rctl, code, setup_imports, prelude_ns, rlimit_items, entry)
        if req != b"f":
            return
        pid = os.fork()
        if pid == 0:
            run_child(ctl, rctl, code, setup_imports, prelude_ns, rlimit_items, entry)
        rc = wait_rc(pid)
        try:
            ctl.send(b"x %d %d" % (pid, rc))
        except OSError:
            return
