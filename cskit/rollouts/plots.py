"""Figures for stage 01 (rollouts); :func:`save_figures` is called by :func:`cskit.rollouts.run_rollouts`."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from cskit.figures import save


def plot_rollout_overview(df: pd.DataFrame, path=None):
    """Pass/validity rates per problem, response lengths and pass fractions."""
    fig, ax = plt.subplots(1, 3, figsize=(14, 3.6))
    per = df.groupby("problem_id").agg(pass_rate=("passed", "mean"), validity=("valid", "mean")).sort_values(
        "pass_rate", ascending=False)
    x = range(len(per))
    ax[0].bar(x, per.validity, color="#c7d7ee", label="valid (strict extraction)")
    ax[0].bar(x, per.pass_rate, color="#2a6fbb", label="passes all tests")
    ax[0].set(title=f"per problem (overall pass {df.passed.mean():.0%}, valid {df.valid.mean():.0%})",
              xlabel="problem (sorted)", ylabel="rate", ylim=(0, 1.05))
    ax[0].legend(fontsize=8)
    ax[1].hist([df[df.passed].n_tokens, df[~df.passed].n_tokens], bins=20, stacked=True,
               color=["#2a6fbb", "#e07b39"], label=["pass", "fail"])
    ax[1].set(title="response length", xlabel="tokens", ylabel="samples")
    ax[1].legend(fontsize=8)
    ax[2].hist(df[df.valid].pass_fraction, bins=[i / 10 for i in range(11)], color="#6a9f58")
    ax[2].set(title="pass fraction of valid samples", xlabel="fraction of tests passed", ylabel="samples")
    fig.tight_layout()
    return save(fig, path)


def plot_verdicts(df: pd.DataFrame, path=None):
    fig, ax = plt.subplots(figsize=(6, 3))
    df.verdict.value_counts().plot.barh(ax=ax, color="#7a7a7a")
    ax.set(title="verdicts (strict code)", xlabel="samples")
    fig.tight_layout()
    return save(fig, path)


def save_figures(df: pd.DataFrame, run) -> list:
    """Stage 01's figures: ``rollouts_overview.png`` and ``rollouts_verdicts.png``."""
    from cskit.figures import close

    out = []
    for name, fn in (("rollouts_overview.png", plot_rollout_overview), ("rollouts_verdicts.png", plot_verdicts)):
        path = run.figures / name
        close(fn(df, path))
        out.append(path)
    return out
