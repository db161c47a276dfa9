"""Sandboxed execution and grading of untrusted, model-generated Python. Nothing else in cskit runs
candidate code: ``grade``, ``grade_many`` and ``execute`` are the only entry points.

Each test runs in a fresh process ``python -I -S`` of the *base* interpreter (outside the venv, no
site-packages: candidates can import the standard library only, as on LiveCodeBench-style judges),
which receives the pre-compiled harness (``harness.py``) and the job over a pipe. It is started in
its own session/process group, under one of three isolations (``GradeResult.isolation`` says which):

* ``bwrap`` (bubblewrap, preferred when installed) and ``unshare`` (util-linux, needs root):
  new PID, network, mount, IPC and UTS namespaces. The filesystem is a minimal root: read-only
  ``/usr`` (+ ``/bin``, ``/lib*``), the interpreter's install prefix read-only, a few ``/etc`` files
  (passwd, group, ld.so.cache, localtime, nsswitch.conf), ``/dev/{null,zero,full,random,urandom}``,
  a ``/proc`` of the new PID namespace, and a private size-capped tmpfs ``/tmp`` as the working
  directory (gone when the run ends). Home directories, ``/root``, HF caches and credentials, the
  project checkout and its outputs, and the host's ``/tmp`` are simply not there. The network
  namespace has only a downed loopback: no connection to anything, not even the host's 127.0.0.1.
* ``none``: a plain subprocess with the same rlimits, scrubbed env and a temporary cwd, nothing more.
  ``auto`` (the default) refuses to fall back to it -- ``SandboxError`` -- unless
  ``SandboxLimits(allow_unisolated=True)`` or ``CSKIT_SANDBOX_ALLOW_UNISOLATED=1``; forcing it
  (``isolation="none"`` or ``CSKIT_SANDBOX_ISOLATION=none``) is an explicit opt-in.
  ``CSKIT_SANDBOX_ISOLATION=bwrap|unshare|none`` forces a mode (error if it does not work).

Covered (enforced by the kernel, not by Python patching), in bwrap/unshare mode:
* process cleanup: the harness is in a PID namespace whose init is killed with the launcher
  (``--kill-child`` / ``--die-with-parent``); on timeout or output overflow the host SIGKILLs the
  launcher's process group, and the kernel kills every process of the namespace, including ones
  that ``setsid()``/double-fork. Nothing survives a run;
* time: wall clock per test (from the candidate's start) plus ``RLIMIT_CPU``;
* memory ``RLIMIT_AS`` (default 1024 MB), file size ``RLIMIT_FSIZE``, open files, no core dumps;
* processes/threads: the candidate runs as a random private uid (100000+), with ``RLIMIT_NPROC``
  (enforced because it is not root); a fork bomb hits the cap without touching the host;
* privileges: uid/gid dropped, supplementary groups cleared, capabilities gone, ``no_new_privs``;
* environment: only PATH, LANG/LC_ALL, HOME=/tmp, TMPDIR, PYTHONIOENCODING; ``-I`` ignores PYTHON*;
* output: stdout is read incrementally and cut at ``max_output_bytes`` (verdict ``output_limit``,
  the run is killed); stderr keeps its first 64 KiB;
* honest verdicts: results travel over a separate pipe with a per-run random nonce, and a test is
  graded only after the harness reports that the candidate (and, for assert tests, the test program)
  completed: ``os._exit(0)``, ``sys.exit(0)`` before the asserts, a crash after printing the right
  answer, a closed stdout or an attempt to kill the parent never pass. Exceptions are never swallowed
  into success.

Not guaranteed:
* no seccomp syscall filter: the kernel's whole syscall surface is reachable (kernel exploits,
  ``/proc`` information of the sandbox's own namespace, ``/usr`` readable);
* timing and other side channels; CPU contention between concurrent runs (wall-clock limits depend
  on the machine -- record the CPU with results);
* in-process forgery: the candidate runs in the harness's own interpreter, so code written to
  *deliberately* introspect the harness (find the nonce in memory, write to the result pipe,
  monkeypatch ``json``) could forge a pass for call/assert tests; stdio outputs are compared on the
  host and cannot be forged this way. Expected outputs never enter the sandbox;
* memory that is not address space (e.g. tmpfs pages are capped by ``tmpfs_mb``, not RLIMIT_AS);
* in ``none`` mode: no filesystem or network isolation, and a ``setsid()`` grandchild may survive;
  when run as root there is no process cap (RLIMIT_NPROC is not enforced for root).

Program semantics: stdio programs run as ``__main__`` with real stdin/stdout; ``sys.exit(0)`` ends
them normally and non-daemon threads are joined as at interpreter exit (the ``threading.stack_size``
idiom works); ``atexit`` handlers are not run. Call-based code is loaded as module ``solution``
(its ``if __name__ == "__main__"`` block does not run).

Throughput: one sandboxed process per test; its cost is roughly 1.5-2.5x a bare
``python -I -S -c`` subprocess (measure with ``benchmarks/sandbox_throughput.py``); ``grade_many``
runs samples on a thread pool. After a sample's first timeout its remaining tests are ``skipped``.
"""
from __future__ import annotations

from cskit.sandbox.grading import (VERDICTS, ExecResult, GradeResult, TestResult, compare_call, compare_stdio,
                                   execute, grade)
from cskit.sandbox.isolation import SandboxError, isolation_available, resolve_isolation
from cskit.sandbox.limits import SandboxLimits
from cskit.sandbox.pool import grade_codes, grade_many

__all__ = ["SandboxLimits", "grade", "grade_many", "grade_codes", "execute", "GradeResult", "TestResult", "ExecResult",
           "isolation_available", "resolve_isolation", "SandboxError", "VERDICTS", "compare_stdio",
           "compare_call"]
