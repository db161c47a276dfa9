"""cskit.rl.rewards: CodeScaler / execution / raw-RM rewards on hand-made completions (trl call signature)."""
from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from cskit.problems import Problem, TestCase
from cskit.rl.rewards import (CodeScalerReward, ExecutionReward, NoTestsError, RawRMReward, completion_text,
                           make_reward)

GOOD = "Here you go:\n```python\nprint(int(input()) * 2)\n```\n"
WRONG = "```python\nprint(int(input()) + 2)\n```"
TWO_BLOCKS = "```python\nx = 1\n```\nand\n```python\nprint(2)\n```"
BROKEN = "```python\ndef f(:\n    pass\n```"
NO_BLOCK = "print(int(input()) * 2)"


class FakeScorer:
    """Picklable stand-in for RewardScorer: score = len(code) / 10 - 2 (deterministic, signed)."""

    def __init__(self):
        self.calls = []

    def score(self, questions, codes):
        self.calls.append(list(codes))
        return np.array([len(c) / 10.0 - 2.0 for c in codes], dtype=np.float64)


def _double_problem(pid="double", kind="stdio"):
    return Problem(id=pid, statement="Read n, print 2n.", kind=kind,
                   tests=[TestCase("3\n", "6\n"), TestCase("10\n", "20\n")] if kind != "none" else [])


class Recorder:
    def __init__(self):
        self.metrics, self.extra = {}, {}

    def log_metric(self, name, value):
        self.metrics.setdefault(name, []).append(value)

    def log_extra(self, column, values):
        self.extra[column] = values


def test_completion_text_accepts_strings_and_messages():
    assert completion_text("abc") == "abc"
    assert completion_text([{"role": "assistant", "content": "abc"}]) == "abc"
    assert completion_text([{"role": "assistant", "content": [{"type": "text", "text": "x"}]}]) == "x"


def test_codescaler_invalid_zero_valid_softplus():
    scorer = FakeScorer()
    r = CodeScalerReward(scorer)
    assert r.__name__ == "codescaler"
    comps = [GOOD, TWO_BLOCKS, BROKEN, NO_BLOCK, WRONG]
    rec = Recorder()
    out = r(prompts=["q"] * 5, completions=comps, completion_ids=None, question=["q"] * 5,
            problem_id=["double"] * 5, log_metric=rec.log_metric, log_extra=rec.log_extra)
    assert out[1] == out[2] == out[3] == 0.0
    code = "print(int(input()) * 2)"
    s = len(code) / 10.0 - 2.0
    assert out[0] == pytest.approx(math.log1p(math.exp(s)))
    assert out[0] > 0 and out[4] > 0
    # only valid codes reach the RM under the gated shaping
    assert scorer.calls == [[code, "print(int(input()) + 2)"]]
    assert rec.metrics["codescaler/valid_rate"] == [pytest.approx(0.4)]
    assert rec.metrics["codescaler/raw_mean"][0] == pytest.approx(s)
    assert {"codescaler/raw_std", "codescaler/raw_min", "codescaler/raw_max"} <= set(rec.metrics)
    assert rec.extra["codescaler_raw"][1] is None and rec.extra["codescaler_raw"][0] == pytest.approx(s)


def test_codescaler_conversational_completions_and_prompt_fallback():
    r = CodeScalerReward(FakeScorer())
    prompts = [[{"role": "user", "content": "the question"}]] * 2
    comps = [[{"role": "assistant", "content": GOOD}], [{"role": "assistant", "content": BROKEN}]]
    out = r(prompts, comps)  # no question column, no hooks: still works
    assert out[0] > 0 and out[1] == 0.0


def test_codescaler_very_large_scores_are_finite():
    class Big:
        def score(self, q, c):
            return np.full(len(c), 1000.0)

    out = CodeScalerReward(Big())(["q"], [GOOD])
    assert out == [pytest.approx(1000.0)]


def test_codescaler_ungated_shaping_scores_empty_code():
    scorer = FakeScorer()
    out = CodeScalerReward(scorer, shaping="raw")(["q"] * 2, [GOOD, BROKEN])
    assert scorer.calls == [["print(int(input()) * 2)", ""]]
    assert out[1] == pytest.approx(-2.0)
    with pytest.raises(ValueError):
        CodeScalerReward(scorer, shaping="nope")


def test_raw_rm_reward_uses_lenient_code_or_whole_text():
    scorer = FakeScorer()
    out = RawRMReward(scorer)(["q"] * 3, [TWO_BLOCKS, NO_BLOCK, BROKEN])
    assert scorer.calls == [["print(2)", NO_BLOCK, "def f(:\n    pass"]]
    assert out[0] == pytest.approx(len("print(2)") / 10 - 2)


def test_pickle_round_trip_then_call():
    for r in (CodeScalerReward(FakeScorer()), RawRMReward(FakeScorer()), CodeScalerReward("/some/rm/dir"),
              ExecutionReward([_double_problem()])):
        r2 = pickle.loads(pickle.dumps(r))
        assert r2.__name__ == r.__name__
    r2 = pickle.loads(pickle.dumps(CodeScalerReward(FakeScorer())))
    assert r2(["q"], [GOOD], question=["q"])[0] > 0


def test_execution_reward_pass_fail_and_pickle():
    r = ExecutionReward([_double_problem()], workers=1)
    rec = Recorder()
    out = r(["q"] * 4, [GOOD, WRONG, TWO_BLOCKS, NO_BLOCK], problem_id=["double"] * 4, log_metric=rec.log_metric)
    assert out == [1.0, 0.0, 0.0, 0.0]
    assert rec.metrics["execution/pass_rate"] == [0.25]
    assert rec.metrics["execution/valid_rate"] == [0.5]
    r2 = pickle.loads(pickle.dumps(r))
    assert r2(["q"], [[{"role": "assistant", "content": GOOD}]], problem_id=["double"]) == [1.0]


def test_execution_reward_bundled_problem():
    from cskit.problems import bundled_problems

    p = next(p for p in bundled_problems() if p.solutions and p.wrong_solutions)
    r = ExecutionReward({p.id: p}, workers=1)
    fence = "```python\n{}\n```"
    out = r(None, [fence.format(p.solutions[0]), fence.format(p.wrong_solutions[0])], problem_id=[p.id, p.id])
    assert out == [1.0, 0.0]


def test_execution_reward_refuses_test_free_problems():
    with pytest.raises(NoTestsError, match="synthetic-7"):
        ExecutionReward([_double_problem(), _double_problem("synthetic-7", kind="none")])
    with pytest.raises(NoTestsError, match="double"):
        ExecutionReward([_double_problem().without_tests()])
    r = ExecutionReward([_double_problem()])
    with pytest.raises(KeyError, match="other"):
        r(None, [GOOD], problem_id=["other"])


def test_make_reward_names():
    assert make_reward("codescaler", rm=FakeScorer()).__name__ == "codescaler"
    assert make_reward("untrained_rm", rm=FakeScorer()).__name__ == "untrained_rm"
    assert make_reward("raw_rm", rm=FakeScorer()).__name__ == "raw_rm"
    assert make_reward("execution", problems=[_double_problem()]).__name__ == "execution"
    with pytest.raises(ValueError):
        make_reward("codescaler")


def test_codescaler_with_the_real_scorer_on_a_tiny_rm(tmp_path):
    pytest.importorskip("torch")
    from cskit.models import build_tiny_model
    from cskit.rl.rewards import _reward_scorer_class
    from cskit.shaping import softplus

    rm_dir = build_tiny_model(tmp_path / "rm", head="seqcls", seed=3)
    r = CodeScalerReward(str(rm_dir), max_length=256, batch_size=4, device="cpu")
    comps = [GOOD, BROKEN, WRONG]
    out = r(None, comps, question=["Read n, print 2n."] * 3)
    raw = _reward_scorer_class()(str(rm_dir), max_length=256, batch_size=4, device="cpu").score(
        ["Read n, print 2n."] * 2, ["print(int(input()) * 2)", "print(int(input()) + 2)"])
    assert out[1] == 0.0
    assert out[0] == pytest.approx(float(softplus(raw[0])), rel=1e-5)
    assert out[2] == pytest.approx(float(softplus(raw[1])), rel=1e-5)
    r2 = pickle.loads(pickle.dumps(r))  # the loaded scorer is dropped and rebuilt lazily
    assert r2._holder._scorer is None
    assert r2(None, comps, question=["Read n, print 2n."] * 3) == pytest.approx(out, rel=1e-5)
