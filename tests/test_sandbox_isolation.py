"""cskit.sandbox OS-level guarantees, one adversarial test each, run under every isolation that works
here (bwrap and/or unshare; skipped where neither does): no network, no host files, scrubbed env,
no surviving (grand)children, contained fork bombs, no leaked temp dirs.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid

import pytest

from cskit.problems import Problem, TestCase
from cskit.sandbox import SandboxError, SandboxLimits, execute, grade, grade_many
from cskit.sandbox.isolation import TMP_PREFIX, _works

MODES = [m for m in ("bwrap", "unshare") if _works(m)]
if not MODES:  # pragma: no cover - machines without namespaces
    pytest.skip("no sandbox isolation works on this machine", allow_module_level=True)

STDIO = Problem("io", "prints", "stdio", [TestCase("", "")])
REPO_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pyproject.toml")


@pytest.fixture(params=MODES)
def lim(request) -> SandboxLimits:
    return SandboxLimits(isolation=request.param, timeout_s=3.0, use_problem_time_limit=False)


def run(code: str, lim: SandboxLimits, stdin: str = "") -> str:
    e = execute(STDIO, textwrap.dedent(code), stdin, lim)
    assert e.isolation == lim.isolation
    assert e.verdict == "ok", (e.verdict, e.error_type, e.stderr[-500:])
    return e.output.strip()


def _procs_with_token(token: str) -> list[int]:
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if token.encode() in f.read():
                        out.append(int(pid))
            except OSError:
                pass
    return out


def _gone(token: str, wait_s: float = 2.0) -> bool:
    t_end = time.monotonic() + wait_s
    while _procs_with_token(token):
        if time.monotonic() > t_end:
            return False
        time.sleep(0.05)
    return True


def test_no_network_even_to_host_loopback(lim):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    try:
        out = run(f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=1).close()
                print("CONNECTED")
            except OSError as e:
                print("blocked", type(e).__name__)
            try:
                socket.getaddrinfo("example.com", 80)
                print("DNS")
            except OSError:
                print("nodns")
        """, lim)
    finally:
        srv.close()
    assert out.startswith("blocked") and "CONNECTED" not in out and out.endswith("nodns")


def test_env_is_scrubbed(lim, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "secret123")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret456")
    out = run("""
        import os
        print(sorted(os.environ.items()))
        for pid in ("self", "1", "2"):  # the process's initial environment, and its parents'
            try:
                print(open(f"/proc/{pid}/environ", "rb").read())
            except OSError:
                pass
    """, lim)
    assert "secret123" not in out and "secret456" not in out and "HF_TOKEN" not in out


def test_host_files_not_writable_nor_readable(lim, tmp_path):
    target = tmp_path / "host.txt"
    target.write_text("host data")
    out = run(f"""
        for op in ("a", "r"):
            try:
                with open({str(target)!r}, op) as f:
                    f.write("pwned") if op == "a" else print("READ", f.read())
                print(op, "ok")
            except OSError as e:
                print(op, "denied", type(e).__name__)
        try:
            open({str(tmp_path / 'new.txt')!r}, "w").write("x"); print("created")
        except OSError:
            print("nocreate")
    """, lim)
    assert target.read_text() == "host data" and not (tmp_path / "new.txt").exists()
    assert "a denied" in out and "r denied" in out and "READ" not in out and "nocreate" in out


def test_home_caches_credentials_and_checkout_hidden(lim, tmp_path, monkeypatch):
    home = tmp_path / "home"
    tok = home / ".cache" / "huggingface" / "token"
    tok.parent.mkdir(parents=True)
    tok.write_text("hf_secret_token")
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_rsa").write_text("PRIVATE KEY")
    monkeypatch.setenv("HOME", str(home))
    paths = [str(tok), str(home / ".ssh" / "id_rsa"), "~/.cache/huggingface/token", REPO_FILE,
             "/root/.cache/huggingface/token", "/root/.ssh/id_rsa", "/root/.bash_history", "/etc/shadow"]
    out = run(f"""
        import os
        for p in {paths!r}:
            try:
                print("READ", p, open(os.path.expanduser(p)).read()[:20])
            except OSError as e:
                print("no", type(e).__name__)
        print(os.path.exists({os.path.dirname(REPO_FILE)!r}), os.listdir("/root"), os.getuid())
    """, lim)
    assert "READ" not in out and "secret" not in out and "PRIVATE" not in out
    exists, listing, uid = out.splitlines()[-1].split(" ", 1)[0], *out.splitlines()[-1].rsplit(" ", 1)
    pre = os.path.realpath(sys.base_prefix)
    only = [pre.split("/")[2]] if pre.startswith("/root/") else []  # just the path to the interpreter
    assert exists == "False" and listing.split(" ", 1)[1] == repr(only) and uid != "0"


def test_cwd_is_private_tmp_and_writable(lim):
    out = run("import os\nopen('f.txt','w').write('hi')\nprint(os.getcwd(), open('f.txt').read(), "
              "sorted(os.listdir('/tmp')))", lim)
    assert out == "/tmp hi ['f.txt']"


def test_setsid_grandchild_does_not_survive(lim):
    token = "cskit-grandchild-" + uuid.uuid4().hex
    code = f"""
        import os, sys, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", {token!r}])
            os._exit(0)
        time.sleep(0.3)
        print(open("/proc/self/status").read().count("Pid"))
    """
    # control: without namespaces the grandchild escapes the process group (proves the probe sees it)
    run(code, SandboxLimits(isolation="none", timeout_s=3.0))
    escaped = _procs_with_token(token)
    for pid in escaped:
        os.kill(pid, 9)
    assert escaped, "control failed: the grandchild was never started"
    assert _gone(token)
    run(code, lim)
    assert _gone(token), "a setsid()+double-fork grandchild survived the run"
    # the same when the candidate itself times out and is killed
    t = execute(STDIO, textwrap.dedent(code.replace("time.sleep(0.3)", "time.sleep(60)")), "",
                SandboxLimits(isolation=lim.isolation, timeout_s=0.5, use_problem_time_limit=False))
    assert t.verdict == "timeout"
    assert _gone(token), "a grandchild survived a timeout kill"


def test_process_cap_and_fork_bomb_contained(lim):
    small = SandboxLimits(isolation=lim.isolation, timeout_s=1.0, max_processes=12, use_problem_time_limit=False)
    out = run("""
        import os, time
        n = 0
        for i in range(100):
            try:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                n += 1
            except OSError:
                break
        print(n)
    """, small)
    assert 0 < int(out) < 12
    comm = "bomb" + uuid.uuid4().hex[:10]  # process name, inherited by every fork
    bomb = f"import ctypes, os\nctypes.CDLL(None).prctl(15, {comm.encode()!r}, 0, 0, 0)\n" \
           "while True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    r = grade(STDIO, bomb, small)
    assert r.verdict == "timeout" and not r.passed
    t_end = time.monotonic() + 3
    while _procs_named(comm) and time.monotonic() < t_end:
        time.sleep(0.05)
    assert not _procs_named(comm), "fork-bomb processes left behind"
    assert subprocess.run(["true"]).returncode == 0  # the host can still fork


def _procs_named(comm: str) -> list[str]:
    out = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == comm:
                    out.append(pid)
        except OSError:
            pass
    return out


def test_file_size_and_tmpfs_caps(lim):
    small = SandboxLimits(isolation=lim.isolation, max_file_bytes=1 << 20, tmpfs_mb=4)
    out = run("""
        try:
            open("big", "wb").write(b"x" * (2 << 20)); print("big-ok")
        except OSError as e:
            print("fsize", type(e).__name__)
        n = 0
        try:
            for i in range(20):
                open(f"f{i}", "wb").write(b"x" * (900 << 10)); n += 1
        except OSError as e:
            print("full", n)
    """, small)
    assert out.startswith("fsize") and "big-ok" not in out and "full" in out


def test_no_leaks_after_batch(lim):
    tmp = tempfile.gettempdir()
    before = {d for d in os.listdir(tmp) if d.startswith(TMP_PREFIX)}
    token = "cskit-batch-" + uuid.uuid4().hex
    bg = f"import os, sys\nif os.fork() == 0:\n    os.setsid()\n    os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(60)', {token!r}])\n"
    items = [(STDIO, bg + "print()"), (STDIO, bg + "while True: pass"), (STDIO, "print(1)")] * 2
    res = grade_many(items, SandboxLimits(isolation=lim.isolation, timeout_s=0.5), workers=2, progress=False)
    assert [r.verdict for r in res] == ["passed", "timeout", "wrong_answer"] * 2
    assert _gone(token)
    assert {d for d in os.listdir(tmp) if d.startswith(TMP_PREFIX)} == before


def test_none_mode_cleans_tempdir(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    e = execute(STDIO, "import os\nprint(os.getcwd())", "", SandboxLimits(isolation="none"))
    assert e.verdict == "ok" and e.isolation == "none" and e.output.startswith(str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_forced_isolation_from_env(monkeypatch):
    for mode in MODES:
        monkeypatch.setenv("CSKIT_SANDBOX_ISOLATION", mode)
        assert grade(STDIO, "print()", SandboxLimits()).isolation == mode
    monkeypatch.setenv("CSKIT_SANDBOX_ISOLATION", "bogus")
    with pytest.raises(ValueError):
        grade(STDIO, "print()", SandboxLimits())


def test_forced_unavailable_isolation_errors(monkeypatch):
    import cskit.sandbox.isolation as iso

    monkeypatch.setattr(iso, "_works", lambda kind: kind == "none")
    with pytest.raises(SandboxError, match="does not work"):
        grade(STDIO, "print()", SandboxLimits(isolation="bwrap"))


def test_privileges_dropped(lim):
    out = run("""
        import os
        st = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
        print(os.getuid(), os.getgid(), os.getgroups(), st["CapEff"].strip(), st["NoNewPrivs"].strip())
    """, lim)
    uid, gid, groups, caps, nnp = out.split(" ", 2)[0], out.split(" ", 2)[1], *out.split(" ", 2)[2].rsplit(" ", 2)
    if os.getuid() == 0:  # root drops to a private uid; an unprivileged caller keeps its own
        assert int(uid) >= 100000 and int(gid) >= 100000 and groups == "[]"
    assert int(caps, 16) == 0 and nnp == "1"


def test_nothing_crosses_between_runs_of_one_warm_sandbox(lim):
    """A batch reuses one sandbox per thread: a run's files, processes and System V IPC objects are
    gone before the next run (of the same sample or of the next one), and each run has a fresh uid."""
    token = "cskit-left-" + uuid.uuid4().hex
    leave = textwrap.dedent(f"""
        import ctypes, os, sys
        open("left.txt", "w").write("x")
        os.mkdir("leftdir")
        print(ctypes.CDLL(None).shmget(0x1234, 4096, 0o1666) >= 0, os.getuid())
        if os.fork() == 0:
            os.setsid()
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", {token!r}])
    """)
    check = textwrap.dedent(f"""
        import os
        shm = len(open("/proc/sysvipc/shm").read().splitlines()) - 1
        procs = []
        for p in os.listdir("/proc"):
            try:
                procs.append({token!r} in open(f"/proc/{{p}}/cmdline").read())
            except OSError:
                pass
        print(sorted(os.listdir(".")), shm, any(procs))
    """)
    two = Problem("two", "s", "stdio", [TestCase("", "True"), TestCase("", "True")])
    clean = Problem("clean", "s", "stdio", [TestCase("", "[] 0 False")])
    one = SandboxLimits(isolation=lim.isolation, timeout_s=3.0, use_problem_time_limit=False)
    res = grade_many([(two, leave), (clean, check), (two, leave), (clean, check)], one, workers=1, progress=False)
    assert [r.verdict for r in res] == ["wrong_answer", "passed", "wrong_answer", "passed"], \
        [(t.verdict, t.detail) for r in res for t in r.tests]
    uids = [t.detail.split("got 'True ")[1].split("\\n")[0] for t in res[0].tests + res[2].tests]
    assert len(set(uids)) == 4, uids  # shmget worked, and every run had its own uid
    assert _gone(token)
