"""Stage 03: the CodeScaler reward model (docs/recipe.md, "Reward model" and "RM-Bench").

* :class:`RewardScorer` (:mod:`cskit.rm.score`) -- the one scorer, used by the GRPO rewards, Best-of-N,
  evaluation and the RM server: ``RewardScorer(path_or_hub_id).score(questions, codes)``;
* :func:`train_reward_model` (:mod:`cskit.rm.train`) -- Bradley-Terry training through trl's RewardTrainer;
  ``python -m cskit.rm.launch`` runs it under accelerate/torchrun;
* :mod:`cskit.rm.bench` -- RM-Bench and the offline HumanEval code bench;
* :func:`load_pair_source` -- external pairs (``rm_pairs``, e.g. ``hub:LARK-Lab/CodeScalerPair-51K``);
* the RM input is the authors' by default (``rm_input_format``), recorded in each trained RM directory;
* :func:`run_reward_model` (:mod:`cskit.rm.stage`) -- the stage (notebook ``03_reward_model.ipynb``).
"""
from cskit.rm.pairs_source import CODESCALER_PAIRS_ID, PairSourceError, load_pair_source
from cskit.rm.score import (DEFAULT_RM_INPUT_FORMAT, RM_INPUT_FILE, RM_INPUT_FORMATS, RewardScorer, read_rm_input_format,
                            write_rm_input_format, calibration_table, encode_rm_inputs, evaluate_pairs,
                            pair_metrics, paired_accuracy_by_source, rm_text, rollout_metrics, score_pairs,
                            score_rollouts)
from cskit.rm.stage import evaluate_scorer, rmbench_table, run_reward_model, summary_table
from cskit.rm.train import build_reward_trainer, is_complete, read_training_metrics, train_reward_model

__all__ = ["CODESCALER_PAIRS_ID", "PairSourceError", "load_pair_source", "DEFAULT_RM_INPUT_FORMAT", "RM_INPUT_FILE",
           "RM_INPUT_FORMATS", "read_rm_input_format", "write_rm_input_format", "RewardScorer", "calibration_table", "encode_rm_inputs", "evaluate_pairs", "pair_metrics", "paired_accuracy_by_source",
           "rm_text", "rollout_metrics", "score_pairs", "score_rollouts", "evaluate_scorer", "rmbench_table",
           "run_reward_model", "summary_table", "build_reward_trainer", "is_complete", "read_training_metrics",
           "train_reward_model"]
