"""Reward-function files for verl and OpenRLHF that call ``cskit serve-rm`` (pass this file's path).

Path of this file: ``python -c 'import cskit.serve.framework_rewards as m; print(m.__file__)'`` (= ``$F`` below).
URL: the ``rm_url`` keyword or ``$CSKIT_RM_URL`` (base URL; comma-separated for several servers); token: the
``rm_token`` keyword or ``$CSKIT_RM_TOKEN``. Both frameworks get exactly the server's CodeScaler reward.

**verl** (``custom_reward_function.path=$F``)::

    python -m verl.trainer.main_ppo ... custom_reward_function.path=$F custom_reward_function.name=compute_score \\
        +custom_reward_function.reward_kwargs.rm_url=http://10.0.0.5:8000

* ``compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs)`` -- one sample (the
  naive reward manager, and the Reward Loop, which runs sync functions in an executor); the server's dynamic
  batching merges the concurrent one-sample requests into forward batches;
* ``compute_score_async(...)`` -- the same, ``async`` (the Reward Loop awaits it directly);
* ``compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos, **kwargs)`` -- the ``batch``
  reward manager (``reward_model.reward_manager=batch custom_reward_function.name=compute_score_batch``).

They return verl's dict form ``{"score": reward, "rm_raw": raw RM score or NaN, "valid": 0/1}`` (verl takes
``score`` as the reward and logs the rest). The RM needs the problem statement: the dataset's ``extra_info``
must carry it as ``question`` (or ``question_content`` / ``problem``); ``solution_str`` is the decoded
response; ``ground_truth`` is not used (the CodeScaler reward needs no tests).

**OpenRLHF** (``--remote_rm_url $F``): OpenRLHF loads the file and calls :func:`reward_func` (queries,
prompts, labels) in its reward workers; it posts them to the server's ``/get_reward`` with the token in a
header and returns OpenRLHF's dict ``{"rewards", "scores", "extra_logs"}`` (float tensors; ``scores`` = the
rewards, for dynamic filtering; ``extra_logs["codescaler_nonzero_rate"]`` = the share of non-zero rewards,
which under the paper's gated softplus is the share of responses with valid code). The alternative without
this file is ``--remote_rm_url "http://RM_HOST:8000/get_reward?token=$CSKIT_RM_TOKEN"`` (OpenRLHF's own HTTP
client sends no headers, hence the token in the URL; the server keeps no access log). Either way pass
``--label_key question`` so the RM sees the raw problem statement; without labels the server uses the
decoded prompt text as the question.

Not guaranteed: a verl sample without a question raises ``ValueError`` (rather than scoring an empty
question); an OpenRLHF query must start with its decoded prompt (see
:func:`cskit.serve.engine.split_openrlhf_query`); an unreachable server raises
:class:`cskit.serve.RMServerError` after the client's bounded retries.
"""
from __future__ import annotations

import math
import threading
from typing import Any, Sequence

from cskit.serve.client import AsyncRMClient, RMClient, RMServerError, ScoreResult

QUESTION_KEYS = ("question", "question_content", "problem")
_LOCK = threading.Lock()
_SYNC: dict[tuple, RMClient] = {}
_ASYNC: dict[tuple, AsyncRMClient] = {}


def _key(kwargs: dict) -> tuple:
    return (kwargs.get("rm_url"), kwargs.get("rm_token"), float(kwargs.get("rm_timeout_s", 600.0)))


def sync_client(**kwargs) -> RMClient:
    """One blocking client per (url, token, timeout) and process (thread-safe, connection-pooled)."""
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


# --- verl ----------------------------------------------------------------------------------------------------


def question_of(extra_info: Any) -> str:
    if isinstance(extra_info, dict):
        for k in QUESTION_KEYS:
            v = extra_info.get(k)
            if isinstance(v, str) and v.strip():
                return v
    raise ValueError(f"cskit verl reward: extra_info needs the problem statement under one of {QUESTION_KEYS} "
                     f"(got {sorted(extra_info) if isinstance(extra_info, dict) else type(extra_info).__name__})")


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


# --- OpenRLHF ------------------------------------------------------------------------------------------------


def get_rewards(queries: Sequence[str], prompts: Sequence[str] | None = None, labels: Sequence[Any] | None = None,
                *, chunk: int = 256, **kwargs) -> list[float]:
    """The server's ``/get_reward`` rewards for OpenRLHF-style inputs (requests of at most ``chunk`` queries)."""
    c = sync_client(**kwargs)
    queries = [str(q) for q in queries]
    out: list[float] = []
    for i in range(0, len(queries), chunk):
        body: dict[str, Any] = {"query": queries[i:i + chunk]}
        if prompts is not None:
            body["prompts"] = [str(p) for p in prompts[i:i + chunk]]
        if labels is not None:
            body["labels"] = [x if isinstance(x, (str, dict)) else None for x in labels[i:i + chunk]]
        data = c.post("/get_reward", body)
        got = data.get("rewards") if isinstance(data, dict) else None
        if not isinstance(got, list) or len(got) != len(body["query"]):
            raise RMServerError(f"malformed /get_reward answer for {len(body['query'])} queries: {str(data)[:200]}")
        out += [float(x) for x in got]
    return out


def reward_func(queries, prompts=None, labels=None, **kwargs) -> dict:
    """OpenRLHF's reward-function contract: ``{"rewards", "scores", "extra_logs"}`` as float tensors."""
    import torch

    opts = {k: kwargs[k] for k in ("rm_url", "rm_token", "rm_timeout_s") if k in kwargs}
    rewards = torch.tensor(get_rewards(queries, prompts, labels, **opts), dtype=torch.float32)
    nonzero = (rewards != 0).float().mean()
    return {"rewards": rewards, "scores": rewards.clone(), "extra_logs": {"codescaler_nonzero_rate": nonzero}}
