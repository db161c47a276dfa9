"""A verl custom reward module calling ``cskit serve-rm``: pass this file as ``custom_reward_function.path``.

    python -m verl.trainer.main_ppo ... \\
        custom_reward_function.path=$(python -c 'import cskit.serve.verl_reward as m; print(m.__file__)') \\
        custom_reward_function.name=compute_score \\
        +custom_reward_function.reward_kwargs.rm_url=http://10.0.0.5:8000
    # token: export CSKIT_RM_TOKEN=... on every node (or reward_kwargs.rm_token=...)

Entry points (all return verl's dict form, ``{"score": reward, "rm_raw": raw RM score or NaN, "valid": 0/1}``;
verl takes ``score`` as the reward and logs the other keys):

* ``compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs)`` -- one sample (verl's
  naive reward manager, and the Reward Loop, which runs sync functions in an executor). The server's dynamic
  batching merges the concurrent one-sample requests into forward batches.
* ``compute_score_async(...)`` -- the same, ``async`` (the Reward Loop awaits it directly).
* ``compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos, **kwargs)`` -- a list (verl's
  ``batch`` reward manager: ``reward_model.reward_manager=batch``, ``custom_reward_function.name=compute_score_batch``).

The RM needs the problem statement: the dataset's ``extra_info`` must carry it as ``question`` (or
``question_content`` / ``problem``); ``solution_str`` is the decoded response and ``ground_truth`` is not
used (the CodeScaler reward needs no tests). URL: ``rm_url`` keyword (``reward_kwargs``) or
``$CSKIT_RM_URL``; token: ``rm_token`` or ``$CSKIT_RM_TOKEN``.

Not guaranteed: a sample without a question raises ``ValueError`` (rather than scoring an empty question);
an unreachable server raises :class:`cskit.serve.RMServerError` after bounded retries.
"""
from __future__ import annotations

import math
import threading
from typing import Any, Sequence

from cskit.serve.client import AsyncRMClient, RMClient, ScoreResult

QUESTION_KEYS = ("question", "question_content", "problem")
_LOCK = threading.Lock()
_SYNC: dict[tuple, RMClient] = {}
_ASYNC: dict[tuple, AsyncRMClient] = {}


def question_of(extra_info: Any) -> str:
    if isinstance(extra_info, dict):
        for k in QUESTION_KEYS:
            v = extra_info.get(k)
            if isinstance(v, str) and v.strip():
                return v
    raise ValueError(f"cskit verl reward: extra_info needs the problem statement under one of {QUESTION_KEYS} "
                     f"(got {sorted(extra_info) if isinstance(extra_info, dict) else type(extra_info).__name__})")


def _key(kwargs: dict) -> tuple:
    return (kwargs.get("rm_url"), kwargs.get("rm_token"), float(kwargs.get("rm_timeout_s", 300.0)))


def sync_client(**kwargs) -> RMClient:
    k = _key(kwargs)
    with _LOCK:
        if k not in _SYNC:
            _SYNC[k] = RMClient(k[0], k[1], timeout_s=k[2])
        return _SYNC[k]


def async_client(**kwargs) -> AsyncRMClient:
    k = _key(kwargs)
    with _LOCK:
        if k not in _ASYNC:
            _ASYNC[k] = AsyncRMClient(k[0], k[1], timeout_s=k[2])
        return _ASYNC[k]


def as_verl(res: ScoreResult) -> list[dict[str, float]]:
    return [{"score": float(r), "rm_raw": float(x) if x is not None else math.nan, "valid": float(v)}
            for r, x, v in zip(res.rewards, res.raw_scores, res.valid)]


def compute_score(data_source: Any = None, solution_str: str = "", ground_truth: Any = None,
                  extra_info: Any = None, **kwargs) -> dict[str, float]:
    """One sample's CodeScaler reward from the server (verl's per-sample reward-function contract)."""
    res = sync_client(**kwargs).score([question_of(extra_info)], [str(solution_str)])
    return as_verl(res)[0]


async def compute_score_async(data_source: Any = None, solution_str: str = "", ground_truth: Any = None,
                              extra_info: Any = None, **kwargs) -> dict[str, float]:
    """``compute_score`` for verl's asynchronous Reward Loop."""
    res = await async_client(**kwargs).score([question_of(extra_info)], [str(solution_str)])
    return as_verl(res)[0]


def compute_score_batch(data_sources: Sequence[Any] = (), solution_strs: Sequence[str] = (),
                        ground_truths: Sequence[Any] = (), extra_infos: Sequence[Any] | None = None,
                        **kwargs) -> list[dict[str, float]]:
    """All samples of a batch in one call (verl's ``batch`` reward manager)."""
    infos = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
    if len(infos) != len(solution_strs):
        raise ValueError(f"{len(infos)} extra_infos for {len(solution_strs)} solutions")
    res = sync_client(**kwargs).score([question_of(x) for x in infos], [str(s) for s in solution_strs])
    return as_verl(res)
