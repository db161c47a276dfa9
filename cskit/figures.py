"""Figure conventions shared by every stage.

Each stage package has a ``plots`` module whose functions are named ``plot_<what>(data, path=None, ...)``:
they take the stage's tables/metrics, draw a new figure, save it as PNG when ``path`` is given and return
the figure (or None when there is nothing to draw). Each stage's ``run_*`` saves its own figures, once, as
``<run>/figures/<stage prefix>_<what>.png`` (through the plots module's ``save_figures``); notebooks show
them with :func:`show` and never draw the same PNG again. Never call ``matplotlib.use`` here.
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


def close(fig) -> None:
    """Release a figure a stage saved (keeps long runs from accumulating open figures)."""
    if fig is not None:
        import matplotlib.pyplot as plt

        plt.close(fig)


def show(run, prefix: str | tuple[str, ...]) -> list[Path]:
    """Display the run's saved figures whose names start with ``prefix`` inline (in Jupyter); return their paths."""
    paths = sorted(p for p in Path(run.figures).glob("*.png") if p.name.startswith(prefix))
    try:
        from IPython.display import Image, display
    except ImportError:  # pragma: no cover - outside Jupyter
        return paths
    for p in paths:
        display(Image(filename=str(p)))
    return paths
