"""Stage 07: the reproduction report -- every stage's ``results/*.json`` in paper-shaped tables, beside the
paper's own numbers where the spec has them, as one shareable HTML file.

Tables (:func:`report_tables`; each is always present: a missing stage gives a one-row "missing" table):

* ``overview`` -- per stage: present / missing, key numbers, wall time, link to its rendered notebook;
* ``rl`` -- rows: base model, execution-reward RL, CodeScaler RL, other baselines present (stage 04), plus the
  paper's single per-benchmark row (recipe: "RL (GRPO)", third-party, avg@8); columns: benchmarks + Average (%);
* ``rl_deltas`` -- CodeScaler RL minus base and minus execution RL (average), ours vs the paper's
  (v1: +11.72 over Qwen3-8B-Base, +1.82 over execution RL; v2: +1.55 / +4.23, +14.64 with 44K problems);
* ``scaling`` / ``scaling_vs_paper`` -- the execution-free scaling rows (``results/04b_scaling.json``, written
  at the end of notebook 04 when ``scaling_enabled``) and the paper's +14.64 (v2, test-free data) and
  KodCode-vs-DeepCoder execution-RL example beside this run's differences;
* ``bon_accuracy`` / ``bon_latency`` / ``bon_claim`` -- Best-of-N accuracy per selector x N, selection
  latency, and the paper's claim (comparable accuracy to CURE-style unit tests at ~10x lower latency)
  checked against this run's RM vs unit-test selectors;
* ``rm`` and ``rmbench`` -- held-out pairwise accuracy of the trained vs untrained RM, and the paper's
  RM-Bench table (recipe: "RM-Bench") with this run's rows appended;
* ``ablation_<name>`` -- stage 06's tables (:func:`cskit.ablations.ablation_tables`).

:func:`run_report` writes ``results/07_report.json`` and a self-contained ``html/report.html`` (tables plus
every figure embedded as base64, links to the stage notebooks' HTML). The executed notebook itself lives in
``outputs/<run>/notebooks/`` and its nbconvert HTML in ``outputs/<run>/html/``, so the stage links are
``../html/NN_<stage>.html`` from both places.
"""
from __future__ import annotations

import base64
import html as _html
import math
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from cskit.io import read_json, write_text
from cskit.report.paper import (PAPER_BON_CLAIM, PAPER_RL_DELTAS, PAPER_RL_ROW, PAPER_SCALING, rm_size_rows,
                                rmbench_table)

STAGE = "07_report"
STAGES = ("01_rollouts", "02_pairs", "03_reward_model", "04_rl", "05_best_of_n", "06_ablations")
EXTRA_RESULTS = {"04b_scaling": "04_rl"}   # results written inside another stage's notebook -> that notebook
STAGE_TITLES = {"04b_scaling": "Execution-free scaling (in notebook 04)", "01_rollouts": "Rollouts", "02_pairs": "Preference pairs", "03_reward_model": "Reward model",
                "04_rl": "GRPO (RL)", "05_best_of_n": "Best-of-N", "06_ablations": "Ablations",
                "07_report": "Report"}
METHOD_LABELS = {"base": "base model", "execution": "execution-reward RL", "codescaler": "CodeScaler RL",
                 "raw_rm": "raw-RM RL (no gate, no shaping)", "untrained_rm": "untrained-RM RL"}
METHOD_ORDER = ("base", "execution", "codescaler", "raw_rm", "untrained_rm")

LINK_BASE = "../html"


# --- collecting -----------------------------------------------------------------------------------------------


def collect_results(run) -> dict[str, dict | None]:
    """``results/<stage>.json`` of every stage (None when missing or unreadable)."""
    out: dict[str, dict | None] = {}
    for s in STAGES + tuple(EXTRA_RESULTS):
        p = Path(run.results) / f"{s}.json"
        try:
            out[s] = read_json(p) if p.exists() else None
        except (OSError, ValueError):
            out[s] = None
    m03 = _metrics(out, "03_reward_model")
    scores = Path(run.data) / "rm_scores" / "val_pairs.parquet"
    if m03 and "val_accuracy_trained_minus_untrained_by_source" not in m03 and scores.exists():
        # results of a stage 03 that predates the per-source comparison: derive it from its saved scores
        from cskit.rm import paired_accuracy_by_source

        v = pd.read_parquet(scores)
        if {"margin_trained", "margin_untrained", "pair_source", "problem_id"} <= set(v.columns):
            m03["val_accuracy_trained_minus_untrained_by_source"] = paired_accuracy_by_source(v)
    return out


def _metrics(results: Mapping[str, Any], stage: str) -> dict:
    r = results.get(stage)
    return (r or {}).get("metrics", {}) if isinstance(r, Mapping) else {}


def _missing(stage: str, what: str = "") -> pd.DataFrame:
    return pd.DataFrame([{"status": f"stage {stage} missing: no results/{stage}.json"
                                    + (f" ({what})" if what else "") + "; run it to fill this table"}])


def _num(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v


def run_info(run, results: Mapping[str, Any]) -> dict[str, Any]:
    """Profile, hardware, versions and commit from ``manifest.json`` (pipeline runs) or the stage results."""
    man_path = Path(run.root) / "manifest.json"
    manifest = read_json(man_path) if man_path.exists() else {}
    env = manifest.get("environment") or {}
    params = manifest.get("params") or {}
    for s in STAGES:  # fall back to (and enrich from) the stages' own manifests
        m = (results.get(s) or {}).get("manifest") or {}
        if not env and m:
            env = {k: m.get(k) for k in ("time", "versions", "git", "hardware")}
        params = params or m.get("params") or {}
        gpus = (m.get("hardware") or {}).get("gpus")
        if gpus is not None and "gpus" not in (env.get("hardware") or {}):
            env.setdefault("hardware", {})["gpus"] = gpus
    hw = env.get("hardware") or {}
    used = [_metrics(results, "05_best_of_n").get("device"),
            (_metrics(results, "03_reward_model").get("training") or {}).get("device")]
    used += [t.get("device") for t in (_metrics(results, "04_rl").get("training") or {}).values()
             if isinstance(t, Mapping)]
    return {"run": manifest.get("run", Path(run.root).name), "devices_used": sorted({str(d) for d in used if d}), "profile": params.get("profile", manifest.get("profile")),
            "description": params.get("description"), "policy_model": params.get("policy_model"),
            "rm_model": params.get("rm_model"), "device": params.get("device"),
            "cpu": hw.get("cpu"), "cores": hw.get("cores"), "gpus": hw.get("gpus"),
            "platform": hw.get("platform"), "python": hw.get("python"),
            "versions": {k: v for k, v in (env.get("versions") or {}).items() if v},
            "git": env.get("git"), "stage_times_s": {k: v.get("duration_s") for k, v in
                                                      (manifest.get("stages") or {}).items()},
            "from_manifest": bool(manifest)}


def stage_links(run, base: str = LINK_BASE) -> list[dict[str, Any]]:
    html_dir = Path(run.root) / "html"
    return [{"stage": s, "title": STAGE_TITLES[s], "href": f"{base}/{s}.html",
             "rendered": (html_dir / f"{s}.html").exists()} for s in STAGES]


# --- tables ---------------------------------------------------------------------------------------------------


def overview_table(run, results: Mapping[str, Any]) -> pd.DataFrame:
    info = run_info(run, results)
    rows = []
    for s in sorted(STAGES + tuple(EXTRA_RESULTS)):
        m = _metrics(results, s)
        key = ""
        if s == "01_rollouts" and m:
            key = (f"{m.get('samples')} samples, pass {_num(m.get('pass_rate')):.2f}, "
                   f"valid {_num(m.get('validity_rate')):.2f}")
        elif s == "02_pairs" and m:
            key = f"{m.get('pairs_train')} train / {m.get('pairs_val')} val pairs"
        elif s == "03_reward_model" and m:
            h = m.get("headline", {})
            key = (f"val acc {_num(h.get('val_accuracy_trained')):.3f} "
                   f"(untrained {_num(h.get('val_accuracy_untrained')):.3f})")
        elif s == "04_rl" and m:
            key = f"methods {', '.join(m.get('methods', []))}; {m.get('metric', '')}"
        elif s == "05_best_of_n" and m:
            key = f"{m.get('problems')} problems, N in {m.get('n_values')}"
        elif s == "06_ablations" and m:
            key = ", ".join(m.get("ablations", []))
        elif s == "04b_scaling" and m:
            key = f"rows {', '.join(m.get('rows', []))}" if m.get("enabled") else "disabled in this profile"
        status = "present" if results.get(s) else ("MISSING (optional)" if s in EXTRA_RESULTS else "MISSING")
        rows.append({"stage": s, "title": STAGE_TITLES[s], "status": status,
                     "key numbers": key, "wall time (s)": info["stage_times_s"].get(EXTRA_RESULTS.get(s, s)),
                     "notebook": f"{LINK_BASE}/{EXTRA_RESULTS.get(s, s)}.html"})
    return pd.DataFrame(rows).set_index("stage")


def size_table(results: Mapping[str, Any]) -> pd.DataFrame:
    """The report's first table: how big this run is, and where its pairs come from. A run whose pairs are less
    than half on-policy (the paper's are all on-policy, from the RLVR trajectory) says so here."""
    params = {}
    for s in STAGES:
        params = ((results.get(s) or {}).get("manifest") or {}).get("params") or params
        if params:
            break
    r01, r02, r03 = (_metrics(results, s) for s in ("01_rollouts", "02_pairs", "03_reward_model"))
    r04, r05 = _metrics(results, "04_rl"), _metrics(results, "05_best_of_n")
    rows = []

    def add(what, value, note=""):
        rows.append({"what": what, "value": value, "note": note})

    add("rollouts", f"{r01.get('samples', 'n/a')} on {r01.get('problems', 'n/a')} problems",
        f"source: {r01.get('rollout_source', params.get('rollout_source', 'n/a'))}"
        + (f"; {r01['rlvr_steps']} RLVR steps" if r01.get("rlvr_steps") else ""))
    if r02:
        add("pairs (train / val)", f"{r02.get('pairs_train')} / {r02.get('pairs_val')}",
            f"problems {r02.get('problems_train')} / {r02.get('problems_val')}")
        for split, counts in (r02.get("by_source_split") or {}).items():
            add(f"pairs by source ({split})", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none")
        share = r02.get("on_policy_share")
        if share is not None:
            warn = ("WARNING: less than half of the pairs are on-policy; the paper trains on on-policy pairs only"
                    if share < 0.5 else "")
            add("on-policy share of pairs", f"{share:.0%}", warn)
    if r03:
        steps = (r03.get("training") or {}).get("train", {}).get("steps") or (r03.get("training") or {}).get("steps")
        add("RM training", f"{steps if steps is not None else 'n/a'} optimizer steps",
            f"init {r03.get('init_model')}; pairs from {r03.get('pairs_source', 'run')}")
    if r04:
        for m, t in (r04.get("training") or {}).items():
            lay = (t or {}).get("layout") or {}
            n_steps = sum(1 for r in ((t or {}).get("steps") or []) if r.get("rl_step", 0) > 0)   # 0 = before training
            add(f"GRPO ({m})", f"{n_steps} rounds x {lay.get('prompts_per_step')} prompts x "
                f"{lay.get('num_generations')} generations", "cached from stage 01" if t.get("cached") else "")
        add("RL evaluation", f"{', '.join(f'{k} {v}' for k, v in (r04.get('benchmarks') or {}).items())} problems",
            r04.get("metric", ""))
    if r05:
        add("Best-of-N", f"{r05.get('problems')} problems, N in {r05.get('n_values')}")
    return pd.DataFrame(rows).set_index("what") if rows else _missing("01_rollouts")


def rl_paired_table(results: Mapping[str, Any]) -> pd.DataFrame:
    """The paper's RL comparisons on this run (stage 04 and the scaling rows), paired on the same problems:
    avg@k difference (points) with its 95% interval; a difference whose interval covers 0 reads "no detectable
    difference"."""
    rows = []
    comparisons = [(n, c) for n, c in (_metrics(results, "04_rl").get("comparisons") or {}).items()]
    comparisons += [(f"scaling: {n}", c) for n, c in (_metrics(results, "04b_scaling").get("comparisons") or {}).items()]
    for name, c in comparisons:
        for bench, d in c.items():
            if not isinstance(d, Mapping) or "diff" not in d:
                continue
            lo, hi = d["ci"]
            rows.append({"comparison": name, "benchmark": "all problems" if bench == "all" else bench,
                         "difference (points)": round(100 * d["diff"], 2),
                         "95% CI (points)": f"[{100 * lo:.1f}, {100 * hi:.1f}]", "problems (n)": d["n"],
                         "reading": d["verdict"] if d["verdict"] != "a > b" and d["verdict"] != "a < b"
                         else ("first higher" if d["diff"] > 0 else "second higher")})
    if not rows:
        return _missing("04_rl", "no paired comparison")
    return pd.DataFrame(rows).set_index(["comparison", "benchmark"])


def probes_pooled_table(results: Mapping[str, Any]) -> pd.DataFrame:
    """The probes of each RM-rewarded method pooled over its GRPO steps, each with n and a 95% interval."""
    from cskit.rl.probes import probe_summary

    rows = []
    for m, t in (_metrics(results, "04_rl").get("training") or {}).items():
        if not isinstance(t, Mapping) or not t.get("probes"):
            continue
        s = t.get("probes_pooled") or probe_summary(t["probes"])

        def fmt(d):
            return (f"{d['value']:.3f} [{d['ci'][0]:.3f}, {d['ci'][1]:.3f}] (n = {d['n']})"
                    if isinstance(d, Mapping) and d.get("n") else "-")
        rows.append({"method": m, "probed completions": s.get("n"), "GRPO steps": s.get("steps"),
                     "pass rate": fmt(s.get("pass_rate")), "AUROC (RM reward vs execution)": fmt(s.get("auroc")),
                     "failing share of high-reward completions": fmt(s.get("high_reward_fail_share")),
                     "invalid share": fmt(s.get("invalid_share")), "note": s.get("note", "")})
    if not rows:
        return _missing("04_rl", "no probes (rl_probe_share = 0 or no RM-rewarded method)")
    return pd.DataFrame(rows).set_index("method")


def probes_table(results: Mapping[str, Any]) -> pd.DataFrame:
    """Reward-hacking probes of stage 04 (beyond the paper): per RM-rewarded method and GRPO step."""
    rows = [{"method": m, **r} for m, t in (_metrics(results, "04_rl").get("training") or {}).items()
            if isinstance(t, Mapping) for r in (t.get("probes") or [])]
    if not rows:
        return _missing("04_rl", "no probes (rl_probe_share = 0 or no RM-rewarded method)")
    return pd.DataFrame(rows).set_index(["method", "grpo_step"]).round(3)


def rl_table(results: Mapping[str, Any]) -> pd.DataFrame:
    """Our RL table (stage 04) with the paper's per-benchmark row beside it (values in %)."""
    m = _metrics(results, "04_rl")
    table = m.get("table") or {}
    policy = ((results.get("04_rl") or {}).get("manifest") or {}).get("params", {}).get("policy_model")
    rows = []
    order = [k for k in METHOD_ORDER if k in table] + [k for k in table if k not in METHOD_ORDER]
    for k in order:
        label = METHOD_LABELS.get(k, k)
        if k == "base" and policy:
            label = f"base model ({policy})"
        rows.append({"method": label, "source": f"this run ({m.get('metric', 'avg@k')})", "_key": k, **table[k]})
    if not rows:
        rows.append({"method": "(stage 04_rl missing)", "source": "this run"})
    sc = _metrics(results, "04b_scaling")
    if sc.get("enabled") and sc.get("same_eval_as_stage04") and sc.get("table"):
        # the scaling runs were evaluated on the same problems, so they join the table as rows
        labels = sc.get("labels", {})
        for k, v in sc["table"].items():
            if k != "base":
                rows.append({"method": f"scaling: {labels.get(k, k)}",
                             "source": f"this run, 04b_scaling ({sc.get('metric', m.get('metric', 'avg@k'))})",
                             "_pooled": (sc.get("pooled") or {}).get(k), **v})
    rows.append({"method": "CodeScaler RL, Qwen3-8B-Base (probably)",
                 "source": "paper (docs/recipe.md, RL (GRPO): third-party row, avg@8)",
                 **PAPER_RL_ROW})
    pooled = m.get("pooled") or {}
    for r in rows:   # this run's methods: avg@k over all evaluated problems, n and 95% interval
        p = r.pop("_pooled", None) or pooled.get(r.pop("_key", None))
        r.pop("_key", None)
        if p and p.get("n"):
            r["all problems: avg@k % [95% CI] (n)"] = (f"{100 * p['value']:.1f} [{100 * p['ci'][0]:.1f}, "
                                                      f"{100 * p['ci'][1]:.1f}] (n = {p['n']})")
    df = pd.DataFrame(rows).set_index("method")
    extra = [c for c in df.columns if c.startswith("all problems")]
    cols = ["source"] + [c for c in df.columns if c not in ("source", "Average", *extra)] + ["Average"] + extra
    return df[cols]


def rl_deltas(results: Mapping[str, Any]) -> pd.DataFrame:
    table = _metrics(results, "04_rl").get("table") or {}
    avg = {k: _num(v.get("Average")) for k, v in table.items()}
    ours = {"CodeScaler RL - base model (Average)": avg.get("codescaler", math.nan) - avg.get("base", math.nan),
            "CodeScaler RL - execution RL (Average)": avg.get("codescaler", math.nan) - avg.get("execution", math.nan)}
    rows = []
    for name, paper in PAPER_RL_DELTAS.items():
        rows.append({"comparison": name, "this run (points)": ours[name], **paper})
    return pd.DataFrame(rows).set_index("comparison")


def scaling_tables(results: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """The execution-free scaling rows (``results/04b_scaling.json``, written by notebook 04) and the paper's
    two scaling numbers beside this run's differences."""
    m = _metrics(results, "04b_scaling")
    table = m.get("table") or {}
    if not table:
        why = "scaling_enabled is false" if m and not m.get("enabled") else ""
        return {"scaling": _missing("04b_scaling", why or "optional: scaling_enabled, end of notebook 04")}
    labels = m.get("labels", {})
    df = pd.DataFrame([{"method": labels.get(k, k), "reward": m.get("rewards", {}).get(k, "-"),
                        "train problems": m.get("n_train_problems", {}).get(k), **v} for k, v in table.items()])
    avg = {k: _num(v.get("Average")) for k, v in table.items()}
    ours = [avg.get("testfree", math.nan) - avg.get("base", math.nan),
            avg.get("weak_tests", math.nan) - avg.get("verified", math.nan)]
    claims = pd.DataFrame([{"comparison": k, "this run (points)": o, **p}
                           for (k, p), o in zip(PAPER_SCALING.items(), ours)]).set_index("comparison")
    return {"scaling": df.set_index("method"), "scaling_vs_paper": claims}


def bon_tables(results: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    m = _metrics(results, "05_best_of_n")
    if not m.get("accuracy"):
        return {k: _missing("05_best_of_n") for k in ("bon_accuracy", "bon_latency", "bon_claim")}
    def cell(v):
        a = 100 * _num(v.get("accuracy"))
        lo, hi = 100 * _num(v.get("ci_lo")), 100 * _num(v.get("ci_hi"))
        return f"{a:.1f} [{lo:.1f}, {hi:.1f}]"

    acc = pd.DataFrame({sel: {int(n): cell(v) for n, v in d.items()} for sel, d in m["accuracy"].items()}).T
    acc.index.name, acc.columns.name = f"selector: accuracy % [95% CI], n = {m.get('problems')} problems", "N"
    paired = []
    for n, comps in sorted((m.get("paired") or {}).items(), key=lambda x: int(x[0])):
        for name, d in comps.items():
            lo, hi = d["ci"]
            paired.append({"N": int(n), "comparison": name, "difference (points)": round(100 * d["diff"], 1),
                           "95% CI (points)": f"[{100 * lo:.1f}, {100 * hi:.1f}]", "problems (n)": d["n"],
                           "reading": "no detectable difference" if d["verdict"] == "no detectable difference"
                           else ("RM higher" if d["diff"] > 0 else "RM lower")})
    lat = pd.DataFrame({sel: {int(n): _num(v.get("selection_s")) for n, v in d.items()}
                        for sel, d in m.get("latency_s", {}).items()}).T
    lat.index.name, lat.columns.name = "selector (selection s/problem)", "N"
    rows = []
    for n in sorted(int(x) for x in m["accuracy"].get("rm", {})):
        a_rm = _num(m["accuracy"].get("rm", {}).get(str(n), {}).get("accuracy"))
        a_ut = _num(m["accuracy"].get("unit_tests", {}).get(str(n), {}).get("accuracy"))
        rows.append({"N": n, "RM accuracy (%)": 100 * a_rm, "unit-test accuracy (%)": 100 * a_ut,
                     "RM - unit tests (points)": 100 * (a_rm - a_ut),
                     "selection latency ratio (unit tests / RM)":
                         _num(m.get("selection_latency_ratio_unit_tests_over_rm", {}).get(str(n))),
                     "total latency ratio (unit tests / RM)":
                         _num(m.get("total_latency_ratio_unit_tests_over_rm", {}).get(str(n))),
                     "paper": PAPER_BON_CLAIM if n == max(int(x) for x in m["accuracy"]["rm"]) else ""})
    wall = m.get("selection_latency_ratio_wall_at_nmax") or {}
    par = m.get("parallel_exec_wall_s_at_nmax") or {}
    latency_headline = pd.DataFrame([{
        "N": max(m.get("n_values") or [0]),
        "unit tests / RM, wall clock (same parallelism) -- headline": _num(wall.get("ratio")),
        "unit tests wall s/problem": _num(wall.get("unit_tests_s")), "RM wall s/problem": _num(wall.get("rm_s")),
        "unit-test executions, serial sum s/problem": _num(par.get("serial_unit_tests")),
        "unit-test executions, wall s/problem": _num(par.get("unit_tests")), "problems (n)": wall.get("n")}]
    ).set_index("N")
    out = {"bon_accuracy": acc.sort_index(axis=1), "bon_latency": lat.sort_index(axis=1),
           "bon_latency_wall": latency_headline, "bon_claim": pd.DataFrame(rows).set_index("N")}
    if paired:
        out["bon_paired"] = pd.DataFrame(paired).set_index(["N", "comparison"])
    return out


def rm_tables(results: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    m = _metrics(results, "03_reward_model")
    extra = {}
    for name in ("untrained", "trained"):
        for key, label in (("rmbench", "RM-Bench"), ("rmbench_code", "HumanEval code bench")):
            if key in m.get(name, {}):
                extra[f"this run: {name} RM ({label})"] = m[name][key]
    bench = rmbench_table(extra).set_index("model")
    if not m:
        return {"rm": _missing("03_reward_model"), "rmbench": bench}
    rows, by_source = [], []
    for name in ("untrained", "trained"):
        d = m.get(name, {})
        v, r = d.get("val", {}), d.get("rollouts", {})
        ci = v.get("accuracy_ci") or [None, None]
        cp = v.get("accuracy_ci_by_problem") or [None, None]
        rows.append({"RM": f"{name} ({m.get('init_model', '')})", "val pairwise accuracy": v.get("accuracy"),
                     "95% CI": f"[{_num(ci[0]):.3f}, {_num(ci[1]):.3f}]" if ci[0] is not None else "",
                     "95% CI over problems": f"[{_num(cp[0]):.3f}, {_num(cp[1]):.3f}]" if cp[0] is not None else "",
                     "val pairs (n)": v.get("n_pairs"), "val problems (n)": v.get("n_problems"),
                     "val mean margin": v.get("mean_margin"),
                     "train accuracy": d.get("train", {}).get("accuracy"),
                     "rollout AUROC (pass vs fail)": r.get("auroc"),
                     "AUROC 95% CI (over problems)": (f"[{_num(r['auroc_ci'][0]):.3f}, {_num(r['auroc_ci'][1]):.3f}]"
                                                      if r.get("auroc_ci") else ""),
                     "AUROC on": m.get("rollouts_scope", "all rollouts")})
        for src, rr in (v.get("by_pair_source_rate") or {}).items():
            by_source.append({"RM": name, "pair source": src, "val accuracy": rr["value"], "n": rr["n"],
                              "95% CI": f"[{rr['ci'][0]:.3f}, {rr['ci'][1]:.3f}]"})
    diff = m.get("val_accuracy_trained_minus_untrained")
    out = {"rm": pd.DataFrame(rows).set_index("RM"), "rmbench": bench}
    by_src = m.get("val_accuracy_trained_minus_untrained_by_source") or {}
    if diff:
        rows_p = [{"comparison": "trained - untrained RM, same held-out pairs", "pairs": "all",
                   "difference": diff["diff"], "95% CI": diff["ci"], "n": diff["n"],
                   "95% CI over problems": diff.get("ci_by_problem"), "problems (n)": diff.get("n_problems"),
                   "reading": diff.get("wording", diff["verdict"])}]
        for src, d in by_src.items():   # on-policy pairs apart (the paper's pairs are all on-policy)
            if src != "all":
                rows_p.append({"comparison": "trained - untrained RM, same held-out pairs", "pairs": src,
                               "difference": d["diff"], "95% CI": d["ci"], "n": d["n"],
                               "95% CI over problems": d.get("ci_by_problem"), "problems (n)": d.get("n_problems"),
                               "reading": d.get("wording", d["verdict"])})
        out["rm_paired"] = pd.DataFrame(rows_p).set_index(["comparison", "pairs"])
    if by_source:
        out["rm_by_source"] = pd.DataFrame(by_source).set_index(["RM", "pair source"])
    return out


def ablation_report_tables(results: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    from cskit.ablations import ablation_tables

    m = _metrics(results, "06_ablations")
    if not m:
        return {"ablation_extraction": _missing("06_ablations")}
    out = {f"ablation_{k}": v for k, v in ablation_tables(m).items()}
    if "ablation_rm_size" in out:  # the paper's only RM-size evidence, beside this run's backbones
        out["ablation_rm_size_paper"] = pd.DataFrame(rm_size_rows()).set_index("model")
    return out


def report_tables(run, results: Mapping[str, Any] | None = None) -> dict[str, pd.DataFrame]:
    """Every report table (see the module docstring); never raises for a missing stage."""
    results = collect_results(run) if results is None else results
    t = {"size": size_table(results), "overview": overview_table(run, results), "rl": rl_table(results),
         "rl_deltas": rl_deltas(results), "rl_paired": rl_paired_table(results), "rl_probes": probes_table(results),
         "rl_probes_pooled": probes_pooled_table(results)}
    if not _metrics(results, "04_rl"):
        t["rl_status"] = _missing("04_rl", "the paper's row is shown alone")
    t.update(scaling_tables(results))
    t.update(bon_tables(results))
    t.update(rm_tables(results))
    t.update(ablation_report_tables(results))
    return t


# --- markdown / html ------------------------------------------------------------------------------------------


def summary_markdown(metrics: Mapping[str, Any]) -> str:
    """Profile, hardware, missing stages and links, as Markdown (the notebook displays it)."""
    info = metrics.get("run_info", {})
    hw = f"{info.get('cpu')} x {info.get('cores')} cores"
    if info.get("gpus"):
        hw += f"; GPUs: {', '.join(info['gpus'])}"
    links = " · ".join(f"[{l['stage']}]({l['href']})" + ("" if l["rendered"] else " (not rendered)")
                       for l in metrics.get("links", []))
    missing = metrics.get("stages_missing") or []
    git = info.get("git") or {}
    lines = [f"**Run** `{info.get('run')}` · **profile** `{info.get('profile')}` ({info.get('description') or ''})",
             f"**Models**: policy `{info.get('policy_model')}`, RM init `{info.get('rm_model')}` · "
             f"**hardware**: {hw} · device `{info.get('device')}`"
             + (f" (used: {', '.join(info['devices_used'])})" if info.get("devices_used") else ""),
             "**Versions**: " + ", ".join(f"{k} {v}" for k, v in list(info.get("versions", {}).items())[:8])
             + f" · commit `{(git.get('commit') or '?')[:10]}`" + (" (dirty)" if git.get("dirty") else ""),
             f"**Stage notebooks**: {links}",
             "**Missing stages**: " + (", ".join(missing) if missing else "none")]
    return "\n\n".join(lines)


def _png_tags(run, names: list[str] | None = None, prefix: str | tuple[str, ...] | None = None
              ) -> list[tuple[str, str]]:
    figs = sorted(Path(run.figures).glob("*.png"))
    if names is not None:
        figs = [p for p in figs if p.stem in names or p.name in names]
    if prefix:
        figs = [p for p in figs if p.name.startswith(prefix)]
    return [(p.stem, f'<img alt="{_html.escape(p.stem)}" style="max-width:100%" '
                     f'src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}"/>') for p in figs]


def figures_html(run, names: list[str] | None = None, prefix: str | tuple[str, ...] | None = None):
    """An IPython HTML object with the run's figures (``figures/*.png``, optionally only ``names`` or those
    starting with ``prefix``) embedded as base64: displayed inline and kept inside nbconvert's HTML."""
    from IPython.display import HTML

    body = "".join(f"<h4>{_html.escape(n)}</h4>{tag}" for n, tag in _png_tags(run, names, prefix))
    return HTML(body or "<p><i>no such figures in this run (stage missing?)</i></p>")


def tables_html(tables: Mapping[str, pd.DataFrame], prefix: str = ""):
    """Several tables (those whose name starts with ``prefix``) as one IPython HTML object, each titled."""
    from IPython.display import HTML

    return HTML("".join(f"<h4>{_html.escape(k)}</h4>" + v.to_html(float_format=lambda x: f"{x:.4g}", na_rep="—")
                        for k, v in tables.items() if k.startswith(prefix)))


def render_html(run, tables: Mapping[str, pd.DataFrame], metrics: Mapping[str, Any], path: Path) -> Path:
    """A self-contained HTML report: summary, every table, every figure (base64)."""
    try:  # markdown-it-py comes with nbconvert/jupyter; plain <pre> otherwise
        from markdown_it import MarkdownIt

        summary = MarkdownIt().render(summary_markdown(metrics))
    except Exception:  # pragma: no cover
        summary = f"<pre>{_html.escape(summary_markdown(metrics))}</pre>"
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>cskit report</title>",
             "<style>body{font-family:sans-serif;max-width:1200px;margin:auto}table{border-collapse:collapse;"
             "font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>",
             "<h1>CodeScaler reproduction report</h1>", summary]
    for name, df in tables.items():
        parts.append(f"<h2>{_html.escape(name)}</h2>" + df.to_html(float_format=lambda x: f"{x:.4g}", na_rep="—"))
    parts.append("<h2>Figures</h2>")
    parts += [f"<h4>{_html.escape(n)}</h4>{tag}" for n, tag in _png_tags(run)]
    parts.append("</body></html>")
    return write_text(path, "\n".join(parts))


# --- stage ----------------------------------------------------------------------------------------------------


def _records(df: pd.DataFrame) -> list[dict]:
    d = df.reset_index()
    d.columns = [str(c) for c in d.columns]
    return d.astype(object).where(pd.notna(d), None).to_dict(orient="records")


def run_report(cfg, run) -> dict:
    """Stage 07: collect, tabulate, draw the report figures, write ``results/07_report.json`` and
    ``html/report.html``. Missing stages are listed, never fatal."""
    import cskit.report.plots as pr
    from cskit.runinfo import write_stage_results

    results = collect_results(run)
    tables = report_tables(run, results)
    pr.save_figures(tables, run)
    present = [s for s in STAGES if results.get(s)]
    metrics: dict[str, Any] = {
        "stages_present": present, "stages_missing": [s for s in STAGES if s not in present],
        "run_info": run_info(run, results), "links": stage_links(run),
        "paper": {"rl_row": PAPER_RL_ROW, "rl_deltas": PAPER_RL_DELTAS, "bon_claim": PAPER_BON_CLAIM,
                  "scaling": PAPER_SCALING},
        "optional_results_present": [s for s in EXTRA_RESULTS if results.get(s)],
        "tables": {k: _records(v) for k, v in tables.items()},
    }
    html_path = Path(run.root) / "html" / "report.html"
    render_html(run, tables, metrics, html_path)
    metrics["html"] = str(html_path)
    write_stage_results(run, STAGE, cfg, metrics)
    return metrics
