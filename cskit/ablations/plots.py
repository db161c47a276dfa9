"""Figures for stage 06 (ablations). Each takes the metrics of :func:`cskit.ablations.run_ablations`
(``run`` optional, for per-response tables), saves a PNG when ``path`` is given, and returns the figure, or
None when that ablation has nothing to draw (skipped or not run)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from cskit.figures import save

MODE_ORDER = ("strict_gated", "strict_ungated", "lenient", "none")
GROUP_COLORS = {"invalid": "tab:red", "valid_fail": "tab:orange", "pass": "tab:green"}


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _nan(x) -> float:
    return float("nan") if x is None else float(x)


def plot_extraction(metrics: Mapping[str, Any], path=None, run=None):
    """(a) reward-hacking rates per extraction mode; (b) mean reward per response category and mode."""
    ex = metrics.get("extraction", {})
    if not ex.get("modes"):
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    modes = [m for m in MODE_ORDER if m in ex["modes"]]
    labels = [ex["modes"][m]["label"].replace(", ", ",\n").replace(" (", "\n(") for m in modes]
    x = np.arange(len(modes))
    for k, (key, name) in enumerate((("invalid_above_median_valid", "invalid > median valid reward"),
                                     ("invalid_above_median_pass", "invalid > median passing reward"),
                                     ("top_is_invalid_rate", "groups whose top reward is invalid"))):
        axes[0].bar(x + (k - 1) * 0.27, [_nan(ex["modes"][m][key]) for m in modes], 0.27, label=name)
    axes[0].set_xticks(x, labels, fontsize=8)
    axes[0].set_ylim(0, 1)
    axes[0].set_ylabel("share")
    axes[0].set_title("reward hacking by invalid responses")
    axes[0].legend(fontsize=8)
    cats = [r["category"] for r in ex.get("by_category", [])]
    xc = np.arange(len(cats))
    w = 0.8 / max(1, len(modes))
    for k, m in enumerate(modes):
        axes[1].bar(xc + (k - (len(modes) - 1) / 2) * w, [_nan(r.get(f"reward_{m}")) for r in ex["by_category"]],
                    w, label=ex["modes"][m]["label"])
    axes[1].set_xticks(xc, [f"{c}\n(n={r['n']})" for c, r in zip(cats, ex["by_category"])], fontsize=8)
    axes[1].set_ylabel("mean reward (softplus of RM score; 0 if gated)")
    axes[1].set_title("reward by response category")
    axes[1].legend(fontsize=7)
    for ax in axes:
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save(fig, path)


def plot_shaping(metrics: Mapping[str, Any], path=None, run=None):
    """(a) reward distributions per shaping, split invalid / valid-failing / passing; (b) separation AUROCs;
    (c) mean GRPO advantage per kind of response."""
    sh = metrics.get("shaping", {})
    if not sh.get("methods"):
        return None
    plt = _plt()
    methods = list(sh["methods"])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    long = None
    table = Path(sh["rewards_table"]) if sh.get("rewards_table") else None
    if run is not None:
        table = Path(run.data) / "ablations" / "shaping_rewards.parquet"
    if table is not None and table.exists():
        import pandas as pd

        long = pd.read_parquet(table)
    groups = list(GROUP_COLORS)
    w = 0.8 / len(groups)
    for k, g in enumerate(groups):
        pos = np.arange(len(methods)) + (k - 1) * w
        if long is not None:
            data = [long[(long.method == m) & (long.group == g)]["reward"].to_numpy() for m in methods]
            keep = [i for i, d in enumerate(data) if len(d)]
            if keep:
                bp = axes[0].boxplot([data[i] for i in keep], positions=pos[keep], widths=w * 0.9, patch_artist=True,
                                     showfliers=False, manage_ticks=False)
                for b in bp["boxes"]:
                    b.set_facecolor(GROUP_COLORS[g])
                    b.set_alpha(0.6)
            axes[0].plot([], [], color=GROUP_COLORS[g], lw=6, alpha=0.6, label=g)
        else:
            axes[0].bar(pos, [_nan(sh["methods"][m][f"reward_{g}_mean"]) for m in methods], w,
                        color=GROUP_COLORS[g], label=g)
    axes[0].set_xticks(np.arange(len(methods)), methods, fontsize=8)
    axes[0].set_title("reward distribution by response kind")
    axes[0].legend(fontsize=8)
    x = np.arange(len(methods))
    axes[1].bar(x - 0.2, [_nan(sh["methods"][m]["validity_auroc"]) for m in methods], 0.4, label="valid > invalid")
    axes[1].bar(x + 0.2, [_nan(sh["methods"][m]["pass_auroc"]) for m in methods], 0.4, label="pass > rest")
    axes[1].axhline(0.5, color="gray", ls="--", lw=1)
    axes[1].set_ylim(0, 1.05)
    axes[1].set_xticks(x, methods, fontsize=8)
    axes[1].set_title("separation (AUROC)")
    axes[1].legend(fontsize=8)
    for k, g in enumerate(groups):
        axes[2].bar(x + (k - 1) * w, [_nan(sh["methods"][m][f"advantage_{g}_mean"]) for m in methods], w,
                    color=GROUP_COLORS[g], label=g)
    axes[2].axhline(0, color="gray", lw=1)
    axes[2].set_xticks(x, methods, fontsize=8)
    axes[2].set_title("mean GRPO advantage (group-normalised)")
    axes[2].legend(fontsize=8)
    for ax in axes:
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save(fig, path)


def plot_rl(metrics: Mapping[str, Any], path=None, run=None):
    """Validity rate (strict extraction) and mean reward per GRPO step for each short RL variant."""
    rl_m = metrics.get("rl", {})
    variants = {k: v for k, v in rl_m.get("variants", {}).items() if v.get("steps")}
    if not variants:
        return None
    plt = _plt()
    keys = [("valid_rate", "validity rate (strict extraction)"), ("reward_mean", "reward (own scale)")]
    if any("val_pass_rate" in s for v in variants.values() for s in v["steps"]):
        keys.append(("val_pass_rate", "validation pass rate"))
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.8))
    for ax, (key, title) in zip(np.atleast_1d(axes), keys):
        for name, v in variants.items():
            pts = [(s["rl_step"], s[key]) for s in v["steps"] if key in s and s[key] is not None]
            if pts:
                ax.plot(*zip(*pts), marker="o", label=f"{name} ({v.get('extraction')})")
        ax.set_xlabel("GRPO step")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(title)
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.tight_layout()
    return save(fig, path)


def _acc_bars(ax, names, rows, title):
    acc = [_nan(r.get("val_accuracy")) for r in rows]
    se = [_nan(r.get("val_accuracy_se")) for r in rows]
    x = np.arange(len(names))
    ax.bar(x, acc, yerr=[0 if s != s else s for s in se], capsize=4, color="tab:blue", alpha=0.8)
    for i, r in enumerate(rows):
        txt = f"n={r.get('n_train_pairs')}" if not r.get("skipped") else "skipped"
        ax.text(i, 0.02, txt, ha="center", fontsize=8, color="white" if acc[i] == acc[i] else "black")
    ax.axhline(0.5, color="gray", ls="--", lw=1)
    ax.set_ylim(0, 1)
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylabel("held-out pairwise accuracy")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)


def plot_pair_source(metrics: Mapping[str, Any], path=None, run=None):
    ps = metrics.get("pair_source", {})
    if not ps.get("variants"):
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    names = list(ps["variants"])
    _acc_bars(ax, names, [ps["variants"][n] for n in names],
              f"{ps.get('backbone', '')} RM by pair source (same {ps.get('n_val_pairs')} val pairs)")
    fig.tight_layout()
    return save(fig, path)


def plot_data_scale(metrics: Mapping[str, Any], path=None, run=None):
    ds = metrics.get("data_scale", {})
    if not ds.get("fractions"):
        return None
    plt = _plt()
    rows = sorted(ds["fractions"].values(), key=lambda r: r.get("fraction", 0))
    n = [r.get("n_train_pairs") or 0 for r in rows]
    acc = [_nan(r.get("val_accuracy")) for r in rows]
    se = [0 if r.get("val_accuracy_se") is None else r["val_accuracy_se"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(n, acc, yerr=se, marker="o", capsize=4,
                label=f"{ds.get('backbone', 'small')} RM (0 pairs = untrained init)")
    ref = ds.get("stage03_rm_val")
    if ref and ref.get("accuracy") is not None:
        ax.axhline(ref["accuracy"], color="tab:green", ls=":", label="stage-03 RM (all pairs)")
    ax.axhline(0.5, color="gray", ls="--", lw=1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("training pairs")
    ax.set_ylabel("held-out pairwise accuracy")
    ax.set_title(f"data scale ({ds.get('n_val_pairs')} val pairs)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save(fig, path)


def plot_rm_size(metrics: Mapping[str, Any], path=None, run=None):
    rs = metrics.get("rm_size", {})
    if not rs.get("backbones"):
        return None
    plt = _plt()
    fig, ax = plt.subplots(1, 1, figsize=(6, 4))
    names = list(rs["backbones"])
    rows = [rs["backbones"][n] for n in names]
    labels = [f"{n}\n{(r.get('params') or 0) / 1e6:.1f}M params" for n, r in zip(names, rows)]
    _acc_bars(ax, labels, rows, "this run: RM backbone size (same pairs)")
    fig.tight_layout()
    return save(fig, path)


FIGURES = {"extraction": plot_extraction, "shaping": plot_shaping, "rl": plot_rl, "pair_source": plot_pair_source,
           "data_scale": plot_data_scale, "rm_size": plot_rm_size}


def save_figures(metrics: Mapping[str, Any], run) -> list:
    """Stage 06's figures ``ablation_<name>.png``, for each ablation with something to draw."""
    from cskit.figures import close

    out = []
    for name, fn in FIGURES.items():
        path = Path(run.figures) / f"ablation_{name}.png"
        fig = fn(metrics, path, run=run)
        if fig is not None:
            close(fig)
            out.append(path)
    return out
