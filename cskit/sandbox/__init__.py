"""Sandboxed execution and grading of untrusted, model-generated Python. Nothing else in cskit runs
candidate code: ``grade``, ``grade_many``/``grade_codes`` and ``execute`` are the only entry points.

Layout of one sandbox (``isolation.py`` launches it; the rest runs inside it, stdlib only):

* the **supervisor** (``harness.py``; root inside the namespace) reads the job, enforces per-test
  limits, kills runs, and is the only writer of the result pipe to the host;
* a warm **prelude zygote** (``candidate.py``) with LiveCodeBench's import prelude loaded; per
  sample it forks that sample's **candidate zygote**, which compiles the code (never runs it) and
  never holds a test: the trusted half of the job (tests, nonce, setup code) is read only after;
* per test, a **fresh process** runs the candidate under a new private uid (one per run): a fork of
  the candidate zygote made while the previous test runs, or, for the sample's last test, the zygote
  itself (it has run nothing yet either); a call-kind run parses its arguments before any candidate
  code runs and reports the return value as one codec frame that the supervisor decodes; for assert
  tests the **driver** (``driver.py``; one per sandbox, forked from the supervisor under a uid of its
  own) runs the test program and reaches the candidate only through proxies that pass plain data
  (``codec.py``) over a socket.

``grade_many`` keeps one such sandbox per thread for a whole batch (a warm interpreter; start-up is
paid once per worker), ``grade`` starts one per call. Each sandbox runs ``python -I -S`` of the *base*
interpreter (outside the venv, no site-packages: candidates can import the standard library only, as
on LiveCodeBench-style judges), in its own session/process group, under one of three isolations
(``GradeResult.isolation`` says which):

* ``bwrap`` (bubblewrap, preferred when installed) and ``unshare`` (util-linux, needs root):
  new PID, network, mount, IPC and UTS namespaces. The filesystem is a minimal root: read-only
  ``/usr`` (+ ``/bin``, ``/lib*``), the interpreter's install prefix read-only, a few ``/etc`` files
  (passwd, group, ld.so.cache, localtime, nsswitch.conf), ``/dev/{null,zero,full,random,urandom}``,
  a ``/proc`` of the new PID namespace, and a private size-capped tmpfs ``/tmp`` as the working
  directory (emptied after every run). Home directories, ``/root``, HF caches and credentials, the
  project checkout and its outputs, and the host's ``/tmp`` are simply not there. The network
  namespace has only a downed loopback: no connection to anything, not even the host's 127.0.0.1.
* ``none``: plain processes with the same rlimits, scrubbed env and a temporary cwd, nothing more.
  ``auto`` (the default) refuses to fall back to it -- ``SandboxError`` -- unless
  ``SandboxLimits(allow_unisolated=True)`` or ``CSKIT_SANDBOX_ALLOW_UNISOLATED=1``; forcing it
  (``isolation="none"`` or ``CSKIT_SANDBOX_ISOLATION=none``) is an explicit opt-in.
  ``CSKIT_SANDBOX_ISOLATION=bwrap|unshare|none`` forces a mode (error if it does not work).

Covered (enforced by the kernel, not by Python patching), in bwrap/unshare mode with the host as root:
* verdicts the candidate cannot forge: assert-kind tests are decided in the driver, a process in
  which candidate code never ran, under a uid the candidate cannot signal, trace or read; call-kind
  return values are decoded by the supervisor and compared on the host; only plain data crosses
  (``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes``, ``list``, ``tuple``,
  ``dict``, ``set``, ``frozenset``; size/depth capped), decoded by a codec that builds no candidate
  type and calls nothing. Expected values and test programs never enter a candidate process
  (HumanEval's ``check``, MBPP's asserts, the problem's own helpers such as HumanEval/32's ``poly``
  run in the driver, taken from the problem, not from the completion; a call-kind run gets its
  arguments only). Patching builtins/json/compile, always-equal objects, forged result messages or
  outcome frames, frames and code objects of the test: none reaches the verdict. stdio outputs are
  compared on the host;
* the host never fails on what a sandbox sends: malformed, oversized, forged, duplicated or missing
  results become that test's ``harness_error`` (with the reason); a batch always yields one result
  per sample, in order;
* process cleanup: every process of a run is SIGKILLed by uid when the run ends (``setsid()`` and
  double-fork included); System V IPC objects and /tmp files are removed; the sandbox's PID
  namespace dies with its launcher (``--kill-child`` / ``--die-with-parent``), and on a missed
  deadline the host SIGKILLs the launcher's process group;
* time: wall clock per test (from the run's start) plus ``RLIMIT_CPU``;
* memory ``RLIMIT_AS`` (default 1024 MB), file size ``RLIMIT_FSIZE``, open files, no core dumps;
* processes/threads: each run has a fresh private uid (100000+) with ``RLIMIT_NPROC``; a fork bomb
  hits the cap without touching the host or the next run;
* privileges: uid/gid dropped, supplementary groups cleared, capabilities gone, ``no_new_privs``;
* environment: only PATH, LANG/LC_ALL, HOME=/tmp, TMPDIR, PYTHONIOENCODING; ``-I`` ignores PYTHON*;
* output: stdout is read incrementally and cut at ``max_output_bytes`` (verdict ``output_limit``,
  the run is killed); stderr keeps its first 16 KiB per test;
* honest exits: a stdio program passes only when its wrapper reported completion after the program
  ended; ``os._exit(0)``, ``sys.exit(0)`` inside a tested function, a crash after printing the right
  answer, a closed stdout or an attempt to kill the parent never pass. Exceptions are never
  swallowed into success (a dead or lying candidate fails the test even if the test catches errors).

Not guaranteed:
* the flagged fallback: a test that needs objects of candidate-defined classes (MBPP 367/927 build
  the solution's ``Node`` objects in their setup code) or passes the candidate non-plain data runs
  in the candidate's interpreter, as before; its verdict says ``isolation_level == "in_process"``
  and could be forged by code written to do so. ``cskit grade`` reports how many verdicts used it;
* stdio completion status is reported from inside the candidate's process (forging it gains
  nothing: the output is still compared on the host);
* no seccomp syscall filter: the kernel's whole syscall surface is reachable (kernel exploits,
  ``/proc`` information of the sandbox's own namespace, ``/usr`` readable);
* timing and other side channels; CPU contention between concurrent runs (wall-clock limits depend
  on the machine -- record the CPU with results);
* memory that is not address space (e.g. tmpfs pages are capped by ``tmpfs_mb``, not RLIMIT_AS);
* across the proxy, identity and in-place mutation of arguments are not visible to the test;
* without root (unprivileged bwrap, or ``none``): driver and candidate share one uid, so the driver
  can be traced or signalled by the candidate; in ``none`` mode there is also no filesystem or
  network isolation, a ``setsid()`` grandchild may survive, and as root there is no process cap.

Program semantics: stdio and call programs run with LiveCodeBench's import prelude
(``candidate.LCB_IMPORT_STRING``, mirrored from ``lcb_runner/evaluation/testing_util.py``) and its
``sys.setrecursionlimit(50000)``; assert programs (HumanEval, MBPP) without it. The prelude's ``random``
reseeds from ``os.urandom`` in every run's process, as in a fresh interpreter. stdio programs run as
``__main__`` with real stdin/stdout; ``sys.exit(0)`` ends them normally and non-daemon threads are
joined as at interpreter exit; ``atexit`` handlers are not run. Call- and assert-kind code is loaded
as module ``solution`` (its ``if __name__ == "__main__"`` block does not run); MBPP programs run in the
order code, ``test_setup_code``, tests (the setup's imports are visible to the code).

Throughput: one warm sandbox per worker, a fresh process per test, forked while the previous test runs
(``benchmarks/grading_throughput.py``); ``grade_many`` runs samples on a thread pool and, with one worker
per usable CPU, pins each worker's sandbox to a CPU of its own (``SandboxLimits.pin_workers``). After a
sample's first timeout its remaining tests are ``skipped``.
"""
from __future__ import annotations

from cskit.sandbox.grading import (ISOLATION_LEVELS, VERDICTS, ExecResult, GradeResult, TestResult, compare_call,
                                   compare_stdio, execute, grade, verdict_summary)
from cskit.sandbox.isolation import SandboxError, SandboxWorker, isolation_available, resolve_isolation
from cskit.sandbox.limits import SandboxLimits
from cskit.sandbox.pool import grade_codes, grade_many

__all__ = ["SandboxLimits", "grade", "grade_many", "grade_codes", "execute", "GradeResult", "TestResult", "ExecResult",
           "isolation_available", "resolve_isolation", "SandboxError", "SandboxWorker", "VERDICTS", "ISOLATION_LEVELS",
           "compare_stdio", "compare_call", "verdict_summary"]
