"""The paper profile end to end on CPU: tiny models and short lengths substituted, everything else the paper's --
above all the batch shape (128 prompts x 8 generations per GRPO round, 2 optimizer updates per round) -- for
one round of the RLVR run (stage 01), pairs (02), RM training on pairs from a local CodeScalerPair-style file
(03; the paper profile has no augmentation, and a random tiny policy passes nothing), and one round of
CodeScaler GRPO (04)."""
import json

import pandas as pd
import pytest

from cskit.config import load_config, open_run

pytestmark = pytest.mark.slow


def _pairs_file(path):
    from cskit.problems import bundled_problems
    from cskit.prompts import question_text

    rows = [{"question_content": question_text(p), "code_pos": p.solutions[0], "code_neg": w}
            for p in bundled_problems() if p.solutions for w in p.wrong_solutions]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_paper_profile_one_round_at_the_paper_batch_shape(tmp_path):
    from cskit.pairs import run_pairs
    from cskit.rl import run_rl
    from cskit.rm import run_reward_model
    from cskit.rollouts import run_rollouts

    cfg = load_config("paper-qwen3-8b").replace(
        policy_model="tiny-qwen3", rm_model="tiny-qwen3", device="cpu", gen_backend="transformers",
        rl_use_vllm=False, train_problems="procedural:train:128", eval_problems="procedural:test:4",
        rl_val_problems="procedural:val:2", rl_val_max_problems=2, max_eval_problems=4, eval_k=2,
        rl_steps=1, rl_max_completion_length=8, eval_max_new_tokens=8, max_new_tokens=8, max_prompt_tokens=768,
        rl_eval_steps=0, rl_save_steps=0, rl_baselines="execution", rm_max_length=256, rm_max_steps=2,
        rm_batch_size=8, rm_grad_accum=1, rm_pairs=f"jsonl:{_pairs_file(tmp_path / 'pairs.jsonl')}",
        pairs_val_fraction=0.2, rmbench_humaneval_problems=0, scaling_enabled=False, progress=False,
        sandbox_workers=2)
    assert (cfg.rl_prompts_per_step, cfg.rl_num_generations, cfg.rl_updates_per_step) == (128, 8, 2)
    run = open_run(tmp_path / "run", "paper-qwen3-8b")
    m01 = run_rollouts(cfg, run)
    ro = pd.read_parquet(run.data / "rollouts.parquet")
    assert len(ro) == 128 * 8 and ro.problem_id.nunique() == 128 and set(ro.grpo_step) == {0}
    assert m01["rollout_source"] == "rlvr"
    run_pairs(cfg, run)
    m03 = run_reward_model(cfg, run)
    assert m03["pairs_source"].startswith("jsonl:") and m03["headline"]["n_train_pairs"] > 0
    m04 = run_rl(cfg, run)
    for method in ("codescaler", "execution"):
        t = m04["training"][method]
        assert t["layout"]["completions_per_step"] == 1024 and t["layout"]["updates_per_step"] == 2
        assert len(t["steps"]) == 1
    assert m04["training"]["execution"].get("cached") is True   # stage 01's RLVR policy, not trained twice
