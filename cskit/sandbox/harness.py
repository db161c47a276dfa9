"""In-sandbox runner: ``python -I -S -c BOOTSTRAP ISOLATION JOB_FD RESULT_FD``.

The bootstrap (``isolation.BOOTSTRAP``) reads ``marshal((code of this file, job))`` from ``JOB_FD``
and calls ``main(job)``, so this file is compiled once on the host, not once per test.

Standalone on purpose (stdlib only, never imports cskit): it runs with the base interpreter, inside
the namespaces, without the project's venv or checkout. Steps:

1. read the job (``marshal``) from ``JOB_FD`` to EOF and close it -- code, test input, nonce, limits;
   the expected output never enters the sandbox;
2. ``unshare`` mode only: build a minimal root (tmpfs + read-only binds of /usr, the interpreter
   prefix, a few /etc files, /dev nodes, a fresh /proc of the new PID namespace, a size-capped /tmp)
   and ``chroot`` into it; the namespace init (pid 1) then forks and waits, the candidate runs in the child;
3. set the rlimits, ``PR_SET_NO_NEW_PRIVS``, and drop to the job's private uid/gid (when root);
4. write ``{"event": "start"}`` to ``RESULT_FD``, compile and run the candidate (stdio / call / assert), then
   write ``{"event": "end", "status": ...}`` and ``os._exit``. Every message carries the job's random
   nonce. The host grades a test only when a valid ``end`` message arrived: a candidate that exits
   early (``os._exit(0)``, ``sys.exit(0)`` inside assert/call tests, killed by a signal) never sends it.
"""
import os
import sys


def _read_all(fd):
    chunks = []
    while True:
        b = os.read(fd, 1 << 16)
        if not b:
            break
        chunks.append(b)
    os.close(fd)
    return b"".join(chunks)


def _build_root(job):
    """unshare mode: we are root in fresh mount/pid/net/ipc/uts namespaces; make a minimal root."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
    MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18

    def mount(src, tgt, fstype, flags, data=None):
        enc = lambda s: s.encode() if s is not None else None  # noqa: E731
        if libc.mount(enc(src), enc(tgt), enc(fstype), flags, enc(data)) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "sandbox mount failed: %s -> %s: %s" % (src, tgt, os.strerror(e)))

    def bind_ro(src, dst, rec=True):
        mount(src, dst, None, MS_BIND | (MS_REC if rec else 0))
        mount(None, dst, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID)

    mount(None, "/", None, MS_REC | MS_PRIVATE)
    base = job["root_mount"]
    mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=755")
    root = base + "/r"
    os.mkdir(root, 0o755)
    for top in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        src = "/" + top
        if os.path.islink(src):
            os.symlink(os.readlink(src), root + src)
        elif os.path.isdir(src):
            os.mkdir(root + src, 0o755)
            bind_ro(src, root + src)
    for prefix in job["ro_dirs"]:
        if os.path.isdir(root + prefix) and os.path.ismount(root + prefix):
            continue
        os.makedirs(root + prefix, 0o755, exist_ok=True)
        bind_ro(prefix, root + prefix)
    os.mkdir(root + "/etc", 0o755)
    for f in job["etc_files"]:
        if os.path.isfile(f):
            open(root + f, "w").close()
            bind_ro(f, root + f, rec=False)
    os.mkdir(root + "/dev", 0o755)
    mount("tmpfs", root + "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=755")
    for d in ("null", "zero", "full", "random", "urandom"):
        open(root + "/dev/" + d, "w").close()
        mount("/dev/" + d, root + "/dev/" + d, None, MS_BIND)
    for i, n in enumerate(("stdin", "stdout", "stderr")):
        os.symlink("/proc/self/fd/%d" % i, root + "/dev/" + n)
    os.symlink("/proc/self/fd", root + "/dev/fd")
    os.mkdir(root + "/proc", 0o555)
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.mkdir(root + "/tmp")
    mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=%dm,mode=1777" % job["tmpfs_mb"])
    mount(None, base, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4m,mode=755")
    os.chroot(root)
    os.chdir("/")
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS


def _become_child_of_init(backstop_s):
    """unshare mode: stay as the namespace's init (pid 1, root) and run the candidate in a child, so
    that the candidate gets normal signal semantics; init's exit tears the namespace down. Init also
    keeps a wall-clock backstop, should the host process die without killing the launcher."""
    pid = os.fork()
    if pid == 0:
        return
    import signal

    signal.signal(signal.SIGALRM, lambda *a: os._exit(137))
    signal.alarm(int(backstop_s))
    for fd in range(0, 3):
        os.close(fd)
    while True:
        try:
            wpid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(1)
        if wpid == pid:
            break
    if os.WIFSIGNALED(status):
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status))


def _norm(v):
    if isinstance(v, tuple):
        return [_norm(x) for x in v]
    if isinstance(v, list):
        return [_norm(x) for x in v]
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    return v


def _name(e):
    """An exception's class name, reduced to characters that are safe inside a JSON string."""
    n = "".join(c for c in type(e).__name__ if c.isascii() and (c.isalnum() or c in "._"))
    return n[:80] or "Exception"


def main(job=None):
    iso, job_fd, res_fd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    import builtins

    if job is None:  # run as a script; normally the bootstrap has read (harness code, job) already
        import marshal  # built in: no import cost; the job comes from the (trusted) host

        job = marshal.loads(_read_all(job_fd))
    nonce = job.pop("nonce")
    os.set_inheritable(res_fd, False)

    def send(event, status="", error_type="", result=None):
        # hand-built JSON: no ``json`` import on the stdio/assert path (import time is per-test cost)
        msg = '{"nonce": "%s", "event": "%s", "status": "%s", "error_type": "%s"' % (
            nonce, event, status, error_type)
        if result is not None:
            msg += ', "result": ' + result  # a json.dumps() string
        data = (msg + "}\n").encode()
        while data:
            data = data[os.write(res_fd, data):]

    if iso == "unshare":
        _build_root(job)
        _become_child_of_init(job.get("backstop_s", 60))
    import resource

    for name, (soft, hard) in job["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (soft, hard))
    if job.get("uid") is not None and os.getuid() == 0:
        os.setgroups([])
        os.setgid(job["uid"])
        os.setuid(job["uid"])
    os.chdir(job["cwd"])
    os.environ.clear()
    os.environ.update(job["env"])

    mode, code = job["mode"], job["code"]
    sys.argv[:] = ["solution.py"]
    send("start")  # from here on, everything (compiling included) is the candidate's time and fault
    try:
        compiled = compile(code, "<solution>", "exec")
    except (SyntaxError, ValueError) as e:  # ValueError: null bytes
        send("end", "syntax_error", _name(e))
        os._exit(0)
    except BaseException as e:  # MemoryError / RecursionError on absurd sources
        send("end", "error", _name(e))
        os._exit(0)
    args = None
    if mode == "call":
        import json

        try:
            args = [json.loads(line) for line in job["input"].split("\n") if line.strip()]
        except ValueError as e:
            send("end", "bad_test", "JSONDecodeError")
            os._exit(0)
    g = {"__name__": "solution" if mode == "call" else "__main__", "__builtins__": builtins}
    status, etype, result = "ok", "", None
    try:
        if mode == "assert" and job.get("setup_code"):
            exec(compile(job["setup_code"], "<setup>", "exec"), g)
        exec(compiled, g)
        if mode == "call":
            ep = job["entry_point"]
            sol = g.get("Solution")
            if isinstance(sol, type) and hasattr(sol, ep):
                fn = getattr(sol(), ep)
            elif ep in g:
                fn = g[ep]
            else:
                raise NameError("entry point %r not defined" % ep)
            result = json.dumps(json.dumps(_norm(fn(*args))))  # a JSON string holding the JSON value
        elif mode == "assert":
            exec(compile(job["input"], "<test>", "exec"), g)
    except SystemExit as e:  # stdio programs may end with sys.exit(0); tests may not
        if not (mode == "stdio" and e.code in (None, 0)):
            status, etype = "error", "SystemExit"
    except BaseException as e:
        status, etype = "error", _name(e)
        try:
            import traceback

            traceback.print_exc(limit=8)
        except BaseException:
            pass
    if status == "ok":
        try:  # like interpreter exit: wait for non-daemon threads (the threading.stack_size idiom), flush
            if mode == "stdio" and "threading" in sys.modules:
                sys.modules["threading"]._shutdown()
            sys.stdout.flush()
        except BaseException as e:
            status, etype = "error", _name(e)
    try:
        sys.stderr.flush()
    except BaseException:
        pass
    send("end", status, etype, result)
    os._exit(0)


if __name__ == "__main__":
    main()
