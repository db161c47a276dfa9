"""Every number this kit quotes from the CodeScaler paper, its model cards or third parties, in one place.

Each constant says where it comes from (docs/recipe.md names the sources). These are the paper's numbers,
never this kit's measurements: the report shows them beside a run's own results, labelled "paper".
"""
from __future__ import annotations

import re
from typing import Any

import pandas as pd

# docs/recipe.md, "RM-Bench" (model cards, identical on all three): RM-Bench accuracy %.
PAPER_RMBENCH: list[dict[str, Any]] = [
    {"model": m, "code": c, "chat": ch, "math": ma, "safety": sa, "easy": e, "normal": n, "hard": h, "avg": a}
    for m, c, ch, ma, sa, e, n, h, a in [
        ("Skywork-Reward-Llama-3.1-8B", 54.5, 69.5, 60.6, 95.7, 89.0, 74.7, 46.6, 70.1),
        ("AceCodeRM-7B", 66.9, 66.7, 65.3, 89.9, 79.9, 74.4, 62.2, 72.2),
        ("AceCoder-RM-32B", 72.1, 73.7, 70.5, 88.0, 84.5, 78.3, 65.5, 76.1),
        ("Skywork-Reward-V2-Qwen3-1.7B", 72.3, 69.6, 71.4, 92.9, 92.8, 82.3, 54.5, 76.6),
        ("Skywork-Reward-V2-Qwen3-4B", 74.4, 78.2, 73.6, 95.7, 92.1, 85.0, 64.4, 80.5),
        ("Skywork-Reward-V2-Qwen3-8B", 73.6, 80.6, 75.0, 96.5, 91.8, 85.5, 67.0, 80.5),
        ("CodeScaler-1.7B", 73.1, 74.4, 74.7, 93.1, 91.7, 83.2, 61.5, 78.8),
        ("CodeScaler-4B", 76.3, 80.4, 79.0, 95.8, 92.9, 86.5, 69.2, 82.9),
        ("CodeScaler-8B", 76.9, 83.0, 79.9, 96.4, 92.5, 87.9, 71.8, 84.1),
    ]
]
# As published. One inconsistency in the cards: Skywork-Reward-V2-Qwen3-8B's Avg 80.5 does not follow from its
# own columns (mean of the four domains = mean of easy/normal/hard = 81.4); the abstract's "+3.6" uses 80.5.
PAPER_NOTES = {"Skywork-Reward-V2-Qwen3-8B": "published Avg 80.5; its domain / difficulty columns average to 81.4"}

# recipe: "RL (GRPO)" (v1/v2 abstracts) and the one per-benchmark row found (third-party, avg@8, which model unknown)
PAPER_RL_ROW = {"CodeContests": 39.33, "CodeForces": 24.89, "LiveBench": 41.69, "LiveCodeBench": 27.78,
                "MBPP": 82.29, "Average": 43.20}
PAPER_RL_DELTAS = {
    "CodeScaler RL - base model (Average)": {"paper v1 (Qwen3-8B-Base, 5 benchmarks)": 11.72,
                                             "paper v2 (44K problems incl. synthetic)": 14.64},
    "CodeScaler RL - execution RL (Average)": {"paper v1 (Qwen3-8B-Base, 5 benchmarks)": 1.82,
                                               "paper v2 (Qwen3-8B-Base, 4 benchmarks)": 1.55,
                                               "paper v2 (Qwen3-14B-Base, 4 benchmarks)": 4.23},
}
PAPER_BON_CLAIM = ("comparable accuracy to CURE (unit-test generation) at ~10x lower latency "
                   "(docs/recipe.md, Best-of-N; numbers not found)")

PAPER_SCALING = {  # recipe: "RL (GRPO)": v2 abstract and the v1 motivating example (what the metric is there is unclear)
    "CodeScaler RL with test-free problems - base (Average)": {"paper": 14.64,
                                                               "paper setting": "v2: 44K problems incl. synthetic"},
    "execution RL, weak-test problems - verified problems (Average)": {
        "paper": round(11.51 - 14.41, 2), "paper setting": "v1 example: KodCode 447K 11.51 vs DeepCoder 14.41"},
}


def rmbench_table(extra: dict[str, dict] | None = None) -> pd.DataFrame:
    """The paper's RM-Bench table (labelled "paper"), plus this run's rows for ``extra`` =
    {name: rmbench_accuracy result}."""
    from cskit.rm.bench import TABLE_COLUMNS, run_table

    paper = pd.DataFrame([dict(r, source="paper (model cards)", note=PAPER_NOTES.get(r["model"], ""))
                          for r in PAPER_RMBENCH], columns=list(TABLE_COLUMNS) + ["source", "note"])
    ours = run_table(extra or {})
    return pd.concat([paper, ours], ignore_index=True) if len(ours) else paper


def rm_size_rows() -> list[dict[str, Any]]:
    """RM-Bench against RM size from the paper's table (the only size evidence found)."""
    rows = []
    for r in PAPER_RMBENCH:
        m = re.search(r"(?:Qwen3-|CodeScaler-)([\d.]+)B$", r["model"])
        if m:
            rows.append({"model": r["model"], "family": "CodeScaler" if "CodeScaler" in r["model"]
                         else "Skywork-Reward-V2 (its init)", "size_b": float(m.group(1)), "code": r["code"],
                         "avg": r["avg"]})
    return rows
