"""cskit serve-rm: a real server process on 127.0.0.1 (random free port), real HTTP clients.

Rewards equal the offline CodeScalerReward's to 1e-5 (native /score, OpenRLHF /get_reward, trl sync/async
rewards, verl compute_score); auth; malformed bodies never reach the model; concurrent requests are each
answered once with their own rewards; a killed or hung server gives the client a clear error, not a hang.
"""
from __future__ import annotations

import asyncio
import importlib.util
import pickle
import signal
import threading

import httpx
import numpy as np
import pytest

from cskit.serve import (AsyncRemoteCodeScalerReward, AsyncRMClient, RemoteCodeScalerReward, RMClient,
                         RMServerError, ServerProcess)

pytestmark = pytest.mark.slow  # starts model-serving processes (~10 s each)

CAPS = ["--max-request-items", "64", "--max-body-mb", "1", "--max-text-chars", "50000", "--max-wait-ms", "5"]


def responses_and_questions(n: int = 24, tag: str = ""):
    qs, rs = [], []
    for i in range(n):
        q = f"Problem {i % 5}{tag}: read two integers and print their sum plus {i % 5}."
        kind = i % 4
        if kind == 0:
            r = f"Here:\n```python\na, b = map(int, input().split())\nprint(a + b + {i})\n```\n"
        elif kind == 1:
            r = "no code at all, only words " * (i + 1)
        elif kind == 2:
            r = f"```python\ndef f(:\n    return {i}\n```"              # does not parse: invalid
        else:
            r = f"```python\nx = {i}\n```\nand\n```python\nprint(x)\n```"  # two blocks: invalid (strict)
            if i % 8 == 3:
                r = f"```python\nprint({i} * {i})\n" + "# pad\n" * i + "```"
        qs.append(q)
        rs.append(r)
    return qs, rs


@pytest.fixture(scope="module")
def rm_dir():
    from cskit.models import resolve_model

    return resolve_model("tiny-qwen3", "seqcls")


@pytest.fixture(scope="module")
def offline(rm_dir):
    from cskit.rl.rewards import CodeScalerReward
    from cskit.rm import RewardScorer

    return CodeScalerReward(RewardScorer(rm_dir), shaping="softplus")


@pytest.fixture(scope="module")
def server(rm_dir):
    with ServerProcess(rm_dir, args=CAPS) as srv:
        yield srv


def offline_rewards(offline, qs, rs):
    rewards = offline(prompts=None, completions=rs, question=qs)
    return np.array(rewards), list(offline.last_raw)


def health(server) -> dict:
    return httpx.get(server.url + "/health", headers={"Authorization": f"Bearer {server.token}"}, timeout=10).json()


def test_score_equals_offline_reward_under_concurrency(server, offline):
    qs, rs = responses_and_questions(32)
    want, want_raw = offline_rewards(offline, qs, rs)
    client = RMClient(server.url, server.token, chunk=4)      # 8 requests per call
    results: dict[int, object] = {}

    def call(k):
        results[k] = client.score(qs, rs)

    threads = [threading.Thread(target=call, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 3
    for res in results.values():
        np.testing.assert_allclose(res.rewards, want, rtol=0, atol=1e-5)
        for got, exp in zip(res.raw_scores, want_raw):
            assert (got is None) == (exp is None)
            if exp is not None:
                assert abs(got - exp) < 1e-5
        assert res.valid == [x is not None for x in want_raw]   # softplus is gated: scored <=> valid
    assert sum(res.valid) > 0 and not all(res.valid)
    h = health(server)
    assert h["batcher"]["max_jobs_in_batch"] > 1                # requests were merged into shared batches
    assert h["shaping"] == "softplus"


def test_get_reward_openrlhf_shape(server, offline):
    qs, rs = responses_and_questions(6, tag=" (openrlhf)")
    prompts = [f"<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n" for q in qs]
    queries = ["<|pad|>" + p + r + "<|endoftext|>" for p, r in zip(prompts, rs)]
    url = f"{server.url}/get_reward?token={server.token}"     # OpenRLHF's client sends no headers
    resp = httpx.post(url, json={"query": queries, "prompts": prompts, "labels": qs}, timeout=60)
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"rewards"} and len(body["rewards"]) == len(qs)
    want, _ = offline_rewards(offline, qs, rs)
    np.testing.assert_allclose(body["rewards"], want, rtol=0, atol=1e-5)


def test_openrlhf_reward_func_file(server, offline, monkeypatch):
    import cskit.serve.framework_rewards as mod

    spec = importlib.util.spec_from_file_location("reward_func_module", mod.__file__)  # OpenRLHF loads the file
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    monkeypatch.setenv("CSKIT_RM_URL", server.url)
    monkeypatch.setenv("CSKIT_RM_TOKEN", server.token)
    qs, rs = responses_and_questions(5, tag=" (openrlhf file)")
    prompts = [f"<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n" for q in qs]
    out = m.reward_func([p + r for p, r in zip(prompts, rs)], prompts, qs)
    want, _ = offline_rewards(offline, qs, rs)
    np.testing.assert_allclose(out["rewards"].numpy(), want, rtol=0, atol=1e-5)
    assert out["scores"].shape == out["rewards"].shape and "codescaler_nonzero_rate" in out["extra_logs"]


def test_auth_required_everywhere(server):
    body = {"questions": ["q"], "responses": ["r"]}
    assert httpx.post(server.url + "/score", json=body, timeout=10).status_code == 401
    r = httpx.post(server.url + "/score", json=body, headers={"Authorization": "Bearer wrong"}, timeout=10)
    assert r.status_code == 401 and "token" in r.json()["error"] and r.headers["www-authenticate"] == "Bearer"
    assert httpx.post(f"{server.url}/score?token={server.token}", json=body, timeout=10).status_code == 401
    assert httpx.post(server.url + "/get_reward", json={"query": ["x"]}, timeout=10).status_code == 401
    assert httpx.get(server.url + "/health", timeout=10).status_code == 401
    with pytest.raises(RMServerError, match="401"):
        RMClient(server.url, "not-the-token", retries=0).score(["q"], ["r"])


def test_malformed_requests_get_4xx_naming_the_field_and_never_reach_the_model(server):
    h = {"Authorization": f"Bearer {server.token}"}
    before = health(server)["batcher"]["items"]
    cases = [
        (b"{not json", 400, None),
        (b"[1, 2]", 422, None),
        (b'{"questions": ["q"]}', 422, "responses"),
        (b'{"questions": "q", "responses": ["r"]}', 422, "questions"),
        (b'{"questions": ["q", "q"], "responses": ["r", 7]}', 422, "responses[1]"),
        (b'{"questions": ["q"], "responses": ["r", "s"]}', 422, "responses"),
        (b'{"questions": ["q"], "responses": ["r"], "temperature": 1}', 422, "temperature"),
        (b'{"questions": ["q"], "responses": ["r"], "request_id": [1]}', 422, "request_id"),
    ]
    for raw, status, field in cases:
        r = httpx.post(server.url + "/score", content=raw, headers=h, timeout=10)
        assert r.status_code == status, (raw, r.text)
        assert r.json()["field"] == field, (raw, r.text)
    many = {"questions": ["q"] * 65, "responses": ["r"] * 65}          # over --max-request-items 64
    r = httpx.post(server.url + "/score", json=many, headers=h, timeout=10)
    assert r.status_code == 413 and r.json()["field"] == "questions"
    long = {"questions": ["q"], "responses": ["x" * 50_001]}           # over --max-text-chars
    r = httpx.post(server.url + "/score", json=long, headers=h, timeout=10)
    assert r.status_code == 413 and r.json()["field"] == "responses[0]"
    huge = {"questions": ["q"] * 30, "responses": ["y" * 40_000] * 30}  # 1.2 MB > --max-body-mb 1
    r = httpx.post(server.url + "/score", json=huge, headers=h, timeout=10)
    assert r.status_code == 413 and "max_body_bytes" in r.json()["error"]
    r = httpx.post(server.url + "/get_reward", json={"query": ["a"], "prompts": ["p", "q"]}, headers=h, timeout=10)
    assert r.status_code == 422 and r.json()["field"] == "prompts"
    assert health(server)["batcher"]["items"] == before             # nothing reached the model
    assert httpx.post(server.url + "/score", json={"questions": [], "responses": []}, headers=h,
                      timeout=10).json()["rewards"] == []


def test_many_concurrent_requests_each_answered_once_with_its_own_rewards(server, offline):
    qs, rs = responses_and_questions(32, tag=" (load)")
    want, _ = offline_rewards(offline, qs, rs)

    async def main():
        client = httpx.AsyncClient(headers={"Authorization": f"Bearer {server.token}"}, timeout=60)
        async def one(i):
            body = {"questions": [qs[i]], "responses": [rs[i]], "request_id": f"req-{i}"}
            return (await client.post(server.url + "/score", json=body)).json()
        try:
            return await asyncio.gather(*(one(i % 32) for i in range(128)))
        finally:
            await client.aclose()

    answers = asyncio.run(main())
    assert [a["request_id"] for a in answers] == [f"req-{i % 32}" for i in range(128)]
    for i, a in enumerate(answers):
        assert len(a["rewards"]) == 1 and abs(a["rewards"][0] - want[i % 32]) < 1e-5


def test_trl_rewards_sync_async_pickled(server, offline):
    from trl.trainer.utils import is_async_callable

    qs, rs = responses_and_questions(8, tag=" (trl)")
    prompts = [[{"role": "user", "content": q}] for q in qs]
    completions = [[{"role": "assistant", "content": r}] for r in rs]
    want = np.array(offline(prompts=prompts, completions=completions, question=qs))
    logged = {}
    sync = pickle.loads(pickle.dumps(RemoteCodeScalerReward(server.url, server.token)))
    got = sync(prompts=prompts, completions=completions, completion_ids=None, question=qs,
               log_metric=lambda k, v: logged.__setitem__(k, v))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    assert "codescaler/valid_rate" in logged and sync.__name__ == "codescaler"
    areward = pickle.loads(pickle.dumps(AsyncRemoteCodeScalerReward(server.url, server.token)))
    assert is_async_callable(areward) and not is_async_callable(sync)
    got = asyncio.run(areward(prompts=prompts, completions=completions))   # question from the prompt's user turn
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    res = asyncio.run(AsyncRMClient(server.url, server.token, chunk=3).score(qs, rs))
    np.testing.assert_allclose(res.rewards, want, rtol=0, atol=1e-5)
    from cskit.serve import connect_remote_reward

    r = connect_remote_reward(server.url, server.token, shaping="softplus", asynchronous=False)
    np.testing.assert_allclose(r(prompts=prompts, completions=completions, question=qs), want, rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="serves shaping 'softplus' but 'sigmoid'"):
        connect_remote_reward(server.url, server.token, shaping="sigmoid")


def test_verl_compute_score_module_by_path(server, offline):
    import cskit.serve.framework_rewards as mod

    spec = importlib.util.spec_from_file_location("custom_module", mod.__file__)   # what verl does with .path
    verl = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(verl)
    qs, rs = responses_and_questions(4, tag=" (verl)")
    want, want_raw = offline_rewards(offline, qs, rs)
    kw = dict(rm_url=server.url, rm_token=server.token)
    for q, r, w in zip(qs, rs, want):
        out = verl.compute_score("codescaler", r, None, {"question": q, "index": 0}, **kw)
        assert abs(out["score"] - w) < 1e-5 and set(out) == {"score", "rm_raw", "valid"}
    outs = verl.compute_score_batch(["x"] * 4, rs, [None] * 4, [{"question": q} for q in qs], **kw)
    np.testing.assert_allclose([o["score"] for o in outs], want, rtol=0, atol=1e-5)
    out = asyncio.run(verl.compute_score_async("x", rs[0], None, {"question": qs[0]}, **kw))
    assert abs(out["score"] - want[0]) < 1e-5
    with pytest.raises(ValueError, match="extra_info needs the problem statement"):
        verl.compute_score("x", rs[0], None, {}, **kw)


def test_killed_or_hung_server_gives_a_clear_error_not_a_hang(rm_dir):
    srv = ServerProcess(rm_dir).start()
    try:
        client = RMClient(srv.url, srv.token, timeout_s=3, connect_timeout_s=2, retries=0)
        assert len(client.score(["q"], ["```python\nprint(1)\n```"]).rewards) == 1
        srv.proc.send_signal(signal.SIGSTOP)                       # hung: accepted by the kernel, never answered
        with pytest.raises(RMServerError, match="no answer within the timeout"):
            client.score(["q"], ["r"])
        errors: list[BaseException] = []

        def call():
            try:
                RMClient(srv.url, srv.token, timeout_s=60, connect_timeout_s=2, retries=1,
                         backoff_s=0.1).score(["q"] * 8, ["r"] * 8)
            except BaseException as e:  # noqa: BLE001 - the test inspects it
                errors.append(e)

        t = threading.Thread(target=call)
        t.start()
        t.join(1.0)                                                # the request is now in flight
        assert t.is_alive()
        srv.kill()                                                 # killed mid-request
        t.join(30)
        assert not t.is_alive(), "the client hung after the server died"
        assert len(errors) == 1 and isinstance(errors[0], RMServerError)
        msg = str(errors[0])
        assert srv.url in msg and ("closed the connection" in msg or "cannot connect" in msg)
    finally:
        srv.stop()


def test_token_is_required_to_start(tmp_path, monkeypatch):
    from cskit.serve.cli import resolve_token

    monkeypatch.delenv("CSKIT_RM_TOKEN", raising=False)
    with pytest.raises(SystemExit, match="no token"):
        resolve_token(None)
    (tmp_path / "tok").write_text("\n  s3cret \n")
    assert resolve_token(str(tmp_path / "tok")) == "s3cret"
    monkeypatch.setenv("CSKIT_RM_TOKEN", "envtok")
    assert resolve_token(None) == "envtok"
