"""Procedural problems: thousands of easy, distinct, deterministic problems from parameterised families.

Each family (``cskit.problems.procedural.families``) is one task -- a statement template, a parameter
sampler, a reference solution and an input generator covering edge cases -- rendered in the three test
kinds (stdio, call, assert). ``generate_problems(split, n, seed)`` returns ``n`` problems of the families
of ``split`` (``train``/``val``/``test``, fixed by :data:`FAMILY_SPLITS`: a family, in every kind, lives
in exactly one split, and families that resemble a bundled task share that task's bundled split).

Ids are ``proc/<family>/<kind>/<k>``; ``Problem.metadata`` records ``family``, ``task``, ``params`` and
``seed``; ``solutions[0]`` is the reference. Expected outputs are computed by running the (trusted,
kit-written) reference function on the host.

Families come in two levels (``Family.level``): ``standard`` (text, lists, numbers: a loop or a few
conditions) and ``basic`` (one expression with a parameter, within reach of a 135M model).

Source spec (for ``cskit.problems.sources``): ``procedural:<split>[:n[:seed]][:level=standard|basic]
[:kinds=stdio+call+assert]`` (default n = one per family of that level and kind, seed 0), via
:func:`procedural_source`.
"""
from __future__ import annotations

import json
import random
from typing import Any

from cskit.problems.procedural.families import FAMILIES, Family
from cskit.problems.record import Problem, TestCase

__all__ = ["FAMILIES", "FAMILY_SPLITS", "SPLITS", "LEVELS", "KINDS", "Family", "generate_problems", "make_problem",
           "family_of", "families_in", "agreement_inputs", "procedural_source", "reference_function"]

SPLITS = ("train", "val", "test")
LEVELS = ("standard", "basic")
KINDS = ("stdio", "call", "assert")
FAMILY_SPLITS: dict[str, str] = {name: f.split for name, f in sorted(FAMILIES.items())}
MAX_TESTS = 12
_FN_CACHE: dict[str, Any] = {}


def families_in(split: str, level: str | None = None) -> list[str]:
    """The families of ``split``; with ``level`` (``standard`` | ``basic``) only those of that level."""
    if split not in SPLITS:
        raise ValueError(f"procedural split must be one of {SPLITS}, got {split!r}")
    if level is not None and level not in LEVELS:
        raise ValueError(f"procedural level must be one of {LEVELS}, got {level!r}")
    return [n for n, s in FAMILY_SPLITS.items() if s == split and level in (None, FAMILIES[n].level)]


def family_of(problem_id_or_problem: Any) -> str | None:
    """The family of a procedural problem (from its metadata, or parsed from ``proc/<family>/<kind>/<k>``)."""
    meta = getattr(problem_id_or_problem, "metadata", None)
    if isinstance(meta, dict) and meta.get("family"):
        return meta["family"]
    pid = getattr(problem_id_or_problem, "id", problem_id_or_problem)
    parts = str(pid).split("/")
    if len(parts) == 4 and parts[0] == "proc":
        return parts[1]
    return None


def reference_function(fam: Family, params: dict):
    """The reference as a host callable (our own code, run on the host to compute expected outputs)."""
    src = fam.code(params)
    fn = _FN_CACHE.get(src)
    if fn is None:
        ns: dict[str, Any] = {}
        exec(compile(src, f"<procedural {fam.name}>", "exec"), ns)  # trusted: written by the kit
        fn = _FN_CACHE[src] = ns[fam.fn]
    return fn


# ----------------------------------------------------------------------------- rendering
def _stdin(fam: Family, args: tuple) -> str:
    lines = []
    for (_, typ), v in zip(fam.args, args):
        if typ == "ints":
            lines += [str(len(v)), " ".join(map(str, v))]
        else:
            lines.append(str(v))
    return "\n".join(lines) + "\n"


def _stdout(fam: Family, value: Any) -> str:
    if fam.ret == "bool":
        return ("YES" if value else "NO") + "\n"
    if fam.ret == "ints":
        return " ".join(map(str, value)) + "\n"
    return f"{value}\n"


def _stdio_main(fam: Family) -> str:
    lines = []
    for name, typ in fam.args:
        if typ == "int":
            lines.append(f"{name} = int(input())")
        elif typ == "str":
            lines.append(f"{name} = input()")
        else:
            lines += ["n = int(input())", f"{name} = list(map(int, input().split()))"]
    call = f"{fam.fn}({', '.join(n for n, _ in fam.args)})"
    if fam.ret == "bool":
        lines.append(f"print('YES' if {call} else 'NO')")
    elif fam.ret == "ints":
        lines.append(f"print(' '.join(map(str, {call})))")
    else:
        lines.append(f"print({call})")
    return "\n".join(lines) + "\n"


def _input_text(fam: Family) -> str:
    names = [n for n, _ in fam.args]
    types = [t for _, t in fam.args]
    if types == ["int"]:
        return f"Read an integer {names[0]} from standard input."
    if types == ["str"]:
        return f"Read one line of text {names[0]} from standard input (the line may be empty)."
    if types == ["ints"]:
        return (f"The first line of the input holds the length of a list of integers {names[0]}, the second line "
                "its elements separated by spaces (that line is empty when the list is empty).")
    if all(t == "int" for t in types):
        return f"Read the integers {', '.join(names[:-1])} and {names[-1]} from standard input, one per line."
    raise NotImplementedError(types)


def _statement(fam: Family, kind: str, p: dict) -> str:
    what, cons = fam.what(p), fam.constraints(p)
    if kind == "stdio":
        head = _input_text(fam)
        if fam.ret == "bool":
            body = f"Print YES if {what}, otherwise NO."
        elif fam.ret == "ints":
            body = f"Print {what}, as numbers separated by single spaces on one line (an empty line for an empty list)."
        else:
            body = f"Print {what}."
    else:
        sig = f"{fam.fn}({', '.join(n for n, _ in fam.args)})"
        head = ""
        if fam.ret == "bool":
            body = f"Write a function {sig} that returns True if {what}, and False otherwise."
        elif fam.ret == "ints":
            body = f"Write a function {sig} that returns {what}, as a list."
        else:
            body = f"Write a function {sig} that returns {what}."
    return " ".join(x for x in (head, body, cons) if x)


def _uniq(args_list: list[tuple]) -> list[tuple]:
    seen, out = set(), []
    for a in args_list:
        key = json.dumps(a)
        if key not in seen:
            seen.add(key)
            out.append(tuple(a))
    return out


def make_problem(family: str, kind: str, params: dict, k: int = 0, seed: int = 0) -> Problem:
    """One problem of ``family`` in ``kind`` with the given parameters (tests drawn deterministically)."""
    fam = FAMILIES[family]
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    rng = random.Random(f"proc-tests:{seed}:{family}:{kind}:{k}:{json.dumps(params, sort_keys=True)}")
    cand = _uniq(fam.gen(rng, params))
    n_edge = MAX_TESTS - 3
    chosen = cand[:n_edge] + (rng.sample(cand[n_edge:], min(3, len(cand) - n_edge)) if len(cand) > n_edge else [])
    ref = reference_function(fam, params)
    fn_src = fam.code(params)
    names = [n for n, _ in fam.args]
    tests = []
    for args in chosen:
        value = ref(*json.loads(json.dumps(args)))
        if kind == "stdio":
            tests.append(TestCase(_stdin(fam, args), _stdout(fam, value)))
        elif kind == "call":
            tests.append(TestCase("\n".join(json.dumps(a) for a in args), json.dumps(value)))
        else:
            tests.append(TestCase(f"assert {fam.fn}({', '.join(repr(a) for a in args)}) == {value!r}\n", ""))
    solution = fn_src + ("\n\n" + _stdio_main(fam) if kind == "stdio" else "")
    starter = "" if kind == "stdio" else f"def {fam.fn}({', '.join(names)}):\n"
    return Problem(id=f"proc/{family}/{kind}/{k}", statement=_statement(fam, kind, params), kind=kind, tests=tests,
                   source="procedural", entry_point="" if kind == "stdio" else fam.fn, starter_code=starter,
                   solutions=[solution], split=fam.split, time_limit=2.0,
                   metadata={"family": family, "task": family, "params": params, "seed": seed,
                             "difficulty": "easy", "generator": "procedural"})


def generate_problems(split: str, n: int | None = None, seed: int = 0, *, kinds: tuple[str, ...] = KINDS,
                      families: list[str] | None = None) -> list[Problem]:
    """``n`` problems (default: one per family and kind) from the families of ``split``, round-robin over
    families, then kinds; deterministic in ``seed``. Parameters are re-drawn (up to 30 times) to avoid
    repeating a (family, parameters) combination in any kind."""
    fams = families_in(split) if families is None else list(families)
    for f in fams:
        if FAMILY_SPLITS.get(f) != split:
            raise ValueError(f"family {f!r} is not in split {split!r}")
    if not fams:
        return []
    kinds = tuple(kinds)
    n = len(fams) * len(kinds) if n is None else int(n)
    counters: dict[tuple[str, str], int] = {}
    seen: set[str] = set()
    out = []
    for i in range(n):
        fam = fams[i % len(fams)]
        kind = kinds[(i // len(fams)) % len(kinds)]
        k = counters.get((fam, kind), 0)
        counters[(fam, kind)] = k + 1
        rng = random.Random(f"proc:{seed}:{fam}:{kind}:{k}")
        for _ in range(30):
            params = FAMILIES[fam].sample(rng)
            key = f"{fam}:{json.dumps(params, sort_keys=True)}"  # across kinds: no task twice in two formats
            if key not in seen:
                break
        seen.add(key)
        out.append(make_problem(fam, kind, params, k, seed))
    return out


def agreement_inputs(problem: Problem, n: int = 200, seed: int = 1) -> list:
    """Random in-domain inputs for a procedural problem (for equivalent-mutant detection): stdin strings for
    stdio problems, argument lists for call/assert problems. Includes the family's edge cases."""
    fam = FAMILIES[family_of(problem)]
    params = problem.metadata["params"]
    out: list[tuple] = []
    for j in range(200):
        out = _uniq(out + fam.gen(random.Random(f"agree:{seed}:{problem.id}:{j}"), params))
        if len(out) >= n:
            break
    out = out[:n]
    if problem.kind == "stdio":
        return [_stdin(fam, a) for a in out]
    return [list(a) for a in out]


def procedural_source(args: list[str], opts: dict[str, str], spec: str) -> list[Problem]:
    """``procedural:<split>[:n[:seed]]`` (also ``:n=..``/``:seed=..``/``:level=standard|basic`` and
    ``:kinds=call+assert`` options) for ``cskit.problems.sources``."""
    bad = sorted(set(opts) - {"n", "seed", "level", "kinds"})
    if bad:
        raise ValueError(f"source {spec!r}: unknown option(s) {bad}; allowed: ['kinds', 'level', 'n', 'seed']")
    kinds = tuple(opts["kinds"].split("+")) if "kinds" in opts else KINDS
    if not kinds or set(kinds) - set(KINDS):
        raise ValueError(f"source {spec!r}: kinds must be {'+'.join(KINDS)} or a part of it, got {opts['kinds']!r}")
    if not args:
        raise ValueError(f"source {spec!r}: procedural needs a split, one of {SPLITS} (procedural:train[:n[:seed]])")
    split = args[0]
    n = opts.get("n") or (args[1] if len(args) > 1 else None)
    seed = opts.get("seed") or (args[2] if len(args) > 2 else 0)
    try:
        fams = families_in(split, opts["level"]) if "level" in opts else None
        return generate_problems(split, int(n) if n not in (None, "") else None, int(seed), kinds=kinds,
                                 families=fams)
    except ValueError as e:
        raise ValueError(f"source {spec!r}: {e}") from None
