"""Pass-rate distribution with the tiny random model (it solves nothing; the shape is what is checked)."""
from __future__ import annotations

from cskit.problems import bundled_problems
from cskit.rollouts.passrate import BUCKETS, bucket_of, format_pass_rates, histogram, pass_rate_distribution


def test_buckets():
    assert [bucket_of(x) for x in (0, 0.1, 0.25, 0.3, 0.5, 0.6, 0.75, 0.8, 1)] == \
        ["0", "(0,0.25]", "(0,0.25]", "(0.25,0.5]", "(0.25,0.5]", "(0.5,0.75]", "(0.5,0.75]", "(0.75,1)", "1"]
    assert histogram([0, 0, 1, 0.5]) == {"0": 2, "(0,0.25]": 0, "(0.25,0.5]": 1, "(0.5,0.75]": 0, "(0.75,1)": 0,
                                         "1": 1}


def test_tiny_model_distribution():
    from cskit.sandbox import SandboxLimits

    probs = [p for p in bundled_problems("val")][:3]
    rep = pass_rate_distribution(probs, "tiny-qwen3", n=2, max_new_tokens=8, seed=0,
                                 limits=SandboxLimits(allow_unisolated=True))
    assert rep.n == 2 and rep.n_problems == 3 and set(rep.pass_rates) == {p.id for p in probs}
    assert list(rep.histogram) == list(BUCKETS) and sum(rep.histogram.values()) == 3
    assert all(len(v) == 2 for v in rep.per_problem.values())
    assert rep.histogram["0"] == 3 and rep.n_mixed == 0 and rep.mean_pass_rate == 0.0
    text = format_pass_rates(rep)
    assert "mixed problems" in text and "tiny-qwen3" in text
    assert rep.to_dict()["n_problems"] == 3
