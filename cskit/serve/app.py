"""The HTTP layer of ``cskit serve-rm``: a FastAPI app with three endpoints over a :class:`DynamicBatcher`.

Endpoints (JSON in, JSON out):

* ``POST /score`` (native): ``{"questions": [str], "responses": [str], "request_id": str?}`` ->
  ``{"rewards": [float], "raw_scores": [float | null], "valid": [bool], "request_id": ...}``. ``responses``
  are whole model responses (the server extracts the code); ``raw_scores`` is null where the RM did not
  score the response (invalid code under a gated shaping).
* ``POST /get_reward`` (OpenRLHF's ``serve_rm.py`` shape): ``{"query": [str], "prompts": [str]?,
  "labels": [...]?}`` -> ``{"rewards": [float]}``; see :func:`cskit.serve.engine.split_openrlhf_query`.
* ``GET /health`` -> status, the RM and shaping served, batcher counters.

Checks, in this order, before anything reaches the model: the bearer token (``Authorization: Bearer T``;
``/get_reward`` also takes ``?token=T`` because OpenRLHF's client sends no headers) -> 401; the declared and
the actual body size (``max_body_bytes``) -> 413; JSON syntax -> 400; field types, lengths and the
per-request item cap (``max_request_items``) and per-text cap (``max_text_chars``) -> 422 naming the field.
A full queue -> 503 with ``Retry-After``. Errors are ``{"error": message, "field": name | null}``.

Not guaranteed: TLS (put a TLS proxy in front, or keep it on loopback/a private network); protection
against a client holding many slow connections open (uvicorn's own limits apply); the ``?token=`` form
puts the token in the URL (keep access logs off, as the CLI does).
"""
# no `from __future__ import annotations`: FastAPI must see the real `Request` class in the handlers
import hmac
import json
import time
from typing import Any

from cskit.serve.batcher import BatcherFull, BatcherStopped, DynamicBatcher
from cskit.serve.engine import split_openrlhf_query

DEFAULT_LIMITS = {"max_request_items": 512, "max_body_bytes": 16 << 20, "max_text_chars": 200_000}


class RequestError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def _str_list(body: dict, name: str, *, required: bool, max_items: int, max_chars: int) -> list[str] | None:
    if name not in body or body[name] is None:
        if required:
            raise RequestError(422, f"field '{name}' is required (a list of strings)", name)
        return None
    val = body[name]
    if not isinstance(val, list):
        raise RequestError(422, f"field '{name}' must be a list of strings, got {type(val).__name__}", name)
    if len(val) > max_items:
        raise RequestError(413, f"field '{name}' has {len(val)} items; the server accepts at most {max_items} "
                                "per request (split the request)", name)
    for i, x in enumerate(val):
        if not isinstance(x, str):
            raise RequestError(422, f"field '{name}[{i}]' must be a string, got {type(x).__name__}", f"{name}[{i}]")
        if len(x) > max_chars:
            raise RequestError(413, f"field '{name}[{i}]' has {len(x)} characters; at most {max_chars}",
                               f"{name}[{i}]")
    return val


def parse_score_request(body: Any, limits: dict) -> tuple[list[str], list[str], Any]:
    """(questions, responses, request_id) of a ``/score`` body, or :class:`RequestError`."""
    if not isinstance(body, dict):
        raise RequestError(422, "the body must be a JSON object with fields 'questions' and 'responses'")
    unknown = sorted(set(body) - {"questions", "responses", "request_id"})
    if unknown:
        raise RequestError(422, f"unknown field(s) {unknown}; expected questions, responses, request_id", unknown[0])
    kw = dict(max_items=limits["max_request_items"], max_chars=limits["max_text_chars"])
    questions = _str_list(body, "questions", required=True, **kw)
    responses = _str_list(body, "responses", required=True, **kw)
    if len(questions) != len(responses):
        raise RequestError(422, f"field 'responses' has {len(responses)} items but 'questions' has "
                                f"{len(questions)}; they must be aligned", "responses")
    rid = body.get("request_id")
    if rid is not None and not isinstance(rid, (str, int)):
        raise RequestError(422, "field 'request_id' must be a string or an integer", "request_id")
    return questions, responses, rid


def parse_get_reward_request(body: Any, limits: dict, specials) -> tuple[list[str], list[str]]:
    """(questions, responses) of an OpenRLHF ``/get_reward`` body, or :class:`RequestError`."""
    if not isinstance(body, dict):
        raise RequestError(422, "the body must be a JSON object with a field 'query'")
    kw = dict(max_items=limits["max_request_items"], max_chars=limits["max_text_chars"])
    queries = _str_list(body, "query", required=True, **kw)
    prompts = _str_list(body, "prompts", required=False, **kw)
    labels = body.get("labels")
    if prompts is not None and len(prompts) != len(queries):
        raise RequestError(422, f"field 'prompts' has {len(prompts)} items for {len(queries)} queries", "prompts")
    if labels is not None:
        if not isinstance(labels, list) or len(labels) != len(queries):
            raise RequestError(422, "field 'labels' must be a list aligned with 'query'", "labels")
        for i, x in enumerate(labels):
            if isinstance(x, str) and len(x) > limits["max_text_chars"]:
                raise RequestError(413, f"field 'labels[{i}]' is too long", f"labels[{i}]")
    pairs = [split_openrlhf_query(q, prompts[i] if prompts is not None else None,
                                  labels[i] if labels is not None else None, specials)
             for i, q in enumerate(queries)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def token_ok(expected: str, header: str | None, query_token: str | None) -> bool:
    got = None
    if header and header[:7].lower() == "bearer ":
        got = header[7:].strip()
    elif query_token:
        got = query_token
    return got is not None and hmac.compare_digest(got.encode(), expected.encode())


def build_app(batcher: DynamicBatcher, token: str, *, info=None, specials=(), limits: dict | None = None):
    """The FastAPI app. ``token``: the bearer token every request must carry (non-empty); ``info``: a dict
    or a callable returning one, shown by ``/health``; ``specials``: token strings stripped from OpenRLHF
    queries; ``limits``: overrides of :data:`DEFAULT_LIMITS`."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    if not token:
        raise ValueError("build_app: an empty token would let anyone in")
    lim = dict(DEFAULT_LIMITS, **(limits or {}))
    lim["max_request_items"] = min(lim["max_request_items"], batcher.max_batch_items)
    started = time.time()
    app = FastAPI(title="cskit serve-rm", docs_url=None, redoc_url=None, openapi_url=None)

    def err(status: int, message: str, field: str | None = None, headers=None):
        return JSONResponse({"error": message, "field": field}, status_code=status, headers=headers)

    async def read_json(request: Request, allow_query_token: bool = False):
        qt = request.query_params.get("token") if allow_query_token else None
        if not token_ok(token, request.headers.get("authorization"), qt):
            raise RequestError(401, "missing or wrong bearer token (header 'Authorization: Bearer <token>')")
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                declared_n = int(declared)
            except ValueError:
                raise RequestError(400, "invalid Content-Length header") from None
            if declared_n > lim["max_body_bytes"]:
                raise RequestError(413, f"body of {declared_n} bytes exceeds max_body_bytes={lim['max_body_bytes']}")
        chunks, total = [], 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > lim["max_body_bytes"]:
                raise RequestError(413, f"body exceeds max_body_bytes={lim['max_body_bytes']}")
            chunks.append(chunk)
        try:
            return json.loads(b"".join(chunks))
        except (ValueError, UnicodeDecodeError) as e:
            raise RequestError(400, f"the body is not valid JSON ({e})") from None

    async def run_batch(questions: list[str], responses: list[str]):
        try:
            return await batcher.run(questions, responses)
        except BatcherFull as e:
            raise RequestError(503, f"server busy: {e}") from None
        except BatcherStopped as e:
            raise RequestError(503, str(e)) from None

    @app.exception_handler(RequestError)
    async def _request_error(request: Request, exc: RequestError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else (
            {"Retry-After": "1"} if exc.status == 503 else None)
        return err(exc.status, exc.message, exc.field, headers)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):
        return err(500, f"reward computation failed: {type(exc).__name__}: {exc}")

    @app.get("/health")
    async def health(request: Request):
        if not token_ok(token, request.headers.get("authorization"), None):
            raise RequestError(401, "missing or wrong bearer token (header 'Authorization: Bearer <token>')")
        return {"status": "ok" if batcher.running else "stopping", "uptime_s": round(time.time() - started, 1),
                "pending": batcher.pending(), "batcher": batcher.stats.as_dict(), "limits": lim,
                "max_wait_ms": batcher.max_wait_s * 1000.0, "max_batch_items": batcher.max_batch_items,
                **((info() if callable(info) else info) or {})}

    @app.post("/score")
    async def score(request: Request):
        body = await read_json(request)
        questions, responses, rid = parse_score_request(body, lim)
        res = await run_batch(questions, responses)
        return JSONResponse({"rewards": res.rewards, "raw_scores": res.raw_scores, "valid": res.valid,
                             "request_id": rid})

    @app.post("/get_reward")
    async def get_reward(request: Request):
        body = await read_json(request, allow_query_token=True)
        questions, responses = parse_get_reward_request(body, lim, specials)
        res = await run_batch(questions, responses)
        return JSONResponse({"rewards": res.rewards})

    return app
