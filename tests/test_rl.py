"""cskit.rl: the paper's batch mapping, trl GRPO runs of 2 steps on tiny models with each reward, resume."""
from __future__ import annotations

import shutil

import pytest

pytest.importorskip("trl")

from cskit.config import Run, load_config  # noqa: E402
from cskit.rl import batch_layout, check_vllm, grpo_args, rl_methods, step_logs, train_grpo  # noqa: E402


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A private model cache and a run dir holding a tiny 'trained' RM (stage 03's output stand-in)."""
    from cskit.models import build_tiny_model

    root = tmp_path_factory.mktemp("rl")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSKIT_CACHE", str(root / "cache"))
        run = Run(root / "run").ensure()
        build_tiny_model(run.models / "rm", head="seqcls", seed=1)
        yield run


def _cfg(**kw):
    over = dict(rl_steps=2, rl_save_steps=1, rl_eval_steps=1, rl_val_max_problems=2, max_train_problems=4,
                sandbox_workers=1, rl_max_completion_length=12, progress=False)
    over.update(kw)
    return load_config("smoke", over)


def test_batch_layout_paper_mapping():
    one = batch_layout(128, 8, 2)
    assert one["generation_batch_size"] == 1024 and one["mini_batch_completions"] == 512
    assert one["per_device_train_batch_size"] == 512 and one["gradient_accumulation_steps"] == 1
    assert one["steps_per_generation"] == 2
    eight = batch_layout(128, 8, 2, world_size=8, micro_batch_size=8)
    assert eight["gradient_accumulation_steps"] == 8 and eight["steps_per_generation"] == 16
    assert eight["generation_batch_size"] == 1024
    with pytest.raises(ValueError):
        batch_layout(3, 3, 2)
    with pytest.raises(ValueError):
        batch_layout(128, 8, 2, micro_batch_size=7)


def test_grpo_args_carry_the_paper_settings(tmp_path):
    cfg = load_config("smoke", dict(rl_prompts_per_step=4, rl_num_generations=4, rl_updates_per_step=2,
                                    rl_steps=5, rl_warmup_steps=2, rl_save_steps=3, temperature=0.6))
    args, layout = grpo_args(cfg, tmp_path, "cpu")
    assert (args.epsilon, args.epsilon_high, args.loss_type, args.beta) == (0.2, 0.28, "dapo", 0.0)
    assert args.num_generations == 4 and args.generation_batch_size == 16 and args.steps_per_generation == 2
    assert args.max_steps == 10 and args.warmup_steps == 4 and args.save_steps == 6  # x updates per step
    assert (args.temperature, args.top_p, args.top_k) == (0.6, 0.95, 20)
    assert args.bf16 is False and args.gradient_checkpointing is False
    assert layout["eval_every_optimizer_steps"] == cfg.rl_eval_steps * 2


def test_vllm_missing_fails_early():
    from trl.import_utils import is_vllm_available

    if is_vllm_available():
        pytest.skip("vllm installed")
    with pytest.raises(ImportError, match="rl_use_vllm"):
        check_vllm(True)
    check_vllm(False)


def test_rl_methods_and_step_logs():
    assert rl_methods(load_config("smoke", dict(rl_baselines="execution, raw_rm"))) == \
        ["codescaler", "execution", "raw_rm"]
    with pytest.raises(ValueError):
        rl_methods(load_config("smoke", dict(rl_baselines="bogus")))
    hist = [{"step": 0, "val/pass_rate": 0.5}, {"step": 1, "reward": 1.0, "x/valid_rate": 0.5},
            {"step": 2, "loss": 3.0}, {"step": 2, "val/pass_rate": 1.0}, {"step": 2, "train_runtime": 9.0}]
    rows = step_logs(hist, updates_per_step=2)
    assert [r["rl_step"] for r in rows] == [0, 1]
    assert rows[0]["val_pass_rate"] == 0.5
    assert rows[1]["reward_mean"] == 1.0 and rows[1]["valid_rate"] == 0.5 and rows[1]["loss"] == 3.0
    assert rows[1]["val_pass_rate"] == 1.0


def _check_result(res, run, name):
    steps = res["steps"]
    assert [r["rl_step"] for r in steps] == [0, 1, 2]
    assert "val_pass_rate" in steps[0]  # validated before training
    for r in steps:   # every validation pass rate carries its n and a 95% Wilson interval around it
        if "val_pass_rate" in r:
            assert r["val_n"] >= 1 and r["val_passed"] == round(r["val_pass_rate"] * r["val_n"])
            assert 0 <= r["val_pass_rate_ci_low"] <= r["val_pass_rate"] <= r["val_pass_rate_ci_high"] <= 1
            assert r["val_pass_rate_ci_high"] - r["val_pass_rate_ci_low"] > 0.1   # a few problems: a wide interval
    for r in steps[1:]:
        assert {"reward_mean", "valid_rate", "completion_length", "val_pass_rate"} <= set(r)
    assert (run.models / name / "config.json").exists()
    assert (run.models / name / "cskit_rl.json").exists()


def test_grpo_execution_reward_then_cached(env):
    res = train_grpo(_cfg(), env, "execution", "policy-execution")
    _check_result(res, env, "policy-execution")
    assert "pass_rate" in res["steps"][1]
    again = train_grpo(_cfg(), env, "execution", "policy-execution")
    assert again["cached"] is True and again["steps"] == res["steps"]
    with pytest.raises(ValueError, match="rl_learning_rate"):
        train_grpo(_cfg(rl_learning_rate=0.5), env, "execution", "policy-execution")


def test_grpo_codescaler_reward(env):
    res = train_grpo(_cfg(), env, "codescaler", "policy-codescaler")
    _check_result(res, env, "policy-codescaler")
    # a random tiny policy never writes a valid block: reward 0, as the paper's gate says
    assert all(r["reward_mean"] == 0.0 and r["valid_rate"] == 0.0 for r in res["steps"][1:])


def test_grpo_raw_rm_reward_scores_through_the_rm(env):
    res = train_grpo(_cfg(), env, "raw_rm", "policy-raw_rm")
    _check_result(res, env, "policy-raw_rm")
    assert all(r["reward_std"] > 0 for r in res["steps"][1:])  # RM logits of the whole (distinct) completions
    assert "raw_mean" in res["steps"][1]


def test_grpo_top_layers_only_changes_only_those(env):
    """rl_train_layers=1 on the 2-layer tiny policy: layer 1 + final norm move, layer 0 and the tied
    embeddings/LM head are bit-identical to the initial policy; the saved config names plain sdpa."""
    import json

    import torch
    from transformers import AutoModelForCausalLM

    from cskit.models import resolve_model

    res = train_grpo(_cfg(rl_train_layers=1, rl_learning_rate=0.05), env, "raw_rm", "policy-top1")
    _check_result(res, env, "policy-top1")
    init = AutoModelForCausalLM.from_pretrained(resolve_model("tiny-qwen3"), dtype=torch.float32).state_dict()
    trained = AutoModelForCausalLM.from_pretrained(res["policy_dir"], dtype=torch.float32).state_dict()
    changed = {k for k in init if not torch.equal(init[k], trained[k])}
    assert changed and all(k.startswith("model.layers.1.") or k == "model.norm.weight" for k in changed), changed
    assert not any(k.startswith(("model.layers.0.", "model.embed_tokens", "lm_head")) for k in changed)
    top = sum(v.numel() for k, v in init.items() if k.startswith("model.layers.1.") or k == "model.norm.weight")
    assert res["trainable_params"] == top
    assert json.loads((env.models / "policy-top1" / "config.json").read_text()).get("_attn_implementation") \
        in (None, "sdpa")


def test_grpo_resumes_from_latest_checkpoint(env):
    name = "policy-resume"
    first = train_grpo(_cfg(rl_steps=1), env, "execution", name)
    assert first["resumed_from"] is None
    # simulate a crash after checkpoint-1: the final save and marker never happened
    shutil.rmtree(env.models / name)
    res = train_grpo(_cfg(rl_steps=2), env, "execution", name)
    assert res["resumed_from"] == "checkpoint-1"
    assert [r["rl_step"] for r in res["steps"]] == [0, 1, 2]  # step 0-1 logs restored from the checkpoint
    assert (env.models / f"{name}.ckpt" / "checkpoint-2").exists()


def test_untrained_rm_needs_no_stage03(env, tmp_path):
    from cskit.rl.grpo import build_reward

    with pytest.raises(FileNotFoundError, match="03_reward_model"):
        build_reward("codescaler", _cfg(), Run(tmp_path).ensure(), [], "cpu")
    r = build_reward("untrained_rm", _cfg(), Run(tmp_path).ensure(), [], "cpu")
    assert r.__name__ == "untrained_rm"


def test_gpu_benchmark_script_runs_tiny_on_cpu(tmp_path):
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu_grpo_step.py"
    spec = importlib.util.spec_from_file_location("gpu_grpo_step", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--tiny", "--steps", "1", "--out", str(tmp_path)]) == 0
    row = json.loads((tmp_path / "gpu_grpo_step.json").read_text())
    assert row["valid_rate"] == [1.0] and row["reward_mean"][0] > 0


@pytest.mark.slow
def test_run_rl_stage_smoke(env):
    from cskit.rl import eval_frame, run_rl, steps_frame
    from cskit.runinfo import read_stage_results

    cfg = _cfg(max_eval_problems=2, eval_k=2, eval_max_new_tokens=8)
    m = run_rl(cfg, env)
    assert m["methods"] == ["codescaler", "execution"]
    assert list(m["table"]) == ["base", "codescaler", "execution"]
    assert set(m["table"]["base"]) == {"bundled-val", "Average"}
    saved = read_stage_results(env, "04_rl")
    assert saved["metrics"]["table"] == m["table"]
    assert set(steps_frame(m).method) == {"codescaler", "execution"} and len(eval_frame(m)) == 3
    from cskit.rl import plots as plots

    plots.plot_training_curves(m, env.figures / "t.png")
    plots.plot_eval_table(m, env.figures / "e.png")
    assert (env.figures / "t.png").exists() and (env.figures / "e.png").exists()


@pytest.mark.slow
def test_rl_launch_two_processes(tmp_path):
    """The same GRPO training under torchrun with 2 CPU processes (DDP over gloo), through rl_launch."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "CSKIT_CACHE": str(tmp_path / "c")}
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29611",
           "-m", "cskit.rl.launch", "--profile", "smoke", "--run-dir", str(run_dir), "--reward", "execution",
           "-p", "rl_steps=1", "-p", "rl_eval_steps=0", "-p", "rl_max_completion_length=8",
           "-p", "max_train_problems=4", "-p", "sandbox_workers=1"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    marker = json.loads((run_dir / "models" / "policy-execution" / "cskit_rl.json").read_text())
    assert marker["layout"]["world_size"] == 2
    assert (run_dir / "models" / "policy-execution" / "config.json").exists()
