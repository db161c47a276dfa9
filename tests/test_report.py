"""Stage 07 report: paper-shaped tables from hand-made results JSONs, paper numbers present, missing stages."""
from __future__ import annotations

import json
import math

import pytest

from cskit.config import load_config, open_run
from cskit.io import write_json
from cskit.report import (PAPER_RL_ROW, STAGES, collect_results, report_tables, run_report, stage_links,
                          summary_markdown)


def _write(run, stage, metrics, **params):
    write_json(run.results / f"{stage}.json",
               {"stage": stage, "metrics": metrics,
                "manifest": {"params": {"profile": "demo", "policy_model": "smollm2-135m", **params},
                             "hardware": {"cpu": "test cpu", "cores": 2}, "versions": {"torch": "2.13.0"},
                             "git": {"commit": "abc123", "dirty": False}}})


RL = {"methods": ["codescaler", "execution"], "metric": "avg@2",
      "table": {"base": {"HumanEval": 10.0, "bundled-val": 20.0, "Average": 15.0},
                "codescaler": {"HumanEval": 14.0, "bundled-val": 26.0, "Average": 20.0},
                "execution": {"HumanEval": 12.0, "bundled-val": 24.0, "Average": 18.0}}}
BON = {"problems": 4, "n_values": [1, 2, 4],
       "accuracy": {s: {str(n): {"accuracy": a + 0.05 * n, "ci_lo": 0, "ci_hi": 1} for n in (1, 2, 4)}
                    for s, a in (("rm", 0.3), ("unit_tests", 0.32), ("vote", 0.25), ("oracle", 0.6))},
       "latency_s": {s: {str(n): {"generation_s": 1.0, "selection_s": x * n, "total_s": 1 + x * n} for n in (1, 2, 4)}
                     for s, x in (("rm", 0.01), ("unit_tests", 0.1), ("vote", 0.08))},
       "selection_latency_ratio_unit_tests_over_rm": {"1": 10.0, "2": 10.0, "4": 10.0},
       "total_latency_ratio_unit_tests_over_rm": {"1": 1.1, "2": 1.2, "4": 1.3}}
RM = {"init_model": "smollm2-135m", "headline": {"val_accuracy_trained": 0.7, "val_accuracy_untrained": 0.5},
      "trained": {"val": {"accuracy": 0.7, "n_pairs": 20, "mean_margin": 0.3}, "rollouts": {"auroc": 0.66},
                  "rmbench_code": {"domains": {"code": {"accuracy": 0.6}}, "easy": 0.7, "normal": 0.6,
                                   "hard": 0.5, "avg": 0.6}},
      "untrained": {"val": {"accuracy": 0.5, "n_pairs": 20, "mean_margin": 0.0}}}


@pytest.fixture
def full_run(tmp_path):
    run = open_run(tmp_path / "run", "demo")
    _write(run, "01_rollouts", {"samples": 24, "pass_rate": 0.25, "validity_rate": 0.6})
    _write(run, "02_pairs", {"pairs_train": 30, "pairs_val": 10})
    _write(run, "03_reward_model", RM)
    _write(run, "04_rl", RL)
    _write(run, "05_best_of_n", {**BON, "device": "cpu"})
    (run.root / "html").mkdir(exist_ok=True)
    (run.root / "html" / "01_rollouts.html").write_text("<html></html>")
    return run


def test_rl_table_has_our_rows_and_the_papers_numbers(full_run):
    t = report_tables(full_run)
    rl = t["rl"]
    assert list(rl.index[:3]) == ["base model (smollm2-135m)", "execution-reward RL", "CodeScaler RL"]
    paper = rl[rl.source.str.startswith("paper")].iloc[0]
    for bench, v in PAPER_RL_ROW.items():
        assert paper[bench] == v
    assert rl.columns[-1] == "Average" and rl.loc["CodeScaler RL", "Average"] == 20.0
    d = t["rl_deltas"]
    assert d.loc["CodeScaler RL - base model (Average)", "this run (points)"] == pytest.approx(5.0)
    assert d.loc["CodeScaler RL - execution RL (Average)", "this run (points)"] == pytest.approx(2.0)
    assert 11.72 in d.values and 1.82 in d.values and 1.55 in d.values and 4.23 in d.values and 14.64 in d.values


def test_bon_and_rm_tables(full_run):
    t = report_tables(full_run)
    acc = t["bon_accuracy"]
    assert set(acc.index) == {"rm", "unit_tests", "vote", "oracle"} and list(acc.columns) == [1, 2, 4]
    assert acc.loc["rm", 4].startswith("50.0 [")       # accuracy with its 95% interval, n in the header
    assert "n = " in acc.index.name
    claim = t["bon_claim"]
    assert list(claim.index) == [1, 2, 4]
    assert claim.loc[4, "selection latency ratio (unit tests / RM)"] == 10.0
    assert claim.loc[4, "RM - unit tests (points)"] == pytest.approx(-2.0)
    assert "10x" in claim.loc[4, "paper"]
    bench = t["rmbench"]
    assert bench.loc["CodeScaler-8B", "avg"] == 84.1 and bench.loc["Skywork-Reward-V2-Qwen3-8B", "code"] == 73.6
    assert bench.loc["this run: trained RM (HumanEval code bench)", "code"] == 60.0
    assert t["rm"]["val pairwise accuracy"].tolist() == [0.5, 0.7]


def test_missing_stages_are_reported_not_fatal(tmp_path):
    run = open_run(tmp_path / "empty", "smoke")
    t = report_tables(run)
    assert t["overview"]["status"].str.startswith("MISSING").all()
    assert "missing" in t["bon_accuracy"].iloc[0, 0] and "missing" in t["ablation_extraction"].iloc[0, 0]
    assert t["rl"].loc["CodeScaler RL, Qwen3-8B-Base (probably)", "MBPP"] == 82.29   # the paper row still shows
    m = run_report(load_config("smoke"), run)
    assert m["stages_missing"] == list(STAGES) and m["stages_present"] == []
    saved = json.loads((run.results / "07_report.json").read_text())
    assert saved["metrics"]["stages_missing"] == list(STAGES)
    assert (run.root / "html" / "report.html").exists()


def test_run_report_writes_json_html_with_inline_figures_and_links(full_run):
    m = run_report(load_config("demo"), full_run)
    assert m["stages_missing"] == ["06_ablations"]
    assert m["run_info"]["profile"] == "demo" and m["run_info"]["cores"] == 2
    links = {l["stage"]: l for l in stage_links(full_run)}
    assert links["01_rollouts"]["href"] == "../html/01_rollouts.html" and links["01_rollouts"]["rendered"]
    assert not links["04_rl"]["rendered"]
    md = summary_markdown(m)
    assert "../html/04_rl.html" in md and "06_ablations" in md and "test cpu" in md and "(used: cpu)" in md
    html = (full_run.root / "html" / "report.html").read_text()
    assert "data:image/png;base64," in html           # figures embedded, not linked
    assert (full_run.figures / "report_rl_vs_paper.png").exists()
    assert (full_run.figures / "report_bon_claim.png").exists()
    assert "82.29" in html and "84.1" in html
    tabs = json.loads((full_run.results / "07_report.json").read_text())["metrics"]["tables"]
    assert {"overview", "rl", "rl_deltas", "bon_accuracy", "bon_claim", "rm", "rmbench"} <= set(tabs)
    from cskit.report import figures_html, tables_html

    assert figures_html(full_run).data.count("data:image/png;base64,") >= 2      # inline in the notebook
    assert figures_html(full_run, prefix="report_bon").data.count("<img") == 1
    assert "no such figures" in figures_html(full_run, prefix="ablation_").data
    assert tables_html(report_tables(full_run), prefix="bon_").data.count("<table") == 4   # + the wall-clock latency


def test_collect_tolerates_corrupt_json(tmp_path):
    run = open_run(tmp_path / "r", "smoke")
    (run.results / "04_rl.json").write_text("{not json")
    assert collect_results(run)["04_rl"] is None
    assert not math.isnan(report_tables(run)["rl"].loc["CodeScaler RL, Qwen3-8B-Base (probably)", "Average"])


def test_ablation_tables_in_report(full_run):
    _write(full_run, "06_ablations", {"ablations": ["pair_source"], "pair_source": {"n_val_pairs": 8, "variants": {
        "on_policy": {"n_train_pairs": 16, "val_accuracy": 0.625, "n_val_pairs": 8},
        "off_policy": {"n_train_pairs": 0, "skipped": "no off_policy pairs could be built"}}}})
    t = report_tables(full_run)
    ps = t["ablation_pair_source"]
    assert ps.loc["on_policy", "val_accuracy"] == 0.625 and ps.loc["off_policy", "skipped"].startswith("no off")
    assert t["overview"].loc["06_ablations", "status"] == "present"


def test_scaling_rows_beside_the_paper(full_run):
    assert "missing" in report_tables(full_run)["scaling"].iloc[0, 0]
    _write(full_run, "04b_scaling", {"enabled": True, "rows": ["verified", "testfree", "weak_tests"],
                                     "labels": {"base": "base model", "testfree": "CodeScaler RL + test-free"},
                                     "rewards": {"testfree": "codescaler", "weak_tests": "execution"},
                                     "table": {"base": {"HumanEval": 10.0, "Average": 10.0},
                                               "verified": {"HumanEval": 12.0, "Average": 12.0},
                                               "testfree": {"HumanEval": 13.0, "Average": 13.0},
                                               "weak_tests": {"HumanEval": 11.0, "Average": 11.0}}})
    t = report_tables(full_run)
    assert t["scaling"].loc["CodeScaler RL + test-free", "Average"] == 13.0
    c = t["scaling_vs_paper"]
    assert list(c["this run (points)"]) == [3.0, -1.0] and list(c["paper"]) == [14.64, -2.9]
    assert t["overview"].loc["04b_scaling", "notebook"] == "../html/04_rl.html"
    # evaluated on another subset than stage 04: kept apart; on the same one: extra rows of the RL table
    assert not any(i.startswith("scaling:") for i in t["rl"].index)
    m = json.loads((full_run.results / "04b_scaling.json").read_text())["metrics"]
    _write(full_run, "04b_scaling", {**m, "same_eval_as_stage04": True})
    rl = report_tables(full_run)["rl"]
    assert rl.loc["scaling: CodeScaler RL + test-free", "Average"] == 13.0
    assert "scaling: base model" not in rl.index
