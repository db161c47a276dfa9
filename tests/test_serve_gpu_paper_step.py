"""benchmarks/gpu_paper_step.py --tiny on CPU: the GPU check's code path (paper profile through cskit.rl.grpo_args,
CodeScalerReward over RewardScorer, 2 GRPO rounds, then rm_server_load.py against a served RM) runs end to end.
Only plumbing and integrity are asserted here, never timings."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # ~50 s: trl import, 2 tiny GRPO rounds, a server process

ROOT = Path(__file__).resolve().parent.parent


def test_gpu_paper_step_tiny_runs_on_cpu(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", OUT=str(tmp_path))
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_paper_step.py"), "--tiny"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((tmp_path / "gpu_paper_step.json").read_text())
    g = res["grpo"]
    assert g["rounds"] == 2 and len(g["round_s"]) == 2
    assert g["layout"]["updates_per_step"] == 2 and g["layout"]["per_device_train_batch_size"] == 1  # paper layout
    assert g["valid_rate"] and all(v == 1.0 for v in g["valid_rate"])      # every wrapped completion was scored
    load = res["rm_server_load"]
    assert load["requests_answered"] > 0
    assert load["lost"] == 0 and load["duplicated"] == 0 and load["wrong"] == 0 and load["errors"] == 0
    assert "ratio_vs_offline" in load and "p99_ms" in load
    assert "GRPO     :" in proc.stdout and "integrity: lost 0, duplicated 0, wrong 0" in proc.stdout
