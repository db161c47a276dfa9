"""params/paper-qwen3-8b.yaml against the spec (values typed in from codescaler-spec.md, not read from the YAML)."""
from __future__ import annotations

import re

import pytest

from cskit.config import PARAMS_DIR, SCHEMA, load_config

# codescaler-spec.md §5 (scripts/train.sh), §6 (eval.py), §1, §2, §4, §12
SPEC = {
    "policy_model": "Qwen/Qwen3-8B-Base",                    # §5
    "rm_model": "Skywork/Skywork-Reward-V2-Qwen3-8B",        # §2 (CodeScaler-8B's init)
    "gen_backend": "vllm",                                   # §5/§6
    "temperature": 0.6, "top_p": 0.95, "top_k": 20,          # §5 rollout, §6 eval
    "max_prompt_tokens": 4096, "max_new_tokens": 16384,      # §5
    "test_timeout": 2.0, "memory_mb": 1024,                  # §1 LCB runner, reliability_guard
    "rollout_n": 8,                                          # §1/§5
    "rm_max_length": 4096,                                   # §2
    "rl_steps": 250,                                         # §5 total_training_steps
    "rl_prompts_per_step": 128,                              # §5 train_batch_size
    "rl_num_generations": 8,                                 # §5 n
    "rl_updates_per_step": 2,                                # §5 mini-batch 64 of 128
    "rl_learning_rate": 1e-6, "rl_warmup_steps": 10,         # §5
    "rl_epsilon": 0.2, "rl_epsilon_high": 0.28,              # §5 clip low/high
    "rl_loss_type": "dapo",                                  # §5 token-mean
    "rl_beta": 0.0,                                          # §5 no KL
    "rl_max_completion_length": 16384,                       # §5
    "rl_save_steps": 50, "rl_eval_steps": 10,                # §5 save_freq, test_freq
    "rl_use_vllm": True,                                     # §5
    "rl_reward": "codescaler", "rl_shaping": "softplus",     # §4
    "eval_k": 8, "eval_max_new_tokens": 16384,               # §6 avg@8, 16384 tokens
}
TRAIN_SOURCES = {"deepcoder:lcbv5", "deepcoder:primeintellect", "deepcoder:taco"}          # §1/§5
EVAL_SOURCES = {"deepcoder:lcbv5:test", "cure:CodeContests", "cure:CodeForces", "cure:LiveBench", "cure:MBPP"}  # §6


@pytest.fixture(scope="module")
def cfg():
    return load_config("paper-qwen3-8b")


@pytest.mark.parametrize("key", sorted(SPEC))
def test_matches_spec(cfg, key):
    want = SPEC[key]
    assert cfg[key] == (pytest.approx(want) if isinstance(want, float) else want), key


def test_problem_sets(cfg):
    assert set(cfg.list("train_problems")) == TRAIN_SOURCES
    assert set(cfg.list("eval_problems")) == EVAL_SOURCES
    assert cfg.rl_val_problems == "deepcoder:lcbv5:test"  # §5: validation on LiveCodeBench
    assert "execution" in cfg.list("rl_baselines")          # §5: binary execution RL baseline
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
