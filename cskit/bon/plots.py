"""Figures of stage 05 (Best-of-N): accuracy vs N, latency bars, accuracy vs latency.

All functions take the summary table of :func:`cskit.bon.summarize` (columns selector, N, accuracy, ci_lo,
ci_hi, generation_s, selection_s, total_s) and return a matplotlib figure.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cskit.figures import save

LABELS = {"rm": "CodeScaler RM", "unit_tests": "unit tests (CURE-style)", "vote": "majority vote",
          "random": "random (draw)", "random_expected": "random (expected)", "oracle": "oracle"}
STYLES = {"rm": dict(color="C0", marker="o"), "unit_tests": dict(color="C1", marker="s"),
          "vote": dict(color="C2", marker="^"), "random": dict(color="C7", marker="x", linestyle=":"),
          "random_expected": dict(color="C7", marker=".", linestyle="--"),
          "oracle": dict(color="k", marker="", linestyle="--")}
DEPLOYABLE = ("rm", "unit_tests", "vote")


def plot_accuracy_vs_n(summary: pd.DataFrame, path=None, selectors=None):
    """Accuracy (real tests) against N, one line per selector with its 95 % CI band."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for sel in selectors or LABELS:
        g = summary[summary.selector == sel].sort_values("N")
        if g.empty:
            continue
        st = STYLES.get(sel, {})
        ax.plot(g.N, g.accuracy, label=LABELS.get(sel, sel), **st)
        if sel not in ("random", "oracle"):
            ax.fill_between(g.N, g.ci_lo, g.ci_hi, color=st.get("color"), alpha=0.12, linewidth=0)
    ax.set_xscale("log", base=2)
    ns = sorted(summary.N.unique())
    ax.set_xticks(ns, [str(n) for n in ns])
    ax.set_xlabel("N (candidates)")
    ax.set_ylabel("accuracy (all real tests pass)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Best-of-N accuracy (95% bootstrap CI over problems)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save(fig, path)


def plot_latency(summary: pd.DataFrame, path=None, selectors=DEPLOYABLE):
    """Mean latency per problem, stacked generation + selection, grouped by N, one bar per selector."""
    ns = sorted(summary.N.unique())
    sels = [s for s in selectors if s in set(summary.selector)]
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(ns) * max(1, len(sels)) / 2), 4))
    width = 0.8 / max(1, len(sels))
    x = np.arange(len(ns))
    for k, sel in enumerate(sels):
        g = summary[summary.selector == sel].set_index("N").reindex(ns)
        pos = x - 0.4 + width * (k + 0.5)
        color = STYLES.get(sel, {}).get("color")
        ax.bar(pos, g.generation_s, width, color=color, alpha=0.35, edgecolor=color)
        ax.bar(pos, g.selection_s, width, bottom=g.generation_s, color=color, edgecolor=color,
               label=LABELS.get(sel, sel))
    ax.set_xticks(x, [f"N={n}" for n in ns])
    ax.set_ylabel("seconds per problem")
    ax.set_title("Latency: generation (light) + selection (dark)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return save(fig, path)


def plot_accuracy_vs_latency(summary: pd.DataFrame, path=None, selectors=DEPLOYABLE, column: str = "total_s"):
    """Accuracy against mean latency per problem (``total_s`` or ``selection_s``); labels are N."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for sel in selectors:
        g = summary[summary.selector == sel].sort_values("N")
        if g.empty:
            continue
        st = STYLES.get(sel, {})
        ax.errorbar(g[column], g.accuracy, yerr=[g.accuracy - g.ci_lo, g.ci_hi - g.accuracy], capsize=2,
                    label=LABELS.get(sel, sel), color=st.get("color"), marker=st.get("marker", "o"), alpha=0.85)
        for r in g.itertuples():
            ax.annotate(f"{r.N}", (getattr(r, column), r.accuracy), textcoords="offset points", xytext=(4, 3),
                        fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel(f"{'total' if column == 'total_s' else 'selection'} latency per problem (s, log)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Accuracy vs latency (points labelled by N)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save(fig, path)


def save_figures(summary: pd.DataFrame, run) -> list:
    """Stage 05's figures: ``bon_accuracy_vs_n.png``, ``bon_latency.png``, ``bon_accuracy_vs_latency.png``."""
    from cskit.figures import close

    out = []
    for name, fn in (("bon_accuracy_vs_n.png", plot_accuracy_vs_n), ("bon_latency.png", plot_latency),
                     ("bon_accuracy_vs_latency.png", plot_accuracy_vs_latency)):
        path = run.figures / name
        close(fn(summary, path))
        out.append(path)
    return out
