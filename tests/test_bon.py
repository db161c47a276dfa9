"""Best-of-N (stage 05): selectors, generated-test parsing, statistics, latency accounting, end to end."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cskit.bon import (SELECTORS, ProblemMeasure, latency_columns, latency_ratios, select_majority_vote, select_random,
                       select_rm, select_unit_tests, selection_table, summarize, vote_clusters)
from cskit.stats import bootstrap_ci, wilson_ci
from cskit.problems import Problem, TestCase
from cskit.bon.unit_tests import (generated_problem, parse_generated_test, parse_generated_tests, unit_test_prefix,
                                  unit_test_prompt, vote_inputs)

STDIO = Problem(id="add", statement="Read two integers and print their sum.", kind="stdio",
                tests=[TestCase("1 2\n", "3\n")])
CALL = Problem(id="sq", statement="Return x squared.", kind="call", entry_point="square",
               tests=[TestCase("3\n", "9")])
ASSERT = Problem(id="inc", statement="def inc(x): return x + 1", kind="assert", entry_point="inc",
                 tests=[TestCase("assert inc(1) == 2\n")])


# --- selectors ---------------------------------------------------------------------------------------------

def test_select_rm_argmax_invalid_and_ties():
    assert select_rm([0.1, 2.0, -1.0]) == 1
    assert select_rm([0.1, 2.0, -1.0], valid=[True, False, True]) == 0  # invalid scores -inf
    assert select_rm([1.0, 3.0, 3.0]) == 1                               # tie -> lowest index
    assert select_rm([5.0, 5.0], valid=[False, False]) == 0              # all invalid -> 0
    assert select_rm([float("nan"), -7.0]) == 1
    assert select_rm([-np.inf, -np.inf, 0.0]) == 2


def test_select_unit_tests_most_passing_with_deterministic_ties():
    passes = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [1, 1, 1]], bool)
    assert select_unit_tests(passes) == 3
    assert select_unit_tests(passes[:3]) == 1                            # 1 and 2 tie at 2 -> lowest
    assert select_unit_tests(np.zeros((3, 2), bool), has_code=[False, True, True]) == 1  # code first
    assert select_unit_tests(np.zeros((4, 0), bool)) == 0                # no generated tests


def test_select_majority_vote_largest_cluster():
    a, b, c = ("1", "2"), ("1", "3"), ("<runtime_error>", "<runtime_error>")
    assert select_majority_vote([a, b, b, a, b]) == 1                    # cluster b (3) wins, lowest member
    assert select_majority_vote([a, b, b, a]) == 0                       # tie 2-2 -> cluster seen first
    assert select_majority_vote([None, None, b]) == 2                    # no code joins no cluster
    assert select_majority_vote([c, c, c, a]) == 3                       # error-only clusters rank last
    assert select_majority_vote([None, None]) == 0
    assert vote_clusters([a, None, a, b]) == [[0, 2], [3]]


def test_select_random_seeded():
    draws = [select_random(8, (0, 3, 8)) for _ in range(3)]
    assert len(set(draws)) == 1 and 0 <= draws[0] < 8
    assert {select_random(8, (0, i, 8)) for i in range(40)} > {0}      # not constant across problems


def _measure(pid, passed, scores, ut, sigs, *, gen=8.0, testgen=2.0, ut_s=None, vote_s=None, rm_time=None):
    n = len(passed)
    return ProblemMeasure(
        problem_id=pid, passed=np.array(passed, bool), valid=np.isfinite(scores), has_code=np.ones(n, bool),
        rm_scores=np.array(scores, float), rm_time_s=rm_time or {1: 0.1, 2: 0.15, 4: 0.2},
        ut_passes=np.array(ut, bool), ut_exec_s=np.array(ut_s or [0.5] * n), vote_sigs=sigs,
        vote_exec_s=np.array(vote_s or [0.25] * n), gen_time_s=gen, testgen_time_s=testgen, n_tests=2)


def _toy_measures():
    a, b = ("x",), ("y",)
    m1 = _measure("p1", [False, True, False, True], [0.0, 2.0, 1.0, -np.inf],
                  [[1, 0], [1, 1], [0, 0], [1, 1]], [a, b, a, b], ut_s=[0.1, 0.2, 0.3, 0.4])
    m2 = _measure("p2", [False, False, True, False], [3.0, -np.inf, 1.0, 5.0],
                  [[0, 0], [0, 0], [1, 1], [0, 1]], [a, a, b, a])
    return [m1, m2]


def test_selection_table_choices_and_oracle_random():
    t = selection_table(_toy_measures(), [1, 2, 4], seed=0)
    assert set(t.selector) == set(SELECTORS) and len(t) == 2 * 3 * len(SELECTORS)
    row = lambda pid, n, sel: t[(t.problem_id == pid) & (t.N == n) & (t.selector == sel)].iloc[0]  # noqa: E731
    assert row("p1", 4, "rm").chosen == 1 and row("p1", 4, "rm").correct == 1.0
    assert row("p2", 4, "rm").chosen == 3 and row("p2", 4, "rm").correct == 0.0
    assert row("p2", 2, "rm").chosen == 0                               # candidate 1 is invalid
    assert row("p1", 4, "unit_tests").chosen == 1                       # ties 1 and 3 -> 1
    assert row("p2", 4, "unit_tests").chosen == 2 and row("p2", 4, "unit_tests").correct == 1.0
    assert row("p1", 4, "vote").chosen == 0                             # 2-2 tie -> first cluster
    assert row("p2", 4, "vote").chosen == 0 and row("p2", 4, "vote").correct == 0.0
    assert row("p1", 1, "oracle").correct == 0.0 and row("p1", 2, "oracle").correct == 1.0
    assert row("p2", 4, "oracle").chosen == 2
    assert row("p1", 4, "random_expected").correct == 0.5
    assert row("p2", 2, "random_expected").correct == 0.0
    r = row("p1", 4, "random")
    assert r.correct == float(_toy_measures()[0].passed[r.chosen])
    with pytest.raises(ValueError):
        selection_table(_toy_measures(), [8])


def test_latency_accounting_sums():
    m = _toy_measures()[0]
    assert latency_columns(m, "rm", 2) == (4.0, 0.15)                   # gen 8 s for 4 -> 4 s for 2
    assert latency_columns(m, "unit_tests", 2) == pytest.approx((4.0, 2.0 + 0.1 + 0.2))
    assert latency_columns(m, "vote", 4) == pytest.approx((8.0, 2.0 + 4 * 0.25))
    assert latency_columns(m, "random", 4) == (8.0, 0.0)
    assert math.isnan(latency_columns(m, "oracle", 4)[1])
    t = selection_table([m], [1, 2, 4])
    ok = t[t.selector != "oracle"]
    assert np.allclose(ok.total_s, ok.generation_s + ok.selection_s)
    s = summarize(t, n_boot=50)
    r = latency_ratios(s)
    assert r[4] == pytest.approx((2.0 + 1.0) / 0.2) and set(r) == {1, 2, 4}


def test_summary_accuracy_and_bootstrap():
    t = selection_table(_toy_measures(), [1, 2, 4], seed=0)
    s = summarize(t, n_boot=200, seed=1)
    rm4 = s[(s.selector == "rm") & (s.N == 4)].iloc[0]
    assert rm4.accuracy == 0.5 and rm4.problems == 2 and 0.0 <= rm4.ci_lo <= 0.5 <= rm4.ci_hi <= 1.0
    assert list(s.selector.unique()) == list(SELECTORS)
    assert summarize(t, n_boot=200, seed=1).equals(s)                   # seeded
    vals = np.r_[np.ones(30), np.zeros(70)]
    lo, hi = bootstrap_ci(vals, n_boot=2000, seed=0)
    assert lo < 0.3 < hi and hi - lo == pytest.approx(2 * 1.96 * math.sqrt(0.21 / 100), abs=0.03)
    assert bootstrap_ci(np.ones(5)) == (1.0, 1.0)
    assert all(math.isnan(x) for x in bootstrap_ci([]))
    assert wilson_ci(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_ci(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)


# --- generated tests: prompts and parsing ------------------------------------------------------------------

def test_unit_test_prompts_name_the_format():
    assert "**Test Input:**" in unit_test_prompt(STDIO) and "standard input" in unit_test_prompt(STDIO)
    assert "JSON" in unit_test_prompt(CALL) and "square" in unit_test_prompt(CALL)
    assert "assert inc(" in unit_test_prompt(ASSERT)
    # the pre-filled answer start + a well-behaved continuation parses
    assert parse_generated_test(unit_test_prefix(STDIO) + "3 4\n```\n**Test Output:**\n```\n7\n```", STDIO)[1] == "ok"
    assert parse_generated_test(unit_test_prefix(CALL) + "5\n```\n**Test Output:**\n```\n25\n```", CALL)[1] == "ok"
    assert parse_generated_test(unit_test_prefix(ASSERT) + "4) == 5\n```", ASSERT) == (
        TestCase("assert inc(4) == 5\n"), "ok")


def test_parse_stdio_good_and_cure_escapes():
    text = "Sure.\n**Test Input:**\n```\n4 5\n```\n**Test Output:**\n```\n9\n```\n**Explanation:** 4+5"
    assert parse_generated_test(text, STDIO) == (TestCase("4 5\n", "9\n"), "ok")
    text = "**Test Input:** ```plaintext\n1 1\\n```\n**Test Output:** ```\n2```"
    t, why = parse_generated_test(text, STDIO)
    assert why == "ok" and t.output == "2\n"
    two = ("**Test Input:**\n```\n1 2\n```\n**Test Output:**\n```\n3\n```\nBetter:\n"
           "Input:\n```\n2 2\n```\nOutput:\n```\n4\n```")
    assert parse_generated_test(two, STDIO)[0] == TestCase("2 2\n", "4\n")   # last occurrence, like CURE
    plain = "**Test Input:** 7 8\n**Test Output:** 15\n\n**Explanation:** 7 + 8 = 15"
    assert parse_generated_test(plain, STDIO) == (TestCase("7 8\n", "15\n"), "ok")   # CURE's unfenced fallback


def test_parse_call_json_and_python_literals():
    text = "**Test Input:**\n```json\n[1, 2]\n\"ab\"\n```\n**Test Output:**\n```\n{\"a\": 1}\n```"
    assert parse_generated_test(text, CALL) == (TestCase('[1, 2]\n"ab"\n', '{"a": 1}'), "ok")
    text = "**Test Input:**\n```\n(1, 2)\nTrue\n```\n**Test Output:**\n```\nNone\n```"
    assert parse_generated_test(text, CALL) == (TestCase("[1, 2]\ntrue\n", "null"), "ok")


def test_parse_assert():
    text = "```python\nassert inc(3) == 4\nassert inc(0) == 1\n```"
    assert parse_generated_test(text, ASSERT) == (TestCase("assert inc(3) == 4\n", ""), "ok")
    assert parse_generated_test("assert inc(\n  1) == 2", ASSERT) == (TestCase("assert inc(\n  1) == 2\n"), "ok")


@pytest.mark.parametrize("text,problem,reason", [
    ("", STDIO, "empty"),
    ("I think the answer is 3.", STDIO, "no_input"),
    ("**Test Input:**\n```\n1 2\n```\nthe output is 3", STDIO, "no_output"),
    ("**Test Input:**\n```\n\n```\n**Test Output:**\n```\n3\n```", STDIO, "empty"),
    ("**Test Input:**\n```\nfoo(bar\n```\n**Test Output:**\n```\n1\n```", CALL, "bad_json"),
    ("**Test Input:**\n```\n3\n```\n**Test Output:**\n```\nnine\n```", CALL, "bad_json"),
    ("```python\nprint(inc(3))\n```", ASSERT, "no_assert"),
    ("```python\nassert other(3) == 4\n```", ASSERT, "no_entry_point"),
    ("```python\nassert inc(3 == \n```", ASSERT, "syntax"),
    ("**Test Input:**\n```\n" + "9 " * 20000 + "\n```\n**Test Output:**\n```\n1\n```", STDIO, "too_long"),
])
def test_parse_malformed_is_dropped(text, problem, reason):
    assert parse_generated_test(text, problem) == (None, reason)


def test_parse_many_counts_drops_and_caps():
    good = "**Test Input:**\n```\n1 2\n```\n**Test Output:**\n```\n3\n```"
    g = parse_generated_tests([good, "garbage", good, "**Test Input:**\n```\n1\n```", good], STDIO, max_tests=2)
    assert len(g.tests) == 2 and g.n_samples == 5 and g.n_dropped == 3
    assert g.drop_reasons == {"no_input": 1, "no_output": 1, "over_cap": 1}
    gp = generated_problem(STDIO, g.tests)
    assert gp.id == "add#gen" and gp.tests == g.tests and gp.kind == "stdio" and STDIO.tests != gp.tests
    assert generated_problem(STDIO, []) is None


def test_vote_inputs():
    tests = [TestCase("1 2\n", "3\n"), TestCase("1 2\n", "4\n"), TestCase("5 5\n", "10\n")]
    assert vote_inputs(STDIO, tests, 5) == ["1 2\n", "5 5\n"]           # distinct, in order
    assert vote_inputs(STDIO, tests, 1) == ["1 2\n"]
    at = [TestCase("assert inc(3) == 4\n"), TestCase("assert 1 == 1\n"), TestCase("assert inc(0)\n")]
    assert vote_inputs(ASSERT, at, 5) == ["print(repr(inc(3)))\n", "print(repr(inc(0)))\n"]


# --- sandbox-backed pieces (tiny) ----------------------------------------------------------------------------

def test_pass_matrix_and_vote_signatures_run_in_sandbox():
    from cskit.bon.unit_tests import pass_matrix, vote_signatures

    codes = ["a, b = map(int, input().split())\nprint(a + b)",
             "a, b = map(int, input().split())\nprint(a * b)",
             "",
             "raise SystemExit(1)"]
    tests = [TestCase("2 2\n", "4\n"), TestCase("1 2\n", "3\n")]
    passes, secs = pass_matrix(STDIO, codes, tests)
    assert passes.tolist() == [[True, True], [True, False], [False, False], [False, False]]
    assert secs[2] == 0 and (secs[[0, 1, 3]] > 0).all()
    sigs, vsecs = vote_signatures(STDIO, codes, ["2 2\n", "1 2\n"], workers=1)
    assert sigs[0] == ("4", "3") and sigs[1] == ("4", "2") and sigs[2] is None
    assert all(x.startswith("<") for x in sigs[3]) and vsecs[2] == 0 and vsecs[0] > 0


# --- end to end with a tiny model --------------------------------------------------------------------------

@pytest.mark.slow
def test_run_best_of_n_tiny_end_to_end(tmp_path):
    from cskit.bon import run_best_of_n
    from cskit.bon.stage import scorer_class
    from cskit.config import load_config, open_run
    from cskit.models import build_tiny_model, resolve_model

    RewardScorer = scorer_class()

    # bon_problems / bon_max_problems override eval_problems / max_eval_problems
    cfg = load_config("smoke", {"policy_model": "tiny-qwen3", "eval_problems": "humaneval", "max_eval_problems": 5,
                                "bon_problems": "bundled:val", "bon_max_problems": 2,
                                "bon_n_values": "1,2", "bon_num_tests": 2, "bon_vote_inputs": 2,
                                "eval_max_new_tokens": 16, "device": "cpu", "progress": False,
                                "sandbox_workers": 1})
    run = open_run(tmp_path / "run", "smoke")
    rm_dir = build_tiny_model(tmp_path / "rm", head="seqcls")
    assert resolve_model("tiny-qwen3")
    m = run_best_of_n(cfg, run, rm=RewardScorer(str(rm_dir), max_length=256, device="cpu"))
    assert m["problems"] == 2 and m["n_values"] == [1, 2]
    assert set(m["accuracy"]) == set(SELECTORS)
    assert m["generated_tests"]["samples"] == 4
    assert (run.results / "05_best_of_n.json").exists()
    for f in ("bon_accuracy_vs_n.png", "bon_latency.png", "bon_accuracy_vs_latency.png"):
        assert (run.figures / f).exists()
    cands = pd.read_parquet(run.data / "bon_candidates.parquet")
    assert len(cands) == 4 and cands.verdict.notna().all()
    assert cands.problem_id.str.startswith("bundled/").all()
    mtime = (run.data / "bon_candidates.parquet").stat().st_mtime_ns
    m2 = run_best_of_n(cfg, run, rm=RewardScorer(str(rm_dir), max_length=256, device="cpu"))  # resumes
    assert (run.data / "bon_candidates.parquet").stat().st_mtime_ns == mtime
    assert m2["accuracy"]["oracle"] == m["accuracy"]["oracle"]


def test_plots_from_summary():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cskit.bon import plots as pb

    s = summarize(selection_table(_toy_measures(), [1, 2, 4]), n_boot=20)
    for fn in (pb.plot_accuracy_vs_n, pb.plot_latency, pb.plot_accuracy_vs_latency):
        fig = fn(s)
        assert fig.axes
        plt.close(fig)
