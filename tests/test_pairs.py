"""Pair construction: the paper's rule, options, and a split with no problem on both sides."""
import pandas as pd
import pytest

from cskit.config import load_config
from cskit.pairs import (PAIR_COLUMNS, build_pairs, make_pair_splits, normalize_code, pair_stats,
                         split_problem_ids, unaligned_pairs)
from cskit.problems import Problem, TestCase


def _rows(pid, samples):
    """samples: list of (code, passed, pass_fraction, valid)."""
    return [dict(problem_id=pid, source="t", sample_idx=i, question=f"Q {pid}", response="", code_strict=c if v else "",
                 code_lenient=c, valid=v, passed=ok, pass_fraction=f, verdict="passed" if ok else "wrong_answer",
                 test_verdicts=[], passed_lenient=ok, n_tokens=10, finish_reason="stop", gen_time_s=0.0,
                 grade_time_s=0.0, model="m")
            for i, (c, ok, f, v) in enumerate(samples)]


@pytest.fixture
def rollouts():
    rows = []
    rows += _rows("a", [("def f(): return 1", True, 1.0, True), ("def f():  return 1", True, 1.0, True),
                        ("def f(): return 2", False, 0.5, True), ("def f(): return 3", False, 0.0, True),
                        ("broken(", False, 0.0, False)])
    rows += _rows("b", [("x = 1", False, 0.2, True), ("x = 2", False, 0.8, True)])  # no positive
    rows += _rows("c", [("y = 1", True, 1.0, True)])  # no negative
    return pd.DataFrame(rows)


def test_paper_rule_pairs_pos_with_neg_of_same_problem(rollouts):
    df = build_pairs(rollouts, reference_positives=False, dedup=False, max_per_problem=0)
    assert set(df.problem_id) == {"a"}
    assert len(df) == 2 * 2  # two positives x two valid negatives; the invalid sample is never used
    assert (df.pos_pass_fraction == 1.0).all() and (df.neg_pass_fraction < 1.0).all()
    assert "broken(" not in set(df.code_neg)


def test_dedup_after_whitespace_normalisation(rollouts):
    assert normalize_code("def f():  return 1\n\n") == normalize_code("def f(): return 1")
    df = build_pairs(rollouts, reference_positives=False, dedup=True, max_per_problem=0)
    assert len(df) == 1 * 2


def test_hard_negatives_first_and_cap(rollouts):
    df = build_pairs(rollouts, reference_positives=False, dedup=True, hard_negatives=True, max_per_problem=1)
    assert len(df) == 1 and df.neg_pass_fraction.iloc[0] == 0.5


def test_reference_positive_when_policy_has_none(rollouts):
    probs = [Problem(id="b", statement="s", kind="stdio", tests=[TestCase("1", "1")], solutions=["print(1)\n"])]
    df = build_pairs(rollouts, probs, reference_positives=True, max_per_problem=0)
    b = df[df.problem_id == "b"]
    assert len(b) == 2 and set(b.pair_source) == {"reference"} and set(b.code_pos) == {"print(1)"}
    assert b.neg_pass_fraction.iloc[0] == 0.8  # hard negative first


def test_unaligned_negatives_come_from_other_problems(rollouts):
    base = build_pairs(rollouts, reference_positives=False)
    extra = unaligned_pairs(base, rollouts, fraction=1.0, seed=0)
    assert len(extra) == len(base)
    assert (extra.neg_problem_id != extra.problem_id).all()
    assert set(extra.pair_source) == {"unaligned"}


def test_split_by_problem_never_leaks():
    ids = [f"p{i}" for i in range(10)]
    tr, va = split_problem_ids(ids, 0.3, seed=1)
    assert not tr & va and tr | va == set(ids) and len(va) == 3
    assert split_problem_ids(ids, 0.3, seed=1) == (tr, va)
    tr2, va2 = split_problem_ids(["x", "y"], 0.01, seed=0)
    assert len(tr2) == 1 and len(va2) == 1


def test_make_pair_splits_columns_and_no_leak():
    rows = []
    for i in range(8):
        rows += _rows(f"p{i}", [(f"ok{i} = 1", True, 1.0, True), (f"bad{i} = 1", False, 0.5, True),
                                (f"bad{i} = 2", False, 0.0, True)])
    ro = pd.DataFrame(rows)
    cfg = load_config("smoke", {"pairs_unaligned_fraction": 0.5, "pairs_val_fraction": 0.25})
    train, val = make_pair_splits(ro, [], cfg)
    assert list(train.columns) == PAIR_COLUMNS
    stats = pair_stats(train, val)
    assert stats["problems_on_both_sides"] == []
    assert stats["problems_val"] == 2 and stats["problems_train"] == 6
    assert stats["by_source"]["unaligned"] > 0
    # unaligned negatives of a split come from that split's problems only
    assert set(val.neg_problem_id) <= set(val.problem_id)


def test_curated_pairs_are_graded_and_kept_only_when_labels_hold():
    from cskit.pairs.stage import curated_pairs, grade_curated

    p = Problem(id="add", statement="add two numbers", kind="call", entry_point="add",
                tests=[TestCase("1\n2", "3"), TestCase("0\n0", "0"), TestCase("-1\n1", "0")],
                solutions=["def add(a, b):\n    return a + b\n"],
                wrong_solutions=["def add(a, b):\n    return a + b + (a < 0)\n",   # passes 2 of 3
                                 "def add(a, b):\n    return a + b\n"])          # mislabelled: actually correct
    df = curated_pairs([p], ["add"], {"add": "Q"})
    assert len(df) == 2 and set(df.pair_source) == {"curated"}
    graded = grade_curated(df, [p], load_config("smoke"))
    assert len(graded) == 1  # the mislabelled "wrong" solution is dropped
    assert graded.neg_pass_fraction.iloc[0] == pytest.approx(2 / 3)


def test_split_keeps_each_task_on_one_side():
    # two formats of one task (and two parameter draws of one family) never straddle the split
    ids = [f"proc/fam{i}/{kind}/{k}" for i in range(6) for kind in ("call", "assert") for k in range(2)]
    groups = {pid: pid.split("/")[1] for pid in ids}
    for seed in range(5):
        tr, va = split_problem_ids(ids, 0.34, seed=seed, groups=groups)
        assert tr and va and tr | va == set(ids) and not tr & va
        assert not {groups[i] for i in tr} & {groups[i] for i in va}
        assert len({groups[i] for i in va}) == 3          # ceil(0.34 * 6) tasks held out, not 0.34 of the ids
