"""Stage 02: preference pairs (all-pass vs any-fail on the same problem), their provenance and splits.

``run_pairs(cfg, run)`` is the stage (notebook ``02_pairs.ipynb``); pair tables have ``PAIR_COLUMNS``.
"""
from cskit.pairs.stage import (PAIR_COLUMNS, PAIR_SOURCES, build_pairs, curated_pairs, make_pair_splits, normalize_code, pair_stats,
                               run_pairs, split_problem_ids, unaligned_pairs)

__all__ = ["PAIR_COLUMNS", "PAIR_SOURCES", "build_pairs", "curated_pairs", "make_pair_splits", "normalize_code", "pair_stats",
           "run_pairs", "split_problem_ids", "unaligned_pairs"]
