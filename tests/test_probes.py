"""Reward-hacking probes: shadow execution of RM-rewarded completions, per-step statistics, resume."""
import math

import pytest

from cskit.problems import bundled_problems
from cskit.rl.probes import ShadowProbe, probe_row, read_probes
from cskit.sandbox import SandboxLimits

LIM = SandboxLimits(allow_unisolated=True)


def test_probe_row_statistics():
    row = probe_row(3, rewards=[5.0, 4.0, 1.0, 0.0], valid=[True, True, True, False],
                    passed=[False, True, False, False])
    assert row["grpo_step"] == 3 and row["n"] == 4 and row["n_passed"] == 1
    assert row["high_reward_fail_share"] == 1.0          # the top-quarter reward (5.0) fails its tests
    assert row["invalid_share"] == 0.25
    assert row["reward_pass_mean"] == 4.0 and row["reward_fail_mean"] == pytest.approx(2.0)
    assert row["auroc"] == pytest.approx(2 / 3)


def _answer(code):
    return f"Here you go.\n```python\n{code}\n```\n"


def test_shadow_probe_grades_in_the_background_and_resumes(tmp_path):
    probs = [p for p in bundled_problems("train") if p.solutions and p.wrong_solutions][:3]
    out = tmp_path / "probes" / "policy-codescaler.jsonl"
    probe = ShadowProbe({p.id: p for p in probs}, out, share=1.0, limits=LIM, updates_per_step=2)
    ids = [p.id for p in probs] * 2
    responses = [_answer(p.solutions[0]) for p in probs] + [_answer(p.wrong_solutions[0]) for p in probs]
    rewards = [1.0, 1.0, 1.0, 3.0, 3.0, 3.0]          # an RM that prefers the wrong code
    probe(ids, responses, rewards, global_step=0)
    probe(ids, responses, rewards, global_step=2)
    probe.close()
    rows = read_probes(out)
    assert [r["grpo_step"] for r in rows] == [0, 1]
    assert rows[0]["n"] == 6 and rows[0]["n_passed"] == 3
    assert rows[0]["auroc"] == 0.0 and rows[0]["high_reward_fail_share"] == 1.0
    from cskit.rl.probes import probe_summary

    pooled = probe_summary(rows)   # every probed completion pooled over steps, with n and intervals
    assert pooled["n"] == 12 and pooled["steps"] == 2 and pooled["pass_rate"]["k"] == 6
    assert pooled["auroc"]["value"] == 0.0 and pooled["auroc"]["n"] == 12 and pooled["auroc"]["ci"][1] <= 0.5
    assert pooled["high_reward_fail_share"]["value"] == 1.0 and pooled["high_reward_fail_share"]["n"] == 6
    assert pooled["invalid_share"]["k"] == 0
    probe.resume_from(2)                                 # a resume at optimizer step 2 re-probes GRPO step 1
    assert [r["grpo_step"] for r in read_probes(out)] == [0]
    import pickle

    assert pickle.loads(pickle.dumps(probe)).share == 1.0


def test_codescaler_reward_feeds_the_probe_without_changing_rewards(tmp_path):
    from cskit.models import resolve_model
    from cskit.rl.rewards import CodeScalerReward
    from cskit.rm import RewardScorer

    probs = [p for p in bundled_problems("train") if p.solutions][:2]
    scorer = RewardScorer(resolve_model("tiny-qwen3", "seqcls"), device="cpu", seed=0)
    probe = ShadowProbe({p.id: p for p in probs}, tmp_path / "p.jsonl", share=1.0, limits=LIM)
    plain, probed = CodeScalerReward(scorer), CodeScalerReward(scorer, probe=probe)
    kw = dict(problem_id=[p.id for p in probs], question=[p.statement for p in probs])
    completions = [_answer(p.solutions[0]) for p in probs]
    assert plain(completions=completions, **kw) == probed(completions=completions, **kw)
    probe.close()
    (row,) = read_probes(tmp_path / "p.jsonl")
    assert row["n"] == 2 and row["n_passed"] == 2 and math.isnan(row["auroc"])   # one class only
