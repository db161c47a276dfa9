"""Reward callables for GRPO (trl 1.16): the CodeScaler reward, the binary execution reward, a raw-RM reward.

Each class is a picklable callable with trl's reward-function signature::

    reward(prompts, completions, completion_ids=None, **kwargs) -> list[float | None]

* ``completions`` arrive as strings (plain-text prompt column) or, for a conversational prompt column
  (what :mod:`cskit.rl` builds), as ``[{"role": "assistant", "content": "..."}]`` per completion; both are
  accepted (:func:`completion_text`).
* ``kwargs`` carry every other dataset column aligned with the completions (``problem_id``, ``question``)
  plus trl's hooks ``trainer_state``, ``log_metric(name, value)`` (a scalar averaged over the logging step,
  reported beside trl's own metrics) and ``log_extra(column, values)`` (a column of the completions table).
  Outside trl (Best-of-N, tests) the hooks are simply absent.
* ``__name__`` is set on each instance: trl uses it as the log key ``rewards/<name>/mean``; metrics logged
  through ``log_metric`` are named ``<name>/<metric>`` (e.g. ``codescaler/valid_rate``).

Rewards (recipe: "Code extraction", "Reward shaping", "RL (GRPO)"):

* :class:`CodeScalerReward` -- strict extraction (exactly one fenced block that ``ast.parse``-s, else ε)
  -> RM score s of (question, code) through the one :class:`cskit.rm.RewardScorer` -> validity-preserving
  shaping: 0 if ε else softplus(s). Only valid codes are sent to the RM under gated shapings (the paper's
  worker scores ε too but throws the score away); ungated ablations (``raw``, ``softplus_nogate``) score
  ε as the empty assistant turn, exactly as the paper's ``reward_shaping=False`` toggle does.
* :class:`ExecutionReward` -- the RLVR baseline: strict extraction, sandbox grading against the problem's
  tests, 1.0 if every test passes else 0.0 (ε -> 0.0 without running). Problems without tests are refused.
* :class:`RawRMReward` -- the naive RM reward (ablation): no extraction gate and no shaping. The RM scores
  the *lenient* code (the last fenced block, no AST check); a completion without any fenced block is scored
  as its whole text. The value returned is the raw RM logit s.

Torch is imported only through :mod:`cskit.rm` (``RewardScorer``) when a reward first scores, so constructing and pickling a
reward is cheap (trl may ship reward functions to worker processes).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from cskit.prompts import completion_text, prompt_question
from cskit.rm.reward import codescaler_rewards


class NoTestsError(ValueError):
    """An execution reward was asked to grade a problem that has no tests (kind ``none``)."""


# --- helpers shared by the reward classes --------------------------------------------------------------


def _questions(prompts: Sequence[Any], n: int, kwargs: Mapping[str, Any]) -> list[str]:
    q = kwargs.get("question")
    if q is not None:
        if len(q) != n:
            raise ValueError(f"reward: 'question' column has {len(q)} entries for {n} completions")
        return [str(x) for x in q]
    if prompts is None or len(prompts) != n:
        raise ValueError("reward: no 'question' column and no prompts aligned with the completions")
    return [prompt_question(p) for p in prompts]


def _log_stats(kwargs: Mapping[str, Any], name: str, stats: Mapping[str, float]) -> None:
    log_metric: Callable | None = kwargs.get("log_metric")
    if log_metric is None:
        return
    for key, value in stats.items():
        if value is not None and math.isfinite(value):
            log_metric(f"{name}/{key}", float(value))


def _log_column(kwargs: Mapping[str, Any], column: str, values: list) -> None:
    log_extra: Callable | None = kwargs.get("log_extra")
    if log_extra is not None:
        log_extra(column, values)


def score_stats(raw: Iterable[float]) -> dict[str, float]:
    """mean/std/min/max of raw RM scores (empty dict when there are none)."""
    a = np.asarray(list(raw), dtype=np.float64)
    if a.size == 0:
        return {}
    return {"raw_mean": float(a.mean()), "raw_std": float(a.std()), "raw_min": float(a.min()),
            "raw_max": float(a.max())}


def _extract_strict(text: str) -> str:
    from cskit.extract import extract_strict

    return extract_strict(text, check_ast=True)


def _reward_scorer_class():
    from cskit.rm import RewardScorer

    return RewardScorer


class _ScorerHolder:
    """Holds a RewardScorer, or the path/name to build one lazily (keeps the reward cheap to pickle)."""

    def __init__(self, scorer_or_path: Any, scorer_kwargs: Mapping[str, Any]):
        if isinstance(scorer_or_path, (str, Path)):
            self._path: str | None = str(scorer_or_path)
            self._scorer = None
        elif hasattr(scorer_or_path, "score"):
            self._path = None
            self._scorer = scorer_or_path
        else:
            raise TypeError("expected a RewardScorer (an object with .score(questions, codes)) or a model path, "
                            f"got {type(scorer_or_path).__name__}")
        self._kwargs = {k: v for k, v in scorer_kwargs.items() if v is not None}

    @property
    def scorer(self):
        if self._scorer is None:
            self._scorer = _reward_scorer_class()(self._path, **self._kwargs)
        return self._scorer

    def score(self, questions: list[str], codes: list[str]) -> np.ndarray:
        if not questions:
            return np.zeros(0, dtype=np.float64)
        out = np.asarray(self.scorer.score(questions, codes), dtype=np.float64).reshape(-1)
        if out.shape[0] != len(questions):
            raise RuntimeError(f"RewardScorer returned {out.shape[0]} scores for {len(questions)} inputs")
        return out

    def __getstate__(self):
        # A scorer built here from a path is rebuilt lazily after unpickling; a scorer handed in is pickled
        # itself (RewardScorer pickles its path/config, not its weights).
        state = dict(self.__dict__)
        if self._path is not None:
            state["_scorer"] = None
        return state


# --- the rewards ------------------------------------------------------------------------------------------


class CodeScalerReward:
    """0 if strict extraction fails, else softplus(RM(question, code)) (recipe: "Reward shaping"). Other shapings for ablations.

    ``scorer_or_path``: a :class:`cskit.rm.RewardScorer` or a model dir/hub id (a scorer is then built on first
    use with ``scorer_kwargs``: ``max_length``, ``batch_size``, ``device``, ``dtype``, ``seed``; None values are
    left to the scorer's defaults). ``shaping``: a method of
    :func:`cskit.shaping.shape_rewards`. Logs ``<name>/valid_rate`` and ``<name>/raw_mean|raw_std|raw_min|raw_max``
    (raw scores of valid codes) through trl's ``log_metric``, and the per-sample raw score via ``log_extra``.
    """

    def __init__(self, scorer_or_path: Any, shaping: str = "softplus", *, name: str = "codescaler",
                 probe: Callable | None = None, **scorer_kwargs: Any):
        from cskit.shaping import SHAPINGS

        if shaping not in SHAPINGS:
            raise ValueError(f"unknown shaping {shaping!r}; expected one of {list(SHAPINGS)}")
        self.shaping = shaping
        self.__name__ = name
        self._holder = _ScorerHolder(scorer_or_path, scorer_kwargs)
        self.probe = probe   # shadow execution (cskit.rl.probes.ShadowProbe): observes, never changes a reward
        self.last_raw: list[float | None] = []  # raw scores of the last call (None where not scored)

    @property
    def scorer(self):
        return self._holder.scorer

    def __call__(self, prompts=None, completions=None, completion_ids=None, **kwargs) -> list[float]:
        texts = [completion_text(c) for c in (completions or [])]
        n = len(texts)
        if n == 0:
            return []
        batch = codescaler_rewards(self._holder.score, _questions(prompts, n, kwargs), texts, self.shaping)
        self.last_raw = batch.raw
        valid = np.array(batch.valid, dtype=bool)
        stats = {"valid_rate": float(valid.mean())}
        stats.update(score_stats([r for r, v in zip(batch.raw, batch.valid) if v and r is not None]))
        _log_stats(kwargs, self.__name__, stats)
        _log_column(kwargs, f"{self.__name__}_raw", self.last_raw)
        if self.probe is not None and kwargs.get("problem_id") is not None:
            self.probe(kwargs["problem_id"], texts, batch.rewards,
                       int(getattr(kwargs.get("trainer_state"), "global_step", 0) or 0))
        return batch.rewards


class RawRMReward:
    """The raw RM logit with no extraction gate and no shaping (ablation of recipe "Code extraction" + recipe "Reward shaping").

    The RM input is the lenient code: the last fenced block (no single-block rule, no AST check); when a
    completion has no fenced block at all, its whole text is scored instead. Logs ``<name>/valid_rate`` (the
    *strict* validity, for comparison with the CodeScaler run) and raw-score stats over all samples.
    """

    def __init__(self, scorer_or_path: Any, *, name: str = "raw_rm", probe: Callable | None = None,
                 **scorer_kwargs: Any):
        self.__name__ = name
        self._holder = _ScorerHolder(scorer_or_path, scorer_kwargs)
        self.probe = probe

    @property
    def scorer(self):
        return self._holder.scorer

    @staticmethod
    def rm_input(text: str) -> str:
        from cskit.extract import extract_lenient

        code = extract_lenient(text)
        return code if code else text.strip()

    def __call__(self, prompts=None, completions=None, completion_ids=None, **kwargs) -> list[float]:
        texts = [completion_text(c) for c in (completions or [])]
        n = len(texts)
        if n == 0:
            return []
        questions = _questions(prompts, n, kwargs)
        raw = self._holder.score(questions, [self.rm_input(t) for t in texts])
        valid = np.array([_extract_strict(t) != "" for t in texts], dtype=bool)
        stats = {"valid_rate": float(valid.mean())}
        stats.update(score_stats(raw))
        _log_stats(kwargs, self.__name__, stats)
        if self.probe is not None and kwargs.get("problem_id") is not None:
            self.probe(kwargs["problem_id"], texts, [float(x) for x in raw],
                       int(getattr(kwargs.get("trainer_state"), "global_step", 0) or 0))
        return [float(x) for x in raw]


class ExecutionReward:
    """Binary execution reward (the RLVR baseline, recipe: "Preference pairs", "RL (GRPO)"): 1.0 if the strictly extracted code passes all
    of the problem's tests in the sandbox, else 0.0 (no/invalid code -> 0.0 without running it).

    ``problems``: a list of :class:`cskit.problems.Problem` or a mapping id -> Problem; every problem must have
    tests (a problem of kind ``none`` raises :class:`NoTestsError` naming it, here and at call time).
    Completions are matched to problems through the ``problem_id`` dataset column. Logs ``<name>/valid_rate``
    and ``<name>/pass_rate``; the per-sample verdict goes to the completions table via ``log_extra``.

    ``on_graded`` (optional, picklable): called once per reward call with ``(rows, global_step)``, one dict per
    completion (``problem_id``, ``response``, ``code_strict``, ``valid``, ``passed``, ``pass_fraction``,
    ``verdict``, ``test_verdicts``, ``n_tokens``) -- how stage 01 records every completion of an RLVR run.
    """

    def __init__(self, problems: Mapping[str, Any] | Iterable[Any], limits: Any = None, *, workers: int = 1,
                 name: str = "execution", on_graded: Callable | None = None):
        if isinstance(problems, Mapping):
            by_id = dict(problems)
        else:
            by_id = {}
            for p in problems:
                if p.id in by_id:
                    raise ValueError(f"ExecutionReward: duplicate problem id {p.id!r}")
                by_id[p.id] = p
        for pid, p in by_id.items():
            self._check_tests(pid, p)
        self.problems = by_id
        self.limits = limits
        self.workers = workers
        self.__name__ = name
        self.on_graded = on_graded
        self.last_verdicts: list[str] = []

    @staticmethod
    def _check_tests(pid: str, problem: Any) -> None:
        if getattr(problem, "kind", "none") == "none" or not getattr(problem, "tests", None):
            raise NoTestsError(
                f"ExecutionReward: problem {pid!r} has no tests (kind {getattr(problem, 'kind', None)!r}); "
                "an execution reward needs tests. Drop it from the training set or use the CodeScaler reward, "
                "which does not need tests.")

    def __call__(self, prompts=None, completions=None, completion_ids=None, **kwargs) -> list[float]:
        from cskit.sandbox import grade_many

        texts = [completion_text(c) for c in (completions or [])]
        n = len(texts)
        if n == 0:
            return []
        ids = kwargs.get("problem_id")
        if ids is None or len(ids) != n:
            raise ValueError("ExecutionReward needs a 'problem_id' column aligned with the completions "
                             f"(got {None if ids is None else len(ids)} ids for {n} completions)")
        problems = []
        for pid in ids:
            if pid not in self.problems:
                raise KeyError(f"ExecutionReward: unknown problem id {pid!r} (not among the "
                               f"{len(self.problems)} problems it was built with)")
            problems.append(self.problems[pid])
        codes = [_extract_strict(t) for t in texts]
        todo = [i for i in range(n) if codes[i]]
        rewards = [0.0] * n
        verdicts = ["no_code"] * n
        graded: dict[int, Any] = {}
        if todo:
            results = grade_many([(problems[i], codes[i]) for i in todo], limits=self.limits,
                                 workers=self.workers, progress=False)
            for i, r in zip(todo, results):
                rewards[i] = 1.0 if r.passed else 0.0
                verdicts[i] = r.verdict
                graded[i] = r
        self.last_verdicts = verdicts
        if self.on_graded is not None:
            state = kwargs.get("trainer_state")
            ids_tok = completion_ids if completion_ids is not None else [None] * n
            rows = [dict(problem_id=str(ids[i]), response=texts[i], code_strict=codes[i], valid=bool(codes[i]),
                         passed=bool(rewards[i]), pass_fraction=float(graded[i].pass_fraction) if i in graded else 0.0,
                         verdict=verdicts[i], test_verdicts=[t.verdict for t in graded[i].tests] if i in graded else [],
                         n_tokens=len(ids_tok[i]) if ids_tok[i] is not None else None,
                         isolation_level=graded[i].isolation_level if i in graded else "") for i in range(n)]
            self.on_graded(rows, int(getattr(state, "global_step", 0) or 0))
        valid = np.array([bool(c) for c in codes])
        _log_stats(kwargs, self.__name__, {"valid_rate": float(valid.mean()), "pass_rate": float(np.mean(rewards))})
        _log_column(kwargs, f"{self.__name__}_verdict", verdicts)
        return rewards


def make_reward(kind: str, *, problems=None, rm=None, shaping: str = "softplus", limits=None, workers: int = 1,
                scorer_kwargs: Mapping[str, Any] | None = None, on_graded: Callable | None = None,
                probe: Callable | None = None):
    """Build a reward by name: ``codescaler`` / ``untrained_rm`` (CodeScalerReward over ``rm``), ``raw_rm``
    (RawRMReward over ``rm``) or ``execution`` (ExecutionReward over ``problems``)."""
    kw = dict(scorer_kwargs or {})
    if kind in ("codescaler", "untrained_rm"):
        if rm is None:
            raise ValueError(f"reward {kind!r} needs a reward model (scorer or path)")
        return CodeScalerReward(rm, shaping=shaping, name=kind, probe=probe, **kw)
    if kind == "raw_rm":
        if rm is None:
            raise ValueError("reward 'raw_rm' needs a reward model (scorer or path)")
        return RawRMReward(rm, name=kind, probe=probe, **kw)
    if kind == "execution":
        if problems is None:
            raise ValueError("reward 'execution' needs the training problems (with tests)")
        return ExecutionReward(problems, limits, workers=workers, name=kind, on_graded=on_graded)
    raise ValueError(f"unknown reward {kind!r}; expected codescaler, untrained_rm, raw_rm or execution")
