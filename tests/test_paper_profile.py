"""params/paper-qwen3-8b.yaml against the spec (values typed in from codescaler-spec.md, not read from the YAML)."""
from __future__ import annotations

import re

import pytest

from cskit.config import PARAMS_DIR, SCHEMA, load_config

# codescaler-spec.md recipe "RL (GRPO)" (scripts/train.sh), recipe "Evaluation" (eval.py), recipe "Preference pairs", recipe "Reward model", recipe "Reward shaping", recipe "Reproduction defaults"
SPEC = {
    "policy_model": "Qwen/Qwen3-8B-Base",                    # recipe "RL (GRPO)"
    "rm_model": "Skywork/Skywork-Reward-V2-Qwen3-8B",        # recipe "Reward model" (CodeScaler-8B's init)
    "gen_backend": "vllm",                                   # recipe "RL (GRPO)"/recipe "Evaluation"
    "temperature": 0.6, "top_p": 0.95, "top_k": 20,          # recipe "RL (GRPO)" rollout, recipe "Evaluation" eval
    "max_prompt_tokens": 4096, "max_new_tokens": 16384,      # recipe "RL (GRPO)"
    "test_timeout": 2.0, "memory_mb": 1024,                  # recipe "Preference pairs" LCB runner, reliability_guard
    "rollout_n": 8,                                          # recipe "Preference pairs"/recipe "RL (GRPO)"
    "rm_max_length": 4096,                                   # recipe "Reward model"
    "rl_steps": 250,                                         # recipe "RL (GRPO)" total_training_steps
    "rl_prompts_per_step": 128,                              # recipe "RL (GRPO)" train_batch_size
    "rl_num_generations": 8,                                 # recipe "RL (GRPO)" n
    "rl_updates_per_step": 2,                                # recipe "RL (GRPO)" mini-batch 64 of 128
    "rl_learning_rate": 1e-6, "rl_warmup_steps": 10,         # recipe "RL (GRPO)"
    "rl_epsilon": 0.2, "rl_epsilon_high": 0.28,              # recipe "RL (GRPO)" clip low/high
    "rl_loss_type": "dapo",                                  # recipe "RL (GRPO)" token-mean
    "rl_beta": 0.0,                                          # recipe "RL (GRPO)" no KL
    "rl_max_completion_length": 16384,                       # recipe "RL (GRPO)"
    "rl_save_steps": 50, "rl_eval_steps": 10,                # recipe "RL (GRPO)" save_freq, test_freq
    "rl_use_vllm": True,                                     # recipe "RL (GRPO)"
    "rl_reward": "codescaler", "rl_shaping": "softplus",     # recipe "Reward shaping"
    "eval_k": 8, "eval_max_new_tokens": 16384,               # recipe "Evaluation" avg@8, 16384 tokens
}
TRAIN_SOURCES = {"deepcoder:lcbv5", "deepcoder:primeintellect", "deepcoder:taco"}          # recipe "Preference pairs"/recipe "RL (GRPO)"
EVAL_SOURCES = {"deepcoder:lcbv5:test", "cure:CodeContests", "cure:CodeForces", "cure:LiveBench", "cure:MBPP"}  # recipe "Evaluation"


@pytest.fixture(scope="module")
def cfg():
    return load_config("paper-qwen3-8b")


@pytest.mark.parametrize("key", sorted(SPEC))
def test_matches_spec(cfg, key):
    want = SPEC[key]
    assert getattr(cfg, key) == (pytest.approx(want) if isinstance(want, float) else want), key


def test_problem_sets(cfg):
    assert set(cfg.list("train_problems")) == TRAIN_SOURCES
    assert set(cfg.list("eval_problems")) == EVAL_SOURCES
    assert cfg.rl_val_problems == "deepcoder:lcbv5:test"  # recipe "RL (GRPO)": validation on LiveCodeBench
    assert "execution" in cfg.list("rl_baselines")          # recipe "RL (GRPO)": binary execution RL baseline
    assert cfg.max_train_problems == 0 and cfg.max_eval_problems == 0


def test_every_key_has_a_source_comment():
    text = (PARAMS_DIR / "paper-qwen3-8b.yaml").read_text()
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+):", line)
        if m and m.group(1) not in ("description", "device", "progress"):
            assert m.group(1) in SCHEMA
            assert "#" in line, f"no source comment on: {line}"


def test_paper_batch_layout(cfg):
    from cskit.rl import batch_layout

    lay = batch_layout(cfg.rl_prompts_per_step, cfg.rl_num_generations, cfg.rl_updates_per_step, 8,
                       cfg.rl_micro_batch_size)
    assert lay["generation_batch_size"] == 128 * 8 and lay["mini_batch_completions"] == 64 * 8


# The verl recipe (scripts/train.sh + the verl defaults it keeps), as trl's GRPOConfig fields, on 8 GPUs.
# docs/recipe.md, "RL (GRPO)": 128 prompts x 8 generations per step, mini-batch 64 prompts (2 optimizer updates
# per generation round), lr 1e-6 constant after 10 warm-up steps, clip 0.2/0.28, token-mean loss, no KL,
# T 0.6 / top-p 0.95 / top-k 20, 16,384 response tokens, checkpoints every 50 steps (all kept), validation every 10.
VERL_AS_GRPO = {
    "num_generations": 8, "generation_batch_size": None, "steps_per_generation": 128,
    "per_device_train_batch_size": 1, "gradient_accumulation_steps": 64, "num_iterations": 1,
    "max_steps": 500, "learning_rate": 1e-6, "lr_scheduler_type": "constant_with_warmup", "warmup_steps": 20,
    "epsilon": 0.2, "epsilon_high": 0.28, "loss_type": "dapo", "beta": 0.0, "scale_rewards": "group",
    "temperature": 0.6, "top_p": 0.95, "top_k": 20, "max_completion_length": 16384,
    "mask_truncated_completions": False, "use_vllm": True, "vllm_mode": "colocate",
    "vllm_importance_sampling_correction": False,   # verl's recipe has no IS correction step
    "save_strategy": "steps", "save_steps": 100, "save_total_limit": None, "bf16": True, "seed": 0,
}


def test_grpo_config_fields_match_the_verl_recipe(cfg):
    from cskit.rl.grpo import grpo_fields

    fields, layout = grpo_fields(cfg, "/tmp/x", "cuda", world_size=8)
    for key, want in VERL_AS_GRPO.items():
        got = fields[key]
        assert got == (pytest.approx(want) if isinstance(want, float) else want), (key, got, want)
    assert layout["completions_per_step"] == 1024 and layout["updates_per_step"] == 2


def test_rl_config_prints_every_field_as_json(tmp_path):
    import dataclasses
    import json
    import subprocess
    import sys

    from trl import GRPOConfig

    out = subprocess.run([sys.executable, "-m", "cskit.cli", "rl-config", "--profile", "paper-qwen3-8b",
                          "--world-size", "8"], capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert set(d["GRPOConfig"]) == {f.name for f in dataclasses.fields(GRPOConfig)}
    assert d["GRPOConfig"]["vllm_importance_sampling_correction"] is False
    bad = subprocess.run([sys.executable, "-m", "cskit.cli", "rl-config", "--profile", "paper-qwen3-8b",
                          "-p", "rl_stepz=3"], capture_output=True, text=True, timeout=240)
    assert bad.returncode == 2 and "did you mean 'rl_steps'" in bad.stderr and "Traceback" not in bad.stderr


def test_evaluation_sampling_and_time_limits_follow_the_authors(cfg):
    from cskit.rl.evaluate import sampling_from_cfg

    assert sampling_from_cfg(cfg).top_k == 0                     # eval.py: no top-k
    assert sampling_from_cfg(cfg).max_total_tokens == 16384       # eval.py: max_model_len 16384
    assert sampling_from_cfg(cfg.replace(eval_top_k=-1)).top_k == 20
    assert cfg.eval_fixed_test_timeout is True and cfg.test_timeout == 2.0
    assert cfg.pairs_unaligned_fraction == 0.0                   # speculative augmentation is an opt-in


def test_vllm_server_mode_and_report_to_reach_trl(cfg):
    from cskit.rl.grpo import grpo_fields
    from cskit.runinfo import report_to

    c = cfg.replace(rl_vllm_mode="server", rl_vllm_server_host="10.0.0.5", rl_vllm_server_port=8001,
                    report_to="tensorboard,wandb")
    fields, _ = grpo_fields(c, "/tmp/x", "cuda", world_size=8)
    assert (fields["vllm_mode"], fields["vllm_server_host"], fields["vllm_server_port"]) == ("server", "10.0.0.5", 8001)
    assert fields["report_to"] == ["tensorboard", "wandb"] and report_to(cfg) == "none"


def test_the_paper_profile_trains_on_the_rlvr_trajectory_without_augmentation(cfg):
    assert cfg.rollout_source == "rlvr"
    assert not cfg.pairs_reference_positives and not cfg.pairs_curated and not cfg.pairs_offpolicy
    assert cfg.pairs_unaligned_fraction == 0.0 and cfg.pairs_val_fraction == 0.0
