"""The CodeScaler reward of (question, response) pairs, computed once for every consumer.

``codescaler_rewards(score, questions, responses, shaping)``: strict extraction of each response (exactly one
fenced block that parses, else ε; docs/recipe.md, "Code extraction") -> the RM score of (question, code)
through ``score`` (the one :class:`cskit.rm.RewardScorer`'s ``.score``) -> validity-preserving shaping
(0 if ε else softplus(s); "Reward shaping"). Under the gated shapings only valid codes are scored (the
authors' worker scores ε too and throws the score away); the ungated ablations (``raw``,
``softplus_nogate``) score ε as the empty assistant turn, as the authors' ``reward_shaping=False`` does.

Used by the GRPO reward (:class:`cskit.rl.rewards.CodeScalerReward`) and the RM server (``cskit serve-rm``),
so both give the same numbers by construction.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

UNGATED_SHAPINGS = ("raw", "softplus_nogate")

__all__ = ["RewardBatch", "UNGATED_SHAPINGS", "codescaler_rewards"]


@dataclass
class RewardBatch:
    """Per response: the shaped reward, the raw RM score (None where not scored) and validity (strict code)."""

    rewards: list[float]
    raw: list[float | None]
    valid: list[bool]
    codes: list[str]


def codescaler_rewards(score: Callable[[list[str], list[str]], Sequence[float]], questions: Sequence[str],
                       responses: Sequence[str], shaping: str = "softplus") -> RewardBatch:
    """The CodeScaler reward of each (question, response); see the module docstring."""
    from cskit.extract import extract_strict
    from cskit.shaping import SHAPINGS, shape_rewards

    if shaping not in SHAPINGS:
        raise ValueError(f"unknown shaping {shaping!r}; expected one of {list(SHAPINGS)}")
    n = len(responses)
    if len(questions) != n:
        raise ValueError(f"{len(questions)} questions for {n} responses")
    codes = [extract_strict(r, check_ast=True) for r in responses]
    valid = np.array([c != "" for c in codes], dtype=bool)
    idx = list(range(n)) if shaping in UNGATED_SHAPINGS else [i for i in range(n) if valid[i]]
    raw = np.zeros(n, dtype=np.float64)
    if idx:
        out = np.asarray(score([questions[i] for i in idx], [codes[i] for i in idx]), dtype=np.float64).reshape(-1)
        if out.shape[0] != len(idx):
            raise RuntimeError(f"the RM returned {out.shape[0]} scores for {len(idx)} inputs")
        raw[idx] = out
    shaped = np.asarray(shape_rewards(raw, valid, method=shaping), dtype=np.float64)
    scored = set(idx)
    return RewardBatch([float(x) for x in shaped], [float(raw[i]) if i in scored else None for i in range(n)],
                       [bool(v) for v in valid], codes)
