"""In-sandbox confinement helpers of the supervisor (shipped with ``harness.py``; stdlib only).

* ``build_root`` / ``become_child_of_init`` -- ``unshare`` mode: the minimal root filesystem and the
  namespace's init (bwrap does both itself);
* ``kill_run`` -- SIGKILL every process of a run: all processes of its private uid, atomically
  (``kill(-1)`` from a helper that took that uid: a ``setsid()``/double-fork grandchild included), or
  its process group when there is no private uid (then a ``setsid()`` grandchild escapes: ``none``
  mode only);
* ``clean_dir`` / ``clean_ipc`` -- what a run may leave for the next one: files in the working
  directory, System V IPC objects (the IPC namespace outlives runs).

Not guaranteed: POSIX message queues and abstract-namespace sockets are not swept (a run's sockets
close with its processes; no ``/dev/mqueue`` is mounted).
"""
import os


def build_root(job):
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


def become_child_of_init(backstop_s, close_fds=()):
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


def kill_run(uid, pid):
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
    if not uid_alive(uid):
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


def uid_alive(uid):
    """Is any process of ``uid`` left (in this PID namespace)?"""
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


def clean_dir(path):
    """Empty ``path`` (the runs' working directory)."""
    try:
        names = os.listdir(path)
    except OSError:
        return
    if names:
        import shutil

        for n in names:
            p = os.path.join(path, n)
            try:
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    os.unlink(p)
            except OSError:
                pass


def clean_ipc():
    """Remove the System V IPC objects a run left behind (the IPC namespace outlives runs)."""
    ids = {}
    for kind in ("shm", "sem", "msg"):
        try:
            fd = os.open("/proc/sysvipc/" + kind, os.O_RDONLY)
        except OSError:
            continue
        try:
            chunks = []
            while True:
                b = os.read(fd, 1 << 16)
                if not b:
                    break
                chunks.append(b)
        except OSError:
            continue
        finally:
            os.close(fd)
        lines = b"".join(chunks).decode("ascii", "replace").splitlines()[1:]
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
