"""Run the stage notebooks in order with papermill: ``cskit run --profile demo``.

``notebooks/NN_<stage>.ipynb`` are executed into ``outputs/<run>/notebooks/`` with the parameters
``profile``, ``run_dir`` and ``overrides``, rendered to HTML in ``outputs/<run>/html/``, and recorded in
``outputs/<run>/manifest.json`` (resolved params, package versions, git commit, hardware, per-stage
times and status). The pipeline stops at the first failing stage and names the notebook and cell;
running it again resumes: completed stages are skipped (their executed notebooks exist and the
manifest says so) and the stage functions themselves resume from their partial outputs.
An executed notebook is written under a temporary name and renamed only when the stage succeeded
(a failed one is kept as ``NN_<stage>.FAILED.ipynb`` for inspection).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from cskit.config import OUTPUTS_DIR, REPO_ROOT, ConfigError, load_config
from cskit.io import read_json, write_json, write_text
from cskit.runinfo import environment_info, now_iso

NOTEBOOKS_DIR = Path(os.environ.get("CSKIT_NOTEBOOKS_DIR", REPO_ROOT / "notebooks"))


class StageFailed(RuntimeError):
    """A stage notebook raised; the message names the notebook, the cell and the error."""


@dataclass(frozen=True)
class Stage:
    name: str  # e.g. "01_rollouts"
    path: Path

    @property
    def number(self) -> str:
        return self.name.split("_", 1)[0]


def discover_stages(notebooks_dir: Path | None = None) -> list[Stage]:
    d = Path(notebooks_dir or NOTEBOOKS_DIR)
    out = [Stage(p.stem, p) for p in sorted(d.glob("[0-9][0-9]_*.ipynb"))]
    if not out:
        raise FileNotFoundError(f"no stage notebooks (NN_<stage>.ipynb) in {d}")
    return out


def select_stages(stages: Sequence[Stage], spec: str | Sequence[str] | None) -> list[Stage]:
    """``"01,02"`` or ``"01-03"`` or names; None = all."""
    if not spec:
        return list(stages)
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    wanted: list[str] = []
    for item in (s.strip() for s in items if s.strip()):
        if "-" in item and item.replace("-", "").isdigit():
            lo, hi = item.split("-")
            wanted += [s.number for s in stages if int(lo) <= int(s.number) <= int(hi)]
        else:
            wanted.append(item)
    chosen = [s for s in stages if s.number in wanted or s.name in wanted]
    unknown = [w for w in wanted if not any(w in (s.number, s.name) for s in stages)]
    if unknown:
        raise ConfigError(f"unknown stage(s) {unknown}; available: {[s.name for s in stages]}")
    return chosen


def _failure_message(stage: Stage, out_nb: Path, err: Exception) -> str:
    import nbformat

    cell_info = ""
    try:
        nb = nbformat.read(out_nb, as_version=4)
        inserted = {"injected-parameters", "papermill-error-cell-tag"}
        original = [c for c in nb.cells if not inserted & set(c.metadata.get("tags", []))]
        for i, cell in enumerate(original):  # i = the cell's index in the source notebook
            if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
                cell_info = f" in cell {i + 1} (counting from 1; execution count {cell.get('execution_count')}): `{first[:80]}`"
                break
    except Exception:  # the notebook may not exist if the kernel never started
        pass
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", str(err))
    return (f"stage {stage.name} failed{cell_info} of {stage.path.name}: {ename}: {evalue}\n"
            f"executed copy: {out_nb}")


def render_html(nb_path: Path, html_path: Path, *, exclude_input: bool = False) -> Path:
    """The executed notebook as HTML; ``exclude_input=True`` drops code cells (what a reader of results wants)."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=exclude_input, exclude_input_prompt=exclude_input,
                            exclude_output_prompt=exclude_input)
    body, _ = exporter.from_notebook_node(nbformat.read(nb_path, as_version=4))
    return write_text(html_path, body)


def run_pipeline(profile: str = "demo", run: str | None = None, stages: str | Sequence[str] | None = None,
                 overrides: Mapping[str, Any] | None = None, *, html: bool = True, restart: bool = False,
                 cell_timeout: int | None = None, notebooks_dir: Path | None = None,
                 outputs_dir: Path | None = None, log: Callable[[str], None] = print) -> dict:
    """Execute the selected stages; returns the manifest. Raises ``StageFailed`` on the first failure."""
    import papermill as pm

    overrides = dict(overrides or {})
    cfg = load_config(profile, overrides)  # validate before starting any kernel
    run_name = run or cfg.profile
    root = Path(outputs_dir or OUTPUTS_DIR) / run_name
    nb_dir, html_dir = root / "notebooks", root / "html"
    for d in (nb_dir, html_dir):
        d.mkdir(parents=True, exist_ok=True)
    manifest_path = root / "manifest.json"
    manifest: dict[str, Any] = read_json(manifest_path) if manifest_path.exists() and not restart else {}
    if manifest and manifest.get("params") != cfg.to_dict():
        changed = sorted(k for k in cfg.keys() if manifest.get("params", {}).get(k) != getattr(cfg, k))
        raise ConfigError(f"run '{run_name}' exists with different parameters ({', '.join(changed)}); "
                          "use another --run name or --restart")
    manifest.setdefault("run", run_name)
    manifest.setdefault("created", now_iso())
    manifest.update(profile=cfg.profile, overrides=overrides, params=cfg.to_dict(), run_dir=str(root))
    manifest["environment"] = environment_info()
    manifest.setdefault("stages", {})
    write_json(manifest_path, manifest)

    env = {"OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
           "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    for k, v in env.items():
        os.environ.setdefault(k, v)

    selected = select_stages(discover_stages(notebooks_dir), stages)
    for stage in selected:
        out_nb = nb_dir / f"{stage.name}.ipynb"
        entry = manifest["stages"].get(stage.name, {})
        if entry.get("status") == "completed" and out_nb.exists() and not restart:
            log(f"[cskit] {stage.name}: already completed, skipped ({entry.get('duration_s', 0):.0f} s before)")
            continue
        tmp_nb = nb_dir / f".{stage.name}.running.ipynb"
        failed_nb = nb_dir / f"{stage.name}.FAILED.ipynb"
        failed_nb.unlink(missing_ok=True)
        log(f"[cskit] {stage.name}: running {stage.path.name} ...")
        t0 = time.time()
        entry = {"status": "running", "started": now_iso(), "notebook": str(out_nb)}
        manifest["stages"][stage.name] = entry
        write_json(manifest_path, manifest)
        try:
            pm.execute_notebook(str(stage.path), str(tmp_nb),
                                parameters={"profile": profile, "run_dir": str(root), "overrides": overrides},
                                kernel_name="python3", cwd=str(stage.path.parent), progress_bar=False,
                                execution_timeout=cell_timeout, log_output=False)
        except Exception as err:  # PapermillExecutionError, DeadKernelError, timeouts
            if tmp_nb.exists():
                os.replace(tmp_nb, failed_nb)
            msg = _failure_message(stage, failed_nb, err)
            entry.update(status="failed", finished=now_iso(), duration_s=round(time.time() - t0, 1), error=msg)
            write_json(manifest_path, manifest)
            if html and failed_nb.exists():
                render_html(failed_nb, html_dir / f"{stage.name}.FAILED.html")
            raise StageFailed(msg) from None
        os.replace(tmp_nb, out_nb)
        if html:
            render_html(out_nb, html_dir / f"{stage.name}.html")
            # the shareable version: the same figures and tables, no code cells
            render_html(out_nb, html_dir / f"{stage.name}.results.html", exclude_input=True)
            entry["html"] = str(html_dir / f"{stage.name}.html")
        entry.update(status="completed", finished=now_iso(), duration_s=round(time.time() - t0, 1))
        write_json(manifest_path, manifest)
        log(f"[cskit] {stage.name}: done in {entry['duration_s']:.0f} s")
    manifest["finished"] = now_iso()
    manifest["environment"] = environment_info()
    write_json(manifest_path, manifest)
    return manifest
