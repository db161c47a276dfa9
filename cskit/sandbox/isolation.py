"""Launching one sandboxed supervisor per sample and talking to it (host side).

``run_sample(header, trusted, n_tests, limits, isolation)`` starts ``python -I -S -c BOOTSTRAP``
under bubblewrap, under ``unshare`` (util-linux) or bare, in its own session/process group; writes
the job in two frames (the header the candidate zygote is forked from, then the trusted half:
tests, nonce, setup code); reads the supervisor's JSON lines from a private result pipe and its
stderr (capped); keeps a backstop deadline per phase (start-up, then each test: tests run in order,
so each result starts the next test's backstop) on top of the per-test limit the supervisor
enforces, and SIGKILLs the whole process group when it passes. ``SandboxWorker(..., cpu=N)`` pins
the whole sandbox to CPU N (``SandboxLimits.pin_workers``). With bwrap/unshare the supervisor is
inside a fresh PID namespace whose init dies with the launcher, so every descendant is killed by the
kernel when the run ends.

The host never fails on what comes back: lines that are not JSON objects with the job's nonce are
ignored, oversized output kills the run, and a result that is malformed, out of range or
duplicated becomes that test's ``harness_error`` (with the reason); a missing one too.
"""
from __future__ import annotations

import fcntl
import functools
import json
import marshal
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cskit.sandbox.limits import SandboxLimits, env_allows_unisolated, env_isolation, rlimits

SHIPPED = ("codec.py", "confine.py", "candidate.py", "driver.py", "outcomes.py", "harness.py")  # executed in this order into one namespace
HARNESS_SOURCE = "".join((Path(__file__).with_name(n)).read_text(encoding="utf-8") for n in SHIPPED)
# compiled once here; the sandbox runs the same interpreter (the venv's base), so marshal matches
HARNESS_CODES = tuple(compile((Path(__file__).with_name(n)).read_text(encoding="utf-8"), f"cskit/sandbox/{n}",
                              "exec") for n in SHIPPED)
BOOTSTRAP = ("import os, sys\nfd = int(sys.argv[2])\ndef rd(n):\n    b = bytearray()\n    while len(b) < n:\n"
             "        c = os.read(fd, min(n - len(b), 1 << 20))\n        if not c:\n            os._exit(3)\n"
             "        b += c\n    return bytes(b)\nimport marshal\n"
             "codes, job = marshal.loads(rd(int.from_bytes(rd(8), 'big')))\n"
             "g = {'__name__': 'cskit_harness'}\nfor c in codes:\n    exec(c, g)\ndel codes, c, rd\n"
             "g['main'](job)\n")
SANDBOX_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "HOME": "/tmp", "TMPDIR": "/tmp", "PYTHONIOENCODING": "utf-8"}
ETC_FILES = ("/etc/passwd", "/etc/group", "/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf")
TMP_PREFIX = "cskit-sbx-"
STDERR_CAP = 64 << 10
TEST_STDERR_CAP = 16 << 10
UID_SPAN = 1 << 20  # private uids per sandbox: the driver's, then one per candidate run (reused cyclically)
WORKER_BACKSTOP_S = 6 * 3600  # unshare mode: the namespace init's last-resort wall clock


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the candidate): isolation unavailable or broken."""


def base_python() -> str:
    """The base interpreter behind ``sys.executable`` (outside any venv)."""
    exe = getattr(sys, "_base_executable", None) or sys.executable
    return os.path.realpath(exe)


def python_prefixes() -> list[str]:
    """Read-only directories the interpreter needs inside the sandbox (its install prefix)."""
    out = []
    for p in {os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix)}:
        if not p.startswith("/usr/") and p != "/usr":
            out.append(p)
    return sorted(out)


def _root_mount_point(prefixes: list[str]) -> str:
    """An existing host directory, not holding the interpreter, to hide under the sandbox tmpfs."""
    for d in ("/mnt", "/media", "/srv", "/opt", "/tmp"):
        if os.path.isdir(d) and not os.path.islink(d) and not any(p == d or p.startswith(d + "/") for p in prefixes):
            return d
    raise SandboxError("no directory to mount the sandbox root on (tried /mnt /media /srv /opt /tmp)")


@functools.lru_cache(maxsize=None)
def _works(kind: str) -> bool:
    """Does a real harness run succeed under ``kind``? (cached per process)"""
    if kind == "none":
        return True
    if kind == "bwrap" and not shutil.which("bwrap"):
        return False
    if kind == "unshare" and not shutil.which("unshare"):
        return False
    try:
        raw = run_sample({"mode": "stdio", "code": "print(6*7)"}, {"tests": [""]}, 1,
                         SandboxLimits(isolation=kind, timeout_s=10), kind)
    except SandboxError:
        return False
    t = raw.tests[0] or {}
    return t.get("status") == "ok" and t.get("stdout") == "NDIK"  # base64 of b"42\n"


def isolation_available() -> str:
    """The best isolation that works here: ``bwrap``, ``unshare`` or ``none``."""
    for kind in ("bwrap", "unshare"):
        if _works(kind):
            return kind
    return "none"


def resolve_isolation(limits: SandboxLimits) -> str:
    """The isolation a run with ``limits`` uses; raises ``SandboxError`` rather than silently degrade."""
    want = limits.isolation if limits.isolation != "auto" else (env_isolation() or "auto")
    if want == "auto":
        got = isolation_available()
        if got == "none" and not (limits.allow_unisolated or env_allows_unisolated()):
            raise SandboxError("no sandbox isolation works here (neither bwrap nor unshare namespaces); "
                               "install bubblewrap, run as root, or opt in to unisolated execution with "
                               "SandboxLimits(allow_unisolated=True) or CSKIT_SANDBOX_ALLOW_UNISOLATED=1")
        return got
    if not _works(want):
        raise SandboxError(f"sandbox isolation {want!r} was requested but does not work on this machine")
    return want


def _command(isolation: str, job_fd: int, res_fd: int, prefixes: list[str], tmpfs_mb: int) -> list[str]:
    py = base_python()
    tail = [py, "-I", "-S", "-c", BOOTSTRAP, isolation, str(job_fd), str(res_fd)]
    if isolation == "none":
        return tail
    if isolation == "unshare":
        return ["unshare", "--pid", "--fork", "--kill-child", "--net", "--mount", "--ipc", "--uts",
                "--propagation", "private", *tail]
    cmd = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        src = "/" + top
        if os.path.islink(src):
            cmd += ["--symlink", os.readlink(src), src]
        elif os.path.isdir(src):
            cmd += ["--ro-bind", src, src]
    for p in prefixes:  # parents of the prefix (e.g. /root) are plain empty 0755 dirs, not the host's 0700
        parts = p.strip("/").split("/")
        for i in range(1, len(parts)):
            cmd += ["--perms", "0755", "--dir", "/" + "/".join(parts[:i])]
        cmd += ["--ro-bind", p, p]
    for f in ETC_FILES:
        if os.path.isfile(f):
            cmd += ["--ro-bind", f, f]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--size", str(tmpfs_mb << 20), "--perms", "1777",
            "--tmpfs", "/tmp", "--chdir", "/tmp"]
    if os.getuid() == 0:  # root: the harness drops to a private uid itself (needs these two caps)
        cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:  # unprivileged bwrap: a user namespace; the candidate keeps the caller's (non-root) uid
        cmd += ["--unshare-user"]
    return cmd + ["--"] + tail


@dataclass
class RawSample:
    """What came back from one supervisor: one validated message (or ``None``) per test."""

    tests: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)   # test index -> harness_error reason
    stderr: bytes = b""
    returncode: int | None = None
    isolation: str = ""
    ready: bool = False
    done: bool = False
    fatal: str = ""
    time_s: float = 0.0


def _nonblock(fd: int) -> None:
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _exited(pid: int) -> bool:
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def frame(b: bytes) -> bytes:
    return len(b).to_bytes(8, "big") + b


class SandboxWorker:
    """One long-lived sandbox (supervisor + warm prelude zygote) that grades samples one after another.

    Every sample still gets its own candidate zygote (forked from the warm one, never from a process
    that held another sample's tests), a fresh private uid per test run, and an empty /tmp; what
    persists between samples is the namespaces and the warm interpreters of the trusted side. Any
    anomaly (a missed deadline, a fatal message, an oversized message, the sandbox gone) closes the
    worker; the next sample starts a new one. Not thread-safe: one worker per thread.
    """

    def __init__(self, limits: SandboxLimits, isolation: str, cpu: int | None = None):
        self.limits, self.isolation, self.cpu = limits, isolation, cpu
        self.proc = None
        self.tmpdir = None
        self.job_w = self.res_r = -1
        self.err = bytearray()
        self.res = bytearray()
        self.samples = 0
        self.aborted = False
        self.sel = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.aborted:
            raise SandboxError("the sandbox worker was aborted")
        limits, isolation = self.limits, self.isolation
        nonce = secrets.token_hex(16)
        prefixes = python_prefixes()
        uid = (100000 + secrets.randbelow(1 << 11) * UID_SPAN) if os.getuid() == 0 and isolation != "none" else None
        worker = {"uid": uid, "uid_span": UID_SPAN, "env": SANDBOX_ENV, "tmpfs_mb": limits.tmpfs_mb,
                  "ro_dirs": prefixes, "etc_files": list(ETC_FILES), "cwd": "/tmp", "backstop_s": WORKER_BACKSTOP_S,
                  "nonce": nonce, "cpu": self.cpu}
        if isolation == "unshare":
            worker["root_mount"] = _root_mount_point(prefixes)
        if isolation == "none":
            self.tmpdir = tempfile.mkdtemp(prefix=TMP_PREFIX)
            worker["cwd"] = self.tmpdir
        job_r, job_w = os.pipe()
        res_r, res_w = os.pipe()
        env = dict(SANDBOX_ENV, HOME=self.tmpdir or "/tmp", TMPDIR=self.tmpdir or "/tmp")
        try:
            self.proc = subprocess.Popen(_command(isolation, job_r, res_w, prefixes, limits.tmpfs_mb),
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         pass_fds=(job_r, res_w), env=env, cwd=self.tmpdir or "/",
                                         start_new_session=True, close_fds=True)
        except OSError as e:
            os.close(job_w)
            os.close(res_r)
            self.close()
            raise SandboxError(f"could not start the sandbox ({isolation}): {e}") from e
        finally:
            os.close(job_r)
            os.close(res_w)
        self.job_w, self.res_r = job_w, res_r
        _nonblock(job_w)
        ready = {}

        def on_msg(msg):
            if isinstance(msg, dict) and msg.get("nonce") == nonce and msg.get("event") == "worker_ready":
                ready["ok"] = True

        ok = self._pump(frame(marshal.dumps((HARNESS_CODES, worker))), on_msg, lambda: "ok" in ready,
                        {"deadline": time.monotonic() + limits.startup_timeout_s}, limits)
        if not ok:
            err = self.err.decode("utf-8", "replace")[-2000:]
            self.close()
            raise SandboxError(f"sandbox ({isolation}) failed to start (exit {self.returncode}): {err}")

    returncode = None

    def _pump(self, data: bytes, on_msg, until, state: dict, limits: SandboxLimits) -> bool:
        """Write ``data``, dispatch result lines to ``on_msg`` until ``until()``; False (worker unusable)
        on a missed deadline, an oversized message or the sandbox ending."""
        if self.sel is None:  # one selector for the worker's life: the result pipe and stderr stay registered
            self.sel = selectors.DefaultSelector()
            self.sel.register(self.proc.stderr.fileno(), selectors.EVENT_READ)
            self.sel.register(self.res_r, selectors.EVENT_READ)
        sel = self.sel
        err_fd = self.proc.stderr.fileno()
        view = memoryview(data)
        writing = bool(len(view))
        if writing:
            sel.register(self.job_w, selectors.EVENT_WRITE)
        line_cap = (int(limits.max_output_bytes) * 4) // 3 + 4 * TEST_STDERR_CAP + (1 << 16)
        try:
            while True:
                if until():
                    return True
                now = time.monotonic()
                if now >= state["deadline"]:
                    state["why"] = "deadline"
                    return False
                for key, _ in sel.select(timeout=min(state["deadline"] - now, 0.5)):
                    fd = key.fd
                    if fd == self.job_w:
                        try:
                            k = os.write(fd, view[: 1 << 16])
                        except BlockingIOError:
                            continue
                        except OSError:
                            state["why"] = "the sandbox stopped reading its job"
                            return False
                        view = view[k:]
                        if not len(view):
                            sel.unregister(fd)
                            writing = False
                        continue
                    try:
                        chunk = os.read(fd, 1 << 16)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        state["why"] = "the sandbox ended"
                        return False
                    if fd == err_fd:
                        if len(self.err) < STDERR_CAP:
                            self.err += chunk[: STDERR_CAP - len(self.err)]
                        continue
                    self.res += chunk
                    while b"\n" in self.res:
                        line, _, rest = bytes(self.res).partition(b"\n")
                        self.res[:] = rest
                        try:
                            msg = json.loads(line)
                        except (ValueError, RecursionError):
                            continue
                        on_msg(msg)
                    if len(self.res) > line_cap:
                        state["why"] = "oversized message from the sandbox"
                        return False
        finally:
            if writing:
                sel.unregister(self.job_w)

    def run(self, header: dict, trusted: dict, n_tests: int, limits: SandboxLimits) -> RawSample:
        """Grade one sample; never raises for candidate behaviour (``SandboxError`` only when the
        sandbox failed before anything of the sample ran)."""
        if not self.alive:
            self.close()
            self.start()
        nonce = secrets.token_hex(16)
        header = dict(header, rlimits=rlimits(limits), timeout_s=float(limits.timeout_s),
                      max_output_bytes=int(limits.max_output_bytes), stderr_cap=TEST_STDERR_CAP,
                      startup_timeout_s=float(limits.startup_timeout_s))
        job = dict(trusted, nonce=nonce, skip_after_timeout=bool(limits.skip_after_timeout))
        raw = RawSample(tests=[None] * n_tests, isolation=self.isolation)
        state = self.state = {"deadline": time.monotonic() + limits.startup_timeout_s, "current": None}
        self.err.clear()
        t0 = time.monotonic()
        ok = self._pump(frame(marshal.dumps(header)) + frame(marshal.dumps(job)),
                        lambda m: _handle(raw, m, nonce, state, limits), lambda: raw.done or bool(raw.fatal),
                        state, limits)
        self.samples += 1
        if not ok or raw.fatal:
            cur = state["current"]
            if state.get("why") == "deadline" and cur is not None and raw.tests[cur] is None and cur not in raw.errors:
                raw.tests[cur] = {"status": "timeout", "detail": "killed by the host's backstop deadline"}
            elif not raw.fatal:
                raw.fatal = state.get("why", "")
            self.close()
        raw.stderr = bytes(self.err)
        raw.returncode = self.returncode
        raw.time_s = time.monotonic() - t0
        if not raw.ready and not any(t is not None for t in raw.tests):
            raise SandboxError(f"sandbox ({self.isolation}) failed before running the candidate: "
                               + (raw.fatal + " " if raw.fatal else "") + raw.stderr.decode("utf-8", "replace")[-2000:])
        return raw

    def kill(self) -> None:
        """Abort from another thread: SIGKILL the sandbox's process group (the thread using the worker
        sees it end at once) and refuse to start again. ``close`` still has to be called."""
        self.aborted = True
        proc = self.proc
        if proc is not None:
            _kill_group(proc.pid)
            self._kill_runs()

    def _kill_runs(self) -> None:
        """``none`` mode: the run in progress is in a process group of its own; end it too."""
        for pg in list((getattr(self, "state", None) or {}).get("pgids", ())):
            _kill_group(pg)

    def close(self) -> None:
        """Stop the sandbox (closing the job stream ends it; then its process group is killed)."""
        if self.sel is not None:
            self.sel.close()
            self.sel = None
        for attr in ("job_w", "res_r"):
            fd = getattr(self, attr)
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, attr, -1)
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
            _kill_group(proc.pid)
            self._kill_runs()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            try:
                proc.stderr.close()
            except OSError:
                pass
            self.returncode = proc.returncode
        self.res.clear()
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def __enter__(self) -> "SandboxWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run_sample(header: dict, trusted: dict, n_tests: int, limits: SandboxLimits, isolation: str,
               worker: SandboxWorker | None = None) -> RawSample:
    """Run one sample's ``n_tests`` tests: in ``worker`` when given, else in a sandbox of its own."""
    if worker is not None:
        return worker.run(header, trusted, n_tests, limits)
    with SandboxWorker(limits, isolation) as w:
        return w.run(header, trusted, n_tests, limits)


RESULT_FIELDS = {"status": str, "etype": str, "result": str, "stdout": str, "stderr": str, "detail": str,
                 "level": str, "fallback": str, "time_s": (int, float), "rc": (int, type(None))}
STATUSES = ("ok", "error", "syntax_error", "timeout", "output_limit", "exited", "bad_test", "harness_error")


def validate_result(msg: dict) -> tuple[dict | None, str]:
    """(the test result with known fields of the right types, "") or (None, reason)."""
    out = {}
    for k, types in RESULT_FIELDS.items():
        if k in msg and msg[k] is not None:
            v = msg[k]
            if not isinstance(v, types) or isinstance(v, bool):
                return None, f"result field {k!r} has type {type(v).__name__}"
            out[k] = v
    if out.get("status") not in STATUSES:
        return None, f"unknown result status {str(out.get('status'))[:40]!r}"
    return out, ""


def _handle(raw: RawSample, msg, nonce: str, state: dict, limits: SandboxLimits) -> None:
    if not isinstance(msg, dict) or msg.get("nonce") != nonce:
        return
    ev, now = msg.get("event"), time.monotonic()
    n = len(raw.tests)
    i = msg.get("i")
    idx_ok = isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n
    # tests run in order: after "ready" test 0 runs, after test i's result test i + 1 ("start" comes only
    # before a test runs a second time, in the in-process fallback); each backstop covers a process start
    # and the test's own limit
    if ev == "ready":
        raw.ready = True
        state["current"] = 0
        state["deadline"] = now + limits.startup_timeout_s + limits.timeout_s + 4.0
    elif ev == "start" and idx_ok:
        state["current"] = i
        state["deadline"] = now + limits.timeout_s + 4.0
    elif ev == "test" and idx_ok:
        state["current"] = i + 1 if i + 1 < n else None
        state["deadline"] = now + limits.startup_timeout_s + limits.timeout_s + 4.0
        state.pop("pgids", None)  # that run has ended (and was killed): its group id may be reused
        if raw.tests[i] is not None or i in raw.errors:
            raw.errors[i] = "duplicated result for this test"
            raw.tests[i] = None
            return
        res, why = validate_result(msg)
        if res is None:
            raw.errors[i] = "malformed result: " + why
        else:
            raw.tests[i] = res
    elif ev == "pgid" and raw.isolation == "none":
        pg = msg.get("pgid")
        if isinstance(pg, int) and not isinstance(pg, bool) and pg > 1 and pg != os.getpgrp():
            state.setdefault("pgids", set()).add(pg)
    elif ev == "done":
        raw.done = True
    elif ev == "fatal":
        raw.fatal = str(msg.get("reason", ""))[:500]
