"""HTTP clients of ``cskit serve-rm`` (sync and asyncio), used by the trl and verl adapters and the benchmark.

``RMClient(url, token=None)``: ``url`` is the server's base URL (``http://host:port``); a comma-separated list
of base URLs spreads requests over several servers (round robin; a server that refuses connections is
skipped for that request). ``token``: the bearer token, else ``$CSKIT_RM_TOKEN``. ``score(questions,
responses)`` -> :class:`ScoreResult`; long lists are split into requests of at most ``chunk`` inputs.

Failure behaviour: every request has a connect timeout and a read timeout (``timeout_s``), so a dead,
killed or hung server gives :class:`RMServerError` (naming the URL and the cause) within a bounded time,
never a hang. Connection-level failures (refused, reset, closed mid-response) are retried ``retries`` times
with a short backoff -- scoring is a pure function of its inputs, so a retried request cannot be counted
twice; 4xx answers are not retried (they are the caller's error) and 503 (busy) is retried.

Not guaranteed: ordering between concurrent calls (each call's results are in its own input order);
recovery from a server that keeps failing (the error is raised after the retries).
"""
from __future__ import annotations

import asyncio
import itertools
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

TOKEN_ENV = "CSKIT_RM_TOKEN"
URL_ENV = "CSKIT_RM_URL"


class RMServerError(RuntimeError):
    """The reward server could not be reached, failed, or answered with an error."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass
class ScoreResult:
    rewards: list[float] = field(default_factory=list)
    raw_scores: list[float | None] = field(default_factory=list)
    valid: list[bool] = field(default_factory=list)

    def extend(self, other: "ScoreResult") -> None:
        self.rewards += other.rewards
        self.raw_scores += other.raw_scores
        self.valid += other.valid


def resolve_url(url: str | None) -> str:
    url = url or os.environ.get(URL_ENV, "")
    if not url:
        raise RMServerError(f"no reward server URL: pass url= or set {URL_ENV}")
    return url


def resolve_client_token(token: str | None) -> str | None:
    return token if token else (os.environ.get(TOKEN_ENV, "").strip() or None)


def _result(data: Any, n: int, url: str) -> ScoreResult:
    if not isinstance(data, dict) or not isinstance(data.get("rewards"), list) or len(data["rewards"]) != n:
        raise RMServerError(f"{url}: malformed answer for {n} inputs: {str(data)[:200]}")
    return ScoreResult([float(x) for x in data["rewards"]], list(data.get("raw_scores") or [None] * n),
                       [bool(x) for x in (data.get("valid") or [False] * n)])


class _Base:
    def __init__(self, url: str | None = None, token: str | None = None, *, timeout_s: float = 120.0,
                 connect_timeout_s: float = 5.0, retries: int = 2, backoff_s: float = 0.5, chunk: int = 256):
        self.urls = [u.strip().rstrip("/") for u in resolve_url(url).split(",") if u.strip()]
        self.token = resolve_client_token(token)
        self.timeout_s, self.connect_timeout_s = float(timeout_s), float(connect_timeout_s)
        self.retries, self.backoff_s, self.chunk = int(retries), float(backoff_s), max(1, int(chunk))
        self._rr = itertools.count()
        self._lock = threading.Lock()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _timeout(self):
        import httpx

        return httpx.Timeout(self.timeout_s, connect=self.connect_timeout_s)

    def _order(self) -> list[str]:
        k = next(self._rr) % len(self.urls)
        return self.urls[k:] + self.urls[:k]

    @staticmethod
    def _check(resp, url: str) -> Any:
        if resp.status_code != 200:
            try:
                msg = resp.json().get("error", resp.text)
            except Exception:
                msg = resp.text
            raise RMServerError(f"{url}: HTTP {resp.status_code}: {str(msg)[:500]}", status=resp.status_code)
        try:
            return resp.json()
        except ValueError as e:
            raise RMServerError(f"{url}: the answer is not JSON ({e})") from None

    def _chunks(self, questions: Sequence[str], responses: Sequence[str]):
        questions, responses = [str(q) for q in questions], [str(r) for r in responses]
        if len(questions) != len(responses):
            raise ValueError(f"{len(questions)} questions but {len(responses)} responses")
        for i in range(0, len(responses), self.chunk):
            yield {"questions": questions[i:i + self.chunk], "responses": responses[i:i + self.chunk]}

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_client", None)
        state.pop("_lock", None)
        state["_rr"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._rr = itertools.count()
        self._lock = threading.Lock()


def _retryable(exc: Exception) -> bool:
    import httpx

    if isinstance(exc, RMServerError):
        return exc.status == 503
    return isinstance(exc, (httpx.TransportError,))


def _describe(exc: Exception, url: str) -> str:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return f"{url}: no answer within the timeout ({type(exc).__name__})"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return f"{url}: the server closed the connection mid-request ({type(exc).__name__}: {exc})"
    if isinstance(exc, httpx.ConnectError):
        return f"{url}: cannot connect ({exc}); is `cskit serve-rm` running there?"
    return f"{url}: {type(exc).__name__}: {exc}"


class RMClient(_Base):
    """Blocking client (thread-safe; one connection pool per process, rebuilt after unpickling)."""

    def _http(self):
        import httpx

        if getattr(self, "_client", None) is None:
            with self._lock:
                if getattr(self, "_client", None) is None:
                    self._client = httpx.Client(timeout=self._timeout(), headers=self._headers())
        return self._client

    def post(self, path: str, body: dict) -> Any:
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            for url in self._order():
                try:
                    return self._check(self._http().post(url + path, json=body), url)
                except Exception as e:
                    if not _retryable(e):
                        if isinstance(e, RMServerError):
                            raise
                        raise RMServerError(_describe(e, url)) from e
                    last = RMServerError(_describe(e, url) if not isinstance(e, RMServerError) else str(e))
            if attempt < self.retries:
                time.sleep(self.backoff_s * (attempt + 1))
        raise RMServerError(f"{last} (after {self.retries + 1} attempts)") from last

    def score(self, questions: Sequence[str], responses: Sequence[str]) -> ScoreResult:
        out = ScoreResult()
        for body in self._chunks(questions, responses):
            out.extend(_result(self.post("/score", body), len(body["responses"]), ",".join(self.urls)))
        return out

    def health(self) -> dict:
        url = self.urls[0]
        try:
            return self._check(self._http().get(url + "/health"), url)
        except RMServerError:
            raise
        except Exception as e:
            raise RMServerError(_describe(e, url)) from e

    def close(self) -> None:
        c = getattr(self, "_client", None)
        if c is not None:
            c.close()
            self._client = None


class AsyncRMClient(_Base):
    """asyncio client. One ``httpx.AsyncClient`` per event loop (trl runs async rewards on its own loop)."""

    async def _http(self):
        import httpx

        loop = asyncio.get_running_loop()
        c = getattr(self, "_client", None)
        if c is None or getattr(self, "_client_loop", None) is not loop:
            self._client = httpx.AsyncClient(timeout=self._timeout(), headers=self._headers(),
                                             limits=httpx.Limits(max_connections=256))
            self._client_loop = loop
        return self._client

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_client_loop", None)
        return state

    async def post(self, path: str, body: dict) -> Any:
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            for url in self._order():
                try:
                    client = await self._http()
                    return self._check(await client.post(url + path, json=body), url)
                except Exception as e:
                    if not _retryable(e):
                        if isinstance(e, RMServerError):
                            raise
                        raise RMServerError(_describe(e, url)) from e
                    last = RMServerError(_describe(e, url) if not isinstance(e, RMServerError) else str(e))
            if attempt < self.retries:
                await asyncio.sleep(self.backoff_s * (attempt + 1))
        raise RMServerError(f"{last} (after {self.retries + 1} attempts)") from last

    async def score(self, questions: Sequence[str], responses: Sequence[str]) -> ScoreResult:
        bodies = list(self._chunks(questions, responses))
        answers = await asyncio.gather(*(self.post("/score", b) for b in bodies))
        out = ScoreResult()
        for b, a in zip(bodies, answers):
            out.extend(_result(a, len(b["responses"]), ",".join(self.urls)))
        return out

    async def aclose(self) -> None:
        c = getattr(self, "_client", None)
        if c is not None:
            await c.aclose()
            self._client = None
