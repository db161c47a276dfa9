"""Mutation check: mutation operators, equivalent-mutant filtering, kill shares, regression wrong solutions."""
from __future__ import annotations

import ast

import pytest

from cskit.problems import bundled_problems
from cskit.problems.mutation import (MutationReport, format_report, fuzz_inputs, mutants, mutation_check,
                                     mutation_main)
from cskit.problems.procedural import FAMILIES, SPLITS, generate_problems, make_problem
from cskit.problems.record import Problem, TestCase

REF = """
def f(xs, t):
    n = 0
    for x in xs:
        if x > t and x != 0:
            n += 1
        else:
            n -= 0
    return n
"""


@pytest.fixture(scope="module")
def limits():
    from cskit.sandbox import SandboxLimits

    return SandboxLimits(allow_unisolated=True)


@pytest.fixture(scope="module")
def bundled():
    return {p.id: p for p in bundled_problems()}


def test_mutation_operators():
    ms = mutants(REF)
    ops = {op for op, _ in ms}
    assert ops == {"cmp", "const", "boolop", "drop_if_body", "drop_else", "drop_stmt"}
    srcs = [s for _, s in ms]
    assert len(srcs) == len(set(srcs)) and ast.unparse(ast.parse(REF)) not in srcs
    assert any("x >= t" in s for s in srcs) and any("x == 0" in s for s in srcs)
    assert any("n += 2" in s for s in srcs) and any("n = -1" in s for s in srcs)
    assert any(" or " in s for s in srcs)
    assert any("else" not in s for s in srcs)
    for s in srcs:
        compile(s, "m", "exec")
    sub = mutants(REF, max_mutants=5, seed=1)
    assert len(sub) == 5 and sub == mutants(REF, max_mutants=5, seed=1)


def test_fuzz_inputs_keep_shapes(bundled):
    p = bundled["bundled/stdio/max_of_list"]
    for s in fuzz_inputs(p, 50):
        lines = s.strip("\n").split("\n")
        assert int(lines[0]) == len(lines[1].split())
    q = bundled["bundled/assert/merge_sorted"]
    args = fuzz_inputs(q, 50)
    assert len(args) == 50 and all(len(a) == 2 and all(isinstance(x, list) for x in a) for a in args)


def _weak_problem():
    # tests never look at the boundary x == 0 nor at negative numbers
    return Problem(id="custom/weak", statement="count positives", kind="call", entry_point="count_pos",
                   tests=[TestCase("[1, 2, 3]", "3"), TestCase("[]", "0")],
                   solutions=["def count_pos(xs):\n    n = 0\n    for x in xs:\n        if x > 0:\n"
                              "            n += 1\n    return n\n"])


def test_weak_tests_are_reported(limits):
    rep = mutation_check([_weak_problem()], limits=limits, agreement_inputs=50)
    (r,) = rep.problems
    assert r.n_survived >= 2 and r.kill_share < 0.9 and not rep.ok
    assert any("x >= 0" in s for s in r.survivors)
    text = format_report(rep)
    assert "WEAK" in text and "surviving mutant" in text and "FAIL" in text
    lines = []
    assert mutation_main([_weak_problem()], limits=limits, agreement_inputs=50, out=lines.append) == 1
    assert "custom/weak" in lines[0]


def test_equivalent_mutants_are_discarded(limits):
    # `if x > 0: return x / return 0` == max(x, 0): flipping > to >= is equivalent (x == 0 gives 0 either way)
    p = Problem(id="custom/relu", statement="relu", kind="call", entry_point="relu",
                tests=[TestCase(str(x), str(max(x, 0))) for x in (-5, -1, 0, 1, 7)],
                solutions=["def relu(x):\n    if x > 0:\n        return x\n    return 0\n"])
    rep = mutation_check([p], limits=limits, agreement_inputs=60)
    (r,) = rep.problems
    assert r.n_equivalent >= 1 and r.n_survived == 0 and r.kill_share == 1.0 and rep.ok


def test_fast_sample_kills_90_percent(limits, bundled):
    procs = [make_problem("threshold_label", "call", {"t": [90, 80, 70], "labels": ["A", "B", "C", "D"]}),
             make_problem("bracket_depth", "stdio", {"br": "()"}),
             make_problem("rotate_right", "assert", {"k": 2})]
    probs = procs + [bundled[i] for i in ("bundled/call/letter_grade", "bundled/assert/is_prime",
                                          "bundled/stdio/fizzbuzz_one")]
    rep = mutation_check(probs, limits=limits, max_mutants_per_problem=25, agreement_inputs=100)
    assert isinstance(rep, MutationReport) and len(rep.problems) == 6
    assert rep.ok, format_report(rep)
    assert set(rep.by_family) == {"threshold_label", "bracket_depth", "rotate_right", "letter_grade", "is_prime",
                                  "fizzbuzz"}
    assert all(p.n_nonequivalent > 0 for p in rep.problems)
    d = rep.to_dict()
    assert d["ok"] and len(d["problems"]) == 6


def test_driver_agrees_with_sandbox_grading(limits, bundled):
    probs = [bundled["bundled/call/letter_grade"], make_problem("count_char", "stdio", {"c": "a", "ci": False})]
    a = mutation_check(probs, limits=limits, max_mutants_per_problem=12, agreement_inputs=40)
    b = mutation_check(probs, limits=limits, max_mutants_per_problem=12, agreement_inputs=40, grader="grade")
    assert [(p.n_killed, p.n_survived, p.n_equivalent) for p in a.problems] == \
        [(p.n_killed, p.n_survived, p.n_equivalent) for p in b.problems]


# plausible wrong solutions that used to pass every test of their bundled problem
REGRESSIONS = {
    "bundled/assert/is_prime": "def is_prime(n):\n    if n < 2:\n        return False\n    i = 3\n"
                               "    while i * i <= n:\n        if n % i == 0:\n            return False\n"
                               "        i += 2\n    return True\n",
    "bundled/call/letter_grade": "def letter_grade(score):\n    if score >= 90:\n        return 'A'\n"
                                 "    if score > 80:\n        return 'B'\n    if score > 70:\n        return 'C'\n"
                                 "    if score > 60:\n        return 'D'\n    return 'F'\n",
    "bundled/call/is_even": "def is_even(n):\n    return n <= 0 or n % 2 == 0\n",
    "bundled/assert/gcd": "def gcd(a, b):\n    if b == 0:\n        return 0\n    while b:\n"
                          "        a, b = b, a % b\n    return a\n",
}


def test_known_wrong_solutions_now_fail(limits, bundled):
    from cskit.sandbox import grade_many

    items = [(bundled[pid], code) for pid, code in REGRESSIONS.items()]
    items += [(bundled[pid], bundled[pid].solutions[0]) for pid in REGRESSIONS]
    res = grade_many(items, limits=limits, progress=False)
    n = len(REGRESSIONS)
    assert [r.passed for r in res[:n]] == [False] * n, [(p.id, r.verdict) for (p, _), r in zip(items, res)]
    assert all(r.passed for r in res[n:])


@pytest.mark.slow
def test_every_bundled_problem_and_family_kills_90_percent(limits):
    """The full check: every bundled problem, and one problem per procedural family and kind."""
    probs = bundled_problems() + [p for s in SPLITS for p in generate_problems(s)]
    rep = mutation_check(probs, limits=limits)
    assert len(rep.by_family) >= len(FAMILIES)
    print(format_report(rep))
    assert rep.ok, format_report(rep)
