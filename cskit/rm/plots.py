"""Figures of stage 03 (reward model): score histograms of passing vs failing code, calibration, accuracy by
the negative's pass fraction, trained vs untrained RM, and the training loss curve.

Inputs are the stage's metrics dict (``results/03_reward_model.json`` -> ``metrics``) and its rollout-score
table (``data/rm_scores/rollouts.parquet``: ``passed``, ``score_trained``, ``score_untrained``).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cskit.figures import save

MODELS = ("untrained", "trained")
COLORS = {"trained": "C0", "untrained": "C7"}


def plot_score_histograms(scores: pd.DataFrame, path=None):
    """Per RM (untrained, trained): histogram of scores of passing vs failing rollouts."""
    cols = [m for m in MODELS if f"score_{m}" in scores.columns]
    fig, axes = plt.subplots(1, max(1, len(cols)), figsize=(5 * max(1, len(cols)), 3.6), squeeze=False)
    for ax, m in zip(axes[0], cols):
        d = scores[scores[f"score_{m}"].notna()]
        s, ok = d[f"score_{m}"].to_numpy(float), d["passed"].astype(bool).to_numpy()
        if len(s):
            bins = np.linspace(s.min(), s.max() + 1e-9, 25)
            ax.hist(s[ok], bins=bins, alpha=0.6, color="C2", label=f"pass (n={ok.sum()})")
            ax.hist(s[~ok], bins=bins, alpha=0.6, color="C3", label=f"fail (n={(~ok).sum()})")
        ax.set_title(f"{m} RM: scores of rollouts")
        ax.set_xlabel("RM score")
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("count")
    fig.tight_layout()
    return save(fig, path)


def plot_calibration(metrics: dict, path=None):
    """Pass rate per score decile (x = mean score of the decile)."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for m in MODELS:
        rows = metrics.get(m, {}).get("rollouts", {}).get("calibration") or []
        if rows:
            t = pd.DataFrame(rows)
            ax.plot(t.score_mean, t.pass_rate, marker="o", color=COLORS[m], label=f"{m} RM")
    ax.set_xlabel("mean RM score of the decile")
    ax.set_ylabel("pass rate (all tests)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Calibration: pass rate by score decile")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)


def plot_accuracy_by_neg_pass(metrics: dict, path=None, split: str = "val"):
    """Held-out pairwise accuracy by the negative's pass fraction (hard negatives on the right)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    width = 0.38
    labels: list[str] = []
    for m in MODELS:
        for r in metrics.get(m, {}).get(split, {}).get("by_neg_pass_fraction", []):
            if r["neg_pass_bin"] not in labels:
                labels.append(r["neg_pass_bin"])
    x = np.arange(len(labels))
    for k, m in enumerate(MODELS):
        rows = {r["neg_pass_bin"]: r for r in metrics.get(m, {}).get(split, {}).get("by_neg_pass_fraction", [])}
        acc = [rows[b]["accuracy"] if b in rows else np.nan for b in labels]
        ax.bar(x - width / 2 + k * width, acc, width, color=COLORS[m], label=f"{m} RM")
        for xi, b in zip(x, labels):
            if b in rows and k == 1:
                ax.text(xi, 1.01, f"n={rows[b]['n']}", ha="center", fontsize=7)
    ax.axhline(0.5, color="k", linestyle=":", linewidth=1)
    ax.set_xticks(x, labels)
    ax.set_xlabel("pass fraction of the negative (failing) code")
    ax.set_ylabel(f"{split} pairwise accuracy")
    ax.set_ylim(0, 1.08)
    ax.set_title("Accuracy by negative's pass fraction")
    ax.legend(fontsize=8)
    return save(fig, path)


def plot_trained_vs_untrained(metrics: dict, path=None):
    """Bars: val / train pairwise accuracy, rollout AUROC, offline code RM-Bench easy/normal/hard."""
    items = [("val acc", ("val", "accuracy")), ("train acc", ("train", "accuracy")),
             ("rollout AUROC", ("rollouts", "auroc"))]
    for k in ("easy", "normal", "hard"):
        items.append((f"code-bench {k}", ("rmbench_code", k)))
    vals = {m: [metrics.get(m, {}).get(a, {}).get(b, np.nan) if isinstance(metrics.get(m, {}).get(a), dict)
                else np.nan for _, (a, b) in items] for m in MODELS}
    keep = [i for i in range(len(items)) if any(np.isfinite(vals[m][i]) for m in MODELS)]
    fig, ax = plt.subplots(figsize=(max(5, 1.3 * len(keep)), 4))
    x = np.arange(len(keep))
    for k, m in enumerate(MODELS):
        ax.bar(x - 0.19 + 0.38 * k, [vals[m][i] for i in keep], 0.38, color=COLORS[m], label=f"{m} RM")
    ax.axhline(0.5, color="k", linestyle=":", linewidth=1)
    ax.set_xticks(x, [items[i][0] for i in keep], rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_title("Trained vs untrained reward model")
    ax.legend(fontsize=8)
    return save(fig, path)


def plot_loss_curve(metrics: dict, path=None):
    """Bradley-Terry training loss (and batch accuracy) per optimiser step."""
    hist = pd.DataFrame(metrics.get("training", {}).get("log_history") or [])
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax2 = None
    if not hist.empty:
        ax.plot(hist["step"], hist["loss"], color="C0", label="loss")
        if len(hist) >= 8:
            ax.plot(hist["step"], hist["loss"].rolling(max(2, len(hist) // 10), min_periods=1).mean(),
                    color="C0", linewidth=2.5, alpha=0.5, label="loss (smoothed)")
        if "accuracy" in hist:
            ax2 = ax.twinx()
            ax2.plot(hist["step"], hist["accuracy"], color="C1", alpha=0.5, label="batch accuracy")
            ax2.set_ylim(-0.02, 1.02)
            ax2.set_ylabel("batch accuracy")
    ax.axhline(np.log(2), color="k", linestyle=":", linewidth=1)
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("BT loss")
    ax.set_title("Reward-model training")
    handles, labels = ax.get_legend_handles_labels()
    if ax2 is not None:
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, fontsize=8, loc="center right")
    return save(fig, path)


def save_figures(metrics: dict, scores: pd.DataFrame | None, run) -> list:
    """Stage 03's figures ``rm_*.png`` (score histograms and calibration only when rollouts were scored)."""
    from cskit.figures import close

    todo = [("rm_loss.png", plot_loss_curve, metrics), ("rm_acc_by_neg_pass.png", plot_accuracy_by_neg_pass, metrics),
            ("rm_trained_vs_untrained.png", plot_trained_vs_untrained, metrics)]
    if scores is not None:
        todo += [("rm_score_hist.png", plot_score_histograms, scores), ("rm_calibration.png", plot_calibration, metrics)]
    out = []
    for name, fn, data in todo:
        path = run.figures / name
        close(fn(data, path))
        out.append(path)
    return out
