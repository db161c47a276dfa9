"""Rollouts logged elsewhere (``rollout_source: file:PATH``): a verl or OpenRLHF run's samples as JSONL.

One JSON object per line with ``problem_id`` (an id among the profile's training problems) and
``completion`` (or ``response``: the model's whole answer); optionally ``step`` (the training step that
produced it) and verdicts (``passed``, with ``pass_fraction`` and ``test_verdicts`` if known). Rows without
``passed`` are graded in the sandbox (strict extraction, as for the kit's own rollouts); rows with it are
taken as given and marked ``verdict = "external"`` unless they carry one. A malformed line raises
:class:`ExternalRolloutsError` naming the file, line and field.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

__all__ = ["ExternalRolloutsError", "load_external_rollouts"]


class ExternalRolloutsError(ValueError):
    """A line of an external rollouts file is malformed; the message names file, line and field."""


def _read(path: Path) -> list[tuple[int, dict]]:
    from cskit.io import JsonlError, iter_jsonl

    if not path.is_file():
        raise ExternalRolloutsError(f"{path}: no such file (rollout_source: file:PATH expects a JSONL file)")
    try:
        return list(iter_jsonl(path))
    except JsonlError as e:
        raise ExternalRolloutsError(str(e)) from None


def load_external_rollouts(path: str | Path, problems: Sequence[Any], columns: Sequence[str], *, limits: Any = None,
                           workers: int = 0) -> pd.DataFrame:
    """The rollouts table of an external JSONL log (columns ``columns``, plus ``grpo_step`` from ``step``)."""
    from cskit.extract import extract_lenient, extract_strict
    from cskit.prompts import question_text
    from cskit.sandbox import grade_codes

    path = Path(path).expanduser()
    by_id: Mapping[str, Any] = {p.id: p for p in problems}
    out, jobs, at = [], [], []
    for n, r in _read(path):
        pid = r.get("problem_id")
        if pid is None:
            raise ExternalRolloutsError(f"{path}:{n}: field 'problem_id' is missing")
        if str(pid) not in by_id:
            raise ExternalRolloutsError(f"{path}:{n}: field 'problem_id': {pid!r} is not among the "
                                        f"{len(by_id)} training problems (train_problems)")
        text = r.get("completion", r.get("response"))
        if not isinstance(text, str):
            raise ExternalRolloutsError(f"{path}:{n}: field 'completion' (or 'response') must be a string")
        step = r.get("step")
        if step is not None and not isinstance(step, int):
            raise ExternalRolloutsError(f"{path}:{n}: field 'step' must be an integer, got {step!r}")
        p = by_id[str(pid)]
        strict, lenient = extract_strict(text), extract_lenient(text)
        row = dict(problem_id=p.id, source=p.source, sample_idx=-1, question=question_text(p), response=text,
                   code_strict=strict, code_lenient=lenient, valid=bool(strict), n_tokens=None, finish_reason=None,
                   gen_time_s=None, grade_time_s=None, model=str(r.get("model", "external")),
                   grpo_step=step, policy=f"external@step{step}" if step is not None else "external")
        if "passed" in r:
            if not isinstance(r["passed"], bool):
                raise ExternalRolloutsError(f"{path}:{n}: field 'passed' must be true or false")
            row.update(passed=r["passed"], pass_fraction=float(r.get("pass_fraction", 1.0 if r["passed"] else 0.0)),
                       verdict=str(r.get("verdict", "external")), test_verdicts=list(r.get("test_verdicts", [])),
                       passed_lenient=bool(r.get("passed_lenient", r["passed"])), isolation_level="external")
        else:
            jobs += [(p, strict), (p, lenient)]
            at.append(len(out))
        out.append(row)
    if jobs:
        res = grade_codes(jobs, limits, workers=workers)
        for j, k in enumerate(at):
            rs, rl = res[2 * j], res[2 * j + 1]
            out[k].update(passed=bool(rs.passed), pass_fraction=float(rs.pass_fraction), verdict=rs.verdict,
                          test_verdicts=[t.verdict for t in rs.tests], passed_lenient=bool(rl.passed),
                          isolation_level=rs.isolation_level)
    df = pd.DataFrame(out)
    if len(df):
        df["sample_idx"] = df.groupby("problem_id").cumcount()
    return df.reindex(columns=list(columns) + ["grpo_step", "policy"])
