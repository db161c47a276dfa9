"""Stage 01 on the smoke profile: real tiny model, real sandbox, schema, and resume after a kill."""
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from cskit.config import load_config, open_run
from cskit.rollouts import ROLLOUT_COLUMNS, run_rollouts

OVR = {"rollout_source": "sample", "max_train_problems": 4, "rollout_n": 2, "gen_batch_size": 2, "max_new_tokens": 24}


def test_rollouts_schema_and_labels(tmp_path):
    cfg = load_config("smoke", OVR)
    run = open_run(tmp_path / "run", "smoke")
    metrics = run_rollouts(cfg, run)
    df = pd.read_parquet(run.data / "rollouts.parquet")
    assert list(df.columns) == ROLLOUT_COLUMNS
    assert len(df) == 4 * 2 and metrics["samples"] == 8
    assert not df.duplicated(["problem_id", "sample_idx"]).any()
    # the label follows the strict code: an empty strict extraction can never pass
    assert not (df.passed & ~df.valid).any()
    assert ((df.pass_fraction >= 0) & (df.pass_fraction <= 1)).all()
    assert (run.results / "01_rollouts.json").exists()
    assert metrics["pass_rate"] == pytest.approx(df.passed.mean())
    assert metrics["validity_rate"] == pytest.approx(df.valid.mean())


SCRIPT = """
import sys
from cskit.config import load_config, open_run
from cskit.rollouts import run_rollouts
cfg = load_config("smoke", {ovr!r})
run_rollouts(cfg, open_run(sys.argv[1], "smoke"))
"""


@pytest.mark.slow
def test_resume_after_kill_gives_the_uninterrupted_table(tmp_path):
    ovr = {**OVR, "max_train_problems": 5}
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT.format(ovr=ovr), str(killed)], env=env,
                            start_new_session=True)
    parts = killed / "data" / "rollouts.parts"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if parts.exists() and len(list(parts.glob("chunk-*.parquet"))) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "stage finished before it could be killed; make it longer"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list(parts.glob("chunk-*.parquet")))
    assert 2 <= done_before < 5
    assert not (killed / "data" / "rollouts.parquet").exists()
    # resume in-process, then compare with an uninterrupted run
    cfg = load_config("smoke", ovr)
    run_rollouts(cfg, open_run(killed, "smoke"))
    fresh = tmp_path / "fresh"
    run_rollouts(cfg, open_run(fresh, "smoke"))
    a = pd.read_parquet(killed / "data" / "rollouts.parquet")
    b = pd.read_parquet(fresh / "data" / "rollouts.parquet")
    assert len(a) == 5 * 2 and not a.duplicated(["problem_id", "sample_idx"]).any()
    cols = ["problem_id", "sample_idx", "response", "passed", "pass_fraction"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
