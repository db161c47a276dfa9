"""Stage 02: preference pairs from unit-test-labelled rollouts (recipe: "Preference pairs").

The paper's rule: within one problem, a *positive* passes every test and a *negative* fails at least
one; a pair is (question, positive code, negative code). Codes are the strictly extracted ones (what
the reward model scores during RL); samples whose strict extraction is empty are not used as either
side (the RL reward gives them 0 without asking the RM).

Options (profile keys ``pairs_*``): a cap per problem, hard negatives first (highest pass fraction),
dropping identical codes after whitespace normalisation, reference solutions as positives for problems
where the policy has none, a fraction of "unaligned" pairs whose negative is a valid program written
for another problem (a reading of the authors' "0.3UnalignedSamples" run name; recipe: "Preference pairs"), and
off-policy pairs from a second model's rollouts for ablations. The train/val split is **by problem**:
no problem, and no unaligned negative's source problem, appears on both sides.
Exported with the CodeScalerPair-51K columns ``question_content, code_pos, code_neg`` plus metadata.
"""
from __future__ import annotations

import math
import random
import re
from typing import Iterable, Mapping, Sequence

import pandas as pd

from cskit.problems import Problem

PAIR_COLUMNS = ["question_content", "code_pos", "code_neg", "problem_id", "pos_pass_fraction",
                "neg_pass_fraction", "pair_source", "neg_problem_id", "pos_step", "neg_step", "split"]
# where a pair comes from: sampled rollouts of the policy, a reference solution as the positive, the problem's
# shipped wrong solutions as negatives, another problem's valid code as the negative, an off-policy model
PAIR_SOURCES = ("on_policy", "reference", "curated", "unaligned", "off_policy", "external")


def normalize_code(code: str) -> str:
    """Whitespace-insensitive key: strip each line's trailing space, drop blank lines, collapse runs."""
    lines = [re.sub(r"[ \t]+", " ", ln.rstrip()) for ln in code.replace("\r\n", "\n").split("\n")]
    return "\n".join(ln for ln in lines if ln.strip())


def split_problem_ids(problem_ids: Iterable[str], val_fraction: float, seed: int,
                      groups: Mapping[str, str] | None = None) -> tuple[set[str], set[str]]:
    """Seeded split of problem ids; both sides non-empty when there are at least two groups.

    ``groups`` maps a problem id to its task (:attr:`Problem.task`): a task's problems -- its other formats,
    its other parameter draws -- all land on one side, so held-out pairs are on tasks the RM never saw.
    Ids without a group are their own group. ``val_fraction`` is the share of groups held out."""
    ids = sorted(set(problem_ids))
    groups = groups or {}
    keys = sorted({groups.get(i, i) for i in ids})
    random.Random(seed).shuffle(keys)
    n_val = int(math.ceil(val_fraction * len(keys))) if val_fraction > 0 else 0
    if len(keys) >= 2:
        n_val = min(max(n_val, 1 if val_fraction > 0 else 0), len(keys) - 1)
    val_keys = set(keys[:n_val])
    val = {i for i in ids if groups.get(i, i) in val_keys}
    return set(ids) - val, val


def _unique(rows: list[dict], dedup: bool) -> list[dict]:
    if not dedup:
        return rows
    seen, out = set(), []
    for r in rows:
        k = normalize_code(r["code"])
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def _problem_pairs(question: str, pid: str, pos: list[dict], neg: list[dict], *, cap: int, hard: bool,
                   dedup: bool, rng: random.Random, source: str, step_cap: int = 0) -> list[dict]:
    pos, neg = _unique(pos, dedup), _unique(neg, dedup)
    if not pos or not neg:
        return []
    if hard:  # hardest negatives first; stable order among equals keeps runs reproducible
        neg = sorted(neg, key=lambda r: -r["pass_fraction"])
        # interleave so the cap keeps many distinct negatives: (p0,n0), (p1,n0)... by negative rank
        combos = [(i, j) for j in range(len(neg)) for i in range(len(pos))]
    else:
        combos = [(i, j) for i in range(len(pos)) for j in range(len(neg))]
        rng.shuffle(combos)
    out = []
    per_step: dict = {}
    for i, j in combos:
        if dedup and normalize_code(pos[i]["code"]) == normalize_code(neg[j]["code"]):
            continue
        ps = pos[i].get("step")
        if step_cap and per_step.get(ps, 0) >= step_cap:
            continue
        per_step[ps] = per_step.get(ps, 0) + 1
        out.append(dict(question_content=question, code_pos=pos[i]["code"], code_neg=neg[j]["code"],
                        problem_id=pid, pos_pass_fraction=float(pos[i]["pass_fraction"]),
                        neg_pass_fraction=float(neg[j]["pass_fraction"]), pair_source=source,
                        neg_problem_id=pid, pos_step=ps, neg_step=neg[j].get("step")))
        if cap and len(out) >= cap:
            break
    return out


def build_pairs(rollouts: pd.DataFrame, problems: Sequence[Problem] = (), *, max_per_problem: int = 16,
                hard_negatives: bool = True, dedup: bool = True, reference_positives: bool = True,
                source: str = "on_policy", seed: int = 0, max_per_step: int = 0) -> pd.DataFrame:
    """Within-problem pairs from a rollouts table (one row per sample). Rollouts of an RLVR trajectory carry
    ``grpo_step``: each pair records the step of its positive and negative (``pos_step``, ``neg_step``), and
    ``max_per_step`` caps the pairs of one problem whose positive comes from one step."""
    rng = random.Random(seed)
    by_id = {p.id: p for p in problems}
    out: list[dict] = []
    for pid, g in rollouts[rollouts.valid].groupby("problem_id", sort=True):
        question = g.question.iloc[0]
        steps = g["grpo_step"] if "grpo_step" in g else pd.Series([None] * len(g), index=g.index)
        steps = steps.astype(object).where(steps.notna(), None)
        pos = [dict(code=c, pass_fraction=f, step=None if s is None else int(s))
               for c, f, s in zip(g.code_strict[g.passed], g.pass_fraction[g.passed], steps[g.passed])]
        neg = [dict(code=c, pass_fraction=f, step=None if s is None else int(s))
               for c, f, s in zip(g.code_strict[~g.passed], g.pass_fraction[~g.passed], steps[~g.passed])]
        src = source
        if not pos and reference_positives and pid in by_id and by_id[pid].solutions:
            pos = [dict(code=s.strip(), pass_fraction=1.0) for s in by_id[pid].solutions]
            src = "reference"
        out += _problem_pairs(question, pid, pos, neg, cap=max_per_problem, hard=hard_negatives, dedup=dedup,
                              rng=rng, source=src, step_cap=max_per_step)
    return pd.DataFrame(out, columns=[c for c in PAIR_COLUMNS if c != "split"])


def curated_pairs(problems: Sequence[Problem], problem_ids: Iterable[str], questions: dict[str, str], *,
                  max_per_problem: int = 16) -> pd.DataFrame:
    """Pairs from the problem data itself: each reference solution vs each known-wrong solution.

    Only problems that ship ``wrong_solutions`` (the bundled set does) contribute. The pair source is
    ``curated``: no policy wrote these codes, so they are off-policy by construction (``grade_curated`` then
    checks both labels in the sandbox and records the negative's real pass fraction); useful as a seed
    when the policy writes no valid code at all (tiny random models) and as an ablation.
    """
    ids = set(problem_ids)
    out = []
    for p in problems:
        if p.id not in ids or not p.solutions or not p.wrong_solutions:
            continue
        q = questions.get(p.id)
        if q is None:
            from cskit.prompts import question_text

            q = question_text(p)
        k = 0
        for good in p.solutions:
            for bad in p.wrong_solutions:
                if max_per_problem and k >= max_per_problem:
                    break
                out.append(dict(question_content=q, code_pos=good.strip(), code_neg=bad.strip(), problem_id=p.id,
                                pos_pass_fraction=1.0, neg_pass_fraction=0.0, pair_source="curated",
                                neg_problem_id=p.id))
                k += 1
    return pd.DataFrame(out, columns=[c for c in PAIR_COLUMNS if c != "split"])


def grade_curated(pairs: pd.DataFrame, problems: Sequence[Problem], cfg) -> pd.DataFrame:
    """Fill in the negatives' real pass fractions (sandbox) and drop pairs whose labels do not hold."""
    if pairs.empty:
        return pairs
    from cskit.sandbox import SandboxLimits, grade_codes

    by_id = {p.id: p for p in problems}
    jobs = [(by_id[r.problem_id], r.code_pos) for r in pairs.itertuples()]
    jobs += [(by_id[r.problem_id], r.code_neg) for r in pairs.itertuples()]
    res = grade_codes(jobs, SandboxLimits.from_config(cfg), workers=int(cfg.sandbox_workers), progress=False)
    pos, neg = res[:len(pairs)], res[len(pairs):]
    out = pairs.copy()
    out["neg_pass_fraction"] = [r.pass_fraction for r in neg]
    keep = [p.passed and not n.passed for p, n in zip(pos, neg)]
    return out[keep].reset_index(drop=True)


def unaligned_pairs(pairs: pd.DataFrame, rollouts: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    """``fraction`` × len(pairs) extra pairs: a positive of problem A vs a valid program for problem B != A.

    Negatives are drawn only from problems present in ``rollouts`` (call per split to avoid leakage).
    """
    n = int(round(fraction * len(pairs)))
    valid = rollouts[rollouts.valid]
    if n <= 0 or pairs.empty or valid.problem_id.nunique() < 2:
        return pairs.iloc[0:0].copy()
    rng = random.Random(seed)
    codes = list(valid[["problem_id", "code_strict"]].itertuples(index=False, name=None))
    out = []
    anchors = pairs.sample(n=n, replace=n > len(pairs), random_state=seed)
    for r in anchors.itertuples():
        for _ in range(20):
            other_pid, code = codes[rng.randrange(len(codes))]
            if other_pid != r.problem_id:
                out.append(dict(question_content=r.question_content, code_pos=r.code_pos, code_neg=code,
                                problem_id=r.problem_id, pos_pass_fraction=r.pos_pass_fraction,
                                neg_pass_fraction=0.0, pair_source="unaligned", neg_problem_id=other_pid))
                break
    return pd.DataFrame(out, columns=pairs.columns)


def make_pair_splits(rollouts: pd.DataFrame, problems: Sequence[Problem], cfg,
                     offpolicy: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All pair sources per the profile, split by task (every problem of a task on one side) into (train, val)."""
    seed = int(cfg.seed)
    tasks = {p.id: p.task for p in problems}
    train_ids, val_ids = split_problem_ids(rollouts.problem_id, float(cfg.pairs_val_fraction), seed, tasks)
    splits = []
    for name, ids in (("train", train_ids), ("val", val_ids)):
        ro = rollouts[rollouts.problem_id.isin(ids)]
        kw = dict(max_per_problem=int(cfg.pairs_max_per_problem), hard_negatives=bool(cfg.pairs_hard_negatives),
                  dedup=bool(cfg.pairs_dedup), reference_positives=bool(cfg.pairs_reference_positives), seed=seed,
                  max_per_step=int(cfg.pairs_max_per_step))
        source = "external" if str(cfg.rollout_source).startswith("file:") else "on_policy"
        parts = [build_pairs(ro, problems, source=source, **kw)]
        if offpolicy is not None and len(offpolicy):
            parts.append(build_pairs(offpolicy[offpolicy.problem_id.isin(ids)], problems, source="off_policy",
                                     **{**kw, "reference_positives": False}))
        if cfg.pairs_curated:
            questions = dict(zip(ro.problem_id, ro.question))
            cur = curated_pairs(problems, ids, questions, max_per_problem=int(cfg.pairs_max_per_problem))
            parts.append(grade_curated(cur, problems, cfg))
        base = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
            else parts[0]
        extra = unaligned_pairs(base[base.pair_source.isin(("on_policy", "external"))], ro,
                                float(cfg.pairs_unaligned_fraction),
                                seed)
        df = pd.concat([base, extra], ignore_index=True)
        df["split"] = name
        splits.append(df[PAIR_COLUMNS])
    return splits[0], splits[1]


def pair_stats(train: pd.DataFrame, val: pd.DataFrame) -> dict:
    both = pd.concat([train, val], ignore_index=True)
    leak = set(train.problem_id) & set(val.problem_id)
    leak |= set(train.neg_problem_id) & set(val.problem_id) | set(val.neg_problem_id) & set(train.problem_id)
    per_problem = both.groupby("problem_id").size() if len(both) else pd.Series(dtype=int)
    return {
        "pairs_train": int(len(train)), "pairs_val": int(len(val)),
        "problems_train": int(train.problem_id.nunique()), "problems_val": int(val.problem_id.nunique()),
        "by_source": {k: int(v) for k, v in both.pair_source.value_counts().items()},
        "by_source_split": {name: {k: int(v) for k, v in df.pair_source.value_counts().items()}
                            for name, df in (("train", train), ("val", val))},
        # the paper's pairs are all on-policy (the RLVR trajectory); say how far a run is from that
        "on_policy_share": float(both.pair_source.isin(("on_policy", "external")).mean()) if len(both) else 0.0,
        "pairs_with_steps": int(both.pos_step.notna().sum()) if "pos_step" in both and len(both) else 0,
        "pairs_per_problem_mean": float(per_problem.mean()) if len(per_problem) else 0.0,
        "pairs_per_problem_max": int(per_problem.max()) if len(per_problem) else 0,
        "neg_pass_fraction_mean": float(both.neg_pass_fraction.mean()) if len(both) else 0.0,
        "hard_negative_share": float((both.neg_pass_fraction > 0).mean()) if len(both) else 0.0,
        "problems_on_both_sides": sorted(leak),
    }


def run_pairs(cfg, run) -> dict:
    """Stage 02: build, split and export preference pairs from ``data/rollouts.parquet``."""
    from cskit.io import write_json, write_parquet
    from cskit.problems import load_problems
    from cskit.runinfo import write_stage_results

    src = run.data / "rollouts.parquet"
    if not src.exists():
        raise FileNotFoundError(f"{src} is missing: run stage 01_rollouts first")
    rollouts = pd.read_parquet(src)
    off_path = run.data / "rollouts_offpolicy.parquet"
    offpolicy = pd.read_parquet(off_path) if cfg.pairs_offpolicy and off_path.exists() else None
    problems = load_problems(cfg.train_problems, limit=int(cfg.max_train_problems), seed=int(cfg.seed))
    train, val = make_pair_splits(rollouts, problems, cfg, offpolicy)
    out = run.data / "pairs"
    write_parquet(out / "train.parquet", train)
    write_parquet(out / "val.parquet", val)
    metrics = pair_stats(train, val)
    task = {p.id: p.task for p in problems}
    metrics["tasks_on_both_sides"] = sorted({task.get(i, i) for i in train.problem_id} &
                                            {task.get(i, i) for i in val.problem_id})
    metrics["tasks_train"] = len({task.get(i, i) for i in train.problem_id})
    metrics["tasks_val"] = len({task.get(i, i) for i in val.problem_id})
    if metrics["problems_on_both_sides"] or metrics["tasks_on_both_sides"]:
        raise AssertionError(f"split leak: problems {metrics['problems_on_both_sides']}, "
                             f"tasks {metrics['tasks_on_both_sides']}")
    write_json(out / "stats.json", metrics)
    from cskit.pairs.plots import save_figures

    save_figures(train, val, run)
    write_stage_results(run, "02_pairs", cfg, metrics)
    return metrics
