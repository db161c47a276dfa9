"""The reward the server computes: the kit's CodeScaler reward over (question, response) lists.

:class:`RewardEngine` holds the one :class:`cskit.rm.RewardScorer` and computes the reward with
:func:`cskit.rm.reward.codescaler_rewards` -- strict extraction, the validity gate, the RM score, the
profile's shaping -- the very function the GRPO reward (:class:`cskit.rl.rewards.CodeScalerReward`) calls,
so the server and in-process training give the same rewards by construction (and the tests check it).

The engine is *not* thread-safe: one thread (the dynamic batcher's worker) calls :meth:`RewardEngine.compute`.

It also turns OpenRLHF's ``/get_reward`` inputs into (question, response) pairs (:func:`split_openrlhf_query`):
OpenRLHF sends ``query`` = the decoded prompt+response text (with pad/eos tokens), ``prompts`` = the decoded
prompt and ``labels`` = the dataset column chosen with ``--label_key``.

Not guaranteed: a query that does not start with its prompt (a tokenizer round trip that changed the
prompt's text) is scored as a whole response; a missing label falls back to the (chat-templated) prompt
text as the question, which is not the RM's training input -- pass the raw question with
``--label_key question``.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Sequence

log = logging.getLogger(__name__)


def reward_scorer_class():
    """``cskit.rm.RewardScorer`` (imported on first use: importing the server does not import torch)."""
    from cskit.rm import RewardScorer

    return RewardScorer


@dataclass
class EngineResult:
    """One reward per input, the raw RM score (None where the RM did not score it) and strict validity."""

    rewards: list[float]
    raw_scores: list[float | None]
    valid: list[bool]

    def __len__(self) -> int:
        return len(self.rewards)

    def slice(self, start: int, stop: int) -> "EngineResult":
        return EngineResult(self.rewards[start:stop], self.raw_scores[start:stop], self.valid[start:stop])


class RewardEngine:
    """CodeScaler reward of ``(question, response)`` pairs through ``CodeScalerReward`` + ``RewardScorer``.

    ``rm``: a model dir / hub id / tiny-model name (anything ``RewardScorer`` accepts) or a ready scorer
    (an object with ``.score(questions, codes)``). ``shaping``: one of :data:`cskit.shaping.SHAPINGS`
    (the profile's ``rl_shaping``). ``max_length``, ``batch_size``, ``device``, ``dtype``, ``seed`` go to
    the scorer (``rm_max_length``, ``rm_score_batch_size``, ``device`` of the profile).
    """

    def __init__(self, rm: Any, *, shaping: str = "softplus", max_length: int | None = 4096,
                 batch_size: int = 16, device: str | None = None, dtype: Any = None, seed: int | None = None):
        if hasattr(rm, "score"):
            scorer = rm
            self.rm_name = getattr(rm, "path", None) or type(rm).__name__
        else:
            kw = dict(max_length=max_length, batch_size=batch_size, device=device, dtype=dtype, seed=seed)
            scorer = reward_scorer_class()(str(rm), **{k: v for k, v in kw.items() if v is not None})
            self.rm_name = str(rm)
        from cskit.shaping import SHAPINGS

        if shaping not in SHAPINGS:
            raise ValueError(f"unknown shaping {shaping!r}; expected one of {list(SHAPINGS)}")
        self.shaping = shaping
        self._scorer = scorer
        self.n_computed = 0
        self.seconds = 0.0

    @property
    def scorer(self):
        return self._scorer

    def special_tokens(self) -> tuple[str, ...]:
        """The RM tokenizer's pad and eos strings (stripped from OpenRLHF queries, as its serve_rm does)."""
        tok = self.scorer.tokenizer
        return tuple(t for t in (getattr(tok, "pad_token", None), getattr(tok, "eos_token", None)) if t)

    def warmup(self) -> None:
        """Load the model and run one tiny forward pass (so the first request does not pay for loading)."""
        self.compute(["warm-up"], ["```python\nprint(1)\n```"])
        self.n_computed = 0
        self.seconds = 0.0

    def compute(self, questions: Sequence[str], responses: Sequence[str]) -> EngineResult:
        from cskit.rm.reward import codescaler_rewards

        questions, responses = [str(q) for q in questions], [str(r) for r in responses]
        if len(questions) != len(responses):
            raise ValueError(f"{len(questions)} questions but {len(responses)} responses")
        if not responses:
            return EngineResult([], [], [])
        t0 = time.perf_counter()
        batch = codescaler_rewards(self._scorer.score, questions, responses, self.shaping)
        rewards, raw, valid = batch.rewards, batch.raw, batch.valid
        self.n_computed += len(responses)
        self.seconds += time.perf_counter() - t0
        return EngineResult([float(x) for x in rewards], [None if x is None else float(x) for x in raw], valid)

    def info(self) -> dict[str, Any]:
        s = self.scorer
        out: dict[str, Any] = {"rm": self.rm_name, "shaping": self.shaping,
                               "max_length": getattr(s, "max_length", None),
                               "scorer_batch_size": getattr(s, "batch_size", None),
                               "computed": self.n_computed, "compute_seconds": round(self.seconds, 3)}
        try:
            out["device"] = str(s.device)
            out["dtype"] = str(next(s.model.parameters()).dtype)
        except Exception:  # a scorer object without a torch model (tests of the HTTP layer)
            pass
        return out


def strip_special(text: str, specials: Sequence[str]) -> str:
    """``text`` without leading/trailing repeats of the given special-token strings (and surrounding space)."""
    changed = True
    while changed:
        changed = False
        for tok in specials:
            if tok and text.endswith(tok):
                text, changed = text[: -len(tok)].rstrip(), True
            if tok and text.startswith(tok):
                text, changed = text[len(tok):].lstrip(), True
    return text


def split_openrlhf_query(query: str, prompt: str | None, label: Any, specials: Sequence[str]) -> tuple[str, str]:
    """(question, response) of one OpenRLHF ``/get_reward`` item (see the module docstring)."""
    q = strip_special(str(query), specials)
    p = strip_special(str(prompt), specials) if prompt is not None else None
    if p and q.startswith(p):
        response = q[len(p):]
    elif prompt is not None and str(query).startswith(str(prompt)):
        response = strip_special(str(query)[len(str(prompt)):], specials)
    else:
        response = q
    if isinstance(label, str) and label.strip():
        question = label
    elif isinstance(label, dict) and isinstance(label.get("question"), str):
        question = label["question"]
    else:
        question = p if p is not None else ""
    return question, response
