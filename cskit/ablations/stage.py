"""Stage 06: ablations of extraction, shaping, pair source, data scale, RM size, and short RL runs (recipe: "Ablations").

The paper's ablations were not found (recipe: "Ablations"), so each one here is defined on this run's own data, reading
what stages 01-04 wrote (``data/rollouts.parquet``, ``data/pairs/{train,val}.parquet``, ``models/rm``) and
training only small extra things, sized by the ``ablation_*`` parameters (declared in ``cskit/config.py`` SCHEMA):

* ``extraction`` -- the trained RM scores every rollout under strict+gate (paper), strict without gate,
  lenient (last block) and no extraction; what reward would invalid / multi-block / unparseable responses get
  without the gate (:mod:`cskit.ablations.scores`);
* ``shaping`` -- softplus+gate (paper) vs raw vs sigmoid vs softplus_nogate vs raw_gated on the same raw
  scores: reward distributions, valid-vs-invalid and pass-vs-fail separation, GRPO advantages;
* ``pair_source`` -- small RMs trained on on-policy, reference-augmented and off-policy pairs (off-policy
  samples from ``offpolicy_model``, rolled out into ``data/rollouts_offpolicy.parquet`` when absent), each
  capped at the same number of pairs and evaluated on the SAME held-out val pairs;
* ``data_scale`` -- small RMs on nested 25/50/100 % subsets (``ablation_data_fractions``) of one seeded pool of
  training pairs, plus the untrained initial RM (0 %). The pair-source and data-scale RMs use the backbone
  ``ablation_rm_model`` ('auto': the profile's ``rm_model`` on a GPU, the small backbone on CPU);
* ``rm_size`` -- the small backbone (``ablation_small_rm``) vs the profile's ``rm_model`` on the same
  ``ablation_size_pairs`` pairs (the paper's 1.7B/4B/8B RM-Bench rows, recipe: "RM-Bench", beside it);
* ``rl`` -- short GRPO runs (``ablation_rl_steps`` steps of ``ablation_rl_prompts_per_step`` prompts,
  ``ablation_rl_max_completion_length`` tokens, no checkpoints, validation only if ``ablation_rl_val_problems``)
  from the same init for each ``ablation_rl_variants`` entry: a shaping of the CodeScaler reward (strict
  extraction) or ``raw_rm`` (lenient extraction, no gate, raw score); validity rate and reward per step.

RM scores already computed by stage 03 (``data/rm_scores/{rollouts,val_pairs}.parquet``, same ``models/rm``) are
reused instead of rescoring. Cost on 2 CPU cores is dominated by SmolLM2-135M forward passes (~150 tokens/s per
core): the extraction scoring, the ``rm_model`` run of ``rm_size`` and the GRPO runs; drop ``rm_size`` / ``rl``
from ``ablations`` (or shrink their keys) for a faster notebook.

Resumable: each ablation's result is ``results/06_ablations/<name>.json`` and is not recomputed when present
(each small RM also has its own part under ``results/06_ablations/rm/``). Extra models are deleted after
evaluation unless ``ablation_keep_models``. Everything ends in ``results/06_ablations.json``.
The ``ablation_*`` keys other than ``ablation_data_fractions`` / ``ablation_rl_steps`` are read with the
defaults below when the profile schema does not declare them.
"""
from __future__ import annotations

import logging
import math
import re
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

import cskit.ablations.scores as sc
from cskit.io import read_json, write_json, write_parquet
from cskit.config import Config

log = logging.getLogger(__name__)

STAGE = "06_ablations"
ABLATIONS = ("extraction", "shaping", "pair_source", "data_scale", "rm_size", "rl")
PAIR_SOURCES = ("on_policy", "reference_augmented", "off_policy")
RL_VARIANTS = ("softplus", "raw", "sigmoid", "softplus_nogate", "raw_gated", "raw_rm")


def param(cfg: Config, key: str) -> Any:
    """``getattr(cfg, key)``; every ablation key is declared (with its default and meaning) in cskit/config.py SCHEMA."""
    return getattr(cfg, key)


def _list(cfg, key: str, cast=str) -> list:
    return [cast(x.strip()) for x in str(param(cfg, key)).split(",") if x.strip()]


def parts_dir(run) -> Path:
    return Path(run.results) / STAGE


def _cached(path: Path, compute: Callable[[], dict]) -> dict:
    """Read ``path`` if present, else compute, write (unless it says ``skipped``) and return."""
    if path.exists():
        return {**read_json(path), "cached": True}
    t0 = time.perf_counter()
    out = compute()
    out["wall_s"] = round(time.perf_counter() - t0, 2)
    if not out.get("skipped"):
        write_json(path, out)
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_")[-60:]


def _device(cfg) -> str:
    from cskit.models import pick_device

    return pick_device(cfg.device)


def _scorer(path: str, cfg, max_length: int | None = None, seed: int | None = None):
    from cskit.rm import RewardScorer

    return RewardScorer(str(path), max_length=int(max_length or cfg.rm_max_length),
                        batch_size=int(cfg.rm_score_batch_size), device=_device(cfg),
                        dtype=None if cfg.dtype == "auto" else cfg.dtype, seed=seed,
                        progress=bool(cfg.progress))


def _rm_ready(run) -> str | None:
    """None when ``models/rm`` holds a trained RM, else the reason to skip."""
    from cskit.rm.train import is_complete

    d = Path(run.models) / "rm"
    done = is_complete(d) or ((d / "config.json").exists() and not (d / "_trainer").exists())
    return None if done else f"{d} has no trained reward model: run stage 03_reward_model"


def _sample(df: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    return df if not n or len(df) <= n else df.sample(n=int(n), random_state=seed).sort_index()


# --- extraction and shaping (one scoring pass of the rollouts) ---------------------------------------------


def scored_rollouts(cfg, run) -> pd.DataFrame:
    """Rollouts (capped) with category, RM inputs and raw scores under every extraction mode; cached in
    ``data/ablations/rollout_scores.parquet``."""
    path = Path(run.data) / "ablations" / "rollout_scores.parquet"
    if path.exists():
        return pd.read_parquet(path)
    ro = pd.read_parquet(Path(run.data) / "rollouts.parquet")
    ro = _sample(ro, int(param(cfg, "ablation_max_rollouts")), int(cfg.seed)).reset_index(drop=True)
    df = sc.rm_inputs(ro)
    q = df["question"].astype(str).tolist()
    v = df["valid"].to_numpy()
    strict_idx = np.flatnonzero(v)
    questions = [q[i] for i in strict_idx] + sorted(set(q)) + q + q
    codes = (df["in_strict"].iloc[strict_idx].tolist() + [""] * len(set(q)) + df["in_lenient"].tolist()
             + df["in_none"].tolist())
    s = _score_reusing_stage03(_scorer(str(Path(run.models) / "rm"), cfg), questions, codes,
                               stage03_scores(run, ro))
    a, b = len(strict_idx), len(strict_idx) + len(set(q))
    df["score_strict"] = np.nan
    df.loc[strict_idx, "score_strict"] = s[:a]
    empty = dict(zip(sorted(set(q)), s[a:b]))
    df["score_empty"] = [empty[x] for x in q]
    df["score_lenient"] = s[b:b + len(q)]
    df["score_none"] = s[b + len(q):]
    write_parquet(path, df.drop(columns=["test_verdicts"], errors="ignore"))
    return df


def stage03_scores(run, rollouts: pd.DataFrame) -> dict[tuple[str, str], float]:
    """{(question, code): score} of the trained RM from stage 03's ``data/rm_scores/rollouts.parquet`` (it scored
    the strict code, else the lenient one, of each rollout with the same ``models/rm``), to avoid rescoring."""
    path = Path(run.data) / "rm_scores" / "rollouts.parquet"
    try:
        s3 = pd.read_parquet(path, columns=["problem_id", "sample_idx", "scored", "score_trained"])
    except Exception:  # absent, or another layout: simply rescore
        return {}
    m = rollouts.merge(s3[s3.scored.astype(bool)], on=["problem_id", "sample_idx"], how="inner")
    code = m["code_strict"].fillna("").astype(str)
    code = code.where(code.str.strip() != "", m["code_lenient"].fillna("").astype(str))
    return {(q, c): float(v) for q, c, v in zip(m["question"].astype(str), code, m["score_trained"]) if c.strip()}


def _score_reusing_stage03(scorer, questions: list[str], codes: list[str],
                           known: Mapping[tuple[str, str], float]) -> np.ndarray:
    out = np.array([known.get((q, c), np.nan) for q, c in zip(questions, codes)], dtype=float)
    todo = np.flatnonzero(np.isnan(out))
    if len(todo):
        out[todo] = scorer.score([questions[i] for i in todo], [codes[i] for i in todo])
    log.info("ablations: %d of %d RM inputs reused from stage 03, %d scored", len(out) - len(todo), len(out),
             len(todo))
    return out


def ablate_extraction(cfg, run) -> dict:
    why = _rm_ready(run)
    if why:
        return {"skipped": why}
    return sc.extraction_summary(scored_rollouts(cfg, run))


def ablate_shaping(cfg, run) -> dict:
    why = _rm_ready(run)
    if why:
        return {"skipped": why}
    long = sc.shaping_rewards(scored_rollouts(cfg, run))
    write_parquet(Path(run.data) / "ablations" / "shaping_rewards.parquet", long)
    return {"methods": sc.shaping_summary(long), "n_responses": int(long.groupby("method").size().iloc[0]),
            "rewards_table": str(Path(run.data) / "ablations" / "shaping_rewards.parquet")}


# --- small reward models -------------------------------------------------------------------------------------


def load_pairs(run) -> tuple[pd.DataFrame, pd.DataFrame]:
    d = Path(run.data) / "pairs"
    if not (d / "train.parquet").exists():
        raise FileNotFoundError(f"{d / 'train.parquet'} is missing: run stage 02_pairs first")
    train = pd.read_parquet(d / "train.parquet")
    val = pd.read_parquet(d / "val.parquet") if (d / "val.parquet").exists() else train.iloc[:0]
    return train, val


def val_pairs(cfg, run) -> pd.DataFrame:
    """The held-out pairs every small RM is scored on (the same rows for every ablation)."""
    return _sample(load_pairs(run)[1], int(param(cfg, "ablation_val_pairs")), int(cfg.seed)).reset_index(drop=True)


def pair_pool(cfg, train: pd.DataFrame) -> pd.DataFrame:
    """A seeded permutation of (at most ``ablation_rm_pairs``) training pairs; its prefixes are the nested
    data-scale subsets."""
    n = int(param(cfg, "ablation_rm_pairs")) or len(train)
    return train.sample(frac=1.0, random_state=int(cfg.seed)).head(n).reset_index(drop=True)


def rm_config(cfg):
    """The profile with the small-RM sizes applied (epochs, length; steps from epochs)."""
    length = int(param(cfg, "ablation_rm_max_length")) or int(cfg.rm_max_length)
    return cfg.replace(rm_epochs=float(param(cfg, "ablation_rm_epochs")), rm_max_steps=-1,
                       rm_max_length=min(length, int(cfg.rm_max_length)))


def _params_of(path: str) -> int | None:
    try:
        from transformers import AutoConfig

        c = AutoConfig.from_pretrained(path)
        h, n, v = c.hidden_size, c.num_hidden_layers, c.vocab_size
        inter = getattr(c, "intermediate_size", 4 * h)
        return int(v * h + n * (4 * h * h + 3 * h * inter))  # rough: embeddings + attention + MLP
    except Exception:  # pragma: no cover - informational only
        return None


def ablation_backbone(cfg) -> str:
    """The backbone of the pair-source and data-scale RMs (``ablation_rm_model``; 'auto' -> rm_model on a GPU,
    the small backbone on CPU, where one full RM per variant does not fit a minutes budget)."""
    b = str(param(cfg, "ablation_rm_model"))
    if b != "auto":
        return b
    return str(cfg.rm_model) if _device(cfg).startswith("cuda") else str(param(cfg, "ablation_small_rm"))


def backbone_note(cfg, backbone: str) -> str:
    """Says which RM backbone an ablation trained, and whether it is the profile's RM (never substituted silently)."""
    if backbone == str(cfg.rm_model):
        return f"backbone {backbone} (the profile's rm_model)"
    return (f"backbone {backbone} SUBSTITUTED for the profile's rm_model {cfg.rm_model} "
            f"(ablation_rm_model={param(cfg, 'ablation_rm_model')}); compare variants with each other only")


def train_eval_rm(cfg, run, tag: str, train_df: pd.DataFrame, val_df: pd.DataFrame, init_model: str) -> dict:
    """Train a small RM on ``train_df`` (``rm_config``), score ``val_df``, delete the model; cached by ``tag``."""
    rcfg = rm_config(cfg)

    def compute() -> dict:
        from cskit.rm import evaluate_pairs, train_reward_model

        out_dir = Path(run.models) / "ablations" / f"rm-{_slug(tag)}"
        if not len(train_df):
            return {"skipped": "no training pairs"}
        training = train_reward_model(train_df.reset_index(drop=True), None, init_model, out_dir, rcfg)
        ev = evaluate_pairs(_scorer(str(out_dir), rcfg), val_df)
        if not param(cfg, "ablation_keep_models"):
            shutil.rmtree(out_dir, ignore_errors=True)
        return {"tag": tag, "init_model": str(init_model), "n_train_pairs": int(len(train_df)),
                "steps": training.get("steps"), "train_time_s": training.get("train_runtime_s"),
                "loss_first": training.get("loss_first"), "loss_last": training.get("loss_last"),
                "params": training.get("params"), "trainable_params": training.get("trainable_params"),
                "max_length": int(rcfg.rm_max_length), "val": ev}

    return _cached(parts_dir(run) / "rm" / f"{_slug(tag)}.json", compute)


def eval_untrained_rm(cfg, run, init_model: str, val_df: pd.DataFrame) -> dict:
    """The initial RM (same seeded head as training's init) on the val pairs: the 0-pair point."""
    from cskit.models import resolve_model

    def compute() -> dict:
        from cskit.rm import evaluate_pairs

        path = resolve_model(str(init_model), "seqcls")
        ev = evaluate_pairs(_scorer(path, rm_config(cfg), seed=int(cfg.seed)), val_df)
        return {"tag": "untrained", "init_model": str(init_model), "n_train_pairs": 0, "val": ev,
                "params": _params_of(path)}

    return _cached(parts_dir(run) / "rm" / f"untrained-{_slug(init_model)}.json", compute)


def _train_split_ids(cfg, run, val: pd.DataFrame) -> tuple[set, pd.DataFrame]:
    from cskit.pairs import split_problem_ids

    ro = pd.read_parquet(Path(run.data) / "rollouts.parquet")
    tasks = {p.id: p.task for p in _train_problems(cfg)}  # the same task-level split as stage 02
    train_ids, _ = split_problem_ids(ro.problem_id, float(cfg.pairs_val_fraction), int(cfg.seed), tasks)
    train_ids -= set(val.problem_id)
    return train_ids, ro[ro.problem_id.isin(train_ids)]


def _train_problems(cfg):
    from cskit.problems import load_problems

    return load_problems(cfg.train_problems, limit=int(cfg.max_train_problems), seed=int(cfg.seed))


def offpolicy_rollouts(cfg, run) -> pd.DataFrame | None:
    """``data/rollouts_offpolicy.parquet`` (rolled out with ``offpolicy_model`` when absent), or None."""
    path = Path(run.data) / "rollouts_offpolicy.parquet"
    if path.exists():
        return pd.read_parquet(path)
    if not cfg.offpolicy_model:
        return None
    from cskit.models import resolve_model
    from cskit.rollouts import collect_rollouts

    return collect_rollouts(_train_problems(cfg), model_name=resolve_model(cfg.offpolicy_model),
                            out_path=path, cfg=cfg)


def pair_source_sets(cfg, run, train: pd.DataFrame, val: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Training pairs per source, from training-split problems only, each capped at ``ablation_rm_pairs``."""
    from cskit.pairs import build_pairs

    problems = _train_problems(cfg)
    train_ids, ro_train = _train_split_ids(cfg, run, val)
    kw = dict(max_per_problem=int(cfg.pairs_max_per_problem), hard_negatives=bool(cfg.pairs_hard_negatives),
              dedup=bool(cfg.pairs_dedup), seed=int(cfg.seed))
    on = train[train.pair_source == "on_policy"]
    ref = build_pairs(ro_train[~ro_train.passed.astype(bool)], problems, reference_positives=True, **kw)
    aug = pd.concat([on, ref[ref.pair_source == "reference"]], ignore_index=True)
    aug = aug.drop_duplicates(subset=["question_content", "code_pos", "code_neg"])
    sets = {"on_policy": on, "reference_augmented": aug}
    off = offpolicy_rollouts(cfg, run)
    if off is not None:
        offp = build_pairs(off[off.problem_id.isin(train_ids)], problems, source="off_policy",
                           reference_positives=True, **kw)
        sets["off_policy"] = offp
    cap = int(param(cfg, "ablation_rm_pairs"))
    return {k: _sample(v, cap, int(cfg.seed)).reset_index(drop=True) for k, v in sets.items()}


def _rm_row(res: dict) -> dict:
    v = res.get("val", {})
    return {"n_train_pairs": res.get("n_train_pairs"), "steps": res.get("steps"),
            "val_accuracy": v.get("accuracy"), "val_accuracy_se": v.get("accuracy_se"),
            "val_accuracy_ci": v.get("accuracy_ci"),
            "val_mean_margin": v.get("mean_margin"), "n_val_pairs": v.get("n_pairs"),
            "train_time_s": res.get("train_time_s"), "params": res.get("params"),
            **({"skipped": res["skipped"]} if res.get("skipped") else {})}


def ablate_pair_source(cfg, run) -> dict:
    train, _ = load_pairs(run)
    val = val_pairs(cfg, run)
    if not len(val):
        return {"skipped": "no held-out val pairs"}
    sets = pair_source_sets(cfg, run, train, val)
    backbone = ablation_backbone(cfg)
    out: dict[str, Any] = {"n_val_pairs": int(len(val)), "backbone": backbone, "variants": {},
                           "backbone_note": backbone_note(cfg, backbone)}
    for name in PAIR_SOURCES:
        df = sets.get(name)
        if df is None:
            out["variants"][name] = {"skipped": "no offpolicy_model and no data/rollouts_offpolicy.parquet"}
            continue
        if not len(df):
            out["variants"][name] = {"n_train_pairs": 0, "skipped": f"no {name} pairs could be built"}
            continue
        res = train_eval_rm(cfg, run, f"pair_source-{name}-{backbone}", df, val, backbone)
        row = _rm_row(res)
        row["by_source"] = {str(k): int(v) for k, v in df.pair_source.value_counts().items()}
        out["variants"][name] = row
    return out


def ablate_data_scale(cfg, run) -> dict:
    train, _ = load_pairs(run)
    val = val_pairs(cfg, run)
    if not len(val) or not len(train):
        return {"skipped": "no train or val pairs"}
    pool = pair_pool(cfg, train)
    backbone = ablation_backbone(cfg)
    rows = {"0": _rm_row(eval_untrained_rm(cfg, run, backbone, val))}
    for f in sorted(set(_list(cfg, "ablation_data_fractions", float))):
        n = max(1, int(math.ceil(f * len(pool))))
        tag = "pool" if n == len(pool) else f"data_scale-{n}"
        rows[f"{f:g}"] = {"fraction": f, **_rm_row(train_eval_rm(cfg, run, f"{tag}-{backbone}",
                                                                  pool.head(n), val, backbone))}
    rows["0"]["fraction"] = 0.0
    ref = None
    if not _rm_ready(run):  # the stage-03 RM (all pairs, the profile's full budget) on the same val pairs
        def compute():
            from cskit.rm import evaluate_pairs, pair_metrics

            keys = ["question_content", "code_pos", "code_neg"]
            try:  # stage 03 already scored its val pairs with this RM: reuse when they cover ours
                v3 = pd.read_parquet(Path(run.data) / "rm_scores" / "val_pairs.parquet",
                                     columns=keys + ["margin_trained"]).drop_duplicates(subset=keys)
                m = val.merge(v3, on=keys, how="left")
                if len(m) == len(val) and m["margin_trained"].notna().all():
                    return {"val": pair_metrics(m.rename(columns={"margin_trained": "margin"})),
                            "reused_stage03_scores": True}
            except Exception:  # absent or another layout: score
                pass
            return {"val": evaluate_pairs(_scorer(str(Path(run.models) / "rm"), cfg), val)}

        ref = _cached(parts_dir(run) / "rm" / "stage03-rm.json", compute)["val"]
    return {"backbone": backbone, "backbone_note": backbone_note(cfg, backbone), "n_pool": int(len(pool)), "n_train_pairs_available": int(len(train)),
            "n_val_pairs": int(len(val)),
            "fractions": rows, "stage03_rm_val": ref}


def ablate_rm_size(cfg, run) -> dict:
    train, _ = load_pairs(run)
    val = val_pairs(cfg, run)
    if not len(val) or not len(train):
        return {"skipped": "no train or val pairs"}
    pool = pair_pool(cfg, train).head(int(param(cfg, "ablation_size_pairs")) or None)
    backbones = list(dict.fromkeys([str(param(cfg, "ablation_small_rm")), str(cfg.rm_model)]))
    rows = {}
    for b in backbones:
        res = train_eval_rm(cfg, run, f"size-{len(pool)}-{b}", pool, val, b)
        rows[b] = {**_rm_row(res), "role": "profile rm_model" if b == cfg.rm_model else "small backbone"}
    return {"n_train_pairs": int(len(pool)), "n_val_pairs": int(len(val)), "backbones": rows,
            "note": None if len(backbones) > 1 else "ablation_small_rm equals rm_model: one size only"}


# --- short RL runs --------------------------------------------------------------------------------------------


def rl_config(cfg, variant: str):
    val = int(param(cfg, "ablation_rl_val_problems"))
    prompts = int(param(cfg, "ablation_rl_prompts_per_step")) or int(cfg.rl_prompts_per_step)
    length = int(param(cfg, "ablation_rl_max_completion_length")) or int(cfg.rl_max_completion_length)
    return cfg.replace(rl_steps=int(param(cfg, "ablation_rl_steps")), rl_prompts_per_step=prompts,
                       rl_max_completion_length=min(length, int(cfg.rl_max_completion_length)),
                       rl_shaping="softplus" if variant == "raw_rm" else variant,
                       rl_eval_steps=1 if val > 0 else 0, rl_val_max_problems=max(val, 1),
                       rl_save_steps=0, rl_warmup_steps=0)


def ablate_rl(cfg, run) -> dict:
    why = _rm_ready(run)
    if why:
        return {"skipped": why}
    variants = _list(cfg, "ablation_rl_variants")
    bad = [v for v in variants if v not in RL_VARIANTS]
    if bad:
        raise ValueError(f"ablation_rl_variants: unknown {bad}; expected some of {list(RL_VARIANTS)}")
    if not variants or int(param(cfg, "ablation_rl_steps")) <= 0:
        return {"skipped": "no RL variants or ablation_rl_steps = 0", "variants": {}}
    out: dict[str, Any] = {"steps": int(param(cfg, "ablation_rl_steps")), "variants": {}}
    for v in variants:
        def compute(v=v) -> dict:
            from cskit.rl import train_grpo

            reward = "raw_rm" if v == "raw_rm" else "codescaler"
            name = f"ablations/rl-{v}"
            res = train_grpo(rl_config(cfg, v), run, reward, name)
            if not param(cfg, "ablation_keep_models"):
                for p in (Path(run.models) / name).iterdir():
                    if p.name != "cskit_rl.json":
                        shutil.rmtree(p) if p.is_dir() else p.unlink()
            return {"variant": v, "reward": reward, "shaping": res.get("shaping"),
                    "extraction": "lenient, no gate" if v == "raw_rm" else "strict" + (
                        "" if v in ("raw", "softplus_nogate") else " + gate"),
                    "steps": res.get("steps", []), "train_time_s": res.get("train_time_s"),
                    "layout": res.get("layout")}

        out["variants"][v] = _cached(parts_dir(run) / "rl" / f"{v}.json", compute)
    return out


# --- stage -----------------------------------------------------------------------------------------------------

FUNCS: dict[str, Callable] = {"extraction": ablate_extraction, "shaping": ablate_shaping,
                              "pair_source": ablate_pair_source, "data_scale": ablate_data_scale,
                              "rm_size": ablate_rm_size, "rl": ablate_rl}


def run_ablations(cfg, run) -> dict:
    """Stage 06 (see the module docstring): every ablation of ``ablations``, each resumable."""
    from cskit.runinfo import write_stage_results

    wanted = _list(cfg, "ablations")
    bad = [a for a in wanted if a not in FUNCS]
    if bad:
        raise ValueError(f"ablations: unknown {bad}; expected some of {list(ABLATIONS)}")
    if not (Path(run.data) / "rollouts.parquet").exists():
        raise FileNotFoundError(f"{Path(run.data) / 'rollouts.parquet'} is missing: run stage 01_rollouts first")
    metrics: dict[str, Any] = {"ablations": wanted,
                               "sizes": {k: getattr(cfg, k) for k in cfg.keys() if k.startswith("ablation_")}}
    for name in wanted:
        log.info("ablation %s ...", name)
        metrics[name] = _cached(parts_dir(run) / f"{name}.json", lambda name=name: FUNCS[name](cfg, run))
    for name in FUNCS:  # every ablation has an entry, so tables and plots never miss a key
        metrics.setdefault(name, {"skipped": "not selected in the `ablations` parameter"})
    metrics["wall_s"] = {k: metrics[k].get("wall_s") for k in wanted}
    from cskit.ablations.plots import save_figures

    save_figures(metrics, run)
    write_stage_results(run, STAGE, cfg, metrics)
    return metrics




# --- tables -------------------------------------------------------------------------------------------------------


def ablation_tables(metrics: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """One pandas table per ablation present in ``metrics`` (``run_ablations``' result)."""
    t: dict[str, pd.DataFrame] = {}
    ex = metrics.get("extraction", {})
    if ex.get("modes"):
        t["extraction"] = sc.extraction_table(ex)
        t["extraction_by_category"] = pd.DataFrame(ex["by_category"]).set_index("category")
    sh = metrics.get("shaping", {})
    if sh.get("methods"):
        t["shaping"] = sc.shaping_table(sh["methods"])
    ps = metrics.get("pair_source", {})
    rm_cols = ("n_train_pairs", "val_accuracy", "val_accuracy_ci", "val_accuracy_se", "val_mean_margin", "n_val_pairs",
               "steps")
    if ps.get("variants"):
        t["pair_source"] = _frame(ps["variants"], "pair source", rm_cols + ("skipped",))
        t["pair_source"]["backbone"] = ps.get("backbone_note") or ps.get("backbone")
    ds = metrics.get("data_scale", {})
    if ds.get("fractions"):
        t["data_scale"] = _frame({v.get("fraction"): v for v in ds["fractions"].values()}, "fraction",
                                 rm_cols).sort_index()
        t["data_scale"]["backbone"] = ds.get("backbone_note") or ds.get("backbone")
        ref = ds.get("stage03_rm_val") or {}
        if ref.get("accuracy") is not None:   # the stage-03 RM (all train pairs, full budget), same val pairs
            t["data_scale"].loc["stage-03 RM"] = {"n_train_pairs": ds.get("n_train_pairs_available"),
                                                 "val_accuracy": ref.get("accuracy"),
                                                 "val_accuracy_se": ref.get("accuracy_se"),
                                                 "val_mean_margin": ref.get("mean_margin"),
                                                 "n_val_pairs": ref.get("n_pairs")}
    rs = metrics.get("rm_size", {})
    if rs.get("backbones"):
        t["rm_size"] = _frame(rs["backbones"], "backbone", ("role", "params") + rm_cols + ("train_time_s",))
    rl = metrics.get("rl", {})
    if rl.get("variants"):
        t["rl"] = rl_table(rl)
    return t


def _frame(rows: Mapping[Any, Mapping[str, Any]], index: str, cols) -> pd.DataFrame:
    return pd.DataFrame([{index: k, **{c: v.get(c) for c in cols}} for k, v in rows.items()]).set_index(index)


def rl_table(rl: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for v, d in rl.get("variants", {}).items():
        steps = [s for s in d.get("steps", []) if s.get("rl_step", 0) > 0 and "valid_rate" in s]
        vr = [s["valid_rate"] for s in steps]
        rows.append({"variant": v, "extraction": d.get("extraction"), "steps": len(steps),
                     "valid_rate_first": vr[0] if vr else None, "valid_rate_last": vr[-1] if vr else None,
                     "valid_rate_mean": float(np.mean(vr)) if vr else None,
                     "reward_mean": float(np.mean([s.get("reward_mean", np.nan) for s in steps])) if steps else None,
                     "completion_length_last": steps[-1].get("completion_length") if steps else None,
                     "val_pass_rate_last": next((s["val_pass_rate"] for s in reversed(d.get("steps", []))
                                                 if "val_pass_rate" in s), None),
                     "train_time_s": d.get("train_time_s")})
    return pd.DataFrame(rows).set_index("variant") if rows else pd.DataFrame()
