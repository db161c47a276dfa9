"""Figures for stage 01 (rollouts) and 02 (pairs)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from cskit.plots import save


def rollout_overview(df: pd.DataFrame, path=None):
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


def verdict_bars(df: pd.DataFrame, path=None):
    fig, ax = plt.subplots(figsize=(6, 3))
    df.verdict.value_counts().plot.barh(ax=ax, color="#7a7a7a")
    ax.set(title="verdicts (strict code)", xlabel="samples")
    fig.tight_layout()
    return save(fig, path)


def pairs_overview(train: pd.DataFrame, val: pd.DataFrame, path=None):
    """Counts per source and split, pairs per problem, negatives' pass fraction."""
    both = pd.concat([train, val], ignore_index=True)
    fig, ax = plt.subplots(1, 3, figsize=(14, 3.6))
    if len(both):
        both.groupby(["pair_source", "split"]).size().unstack(fill_value=0).plot.bar(ax=ax[0], rot=0)
        both.groupby("problem_id").size().plot.hist(ax=ax[1], bins=15, color="#2a6fbb")
        ax[2].hist(both.neg_pass_fraction, bins=[i / 10 for i in range(11)], color="#e07b39")
    ax[0].set(title="pairs by source and split", xlabel="", ylabel="pairs")
    ax[1].set(title="pairs per problem", xlabel="pairs", ylabel="problems")
    ax[2].set(title="pass fraction of the negative (hard = high)", xlabel="fraction of tests passed",
              ylabel="pairs")
    fig.tight_layout()
    return save(fig, path)
