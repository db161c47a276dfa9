"""Figures for stage 07 (report): this run's RL averages beside the paper's, and the Best-of-N claim check.
Each returns a matplotlib figure (saved when ``path`` is given) or None when its stage is missing."""
from __future__ import annotations

import numpy as np
import pandas as pd

from cskit.figures import save


def plot_rl_vs_paper(rl: pd.DataFrame, path=None):
    """(a) Average (%) per method, this run vs the paper's row; (b) gains over base and execution RL."""
    import matplotlib.pyplot as plt

    if "Average" not in rl.columns:
        return None
    ours = rl[rl["source"].astype(str).str.startswith("this run")]
    if ours["Average"].notna().sum() == 0:
        return None
    from cskit.report.paper import PAPER_RL_DELTAS

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    names = list(rl.index)
    colors = ["tab:blue" if s.startswith("this run") else "tab:gray" for s in rl["source"].astype(str)]
    axes[0].barh(range(len(names)), rl["Average"].astype(float).fillna(0).to_numpy(), color=colors)
    axes[0].set_yticks(range(len(names)), names, fontsize=8)
    axes[0].invert_yaxis()
    axes[0].set_xlabel("benchmark average (%)  [blue: this run, gray: paper; different benchmarks and scale]")
    axes[0].set_title("RL: average pass rate")
    avg = {i: float(v) for i, v in ours["Average"].items() if v == v}
    base = next((v for k, v in avg.items() if k.startswith("base model")), np.nan)
    cs = avg.get("CodeScaler RL", np.nan)
    ex = avg.get("execution-reward RL", np.nan)
    labels, mine, paper = [], [], []
    for name, p in PAPER_RL_DELTAS.items():
        labels.append(name.replace(" (Average)", ""))
        mine.append(cs - base if "base" in name else cs - ex)
        paper.append(next(iter(p.values())))
    x = np.arange(len(labels))
    axes[1].bar(x - 0.2, mine, 0.4, label="this run", color="tab:blue")
    axes[1].bar(x + 0.2, paper, 0.4, label="paper v1", color="tab:gray")
    axes[1].axhline(0, color="k", lw=0.8)
    axes[1].set_xticks(x, labels, fontsize=8)
    axes[1].set_ylabel("points (average %)")
    axes[1].set_title("gains of CodeScaler RL")
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.grid(axis="x" if ax is axes[0] else "y", alpha=0.3)
    fig.tight_layout()
    return save(fig, path)


def plot_bon_claim(claim: pd.DataFrame, path=None):
    """RM vs unit-test selector: accuracy per N and latency ratio per N (paper: ~10x)."""
    import matplotlib.pyplot as plt

    if "RM accuracy (%)" not in claim.columns or claim.empty:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    n = claim.index.to_numpy()
    axes[0].plot(n, claim["RM accuracy (%)"], marker="o", label="CodeScaler RM")
    axes[0].plot(n, claim["unit-test accuracy (%)"], marker="s", label="unit tests (CURE-style)")
    axes[0].set_xlabel("N")
    axes[0].set_ylabel("accuracy (%)")
    axes[0].set_xscale("log", base=2)
    axes[0].set_title("Best-of-N accuracy")
    axes[0].legend(fontsize=8)
    axes[1].plot(n, claim["selection latency ratio (unit tests / RM)"], marker="o", label="selection")
    axes[1].plot(n, claim["total latency ratio (unit tests / RM)"], marker="s", label="generation + selection")
    axes[1].axhline(10, color="tab:gray", ls="--", label="paper: ~10x")
    axes[1].set_xscale("log", base=2)
    axes[1].set_xlabel("N")
    axes[1].set_ylabel("latency ratio unit tests / RM")
    axes[1].set_title("latency ratio")
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return save(fig, path)


def save_figures(tables, run) -> list:
    """Stage 07's figures: ``report_rl_vs_paper.png`` and ``report_bon_claim.png`` (when there is data)."""
    from pathlib import Path

    from cskit.figures import close

    out = []
    for name, fn, key in (("report_rl_vs_paper.png", plot_rl_vs_paper, "rl"),
                          ("report_bon_claim.png", plot_bon_claim, "bon_claim")):
        path = Path(run.figures) / name
        fig = fn(tables[key], path)
        if fig is not None:
            close(fig)
            out.append(path)
    return out
