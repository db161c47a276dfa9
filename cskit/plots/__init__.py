"""Matplotlib figures shared by the notebooks, one submodule per stage (``cskit.plots.rollouts``, ...).

Functions take tables/dicts, draw onto a new figure, save a PNG under ``run.figures`` when given a
path, and return the figure so that Jupyter shows it inline. Never call ``matplotlib.use`` here.
"""
from __future__ import annotations

from pathlib import Path


def save(fig, path: str | Path | None):
    """Save ``fig`` as PNG (atomically) when ``path`` is given; return the figure."""
    if path is not None:
        from cskit.io import atomic_path

        path = Path(path)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    return fig
