"""Stage 06, scoring half: extraction and shaping ablations over the stage-01 rollouts (recipe: "Code extraction", "Reward shaping", "Ablations").

Pure pandas/numpy given RM scores (no torch here); :mod:`cskit.ablations` scores the rollouts with the
trained RM and calls these functions. The paper's ablations were not found (recipe: "Ablations"): these measure, on
this run's own rollouts, what the syntax-aware gate and the validity-preserving shaping change.

**Response categories** (:func:`response_category`, the reasons strict extraction gives ε): ``valid`` (exactly
one fenced block that parses), ``no_block`` (no complete fenced block, e.g. a truncated answer),
``multi_block`` (several blocks: discarded by the paper's rule), ``unparseable`` (one block, fails
``ast.parse`` or is empty).

**Extraction modes** (what the RM sees; :data:`EXTRACTIONS`):

* ``strict_gated`` -- the paper: strict extraction, ε never reaches the RM and gets reward 0;
* ``strict_ungated`` -- strict extraction, ε scored as the empty assistant turn (the authors'
  ``reward_shaping=False`` toggle);
* ``lenient`` -- the last fenced block, no single-block rule and no AST check, falling back to the whole
  response when it has no block (exactly :class:`cskit.rl.rewards.RawRMReward`'s input);
* ``none`` -- the whole response text, no extraction at all.

The reward is softplus(score) for every mode (0 for ε under the gate). Reward hacking is measured as the
share of invalid responses whose reward beats the median reward of *valid* responses (and of passing
ones), and as the share of problem groups whose top-reward response is invalid (what GRPO reinforces most).

**Shapings** (:data:`cskit.shaping.SHAPINGS`) are compared on the same raw scores: per method, reward
statistics of invalid / valid-failing / passing responses, validity AUROC (a valid response outranks an
invalid one; 1.0 = "validity preserved"), pass AUROC, and the GRPO group-normalised advantage
(``(r - mean) / (std + 1e-4)`` within each problem's group of samples, as trl's ``scale_rewards="group"``)
that each kind of response receives on average.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cskit.stats import auroc

CATEGORIES = ("valid", "no_block", "multi_block", "unparseable")
EXTRACTIONS = ("strict_gated", "strict_ungated", "lenient", "none")
EXTRACTION_LABELS = {"strict_gated": "strict + gate (paper)", "strict_ungated": "strict, no gate",
                     "lenient": "lenient (last block), no gate", "none": "no extraction (whole response)"}
GROUPS = ("invalid", "valid_fail", "pass")


def response_category(response: str) -> str:
    """Why strict extraction accepts or rejects ``response`` (one of :data:`CATEGORIES`)."""
    from cskit.extract import find_blocks, is_valid_python

    blocks = find_blocks(response or "")
    if not blocks:
        return "no_block"
    if len(blocks) > 1:
        return "multi_block"
    code = blocks[0].strip()
    return "valid" if code and is_valid_python(code) else "unparseable"


def lenient_input(response: str) -> str:
    """The RM input of :class:`cskit.rl.rewards.RawRMReward`: the last fenced block, else the whole text."""
    from cskit.extract import extract_lenient

    code = extract_lenient(response or "")
    return code if code else (response or "").strip()


def rm_inputs(rollouts: pd.DataFrame) -> pd.DataFrame:
    """Per response: category and the code the RM sees under each ungated extraction mode."""
    df = rollouts.reset_index(drop=True).copy()
    resp = df["response"].fillna("").astype(str)
    df["category"] = [response_category(r) for r in resp]
    df["valid"] = df["category"] == "valid"
    df["in_strict"] = df["code_strict"].fillna("").astype(str).where(df["valid"], "")
    df["in_lenient"] = [lenient_input(r) for r in resp]
    df["in_none"] = resp.str.strip()
    return df


def softplus(x) -> np.ndarray:
    from cskit.shaping import softplus as sp

    return np.asarray(sp(np.asarray(x, dtype=np.float64)), dtype=np.float64).reshape(-1)



def _mean(x) -> float:
    x = np.asarray(x, dtype=float)
    return float(x.mean()) if x.size else float("nan")


def group_advantages(rewards, groups) -> np.ndarray:
    """GRPO advantages: rewards normalised within each group, ``(r - mean) / (std + 1e-4)``."""
    r = pd.Series(np.asarray(rewards, dtype=float))
    g = pd.Series(np.asarray(groups))
    mean = r.groupby(g).transform("mean")
    std = r.groupby(g).transform(lambda x: x.std(ddof=0))
    return ((r - mean) / (std + 1e-4)).to_numpy()


def top_is_invalid_rate(rewards, valid, groups) -> float:
    """Share of groups (with at least one valid and one invalid response) whose top reward is invalid
    (ties: an invalid response among the tied best counts)."""
    d = pd.DataFrame({"r": np.asarray(rewards, dtype=float), "v": np.asarray(valid, dtype=bool),
                      "g": np.asarray(groups)})
    hits, n = 0, 0
    for _, g in d.groupby("g", sort=False):
        if g.v.all() or not g.v.any():
            continue
        n += 1
        best = g.r.max()
        hits += bool((~g.v[g.r >= best]).any())
    return hits / n if n else float("nan")


# --- extraction --------------------------------------------------------------------------------------------


def extraction_rewards(scored: pd.DataFrame) -> pd.DataFrame:
    """Reward of every response under each mode, from raw scores ``score_strict`` (valid responses),
    ``score_empty`` (the question with an empty answer), ``score_lenient`` and ``score_none``."""
    v = scored["valid"].to_numpy(dtype=bool)
    out = pd.DataFrame(index=scored.index)
    out["strict_gated"] = np.where(v, softplus(scored["score_strict"].fillna(0.0)), 0.0)
    out["strict_ungated"] = softplus(np.where(v, scored["score_strict"].fillna(0.0), scored["score_empty"]))
    out["lenient"] = softplus(scored["score_lenient"])
    out["none"] = softplus(scored["score_none"])
    return out


def extraction_summary(scored: pd.DataFrame) -> dict[str, Any]:
    """Per mode: coverage, rewards of valid/invalid responses, hacking rates, AUROCs (see module doc)."""
    rew = extraction_rewards(scored)
    v = scored["valid"].to_numpy(dtype=bool)
    passed = scored["passed"].to_numpy(dtype=bool)
    groups = scored["problem_id"].astype(str).to_numpy()
    inputs = {"strict_gated": scored["in_strict"], "strict_ungated": scored["in_strict"],
              "lenient": scored["in_lenient"], "none": scored["in_none"]}
    modes = {}
    for m in EXTRACTIONS:
        r = rew[m].to_numpy()
        med_valid = float(np.median(r[v])) if v.any() else float("nan")
        med_pass = float(np.median(r[passed])) if passed.any() else float("nan")
        inv = r[~v]
        modes[m] = {
            "label": EXTRACTION_LABELS[m],
            "rm_input_coverage": float((inputs[m].astype(str).str.strip() != "").mean()) if m != "strict_gated"
            else float(v.mean()),
            "reward_valid_mean": _mean(r[v]), "reward_invalid_mean": _mean(inv),
            "median_valid_reward": med_valid,
            "invalid_above_median_valid": float((inv > med_valid).mean()) if inv.size and v.any() else float("nan"),
            "invalid_above_median_pass": float((inv > med_pass).mean()) if inv.size and passed.any() else float("nan"),
            "top_is_invalid_rate": top_is_invalid_rate(r, v, groups),
            "auroc_pass_vs_rest": auroc(r, passed),
            "auroc_valid_vs_invalid": auroc(r, v),
        }
    by_cat = []
    for cat in CATEGORIES:
        sel = (scored["category"] == cat).to_numpy()
        if not sel.any():
            continue
        row = {"category": cat, "n": int(sel.sum()), "share": float(sel.mean()),
               "pass_rate_lenient": _mean(scored.loc[sel, "passed_lenient"].astype(float))
               if "passed_lenient" in scored else float("nan")}
        for m in EXTRACTIONS:
            r = rew[m].to_numpy()
            row[f"reward_{m}"] = _mean(r[sel])
            med = modes[m]["median_valid_reward"]
            row[f"above_median_valid_{m}"] = float((r[sel] > med).mean()) if med == med else float("nan")
        by_cat.append(row)
    pl = scored["passed_lenient"].to_numpy(dtype=bool) if "passed_lenient" in scored else np.zeros(len(v), bool)
    return {
        "n_responses": int(len(scored)), "n_problems": int(scored["problem_id"].nunique()),
        "validity_rate_strict": float(v.mean()),
        "has_block_rate_lenient": float((scored["category"] != "no_block").mean()),
        "pass_rate_strict": float(passed.mean()),
        "pass_rate_lenient": float(pl.mean()) if len(pl) else float("nan"),
        "invalid_passing_lenient": int((~v & pl).sum()),   # what the gate costs: rejected yet correct
        "modes": modes, "by_category": by_cat,
    }


def extraction_table(summary: dict) -> pd.DataFrame:
    """One row per extraction mode (the notebook's table)."""
    rows = []
    for m, d in summary.get("modes", {}).items():
        rows.append({"extraction": d["label"], "RM input coverage": d["rm_input_coverage"],
                     "reward valid (mean)": d["reward_valid_mean"], "reward invalid (mean)": d["reward_invalid_mean"],
                     "invalid > median valid": d["invalid_above_median_valid"],
                     "invalid > median passing": d["invalid_above_median_pass"],
                     "groups topped by invalid": d["top_is_invalid_rate"],
                     "AUROC pass": d["auroc_pass_vs_rest"], "AUROC valid": d["auroc_valid_vs_invalid"],
                     # the gate gives every invalid response 0 and never scores it: its zero "hacking" and its
                     # validity AUROC of 1 follow from the definition, not from the RM
                     "note": "by construction: 0 hacking, validity AUROC 1 (the gate)" if m == "strict_gated" else ""})
    return pd.DataFrame(rows).set_index("extraction") if rows else pd.DataFrame()


# --- shaping -------------------------------------------------------------------------------------------------


def response_group(valid, passed) -> np.ndarray:
    v, p = np.asarray(valid, dtype=bool), np.asarray(passed, dtype=bool)
    return np.where(~v, "invalid", np.where(p, "pass", "valid_fail"))


def shaping_rewards(scored: pd.DataFrame, methods=None) -> pd.DataFrame:
    """Long table (problem_id, group, method, raw, reward, advantage): every shaping of the same raw scores.
    Raw score = RM(strict code) for valid responses, RM(question, "") for ε (what ungated shapings see)."""
    from cskit.shaping import SHAPINGS, shape_rewards

    methods = list(methods or SHAPINGS)
    v = scored["valid"].to_numpy(dtype=bool)
    raw = np.where(v, scored["score_strict"].fillna(0.0), scored["score_empty"]).astype(float)
    grp = response_group(v, scored["passed"].to_numpy(dtype=bool))
    pid = scored["problem_id"].astype(str).to_numpy()
    frames = []
    for m in methods:
        r = np.asarray(shape_rewards(raw, v, method=m), dtype=float)
        frames.append(pd.DataFrame({"problem_id": pid, "group": grp, "valid": v, "method": m, "raw": raw,
                                    "reward": r, "advantage": group_advantages(r, pid)}))
    return pd.concat(frames, ignore_index=True)


def shaping_summary(long: pd.DataFrame) -> dict[str, Any]:
    out = {}
    for m, d in long.groupby("method", sort=False):
        r, v = d["reward"].to_numpy(), d["valid"].to_numpy(dtype=bool)
        passed = (d["group"] == "pass").to_numpy()
        row: dict[str, Any] = {}
        for g in GROUPS:
            sel = (d["group"] == g).to_numpy()
            row[f"reward_{g}_mean"] = _mean(r[sel])
            row[f"reward_{g}_std"] = float(np.std(r[sel])) if sel.any() else float("nan")
            row[f"advantage_{g}_mean"] = _mean(d["advantage"].to_numpy()[sel])
        row["validity_auroc"] = auroc(r, v)
        row["validity_preserved"] = bool(v.any() and (~v).any() and r[v].min() > r[~v].max()) \
            if v.any() and (~v).any() else None
        row["pass_auroc"] = auroc(r, passed)
        row["pass_auroc_among_valid"] = auroc(r[v], passed[v]) if v.any() else float("nan")
        std = d.groupby("problem_id")["reward"].std(ddof=0)
        row["zero_variance_groups"] = float((std < 1e-12).mean()) if len(std) else float("nan")
        out[str(m)] = row
    return out


def shaping_table(summary: dict) -> pd.DataFrame:
    rows = [{"shaping": m, "reward invalid": d["reward_invalid_mean"], "reward valid-fail": d["reward_valid_fail_mean"],
             "reward pass": d["reward_pass_mean"], "validity AUROC": d["validity_auroc"],
             "validity preserved": d["validity_preserved"], "pass AUROC": d["pass_auroc"],
             "adv. invalid": d["advantage_invalid_mean"], "adv. valid-fail": d["advantage_valid_fail_mean"],
             "adv. pass": d["advantage_pass_mean"], "zero-variance groups": d["zero_variance_groups"]}
            for m, d in summary.items()]
    return pd.DataFrame(rows).set_index("shaping") if rows else pd.DataFrame()
