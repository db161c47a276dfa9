"""External RM pairs (cskit.rm.pairs_source): CodeScalerPair-51K-format local files, the offline hub error, the
by-question split, and file/line/field errors."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cskit.pairs import PAIR_COLUMNS
from cskit.rm.pairs_source import (CODESCALER_PAIRS_ID, PairSourceError, load_pair_source, parse_pair_spec)


def rows(n_questions=10, per_question=3):
    """CodeScalerPair-51K's columns only (question_content, code_pos, code_neg)."""
    out = []
    for i in range(n_questions):
        for k in range(per_question):
            out.append({"question_content": f"Problem {i}: print the sum of the first {i} integers.",
                        "code_pos": f"print({i} * ({i} + 1) // 2)  # v{k}\n",
                        "code_neg": f"print({i} * {i})  # v{k}\n"})
    return out


def write_jsonl(path, items):
    path.write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")
    return path


def test_parse_specs():
    assert parse_pair_spec("run") == ("run", "", None)
    assert parse_pair_spec(f"hub:{CODESCALER_PAIRS_ID}") == ("hub", CODESCALER_PAIRS_ID, None)
    assert parse_pair_spec(f"hub:{CODESCALER_PAIRS_ID}:train") == ("hub", CODESCALER_PAIRS_ID, "train")
    assert parse_pair_spec("parquet:/x/p.data") == ("parquet", "/x/p.data", None)
    assert parse_pair_spec("jsonl:rel/p.txt") == ("jsonl", "rel/p.txt", None)
    assert parse_pair_spec("/x/p.parquet")[0] == "parquet" and parse_pair_spec("p.jsonl")[0] == "jsonl"
    assert parse_pair_spec("p.json")[0] == "json"
    for bad in ("", "hub:", "parquet:", "pairs.csv", "mystery:thing"):
        with pytest.raises(PairSourceError):
            parse_pair_spec(bad)
    with pytest.raises(PairSourceError, match="stage 03 reads those itself"):
        load_pair_source("run", val_fraction=0.1, seed=0)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "json", "bare-jsonl", "bare-parquet"])
def test_local_files_load_and_split_by_question(tmp_path, fmt):
    items = rows()
    if fmt in ("jsonl", "bare-jsonl"):
        p = write_jsonl(tmp_path / "pairs.jsonl", items)
    elif fmt == "json":
        p = tmp_path / "pairs.json"
        p.write_text(json.dumps(items))
    else:
        p = tmp_path / "pairs.parquet"
        pd.DataFrame(items).to_parquet(p)
    spec = str(p) if fmt.startswith("bare") or fmt == "json" else f"{fmt}:{p}"
    train, val = load_pair_source(spec, val_fraction=0.2, seed=0)
    assert list(train.columns) == list(PAIR_COLUMNS) and list(val.columns) == list(PAIR_COLUMNS)
    assert len(train) + len(val) == len(items) and len(val) == 2 * 3   # ceil(0.2 * 10) questions, 3 pairs each
    assert not set(train.question_content) & set(val.question_content)
    assert set(train.split) == {"train"} and set(val.split) == {"val"}
    assert set(train.pair_source) == {"external"} and (train.pos_pass_fraction == 1.0).all()
    assert train.neg_pass_fraction.isna().all()
    assert (train.problem_id == train.neg_problem_id).all() and train.problem_id.str.startswith("ext-").all()
    # one problem id per question, stable across loads and seeds
    assert train.groupby("question_content").problem_id.nunique().max() == 1
    t2, v2 = load_pair_source(spec, val_fraction=0.2, seed=0)
    pd.testing.assert_frame_equal(train, t2)
    t3, v3 = load_pair_source(spec, val_fraction=0.2, seed=1)
    assert set(v3.question_content) != set(val.question_content) or len(val) == 0
    assert load_pair_source(spec, val_fraction=0.0, seed=0)[1].empty


def test_pairs_usable_by_the_trainer_and_scorer(tmp_path):
    """The loaded table has what stage 03 needs: score_pairs / pair_metrics run on it."""
    from cskit.rm.score import pair_metrics, score_pairs

    p = write_jsonl(tmp_path / "pairs.jsonl", rows(4, 2))
    train, _ = load_pair_source(f"jsonl:{p}", val_fraction=0.25, seed=0)

    class LenScorer:
        def score(self, qs, cs):
            return np.array([float(len(c)) for c in cs])

    m = pair_metrics(score_pairs(LenScorer(), train))
    assert m["n_pairs"] == len(train) and m["by_pair_source"] == {"external": m["accuracy"]}


def test_provenance_kept_and_identical_pairs_dropped(tmp_path):
    items = rows(3, 1)
    items[0].update(problem_id="lcb-7", pos_pass_fraction=1.0, neg_pass_fraction=0.5, pair_source="on_policy")
    items.append({"question_content": "Q same", "code_pos": "x = 1\n", "code_neg": "x = 1\n"})
    items.append({"question": "Q via alias", "code_pos": "print(1)\n", "code_neg": "print(2)\n"})
    p = write_jsonl(tmp_path / "p.jsonl", items)
    train, val = load_pair_source(str(p), val_fraction=0.0, seed=0)
    both = pd.concat([train, val])
    assert len(both) == 4 and "Q same" not in set(both.question_content)
    assert "Q via alias" in set(both.question_content)
    r = both[both.problem_id == "lcb-7"].iloc[0]
    assert r.neg_pass_fraction == 0.5 and r.pair_source == "on_policy" and r.neg_problem_id == "lcb-7"


def test_bad_files_name_file_line_and_field(tmp_path):
    good = json.dumps(rows(1, 1)[0])
    p = tmp_path / "bad.jsonl"
    p.write_text(good + "\n" + json.dumps({"question_content": "q", "code_pos": "a"}) + "\n")
    with pytest.raises(PairSourceError, match=r"bad.jsonl:2: missing field 'code_neg'"):
        load_pair_source(str(p), val_fraction=0.1, seed=0)
    p.write_text(good + "\n\n" + json.dumps({"question_content": "q", "code_pos": "a", "code_neg": None}) + "\n")
    with pytest.raises(PairSourceError, match=r"bad.jsonl:3, field 'code_neg': expected a string, got null"):
        load_pair_source(str(p), val_fraction=0.1, seed=0)
    p.write_text(good + "\n{not json\n")
    with pytest.raises(PairSourceError, match=r"bad.jsonl:2: invalid JSON"):
        load_pair_source(str(p), val_fraction=0.1, seed=0)
    p.write_text(json.dumps({"question_content": "  ", "code_pos": "a", "code_neg": "b"}) + "\n")
    with pytest.raises(PairSourceError, match=r"bad.jsonl:1, field 'question_content': empty"):
        load_pair_source(str(p), val_fraction=0.1, seed=0)
    pq = tmp_path / "bad.parquet"
    pd.DataFrame({"question_content": ["q"], "code_pos": ["a"]}).to_parquet(pq)
    with pytest.raises(PairSourceError, match=r"bad.parquet: missing column\(s\) \['code_neg'\]"):
        load_pair_source(f"parquet:{pq}", val_fraction=0.1, seed=0)
    pd.DataFrame({"question_content": ["q", "r"], "code_pos": ["a", None], "code_neg": ["b", "c"]}).to_parquet(pq)
    with pytest.raises(PairSourceError, match=r"bad.parquet: row 1, field 'code_pos': expected a string, got null"):
        load_pair_source(f"parquet:{pq}", val_fraction=0.1, seed=0)
    (tmp_path / "notpq.parquet").write_text("hello")
    with pytest.raises(PairSourceError, match=r"notpq.parquet: not a readable parquet file"):
        load_pair_source(str(tmp_path / "notpq.parquet"), val_fraction=0.1, seed=0)
    with pytest.raises(PairSourceError, match="pairs file not found"):
        load_pair_source(str(tmp_path / "missing.jsonl"), val_fraction=0.1, seed=0)
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(PairSourceError, match="has no rows"):
        load_pair_source(str(tmp_path / "empty.jsonl"), val_fraction=0.1, seed=0)
    assert issubclass(PairSourceError, ValueError)


def test_hub_offline_names_dataset_and_local_alternative(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(PairSourceError) as ei:
        load_pair_source(f"hub:{CODESCALER_PAIRS_ID}", val_fraction=0.05, seed=0)
    msg = str(ei.value)
    assert CODESCALER_PAIRS_ID in msg and "parquet:" in msg and "jsonl:" in msg and "question_content" in msg
    assert ei.value.__cause__ is None and ei.value.__suppress_context__   # clean: no chained traceback
