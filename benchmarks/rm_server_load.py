"""Load test of ``cskit serve-rm``: concurrent HTTP clients vs the offline scorer on the same inputs.

Baseline (named ``offline``): :class:`cskit.rl.rewards.CodeScalerReward` over a :class:`cskit.rm.RewardScorer`
in this process, scoring all inputs in one call (the best case for the in-process path: one big batch).
Then a server process with the same RM (or ``--url`` for one already running) gets ``--clients`` concurrent
clients (asyncio + httpx, one connection each) for ``--duration`` seconds; each request carries
``--items`` inputs and a unique ``request_id``. Printed: server throughput (inputs/s) and its ratio to the
offline throughput (goal >= 0.8), p50/p99 request latency, lost requests (sent, never answered), duplicated
answers (a request id answered twice), wrong answers (rewards differing from the offline rewards of the same
inputs by more than 1e-5), and the server's batching counters. ``--out F`` also writes them as JSON.

    python benchmarks/rm_server_load.py                           # tiny RM on CPU, 64 clients, 20 s
    python benchmarks/rm_server_load.py --rm DIR --device cuda --duration 60 --items 8

Both sides run in their own processes on the same machine: on a small CPU box the clients' own work
competes with the server for cores (the ratio is then a lower bound); set OMP_NUM_THREADS equally for both.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def make_inputs(n: int, seed: int = 0, max_code_lines: int = 24) -> tuple[list[str], list[str]]:
    """Questions (16 problems) and responses of varied length (1..max_code_lines code lines), ~3/4 with one
    valid fenced block."""
    import random

    rng = random.Random(seed)
    qs, rs = [], []
    for i in range(n):
        p = i % 16
        qs.append(f"Problem {p}: read n integers from stdin and print their sum modulo {p + 7}. " * (1 + p % 3))
        body = "\n".join(f"    acc = (acc + x * {k}) % {p + 7}" for k in range(rng.randint(1, max(1, max_code_lines))))
        code = f"import sys\nacc = 0\nfor x in map(int, sys.stdin.read().split()):\n{body}\nprint(acc)\n"
        rs.append(f"Here is my solution.\n```python\n{code}```\n" if i % 4 else f"I think the answer is {i}.")
    return qs, rs


def offline_rewards(rm: str, qs, rs, device: str | None, repeats: int):
    from cskit.rl.rewards import CodeScalerReward
    from cskit.serve.engine import reward_scorer_class

    kw = {"device": device} if device else {}
    reward = CodeScalerReward(reward_scorer_class()(rm, **kw), shaping="softplus")
    reward(prompts=None, completions=rs[:4], question=qs[:4])        # load + warm up
    best, out = float("inf"), None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        out = reward(prompts=None, completions=rs, question=qs)
        best = min(best, time.perf_counter() - t0)
    return out, len(rs) / best, best


async def load(url: str, token: str, qs, rs, want, *, clients: int, items: int, duration: float,
               timeout: float) -> dict:
    import httpx

    n = len(rs)
    sent: dict[str, float] = {}
    answered: Counter = Counter()
    latencies: list[float] = []
    wrong = errors = 0
    stop_at = time.monotonic() + duration
    seq = iter(range(10 ** 9))

    async def client(cid: int, http: httpx.AsyncClient):
        nonlocal wrong, errors
        while time.monotonic() < stop_at:
            k = next(seq)
            start = (k * items) % n
            idx = [(start + j) % n for j in range(items)]
            rid = f"{cid}-{k}"
            body = {"questions": [qs[i] for i in idx], "responses": [rs[i] for i in idx], "request_id": rid}
            sent[rid] = time.perf_counter()
            try:
                resp = await http.post(url + "/score", json=body)
                data = resp.json()
            except Exception:
                errors += 1
                continue
            if resp.status_code != 200:
                errors += 1
                continue
            latencies.append(time.perf_counter() - sent[rid])
            answered[data.get("request_id")] += 1
            got = data.get("rewards") or []
            if len(got) != len(idx) or any(abs(g - want[i]) > 1e-5 for g, i in zip(got, idx)):
                wrong += 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=timeout,
                                 limits=limits) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(c, http) for c in range(clients)))
        wall = time.perf_counter() - t0
        health = (await http.get(url + "/health")).json()
    lat = sorted(latencies)

    def pct(p):
        return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 2) if lat else None

    ok = sum(answered.values())
    return {"requests_sent": len(sent), "requests_answered": ok, "errors": errors,
            "lost": len(sent) - sum(1 for r in sent if answered.get(r)) - errors,
            "duplicated": sum(c - 1 for c in answered.values() if c > 1),
            "unknown_ids": sum(c for r, c in answered.items() if r not in sent),
            "wrong": wrong, "wall_s": round(wall, 2), "inputs_per_s": round(ok * items / wall, 2),
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "batcher": health.get("batcher"),
            "server_device": health.get("device")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rm", default="tiny-qwen3", help="RM dir / hub id / tiny name (default tiny-qwen3)")
    ap.add_argument("--url", default=None, help="use this running server instead of starting one")
    ap.add_argument("--token", default=None, help="its token (default $CSKIT_RM_TOKEN)")
    ap.add_argument("--device", default=None, help="device of the offline scorer and the started server")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--items", type=int, default=4, help="inputs per request")
    ap.add_argument("--inputs", type=int, default=256, help="distinct inputs (cycled through)")
    ap.add_argument("--max-code-lines", type=int, default=24, help="longest code of an input, in lines")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    ap.add_argument("--max-wait-ms", type=float, default=5.0)
    ap.add_argument("--max-batch-items", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=2, help="offline passes (best is kept)")
    ap.add_argument("--timeout", type=float, default=120.0, help="per-request client timeout")
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args(argv)

    from cskit.serve import ServerProcess

    qs, rs = make_inputs(args.inputs, max_code_lines=args.max_code_lines)
    want, offline_ips, offline_s = offline_rewards(args.rm, qs, rs, args.device, args.repeats)
    print(f"offline  : {len(rs)} inputs in {offline_s:.2f} s = {offline_ips:.1f} inputs/s "
          "(CodeScalerReward + RewardScorer in-process, one call)", flush=True)
    srv = None
    if args.url:
        url, token = args.url.rstrip("/"), args.token or os.environ.get("CSKIT_RM_TOKEN", "")
    else:
        extra = ["--max-wait-ms", str(args.max_wait_ms), "--max-batch-items", str(args.max_batch_items)]
        if args.device:
            extra += ["--device", args.device]
        srv = ServerProcess(args.rm, args=extra).start()
        url, token = srv.url, srv.token
    try:
        res = asyncio.run(load(url, token, qs, rs, want, clients=args.clients, items=args.items,
                               duration=args.duration, timeout=args.timeout))
    finally:
        if srv is not None:
            srv.stop()
    res.update(offline_inputs_per_s=round(offline_ips, 2), clients=args.clients, items_per_request=args.items,
               ratio_vs_offline=round(res["inputs_per_s"] / offline_ips, 3), rm=args.rm)
    print(f"server   : {res['inputs_per_s']:.1f} inputs/s with {args.clients} clients x {args.items} inputs/request "
          f"= {res['ratio_vs_offline']:.2f}x offline (goal >= 0.8)")
    print(f"latency  : p50 {res['p50_ms']} ms, p99 {res['p99_ms']} ms over {res['requests_answered']} requests")
    print(f"integrity: lost {res['lost']}, duplicated {res['duplicated']}, wrong {res['wrong']}, "
          f"errors {res['errors']} (goal 0)")
    b = res.get("batcher") or {}
    print(f"batching : {b.get('batches')} batches, {b.get('mean_jobs_per_batch')} requests/batch on average, "
          f"largest {b.get('max_items_in_batch')} inputs")
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
