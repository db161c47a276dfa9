"""``cskit serve-rm``: serve the CodeScaler reward over HTTP (one RM copy for many trainer processes).

    cskit serve-rm --rm PATH_OR_HUB_ID [--host 127.0.0.1] [--port 8000] [--token-file F] [--profile P]
                   [--shaping S] [--max-length N] [--batch-size N] [--max-batch-items N] [--max-wait-ms MS]

Also ``python -m cskit.serve.cli ...``. The bearer token comes from ``--token-file`` (first line) or the
environment variable ``CSKIT_RM_TOKEN``; the server refuses to start without one. It binds to loopback
unless ``--host`` says otherwise. ``--profile`` supplies the defaults of the shaping (``rl_shaping``), the
RM's token cap (``rm_max_length``), its forward batch (``rm_score_batch_size``) and the device; flags win.
The model is loaded and warmed up before the port opens; ``--ready-file`` then receives
``{"url", "host", "port", "pid"}`` (``--port 0`` picks a free port). SIGINT/SIGTERM stop it: requests in
flight finish, queued ones get 503.

Not guaranteed: see :mod:`cskit.serve.app` (no TLS) and :mod:`cskit.serve.batcher` (no latency bound under
overload). One process serves one model on one device; run one server per GPU and list their URLs in the
clients for more throughput.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
from pathlib import Path

TOKEN_ENV = "CSKIT_RM_TOKEN"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="cskit serve-rm", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rm", required=True, help="reward model: a directory, hub id or tiny-model name")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    ap.add_argument("--port", type=int, default=8000, help="port (0 = any free port; see --ready-file)")
    ap.add_argument("--token-file", default=None, help=f"file holding the bearer token (else ${TOKEN_ENV})")
    ap.add_argument("--profile", default=None, help="profile supplying shaping / rm_max_length / device defaults")
    ap.add_argument("--shaping", default=None, help="reward shaping (default: the profile's rl_shaping, softplus)")
    ap.add_argument("--max-length", type=int, default=None, help="RM token cap (default: rm_max_length)")
    ap.add_argument("--batch-size", type=int, default=None, help="sequences per RM forward pass "
                                                                  "(default: rm_score_batch_size)")
    ap.add_argument("--device", default=None, help="auto | cpu | cuda | cuda:N (default: the profile's device)")
    ap.add_argument("--dtype", default=None, help="auto | bfloat16 | float32 (default auto: bf16 on GPU)")
    ap.add_argument("--seed", type=int, default=None, help="seed of a missing score head (untrained RM)")
    ap.add_argument("--max-batch-items", type=int, default=512, help="most inputs per dynamic batch")
    ap.add_argument("--max-wait-ms", type=float, default=5.0, help="how long a batch waits for more requests")
    ap.add_argument("--max-pending", type=int, default=4096, help="queued requests before answering 503")
    ap.add_argument("--max-request-items", type=int, default=512, help="most inputs in one request")
    ap.add_argument("--max-body-mb", type=float, default=16.0, help="largest request body")
    ap.add_argument("--max-text-chars", type=int, default=200_000, help="longest question/response")
    ap.add_argument("--ready-file", default=None, help="write {url, host, port, pid} here once listening")
    ap.add_argument("--log-level", default="warning")
    return ap


def resolve_token(token_file: str | None) -> str:
    """The bearer token from the file (first non-empty line) or $CSKIT_RM_TOKEN; SystemExit if none."""
    if token_file:
        lines = [x.strip() for x in Path(token_file).read_text().splitlines() if x.strip()]
        if not lines:
            raise SystemExit(f"cskit serve-rm: token file {token_file} is empty")
        return lines[0]
    tok = os.environ.get(TOKEN_ENV, "").strip()
    if not tok:
        raise SystemExit(f"cskit serve-rm: no token; pass --token-file F or set {TOKEN_ENV} "
                         "(e.g. export CSKIT_RM_TOKEN=$(python -c 'import secrets; print(secrets.token_hex(16))'))")
    return tok


def engine_settings(args: argparse.Namespace) -> dict:
    """Shaping and scorer settings: flags, else the profile, else the defaults."""
    shaping, max_length, batch_size, device, seed = "softplus", 4096, 16, None, None
    if args.profile:
        from cskit.config import load_config

        cfg = load_config(args.profile)
        shaping, max_length, batch_size = cfg.rl_shaping, cfg.rm_max_length, cfg.rm_score_batch_size
        device, seed = cfg.device, cfg.seed
    return dict(shaping=args.shaping or shaping,
                max_length=args.max_length if args.max_length is not None else max_length,
                batch_size=args.batch_size if args.batch_size is not None else batch_size,
                device=args.device or device, dtype=args.dtype,
                seed=args.seed if args.seed is not None else seed)


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def write_ready(path: str, info: dict) -> None:
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(info))
    os.replace(tmp, p)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from cskit.serve.app import build_app
    from cskit.serve.batcher import DynamicBatcher
    from cskit.serve.engine import RewardEngine

    token = resolve_token(args.token_file)
    if args.host not in LOOPBACK:
        print(f"cskit serve-rm: binding to {args.host} (not loopback): anyone who can reach it and holds the "
              "token can use the RM; there is no TLS", file=sys.stderr)
    settings = engine_settings(args)
    engine = RewardEngine(args.rm, **settings)
    engine.warmup()
    batcher = DynamicBatcher(engine.compute, max_batch_items=args.max_batch_items, max_wait_ms=args.max_wait_ms,
                             max_pending=args.max_pending).start()
    limits = {"max_request_items": args.max_request_items, "max_body_bytes": int(args.max_body_mb * (1 << 20)),
              "max_text_chars": args.max_text_chars}
    info = engine.info()
    app = build_app(batcher, token, info=engine.info, specials=engine.special_tokens(), limits=limits)
    sock = bind_socket(args.host, args.port)
    host, port = sock.getsockname()[:2]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    config = uvicorn.Config(app, log_level=args.log_level, access_log=False, timeout_keep_alive=30,
                            timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    if args.ready_file:
        write_ready(args.ready_file, {"url": url, "host": host, "port": port, "pid": os.getpid()})
    print(f"cskit serve-rm: {info['rm']} (shaping {info['shaping']}, {info.get('device', '?')}) on {url}",
          file=sys.stderr, flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        batcher.stop()
        sock.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING))
    return serve(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
