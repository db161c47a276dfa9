"""Launching one sandboxed harness process and talking to it (host side).

``run_job(job, stdin, limits, isolation)`` starts ``python -I -S -c BOOTSTRAP`` (which receives the
pre-compiled harness and the job over a pipe) under bubblewrap,
under ``unshare`` (util-linux) or bare, in its own session/process group, feeds the job over a pipe,
reads stdout/stderr/result messages incrementally (stdout cut at ``max_output_bytes``), enforces the
wall-clock timeout from the candidate's ``start`` message, and SIGKILLs the whole process group on
timeout or output overflow. With bwrap/unshare the harness is inside a fresh PID namespace whose
init dies with the launcher, so every descendant -- including ones that ``setsid()`` or double-fork --
is killed by the kernel when the run ends.
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

HARNESS_SOURCE = (Path(__file__).with_name("harness.py")).read_text(encoding="utf-8")
# compiled once here; the sandbox runs the same interpreter (the venv's base), so marshal matches
HARNESS_CODE = compile(HARNESS_SOURCE, "cskit/sandbox/harness.py", "exec")
BOOTSTRAP = ("import marshal, os, sys\nfd = int(sys.argv[2]); b = []\nwhile True:\n    c = os.read(fd, 65536)\n"
             "    if not c:\n        break\n    b.append(c)\nos.close(fd)\ncode, job = marshal.loads(b''.join(b))\n"
             "del b, c\ng = {'__name__': 'cskit_harness'}\nexec(code, g)\ng['main'](job)\n")
SANDBOX_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "HOME": "/tmp", "TMPDIR": "/tmp", "PYTHONIOENCODING": "utf-8"}
ETC_FILES = ("/etc/passwd", "/etc/group", "/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf")
TMP_PREFIX = "cskit-sbx-"
STDERR_CAP = 64 << 10


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
        raw = run_job({"mode": "stdio", "code": "print(6*7)"}, b"", SandboxLimits(isolation=kind, timeout_s=10), kind)
    except SandboxError:
        return False
    return raw.end is not None and raw.end.get("status") == "ok" and raw.stdout.strip() == b"42"


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
class RawRun:
    """What came back from one harness process."""

    stdout: bytes = b""
    stderr: bytes = b""
    start: dict | None = None
    end: dict | None = None
    returncode: int | None = None
    timed_out: bool = False
    output_exceeded: bool = False
    time_s: float = 0.0
    isolation: str = ""
    messages: list = field(default_factory=list)


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


def run_job(job: dict, stdin: bytes, limits: SandboxLimits, isolation: str) -> RawRun:
    """Run one harness job under ``isolation``; never raises for candidate behaviour."""
    nonce = secrets.token_hex(16)
    prefixes = python_prefixes()
    tmpdir = None
    uid = 100000 + secrets.randbelow(1 << 22) if os.getuid() == 0 and isolation != "none" else None
    backstop = int(limits.timeout_s + limits.startup_timeout_s) + 5  # wall limit kept by the namespace init
    full = dict(job, nonce=nonce, rlimits=rlimits(limits), uid=uid, env=SANDBOX_ENV, tmpfs_mb=limits.tmpfs_mb,
                ro_dirs=prefixes, etc_files=list(ETC_FILES), cwd="/tmp", backstop_s=backstop)
    if isolation == "unshare":
        full["root_mount"] = _root_mount_point(prefixes)
    if isolation == "none":
        tmpdir = tempfile.mkdtemp(prefix=TMP_PREFIX)
        full["cwd"] = tmpdir
    job_r, job_w = os.pipe()
    res_r, res_w = os.pipe()
    raw = RawRun(isolation=isolation)
    proc = None
    t0 = time.monotonic()
    try:
        env = dict(SANDBOX_ENV, HOME=tmpdir or "/tmp", TMPDIR=tmpdir or "/tmp")
        try:
            proc = subprocess.Popen(_command(isolation, job_r, res_w, prefixes, limits.tmpfs_mb),
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    pass_fds=(job_r, res_w), env=env, cwd=tmpdir or "/",
                                    start_new_session=True, close_fds=True)
        except OSError as e:
            raise SandboxError(f"could not start the sandbox ({isolation}): {e}") from e
        finally:
            os.close(job_r)
            os.close(res_w)
        owned_w, owned_r, job_w, res_r = job_w, res_r, -1, -1  # _io_loop closes them
        _io_loop(proc, raw, owned_w, marshal.dumps((HARNESS_CODE, full)), owned_r, stdin, limits, nonce, t0)
    finally:
        for fd in (job_w, res_r):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if proc is not None:
            _kill_group(proc.pid)   # stragglers of the group (namespaces are gone already)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            for f in (proc.stdin, proc.stdout, proc.stderr):
                try:
                    f.close()
                except OSError:
                    pass
            raw.returncode = proc.returncode
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
    if raw.start is None and raw.end is None and not raw.timed_out:
        raise SandboxError(f"sandbox ({isolation}) failed before running the candidate (exit {raw.returncode}): "
                           + raw.stderr.decode("utf-8", "replace")[-2000:])
    return raw


def _io_loop(proc, raw: RawRun, job_w: int, job_bytes: bytes, res_r: int, stdin: bytes,
             limits: SandboxLimits, nonce: str, t0: float) -> None:
    sel = selectors.DefaultSelector()
    out_fd, err_fd, in_fd = proc.stdout.fileno(), proc.stderr.fileno(), proc.stdin.fileno()
    pending = {job_w: memoryview(job_bytes), in_fd: memoryview(stdin or b"")}
    for fd in (job_w, in_fd):
        _nonblock(fd)
        sel.register(fd, selectors.EVENT_WRITE)
    for fd in (out_fd, err_fd, res_r):
        sel.register(fd, selectors.EVENT_READ)
    out, err, res = bytearray(), bytearray(), bytearray()
    deadline = t0 + limits.startup_timeout_s + limits.timeout_s
    t_start = None
    readers = 3
    exited_at = None

    def close_writer(fd):
        sel.unregister(fd)
        if fd == in_fd:
            proc.stdin.close()
        else:
            os.close(fd)

    draining = False  # after a kill: wait (bounded) for EOF, i.e. until every sandbox process is gone

    t_done = None
    grace = 0.2 if raw.isolation == "none" else 2.0  # a PID namespace always ends with EOF on all pipes

    def kill():
        nonlocal deadline, draining, t_done
        _kill_group(proc.pid)
        t_done = t_done or time.monotonic()
        draining, deadline = True, time.monotonic() + 2.0

    try:
        while readers:
            now = time.monotonic()
            if now >= deadline:
                if draining:
                    break
                raw.timed_out = t_start is not None
                kill()
                continue
            if exited_at is None and _exited(proc.pid):
                exited_at = now
            if exited_at is not None and now - exited_at > grace:
                break  # launcher gone but a pipe is still held open (e.g. a daemon, without a PID namespace)
            events = sel.select(timeout=min(deadline - now, 0.1))
            for key, _ in events:
                fd = key.fd
                if fd in pending:
                    buf = pending[fd]
                    try:
                        n = os.write(fd, buf[: 1 << 16])
                    except BlockingIOError:
                        continue
                    except (BrokenPipeError, OSError):
                        n = len(buf)
                    pending[fd] = buf = buf[n:]
                    if not len(buf):
                        del pending[fd]
                        close_writer(fd)
                    continue
                try:
                    chunk = os.read(fd, 1 << 16)
                except OSError:
                    chunk = b""
                if not chunk:
                    sel.unregister(fd)
                    readers -= 1
                    continue
                if draining:
                    continue
                if fd == out_fd:
                    out += chunk
                    if len(out) > limits.max_output_bytes:
                        del out[limits.max_output_bytes:]
                        raw.output_exceeded = True
                        kill()
                elif fd == err_fd:
                    if len(err) < STDERR_CAP:
                        err += chunk[: STDERR_CAP - len(err)]
                else:
                    res += chunk
                    if len(res) > limits.max_output_bytes + 4096:
                        raw.output_exceeded = True
                        kill()
                        continue
                    while b"\n" in res:
                        line, _, rest = bytes(res).partition(b"\n")
                        res[:] = rest
                        try:
                            msg = json.loads(line)
                        except ValueError:
                            continue
                        if not isinstance(msg, dict) or msg.get("nonce") != nonce:
                            continue
                        if msg.get("event") == "start" and t_start is None:
                            t_start = time.monotonic()
                            raw.start = msg
                            deadline = t_start + limits.timeout_s
                        elif msg.get("event") == "end" and raw.end is None:
                            raw.end = msg
                            t_done = time.monotonic()
    finally:
        sel.close()
        for fd in list(pending):
            try:
                proc.stdin.close() if fd == in_fd else os.close(fd)
            except OSError:
                pass
        try:
            os.close(res_r)
        except OSError:
            pass
        if raw.timed_out or raw.output_exceeded:
            raw.end = None if raw.timed_out else raw.end
        raw.time_s = (t_done or time.monotonic()) - (t_start if t_start is not None else t0)
        raw.stdout, raw.stderr = bytes(out), bytes(err)

