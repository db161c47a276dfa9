"""cskit.stats: the intervals every number carries, and the wording of comparisons."""
import numpy as np
import pytest

from cskit.stats import (auroc, bootstrap_ci, cluster_bootstrap_ci, describe_difference, mean_ci, paired_difference,
                         rate, wilson_ci)


def test_wilson_matches_the_textbook_values():
    lo, hi = wilson_ci(8, 10)   # Wilson 95% for 8/10: 0.490 to 0.943
    assert lo == pytest.approx(0.490, abs=1e-3) and hi == pytest.approx(0.943, abs=1e-3)
    assert wilson_ci(0, 10)[0] == pytest.approx(0.0, abs=1e-12) and wilson_ci(10, 10)[1] == pytest.approx(1.0)
    assert all(np.isnan(wilson_ci(0, 0)))
    r = rate(150, 300)
    assert r["n"] == 300 and r["k"] == 150 and r["ci"][1] - r["ci"][0] < 0.12   # 300 items: half-width < 0.06


def test_bootstrap_intervals_cover_the_mean_and_shrink_with_n():
    rng = np.random.default_rng(0)
    small, big = rng.random(20), rng.random(2000)
    for v in (small, big):
        lo, hi = bootstrap_ci(v)
        assert lo < v.mean() < hi
    assert np.diff(bootstrap_ci(big)) < np.diff(bootstrap_ci(small))
    m = mean_ci(small)
    assert m["n"] == 20 and m["ci"][0] < m["value"] < m["ci"][1]


def test_cluster_bootstrap_is_wider_when_items_of_a_cluster_agree():
    # 10 problems x 30 pairs, every pair of a problem has the same outcome: 10 independent items, not 300
    v = np.repeat([1, 1, 1, 1, 1, 1, 0, 0, 0, 0], 30).astype(float)
    clusters = np.repeat(np.arange(10), 30)
    lo_c, hi_c = cluster_bootstrap_ci(v, clusters)
    lo_i, hi_i = bootstrap_ci(v)
    assert lo_c < lo_i and hi_c > hi_i and hi_c - lo_c > 2 * (hi_i - lo_i)
    # independent clusters of one item each: the same as the per-item bootstrap
    w = np.random.default_rng(1).random(200)
    assert cluster_bootstrap_ci(w, np.arange(200)) == pytest.approx(bootstrap_ci(w), abs=0.02)


def test_paired_difference_detects_a_real_gap_and_not_noise():
    rng = np.random.default_rng(0)
    a = rng.random(200)
    d = paired_difference(a + 0.2, a)
    assert d["verdict"] == "a > b" and d["diff"] == pytest.approx(0.2) and d["n"] == 200
    same = paired_difference(a, a)
    assert same["verdict"] == "no detectable difference" and same["diff"] == 0.0
    noise = paired_difference(rng.random(30), rng.random(30))
    assert noise["ci"][0] <= noise["diff"] <= noise["ci"][1]
    with pytest.raises(ValueError, match="same items"):
        paired_difference([1, 2], [1])
    assert paired_difference([], [])["verdict"] == "no data"


def test_wording_never_calls_a_covered_difference_a_win():
    win = {"diff": 0.1, "n": 300, "ci": [0.05, 0.15], "verdict": "a > b"}
    assert describe_difference(win, "A", "B").startswith("A higher")
    assert describe_difference({**win, "ci": [-0.01, 0.2], "verdict": "no detectable difference"},
                               "A", "B").startswith("no detectable difference")
    # the pair-level interval excludes 0 but the one over problems does not: no claim
    clustered = {**win, "ci_by_problem": [-0.02, 0.22], "n_problems": 12}
    text = describe_difference(clustered, "A", "B")
    assert text.startswith("no detectable difference") and "12 problems" in text
    assert describe_difference({"n": 0}, "A", "B") == "no data"


def test_auroc():
    assert auroc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0
    assert auroc([0.1, 0.9], [True, False]) == 0.0
    assert auroc([0.5, 0.5, 0.5], [True, False, True]) == 0.5
    assert np.isnan(auroc([0.3, 0.4], [True, True]))


def test_auroc_interval_covers_the_estimate_over_items_and_clusters():
    from cskit.stats import auroc_ci

    rng = np.random.default_rng(0)
    y = rng.random(300) < 0.4
    s = y + rng.normal(0, 1.0, 300)
    lo, hi = auroc_ci(s, y)
    assert lo < auroc(s, y) < hi and hi - lo < 0.2
    # 10 problems whose rollouts share a score offset: far fewer independent items than 300
    clusters = np.repeat(np.arange(10), 30)
    s2 = s + np.repeat(rng.normal(0, 2.0, 10), 30)
    lo_i, hi_i = auroc_ci(s2, y)
    lo_c, hi_c = auroc_ci(s2, y, clusters)
    assert lo_c < auroc(s2, y) < hi_c and hi_c - lo_c > hi_i - lo_i
    assert all(np.isnan(auroc_ci([0.1, 0.2], [True, True])))
