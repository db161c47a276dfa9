"""Problem sources: every loader on small fixtures (public schemas), spec strings, errors, offline message."""
from __future__ import annotations

import base64
import gzip
import json
import pickle
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from cskit.problems.formats import Where, decode_lcb_private, pytest_to_asserts
from cskit.problems import (SourceUnavailableError, bundled_problems, hide_tests, humaneval_path,
                                   load_problems, load_source, read_rows)
from cskit.problems import Problem, ProblemFormatError, TestCase

FX = Path(__file__).parent / "fixtures" / "problems"


def _write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def _row(name: str, i: int = 0) -> dict:
    return [json.loads(x) for x in (FX / name).read_text().splitlines() if x.strip()][i]


# --------------------------------------------------------------------------- loaders on fixtures
def test_humaneval_fixture_and_package():
    ps = load_source(f"humaneval:{FX / 'humaneval.jsonl'}")
    p = ps[0]
    assert (p.id, p.kind, p.entry_point, p.source) == ("HumanEval/0", "assert", "add", "humaneval")
    assert p.statement == p.starter_code and p.statement.startswith("def add(a, b):")
    assert p.tests == [TestCase(_row("humaneval.jsonl")["test"] + "\ncheck(add)\n", "")]
    assert p.solutions == [p.statement + "    return a + b\n"]
    assert humaneval_path().name == "HumanEval.jsonl.gz"
    full = load_source("humaneval")
    assert len(full) == 164 and len({p.id for p in full}) == 164
    assert all(p.kind == "assert" and p.tests[0].input.rstrip().endswith(f"check({p.entry_point})") for p in full)


def test_mbpp():
    a, b = load_source(f"mbpp:{FX / 'mbpp.jsonl'}")
    assert (a.id, a.kind, a.entry_point, a.source) == ("mbpp/11", "assert", "remove_Occ", "mbpp")
    assert len(a.tests) == 3 and a.tests[0].input == 'assert remove_Occ("hello","l") == "heo"\n'
    assert a.starter_code == "def remove_Occ(s, ch):\n" and "Your code should pass these tests" in a.statement
    assert a.metadata["challenge_tests"] == 1
    assert b.entry_point == "similar_elements" and b.setup_code == "import math"  # skips the builtin set()
    with_ch = load_source(f"mbpp:{FX / 'mbpp.jsonl'}:challenge=1")
    assert len(with_ch[0].tests) == 4


def test_lcb_stdio_functional_and_compressed_private():
    s, f = load_source(f"lcb:{FX / 'lcb.jsonl'}")
    assert (s.id, s.kind, s.source) == ("lcb/abc001_a", "stdio", "lcb")
    assert s.tests == [TestCase("3\n1 2 3\n", "6\n"), TestCase("1\n5\n", "5\n"), TestCase("2\n-1 1\n", "0\n")]
    assert s.metadata["n_public_tests"] == 1 and s.metadata["platform"] == "atcoder"
    assert (f.kind, f.entry_point) == ("call", "twoSum") and f.starter_code.startswith("class Solution")
    # the private tests were base64(zlib(pickle(json))) in the fixture
    assert f.tests == [TestCase("[2,7,11,15]\n9", "[0, 1]"), TestCase("[3,2,4]\n6", "[1, 2]")]


def test_lcb_private_decoding_variants_and_refused_pickle():
    w = Where("x.jsonl", 1)
    cases = [{"input": "1", "output": "1", "testtype": "stdin"}]
    txt = json.dumps(cases)
    assert decode_lcb_private(txt, w) == cases
    assert decode_lcb_private(base64.b64encode(zlib.compress(txt.encode())).decode(), w) == cases  # json after zlib
    assert decode_lcb_private(base64.b64encode(zlib.compress(pickle.dumps(txt))).decode(), w) == cases
    assert decode_lcb_private("", w) == []

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    evil = base64.b64encode(zlib.compress(pickle.dumps(Evil()))).decode()
    with pytest.raises(ProblemFormatError, match="refusing") as e:
        decode_lcb_private(evil, w)
    assert e.value.field == "private_test_cases"
    with pytest.raises(ProblemFormatError, match="neither JSON"):
        decode_lcb_private("not base64 at all!", w)


def test_deepcoder_layouts():
    s, c = load_source(f"deepcoder:lcbv5:{FX / 'deepcoder_lcbv5.jsonl'}")
    assert s.kind == "stdio" and s.source == "deepcoder-lcbv5" and s.id.startswith("deepcoder/lcbv5/")
    assert (c.kind, c.entry_point, c.tests) == ("call", "add", [TestCase("1\n2", "3")])
    s, c = load_source(f"deepcoder:taco:{FX / 'deepcoder_taco.jsonl'}")
    assert s.tests == [TestCase("3\n", "9\n"), TestCase("4\n", "16\n")] and s.metadata["tests_layout"] == "taco"
    assert c.kind == "call" and c.tests == [TestCase("1\n2", "3"), TestCase("5\n5", "10")]  # TACO [x] unwrapped
    s, c = load_source(f"deepcoder:primeintellect:{FX / 'deepcoder_primeintellect.jsonl'}")
    assert s.tests == [TestCase("hi\n", "hi\n")]
    assert (c.entry_point, c.tests) == ("double", [TestCase("[1, 2]", "[2, 4]"), TestCase("[]", "[]")])
    # subset omitted: the layout is detected per row
    assert [p.kind for p in load_source(f"deepcoder:{FX / 'deepcoder_taco.jsonl'}")] == ["stdio", "call"]


def test_cure():
    a, b = load_source(f"cure:CodeContests:{FX / 'cure_codecontests.json'}")
    assert (a.id, a.kind, a.source) == ("cure-CodeContests/0", "stdio", "cure-CodeContests")
    assert a.tests == [TestCase("1 2\n", "3\n"), TestCase("3 4\n", "7\n")]
    assert a.metadata["examples"] == [{"input": "1 1\n", "output": "2\n"}]
    assert b.time_limit == 1.0
    ex = load_source(f"cure:CodeContests:{FX / 'cure_codecontests.json'}:examples=1")[0]
    assert ex.tests[0] == TestCase("1 1\n", "2\n") and len(ex.tests) == 3


def test_kodcode_statement_only_and_weak_tests():
    ps = load_source(f"kodcode:{FX / 'kodcode.jsonl'}")
    assert [p.kind for p in ps] == ["none", "none"] and ps[0].id == "kodcode/Leetcode_1_I"
    assert (ps[0].entry_point, ps[0].starter_code) == ("is_even", "def is_even(n):\n")
    assert ps[0].solutions and ps[0].metadata["synthetic"]
    ps = load_source(f"kodcode:{FX / 'kodcode.jsonl'}:tests=assert")
    assert [p.kind for p in ps] == ["assert", "assert"] and ps[0].metadata["weak_tests"]
    assert len(ps[0].tests) == 2 and "from solution" not in ps[0].tests[0].input
    assert len(ps[1].tests) == 1 and "test_p(" not in ps[1].tests[0].input  # parametrized test dropped
    assert pytest_to_asserts("def test(:\n") == []


def test_quest_and_statement_only_jsonl():
    ps = load_source(f"quest:{FX / 'quest.jsonl'}")
    assert [p.id for p in ps] == ["quest/q-1", "quest/1", "quest/2"]
    assert all(p.kind == "none" and not p.has_tests for p in ps)
    assert ps[2].statement == "Sort a list of intervals." and ps[0].metadata["difficulty"] == "hard"
    ps = load_source(f"jsonl:{FX / 'cskit_statement_only.jsonl'}")
    assert [p.kind for p in ps] == ["none", "none"]


def test_bundled_specs():
    all_, tr, va = load_source("bundled"), load_source("bundled:train"), load_source("bundled:val")
    assert len(all_) == len(tr) + len(va) >= 48 and {p.split for p in va} == {"val"}
    assert [p.id for p in all_] == [p.id for p in bundled_problems()]


# --------------------------------------------------------------------------- file formats
def test_json_parquet_gz_paths(tmp_path):
    rows = [json.loads(x) for x in (FX / "quest.jsonl").read_text().splitlines()[:2]]
    (tmp_path / "q.json").write_text(json.dumps({"data": rows}))
    with gzip.open(tmp_path / "q.jsonl.gz", "wt") as f:
        f.write("".join(json.dumps(r) + "\n" for r in rows))
    import pyarrow as pa
    import pyarrow.parquet as pq

    cure = json.loads((FX / "cure_codecontests.json").read_text())
    pq.write_table(pa.Table.from_pylist([{k: r[k] for k in ("id", "question", "test_input", "test_output")}
                                         for r in cure]), tmp_path / "c.parquet")
    for name in ("q.json", "q.jsonl.gz"):
        assert [p.statement for p in load_source(f"quest:{tmp_path / name}")] == [r.get("question") or r.get("problem")
                                                                                  for r in rows]
    ps = load_source(f"cure:CodeContests:{tmp_path / 'c.parquet'}")
    assert ps[0].tests == [TestCase("1 2\n", "3\n"), TestCase("3 4\n", "7\n")]
    with pytest.raises(FileNotFoundError):
        load_source(f"lcb:{tmp_path / 'missing.jsonl'}")
    with pytest.raises(ValueError, match="unsupported"):
        list(read_rows(shutil.copy(FX / "quest.jsonl", tmp_path / "q.txt")))


# --------------------------------------------------------------------------- malformed rows
@pytest.mark.parametrize("spec, row, field, msg", [
    ("lcb", "{not json", None, "invalid JSON"),
    ("lcb", {**_row("lcb.jsonl"), "question_content": None}, "question_content", "missing"),
    ("lcb", {**_row("lcb.jsonl"), "question_content": 5}, "question_content", "expected str"),
    ("lcb", {**_row("lcb.jsonl"), "public_test_cases": "[{"}, "public_test_cases", "invalid JSON"),
    ("lcb", {**_row("lcb.jsonl"), "public_test_cases": json.dumps([{"input": "1", "output": "1", "testtype": "junit"}])},
     "public_test_cases[0].testtype", "unknown test kind"),
    ("lcb", {**_row("lcb.jsonl", 1), "metadata": "{}"}, "metadata", "func_name"),
    ("deepcoder:taco", {"problem": "p", "tests": json.dumps({"inputs": ["1"], "outputs": []})}, "tests", "outputs"),
    ("deepcoder:primeintellect", {"problem": "p", "tests": json.dumps([{"type": "weird", "input": "", "output": ""}])},
     "tests[0].type", "unknown test kind"),
    ("deepcoder:primeintellect", {"problem": "p", "tests": json.dumps([{"type": "stdin_stdout", "input": "1"}])},
     "tests[0].output", "missing"),
    ("deepcoder:lcbv5", {"tests": "[]"}, "problem", "missing"),
    ("deepcoder:lcbv5", {"problem": "p", "tests": 3}, "tests", "expected"),
    ("cure:LiveBench", {"question": "q", "test_input": "1", "test_output": ["1"]}, "test_input", "expected list"),
    ("cure:LiveBench", {"question": "q", "test_input": ["1"], "test_output": []}, "test_output", "test outputs"),
    ("mbpp", {"task_id": 1, "text": "t", "code": "", "test_list": [3]}, "test_list[0]", "expected str"),
    ("mbpp", {"task_id": 1, "text": "t", "test_list": ["assert 1 == 1"]}, "test_list[0]", "function under test"),
    ("humaneval", {"task_id": "H/0", "prompt": "p", "entry_point": "f", "canonical_solution": ""}, "test", "missing"),
    ("kodcode", {"question_id": "k", "solution": "x"}, "question", "missing"),
    ("quest", {"id": "x", "answer": "42"}, "question", "no statement"),
])
def test_malformed_rows_name_file_line_field(tmp_path, spec, row, field, msg):
    name, _, sub = spec.partition(":")
    good = {"quest": {"id": "ok", "question": "fine"}, "lcb": _row("lcb.jsonl")}.get(name)
    rows = ([good] if good else []) + [row]  # a good row first where one is handy: the error is on line 2
    f = _write_jsonl(tmp_path / "bad.jsonl", rows)
    line = len(rows)
    with pytest.raises(ProblemFormatError) as e:
        load_source(f"{name}:{sub + ':' if sub else ''}{f}")
    err = e.value
    assert (err.path, err.line, err.field) == (str(f), line, field), str(err)
    assert msg in str(err) and f"{f}:{line}:" in str(err)


def test_json_file_errors(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text('[{"question": "a"},\n {"question": ]')
    with pytest.raises(ProblemFormatError, match="invalid JSON") as e:
        load_source(f"quest:{f}")
    assert e.value.line == 2
    f.write_text('[{"question": "a"}, 7]')
    with pytest.raises(ProblemFormatError, match="record 2") as e:
        load_source(f"quest:{f}")


# --------------------------------------------------------------------------- hub / offline
@pytest.mark.parametrize("spec, dataset, example", [
    ("lcb", "livecodebench/code_generation_lite", "lcb:/path/to/"),
    ("deepcoder:taco", "agentica-org/DeepCoder-Preview-Dataset", "deepcoder:taco:/path/to/"),
    ("cure:MBPP", "Gen-Verse/MBPP", "cure:MBPP:/path/to/"),
    ("mbpp", "google-research-datasets/mbpp", "mbpp:/path/to/"),
    ("kodcode", "KodCode/KodCode-V1", "kodcode:/path/to/"),
])
def test_offline_hub_message(spec, dataset, example):
    import os

    assert os.environ.get("HF_DATASETS_OFFLINE") == "1"  # tests/conftest.py
    with pytest.raises(SourceUnavailableError) as e:
        load_source(spec)
    msg = str(e.value)
    assert dataset in msg and "HF_DATASETS_OFFLINE" in msg
    assert "local" in msg and example in msg


def test_missing_datasets_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(SourceUnavailableError, match="'datasets' package"):
        load_source("deepcoder:lcbv5")


# --------------------------------------------------------------------------- spec handling, load_problems
def test_spec_errors():
    for bad in ("nope", "deepcoder:foo", "cure:Nope", "lcb:v0x", "bundled:test", "kodcode:colour=red"):
        with pytest.raises(ValueError):
            load_source(bad)
    with pytest.raises(ValueError):
        load_problems(" , ")


def test_load_problems_combines_dedupes_and_subsets(tmp_path):
    specs = f"bundled:val, quest:{FX / 'quest.jsonl'}, bundled"
    ps = load_problems(specs)
    ids = [p.id for p in ps]
    assert len(ids) == len(set(ids)) == len(load_source("bundled")) + 3
    assert ids[0].startswith("bundled/") and ids[len(load_source("bundled:val"))] == "quest/q-1"
    sub = load_problems(specs, limit=10, seed=3)
    assert len(sub) == 10 and sub == load_problems(specs, limit=10, seed=3)
    assert [p.id for p in sub] == [i for i in ids if i in {p.id for p in sub}]  # original order kept
    assert [p.id for p in load_problems(specs, limit=10, seed=4)] != [p.id for p in sub]
    assert len(load_problems("bundled", limit=1000)) == len(load_source("bundled"))
    # same id, different content -> error naming both specs
    clash = _write_jsonl(tmp_path / "clash.jsonl", [{"id": "quest/q-1", "statement": "other"}])
    with pytest.raises(ProblemFormatError, match="duplicate problem id 'quest/q-1'"):
        load_problems(f"quest:{FX / 'quest.jsonl'},jsonl:{clash}")
    assert load_problems(str(clash))[0].id == "quest/q-1"  # a bare JSONL path works too


def test_hide_tests():
    ps = load_source("bundled:val")
    hidden = hide_tests(ps)
    assert all(h.kind == "none" and not h.tests and h.id == p.id for h, p in zip(hidden, ps))
    assert all(p.has_tests for p in ps)
    assert isinstance(hidden[0], Problem)


def test_no_torch_import():
    code = ("import sys, cskit.problems.sources, cskit.problems.formats, cskit.problems; "
            "assert 'torch' not in sys.modules and 'datasets' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_converted_reference_solutions_pass_in_sandbox():
    """The conversions are runnable: HumanEval canonical solutions, MBPP code and KodCode solutions (with
    their weak tests kept) pass through the real grader."""
    sandbox = pytest.importorskip("cskit.sandbox")
    ps = (load_source("humaneval")[:3] + load_source(f"mbpp:{FX / 'mbpp.jsonl'}")
          + load_source(f"kodcode:{FX / 'kodcode.jsonl'}:tests=assert"))
    res = sandbox.grade_many([(p, p.solutions[0]) for p in ps], limits=sandbox.SandboxLimits(allow_unisolated=True),
                             progress=False)
    assert [(p.id, r.verdict) for p, r in zip(ps, res)] == [(p.id, "passed") for p in ps]
    # call/stdio conversions (LCB class Solution, TACO unwrapped outputs, PrimeIntellect lists, CURE stdio)
    two_sum = ("class Solution:\n    def twoSum(self, nums, target):\n        d = {}\n        for j, x in enumerate(nums):\n"
               "            if target - x in d:\n                return [d[target - x], j]\n            d[x] = j\n")
    more = [(load_source(f"lcb:{FX / 'lcb.jsonl'}")[1], two_sum),
            (load_source(f"lcb:{FX / 'lcb.jsonl'}")[0], "input()\nprint(sum(map(int, input().split())))"),
            (load_source(f"deepcoder:taco:{FX / 'deepcoder_taco.jsonl'}")[1], "def add(a, b):\n    return a + b\n"),
            (load_source(f"deepcoder:{FX / 'deepcoder_primeintellect.jsonl'}")[1],
             "def double(xs):\n    return [2 * x for x in xs]\n"),
            (load_source(f"cure:CodeContests:{FX / 'cure_codecontests.json'}")[0],
             "a, b = map(int, input().split())\nprint(a + b)")]
    res = sandbox.grade_many(more, limits=sandbox.SandboxLimits(allow_unisolated=True), progress=False)
    assert [r.verdict for r in res] == ["passed"] * len(more), [r.to_dict() for r in res]
    wrong = sandbox.grade(ps[0], ps[0].starter_code + "    return 0\n", sandbox.SandboxLimits(allow_unisolated=True))
    assert not wrong.passed
