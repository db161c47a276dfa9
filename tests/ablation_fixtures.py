"""A tiny hand-made run directory (rollouts, pairs, a trained tiny RM) for the stage 06/07 tests."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from cskit.extract import extract_lenient, extract_strict


def _row(p, i, resp, passed, frac, lenient_pass=None, model="hand"):
    from cskit.prompts import question_text

    strict = extract_strict(resp)
    return dict(problem_id=p.id, source=p.source, sample_idx=i, question=question_text(p), response=resp,
                code_strict=strict, code_lenient=extract_lenient(resp), valid=bool(strict), passed=bool(passed),
                pass_fraction=float(frac), verdict="passed" if passed else ("wrong_answer" if strict else "no_code"),
                test_verdicts=[], passed_lenient=bool(passed if lenient_pass is None else lenient_pass),
                n_tokens=len(resp) // 3, finish_reason="stop", gen_time_s=0.01, grade_time_s=0.01, model=model)


def hand_rollouts(problems, offpolicy: bool = False) -> pd.DataFrame:
    """Per problem: passing and failing fenced programs plus invalid responses (no block, several blocks,
    unparseable); labels are set by construction, not graded."""
    rows = []
    for p in problems:
        sol, wrong = p.solutions[0].strip(), [w.strip() for w in p.wrong_solutions]
        fence = lambda c: f"Here you go:\n```python\n{c}\n```\n"  # noqa: E731
        if offpolicy:
            resp = [(fence(w + "\n# off"), False, 0.3, None) for w in wrong] + \
                   [(fence("# reference-like\n" + sol), True, 1.0, None)]
        else:
            resp = [(fence("# first\n" + sol), True, 1.0, None), (fence(sol + "\n# done"), True, 1.0, None)]
            resp += [(fence(w), False, 0.5, None) for w in wrong]
            resp += [("The answer is to print it.\n" + sol, False, 0.0, False),
                     (fence("x = 1") + fence(sol), False, 0.0, True),
                     ("```python\ndef broken(:\n    pass\n```", False, 0.0, False)]
        rows += [_row(p, i, r, ok, f, lp, "off" if offpolicy else "hand") for i, (r, ok, f, lp) in enumerate(resp)]
    return pd.DataFrame(rows)


def build_run(root: Path, cfg, rm: bool = True, offpolicy: bool = True):
    """Stage 01 (hand-made rollouts) + stage 02 (``run_pairs``) + a tiny RM in ``models/rm``."""
    from cskit.config import open_run
    from cskit.pairs import run_pairs
    from cskit.problems import load_problems

    run = open_run(root, cfg.profile)
    problems = load_problems(cfg.train_problems, limit=int(cfg.max_train_problems), seed=int(cfg.seed))
    hand_rollouts(problems).to_parquet(run.data / "rollouts.parquet")
    if offpolicy:
        hand_rollouts(problems, offpolicy=True).to_parquet(run.data / "rollouts_offpolicy.parquet")
    run_pairs(cfg, run)
    if rm:
        from cskit.rm import train_reward_model

        train = pd.read_parquet(run.data / "pairs" / "train.parquet")
        train_reward_model(train, None, cfg.rm_model, run.models / "rm", cfg)
    return run
