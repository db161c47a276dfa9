"""Stage 01: rollouts -- completions of the policy on the training problems, graded in the sandbox.

``run_rollouts(cfg, run)`` is the stage (notebook ``01_rollouts.ipynb``); its table has the columns
``ROLLOUT_COLUMNS`` (docs/contracts.md); figures are drawn by :mod:`cskit.rollouts.plots`.
"""
from cskit.rollouts.stage import ROLLOUT_COLUMNS, collect_rollouts, rollout_stats, run_rollouts, sample_and_grade

__all__ = ["ROLLOUT_COLUMNS", "collect_rollouts", "rollout_stats", "run_rollouts", "sample_and_grade"]
