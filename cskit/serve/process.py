"""Run ``cskit serve-rm`` as a child process (tests, benchmarks, notebooks): start, wait until ready, stop.

    with ServerProcess("tiny-qwen3", token="...") as srv:      # free loopback port
        RMClient(srv.url, srv.token).score(questions, responses)

The token travels in the child's environment (``CSKIT_RM_TOKEN``), never on its command line. ``start``
waits for the server's ready file (written once the model is loaded and the socket listens) and fails with
the child's stderr tail if the child exits first or ``startup_timeout_s`` passes.

Not guaranteed: cleanup if the parent is SIGKILLed (the child then keeps running until killed; it is in
its own process group, ``os.killpg(srv.pid, ...)``).
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence


class ServerProcess:
    def __init__(self, rm: str, *, token: str | None = None, host: str = "127.0.0.1", port: int = 0,
                 args: Sequence[str] = (), env: dict | None = None, startup_timeout_s: float = 180.0):
        self.rm, self.host, self.port = str(rm), host, int(port)
        self.token = token or secrets.token_hex(16)
        self.args, self.extra_env = list(args), dict(env or {})
        self.startup_timeout_s = float(startup_timeout_s)
        self.proc: subprocess.Popen | None = None
        self.url: str | None = None
        self._dir: tempfile.TemporaryDirectory | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> "ServerProcess":
        self._dir = tempfile.TemporaryDirectory(prefix="cskit-serve-")
        ready = Path(self._dir.name) / "ready.json"
        self._stderr = open(Path(self._dir.name) / "stderr.log", "w+b")
        env = dict(os.environ, **self.extra_env)
        env["CSKIT_RM_TOKEN"] = self.token
        env.setdefault("OMP_NUM_THREADS", "1")
        cmd = [sys.executable, "-m", "cskit.serve.cli", "--rm", self.rm, "--host", self.host, "--port", str(self.port),
               "--ready-file", str(ready), *self.args]
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=self._stderr,
                                     start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if ready.exists():
                info = json.loads(ready.read_text())
                self.url, self.port = info["url"], int(info["port"])
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"cskit serve-rm exited with code {self.proc.returncode}:\n{self.stderr_tail()}")
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"cskit serve-rm not ready within {self.startup_timeout_s:.0f} s:\n{self.stderr_tail()}")

    def stderr_tail(self, n: int = 4000) -> str:
        try:
            self._stderr.flush()
            self._stderr.seek(0)
            return self._stderr.read().decode("utf-8", "replace")[-n:]
        except Exception:
            return ""

    def kill(self) -> None:
        """SIGKILL the server (no graceful shutdown): what a crash looks like to its clients."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._dir is not None:
            self._stderr.close()
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> "ServerProcess":
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.stop()
