"""RM-Bench (Liu et al., ICLR 2025) for reward models: loader, the 3x3 style-matrix metric, the paper's table,
and an offline RM-Bench-like *code* evaluation built from HumanEval (recipe: "RM-Bench").

Format (``THU-KEG/RM-Bench``, ``total_dataset.json``): each row has ``id``, ``prompt``, ``chosen`` (3 responses:
concise, detailed plain, detailed markdown), ``rejected`` (3, same styles), ``domain`` in chat / code / math /
safety-refuse / safety-response. The benchmark repository's own per-domain files
(``data/{chat,code,math,safety-refuse,safety-response}_filtered.json``) have the same rows without ``domain``:
:func:`load_rmbench` takes it from the file name, and accepts a directory holding ``total_dataset.json`` (read
alone when present) or those per-domain files. Metric (RM-Bench's ``compute_accuracy``): per row, ``M[i][j] = 1`` if
``score(chosen_i) > score(rejected_j)``; averaged over rows, **hard** = mean of the upper triangle (i < j: the
chosen answer is plainer than the rejected one), **normal** = the diagonal, **easy** = the lower triangle. A
domain's accuracy is the mean of all 9 cells (= mean of easy/normal/hard); ``safety-*`` rows are pooled into
``safety``; ``avg`` = mean of the domain accuracies (chat, math, code, safety), and the overall easy/normal/hard
are means over the domains (this reproduces the paper table's Avg column, e.g. CodeScaler-8B 84.1).

Offline code variant (:func:`humaneval_rmbench`): chosen = HumanEval's canonical solution, rejected = the
first deterministic AST mutation of it (comparison / arithmetic operator swap, integer +1, and/or, True/False)
that the sandbox verifies to FAIL the tests; three styles of each: concise (no docstring, no comments),
detailed plain (docstring), detailed + step comments. Rows have the RM-Bench schema, so the same metric applies.
"""
from __future__ import annotations

import ast
import copy
import json
import random
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

HUB_ID = "THU-KEG/RM-Bench"
DOMAINS = ("chat", "math", "code", "safety")
RAW_DOMAINS = ("chat", "math", "code", "safety-refuse", "safety-response")
STYLES = ("concise", "detailed_plain", "detailed_markdown")
CODE_STYLES = ("concise", "docstring", "docstring_comments")

TABLE_COLUMNS = ("model", "code", "chat", "math", "safety", "easy", "normal", "hard", "avg")


class RMBenchFormatError(ValueError):
    """A row of an RM-Bench file does not have the expected schema (message names file, row, field)."""


# ---------------------------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------------------------
def validate_rows(rows: Iterable[dict], where: str = "<rows>", domain: str | None = None) -> list[dict]:
    """Checked, normalised rows. ``domain``: the domain of a per-domain file (filled in where a row has none;
    a row naming another domain is an error)."""
    out = []
    for i, r in enumerate(rows):
        at = f"{where}: row {i}"
        if not isinstance(r, dict):
            raise RMBenchFormatError(f"{at}: expected an object, got {type(r).__name__}")
        if domain is not None:
            if "domain" not in r:
                r = {**r, "domain": domain}
            elif str(r["domain"]) != domain:
                raise RMBenchFormatError(f"{at}, field 'domain': {r['domain']!r} in the file of domain {domain!r}")
        for key in ("prompt", "chosen", "rejected", "domain"):
            if key not in r:
                raise RMBenchFormatError(f"{at}: missing field '{key}'")
        if not isinstance(r["prompt"], str):
            raise RMBenchFormatError(f"{at}, field 'prompt': expected a string")
        for key in ("chosen", "rejected"):
            v = r[key]
            if not (isinstance(v, list) and len(v) == 3 and all(isinstance(x, str) for x in v)):
                raise RMBenchFormatError(f"{at}, field '{key}': expected a list of 3 strings "
                                         "(concise, detailed plain, detailed markdown)")
        if str(r["domain"]) not in RAW_DOMAINS:
            raise RMBenchFormatError(f"{at}, field 'domain': {r['domain']!r} is not one of {list(RAW_DOMAINS)}")
        out.append({"id": r.get("id", i), "prompt": r["prompt"], "chosen": list(r["chosen"]),
                    "rejected": list(r["rejected"]), "domain": str(r["domain"])})
    return out


def _read_local(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        rows = []
        for ln, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise RMBenchFormatError(f"{path}:{ln}: invalid JSON ({e.msg})") from None
        return rows
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise RMBenchFormatError(f"{path}:{e.lineno}: invalid JSON ({e.msg})") from None
    if isinstance(data, dict) and "data" in data:
        data = data["data"]
    if not isinstance(data, list):
        raise RMBenchFormatError(f"{path}: expected a JSON list of rows (or JSONL)")
    return data


TOTAL_FILES = ("total_dataset.json", "total_dataset.jsonl")


def domain_of_file(path: str | Path) -> str | None:
    """The domain a per-domain RM-Bench file is named after (``code_filtered.json`` -> ``code``), else None."""
    stem = Path(path).name.rsplit(".", 1)[0]
    stem = stem[:-len("_filtered")] if stem.endswith("_filtered") else stem
    return stem if stem in RAW_DOMAINS else None


def domain_files(directory: str | Path) -> list[Path]:
    """The per-domain files in ``directory`` (``{domain}_filtered.json[l]`` or ``{domain}.json[l]``), by domain."""
    d = Path(directory)
    out = []
    for dom in RAW_DOMAINS:
        for name in (f"{dom}_filtered.json", f"{dom}_filtered.jsonl", f"{dom}.json", f"{dom}.jsonl"):
            if (d / name).is_file():
                out.append(d / name)
                break
    return out


def _load_local_rows(p: Path) -> list[dict]:
    if p.is_file():
        return validate_rows(_read_local(p), str(p), domain=domain_of_file(p))
    total = next((p / n for n in TOTAL_FILES if (p / n).is_file()), None)
    if total is not None:
        return validate_rows(_read_local(total), str(total), domain=None)
    files = domain_files(p)
    if not files:
        raise RMBenchFormatError(
            f"{p}: no RM-Bench files in this directory; expected total_dataset.json or the benchmark "
            f"repository's per-domain files {', '.join(f'{d}_filtered.json' for d in RAW_DOMAINS)}")
    rows: list[dict] = []
    for f in files:
        rows += validate_rows(_read_local(f), str(f), domain=domain_of_file(f))
    return rows


def load_rmbench(path: str | Path = "", domains: Sequence[str] | None = None, limit: int = 0) -> list[dict]:
    """RM-Bench rows from a local file or directory, or (``path=""``) the hub ``THU-KEG/RM-Bench``.

    ``path``: ``total_dataset.json`` / any ``.json`` or ``.jsonl`` of rows; a per-domain file
    (``code_filtered.json``: rows without ``domain``, taken from the name); or a directory with
    ``total_dataset.json`` (used alone when present) or the per-domain files (e.g. the repository's ``data/``).
    ``domains``: keep only these (``safety`` selects both safety-* domains); ``limit``: first N rows per domain.
    """
    if path:
        p = Path(path).expanduser()
        if not p.exists():
            raise FileNotFoundError(f"RM-Bench file not found: {p}")
        rows = _load_local_rows(p)
    else:
        try:
            import datasets

            try:  # the repo holds total_dataset.json and per-domain files: read the total only
                ds = datasets.load_dataset(HUB_ID, data_files="total_dataset.json", split="train")
            except FileNotFoundError:
                ds = datasets.load_dataset(HUB_ID, split="train")
        except Exception as e:  # offline, not cached, or network error
            raise RuntimeError(
                f"could not load RM-Bench from the hub dataset '{HUB_ID}' ({type(e).__name__}: {e}). "
                "Offline? Download total_dataset.json from https://huggingface.co/datasets/THU-KEG/RM-Bench "
                "(or https://github.com/THU-KEG/RM-Bench/tree/main/data) and pass its path: "
                "load_rmbench('/path/total_dataset.json') (or the repository's data/ directory of *_filtered.json "
                "files) or the profile key rmbench_path.") from e
        rows = validate_rows((dict(r) for r in ds), HUB_ID)
        seen_ids: set = set()
        rows = [r for r in rows if not ((r["id"], r["domain"]) in seen_ids or seen_ids.add((r["id"], r["domain"])))]
    if domains:
        want = set(domains)
        rows = [r for r in rows if r["domain"] in want or domain_group(r["domain"]) in want]
    if limit:
        seen: dict[str, int] = {}
        kept = []
        for r in rows:
            g = domain_group(r["domain"])
            if seen.get(g, 0) < limit:
                seen[g] = seen.get(g, 0) + 1
                kept.append(r)
        rows = kept
    return rows


def domain_group(domain: str) -> str:
    return "safety" if str(domain).startswith("safety") else str(domain)


# ---------------------------------------------------------------------------------------------------------
# metric
# ---------------------------------------------------------------------------------------------------------
def style_matrix(scores_chosen: np.ndarray, scores_rejected: np.ndarray) -> np.ndarray:
    """Mean over rows of M[i][j] = [chosen_i > rejected_j]; inputs shaped (n_rows, 3)."""
    c = np.asarray(scores_chosen, dtype=float).reshape(-1, 3)
    r = np.asarray(scores_rejected, dtype=float).reshape(-1, 3)
    if not len(c):
        return np.full((3, 3), np.nan)
    return (c[:, :, None] > r[:, None, :]).mean(axis=0)


def matrix_accuracies(m: np.ndarray) -> dict[str, float]:
    iu, il = np.triu_indices(3, 1), np.tril_indices(3, -1)
    return {"easy": float(m[il].mean()), "normal": float(np.diag(m).mean()), "hard": float(m[iu].mean()),
            "accuracy": float(m.mean())}


def rmbench_accuracy(rows: Sequence[dict], scores_chosen: np.ndarray, scores_rejected: np.ndarray) -> dict:
    """Per-domain easy/normal/hard/accuracy (fractions in [0, 1]), the overall means and the matrices."""
    sc = np.asarray(scores_chosen, dtype=float).reshape(-1, 3)
    sr = np.asarray(scores_rejected, dtype=float).reshape(-1, 3)
    if len(rows) != len(sc) or len(rows) != len(sr):
        raise ValueError(f"{len(rows)} rows but {len(sc)} / {len(sr)} score triples")
    groups = np.array([domain_group(r["domain"]) for r in rows])
    per: dict[str, dict] = {}
    for d in DOMAINS:
        sel = groups == d
        if sel.any():
            m = style_matrix(sc[sel], sr[sel])
            per[d] = {**matrix_accuracies(m), "n": int(sel.sum()), "matrix": m.round(6).tolist()}
    out: dict[str, Any] = {"domains": per, "n_rows": int(len(rows))}
    for k in ("easy", "normal", "hard"):
        out[k] = float(np.mean([v[k] for v in per.values()])) if per else float("nan")
    out["avg"] = float(np.mean([v["accuracy"] for v in per.values()])) if per else float("nan")
    return out


ScoreFn = Callable[[list[str], list[str]], Any]


def score_rmbench(score_fn: ScoreFn, rows: Sequence[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Scores of every chosen/rejected response, shaped (n_rows, 3) each, in one batched call.

    ``score_fn(prompts, responses) -> scores`` -- e.g. ``RewardScorer.score`` (the RM sees
    ``[user: prompt, assistant: response]``).
    """
    prompts, resps = [], []
    for r in rows:
        for key in ("chosen", "rejected"):
            prompts += [r["prompt"]] * 3
            resps += list(r[key])
    s = np.asarray(score_fn(prompts, resps), dtype=float).reshape(len(rows), 2, 3)
    return s[:, 0, :], s[:, 1, :]


def evaluate_rmbench(score_fn: ScoreFn, rows: Sequence[dict]) -> dict:
    sc, sr = score_rmbench(score_fn, rows)
    return rmbench_accuracy(rows, sc, sr)


def table_row(name: str, result: dict, percent: bool = True) -> dict:
    """One row in the paper's table layout (missing domains are NaN)."""
    f = 100.0 if percent else 1.0
    row: dict[str, Any] = {"model": name}
    for d in ("code", "chat", "math", "safety"):
        v = result.get("domains", {}).get(d)
        row[d] = round(v["accuracy"] * f, 1) if v else float("nan")
    for k in ("easy", "normal", "hard", "avg"):
        row[k] = round(result[k] * f, 1) if result.get(k) == result.get(k) else float("nan")
    return row


def run_table(results: dict[str, dict]) -> pd.DataFrame:
    """This run's RM-Bench rows: ``results`` = {name: rmbench_accuracy result} (the paper's rows are joined in
    the report, :func:`cskit.report.paper.rmbench_table`)."""
    rows = []
    for name, res in (results or {}).items():
        domains = ",".join(res.get("domains", {}))
        rows.append(dict(table_row(name, res), source="this run", note=f"domains: {domains}; n={res.get('n_rows')}"))
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS) + ["source", "note"])


# ---------------------------------------------------------------------------------------------------------
# offline code RM-Bench from HumanEval
# ---------------------------------------------------------------------------------------------------------
_CMP_SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
             ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_BIN_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.Div: ast.Mult, ast.FloorDiv: ast.Mult,
             ast.Mod: ast.FloorDiv}


def _mutation_sites(tree: ast.AST) -> list[tuple[int, str]]:
    """(walk index, description) of every mutable node, in ``ast.walk`` order."""
    sites = []
    for i, n in enumerate(ast.walk(tree)):
        if isinstance(n, ast.Compare) and type(n.ops[0]) in _CMP_SWAP:
            sites.append((i, f"compare {type(n.ops[0]).__name__}->{_CMP_SWAP[type(n.ops[0])].__name__}"))
        elif isinstance(n, ast.BinOp) and type(n.op) in _BIN_SWAP:
            sites.append((i, f"binop {type(n.op).__name__}->{_BIN_SWAP[type(n.op)].__name__}"))
        elif isinstance(n, ast.BoolOp):
            sites.append((i, "boolop and<->or"))
        elif isinstance(n, ast.Constant) and isinstance(n.value, bool):
            sites.append((i, f"constant {n.value}->{not n.value}"))
        elif isinstance(n, ast.Constant) and isinstance(n.value, int):
            sites.append((i, f"constant {n.value}->{n.value + 1}"))
    return sites


def _apply_mutation(tree: ast.AST, index: int) -> ast.AST:
    t = copy.deepcopy(tree)
    for i, n in enumerate(ast.walk(t)):
        if i != index:
            continue
        if isinstance(n, ast.Compare):
            n.ops[0] = _CMP_SWAP[type(n.ops[0])]()
        elif isinstance(n, ast.BinOp):
            n.op = _BIN_SWAP[type(n.op)]()
        elif isinstance(n, ast.BoolOp):
            n.op = ast.Or() if isinstance(n.op, ast.And) else ast.And()
        elif isinstance(n, ast.Constant) and isinstance(n.value, bool):
            n.value = not n.value
        elif isinstance(n, ast.Constant):
            n.value = n.value + 1
        break
    return t


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    t = copy.deepcopy(tree)
    for n in ast.walk(t):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and n.body:
            first = n.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and \
                    isinstance(first.value.value, str):
                n.body = n.body[1:] or [ast.Pass()]
    return t


def _add_step_comments(code: str, entry_point: str) -> str:
    """Insert ``# Step k.`` before each top-level statement of ``entry_point``'s body (after its docstring)."""
    tree = ast.parse(code)
    lines = code.splitlines()
    fn = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
               and n.name == entry_point), None)
    if fn is None:
        return code
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and \
            isinstance(body[0].value.value, str):
        body = body[1:]
    inserts = [(s.lineno - 1, " " * s.col_offset + f"# Step {k}.") for k, s in enumerate(body, 1)]
    for ln, text in reversed(inserts):
        lines.insert(ln, text)
    head = f"# Solution to `{entry_point}`: a direct implementation, explained step by step."
    return head + "\n" + "\n".join(lines) + "\n"


def code_style_variants(tree: ast.AST, entry_point: str) -> list[str]:
    """[concise (no docstring/comments), docstring, docstring + step comments] of one program."""
    plain = ast.unparse(tree) + "\n"
    return [ast.unparse(_strip_docstrings(tree)) + "\n", plain, _add_step_comments(plain, entry_point)]


def humaneval_rmbench(problems: Sequence | None = None, n_problems: int = 0, seed: int = 0,
                      max_tries: int = 4, limits=None, workers: int = 0) -> tuple[list[dict], dict]:
    """RM-Bench-format code rows from HumanEval (module docstring) and stats. Needs the sandbox.

    ``problems``: HumanEval-like ``Problem`` s (default ``load_source("humaneval")``); ``n_problems``: first N
    (0 = all); ``max_tries``: mutants graded per problem (sites tried in a seeded order).
    """
    from cskit.prompts import question_text
    from cskit.sandbox import grade_many

    if problems is None:
        from cskit.problems import load_source

        problems = load_source("humaneval")
    problems = list(problems)[:n_problems or None]
    items, plan = [], []
    for pi, p in enumerate(problems):
        if not p.solutions or not p.entry_point:
            continue
        try:
            tree = ast.parse(p.solutions[0])
        except SyntaxError:
            continue
        sites = _mutation_sites(tree)
        random.Random(f"{seed}:{p.id}").shuffle(sites)
        mutants = []
        for idx, desc in sites:
            mt = _apply_mutation(tree, idx)
            try:
                code = ast.unparse(mt) + "\n"
                ast.parse(code)
            except (SyntaxError, ValueError):
                continue
            if code != ast.unparse(tree) + "\n":
                mutants.append((mt, desc, code))
            if len(mutants) >= max_tries:
                break
        if not mutants:
            continue
        base = len(items)
        items.append((p, ast.unparse(tree) + "\n"))
        items += [(p, m[2]) for m in mutants]
        plan.append((p, tree, mutants, base))
    results = grade_many(items, limits=limits, workers=workers, progress=False) if items else []
    rows, stats = [], {"problems": len(problems), "canonical_failed": 0, "no_failing_mutant": 0, "rows": 0}
    for p, tree, mutants, base in plan:
        if not results[base].passed:
            stats["canonical_failed"] += 1
            continue
        pick = next((k for k in range(len(mutants)) if not results[base + 1 + k].passed), None)
        if pick is None:
            stats["no_failing_mutant"] += 1
            continue
        mt, desc, _ = mutants[pick]
        rows.append({"id": f"humaneval-{p.id}", "prompt": question_text(p),
                     "chosen": code_style_variants(tree, p.entry_point),
                     "rejected": code_style_variants(mt, p.entry_point), "domain": "code",
                     "mutation": desc, "neg_verdict": results[base + 1 + pick].verdict})
    stats["rows"] = len(rows)
    return rows, stats
