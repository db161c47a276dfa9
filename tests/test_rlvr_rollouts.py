"""Stage 01 as the paper runs it: the RLVR trajectory (GRPO with the execution reward), every completion of
every step recorded; a kill and a rerun lose and duplicate no row; the policy is stage 04's execution
baseline; external logs (file:PATH) are graded when they carry no verdicts."""
import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from cskit.config import load_config, open_run
from cskit.rollouts import ROLLOUT_COLUMNS, run_rollouts
from cskit.rollouts.trajectory import TRAJECTORY_COLUMNS, parts

RLVR = {"rollout_source": "rlvr", "max_train_problems": 4, "rl_steps": 3, "rl_prompts_per_step": 2,
        "rl_num_generations": 2, "rl_max_completion_length": 16, "rl_eval_steps": 0, "rl_save_steps": 1,
        "rl_val_max_problems": 1}

SCRIPT = """
import sys
from cskit.config import load_config, open_run
from cskit.rollouts import run_rollouts
run_rollouts(load_config("smoke", {ovr!r}), open_run(sys.argv[1], "smoke"))
"""


def _check_trajectory(df, steps, per_step):
    assert list(df.columns) == ROLLOUT_COLUMNS + TRAJECTORY_COLUMNS
    assert len(df) == steps * per_step
    assert sorted(df.grpo_step.unique()) == list(range(steps))
    assert (df.groupby("grpo_step").size() == per_step).all()
    assert not df.duplicated(["problem_id", "sample_idx"]).any()
    assert set(df.policy) == {"initial"} | {f"policy-execution@step{s}" for s in range(1, steps)}
    assert not (df.passed & ~df.valid).any()


@pytest.mark.slow
def test_rlvr_records_every_completion_and_survives_a_kill(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT.format(ovr=RLVR), str(killed)], env=env,
                            start_new_session=True)
    tdir = killed / "data" / "rollouts.trajectory"
    ckpt = killed / "models" / "policy-execution.ckpt"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:   # kill once step 1 is recorded and checkpointed
        if len(parts(tdir)) >= 2 and ckpt.is_dir() and any(ckpt.glob("checkpoint-*")):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the RLVR run finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "data" / "rollouts.parquet").exists()   # nothing that looks complete
    metrics = run_rollouts(load_config("smoke", RLVR), open_run(killed, "smoke"))
    df = pd.read_parquet(killed / "data" / "rollouts.parquet")
    _check_trajectory(df, steps=3, per_step=2 * 2)
    assert metrics["rollout_source"] == "rlvr" and [r["grpo_step"] for r in metrics["by_step"]] == [0, 1, 2]
    # the RLVR policy is stage 04's execution baseline: trained once, reused (cached) there
    from cskit.rl import train_grpo

    again = train_grpo(load_config("smoke", RLVR), open_run(killed, "smoke"), "execution", "policy-execution")
    assert again["cached"] is True


@pytest.mark.slow
def test_pairs_from_the_trajectory_record_their_steps(tmp_path):
    from cskit.pairs import build_pairs

    ro = pd.DataFrame([dict(problem_id="p", question="q", valid=True, passed=s % 2 == 0, pass_fraction=float(s % 2 == 0),
                            code_strict=f"x = {s}", grpo_step=s // 2) for s in range(8)])
    pairs = build_pairs(ro, max_per_problem=0, hard_negatives=False, dedup=False)
    assert len(pairs) == 16 and set(pairs.pos_step) == {0, 1, 2, 3} and pairs.neg_step.notna().all()
    capped = build_pairs(ro, max_per_problem=0, hard_negatives=False, dedup=False, max_per_step=2)
    assert (capped.groupby("pos_step").size() <= 2).all() and len(capped) == 8


def test_external_rollouts_are_graded_when_they_carry_no_verdict(tmp_path):
    from cskit.problems import load_problems
    from cskit.rollouts.external import ExternalRolloutsError, load_external_rollouts
    from cskit.sandbox import SandboxLimits

    probs = [p for p in load_problems("bundled:train", limit=3, seed=0) if p.has_tests]
    p = probs[0]
    log = tmp_path / "verl_samples.jsonl"
    rows = [{"problem_id": p.id, "completion": f"```python\n{p.solutions[0]}\n```", "step": 7},
            {"problem_id": p.id, "completion": "no code here", "step": 8},
            {"problem_id": p.id, "response": "```python\nprint(1)\n```", "passed": True}]
    log.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    df = load_external_rollouts(log, probs, ROLLOUT_COLUMNS, limits=SandboxLimits(allow_unisolated=True))
    assert list(df.passed) == [True, False, True] and list(df.verdict)[2] == "external"
    assert list(df.grpo_step)[:2] == [7, 8] and list(df.sample_idx) == [0, 1, 2]
    log.write_text('{"problem_id": "nope", "completion": "x"}\n')
    with pytest.raises(ExternalRolloutsError, match=r"verl_samples.jsonl:1: field 'problem_id'"):
        load_external_rollouts(log, probs, ROLLOUT_COLUMNS)
