"""In-sandbox supervisor: ``python -I -S -c BOOTSTRAP ISOLATION JOB_FD RESULT_FD``, one per sample.

The bootstrap (``isolation.BOOTSTRAP``) reads the first frame of the job from ``JOB_FD`` --
``marshal((code objects of codec.py, candidate.py, driver.py and this file, header))`` -- executes
them into one namespace and calls ``main(header)``. Standalone on purpose (stdlib only, never
imports cskit): it runs with the base interpreter, inside the namespaces, without the venv.

1. ``unshare`` mode only: build a minimal root (tmpfs + read-only binds of /usr, the interpreter
   prefix, a few /etc files, /dev nodes, a fresh /proc, a size-capped /tmp), ``chroot`` into it;
   the namespace init (pid 1) forks and waits, the supervisor runs in the child;
2. fork the candidate zygote (``candidate.zygote``) from the header alone -- the code, limits and
   mode -- and only *then* read the second, trusted frame (tests, nonce, setup code, helpers), so no
   process forked from the zygote ever holds a test program or an expected value;
3. per test: ask the zygote for a fresh child under a new private uid; for call/assert tests fork a
   driver (``driver.drive``) under the driver's own uid, connected to the child by a socketpair;
   feed stdin, drain and cap stdout/stderr, enforce the wall-clock limit, kill every process of the
   run's uid when it ends (a setsid()/double-fork grandchild included), empty /tmp, and write one
   ``{"event": "test", ...}`` line for it to ``RESULT_FD``, which no candidate process can reach
   (closed before the zygote starts; the supervisor is root, the candidate is not).

The supervisor is the only writer of ``RESULT_FD``; every message carries the job's nonce. The host
still validates every message (``isolation.run_sample``) and never trusts its shape.
"""
import os
import sys
import time

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


def _become_child_of_init(backstop_s, close_fds=()):
    """unshare mode: stay as the namespace's init (pid 1, root) and run the candidate in a child, so
    that the candidate gets normal signal semantics; init's exit tears the namespace down. Init also
    keeps a wall-clock backstop, should the host process die without killing the launcher."""
    pid = os.fork()
    if pid == 0:
        return
    import signal

    signal.signal(signal.SIGALRM, lambda *a: os._exit(137))
    signal.alarm(int(backstop_s))
    for fd in (0, 1, 2, *close_fds):
        try:
            os.close(fd)
        except OSError:
            pass
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




def read_frame(fd):
    """One 8-byte-length-prefixed frame from ``fd``."""
    def rd(n):
        b = bytearray()
        while len(b) < n:
            c = os.read(fd, min(n - len(b), 1 << 20))
            if not c:
                raise EOFError("job stream ended early")
            b += c
        return bytes(b)
    return rd(int.from_bytes(rd(8), "big"))


def close_except(keep):
    """Close every descriptor >= 3 except ``keep``."""
    lo = 3
    for fd in sorted(k for k in keep if k >= 3):
        os.closerange(lo, fd)
        lo = fd + 1
    os.closerange(lo, 1 << 16)


class Supervisor:
    """Runs one sample's tests (see the module docstring)."""

    def __init__(self, worker, job_fd, res_fd):
        self.worker, self.job_fd, self.res_fd = worker, job_fd, res_fd
        self.write_host = fd_writer(res_fd)  # noqa: F821 - codec.py, same namespace
        self.switch = worker.get("uid") is not None and os.getuid() == 0
        self.base_uid = worker.get("uid")
        self.uid_span = int(worker.get("uid_span", 1 << 20)) - 1
        self.runs = 0
        self.nonce = worker["nonce"]
        self.cwd = worker["cwd"]
        self.job = None

    # ------------------------------------------------------------ plumbing
    def host(self, **msg):
        msg["nonce"] = self.nonce
        self.write_host((JSON_DUMPS(msg) + "\n").encode())  # noqa: F821

    def ctl_send(self, msg, fds=()):
        import socket

        socket.send_fds(self.ctl, [encode(msg).encode()], list(fds))  # noqa: F821

    def ctl_recv(self, timeout):
        import select
        import socket

        r, _, _ = select.select([self.ctl], [], [], timeout)
        if not r:
            return None
        data, fds, _f, _a = socket.recv_fds(self.ctl, 1 << 16, 4)
        for fd in fds:
            os.close(fd)
        if not data:
            raise EOFError("the candidate zygote is gone")
        return decode(data)  # noqa: F821

    def next_uid(self):
        self.runs = self.runs % self.uid_span + 1
        return self.base_uid + self.runs if self.switch else None

    def start_prelude_zygote(self):
        """Fork the warm zygote every sample's candidate zygote is forked from (before any sample)."""
        import base64  # noqa: F401 - imported once, used per test
        import resource  # noqa: F401
        import select  # noqa: F401
        import socket

        self.zctl, zyg = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                self.zctl.close()
                close_except({zyg.fileno()})  # the job pipe and the result pipe are gone from here on
                prelude_zygote(zyg)  # noqa: F821 - candidate.py
            except BaseException:
                pass
            os._exit(0)
        zyg.close()

    def start_zygote(self):
        """This sample's candidate zygote, forked by the prelude zygote from the header alone."""
        import socket

        import marshal

        self.ctl, zyg = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        job = self.job
        candidate_job = {"mode": job["mode"], "code": job["code"], "setup_imports": job.get("setup_imports", ""),
                         "rlimits": sorted(job["rlimits"].items())}
        r, w = os.pipe()
        socket.send_fds(self.zctl, [b"sample"], [zyg.fileno(), r])
        zyg.close()
        os.close(r)
        try:
            fd_writer(w)(marshal.dumps(candidate_job))  # noqa: F821
        except OSError:
            pass
        finally:
            os.close(w)

    def kill_run(self, uid, pid):
        """SIGKILL every process of a run: all of its uid (atomically, by ``kill(-1)`` from a helper
        under that uid), or its process group when there is no private uid."""
        import signal

        if uid is None:
            for f in (os.killpg, os.kill):
                try:
                    f(pid, signal.SIGKILL)
                except OSError:
                    pass
            return
        if not self.uid_alive(uid):
            return
        h = os.fork()
        if h == 0:
            try:
                os.setresuid(uid, uid, uid)
                os.kill(-1, signal.SIGKILL)
            except BaseException:
                pass
            os._exit(0)
        os.waitpid(h, 0)

    def uid_alive(self, uid):
        try:
            pids = [p for p in os.listdir("/proc") if p.isdigit()]
        except OSError:
            return True
        for p in pids:
            try:
                if os.stat("/proc/" + p).st_uid == uid:
                    return True
            except OSError:
                pass
        return False

    def clean_cwd(self):
        try:
            names = os.listdir(self.cwd)
        except OSError:
            return
        if names:
            import shutil

            for n in names:
                p = os.path.join(self.cwd, n)
                try:
                    if os.path.isdir(p) and not os.path.islink(p):
                        shutil.rmtree(p, ignore_errors=True)
                    else:
                        os.unlink(p)
                except OSError:
                    pass

    def clean_ipc(self):
        """Remove the System V IPC objects a run left behind (the IPC namespace outlives runs)."""
        ids = {}
        for kind in ("shm", "sem", "msg"):
            try:
                with open("/proc/sysvipc/" + kind) as f:
                    lines = f.read().splitlines()[1:]
            except OSError:
                continue
            ids[kind] = [int(ln.split()[1]) for ln in lines if len(ln.split()) > 1 and ln.split()[1].isdigit()]
        if not any(ids.values()):
            return
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        for i in ids.get("shm", []):
            libc.shmctl(i, 0, None)  # IPC_RMID
        for i in ids.get("sem", []):
            libc.semctl(i, 0, 0)
        for i in ids.get("msg", []):
            libc.msgctl(i, 0, None)

    def spawn_driver(self, inp, sd):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                null = os.open("/dev/null", os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                close_except({sd.fileno(), w})
                if self.switch:
                    os.setgroups([])
                    os.setresgid(self.base_uid, self.base_uid, self.base_uid)
                    os.setresuid(self.base_uid, self.base_uid, self.base_uid)
                import resource

                for name, (soft, hard) in self.job["rlimits"].items():
                    resource.setrlimit(getattr(resource, name), (soft, hard))
                drive(self.driver_job, inp, sd.fileno(), w)  # noqa: F821 - driver.py
            except BaseException:
                pass
            os._exit(121)
        os.close(w)
        return pid, r

    # ------------------------------------------------------------ one run of the candidate
    def run(self, inp, kind):
        import base64
        import select
        import socket

        job = self.job
        cap_out, cap_err = job["max_output_bytes"], job["stderr_cap"]
        uid = self.next_uid()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        in_w = st_r = sd = None
        pending = b""
        if kind == "stdio":
            in_r, in_w = os.pipe()
            st_r, st_w = os.pipe()
            child = [in_r, out_w, err_w, st_w]
            pending = inp.encode("utf-8", "surrogateescape")
        else:
            sd, sc = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            null = os.open("/dev/null", os.O_RDONLY)
            child = [null, out_w, err_w, sc.fileno()]
        t0 = time.monotonic()
        deadline = t0 + job["timeout_s"]
        self.ctl_send({"op": "run", "uid": uid, "kind": kind}, child)
        for fd in child:
            os.close(fd)
        if sd is not None:
            sc.detach()
        msg = self.ctl_recv(10.0)
        if not msg or msg.get("op") != "pid":
            raise EOFError("the candidate zygote did not start a run")
        cpid = msg["pid"]
        dpid = res_r = None
        if kind == "serve":
            dpid, res_r = self.spawn_driver(inp, sd)
            sd.close()
        elif kind == "inproc":
            sd.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                send_frame(sd.sendall, encode({"setup": self.driver_job["setup_code"], "test": inp}).encode())  # noqa: F821
            except OSError:
                pass
            res_r = os.dup(sd.fileno())
            sd.close()
        else:
            res_r = st_r
        if in_w is not None:
            os.set_blocking(in_w, False)
            if not pending:
                os.close(in_w)
                in_w = None
        bufs = {out_r: bytearray(), err_r: bytearray(), res_r: bytearray()}
        open_fds = set(bufs)
        exit_rc = None
        timed_out = overflow = False
        killed = cand_killed = False
        t_end = None
        drain_until = None

        def kill_candidate():
            nonlocal cand_killed
            if not cand_killed:
                cand_killed = True
                self.kill_run(uid, cpid)

        def finish_kill():
            nonlocal killed
            if not killed:
                killed = True
                kill_candidate()
                if dpid is not None:
                    try:
                        os.kill(dpid, 9)
                    except OSError:
                        pass

        while True:
            now = time.monotonic()
            if kind == "serve":
                if exit_rc is not None:
                    kill_candidate()  # its stragglers must not keep the driver's socket open
                finished = res_r not in open_fds and exit_rc is not None
                if res_r not in open_fds:
                    t_end = t_end or now
                    kill_candidate()
            else:
                finished = exit_rc is not None
            if finished:
                if drain_until is None:
                    t_end = t_end or now
                    finish_kill()
                    drain_until = now + 1.0
                if not (open_fds & {out_r, err_r, res_r}) or now > drain_until:
                    break
            if now >= deadline and not killed:
                timed_out = True
                t_end = now
                finish_kill()
            rl = list(open_fds) + ([self.ctl] if exit_rc is None else [])
            wl = [in_w] if in_w is not None else []
            wait = 0.05 if (killed or finished) else max(0.0, deadline - now)
            r, w, _ = select.select(rl, wl, [], min(wait, 1.0))
            if w:
                try:
                    n = os.write(in_w, pending[:1 << 16])
                    pending = pending[n:]
                except BlockingIOError:
                    n = 0
                except OSError:
                    pending = b""
                if not pending:
                    os.close(in_w)
                    in_w = None
            for fd in r:
                if fd is self.ctl:
                    m = self.ctl_recv(0)
                    if m and m.get("op") == "exit":
                        exit_rc = m.get("rc")
                        if kind != "serve":
                            t_end = t_end or time.monotonic()
                    continue
                try:
                    chunk = os.read(fd, 1 << 16)
                except OSError:
                    chunk = b""
                if not chunk:
                    open_fds.discard(fd)
                    os.close(fd)
                    continue
                b = bufs[fd]
                if fd == out_r:
                    b += chunk
                    if len(b) > cap_out:
                        del b[cap_out:]
                        if not overflow and not timed_out:
                            overflow = True
                            t_end = time.monotonic()
                            finish_kill()
                elif fd == err_r:
                    if len(b) < cap_err:
                        b += chunk[:cap_err - len(b)]
                elif len(b) <= cap_out + 65536:
                    b += chunk
        for fd in open_fds:
            os.close(fd)
        if in_w is not None:
            os.close(in_w)
        if dpid is not None:
            try:
                os.waitpid(dpid, 0)
            except ChildProcessError:
                pass
        self.clean_cwd()
        self.clean_ipc()
        res = {"rc": exit_rc, "time_s": round((t_end or time.monotonic()) - t0, 4),
               "stderr": bufs[err_r].decode("utf-8", "replace")}
        if kind == "stdio" or job.get("want_stdout"):
            res["stdout"] = base64.b64encode(bytes(bufs[out_r])).decode()
        if timed_out:
            res["status"] = "timeout"
        elif overflow:
            res["status"] = "output_limit"
        elif kind == "stdio":
            line = bytes(bufs[res_r]).decode("utf-8", "replace").split("\n")[0].split(" ")
            if line[0] in ("ok", "error"):
                res["status"], res["etype"] = line[0], (line[1] if len(line) > 1 else "")[:80]
            else:
                res["status"] = "exited"
        elif kind == "serve":
            self.read_driver(bytes(bufs[res_r]), res)
        else:
            self.read_inproc(bytes(bufs[res_r]), res)
        return res

    def read_driver(self, raw, res):
        try:
            if len(raw) < 4:
                raise ValueError("no result from the driver")
            out = JSON_LOADS(raw[4:].decode())  # noqa: F821 - the driver is trusted
            res.update(status=out["status"], etype=out["etype"], detail=out["detail"])
            if out.get("result") is not None:
                res["result"] = out["result"]
            if out.get("fallback"):
                res["fallback"] = out["fallback"]
        except BaseException as e:
            res.update(status="harness_error", etype="DriverError", detail="the test driver failed: %s" % e)

    def read_inproc(self, raw, res):
        try:
            msg = decode(raw[4:]) if len(raw) >= 4 else None  # noqa: F821 - the candidate's say-so
            if type(msg) is not dict or msg.get("status") not in ("ok", "error"):
                res["status"] = "exited"
                return
            res["status"] = msg["status"]
            res["etype"] = str(msg.get("etype", ""))[:80]
        except BaseException:
            res["status"] = "exited"

    # ------------------------------------------------------------ the sample
    def serve(self):
        """One sample after another until the host closes the job stream."""
        self.start_prelude_zygote()
        self.host(event="worker_ready")
        while True:
            try:
                header = marshal_loads(read_frame(self.job_fd))
            except EOFError:
                return
            self.job = header
            self.start_zygote()
            try:
                self.run_sample(marshal_loads(read_frame(self.job_fd)))
            finally:
                self.ctl.close()  # the sample's zygote exits on EOF
                self.job = None

    def run_sample(self, trusted):
        self.nonce = trusted["nonce"]
        job = self.job
        mode = job["mode"]
        self.driver_job = {"mode": mode, "entry_point": job.get("entry_point", ""),
                           "setup_code": trusted.get("setup_code", ""), "max_bytes": job["max_output_bytes"],
                           "helpers": helpers_source(trusted.get("starter_code", ""),  # noqa: F821 - driver.py
                                                     job.get("entry_point", "")) if mode == "assert" else ""}
        msg = self.ctl_recv(job["startup_timeout_s"])
        if not msg:
            self.host(event="fatal", reason="the candidate zygote did not start")
            return
        if msg.get("op") == "compile_error":
            self.host(event="ready")
            for i, _ in enumerate(trusted["tests"]):
                self.host(event="test", i=i, status="syntax_error", etype=str(msg.get("etype", ""))[:80],
                          time_s=0.0, stderr="")
            self.host(event="done")
            return
        self.host(event="ready")
        kind = "stdio" if mode == "stdio" else "serve"
        for i, inp in enumerate(trusted["tests"]):
            self.host(event="start", i=i)
            res = self.run(inp, kind)
            if res.get("fallback"):
                reason = res["fallback"]
                self.host(event="start", i=i)
                res = self.run(inp, "inproc")
                res["level"], res["fallback"] = "in_process", reason
            else:
                res["level"] = "process"
            self.host(event="test", i=i, **res)
            if res["status"] == "timeout" and trusted.get("skip_after_timeout"):
                break
        self.host(event="done")


def marshal_loads(b):
    import marshal

    return marshal.loads(b)


def main(job=None):
    iso, job_fd, res_fd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.set_inheritable(res_fd, False)
    os.set_inheritable(job_fd, False)
    if iso == "unshare":
        _build_root(job)
        _become_child_of_init(job.get("backstop_s", 60), (job_fd, res_fd))
    os.chdir(job["cwd"])
    os.environ.clear()
    os.environ.update(job["env"])
    sup = Supervisor(job, job_fd, res_fd)
    try:
        sup.serve()
    except BaseException as e:
        try:
            sup.host(event="fatal", reason="supervisor: %s: %s" % (type(e).__name__, str(e)[:300]))
        except BaseException:
            pass
    os._exit(0)
