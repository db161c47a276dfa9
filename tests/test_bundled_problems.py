"""The bundled problem set: structure, up-to-date with its build script, and graded through the sandbox
(every reference solution passes, every wrong solution fails at least one test)."""
from __future__ import annotations

import ast
import json
from collections import Counter

import pytest

from cskit.problems.bundled import build as build_bundled
from cskit.problems import bundled_problems


@pytest.fixture(scope="module")
def problems():
    return bundled_problems()


def test_file_matches_build_script(tmp_path):
    from importlib.resources import files

    out = build_bundled.main(tmp_path / "b.jsonl")
    assert out.read_text() == files("cskit").joinpath("problems/bundled/problems.jsonl").read_text(), \
        "cskit/problems/bundled/problems.jsonl is stale: run python -m cskit.problems.bundled.build"


def test_counts_kinds_and_splits(problems):
    assert len(problems) >= 48
    kinds = Counter(p.kind for p in problems)
    assert set(kinds) == {"stdio", "call", "assert"}
    assert all(n >= len(problems) // 4 for n in kinds.values()), kinds  # roughly a third each
    val = sum(p.split == "val" for p in problems) / len(problems)
    assert 0.15 <= val <= 0.35 and {p.split for p in problems} == {"train", "val"}
    for kind in kinds:
        assert any(p.split == "val" for p in problems if p.kind == kind)
    assert len({p.id for p in problems}) == len(problems)


def test_fields(problems):
    for p in problems:
        assert p.source == "bundled" and p.time_limit == 2.0 and p.id.startswith("bundled/")
        assert 20 <= len(p.statement) <= 400, p.id
        assert 3 <= len(p.tests) <= 12, p.id
        assert len(p.solutions) >= 1 and len(p.wrong_solutions) >= 2, p.id
        assert not set(p.solutions) & set(p.wrong_solutions), p.id
        for code in p.solutions + p.wrong_solutions:
            ast.parse(code)
        if p.kind in ("call", "assert"):
            assert p.entry_point and f"def {p.entry_point}(" in p.starter_code, p.id
            assert p.entry_point in p.statement or p.entry_point == "twoSum"
        if p.kind == "call":
            for t in p.tests:
                [json.loads(line) for line in t.input.splitlines()]
                json.loads(t.output)
        if p.kind == "assert":
            assert all(t.input.startswith("assert ") and t.output == "" for t in p.tests), p.id
        if p.kind == "stdio":
            assert not p.starter_code and all(t.output.endswith("\n") for t in p.tests)


def test_splits_by_task_no_twins(problems):
    """All formats of one task share a split (stdio/count_vowels was val while call/count_vowels was train)."""
    by_task = {}
    for p in problems:
        by_task.setdefault(p.metadata["task"], set()).add(p.split)
    assert all(len(s) == 1 for s in by_task.values()), {t: s for t, s in by_task.items() if len(s) > 1}
    split = {p.id: p.split for p in problems}
    for name in ("count_vowels", "max_of_list", "factorial", "reverse_string", "count_words"):
        assert split[f"bundled/stdio/{name}"] == split[f"bundled/call/{name}"]
    assert split["bundled/stdio/fizzbuzz_one"] == split["bundled/assert/fizzbuzz_list"]
    multi = [t for t in by_task if sum(p.metadata["task"] == t for p in problems) > 1]
    assert len(multi) >= 8


def test_no_task_in_train_and_heldout_across_bundled_and_procedural(problems):
    """No train problem shares a task with a val/test problem, across formats and across the bundled and
    procedural sets (a procedural family resembling a bundled task -- ``twin_of`` -- shares its split)."""
    from cskit.problems.procedural import FAMILIES, SPLITS, generate_problems

    allp = list(problems) + [p for s in SPLITS for p in generate_problems(s, seed=5)]
    task_splits = {}
    for p in allp:
        task_splits.setdefault(p.metadata["task"], set()).add(p.split)
    for name, fam in FAMILIES.items():
        for t in fam.twin_of:
            task_splits.setdefault(t, set()).add(fam.split)
            assert t in {p.metadata["task"] for p in problems}, (name, t)
    clash = {t: s for t, s in task_splits.items() if len(s) > 1}
    assert not clash, clash


def _grade_all(problems):
    sandbox = pytest.importorskip("cskit.sandbox")
    # our own, trusted reference and wrong solutions: fine to run unisolated where no isolation exists
    limits = sandbox.SandboxLimits(allow_unisolated=True)
    items, roles = [], []
    for p in problems:
        for code in p.solutions:
            items.append((p, code)); roles.append(("ref", p.id))
        for code in p.wrong_solutions:
            items.append((p, code)); roles.append(("wrong", p.id))
    results = sandbox.grade_many(items, limits=limits, progress=False)
    bad = []
    for (role, pid), (p, code), r in zip(roles, items, results):
        if role == "ref" and not r.passed:
            bad.append(f"reference of {pid} failed: {r.verdict} {[t.verdict for t in r.tests]} {r.tests[0].detail}")
        if role == "wrong" and r.passed:
            bad.append(f"wrong solution of {pid} passed:\n{code}")
    assert not bad, "\n".join(bad)
    return [r for (role, _), r in zip(roles, results) if role == "wrong"]


def test_solutions_graded_by_sandbox_sample(problems):
    """Fast: one val problem of each kind (~9 graded samples)."""
    sample = [next(p for p in problems if p.kind == k and p.split == "val") for k in ("stdio", "call", "assert")]
    _grade_all(sample)


@pytest.mark.slow
def test_solutions_graded_by_sandbox_all(problems):
    """Every reference passes, every wrong solution fails >= 1 test (~150 samples, ~50 s on 2 busy cores)."""
    wrong = _grade_all(problems)
    partial = [r for r in wrong if 0 < r.pass_fraction < 1]
    assert len(partial) >= len(wrong) // 2  # most negatives are hard: they pass some tests
