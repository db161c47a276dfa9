"""Stage 05: Best-of-N at test time (docs/recipe.md, "Best-of-N").

The same N candidates per problem are chosen from by the reward model, by CURE-style generated unit tests
(:mod:`cskit.bon.unit_tests`), by majority vote on generated inputs, at random, and by the oracle; accuracy
with intervals and the selection latency of each selector. ``run_best_of_n(cfg, run)`` is the stage.
"""
from cskit.bon.stage import (CANDIDATE_COLUMNS, SELECTORS, TEST_COLUMNS, ProblemMeasure, latency_columns,
                             latency_ratios, run_best_of_n, select_majority_vote, select_random, select_rm,
                             select_unit_tests, selection_table, summarize, vote_clusters)

__all__ = ["CANDIDATE_COLUMNS", "SELECTORS", "TEST_COLUMNS", "ProblemMeasure", "latency_columns", "latency_ratios",
           "run_best_of_n", "select_majority_vote", "select_random", "select_rm", "select_unit_tests",
           "selection_table", "summarize", "vote_clusters"]
