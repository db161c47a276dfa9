"""Run manifests: resolved params, package versions, git commit and hardware, written beside outputs.

``environment_info()`` never imports torch itself; it reports torch/CUDA only when torch is already
imported (or cheaply importable) so that light CLI commands stay light.
"""
from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

from cskit.io import read_json, write_json
from cskit.config import Config

PACKAGES = ("cskit", "torch", "transformers", "trl", "datasets", "accelerate", "peft", "tokenizers",
            "numpy", "pandas", "papermill", "vllm")


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str | None]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(repo: str | Path | None = None) -> dict[str, Any]:
    repo = Path(repo or Path(__file__).resolve().parent.parent)
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                             timeout=5).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                                    capture_output=True, text=True, timeout=5).stdout.strip())
        return {"commit": sha or None, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def cpu_model() -> str:
    """The CPU model name (wall-clock limits and speeds depend on it)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu": cpu_model(), "cores": os.cpu_count(), "machine": platform.machine(),
        "platform": platform.platform(), "python": sys.version.split()[0],
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    try:
        import resource

        info["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    except Exception:  # pragma: no cover
        pass
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        else:
            info["gpus"] = []
    return info


def environment_info() -> dict[str, Any]:
    return {"time": now_iso(), "versions": package_versions(), "git": git_commit(), "hardware": hardware_info()}


def write_stage_results(run, stage: str, cfg: Config, metrics: Mapping[str, Any],
                        **extra: Any) -> Path:
    """Write ``results/<stage>.json``: the stage's numbers plus the manifest (params, versions, commit, hw)."""
    payload = {"stage": stage, "metrics": dict(metrics), **extra,
               "manifest": {"params": cfg.to_dict(), **environment_info()}}
    return write_json(Path(run.results) / f"{stage}.json", payload)


def read_stage_results(run, stage: str) -> dict[str, Any] | None:
    p = Path(run.results) / f"{stage}.json"
    return read_json(p) if p.exists() else None


def is_main_process() -> bool:
    """True on the main process of an accelerate/torchrun launch (and outside any launch)."""
    try:
        from accelerate import PartialState

        return PartialState().is_main_process
    except Exception:  # pragma: no cover - accelerate missing or not initialisable
        return True


def report_to(cfg) -> list[str] | str:
    """The profile's ``report_to`` as trl/transformers take it: "none" or a list of logger names
    (tensorboard, trackio, wandb -- with WANDB_MODE=offline where there is no network)."""
    names = [x.strip() for x in str(cfg.report_to).split(",") if x.strip() and x.strip() != "none"]
    return names or "none"
