"""Figures for stage 02 (pairs); :func:`save_figures` is called by :func:`cskit.pairs.run_pairs`."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from cskit.figures import save


def plot_pairs_overview(train: pd.DataFrame, val: pd.DataFrame, path=None):
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


def save_figures(train: pd.DataFrame, val: pd.DataFrame, run) -> list:
    """Stage 02's figure: ``pairs_overview.png``."""
    from cskit.figures import close

    path = run.figures / "pairs_overview.png"
    close(plot_pairs_overview(train, val, path))
    return [path]
