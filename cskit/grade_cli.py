"""``cskit grade``: grade samples (JSONL) against problems (JSONL) in the sandbox.

    cskit grade --problems problems.jsonl --samples samples.jsonl --out results.jsonl [--workers N] [--timeout S]

A samples row is ``{"problem_id", "code"}`` or ``{"problem_id", "response"}`` (code = the last fenced
block of the response, lenient extraction). Each output row is the sample's ``problem_id`` and
``sample_idx`` (its line order) plus ``GradeResult.to_dict()``. A summary (verdict counts,
pass rate, isolation, time) is printed.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from cskit.runinfo import cpu_model

def lenient_code(response: str) -> str:
    """The last fenced code block, stripped ("" when there is none): the evaluation protocol's rule."""
    from cskit.extract import extract_lenient

    return extract_lenient(response)


def _load_samples(path: str, known: set[str]) -> list[tuple[str, str]]:
    from cskit.io import read_jsonl

    out = []
    for i, row in enumerate(read_jsonl(path), 1):
        if not isinstance(row, dict) or "problem_id" not in row:
            raise ValueError(f"{path}: sample {i}: field 'problem_id' is missing")
        pid = str(row["problem_id"])
        if pid not in known:
            raise ValueError(f"{path}: sample {i}: field 'problem_id': unknown problem {pid!r}")
        if isinstance(row.get("code"), str):
            code = row["code"]
        elif isinstance(row.get("response"), str):
            code = lenient_code(row["response"])
        else:
            raise ValueError(f"{path}: sample {i}: needs a string field 'code' or 'response'")
        out.append((pid, code))
    return out


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="cskit grade", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", required=True, help="problems JSONL (cskit format)")
    ap.add_argument("--samples", required=True, help="samples JSONL: problem_id + code or response")
    ap.add_argument("--out", required=True, help="results JSONL to write")
    ap.add_argument("--workers", type=int, default=0, help="parallel samples (0 = cores)")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per test (default: the problem's time_limit, else 2)")
    ap.add_argument("--memory-mb", type=int, default=1024)
    ap.add_argument("--isolation", default="auto", choices=["auto", "bwrap", "unshare", "none"])
    ap.add_argument("--no-progress", action="store_true")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from cskit.io import write_jsonl
    from cskit.problems import load_problems_jsonl
    from cskit.sandbox import SandboxLimits, grade_many

    problems = {p.id: p for p in load_problems_jsonl(args.problems)}
    samples = _load_samples(args.samples, set(problems))
    kw = dict(memory_mb=args.memory_mb, isolation=args.isolation)
    if args.timeout is not None:
        kw.update(timeout_s=args.timeout, use_problem_time_limit=False)
    limits = SandboxLimits(**kw)
    t0 = time.monotonic()
    results = grade_many([(problems[pid], code) for pid, code in samples], limits, workers=args.workers,
                         progress=not args.no_progress)
    wall = time.monotonic() - t0
    rows = []
    for i, ((pid, _), r) in enumerate(zip(samples, results)):
        rows.append({"problem_id": pid, "sample_idx": i, **r.to_dict()})
    write_jsonl(args.out, rows)
    n = len(results)
    counts = Counter(r.verdict for r in results)
    n_pass = counts.get("passed", 0)
    isos = sorted({r.isolation for r in results if r.isolation})
    n_tests = sum(len(r.tests) for r in results)
    print(f"graded {n} samples ({n_tests} tests) in {wall:.1f}s on {cpu_model()} with {args.workers or 'all'} "
          f"workers; isolation {','.join(isos) or '-'}")
    print(f"passed {n_pass}/{n} ({(n_pass / n if n else 0):.1%}); verdicts: "
          + ", ".join(f"{k}={v}" for k, v in counts.most_common()))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
