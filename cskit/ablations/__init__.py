"""Stage 06: ablations -- extraction, shaping, pair source, data scale, RM size and short RL runs.

``run_ablations(cfg, run)`` is the stage; :mod:`cskit.ablations.scores` holds the scoring of extraction and
shaping variants on stage-03 RM scores; :func:`ablation_tables` turns results into tables.
"""
from cskit.ablations.stage import ABLATIONS, PAIR_SOURCES, RL_VARIANTS, ablation_tables, param, rl_table, run_ablations

__all__ = ["ABLATIONS", "PAIR_SOURCES", "RL_VARIANTS", "ablation_tables", "param", "rl_table", "run_ablations"]
