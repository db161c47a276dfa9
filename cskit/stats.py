"""Statistics shared by every stage: intervals for rates and means, and rank metrics.

* :func:`wilson_ci` -- Wilson score interval for k successes out of n (proportions);
* :func:`bootstrap_ci` -- percentile bootstrap interval of a mean, resampling items (problems) with replacement;
* :func:`cluster_bootstrap_ci` -- the same resampling whole clusters (the problem a preference pair comes from);
* :func:`auroc` -- area under the ROC curve (P(random positive outscores random negative), ties 1/2), and
  :func:`auroc_ci`, its bootstrap interval (over items or clusters);
* :func:`rate`, :func:`mean_ci` -- a number as results JSON carries it: value, n and its 95% interval;
* :func:`paired_difference` -- a paired comparison on the same items (paired BCa bootstrap), and
  :func:`describe_difference`, the wording: an interval covering 0 is "no detectable difference (n = ...)".

Pure numpy/pandas; no stage imports this module's private names.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

__all__ = ["auroc", "bootstrap_ci", "describe_difference", "mean_ci", "paired_difference", "rate", "wilson_ci"]


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Area under the ROC curve (probability a random positive outscores a random negative; ties = 1/2).
    NaN when a class is empty."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    pos, neg = s[y], s[~y]
    if not len(pos) or not len(neg):
        return float("nan")
    ranks = pd.Series(np.concatenate([pos, neg])).rank(method="average").to_numpy()
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def bootstrap_ci(values: Sequence[float], n_boot: int = 2000, alpha: float = 0.05,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean, resampling items with replacement (seeded)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    return float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2))


def auroc_ci(scores: Sequence[float], labels: Sequence[bool], clusters: Sequence[Any] | None = None,
             n_boot: int = 1000, alpha: float = 0.05, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of :func:`auroc`, resampling items, or whole ``clusters`` (the problem of
    each rollout) when given; resamples that lose a class are skipped (NaN, NaN when every one does)."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    if not (y.any() and (~y).any()):
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    if clusters is None:
        groups = [np.array([i]) for i in range(len(s))]
    else:
        keys = np.asarray([str(c) for c in clusters])
        groups = [np.flatnonzero(keys == k) for k in np.unique(keys)]
    boots = []
    for _ in range(n_boot):
        idx = np.concatenate([groups[j] for j in rng.integers(0, len(groups), len(groups))])
        if y[idx].any() and (~y[idx]).any():
            boots.append(auroc(s[idx], y[idx]))
    if not boots:
        return float("nan"), float("nan")
    return float(np.quantile(boots, alpha / 2)), float(np.quantile(boots, 1 - alpha / 2))


def cluster_bootstrap_ci(values: Sequence[float], clusters: Sequence[Any], n_boot: int = 2000, alpha: float = 0.05,
                         seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of ``values`` resampling whole *clusters* (e.g. the problem each
    preference pair comes from) with replacement: items of one cluster are not independent, so this
    interval is wider than a per-item one when they agree with each other."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return float("nan"), float("nan")
    keys, inv = np.unique(np.asarray([str(c) for c in clusters]), return_inverse=True)
    sums, counts = np.bincount(inv, weights=v, minlength=len(keys)), np.bincount(inv, minlength=len(keys))
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(keys), size=(n_boot, len(keys)))
    means = sums[pick].sum(axis=1) / np.maximum(counts[pick].sum(axis=1), 1)
    return float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2))


def wilson_ci(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for k successes out of n (NaN, NaN when n = 0)."""
    if n <= 0:
        return float("nan"), float("nan")
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def rate(k: int, n: int) -> dict:
    """A proportion with its n and 95% Wilson interval: ``{"value", "n", "k", "ci": [lo, hi]}``."""
    lo, hi = wilson_ci(int(k), int(n))
    return {"value": float(k / n) if n else float("nan"), "k": int(k), "n": int(n), "ci": [lo, hi]}


def mean_ci(values: Sequence[float], n_boot: int = 2000, seed: int = 0) -> dict:
    """A mean over items (problems) with its n and a 95% percentile bootstrap interval over the items."""
    v = np.asarray(values, dtype=float)
    lo, hi = bootstrap_ci(v, n_boot=n_boot, seed=seed)
    return {"value": float(v.mean()) if v.size else float("nan"), "n": int(v.size), "ci": [lo, hi]}


def paired_difference(a: Sequence[float], b: Sequence[float], *, n_resamples: int = 4000, seed: int = 0,
                      confidence: float = 0.95) -> dict:
    """Mean of ``a - b`` over the same items, with a paired BCa bootstrap interval (``scipy.stats.bootstrap``,
    percentile when BCa is undefined, e.g. all differences equal). ``{"diff", "n", "ci", "verdict"}``:
    ``verdict`` is "no detectable difference" when the interval covers 0, else "a > b" or "a < b"."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired_difference: {x.shape} vs {y.shape} items; a paired comparison needs the same items")
    n = int(x.size)
    if n == 0:
        return {"diff": float("nan"), "n": 0, "ci": [float("nan"), float("nan")], "verdict": "no data"}
    d = x - y
    diff = float(d.mean())
    if n < 2 or np.all(d == d[0]):
        lo = hi = diff
    else:
        from scipy import stats as st

        rng = np.random.default_rng(seed)
        try:
            res = st.bootstrap((x, y), lambda u, v, axis=-1: np.mean(u - v, axis=axis), paired=True,
                               vectorized=True, n_resamples=n_resamples, confidence_level=confidence,
                               method="BCa", random_state=rng)
            lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
            if not (np.isfinite(lo) and np.isfinite(hi)):
                raise ValueError("BCa interval undefined")
        except Exception:  # degenerate resamples: percentile bootstrap of the mean difference
            idx = rng.integers(0, n, size=(n_resamples, n))
            means = d[idx].mean(axis=1)
            lo, hi = (float(np.quantile(means, (1 - confidence) / 2)),
                      float(np.quantile(means, 1 - (1 - confidence) / 2)))
    verdict = "no detectable difference" if lo <= 0 <= hi else ("a > b" if diff > 0 else "a < b")
    return {"diff": diff, "n": n, "ci": [lo, hi], "verdict": verdict}


def describe_difference(d: dict, a: str, b: str, unit: str = "") -> str:
    """The wording every table uses: a difference whose interval covers 0 is never called a win or a loss
    (with ``ci_by_problem``, the interval that resamples problems, either interval covering 0 is enough)."""
    if d.get("n", 0) == 0:
        return "no data"
    lo, hi = d["ci"]
    span = f"{d['diff']:+.3g}{unit} (95% CI {lo:+.3g} to {hi:+.3g}, n = {d['n']})"
    by = d.get("ci_by_problem")
    if by:   # items cluster in problems: the interval over problems decides too
        span = span[:-1] + f"; over the {d.get('n_problems', '?')} problems {by[0]:+.3g} to {by[1]:+.3g})"
    if d["verdict"] == "no detectable difference" or (by and by[0] <= 0 <= by[1]):
        return f"no detectable difference between {a} and {b}: {span}"
    better = a if d["diff"] > 0 else b
    return f"{better} higher: {a} - {b} = {span}"
