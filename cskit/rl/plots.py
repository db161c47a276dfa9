"""Figures for stage 04 (GRPO): training curves per method and the evaluation bar chart."""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

CURVES = (("reward_mean", "reward (mean)"), ("valid_rate", "validity rate (strict extraction)"),
          ("completion_length", "response length (tokens)"), ("val_pass_rate", "validation pass rate"))


def _series(rows: Sequence[Mapping[str, Any]], key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for r in rows:
        v = r.get(key)
        if isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v)):
            xs.append(r["rl_step"])
            ys.append(float(v))
    return xs, ys


def plot_training_curves(steps_by_method: Mapping[str, Sequence[Mapping[str, Any]]], path=None):
    """2x2 panels (reward, validity rate, response length, validation pass rate with its 95% Wilson band)
    over GRPO steps, one line per method. ``steps_by_method``: method -> rows of :func:`cskit.rl.step_logs`, or the metrics dict of
    :func:`cskit.rl.run_rl` (its ``training`` entry is used)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from cskit.figures import save

    if "training" in steps_by_method and isinstance(steps_by_method["training"], Mapping):
        steps_by_method = {m: t["steps"] for m, t in steps_by_method["training"].items()}

    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for ax, (key, title) in zip(axes.flat, CURVES):
        for method, rows in steps_by_method.items():
            xs, ys = _series(rows, key)
            if xs:
                line, = ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, ms=3, label=method)
                lo_x, lo = _series(rows, key + "_ci_low")
                hi_x, hi = _series(rows, key + "_ci_high")
                if lo and lo_x == hi_x:   # 95% Wilson band of the validation pass rate (n = its problems)
                    ax.fill_between(lo_x, lo, hi, color=line.get_color(), alpha=0.15, linewidth=0)
        ax.set_title(title)
        ax.set_xlabel("GRPO step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if not handles:
        for ax in axes.flat:
            handles, labels = ax.get_legend_handles_labels()
            if handles:
                break
    if handles:
        fig.legend(handles, labels, loc="upper center", ncol=max(1, len(labels)), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return save(fig, path)


def plot_eval_table(metrics: Mapping[str, Any], path=None):
    """Grouped bars: benchmarks (+ Average) on the x axis, one bar per method (base model first)."""
    import matplotlib.pyplot as plt
    import numpy as np

    from cskit.figures import save

    table, metric = metrics["table"], metrics.get("metric", "avg@k")

    methods = list(table)
    cols: list[str] = []
    for m in methods:
        for c in table[m]:
            if c not in cols:
                cols.append(c)
    if "Average" in cols:
        cols = [c for c in cols if c != "Average"] + ["Average"]
    x = np.arange(len(cols))
    width = 0.8 / max(1, len(methods))
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(cols) * max(1, len(methods)) / 2), 4))
    for i, m in enumerate(methods):
        vals = [table[m].get(c) for c in cols]
        ax.bar(x + (i - (len(methods) - 1) / 2) * width, [v if v is not None else 0.0 for v in vals], width,
               label=m)
    ax.set_xticks(x)
    ax.set_xticklabels(cols, rotation=20, ha="right")
    ax.set_ylabel(f"{metric} (%)")
    ax.set_ylim(bottom=0, top=max(1.0, 1.1 * max([v or 0.0 for m in methods for v in table[m].values()] or [0])))
    ax.legend(frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save(fig, path)


PROBE_PANELS = (("auroc", "RM reward vs execution: AUROC"), ("high_reward_fail_share",
                                                              "top-quarter reward, failing tests (share)"),
                ("invalid_share", "no valid code (share)"), ("reward_gap", "mean reward: passing - failing"))


def plot_probes(metrics: Mapping[str, Any], path=None):
    """Reward-hacking probes per GRPO step and RM-rewarded method (:mod:`cskit.rl.probes`); None without probes."""
    training = metrics.get("training", metrics)
    methods = {m: t.get("probes") for m, t in training.items() if isinstance(t, Mapping) and t.get("probes")}
    if not methods:
        return None
    import matplotlib.pyplot as plt

    from cskit.figures import save

    fig, axes = plt.subplots(1, 4, figsize=(16, 3.4))
    for m, rows in methods.items():
        xs = [r["grpo_step"] for r in rows]
        for ax, (key, title) in zip(axes, PROBE_PANELS):
            if key == "reward_gap":
                ys = [r["reward_pass_mean"] - r["reward_fail_mean"] for r in rows]
            else:
                ys = [r[key] for r in rows]
            ax.plot(xs, ys, marker="o", label=f"{m} (n/step {rows[0]['n']})")
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("GRPO step")
    axes[0].axhline(0.5, color="gray", lw=0.8, ls="--")
    axes[0].legend(fontsize=7)
    fig.suptitle("shadow execution of RM-rewarded completions (beyond the paper)", fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def save_figures(metrics: Mapping[str, Any], run) -> list:
    """Stage 04's figures: ``04_rl_eval.png`` (evaluation), ``04_rl_training.png`` (GRPO curves) and
    ``04_rl_probes.png`` (reward-hacking probes, when ``rl_probe_share`` > 0)."""
    from cskit.figures import close

    eval_path, train_path = run.figures / "04_rl_eval.png", run.figures / "04_rl_training.png"
    close(plot_eval_table(metrics, eval_path))
    close(plot_training_curves(metrics, train_path))
    out = [eval_path, train_path]
    fig = plot_probes(metrics, run.figures / "04_rl_probes.png")
    if fig is not None:
        close(fig)
        out.append(run.figures / "04_rl_probes.png")
    return out
