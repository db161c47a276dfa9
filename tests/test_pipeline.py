"""The papermill pipeline with real kernels: order, manifest, HTML, failure naming the cell, resume."""
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cskit.config import ConfigError
from cskit.pipeline import StageFailed, discover_stages, run_pipeline, select_stages

ROOT = Path(__file__).resolve().parent.parent


def _nb(path: Path, body: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell('profile = "smoke"\nrun_dir = ""\noverrides = {}',
                                          metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)


@pytest.fixture
def nbdir(tmp_path):
    d = tmp_path / "nbs"
    d.mkdir()
    counter = tmp_path / "count.txt"
    _nb(d / "01_first.ipynb", f"from pathlib import Path\nfrom cskit.config import load_config\n"
        f"cfg = load_config(profile, overrides)\n"
        f"Path(run_dir, 'first.txt').write_text(str(cfg.rollout_n))\n"
        f"p = Path({str(counter)!r}); p.write_text(str(int(p.read_text()) + 1 if p.exists() else 1))")
    _nb(d / "02_second.ipynb", "from pathlib import Path\nimport os\n"
        "flag = Path(run_dir, 'fail_once')\n"
        "if not flag.exists():\n    flag.write_text('x')\n    raise RuntimeError('boom in stage two')\n"
        "Path(run_dir, 'second.txt').write_text('ok')")
    return d


def test_discover_and_select():
    stages = discover_stages(ROOT / "notebooks")
    names = [s.name for s in stages]
    assert names == sorted(names) and names[0] == "01_rollouts"
    assert [s.name for s in select_stages(stages, "01")] == ["01_rollouts"]
    with pytest.raises(ConfigError, match="unknown stage"):
        select_stages(stages, "99")


def test_failure_names_notebook_and_cell_then_resume(nbdir, tmp_path):
    out = tmp_path / "outputs"
    with pytest.raises(StageFailed) as e:
        run_pipeline("smoke", run="r1", overrides={"rollout_n": 3}, notebooks_dir=nbdir, outputs_dir=out,
                     log=lambda m: None)
    msg = str(e.value)
    assert "02_second" in msg and "cell 2" in msg and "boom in stage two" in msg
    root = out / "r1"
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["stages"]["01_first"]["status"] == "completed"
    assert manifest["stages"]["02_second"]["status"] == "failed"
    assert (root / "first.txt").read_text() == "3"  # the override reached the kernel
    assert (root / "notebooks" / "02_second.FAILED.ipynb").exists()
    assert not (root / "notebooks" / "02_second.ipynb").exists()  # never looks complete
    assert (root / "html" / "01_first.html").stat().st_size > 1000
    # resume: stage 01 is skipped, stage 02 now succeeds
    manifest = run_pipeline("smoke", run="r1", overrides={"rollout_n": 3}, notebooks_dir=nbdir, outputs_dir=out,
                            log=lambda m: None)
    assert (tmp_path / "count.txt").read_text() == "1"
    assert manifest["stages"]["02_second"]["status"] == "completed"
    assert (root / "second.txt").read_text() == "ok"
    assert not (root / "notebooks" / "02_second.FAILED.ipynb").exists()
    for key in ("params", "environment", "created", "finished"):
        assert key in manifest
    assert manifest["environment"]["versions"]["papermill"]
    assert "commit" in manifest["environment"]["git"]
    # changing parameters of an existing run is refused
    with pytest.raises(ConfigError, match="different parameters"):
        run_pipeline("smoke", run="r1", overrides={"rollout_n": 5}, notebooks_dir=nbdir, outputs_dir=out,
                     log=lambda m: None)


def test_bad_override_fails_before_any_kernel(nbdir, tmp_path):
    with pytest.raises(ConfigError, match="rolout_n"):
        run_pipeline("smoke", run="r2", overrides={"rolout_n": 3}, notebooks_dir=nbdir,
                     outputs_dir=tmp_path / "o", log=lambda m: None)
    assert not (tmp_path / "o" / "r2").exists()


def test_committed_notebooks_keep_the_contract():
    from cskit.notebook_contract import contract_problems

    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(paths) == 7
    for path in paths:
        assert contract_problems(path) == [], path
        import papermill as pm

        assert set(pm.inspect_notebook(str(path))) == {"profile", "run_dir", "overrides"}, path


def _edit_as_jupyterlab(src: Path, dst: Path) -> None:
    """What a researcher does in JupyterLab: a markdown note and a code cell added after the parameters,
    saved the way Lab saves (nbformat 4.5, random cell ids, Lab's own metadata)."""
    import uuid

    nb = nbformat.read(src, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])) + 2
    md = nbformat.v4.new_markdown_cell("## My note\nChecking the pass rate by kind before moving on.")
    code = nbformat.v4.new_code_cell("import collections\nnote = collections.Counter(['a', 'b', 'a'])\nnote")
    for c in (md, code):
        c["id"] = uuid.uuid4().hex[:8]
        c.metadata["jp-MarkdownHeadingCollapsed"] = False
    code.metadata["trusted"] = True
    nb.cells[at:at] = [md, code]
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7", "file_extension": ".py"}
    nbformat.write(nb, dst)


def test_a_notebook_edited_in_jupyterlab_keeps_the_contract(tmp_path):
    from cskit.notebook_contract import contract_problems, strip_outputs

    dst = tmp_path / "01_rollouts.ipynb"
    _edit_as_jupyterlab(ROOT / "notebooks" / "01_rollouts.ipynb", dst)
    assert contract_problems(dst) == []
    # what the contract refuses, with the cell named
    nb = nbformat.read(dst, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("def helper(x):\n    return x"))
    nb.cells[-2].outputs = [nbformat.v4.new_output("stream", text="hi")] if nb.cells[-2].cell_type == "code" else []
    nbformat.write(nb, dst)
    problems = contract_problems(dst)
    assert any("defines 'helper'" in p for p in problems)
    strip_outputs(dst)
    assert not any("outputs" in p for p in contract_problems(dst))


@pytest.mark.slow
def test_cskit_run_executes_an_edited_notebook(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _edit_as_jupyterlab(ROOT / "notebooks" / "01_rollouts.ipynb", nbs / "01_rollouts.ipynb")
    manifest = run_pipeline("smoke", run="edited", notebooks_dir=nbs, outputs_dir=tmp_path / "o", html=False,
                            overrides={"max_train_problems": 2, "rollout_n": 2})
    assert manifest["stages"]["01_rollouts"]["status"] == "completed"
    executed = nbformat.read(tmp_path / "o" / "edited" / "notebooks" / "01_rollouts.ipynb", as_version=4)
    outs = [c for c in executed.cells if c.cell_type == "code" and "Counter" in c.source][0].outputs
    assert "Counter({'a': 2, 'b': 1})" in str(outs)


def test_cli_reports_a_bad_key_without_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "cskit.cli", "run", "--profile", "smoke", "--run", "x",
                        "-p", "rolout_n=2"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert r.returncode == 1 and "did you mean 'rollout_n'" in r.stderr and "Traceback" not in r.stderr
