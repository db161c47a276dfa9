"""External preference pairs for stage 03: ``LARK-Lab/CodeScalerPair-51K`` and local files with its columns.

Stage 03 trains on ``rm_pairs``; :func:`load_pair_source` reads every form of that spec except ``run`` (this
run's stage-02 pairs, ``data/pairs/{train,val}.parquet``, which the stage reads itself):

* ``hub:<id>[:split]`` -- a hub dataset through ``datasets.load_dataset`` (split default ``train``), e.g.
  ``hub:LARK-Lab/CodeScalerPair-51K`` (the authors' 51K raw pairs, MIT). Offline / not cached, it fails with a
  message naming the dataset and the local-file alternative;
* ``parquet:PATH`` / ``jsonl:PATH`` / ``json:PATH``, or a bare path whose suffix says which
  (``.parquet``, ``.jsonl``, ``.json``: a list of rows).

Rows need ``question_content``, ``code_pos``, ``code_neg`` (strings; ``question`` is accepted for
``question_content``). Output: the kit's pair table (:data:`cskit.pairs.PAIR_COLUMNS`), provenance columns
the file lacks filled as ``problem_id = "ext-" + sha1(question)[:12]``, ``neg_problem_id = problem_id``,
``pos_pass_fraction = 1.0`` (positives pass every test by construction), ``neg_pass_fraction = NaN``
(unknown), ``pair_source = "external"``; ``split`` is set here. Rows whose two codes are identical are
dropped (logged). The train/val split is seeded and **by question text**: no question is on both sides.
Bad input raises :class:`PairSourceError` (a ValueError) whose message names the file, line / row and field.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["CODESCALER_PAIRS_ID", "PairSourceError", "load_pair_source", "normalize_pairs", "parse_pair_spec",
           "read_pair_file", "split_by_question"]

CODESCALER_PAIRS_ID = "LARK-Lab/CodeScalerPair-51K"
REQUIRED = ("question_content", "code_pos", "code_neg")
ALIASES = {"question": "question_content"}
SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".json": "json"}


class PairSourceError(ValueError):
    """A pairs source cannot be read: the message names the source, the line / row and the field."""


def parse_pair_spec(spec: str) -> tuple[str, str, str | None]:
    """(kind, target, split): kind in run / hub / parquet / jsonl / json; split only for hub."""
    s = str(spec or "").strip()
    if not s:
        raise PairSourceError("empty pairs source: use 'run', 'hub:<dataset id>[:split]', 'parquet:PATH', "
                              "'jsonl:PATH' or a path to a .parquet / .jsonl / .json file")
    if s == "run":
        return "run", "", None
    kind, sep, rest = s.partition(":")
    if sep and kind == "hub":
        repo, _, split = rest.partition(":")
        if not repo:
            raise PairSourceError(f"pairs source {spec!r}: 'hub:' needs a dataset id, e.g. hub:{CODESCALER_PAIRS_ID}")
        return "hub", repo, split or None
    if sep and kind in ("parquet", "jsonl", "json"):
        if not rest:
            raise PairSourceError(f"pairs source {spec!r}: no path after '{kind}:'")
        return kind, rest, None
    suffix = Path(s).suffix.lower()
    if suffix in SUFFIXES:
        return SUFFIXES[suffix], s, None
    raise PairSourceError(f"pairs source {spec!r}: not 'run', 'hub:<id>[:split]', 'parquet:PATH', 'jsonl:PATH', "
                          "nor a path ending in .parquet / .jsonl / .json")


# ---------------------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------------------
def _check_row(row: Any, at: str) -> dict:
    if not isinstance(row, dict):
        raise PairSourceError(f"{at}: expected an object with {', '.join(REQUIRED)}, got {type(row).__name__}")
    row = {ALIASES.get(k, k) if ALIASES.get(k) not in row else k: v for k, v in row.items()}
    for key in REQUIRED:
        if key not in row:
            raise PairSourceError(f"{at}: missing field '{key}' (a pair needs {', '.join(REQUIRED)})")
        v = row[key]
        if not isinstance(v, str):
            got = "null" if v is None or (isinstance(v, float) and math.isnan(v)) else type(v).__name__
            raise PairSourceError(f"{at}, field '{key}': expected a string, got {got}")
    if not row["question_content"].strip():
        raise PairSourceError(f"{at}, field 'question_content': empty question")
    return row


def _read_jsonl(path: Path) -> list[dict]:
    from cskit.io import JsonlError, iter_jsonl

    try:
        return [_check_row(obj, f"{path}:{ln}") for ln, obj in iter_jsonl(path, objects=False)]
    except JsonlError as e:
        raise PairSourceError(str(e)) from None


def _read_json(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise PairSourceError(f"{path}:{e.lineno}: invalid JSON ({e.msg})") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise PairSourceError(f"{path}: expected a JSON list of pair objects (or use JSONL)")
    return [_check_row(r, f"{path}: row {i}") for i, r in enumerate(data)]


def _frame_rows(df: pd.DataFrame, where: str) -> list[dict]:
    cols = [ALIASES.get(c, c) if ALIASES.get(c) not in df.columns else c for c in df.columns]
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise PairSourceError(f"{where}: missing column(s) {missing}; it has {list(df.columns)} (a pairs table "
                              f"needs {', '.join(REQUIRED)}, the columns of {CODESCALER_PAIRS_ID})")
    df = df.set_axis(cols, axis=1)
    return [_check_row(r, f"{where}: row {i}") for i, r in enumerate(df.to_dict(orient="records"))]


def read_pair_file(kind: str, path: str | Path) -> list[dict]:
    """Checked rows of a local ``parquet`` / ``jsonl`` / ``json`` pairs file."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise PairSourceError(f"pairs file not found: {p}")
    if kind == "jsonl":
        return _read_jsonl(p)
    if kind == "json":
        return _read_json(p)
    try:
        df = pd.read_parquet(p)
    except Exception as e:  # not a parquet file, or unreadable
        raise PairSourceError(f"{p}: not a readable parquet file ({type(e).__name__}: {e})") from None
    return _frame_rows(df, str(p))


def read_hub_pairs(repo: str, split: str | None = None) -> list[dict]:
    """Checked rows of a hub dataset (offline or missing: a :class:`PairSourceError` saying what to do)."""
    split = split or "train"
    try:
        import datasets

        ds = datasets.load_dataset(repo, split=split)
    except Exception as e:  # offline, not cached, no such dataset/split, network error
        raise PairSourceError(
            f"could not load the pairs dataset '{repo}' (split '{split}') from the Hugging Face hub "
            f"({type(e).__name__}: {str(e)[:300]}). Offline? Download it once where there is network "
            f"(`huggingface-cli download --repo-type dataset {repo} --local-dir DIR`, or "
            f"datasets.load_dataset('{repo}', split='{split}').to_parquet('pairs.parquet')) and use the local "
            f"file instead: rm_pairs: parquet:/path/pairs.parquet (or jsonl:/path/pairs.jsonl) with columns "
            f"{', '.join(REQUIRED)}.") from None
    return _frame_rows(ds.to_pandas(), f"hub dataset {repo} ({split})")


# ---------------------------------------------------------------------------------------------------------
# normalising and splitting
# ---------------------------------------------------------------------------------------------------------
def _kit_columns() -> list[str]:
    from cskit.pairs import PAIR_COLUMNS

    return list(PAIR_COLUMNS)


def _question_key(q: str) -> str:
    return "ext-" + hashlib.sha1(q.encode("utf-8")).hexdigest()[:12]


def normalize_pairs(rows: list[dict], source: str = "external") -> pd.DataFrame:
    """The kit's pair table from checked rows (module docstring: fills, drops identical code pairs)."""
    cols = _kit_columns()
    out = []
    n_same = 0
    for r in rows:
        if r["code_pos"] == r["code_neg"]:
            n_same += 1
            continue
        q = r["question_content"]
        pid = r.get("problem_id")
        pid = str(pid) if isinstance(pid, (str, int)) and str(pid) else _question_key(q)
        npid = r.get("neg_problem_id")
        rec = {"question_content": q, "code_pos": r["code_pos"], "code_neg": r["code_neg"], "problem_id": pid,
               "pos_pass_fraction": _fraction(r.get("pos_pass_fraction"), 1.0),
               "neg_pass_fraction": _fraction(r.get("neg_pass_fraction"), float("nan")),
               "pair_source": str(r.get("pair_source") or source),
               "neg_problem_id": str(npid) if isinstance(npid, (str, int)) and str(npid) else pid, "split": ""}
        out.append(rec)
    if n_same:
        log.warning("pairs source: dropped %d of %d pairs whose positive and negative code are identical",
                    n_same, len(rows))
    return pd.DataFrame(out, columns=cols)


def _fraction(v: Any, default: float) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(x) else x


def split_by_question(df: pd.DataFrame, val_fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded (train, val) split of a pair table by question text (both non-empty given >= 2 questions and
    ``val_fraction > 0``); ``split`` column set, indices reset."""
    from cskit.pairs import split_problem_ids

    if not 0.0 <= float(val_fraction) < 1.0:
        raise PairSourceError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
    keys = df["question_content"].map(_question_key)
    train_keys, val_keys = split_problem_ids(keys.tolist(), float(val_fraction), int(seed))
    train = df[keys.isin(train_keys).to_numpy()].copy()
    val = df[keys.isin(val_keys).to_numpy()].copy()
    train["split"], val["split"] = "train", "val"
    return train.reset_index(drop=True), val.reset_index(drop=True)


def load_pair_source(spec: str, *, val_fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, val) pair tables from an ``rm_pairs`` spec other than ``run`` (module docstring)."""
    kind, target, split = parse_pair_spec(spec)
    if kind == "run":
        raise PairSourceError("pairs source 'run' is this run's stage-02 pairs (data/pairs/*.parquet): stage 03 "
                              "reads those itself; load_pair_source reads hub datasets and local files")
    rows = read_hub_pairs(target, split) if kind == "hub" else read_pair_file(kind, target)
    if not rows:
        raise PairSourceError(f"pairs source {spec!r} has no rows")
    df = normalize_pairs(rows)
    if not len(df):
        raise PairSourceError(f"pairs source {spec!r}: every pair has identical positive and negative code")
    train, val = split_by_question(df, val_fraction, seed)
    log.info("pairs source %s: %d pairs (%d questions) -> %d train / %d val", spec, len(df),
             df["question_content"].nunique(), len(train), len(val))
    return train, val
