"""trl reward functions that call ``cskit serve-rm`` (sync and async), so trainer ranks hold no RM copy.

    from cskit.serve import RemoteCodeScalerReward, AsyncRemoteCodeScalerReward
    reward = AsyncRemoteCodeScalerReward("http://10.0.0.5:8000")     # token from $CSKIT_RM_TOKEN
    GRPOTrainer(model=..., reward_funcs=[reward], ...)

Both are picklable callable classes with trl's reward signature ``(prompts, completions, completion_ids,
**kwargs) -> list[float]`` (trl ships reward functions to spawned processes in async GRPO; stack-notes
§A.1). The async one has ``async def __call__``, which trl 1.16 detects (``is_async_callable``) and runs on
its event-loop thread concurrently with other async rewards. Completions and questions are read exactly as
:class:`cskit.rl.rewards.CodeScalerReward` reads them (the ``question`` column, else the prompt's last user
turn), and the server computes that same reward, so the rewards equal the in-process reward's. Each call
logs ``<name>/valid_rate`` and ``<name>/raw_mean`` through trl's ``log_metric`` like the in-process reward.

Not guaranteed: a server that is down fails the training step with :class:`cskit.serve.RMServerError`
after the client's bounded retries (a missing reward is never silently replaced by a number).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from cskit.serve.client import AsyncRMClient, RMClient, ScoreResult


def reward_inputs(prompts: Sequence[Any] | None, completions: Sequence[Any] | None,
                  kwargs: dict) -> tuple[list[str], list[str]]:
    """(questions, response texts) of a trl reward call, read as ``CodeScalerReward`` reads them."""
    from cskit.prompts import completion_text, prompt_question

    texts = [completion_text(c) for c in (completions or [])]
    q = kwargs.get("question")
    if q is not None:
        if len(q) != len(texts):
            raise ValueError(f"reward: 'question' column has {len(q)} entries for {len(texts)} completions")
        return [str(x) for x in q], texts
    if prompts is None or len(prompts) != len(texts):
        raise ValueError("reward: no 'question' column and no prompts aligned with the completions")
    return [prompt_question(p) for p in prompts], texts


def log_result(kwargs: dict, name: str, res: ScoreResult) -> None:
    log_metric = kwargs.get("log_metric")
    if log_metric is None or not res.valid:
        return
    log_metric(f"{name}/valid_rate", sum(res.valid) / len(res.valid))
    raw = [x for x in res.raw_scores if x is not None and math.isfinite(x)]
    if raw:
        log_metric(f"{name}/raw_mean", sum(raw) / len(raw))


def connect_remote_reward(url: str | None = None, token: str | None = None, *, shaping: str | None = None,
                          name: str = "codescaler", asynchronous: bool = True, **client_kwargs: Any):
    """A remote reward for trl after checking the server (``/health``): it answers, accepts the token and, when
    ``shaping`` is given, serves that shaping (a profile asking for ``softplus`` never silently trains on a
    server started with another). Returns :class:`AsyncRemoteCodeScalerReward` (or the sync one)."""
    info = RMClient(url, token, **client_kwargs).health()
    if shaping is not None and info.get("shaping") != shaping:
        raise ValueError(f"the reward server at {url} serves shaping {info.get('shaping')!r} but "
                         f"{shaping!r} was asked for; restart it with --shaping {shaping} (or --profile)")
    cls = AsyncRemoteCodeScalerReward if asynchronous else RemoteCodeScalerReward
    return cls(url, token, name=name, **client_kwargs)


class RemoteCodeScalerReward:
    """Blocking trl reward over ``cskit serve-rm`` (``url``: base URL or comma-separated list; token from
    ``token`` or ``$CSKIT_RM_TOKEN``; further keywords go to :class:`cskit.serve.RMClient`)."""

    def __init__(self, url: str | None = None, token: str | None = None, *, name: str = "codescaler",
                 **client_kwargs: Any):
        self.__name__ = name
        self.client = RMClient(url, token, **client_kwargs)
        self.last: ScoreResult | None = None

    def __call__(self, prompts=None, completions=None, completion_ids=None, **kwargs) -> list[float]:
        questions, texts = reward_inputs(prompts, completions, kwargs)
        if not texts:
            return []
        res = self.client.score(questions, texts)
        self.last = res
        log_result(kwargs, self.__name__, res)
        return list(res.rewards)

    def __repr__(self) -> str:
        return f"RemoteCodeScalerReward({','.join(self.client.urls)!r})"


class AsyncRemoteCodeScalerReward:
    """The same as :class:`RemoteCodeScalerReward` with ``async def __call__`` (trl runs it concurrently)."""

    def __init__(self, url: str | None = None, token: str | None = None, *, name: str = "codescaler",
                 **client_kwargs: Any):
        self.__name__ = name
        self.client = AsyncRMClient(url, token, **client_kwargs)
        self.last: ScoreResult | None = None

    async def __call__(self, prompts=None, completions=None, completion_ids=None, **kwargs) -> list[float]:
        questions, texts = reward_inputs(prompts, completions, kwargs)
        if not texts:
            return []
        res = await self.client.score(questions, texts)
        self.last = res
        log_result(kwargs, self.__name__, res)
        return list(res.rewards)

    def __repr__(self) -> str:
        return f"AsyncRemoteCodeScalerReward({','.join(self.client.urls)!r})"
