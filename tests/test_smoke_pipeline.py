"""The whole smoke pipeline through papermill with real kernels, tiny models and the real sandbox."""
import json

import pandas as pd
import pytest

from cskit.pairs import PAIR_COLUMNS
from cskit.pipeline import discover_stages, run_pipeline
from cskit.rollouts import ROLLOUT_COLUMNS
from cskit.rollouts.trajectory import TRAJECTORY_COLUMNS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    manifest = run_pipeline("smoke", run="smoke", outputs_dir=out, cell_timeout=900, log=print)
    return out / "smoke", manifest


def test_every_stage_completed_with_html(smoke_run):
    root, manifest = smoke_run
    stages = [s.name for s in discover_stages()]
    assert [s for s in manifest["stages"]] == stages
    for name in stages:
        assert manifest["stages"][name]["status"] == "completed", name
        assert (root / "notebooks" / f"{name}.ipynb").exists()
        assert (root / "html" / f"{name}.html").stat().st_size > 10_000
        shared = (root / "html" / f"{name}.results.html").read_text()   # the reader's copy: no code cells
        full = (root / "html" / f"{name}.html").read_text()
        assert "hl-ipython3" in full and "hl-ipython3" not in shared and "jp-OutputArea" in shared
        assert (root / "results" / f"{name}.json").exists(), f"{name} wrote no results"
    assert not list((root / "notebooks").glob(".*running*"))


def test_rollouts_and_pairs_artifacts(smoke_run):
    root, manifest = smoke_run
    ro = pd.read_parquet(root / "data" / "rollouts.parquet")
    assert list(ro.columns) == ROLLOUT_COLUMNS + TRAJECTORY_COLUMNS   # stage 01 is the RLVR run
    p = manifest["params"]
    assert len(ro) == p["rl_steps"] * p["rl_prompts_per_step"] * p["rl_num_generations"]
    assert sorted(ro.grpo_step.unique()) == list(range(p["rl_steps"]))
    train = pd.read_parquet(root / "data" / "pairs" / "train.parquet")
    val = pd.read_parquet(root / "data" / "pairs" / "val.parquet")
    assert list(train.columns) == PAIR_COLUMNS == list(val.columns)
    assert not set(train.problem_id) & set(val.problem_id)
    # the paper's rule, checked against the rollouts themselves
    passing = set(zip(ro[ro.passed].problem_id, ro[ro.passed].code_strict))
    failing = set(zip(ro[~ro.passed & ro.valid].problem_id, ro[~ro.passed & ro.valid].code_strict))
    on = pd.concat([train, val])
    on = on[on.pair_source == "on_policy"]
    assert all((p, c) in passing for p, c in zip(on.problem_id, on.code_pos))
    assert all((p, c) in failing for p, c in zip(on.problem_id, on.code_neg))


def test_manifest_records_environment(smoke_run):
    root, _ = smoke_run
    m = json.loads((root / "manifest.json").read_text())
    assert m["params"]["profile"] == "smoke"
    assert m["environment"]["versions"]["torch"] and m["environment"]["hardware"]["cores"]
    r = json.loads((root / "results" / "01_rollouts.json").read_text())
    assert r["manifest"]["params"]["rollout_n"] == m["params"]["rollout_n"]
