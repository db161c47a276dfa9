"""Figures for the execution-free scaling experiment (:mod:`cskit.rl.scaling`): the evaluation of each
row beside the base model, and the GRPO training curves of the scaling runs."""
from __future__ import annotations

from typing import Any, Mapping


def plot_scaling_eval(metrics: Mapping[str, Any], path=None):
    """Horizontal bars: the benchmark average (``metrics['metric']``, %) of every row, the base model as a dashed
    line; each bar is annotated with its gain over the base model (points)."""
    import matplotlib.pyplot as plt

    from cskit.figures import save

    table = metrics.get("table") or {}
    labels = metrics.get("labels") or {}
    rows = [k for k in table if k != "base"]
    fig, ax = plt.subplots(figsize=(8, 0.6 * max(2, len(rows)) + 1.2))
    if not rows:
        ax.text(0.5, 0.5, "scaling experiment not run (scaling_enabled: false)", ha="center", va="center")
        ax.set_axis_off()
        return save(fig, path)
    vals = [table[k].get("Average") or 0.0 for k in rows]
    base = (table.get("base") or {}).get("Average")
    ax.barh(range(len(rows)), vals, color=["C0" if "execution" not in labels.get(k, k) else "C3" for k in rows])
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([labels.get(k, k) for k in rows])
    ax.invert_yaxis()
    if base is not None:
        ax.axvline(base, color="k", ls="--", lw=1, label=f"base model ({base:.2f})")
        for i, v in enumerate(vals):
            ax.annotate(f"{v - base:+.2f}", (v, i), xytext=(4, 0), textcoords="offset points", va="center")
        ax.legend(frameon=False, loc="lower right")
    ax.set_xlabel(f"{metrics.get('metric', 'avg@k')} (%), average over benchmarks")
    ax.set_xlim(0, max(1.0, 1.25 * max(vals + [base or 0.0])))
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return save(fig, path)


def plot_scaling_training(metrics: Mapping[str, Any], path=None):
    """The 2x2 GRPO curves of :func:`cskit.rl.plots.plot_training_curves`, one line per scaling row."""
    from cskit.rl.plots import plot_training_curves

    labels = metrics.get("labels") or {}
    steps = {labels.get(r, r): t.get("steps", []) for r, t in (metrics.get("training") or {}).items()}
    return plot_training_curves(steps, path)


def save_figures(metrics: Mapping[str, Any], run) -> list:
    """The scaling experiment's figures: ``04b_scaling_eval.png`` and ``04b_scaling_training.png``."""
    from cskit.figures import close

    out = []
    for name, fn in (("04b_scaling_eval.png", plot_scaling_eval), ("04b_scaling_training.png", plot_scaling_training)):
        path = run.figures / name
        fig = fn(metrics, path)
        if fig is not None:
            close(fig)
            out.append(path)
    return out
