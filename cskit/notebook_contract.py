"""The contract every stage notebook keeps, checked instead of comparing notebooks with a generator.

Notebooks in ``notebooks/`` are the source: researchers edit them in JupyterLab (add markdown notes, code
cells, change plots) and rerun them with ``cskit run``. What must hold (:func:`contract_problems`):

* exactly one code cell tagged ``parameters``, defining ``profile``, ``run_dir`` and ``overrides``;
* no outputs and no execution counts committed (``python tools/notebooks.py --fix`` strips them);
* no function or class definitions: logic lives in ``cskit`` and is imported (at least one ``cskit`` import);
* every code cell parses as Python (IPython ``%``/``!`` lines allowed).

Cell ids, cell metadata and the nbformat minor version are free (JupyterLab writes its own).
"""
from __future__ import annotations

import ast
from pathlib import Path

PARAMETERS = ("profile", "run_dir", "overrides")

__all__ = ["PARAMETERS", "contract_problems", "strip_outputs"]


def _python(source: str) -> str:
    """Cell source with IPython magics / shell lines blanked (line numbers kept)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def contract_problems(path: str | Path) -> list[str]:
    """Every way the notebook at ``path`` breaks the contract (empty list: it keeps it)."""
    import nbformat

    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as e:  # unreadable JSON / not a notebook
        return [f"{path}: not a readable notebook ({type(e).__name__}: {e})"]
    problems: list[str] = []
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    params = [(i, c) for i, c in code if "parameters" in (c.metadata.get("tags") or [])]
    if len(params) != 1:
        problems.append(f"{path}: {len(params)} code cells tagged 'parameters' (expected exactly 1)")
    imports_cskit = False
    for i, c in code:
        where = f"{path}: cell {i}"
        if c.get("outputs"):
            problems.append(f"{where}: committed with outputs (run python tools/notebooks.py --fix)")
        if c.get("execution_count") is not None:
            problems.append(f"{where}: committed with an execution count (run python tools/notebooks.py --fix)")
        try:
            tree = ast.parse(_python(c.source))
        except SyntaxError as e:
            problems.append(f"{where}: line {e.lineno}: does not parse ({e.msg})")
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                problems.append(f"{where}: line {node.lineno}: defines {node.name!r}; put logic in cskit and "
                                "import it")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "cskit":
                imports_cskit = True
            elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "cskit" for a in node.names):
                imports_cskit = True
    if len(params) == 1:
        try:
            tree = ast.parse(_python(params[0][1].source))
            names = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                     if isinstance(t, ast.Name)}
        except SyntaxError:
            names = set()
        missing = [p for p in PARAMETERS if p not in names]
        if missing:
            problems.append(f"{path}: the parameters cell does not define {missing}")
    if not imports_cskit:
        problems.append(f"{path}: imports nothing from cskit (the logic must come from the package)")
    return problems


def strip_outputs(path: str | Path) -> bool:
    """Remove outputs and execution counts in place; True if the file changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    changed = False
    for c in nb.cells:
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None):
            c.outputs, c.execution_count, changed = [], None, True
    if changed:
        nbformat.write(nb, path)
    return changed
