"""Mutation check: are a problem's tests strong enough to catch plausible wrong code?

``mutation_check(problems, limits=...)`` applies small AST mutations to each problem's reference
(``solutions[0]``):

* comparison / boundary flips: ``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``;
* integer constants +1 and -1;
* ``and`` <-> ``or``;
* dropped branches: an ``if`` body removed (replaced by ``pass``), an ``else``/``elif`` removed;
* dropped statements (any statement but ``def``/``class``/``import``, replaced by ``pass``).

Each mutant is then

1. graded against the problem's tests -- in the sandbox: all mutants of a problem run in one sandboxed
   *driver* process (``cskit.sandbox.execute``), each test in a fresh namespace under a per-test
   timer, and the outputs are compared on the host with the sandbox's own comparators
   (``compare_stdio`` / ``compare_call``; assert tests pass when the test program completes).
   ``grader="grade"`` uses ``cskit.sandbox.grade_many`` instead (one process per test: exact, slower);
2. if it passes every test, run with the reference on a large random input sample (again in the
   sandbox): a mutant that agrees with the reference on every input is *equivalent* and discarded;
   otherwise it is a *survivor* (wrong code the tests miss).

Inputs for the agreement sample: procedural problems use their family's generator
(``cskit.problems.procedural.agreement_inputs``); other problems fuzz their test inputs (the argument
values of call tests or of the entry-point calls in assert lines; the integer and word tokens of stdin,
keeping a ``count`` line consistent with the list after it), and inputs on which the reference fails
(out of its domain) are dropped. The kill share of a problem is killed / (killed + survivors).
"""
from __future__ import annotations

import ast
import copy
import json
import random
import re
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Sequence

from cskit.problems.record import Problem

__all__ = ["mutants", "mutation_check", "MutationReport", "ProblemMutation", "format_report", "mutation_main",
           "fuzz_inputs"]

_CMP_FLIP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
_NO_DROP = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Pass)


# ----------------------------------------------------------------------------- mutants
def _sites(tree: ast.AST) -> list[tuple[int, str, Any]]:
    """(node index in ast.walk order, operator, detail) of every applicable mutation."""
    out = []
    for i, node in enumerate(ast.walk(tree)):
        if isinstance(node, ast.Compare):
            for j, op in enumerate(node.ops):
                if type(op) in _CMP_FLIP:
                    out.append((i, "cmp", j))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            out += [(i, "const", +1), (i, "const", -1)]
        elif isinstance(node, ast.BoolOp):
            out.append((i, "boolop", None))
        if isinstance(node, ast.If):
            out.append((i, "drop_if_body", None))
            if node.orelse:
                out.append((i, "drop_else", None))
        for attr in ("body", "orelse", "finalbody"):
            body = getattr(node, attr, None)
            if isinstance(body, list) and not isinstance(node, ast.Module):
                for j, st in enumerate(body):
                    if isinstance(st, ast.stmt) and not isinstance(st, _NO_DROP):
                        out.append((i, "drop_stmt", (attr, j)))
            elif isinstance(body, list):  # module level: statements, not defs
                for j, st in enumerate(body):
                    if isinstance(st, ast.stmt) and not isinstance(st, _NO_DROP):
                        out.append((i, "drop_stmt", (attr, j)))
    return out


def _apply(tree: ast.AST, site: tuple[int, str, Any]) -> ast.AST:
    t = copy.deepcopy(tree)
    i, op, detail = site
    node = list(ast.walk(t))[i]
    if op == "cmp":
        node.ops[detail] = _CMP_FLIP[type(node.ops[detail])]()
    elif op == "const":
        node.value = node.value + detail
    elif op == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif op == "drop_if_body":
        node.body = [ast.Pass()]
    elif op == "drop_else":
        node.orelse = []
    elif op == "drop_stmt":
        attr, j = detail
        getattr(node, attr)[j] = ast.Pass()
    return ast.fix_missing_locations(t)


def mutants(code: str, max_mutants: int | None = None, seed: int = 0) -> list[tuple[str, str]]:
    """Distinct ``(operator, source)`` mutants of ``code`` (sources differ from the reference's unparse).
    With ``max_mutants``, a deterministic random subset of that size."""
    tree = ast.parse(code)
    base = ast.unparse(tree)
    seen, out = {base}, []
    for site in _sites(tree):
        try:
            src = ast.unparse(_apply(tree, site))
            compile(src, "<mutant>", "exec")
        except (SyntaxError, ValueError, RecursionError):
            continue
        if src not in seen:
            seen.add(src)
            out.append((site[1], src))
    if max_mutants is not None and len(out) > max_mutants:
        keep = sorted(random.Random(f"mutants:{seed}").sample(range(len(out)), max_mutants))
        out = [out[k] for k in keep]
    return out


# ----------------------------------------------------------------------------- the in-sandbox driver
# A stdio program run by cskit.sandbox.execute: reads a JSON job on stdin, runs codes on inputs, prints one
# JSON line per result. Each run gets a fresh namespace, redirected stdin/stdout and an interval timer.
_DRIVER = r'''
import builtins, copy, io, json, signal, sys
JOB = json.loads(sys.stdin.read())
REAL = sys.stdout
class _Timeout(BaseException):
    pass
def _alarm(*a):
    raise _Timeout()
signal.signal(signal.SIGALRM, _alarm)
def run(code, kind, inp, budget):
    buf = io.StringIO()
    sys.stdin = io.StringIO(inp if kind == "stdio" else "")
    sys.stdout = buf
    try:
        signal.setitimer(signal.ITIMER_REAL, budget)
        try:
            if kind == "stdio":
                g = {"__name__": "__main__", "__builtins__": builtins}
                try:
                    exec(compile(code, "<candidate>", "exec"), g)
                except SystemExit as e:
                    if e.code not in (None, 0):
                        return ["error", "SystemExit"]
                return ["ok", buf.getvalue()]
            g = {"__name__": "solution", "__builtins__": builtins}
            exec(compile(JOB["setup"] + "\n" + code, "<candidate>", "exec"), g)
            if kind == "assert":
                exec(compile(inp, "<test>", "exec"), g)
                return ["ok", ""]
            ep = JOB["entry"]
            f = getattr(g["Solution"](), ep) if "Solution" in g and hasattr(g["Solution"], ep) else g[ep]
            return ["ok", json.dumps(f(*copy.deepcopy(inp)))]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Timeout:
        return ["timeout", ""]
    except BaseException as e:
        return ["error", type(e).__name__]
    finally:
        sys.stdout = REAL
        sys.stdin = sys.__stdin__
def norm(r):
    if r[0] != "ok" or JOB["run_kind"] != "stdio":
        return r
    lines = [l.strip() for l in r[1].replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return ["ok", "\n".join(lines)]
def emit(obj):
    REAL.write(json.dumps(obj) + "\n")
    REAL.flush()
if JOB["mode"] == "tests":
    for ci, code in enumerate(JOB["codes"]):
        res, timed_out = [], False
        for inp in JOB["inputs"]:
            if timed_out:
                res.append(["timeout", ""])
                continue
            r = run(code, JOB["run_kind"], inp, JOB["budget"])
            timed_out = r[0] == "timeout"
            res.append(r)
        emit({"c": ci, "res": res})
else:
    ref = [norm(run(JOB["codes"][0], JOB["run_kind"], inp, JOB["budget"])) for inp in JOB["inputs"]]
    keep = [k for k, r in enumerate(ref) if r[0] == "ok"]
    emit({"c": 0, "domain": len(keep)})
    for ci in range(1, len(JOB["codes"])):
        diff = None
        for k in keep:
            if norm(run(JOB["codes"][ci], JOB["run_kind"], JOB["inputs"][k], JOB["budget"])) != ref[k]:
                diff = k
                break
        emit({"c": ci, "diff": diff})
emit({"done": True})
'''


def _driver_problem():
    from cskit.problems.record import TestCase

    return Problem(id="mutation-driver", statement="driver", kind="stdio", tests=[TestCase("", "")])


def _run_driver(job: dict, n_codes: int, limits, timeout_s: float) -> dict[int, dict]:
    """Run the driver; returns {code index: result}. Codes whose result is missing (the process died
    or timed out) are absent."""
    from cskit.sandbox import execute

    lim = replace(limits, timeout_s=float(timeout_s), use_problem_time_limit=False)
    res = execute(_driver_problem(), _DRIVER, json.dumps(job), lim)
    out: dict[int, dict] = {}
    for line in (res.output or "").splitlines():
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if "c" in d:
            out[d["c"]] = d
    return out


def _driver_all(job_base: dict, codes: list[str], limits, per_code_s: float, mode: str) -> dict[int, dict]:
    """Run all codes, restarting after a code whose run killed the driver (its result is then missing)."""
    results: dict[int, dict] = {}
    agree = mode == "agree"  # code 0 (the reference) runs first in every agreement batch
    remaining = list(range(1 if agree else 0, len(codes)))
    while remaining:
        batch = ([0] if agree else []) + remaining
        job = dict(job_base, mode=mode, codes=[codes[i] for i in batch])
        got = _run_driver(job, len(batch), limits, timeout_s=10 + per_code_s * len(batch))
        missing = None
        for pos, ci in enumerate(batch):
            if pos in got:
                results[ci] = got[pos]
            elif missing is None:
                missing = pos
        if missing is None:
            break
        if agree and missing == 0:
            raise RuntimeError("the reference solution failed in the mutation driver")
        results[batch[missing]] = {"c": batch[missing], "crashed": True}
        remaining = [ci for ci in batch[missing + 1:] if not (agree and ci == 0)]
    return results


# ----------------------------------------------------------------------------- inputs
def _test_args(problem: Problem) -> list[list]:
    """Argument lists of a call problem's tests, or of the entry-point calls in an assert problem's tests."""
    out = []
    if problem.kind == "call":
        for t in problem.tests:
            try:
                out.append([json.loads(x) for x in t.input.splitlines() if x.strip()])
            except ValueError:
                pass
        return out
    for t in problem.tests:
        try:
            tree = ast.parse(t.input)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == problem.entry_point:
                try:
                    out.append([ast.literal_eval(a) for a in node.args])
                except ValueError:
                    pass
    return out


def _fuzz_value(v: Any, rng: random.Random, seen: list) -> Any:
    if isinstance(v, bool):
        return rng.random() < 0.5
    if isinstance(v, int):
        ints = [x for x in seen if isinstance(x, int) and not isinstance(x, bool)] or [v]
        lo, hi = min(ints), max(ints)
        span = max(10, hi - lo)
        low = 0 if lo >= 0 else lo - span
        r = rng.random()
        if r < 0.3:
            return max(low, v + rng.randint(-2, 2))
        return rng.randint(low, hi + span)
    if isinstance(v, float):
        fl = [x for x in seen if isinstance(x, (int, float)) and not isinstance(x, bool)] or [v]
        lo, hi = min(fl), max(fl)
        low = 0.0 if lo >= 0 else lo - 10
        return round(rng.uniform(low, hi + 10), rng.choice([0, 1, 1, 2]))
    if isinstance(v, str):
        chars = "".join(sorted(set("".join(x for x in seen if isinstance(x, str))))) or "ab"
        lens = [len(x) for x in seen if isinstance(x, str)] or [3]
        n = rng.randint(min(lens), max(lens) + 3)
        return "".join(rng.choice(chars) for _ in range(n))
    if isinstance(v, list):
        lists = [x for x in seen if isinstance(x, list)] or [v]
        elems = [e for x in lists for e in x]
        lens = [len(x) for x in lists]
        n = rng.randint(min(lens), max(lens) + 3)
        if not elems:
            return []
        if all(isinstance(e, list) for e in elems):  # list of lists
            return [_fuzz_value(rng.choice(elems), rng, elems) for _ in range(n)]
        proto = [e for e in elems if not isinstance(e, list)]
        return [_fuzz_value(rng.choice(proto), rng, proto) for _ in range(n)]
    return v


def _fuzz_args(args_list: list[list], n: int, rng: random.Random) -> list[list]:
    if not args_list:
        return []
    width = max(len(a) for a in args_list)
    cols = [[a[k] for a in args_list if len(a) > k] for k in range(width)]
    out = [list(a) for a in args_list]
    while len(out) < n:
        base = rng.choice(args_list)
        new = [(_fuzz_value(v, rng, cols[k]) if rng.random() < 0.8 else v) for k, v in enumerate(base)]
        out.append(new)
    return out


_TOKEN = re.compile(r"\S+|\s+")


def _fuzz_stdin(tests_inputs: list[str], n: int, rng: random.Random) -> list[str]:
    ints = [int(t) for s in tests_inputs for t in s.split() if re.fullmatch(r"-?\d+", t)]
    words = [t for s in tests_inputs for t in s.split() if not re.fullmatch(r"-?\d+", t)]
    chars = "".join(sorted(set("".join(words)))) or "ab"
    lo, hi = (min(ints), max(ints)) if ints else (0, 10)
    span = max(10, hi - lo)
    low = 0 if lo >= 0 else lo - span
    pos_only = lo > 0

    def fint(v):
        x = max(low, v + rng.randint(-2, 2)) if rng.random() < 0.3 else rng.randint(low, hi + span)
        return max(1, x) if pos_only else x

    def ftok(tok):
        if re.fullmatch(r"-?\d+", tok):
            return str(fint(int(tok)))
        if rng.random() < 0.5:
            return tok
        return "".join(rng.choice(chars) for _ in range(max(1, len(tok) + rng.randint(-1, 2))))

    out = list(tests_inputs)
    while len(out) < n:
        base = rng.choice(tests_inputs)
        lines = base.split("\n")
        new = []
        i = 0
        while i < len(lines):
            ln = lines[i]
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            if re.fullmatch(r"\d+", ln.strip()) and nxt is not None and len(nxt.split()) == int(ln.strip()) and nxt.strip():
                m = rng.randint(1, max(1, int(ln.strip())) + 3)
                toks = nxt.split()
                new += [str(m), " ".join(ftok(rng.choice(toks)) for _ in range(m))]
                i += 2
                continue
            new.append("".join(ftok(t) if not t.isspace() else t for t in _TOKEN.findall(ln)))
            i += 1
        out.append("\n".join(new))
    return out


def fuzz_inputs(problem: Problem, n: int = 200, seed: int = 0) -> list:
    """Agreement inputs for a problem without a generator: its test inputs plus fuzzed variants."""
    rng = random.Random(f"fuzz:{seed}:{problem.id}")
    if problem.kind == "stdio":
        return _fuzz_stdin([t.input for t in problem.tests], n, rng)
    return _fuzz_args(_test_args(problem), n, rng)


def _one_pair(args) -> bool:
    try:
        nums, target = args
        return sum(nums[i] + nums[j] == target for i in range(len(nums)) for j in range(i + 1, len(nums))) == 1
    except (TypeError, ValueError):
        return False


# Stated preconditions the generic fuzzing cannot infer (problem id -> predicate on one agreement input);
# inputs outside them are dropped from the agreement sample. Inputs on which the reference fails are
# dropped anyway.
DOMAINS: dict[str, Callable[[Any], bool]] = {
    "bundled/call/two_sum": _one_pair,   # "exactly one answer exists"
}


def _agreement_inputs(problem: Problem, n: int, seed: int) -> list:
    from cskit.problems.procedural import agreement_inputs, family_of

    if family_of(problem) and problem.source == "procedural":
        extra = [t.input for t in problem.tests] if problem.kind == "stdio" else _test_args(problem)
        return extra + agreement_inputs(problem, n, seed)
    inputs = fuzz_inputs(problem, n, seed)
    pred = DOMAINS.get(problem.id)
    return [x for x in inputs if pred(x)] if pred else inputs


# ----------------------------------------------------------------------------- the check
@dataclass
class ProblemMutation:
    problem_id: str
    family: str
    n_mutants: int
    n_equivalent: int
    n_killed: int
    n_survived: int
    survivors: list[str] = field(default_factory=list)
    n_agreement_inputs: int = 0

    @property
    def n_nonequivalent(self) -> int:
        return self.n_killed + self.n_survived

    @property
    def kill_share(self) -> float:
        return self.n_killed / self.n_nonequivalent if self.n_nonequivalent else 1.0


@dataclass
class MutationReport:
    problems: list[ProblemMutation]
    threshold: float = 0.9

    @property
    def by_family(self) -> dict[str, dict[str, float]]:
        agg: dict[str, dict[str, float]] = defaultdict(lambda: {"killed": 0, "survived": 0, "equivalent": 0,
                                                                 "mutants": 0, "problems": 0})
        for p in self.problems:
            a = agg[p.family]
            a["killed"] += p.n_killed
            a["survived"] += p.n_survived
            a["equivalent"] += p.n_equivalent
            a["mutants"] += p.n_mutants
            a["problems"] += 1
        for a in agg.values():
            ne = a["killed"] + a["survived"]
            a["kill_share"] = a["killed"] / ne if ne else 1.0
        return dict(sorted(agg.items()))

    @property
    def min_problem_share(self) -> float:
        return min((p.kill_share for p in self.problems), default=1.0)

    @property
    def min_family_share(self) -> float:
        return min((f["kill_share"] for f in self.by_family.values()), default=1.0)

    @property
    def weak(self) -> list[ProblemMutation]:
        return [p for p in self.problems if p.kill_share < self.threshold]

    @property
    def ok(self) -> bool:
        return not self.weak and all(f["kill_share"] >= self.threshold for f in self.by_family.values())

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "ok": self.ok, "by_family": self.by_family,
                "problems": [dict(asdict(p), kill_share=p.kill_share) for p in self.problems]}


def _check_one(problem: Problem, limits, max_mutants: int, n_inputs: int, seed: int, grader: str,
               budget_s: float) -> ProblemMutation:
    ref = problem.solutions[0]
    ms = mutants(ref, max_mutants, seed=hash_seed(problem.id, seed))
    codes = [src for _, src in ms]
    fam = problem.task
    if not codes:
        return ProblemMutation(problem.id, fam, 0, 0, 0, 0)
    run_kind = problem.kind
    base = {"run_kind": run_kind, "setup": problem.setup_code or "", "entry": problem.entry_point or "",
            "budget": budget_s}
    # 1. grade every mutant on the problem's tests
    if grader == "grade":
        from cskit.sandbox import grade_many

        passed = [r.passed for r in grade_many([(problem, c) for c in codes], limits=limits, workers=1,
                                               progress=False)]
    else:
        from cskit.sandbox import compare_call, compare_stdio

        if run_kind == "call":
            inputs = [[json.loads(x) for x in t.input.splitlines() if x.strip()] for t in problem.tests]
        else:
            inputs = [t.input for t in problem.tests]
        got = _driver_all(dict(base, inputs=inputs), codes + [ref], limits, budget_s * len(inputs) + 0.5, "tests")
        passed = []
        for ci in range(len(codes) + 1):
            r = got.get(ci, {})
            if r.get("crashed") or "res" not in r:
                passed.append(False)
                continue
            ok = True
            for (status, out), t in zip(r["res"], problem.tests):
                if status != "ok":
                    ok = False
                elif run_kind == "stdio" and not compare_stdio(out, t.output):
                    ok = False
                elif run_kind == "call" and not compare_call(out, t.output):
                    ok = False
                if not ok:
                    break
            passed.append(ok)
        if not passed.pop():  # the reference itself, run the same way: it must pass
            raise RuntimeError(f"mutation check of {problem.id}: the reference fails its own tests in the driver "
                               f"({got.get(len(codes))})")
    # 2. mutants passing every test: equivalent (agree with the reference everywhere) or survivors
    cand = [ci for ci, ok in enumerate(passed) if ok]
    n_killed = len(codes) - len(cand)
    survivors, n_equiv, domain = [], 0, 0
    if cand:
        inputs = _agreement_inputs(problem, n_inputs, seed)
        agree_kind = "stdio" if run_kind == "stdio" else "call"
        job = dict(base, run_kind=agree_kind, inputs=inputs)
        got = _driver_all(job, [ref] + [codes[ci] for ci in cand], limits, budget_s * 4 + 0.05 * len(inputs),
                          "agree")
        domain = got.get(0, {}).get("domain", 0)
        for pos, ci in enumerate(cand, 1):
            r = got.get(pos, {})
            if r.get("crashed") or r.get("diff", 0) is not None:
                survivors.append(codes[ci])
            else:
                n_equiv += 1
    return ProblemMutation(problem.id, fam, len(codes), n_equiv, n_killed, len(survivors), survivors, domain)


def hash_seed(s: str, seed: int) -> int:
    import zlib

    return zlib.crc32(f"{seed}:{s}".encode()) & 0x7FFFFFFF


def mutation_check(problems: Sequence[Problem], *, limits=None, max_mutants_per_problem: int = 40,
                   agreement_inputs: int = 200, seed: int = 0, workers: int = 0, threshold: float = 0.9,
                   grader: str = "driver", budget_s: float = 0.5,
                   progress: Callable[[ProblemMutation], None] | None = None) -> MutationReport:
    """Mutate each problem's reference, discard equivalent mutants, grade the rest (see the module docstring)."""
    from cskit.sandbox import SandboxLimits

    if grader not in ("driver", "grade"):
        raise ValueError(f"grader must be 'driver' or 'grade', got {grader!r}")
    limits = limits or SandboxLimits()
    probs = [p for p in problems if p.has_tests and p.solutions]
    if workers <= 0:
        from cskit.sandbox.pool import default_workers

        workers = default_workers()

    def one(p):
        r = _check_one(p, limits, max_mutants_per_problem, agreement_inputs, seed, grader, budget_s)
        if progress:
            progress(r)
        return r

    if workers == 1 or len(probs) <= 1:
        results = [one(p) for p in probs]
    else:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            results = list(ex.map(one, probs))
    return MutationReport(results, threshold)


def format_report(report: MutationReport, *, show_survivors: int = 1) -> str:
    """Per-family and per-problem kill shares (weak ones flagged, with a surviving mutant each)."""
    th = report.threshold
    lines = [f"mutation check: {len(report.problems)} problems, threshold {th:.0%}", "", "per family:"]
    for fam, a in report.by_family.items():
        flag = "" if a["kill_share"] >= th else "   <-- WEAK"
        lines.append(f"  {fam:32s} killed {int(a['killed']):4d}/{int(a['killed'] + a['survived']):4d} "
                     f"({a['kill_share']:.0%}), equivalent {int(a['equivalent'])}, problems {int(a['problems'])}{flag}")
    lines += ["", "per problem:"]
    for p in sorted(report.problems, key=lambda p: (p.kill_share, p.problem_id)):
        flag = "" if p.kill_share >= th else "   <-- WEAK"
        lines.append(f"  {p.problem_id:40s} killed {p.n_killed:3d}/{p.n_nonequivalent:3d} ({p.kill_share:.0%}), "
                     f"equivalent {p.n_equivalent}{flag}")
        if p.kill_share < th:
            for s in p.survivors[:show_survivors]:
                lines += ["      surviving mutant:"] + ["        " + ln for ln in s.splitlines()]
    lines += ["", f"min kill share: family {report.min_family_share:.0%}, problem {report.min_problem_share:.0%} -> "
              + ("OK" if report.ok else "FAIL")]
    return "\n".join(lines)


def mutation_main(problems: Sequence[Problem], *, limits=None, threshold: float = 0.9,
                  max_mutants_per_problem: int = 40, agreement_inputs: int = 200, seed: int = 0,
                  grader: str = "driver", out: Callable[[str], Any] = print, json_path: str | None = None) -> int:
    """CLI helper: run the check, print the report, return 0 when every problem and family kills >= threshold."""
    report = mutation_check(problems, limits=limits, max_mutants_per_problem=max_mutants_per_problem,
                            agreement_inputs=agreement_inputs, seed=seed, threshold=threshold, grader=grader)
    out(format_report(report))
    if json_path:
        from cskit.io import write_json

        write_json(json_path, report.to_dict())
    return 0 if report.ok else 1
