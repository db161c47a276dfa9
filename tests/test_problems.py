"""The Problem record, cskit JSONL round trips and format errors (no code is run)."""
from __future__ import annotations

import json

import pytest

from cskit.problems import (KINDS, Problem, ProblemFormatError, TestCase, load_problems_jsonl, problem_from_dict,
                            save_problems_jsonl)


def _p(**kw):
    d = dict(id="p1", statement="Add.", kind="call", tests=[TestCase("1\n2", "3")], entry_point="add")
    d.update(kw)
    return Problem(**d)


def test_kinds_and_defaults():
    assert KINDS == ("stdio", "call", "assert", "none")
    p = Problem(id="x", statement="s", tests=[{"input": "1\n", "output": "1\n"}])
    assert p.kind == "stdio" and p.tests == [TestCase("1\n", "1\n")] and p.split == "train"
    assert p.time_limit == 2.0 and p.has_tests
    assert not Problem(id="y", statement="s", kind="none").has_tests


@pytest.mark.parametrize("kw, field", [
    ({"kind": "bogus"}, "kind"),
    ({"entry_point": ""}, "entry_point"),
    ({"tests": []}, "tests"),
])
def test_record_validation(kw, field):
    with pytest.raises(ProblemFormatError) as e:
        _p(**kw)
    assert e.value.field == field


def test_to_dict_roundtrip_and_without_tests():
    p = _p(solutions=["def add(a, b):\n    return a + b\n"], wrong_solutions=["def add(a, b):\n    return a\n"],
           metadata={"k": 1})
    d = p.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert problem_from_dict(d) == p
    h = p.without_tests()
    assert h.kind == "none" and h.tests == [] and h.id == p.id and h.statement == p.statement
    assert h.metadata["tests_hidden"] and h.metadata["original_kind"] == "call" and h.metadata["k"] == 1
    assert p.kind == "call" and p.tests  # original untouched


def test_jsonl_roundtrip(tmp_path):
    ps = [_p(), Problem(id="p2", statement="Echo.", tests=[TestCase("a\n", "a\n")]),
          Problem(id="p3", statement="Only a statement.", kind="none")]
    path = save_problems_jsonl(tmp_path / "p.jsonl", ps)
    assert load_problems_jsonl(path) == ps


def test_statement_only_row_defaults_to_kind_none(tmp_path):
    f = tmp_path / "s.jsonl"
    f.write_text('{"id": "a", "statement": "Do X."}\n\n{"id": "b", "statement": "Do Y.", "kind": "none"}\n')
    ps = load_problems_jsonl(f)
    assert [p.kind for p in ps] == ["none", "none"]
    # an explicit test kind without tests is still an error
    f.write_text('{"id": "a", "statement": "Do X.", "kind": "stdio"}\n')
    with pytest.raises(ProblemFormatError, match="tests"):
        load_problems_jsonl(f)


GOOD = {"id": "a", "statement": "s", "tests": [{"input": "1", "output": "1"}]}


@pytest.mark.parametrize("line, field, msg", [
    ('{"id": "a", "statement": "s", "tests": [', None, "invalid JSON"),
    ('[1, 2]', None, "expected a JSON object"),
    ('{"statement": "s"}', "id", "missing"),
    ('{"id": 3, "statement": "s"}', "id", "expected str"),
    ('{"id": "a", "statement": "s", "tests": "x"}', "tests", "expected list"),
    ('{"id": "a", "statement": "s", "time_limit": true}', "time_limit", "expected"),
    ('{"id": "a", "statement": "s", "colour": 1}', "colour", "unknown field"),
    ('{"id": "a", "statement": "s", "kind": "junit", "tests": [{"input": "1"}]}', "kind", "unknown test kind"),
    ('{"id": "a", "statement": "s", "tests": [{"output": "1"}]}', "tests[0]", "input"),
    ('{"id": "a", "statement": "s", "tests": [{"input": 1, "output": "1"}]}', "tests[0].input", "expected str"),
    ('{"id": "a", "statement": "s", "tests": [{"input": "1", "x": 1}]}', "tests[0]", "unknown key"),
    ('{"id": "a", "statement": "s", "tests": [{"input": "1"}], "solutions": [1]}', "solutions[0]", "expected str"),
    ('{"id": "a", "statement": "s", "kind": "call", "tests": [{"input": "1"}]}', "entry_point", "entry_point"),
])
def test_jsonl_errors_name_file_line_field(tmp_path, line, field, msg):
    f = tmp_path / "bad.jsonl"
    f.write_text(json.dumps(GOOD) + "\n" + line + "\n")
    with pytest.raises(ProblemFormatError) as e:
        load_problems_jsonl(f)
    err = e.value
    assert err.path == str(f) and err.line == 2 and err.field == field
    assert f"{f}:2:" in str(err) and msg in str(err)
    if field:
        assert f"'{field}'" in str(err)


def test_duplicate_ids(tmp_path):
    f = tmp_path / "dup.jsonl"
    f.write_text(json.dumps(GOOD) + "\n" + json.dumps(GOOD) + "\n")
    with pytest.raises(ProblemFormatError, match="duplicate id") as e:
        load_problems_jsonl(f)
    assert e.value.line == 2 and e.value.field == "id"
