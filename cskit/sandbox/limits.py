"""Resource limits of one sandboxed run, and how they map onto kernel rlimits.

``SandboxLimits`` is the single knob object of :mod:`cskit.sandbox`; the defaults follow the
LiveCodeBench runner CodeScaler used (2 s per test, 1 GiB memory). The rlimits are kernel limits
(not Python monkey-patching) on every process that runs candidate code or the test driver: address
space, core size, file size and open files are set in the sample's zygote (inherited by each run's
fork), CPU time and the process cap in each run right after it moves to its private uid.
"""
from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, replace
from typing import Any

# A problem's ``time_limit`` equal to this means "not given" (the Problem record's default; the sandbox
# takes any object with the record's attributes and imports no stage or problem module).
PROBLEM_DEFAULT_TIME_LIMIT = 2.0
ISOLATIONS = ("auto", "bwrap", "unshare", "none")
ENV_ISOLATION = "CSKIT_SANDBOX_ISOLATION"          # force bwrap|unshare|none
ENV_ALLOW_UNISOLATED = "CSKIT_SANDBOX_ALLOW_UNISOLATED"  # "1": auto may fall back to "none"
ENV_PIN = "CSKIT_SANDBOX_PIN"                      # "0"/"1": override SandboxLimits.pin_workers=None


@dataclass(frozen=True)
class SandboxLimits:
    """Per-test limits. ``timeout_s`` is wall clock per test, counted from the moment the candidate
    starts (sandbox start-up is not charged); ``RLIMIT_CPU`` is ``ceil(timeout_s) + 1`` seconds.
    A problem's own ``time_limit`` (when not the default) replaces it, unless ``use_problem_time_limit``
    is False.

    ``isolation``: ``auto`` (bwrap, else unshare, else refuse unless ``allow_unisolated``),
    or force one of ``bwrap``/``unshare``/``none``; the env var ``CSKIT_SANDBOX_ISOLATION``
    overrides ``auto``. ``skip_after_timeout``: once a test of a sample times out, its remaining
    tests are marked ``skipped`` (counted failed) instead of run, bounding a sample's time.

    ``pin_workers``: each sandbox of a batch (its supervisor, zygotes, driver and every run) on one CPU
    of its own, so that the many short hand-offs between those processes stay on one CPU (cross-CPU
    wake-ups are what a fork per test mostly waits on, in VMs above all). ``None`` (the default) pins
    when a local batch has one worker per CPU this process may use (and more than one); ``True`` pins
    round-robin over those CPUs, ``False`` never. ``CSKIT_SANDBOX_PIN=0|1`` overrides ``None``.
    """

    timeout_s: float = 2.0
    memory_mb: int = 1024            # RLIMIT_AS
    max_processes: int = 32          # RLIMIT_NPROC of the sandbox's private uid (threads count)
    max_output_bytes: int = 8 << 20  # stdout cap; exceeding it -> verdict output_limit
    max_file_bytes: int = 16 << 20   # RLIMIT_FSIZE
    tmpfs_mb: int = 64               # size of the sandbox's private /tmp (bwrap/unshare)
    max_open_files: int = 256        # RLIMIT_NOFILE
    isolation: str = "auto"
    allow_unisolated: bool = False
    skip_after_timeout: bool = True
    use_problem_time_limit: bool = True  # per-test timeout = problem.time_limit when it is set
    startup_timeout_s: float = 20.0      # a sandbox that never starts the candidate is an error
    backend: str = "local"               # where batches run: "local" (threads here) or "ray" (Ray tasks)
    ray_address: str = ""                # backend "ray": the cluster ('' = $RAY_ADDRESS, else a local Ray)
    ray_resource: str = ""               # backend "ray": a custom resource grading tasks need ('' = any CPU)
    pin_workers: bool | None = None      # one CPU per sandbox worker (None: when workers == usable CPUs > 1)

    def __post_init__(self):
        if self.backend not in ("local", "ray"):
            raise ValueError(f"SandboxLimits.backend={self.backend!r}; expected 'local' or 'ray'")
        if self.isolation not in ISOLATIONS:
            raise ValueError(f"SandboxLimits.isolation={self.isolation!r}; expected one of {ISOLATIONS}")
        if self.timeout_s <= 0 or self.memory_mb <= 0:
            raise ValueError("SandboxLimits: timeout_s and memory_mb must be positive")

    def for_problem(self, time_limit: float | None) -> "SandboxLimits":
        """These limits with the problem's own time limit when it set one: a ``time_limit`` other than
        ``Problem``'s default (2.0, which means "not given") replaces ``timeout_s``."""
        if (self.use_problem_time_limit and time_limit and time_limit > 0
                and time_limit != PROBLEM_DEFAULT_TIME_LIMIT and time_limit != self.timeout_s):
            return replace(self, timeout_s=float(time_limit))
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_config(cls, cfg: Any) -> "SandboxLimits":
        """The limits a run's config asks for (``test_timeout`` seconds per test, ``memory_mb``, and where
        batches run: ``sandbox_backend``, ``sandbox_ray_address``, ``sandbox_ray_resource``)."""
        return cls(timeout_s=float(cfg.test_timeout), memory_mb=int(cfg.memory_mb),
                   backend=str(getattr(cfg, "sandbox_backend", "local")),
                   ray_address=str(getattr(cfg, "sandbox_ray_address", "")),
                   ray_resource=str(getattr(cfg, "sandbox_ray_resource", "")))


def rlimits(limits: SandboxLimits) -> dict[str, tuple[int, int]]:
    """``{resource name: (soft, hard)}`` the harness sets on itself before running the candidate."""
    cpu = int(math.ceil(limits.timeout_s)) + 1
    mem = int(limits.memory_mb) << 20
    return {
        "RLIMIT_AS": (mem, mem),
        "RLIMIT_CPU": (cpu, cpu + 1),
        "RLIMIT_FSIZE": (int(limits.max_file_bytes), int(limits.max_file_bytes)),
        "RLIMIT_NPROC": (int(limits.max_processes), int(limits.max_processes)),
        "RLIMIT_NOFILE": (int(limits.max_open_files), int(limits.max_open_files)),
        "RLIMIT_CORE": (0, 0),
    }


def env_isolation() -> str | None:
    v = os.environ.get(ENV_ISOLATION, "").strip().lower()
    if not v or v == "auto":
        return None
    if v not in ISOLATIONS:
        raise ValueError(f"{ENV_ISOLATION}={v!r}; expected one of bwrap, unshare, none, auto")
    return v


def env_pin() -> bool | None:
    v = os.environ.get(ENV_PIN, "").strip().lower()
    if not v:
        return None
    if v not in ("0", "1", "true", "false", "yes", "no"):
        raise ValueError(f"{ENV_PIN}={v!r}; expected 0 or 1")
    return v in ("1", "true", "yes")


def env_allows_unisolated() -> bool:
    return os.environ.get(ENV_ALLOW_UNISOLATED, "").strip().lower() in ("1", "true", "yes")
