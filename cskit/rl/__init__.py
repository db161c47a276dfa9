"""Stage 04: RL with the CodeScaler reward (docs/recipe.md, "RL (GRPO)", "Code extraction", "Reward shaping").

* :mod:`cskit.rl.rewards` -- picklable trl reward callables: CodeScaler (extract -> RM -> shape), execution,
  raw RM;
* :mod:`cskit.rl.grpo` -- GRPO through trl with the paper's recipe (:func:`train_grpo`, :func:`run_rl`);
* :mod:`cskit.rl.validation` -- execution validation during training (a TrainerCallback);
* :mod:`cskit.rl.evaluate` -- avg@k / pass@k evaluation of policies by execution;
* :mod:`cskit.rl.scaling` -- the execution-free scaling experiment;
* ``python -m cskit.rl.launch`` -- one GRPO method under accelerate/torchrun.

Importing this package does not import torch or trl.
"""
from cskit.rl.evaluate import avg_at_k, evaluate_policy, load_benchmarks, pass_at_k, results_table
from cskit.rl.grpo import (REWARDS, batch_layout, check_vllm, eval_frame, grpo_args, rl_methods, run_rl, step_logs,
                           steps_frame, train_grpo)
from cskit.rl.rewards import CodeScalerReward, ExecutionReward, RawRMReward, make_reward
from cskit.rl.scaling import run_scaling

__all__ = ["avg_at_k", "evaluate_policy", "load_benchmarks", "pass_at_k", "results_table", "REWARDS", "batch_layout",
           "check_vllm", "eval_frame", "grpo_args", "rl_methods", "run_rl", "step_logs", "steps_frame", "train_grpo",
           "CodeScalerReward", "ExecutionReward", "RawRMReward", "make_reward", "run_scaling"]
