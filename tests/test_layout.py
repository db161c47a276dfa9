"""The package layout as a specification: one folder per stage, no import circle (module or package level,
imports inside functions included), no private name used outside its module, no references to documents
that are not in the repository."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "cskit"
STAGES = ("rollouts", "pairs", "rm", "rl", "bon", "ablations", "report")
SHARED = ("problems", "sandbox", "models")


def _modules() -> dict[str, Path]:
    out = {}
    for f in PKG.rglob("*.py"):
        name = ".".join(f.relative_to(ROOT).with_suffix("").parts)
        out[name[:-9] if name.endswith(".__init__") else name] = f
    return out


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, None
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                yield node.module, a.name


def _graph():
    mods = _modules()

    def resolve(name):
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name

    graph = {m: set() for m in mods}
    for m, f in mods.items():
        for module, name in _imports(f):
            if not module.startswith("cskit"):
                continue
            for target in ([f"{module}.{name}"] if name else []) + [module]:
                t = resolve(target)
                if t and t != m:
                    graph[m].add(t)
                    p = t.rpartition(".")[0]       # importing a.b.c runs the __init__ of a.b
                    while p not in ("", "cskit"):
                        if not m.startswith(p + ".") and p != m:
                            graph[m].add(p)
                        p = p.rpartition(".")[0]
                    break
    return graph


def _cycles(graph):
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_between_modules():
    assert _cycles(_graph()) == []


def test_no_import_circle_between_packages():
    def top(m):
        parts = m.split(".")
        return ".".join(parts[:2])

    pkg_graph = {}
    for m, targets in _graph().items():
        for t in targets:
            if top(m) != top(t):
                pkg_graph.setdefault(top(m), set()).add(top(t))
    assert _cycles(pkg_graph) == []


def test_every_stage_and_shared_concern_is_one_folder_with_an_init():
    for name in STAGES + SHARED:
        assert (PKG / name / "__init__.py").is_file(), name
        assert not (PKG / f"{name}.py").exists(), name
    top = sorted(p.stem for p in PKG.glob("*.py"))
    assert len(top) <= 16, top   # run machinery and shared text rules only


def test_no_private_name_is_imported_across_modules():
    bad = []
    for m, f in _modules().items():
        for module, name in _imports(f):
            if module.startswith("cskit") and name and name.startswith("_") and not name.startswith("__"):
                bad.append(f"{f.relative_to(ROOT)}: from {module} import {name}")
    assert bad == []


def test_no_reference_to_documents_outside_the_repository():
    pat = re.compile(r"spec §|issue [0-9]|\.\./shared")
    hits = []
    for base in ("cskit", "notebooks", "tools", "params"):
        for f in (ROOT / base).rglob("*"):
            if f.is_file() and f.suffix in (".py", ".ipynb", ".yaml", ".md"):
                for i, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
                    if pat.search(line):
                        hits.append(f"{f.relative_to(ROOT)}:{i}: {line.strip()[:80]}")
    assert hits == []


def test_recipe_sections_cited_exist():
    recipe = (ROOT / "docs" / "recipe.md").read_text()
    sections = set(re.findall(r"^## (.+?)\s*$", recipe, re.M))
    cited = set()
    for f in list(PKG.rglob("*.py")) + list((ROOT / "notebooks").glob("*.ipynb")):
        for m in re.finditer(r'recipe:? \\?"([^"\\]+)\\?"', f.read_text()):
            cited.add(m.group(1))
    assert cited and cited <= sections, cited - sections
