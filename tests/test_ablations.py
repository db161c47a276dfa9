"""Stage 06 ablations: the scoring analyses on hand-made scores (fast), tables and plots from hand-made metrics,
and a smoke run of the whole stage on a tiny hand-made run directory (slow)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cskit.ablations import scores as sc
from cskit.ablations import ABLATIONS, ablation_tables, param, rl_table

sys.path.insert(0, str(Path(__file__).resolve().parent))

FENCE = "```python\n{}\n```"


def _scored() -> pd.DataFrame:
    """Two problems x 5 responses with known categories and chosen raw scores: the invalid responses get
    HIGH ungated scores (the reward-hacking case the gate exists for)."""
    rows = []
    for pid in ("a", "b"):
        rows += [
            dict(response=FENCE.format("print(1)"), passed=True, passed_lenient=True, s=2.0, le=2.0, no=1.5),
            dict(response=FENCE.format("print(2)"), passed=False, passed_lenient=False, s=0.0, le=0.0, no=0.1),
            dict(response="just text", passed=False, passed_lenient=False, s=None, le=3.0, no=3.0),
            dict(response=FENCE.format("x=1") + "\n" + FENCE.format("print(1)"), passed=False, passed_lenient=True,
                 s=None, le=2.5, no=2.8),
            dict(response=FENCE.format("def f(:"), passed=False, passed_lenient=False, s=None, le=4.0, no=0.5),
        ]
        for r in rows[-5:]:
            r["problem_id"] = pid
    df = pd.DataFrame(rows)
    df["question"] = "q-" + df.problem_id
    from cskit.extract import extract_strict

    df["code_strict"] = [extract_strict(r) for r in df.response]
    df = sc.rm_inputs(df)
    df["score_strict"] = df.pop("s").astype(float)
    df["score_lenient"], df["score_none"] = df.pop("le"), df.pop("no")
    df["score_empty"] = 5.0     # the RM likes the empty answer: ungated strict is hacked too
    return df


def test_categories_match_strict_extraction():
    from cskit.extract import extract_strict

    cases = {"no code": "no_block", FENCE.format("print(1)"): "valid", FENCE.format("a=1") * 2: "multi_block",
             FENCE.format("def f(:"): "unparseable", FENCE.format("   "): "unparseable", "```python\nx=1": "no_block"}
    for resp, cat in cases.items():
        assert sc.response_category(resp) == cat, resp
        assert (cat == "valid") == bool(extract_strict(resp))
    assert sc.lenient_input(FENCE.format("a=1") + FENCE.format("b=2")) == "b=2"
    assert sc.lenient_input("plain text ") == "plain text"


def test_extraction_summary_gate_removes_hacking():
    s = sc.extraction_summary(_scored())
    m = s["modes"]
    assert list(m) == list(sc.EXTRACTIONS)
    assert m["strict_gated"]["invalid_above_median_valid"] == 0.0
    assert m["strict_gated"]["top_is_invalid_rate"] == 0.0
    assert m["strict_gated"]["auroc_valid_vs_invalid"] == 1.0
    # without the gate every invalid response (scores 2.5..5) beats the median valid reward
    assert m["strict_ungated"]["invalid_above_median_valid"] == 1.0
    assert m["lenient"]["invalid_above_median_valid"] == 1.0
    assert m["lenient"]["top_is_invalid_rate"] == 1.0
    assert m["none"]["invalid_above_median_valid"] == pytest.approx(2 / 3)
    assert s["validity_rate_strict"] == pytest.approx(0.4) and s["invalid_passing_lenient"] == 2
    cats = {r["category"]: r for r in s["by_category"]}
    assert set(cats) == {"valid", "no_block", "multi_block", "unparseable"}
    assert cats["unparseable"]["reward_strict_gated"] == 0.0
    assert cats["unparseable"]["reward_lenient"] == pytest.approx(float(sc.softplus(4.0)[0]))
    t = sc.extraction_table(s)
    assert t.shape == (4, 9) and t.index[0] == "strict + gate (paper)"
    assert t.loc["strict + gate (paper)", "note"].startswith("by construction")


def test_shaping_summary_validity_preserved_only_when_gated_positive():
    long = sc.shaping_rewards(_scored())
    assert set(long.method) == {"softplus", "raw", "sigmoid", "softplus_nogate", "raw_gated"}
    s = sc.shaping_summary(long)
    assert s["softplus"]["validity_preserved"] is True and s["sigmoid"]["validity_preserved"] is True
    assert s["softplus"]["validity_auroc"] == 1.0
    assert s["raw"]["validity_preserved"] is False and s["softplus_nogate"]["validity_preserved"] is False
    # raw_gated: a valid failing answer scored 0.0 ties with the gate's 0 -> not strictly preserved
    assert s["raw_gated"]["validity_preserved"] is False
    assert s["softplus"]["advantage_invalid_mean"] < 0 < s["softplus"]["advantage_pass_mean"]
    assert s["raw"]["advantage_invalid_mean"] > 0      # ungated: GRPO would push towards invalid code
    t = sc.shaping_table(s)
    assert t.shape == (5, 10)


def test_group_advantages_and_top_invalid():
    adv = sc.group_advantages([0, 1, 2, 5, 5], ["a", "a", "a", "b", "b"])
    assert adv[:3].sum() == pytest.approx(0) and adv[1] == pytest.approx(0) and adv[3] == adv[4] == 0
    assert sc.top_is_invalid_rate([1, 2, 3, 3], [True, False, True, False], ["a", "a", "b", "b"]) == 1.0
    assert np.isnan(sc.top_is_invalid_rate([1, 2], [True, True], ["a", "a"]))


def _metrics() -> dict:
    ex = sc.extraction_summary(_scored())
    sh = {"methods": sc.shaping_summary(sc.shaping_rewards(_scored())), "rewards_table": ""}
    rm = lambda n, a: {"n_train_pairs": n, "val_accuracy": a, "val_accuracy_se": 0.05, "n_val_pairs": 20,  # noqa: E731
                       "steps": max(1, n // 8), "params": 1e6}
    return {"ablations": list(ABLATIONS), "extraction": ex, "shaping": sh,
            "pair_source": {"n_val_pairs": 20, "variants": {"on_policy": rm(16, 0.6),
                                                            "reference_augmented": rm(16, 0.65),
                                                            "off_policy": {"n_train_pairs": 0, "skipped": "none"}}},
            "data_scale": {"fractions": {"0": {**rm(0, 0.5), "fraction": 0.0}, "0.5": {**rm(8, 0.55), "fraction": 0.5},
                                         "1": {**rm(16, 0.6), "fraction": 1.0}}, "n_val_pairs": 20,
                           "stage03_rm_val": {"accuracy": 0.7}},
            "rm_size": {"backbones": {"tiny-qwen3": {**rm(16, 0.55), "role": "small backbone"},
                                      "smollm2-135m": {**rm(16, 0.6), "role": "profile rm_model"}},
                        "paper_rmbench": [{"model": "CodeScaler-8B", "family": "CodeScaler", "size_b": 8.0,
                                           "code": 76.9, "avg": 84.1},
                                          {"model": "CodeScaler-1.7B", "family": "CodeScaler", "size_b": 1.7,
                                           "code": 73.1, "avg": 78.8}]},
            "rl": {"variants": {v: {"extraction": e, "train_time_s": 1.0,
                                    "steps": [{"rl_step": i, "valid_rate": 0.1 * i, "reward_mean": r * i}
                                              for i in (1, 2)]}
                                for v, e, r in (("softplus", "strict + gate", 0.5), ("raw_rm", "lenient", -1.0))}}}


def test_tables_and_plots_from_hand_made_metrics(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from cskit.ablations import plots as pa

    m = _metrics()
    t = ablation_tables(m)
    assert {"extraction", "extraction_by_category", "shaping", "pair_source", "data_scale", "rm_size", "rl"} <= set(t)
    assert t["pair_source"].loc["off_policy", "skipped"] == "none"
    assert list(t["data_scale"].index) == [0.0, 0.5, 1.0, "stage-03 RM"]
    assert t["data_scale"].loc["stage-03 RM", "val_accuracy"] == 0.7
    assert t["rl"].loc["softplus", "valid_rate_last"] == pytest.approx(0.2)
    import matplotlib.pyplot as plt

    for name, fn in pa.FIGURES.items():   # rendering every PNG is slow on busy cores: save one
        fig = fn(m, path=tmp_path / f"{name}.png" if name == "shaping" else None)
        assert fig is not None and len(fig.axes) >= 1, name
        plt.close(fig)
    assert (tmp_path / "shaping.png").stat().st_size > 1000
    assert pa.plot_extraction({}) is None and pa.plot_rl({"rl": {"skipped": "x"}}) is None


def test_ablation_params_come_from_the_profile():
    from cskit.config import load_config

    cfg = load_config("smoke", {"ablation_rm_pairs": 7})
    assert param(cfg, "ablation_rl_steps") == cfg.ablation_rl_steps
    assert param(cfg, "ablation_rm_pairs") == 7
    assert set(_abl.strip() for _abl in cfg.ablations.split(",")) <= set(ABLATIONS)
    assert rl_table({"variants": {}}).empty


@pytest.mark.slow
def test_stage_smoke_run_resumes(tmp_path):
    from ablation_fixtures import build_run

    from cskit.ablations import run_ablations
    from cskit.config import load_config

    cfg = load_config("smoke").replace(ablation_rm_pairs=12, ablation_val_pairs=12, ablation_rm_max_length=192,
                                       ablation_small_rm="tiny-llama")
    run = build_run(tmp_path / "run", cfg)
    m = run_ablations(cfg, run)
    assert m["ablations"] == list(ABLATIONS)
    assert m["extraction"]["modes"]["strict_gated"]["invalid_above_median_valid"] == 0.0
    assert set(m["extraction"]["modes"]) == set(sc.EXTRACTIONS)
    assert m["shaping"]["methods"]["softplus"]["validity_preserved"] in (True, None)
    val_n = {v["n_val_pairs"] for v in m["pair_source"]["variants"].values() if not v.get("skipped")}
    assert len(val_n) == 1                                   # every source scored on the SAME val pairs
    assert m["pair_source"]["variants"]["off_policy"]["n_train_pairs"] > 0
    assert m["pair_source"]["variants"]["reference_augmented"]["by_source"].get("reference", 0) > 0
    assert {"0", "0.5", "1"} == set(m["data_scale"]["fractions"])
    assert set(m["rm_size"]["backbones"]) == {"tiny-llama", "tiny-qwen3"}
    assert set(m["rl"]["variants"]) == {"softplus", "raw_rm"}
    assert all(v["steps"] for v in m["rl"]["variants"].values())
    saved = json.loads((run.results / "06_ablations.json").read_text())
    assert saved["stage"] == "06_ablations" and "manifest" in saved
    for name in ("extraction", "shaping", "rl", "pair_source", "data_scale", "rm_size"):
        assert (run.figures / f"ablation_{name}.png").exists(), name
    assert not any((run.models / "ablations").glob("rm-*/*.safetensors"))   # small RMs deleted after scoring
    # resume: every part is read back, nothing retrained
    again = run_ablations(cfg, run)
    assert all(again[a].get("cached") for a in ABLATIONS)
    assert again["data_scale"]["fractions"]["1"]["val_accuracy"] == m["data_scale"]["fractions"]["1"]["val_accuracy"]


def test_stage03_scores_are_reused(tmp_path):
    from cskit.ablations.stage import _score_reusing_stage03, stage03_scores
    from cskit.config import open_run

    run = open_run(tmp_path / "r", "smoke")
    ro = pd.DataFrame({"problem_id": ["a", "a", "b"], "sample_idx": [0, 1, 0], "question": ["qa", "qa", "qb"],
                       "code_strict": ["x=1", "", ""], "code_lenient": ["x=1", "y=(", ""]})
    (run.data / "rm_scores").mkdir()
    pd.DataFrame({"problem_id": ["a", "a", "b"], "sample_idx": [0, 1, 0], "scored": [True, True, False],
                  "score_trained": [1.5, -2.0, np.nan]}).to_parquet(run.data / "rm_scores" / "rollouts.parquet")
    known = stage03_scores(run, ro)
    assert known == {("qa", "x=1"): 1.5, ("qa", "y=("): -2.0}

    class Counting:
        seen: list = []

        def score(self, q, c):
            self.seen += list(zip(q, c))
            return np.full(len(q), 7.0)

    s = Counting()
    out = _score_reusing_stage03(s, ["qa", "qa", "qb"], ["x=1", "", "z"], known)
    assert out.tolist() == [1.5, 7.0, 7.0] and s.seen == [("qa", ""), ("qb", "z")]
    assert stage03_scores(open_run(tmp_path / "empty", "smoke"), ro) == {}


def test_degenerate_run_skips_instead_of_crashing(tmp_path):
    """No valid code, no pairs, no RM (what a random smoke policy can produce): every ablation is skipped with
    a reason, the stage still writes its results, and skipped parts are not cached."""
    from ablation_fixtures import hand_rollouts

    from cskit.ablations import run_ablations
    from cskit.config import load_config, open_run
    from cskit.pairs import PAIR_COLUMNS
    from cskit.problems import load_problems

    cfg = load_config("smoke").replace(offpolicy_model="")
    run = open_run(tmp_path / "run", "smoke")
    ro = hand_rollouts(load_problems(cfg.train_problems, limit=2, seed=0))
    ro = ro[~ro.valid]
    ro.to_parquet(run.data / "rollouts.parquet")
    (run.data / "pairs").mkdir()
    for split in ("train", "val"):
        pd.DataFrame(columns=PAIR_COLUMNS).to_parquet(run.data / "pairs" / f"{split}.parquet")
    m = run_ablations(cfg, run)
    for name in ABLATIONS:
        assert m[name].get("skipped"), name
    assert (run.results / "06_ablations.json").exists()
    assert not (run.results / "06_ablations" / "extraction.json").exists()
    assert ablation_tables(m) == {}
