"""In-sandbox supervisor: ``python -I -S -c BOOTSTRAP ISOLATION JOB_FD RESULT_FD``, one per sandbox.

The bootstrap (``isolation.BOOTSTRAP``) reads the first frame of the job from ``JOB_FD`` -- the code
objects of ``isolation.SHIPPED`` (codec, confine, candidate, driver, outcomes and this file) and the
worker settings, marshalled -- executes them into one namespace and calls ``main(settings)``; samples
then follow on ``JOB_FD`` as pairs of frames (header, trusted half) until the host closes it.
Standalone on purpose (stdlib only, never imports cskit): it runs with the base interpreter, inside
the namespaces, without the venv.

1. ``unshare`` mode only: build a minimal root (tmpfs + read-only binds of /usr, the interpreter
   prefix, a few /etc files, /dev nodes, a fresh /proc, a size-capped /tmp), ``chroot`` into it;
   the namespace init (pid 1) forks and waits, the supervisor runs in the child;
2. fork two warm prelude zygotes (``candidate.prelude_zygote``: with and without LiveCodeBench's
   prelude) before reading any sample, so nothing forked from them ever holds a test;
3. per sample: read the header (code, mode, limits) and have a prelude zygote fork the sample's
   candidate zygote from it; only *then* read the trusted half (tests, nonce, setup code, helpers);
4. per test: hand the run's command and descriptors to the process the zygote made for it (asked for
   while the previous test ran: ``f`` forks one, ``z`` makes the zygote itself the sample's last run);
   it reports its pid, drops the zygote's sockets and becomes the run under a new private uid. For
   assert tests hand the run's socket to the driver (``driver.serve_tests``: one per sandbox, forked
   from this process under the driver's own uid, restarted after a kill); for call tests decode the
   run's outcome frame (``outcomes.call_outcome``); feed stdin, drain and cap stdout/stderr, enforce the
   wall-clock limit, kill every process of the run's uid when it ends (a setsid()/double-fork
   grandchild included), empty /tmp and System V IPC, and write one ``{"event": "test", ...}`` line
   to ``RESULT_FD``, which no candidate process can reach (closed in every zygote; the supervisor is
   root, the candidate is not). The run's exit status comes from its parent (the zygote, or for the
   ``z`` run the prelude zygote) as ``x PID RC``; no process that has run candidate code holds a
   zygote socket.

The supervisor is the only writer of ``RESULT_FD``; every message carries the job's nonce. The host
still validates every message (``isolation.SandboxWorker``) and never trusts its shape.
"""
import os
import sys
import time


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
        self.job = self.driver_job = None
        self.zygotes = {}
        self.dserver = None
        self.driver_sample = None
        self.exited = []
        self.tests = []
        self.ctl = self.rctl = None
        self.zygote_pid = None
        self.zygote_used = False   # it was asked to become a run (``z``): no more requests to it
        self.pending = False       # a process for the next run has been asked for and not used yet

    # ------------------------------------------------------------ plumbing
    def host(self, **msg):
        msg["nonce"] = self.nonce
        self.write_host((JSON_DUMPS(msg) + "\n").encode())  # noqa: F821

    @staticmethod
    def sock_recv(sock, timeout, what):
        """One message from a zygote socket as a list of words (``None`` on timeout). Only the zygotes
        and run processes before they run candidate code write these sockets; still, anything that
        is not the expected shape raises ``EOFError`` (the sample's sandbox side is broken)."""
        import select
        import socket

        r, _, _ = select.select([sock], [], [], timeout)
        if not r:
            return None
        data, fds, _f, _a = socket.recv_fds(sock, 256, 4)
        for fd in fds:
            os.close(fd)
        if not data:
            raise EOFError("the %s is gone" % what)
        words = data.decode("ascii", "replace").split(" ")
        if words[0] in ("x", "p", "ready") and not all(w.lstrip("-").isdigit() for w in words[1:]):
            raise EOFError("malformed message from the %s" % what)
        return words

    def request_process(self, last):
        """Ask the zygote for the process of the next run: a fresh fork (``f``), or, for the sample's
        last run, the zygote itself (``z``: saves a fork; its exit is reported by the prelude zygote)."""
        if self.pending or self.zygote_used:
            return
        self.ctl.send(b"z" if last else b"f")
        self.pending = True
        self.zygote_used = bool(last)

    def next_uid(self):
        self.runs = self.runs % self.uid_span + 1
        return self.base_uid + self.runs if self.switch else None

    def prelude_zygote_ctl(self, with_prelude):
        """The warm zygote that samples' candidate zygotes are forked from: one with LiveCodeBench's
        prelude imported (stdio/call), one without (assert: a smaller process forks faster). Both are
        forked at start-up, before the supervisor reads any sample, so neither (nor anything forked
        from them) ever holds a test, not even in freed memory."""
        import socket

        key = bool(with_prelude)
        if key in self.zygotes:
            return self.zygotes[key]
        if self.job is not None:
            raise RuntimeError("prelude zygotes are forked before the first sample only")
        zctl, zyg = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                for other in self.zygotes.values():
                    other.close()
                zctl.close()
                close_except({zyg.fileno()})  # the job pipe and the result pipe are gone from here on
                self.job = self.driver_job = None
                prelude_zygote(zyg, key)  # noqa: F821 - candidate.py
            except BaseException:
                pass
            os._exit(0)
        zyg.close()
        self.zygotes[key] = zctl
        return zctl

    def start_zygote(self):
        """This sample's candidate zygote, forked by the prelude zygote from the header alone."""
        import socket

        import marshal

        self.close_zygote()
        self.ctl, zyg = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.rctl, ryg = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.zygote_pid, self.zygote_used, self.pending = None, False, False
        job = self.job
        candidate_job = {"mode": job["mode"], "code": job["code"], "setup_imports": job.get("setup_imports", ""),
                         "entry_point": job.get("entry_point", ""), "rlimits": sorted(job["rlimits"].items())}
        r, w = os.pipe()
        socket.send_fds(self.prelude_zygote_ctl(job["mode"] != "assert"), [b"sample"], [zyg.fileno(), ryg.fileno(), r])
        zyg.close()
        ryg.close()
        os.close(r)
        try:
            fd_writer(w)(marshal.dumps(candidate_job))  # noqa: F821
        except OSError:
            pass
        finally:
            os.close(w)

    def close_zygote(self):
        """Hang up on the sample's zygote (it, and a run process still waiting for a command, exit)."""
        for sock in (self.ctl, self.rctl):
            if sock is not None:
                sock.close()
        self.ctl = self.rctl = None

    def zygote_ready(self, timeout):
        """Wait for the zygote's first message: ``["ready", pid]``, ``["compile_error", etype]`` or
        ``None`` (it did not start in time)."""
        msg = self.sock_recv(self.ctl, timeout, "candidate zygote")
        if msg and msg[0] == "ready" and len(msg) == 2:
            self.zygote_pid = int(msg[1])
        return msg

    def kill_run(self, uid, pid):
        kill_run(uid, pid)  # noqa: F821 - confine.py

    def clean_run(self):
        clean_dir(self.cwd)  # noqa: F821 - confine.py
        clean_ipc()  # noqa: F821

    def driver_server(self):
        """The sandbox's driver: ``(pid, control socket, result pipe)``, forked on first use (and again
        after one had to be killed). It lives across samples, so its interpreter stays warm; each
        sample's trusted half reaches it over a pipe (``send_sample``)."""
        import socket

        if self.dserver is not None:
            return self.dserver
        dctl, dz = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                null = os.open("/dev/null", os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                close_except({dz.fileno(), w})
                self.tests = self.driver_job = None  # it gets each sample's tests from the pipe
                if self.switch:
                    os.setgroups([])
                    os.setresgid(self.base_uid, self.base_uid, self.base_uid)
                    os.setresuid(self.base_uid, self.base_uid, self.base_uid)
                import resource

                for name, (soft, hard) in self.job["rlimits"].items():
                    if name == "RLIMIT_CPU":  # one driver serves many tests; each one's wall clock is enforced
                        continue
                    resource.setrlimit(getattr(resource, name), (soft, hard))
                serve_tests(dz, w)  # noqa: F821 - driver.py
            except BaseException:
                pass
            os._exit(121)
        dz.close()
        os.close(w)
        self.dserver = (pid, dctl, r)
        self.driver_sample = None
        return self.dserver

    def send_sample(self, dctl):
        """Hand the driver this sample's trusted half (once per sample and driver)."""
        import marshal
        import socket

        if self.driver_sample == self.nonce:
            return
        r, w = os.pipe()
        socket.send_fds(dctl, [b"sample"], [r])
        os.close(r)
        try:
            fd_writer(w)(marshal.dumps((self.driver_job, self.tests)))  # noqa: F821
        finally:
            os.close(w)
        self.driver_sample = self.nonce

    def drop_driver(self, kill):
        if self.dserver is None:
            return
        pid, dctl, r = self.dserver
        self.dserver = None
        if kill:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        dctl.close()  # the driver leaves on this hang-up; it is reaped later, without waiting here
        os.close(r)
        self.exited.append(pid)
        self.reap(block=kill)

    def reap(self, block=False):
        """Reap drivers that have ended (all of them when ``block``)."""
        left = []
        for pid in self.exited:
            try:
                done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
            except ChildProcessError:
                continue
            if not done:
                left.append(pid)
        self.exited = left

    # ------------------------------------------------------------ one run of the candidate
    def run(self, i, inp, kind, nxt=None):
        """One run of the candidate on test ``i``; ``nxt`` says what follows (``None``: nothing;
        ``"f"`` or ``"z"``: another run, the sample's last when ``"z"``), so that its process can be
        made while this one runs."""
        import base64
        import select
        import socket

        job = self.job
        if not self.pending:
            if self.zygote_used:  # the zygote became an earlier run (a fallback asked for one more)
                self.start_zygote()
                msg = self.zygote_ready(job["startup_timeout_s"])
                if not msg or msg[0] != "ready":
                    raise EOFError("the candidate zygote did not restart")
            self.request_process(nxt is None)
        cap_out, cap_err = job["max_output_bytes"], job["stderr_cap"]
        uid = self.next_uid()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        in_w = st_r = sd = None
        pending = b""
        if kind in ("stdio", "call"):  # call: the arguments on stdin, the outcome as a frame on descriptor 3
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
        socket.send_fds(self.rctl, [b"run %s %s" % (kind.encode(), b"-" if uid is None else b"%d" % uid)], child)
        self.pending = False
        for fd in child:
            os.close(fd)
        if sd is not None:
            sc.detach()
        if in_w is not None:  # most inputs fit the pipe: written now, not after a wake-up in the loop below
            os.set_blocking(in_w, False)
            try:
                pending = pending[os.write(in_w, pending[:1 << 16]):] if pending else b""
            except BlockingIOError:
                pass
            except OSError:
                pending = b""
            if not pending:
                os.close(in_w)
                in_w = None
        msg = self.sock_recv(self.rctl, 10.0, "candidate zygote")
        if not msg or msg[0] != "p" or len(msg) != 2:
            raise EOFError("the candidate zygote did not start a run")
        cpid = int(msg[1])
        if nxt is not None:
            self.request_process(nxt == "z")  # forked while this run runs
        if uid is None:  # no private uid: the host must know the run's process group to end it on abort
            self.host(event="pgid", pgid=cpid)
        dpid = res_r = None
        if kind == "serve":
            dpid, dctl, res_r = self.driver_server()
            try:
                self.send_sample(dctl)
                socket.send_fds(dctl, [b"%d" % i], [sd.fileno()])
            except OSError:
                pass
            sd.close()
        elif kind == "inproc":
            sd.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                job_msg = encode({"setup": self.driver_job["setup_code"], "test": inp})  # noqa: F821
                send_frame(sd.sendall, job_msg.encode())  # noqa: F821
            except OSError:
                pass
            res_r = os.dup(sd.fileno())
            sd.close()
        else:
            res_r = st_r
        bufs = {out_r: bytearray(), err_r: bytearray(), res_r: bytearray()}
        open_fds = set(bufs)
        exit_rc = None
        timed_out = overflow = False
        killed = cand_killed = ending = False
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
                rb = bufs[res_r]
                have = res_r not in open_fds or (len(rb) >= 4 and len(rb) >= 4 + int.from_bytes(rb[:4], "big"))
                if exit_rc is not None and not have:
                    kill_candidate()  # its stragglers must not keep the driver's socket open
                finished = have and exit_rc is not None
                if have:
                    t_end = t_end or now
                    if exit_rc is None and now > t_end + 0.05:
                        kill_candidate()  # it should have left on the driver's hang-up
            else:
                finished = exit_rc is not None
            if finished:
                if drain_until is None:
                    t_end = t_end or now
                    kill_candidate()
                    ending = True
                    drain_until = now + 1.0
                if not (open_fds & ({out_r, err_r} if kind == "serve" else {out_r, err_r, res_r})) \
                        or now > drain_until:
                    break
            if now >= deadline and not killed and not ending and not (kind == "serve" and t_end):
                timed_out = True
                t_end = now
                finish_kill()
            rl = list(open_fds) + ([self.ctl] if exit_rc is None else [])
            wl = [in_w] if in_w is not None else []
            wait = 0.01 if (killed or ending or t_end) else max(0.0, deadline - now)
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
                    m = self.sock_recv(self.ctl, 0, "candidate zygote")
                    if m and m[0] == "x" and len(m) == 3 and int(m[1]) == cpid:
                        exit_rc = int(m[2])
                        if kind != "serve":
                            t_end = t_end or time.monotonic()
                    elif m and m[0] == "x" and len(m) == 3 and int(m[1]) == self.zygote_pid:
                        raise EOFError("the candidate zygote is gone")
                    continue
                try:
                    chunk = os.read(fd, 1 << 16)
                except OSError:
                    chunk = b""
                if not chunk:
                    open_fds.discard(fd)
                    if not (kind == "serve" and fd == res_r):  # drop_driver closes the driver's pipe
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
                    if kind == "call" and len(b) > cap_out + 4 and not overflow and not timed_out:
                        overflow = True  # the return value's encoding is over the output cap
                        t_end = time.monotonic()
                        finish_kill()
        if kind == "serve":  # the driver's pipe outlives the run, unless the driver had to go
            driver_gone = res_r not in open_fds
            open_fds.discard(res_r)
            if timed_out or overflow or driver_gone:
                self.drop_driver(kill=True)
        for fd in open_fds:
            os.close(fd)
        if in_w is not None:
            os.close(in_w)
        self.clean_run()
        res = {"rc": exit_rc, "time_s": round((t_end or time.monotonic()) - t0, 4),
               "stderr": bufs[err_r].decode("utf-8", "replace")}
        if kind == "stdio" or job.get("want_stdout"):
            res["stdout"] = base64.b64encode(bytes(bufs[out_r])).decode()
        if timed_out:
            res["status"] = "timeout"
        elif overflow:
            res["status"] = "output_limit"
        elif kind == "stdio":
            stdio_outcome(bytes(bufs[res_r]), res)  # noqa: F821 - outcomes.py
        elif kind == "call":
            call_outcome(bytes(bufs[res_r]), res, job["max_output_bytes"])  # noqa: F821
        elif kind == "serve":
            driver_outcome(bytes(bufs[res_r]), res)  # noqa: F821
        else:
            inproc_outcome(bytes(bufs[res_r]), res)  # noqa: F821
        return res


    # ------------------------------------------------------------ the sample
    def serve(self):
        """One sample after another until the host closes the job stream."""
        import gc

        # forked before the supervisor imports what only it uses (base64 brings binascii and libz, select):
        # every run is a fork of these, and each mapped library is five more mappings to copy and unmap
        self.prelude_zygote_ctl(True)
        self.prelude_zygote_ctl(False)
        import base64  # noqa: F401 - imported once, used per test
        import resource  # noqa: F401
        import select  # noqa: F401

        gc.freeze()  # forked drivers do not copy the supervisor's heap when their collector runs
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
                self.close_zygote()  # the sample's zygote exits on EOF
                self.job = None

    def run_sample(self, trusted):
        self.run_tests(trusted)

    def run_tests(self, trusted):
        self.nonce = trusted["nonce"]
        self.tests = trusted["tests"]
        job = self.job
        mode = job["mode"]
        self.driver_job = {"mode": mode, "entry_point": job.get("entry_point", ""),
                           "setup_code": trusted.get("setup_code", ""), "max_bytes": job["max_output_bytes"],
                           "helpers": helpers_source(trusted.get("starter_code", ""),  # noqa: F821 - driver.py
                                                     job.get("entry_point", "")) if mode == "assert" else ""}
        tests = trusted["tests"]
        self.request_process(len(tests) == 1)  # the first run's process is forked as soon as the code compiled
        msg = self.zygote_ready(job["startup_timeout_s"])
        if not msg or msg[0] not in ("ready", "compile_error"):
            self.host(event="fatal", reason="the candidate zygote did not start")
            return
        if msg[0] == "compile_error":
            self.host(event="ready")
            etype = "".join(c for c in " ".join(msg[1:]) if c.isalnum() or c in "._")[:80]
            for i, _ in enumerate(tests):
                self.host(event="test", i=i, status="syntax_error", etype=etype, time_s=0.0, stderr="")
            self.host(event="done")
            return
        self.host(event="ready")
        kind = mode if mode in ("stdio", "call") else "serve"
        n = len(tests)
        for i, inp in enumerate(tests):
            nxt = None if i == n - 1 else ("z" if i == n - 2 else "f")
            res = self.run(i, inp, kind, nxt)  # the host takes test i to start after "ready" or test i - 1
            if res.get("fallback"):
                reason = res["fallback"]
                self.host(event="start", i=i)
                res = self.run(i, inp, "inproc", nxt)
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
        build_root(job)  # noqa: F821 - confine.py
        become_child_of_init(job.get("backstop_s", 60), (job_fd, res_fd))  # noqa: F821
    if job.get("cpu") is not None:  # the whole sandbox on one CPU (SandboxLimits.pin_workers)
        try:
            os.sched_setaffinity(0, {int(job["cpu"])})
        except (OSError, ValueError):
            pass
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
