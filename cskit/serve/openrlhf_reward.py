"""An OpenRLHF reward-function file calling ``cskit serve-rm`` (``--remote_rm_url /path/to/this/file.py``).

OpenRLHF reaches a CodeScaler server in one of two ways:

1. ``--remote_rm_url "http://RM_HOST:8000/get_reward?token=$CSKIT_RM_TOKEN"``: OpenRLHF's own HTTP client
   posts ``{"query", "prompts", "labels"}`` to the server's ``/get_reward`` (it sends no headers, hence the
   token in the URL; the server keeps no access log);
2. ``--remote_rm_url $(python -c 'import cskit.serve.openrlhf_reward as m; print(m.__file__)')``: OpenRLHF
   loads this file and calls :func:`reward_func` in its reward workers; the token travels in a header
   (``$CSKIT_RM_TOKEN``) and the URL comes from ``$CSKIT_RM_URL`` (base URL, comma-separated for several
   servers). Same request, same server-side split of query/prompt, same rewards as way 1.

Either way pass ``--label_key question`` (a dataset column with the raw problem statement) so the RM sees the
question it was trained on; without labels the server uses the decoded prompt text as the question.

:func:`reward_func` returns OpenRLHF's dict: ``rewards`` (the CodeScaler reward, for the advantages),
``scores`` (the same values, for dynamic filtering) and ``extra_logs`` (``codescaler_nonzero_rate``: the share
of non-zero rewards, which under the paper's gated softplus is the share of responses with valid code).

Not guaranteed: the query/prompt split assumes OpenRLHF's decoded query starts with its decoded prompt
(see :func:`cskit.serve.engine.split_openrlhf_query`); an unreachable server raises after bounded retries.
"""
from __future__ import annotations

import threading
from typing import Any, Sequence

from cskit.serve.client import RMClient, RMServerError

_LOCK = threading.Lock()
_CLIENTS: dict[tuple, RMClient] = {}


def client(url: str | None = None, token: str | None = None, timeout_s: float = 600.0) -> RMClient:
    key = (url, token, float(timeout_s))
    with _LOCK:
        if key not in _CLIENTS:
            _CLIENTS[key] = RMClient(url, token, timeout_s=timeout_s)
        return _CLIENTS[key]


def get_rewards(queries: Sequence[str], prompts: Sequence[str] | None = None, labels: Sequence[Any] | None = None,
                *, url: str | None = None, token: str | None = None, chunk: int = 256) -> list[float]:
    """The server's ``/get_reward`` rewards for OpenRLHF-style inputs (split into requests of ``chunk``)."""
    c = client(url, token)
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

    rewards = torch.tensor(get_rewards(queries, prompts, labels), dtype=torch.float32)
    nonzero = (rewards != 0).float().mean()
    return {"rewards": rewards, "scores": rewards.clone(), "extra_logs": {"codescaler_nonzero_rate": nonzero}}
