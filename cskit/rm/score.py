"""The one reward-model scorer (GRPO rewards, Best-of-N, evaluation) and the RM input it shares with training.

RM input (recipe: "Reward model", identical in :mod:`cskit.rm.train` and here, built by :func:`encode_rm_inputs`).
The default, ``input_format="authors"``, is the authors' verl RM worker (``codescaler_fsdp_workers.py``), the
format the published RMs (``LARK-Lab/CodeScaler-*``) and their init (``Skywork/Skywork-Reward-V2-Qwen3-*``)
were trained and used with:

1. ``text = tokenizer.apply_chat_template(rm_messages(question, code), tokenize=False,
   add_generation_prompt=False)`` -- ``[user: question, assistant: code without fences]``;
2. nothing appended (``input_format="chat_eos"``, the kit's format before, appends ``tokenizer.eos_token``
   unless the text already ends with it -- what trl's RewardTrainer does to pre-rendered text);
3. ``tokenizer(text, add_special_tokens=False)``, then **right-truncated** to ``max_length`` tokens
   (truncation is counted, never silent);
4. batches of ``batch_size`` sequences sorted by length, right-padded with ``pad_token_id``; the score is the
   model's logit at the last non-pad token (the sequence-classification model's own pooling, exactly what
   RewardTrainer's forward pass uses, and the authors' "last valid token").

Which format a checkpoint gets: a kit-trained RM directory records its training format in
``cskit_rm_input.json`` (:data:`RM_INPUT_FILE`, written by :mod:`cskit.rm.train`) and is scored in it; every
other checkpoint (a hub id, a plain ``save_pretrained`` directory, an in-memory model) is scored the authors'
way. ``RewardScorer(..., input_format=...)`` overrides both.

Shared prefixes (``share_prefix=True``, default): inputs of the same question -- a GRPO group, Best-of-N
candidates, the two sides of a pair -- share a long token prefix (system/user turns). Their common prefix runs
once; its KV cache is copied across a batch of the code suffixes. The token sequences are exactly the ones
above, so scores match the plain path up to float noise (~1e-6 in fp32); it is 2-5x faster for groups of 8
(measured on CPU, ``benchmarks/rm_scoring_throughput.py``). Falls back to plain batching if a model's cache
cannot be expanded.

``RewardScorer`` pickles its model path and settings, never weights; the model loads lazily on first use
(so a pickled scorer is cheap to ship to a worker process). bf16 on GPU, fp32 on CPU unless told otherwise.
Also here: the pairs / rollouts scoring helpers (:func:`score_pairs`, :func:`pair_metrics`,
:func:`score_rollouts`, :func:`rollout_metrics`, :func:`calibration_table`).
"""
from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from cskit.stats import auroc

log = logging.getLogger(__name__)



def _rm_messages(question: str, code: str) -> list[dict[str, str]]:
    from cskit.prompts import rm_messages

    return rm_messages(question, code)


def ensure_chat_template(tokenizer) -> None:
    """Give a template-less tokenizer the ChatML template (warns); the trained RM is saved with it."""
    if getattr(tokenizer, "chat_template", None) in (None, ""):
        log.warning("RM tokenizer has no chat_template; using ChatML for the [user, assistant] input")
        from cskit.models import CHATML_TEMPLATE

        tokenizer.chat_template = CHATML_TEMPLATE


RM_INPUT_FILE = "cskit_rm_input.json"
RM_INPUT_FORMATS = ("authors", "chat_eos")
DEFAULT_RM_INPUT_FORMAT = "authors"
# stage 03's completion marker (cskit.rm.train.COMPLETE_MARKER): a kit-trained directory that has it but no input
# record predates the record, when the kit always trained with EOS appended
LEGACY_KIT_MARKER = "cskit_rm_complete.json"


def check_input_format(input_format: str) -> str:
    """``input_format`` if it is one of :data:`RM_INPUT_FORMATS`, else a ValueError saying what is allowed."""
    fmt = str(input_format)
    if fmt not in RM_INPUT_FORMATS:
        raise ValueError(f"RM input_format must be one of {list(RM_INPUT_FORMATS)}, got {input_format!r} "
                         "('authors' = chat template, no EOS appended; 'chat_eos' = chat template + EOS)")
    return fmt


def rm_input_record(input_format: str, max_length: int | None = None) -> dict:
    """The JSON record of an RM input format (what training writes to :data:`RM_INPUT_FILE`)."""
    fmt = check_input_format(input_format)
    return {"format": fmt, "messages": "[user: question, assistant: code]", "chat_template": True,
            "add_generation_prompt": False, "add_special_tokens": False, "append_eos": fmt == "chat_eos",
            "truncation": "right", "max_length": int(max_length) if max_length else None,
            "score_at": "last non-pad token"}


def write_rm_input_format(out_dir: str | os.PathLike, input_format: str, max_length: int | None = None) -> Path:
    """Write :data:`RM_INPUT_FILE` into a saved RM directory; returns its path."""
    path = Path(out_dir) / RM_INPUT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rm_input_record(input_format, max_length), indent=2) + "\n", encoding="utf-8")
    return path


def _parse_record(path: Path) -> str:
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
        fmt = rec["format"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a valid RM input record ({type(e).__name__}: {e}); expected JSON with a "
                         f"'format' in {list(RM_INPUT_FORMATS)} -- delete it to score the authors' way") from None
    try:
        return check_input_format(fmt)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def read_rm_input_format(model_dir: str | os.PathLike, hub: bool = False) -> str:
    """The input format recorded in an RM checkpoint, else ``"authors"`` (module docstring).

    ``model_dir``: a local directory (its :data:`RM_INPUT_FILE` is read) or, with ``hub=True``, a hub id whose
    repository is asked for that file (any failure -- offline, no such file -- means no record). A directory
    trained by an older kit (completion marker, no record) was trained with EOS appended: ``"chat_eos"``.
    """
    p = Path(str(model_dir)).expanduser()
    if p.is_dir():
        rec = p / RM_INPUT_FILE
        if rec.is_file():
            return _parse_record(rec)
        if (p / LEGACY_KIT_MARKER).is_file():
            log.warning("%s: kit-trained RM without %s (an older kit, which appended EOS): scoring it as "
                        "'chat_eos'", p, RM_INPUT_FILE)
            return "chat_eos"
        return DEFAULT_RM_INPUT_FORMAT
    if hub and not p.exists():
        try:
            from huggingface_hub import hf_hub_download

            return _parse_record(Path(hf_hub_download(str(model_dir), RM_INPUT_FILE)))
        except Exception:  # offline, not cached, no such file or repo: no record
            return DEFAULT_RM_INPUT_FORMAT
    return DEFAULT_RM_INPUT_FORMAT


def rm_text(tokenizer, question: str, code: str, input_format: str = DEFAULT_RM_INPUT_FORMAT) -> str:
    """Chat-template text of ``[user: question, assistant: code]`` (+ EOS for ``chat_eos``): the RM input."""
    fmt = check_input_format(input_format)
    ensure_chat_template(tokenizer)
    text = tokenizer.apply_chat_template(_rm_messages(question, code), tokenize=False, add_generation_prompt=False)
    eos = tokenizer.eos_token
    if fmt == "chat_eos" and eos and not text.endswith(eos):
        text = text + eos
    return text


def encode_rm_inputs(tokenizer, questions: Sequence[str], codes: Sequence[str], max_length: int | None,
                     input_format: str = DEFAULT_RM_INPUT_FORMAT) -> tuple[list[list[int]], np.ndarray]:
    """Token ids of each RM input (see module docstring) and a bool array: was it right-truncated?"""
    if len(questions) != len(codes):
        raise ValueError(f"{len(questions)} questions but {len(codes)} codes")
    texts = [rm_text(tokenizer, str(q), str(c), input_format) for q, c in zip(questions, codes)]
    if not texts:
        return [], np.zeros(0, dtype=bool)
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    ids = [list(x) for x in ids]
    if max_length is None or max_length <= 0:
        return ids, np.zeros(len(ids), dtype=bool)
    trunc = np.array([len(x) > max_length for x in ids], dtype=bool)
    return [x[:max_length] for x in ids], trunc


def _pad_batch(seqs: list[list[int]], pad_id: int):
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, :len(s)] = 1
    return ids, mask


def load_rm_seeded(name: str, device: str | None = None, dtype: Any = None, seed: int | None = None):
    """``cskit.models.load_reward_model`` with the torch RNG seeded (without disturbing the global RNG), so a
    checkpoint without a score head always gets the same random head -- training's init and the untrained
    baseline scorer are then the same model."""
    import torch

    from cskit.models import load_reward_model

    if seed is None:
        return load_reward_model(name, device=device, dtype=dtype)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return load_reward_model(name, device=device, dtype=dtype)


class RewardScorer:
    """Score ``(question, code)`` pairs with a sequence-classification RM (scalar logit, ``num_labels=1``).

    ``model_or_path``: a model name/dir/hub id (anything :func:`cskit.models.resolve_model` accepts; loaded
    lazily) or an in-memory model (then ``tokenizer`` is required and the scorer cannot be pickled).
    ``seed``: seeds the random score head of checkpoints that have none (the untrained-RM baseline).
    ``input_format``: ``"authors"`` / ``"chat_eos"`` (module docstring); ``None`` (default) = the format recorded
    in the checkpoint (:data:`RM_INPUT_FILE`, written by kit training), else ``"authors"``.
    """

    def __init__(self, model_or_path: Any, tokenizer: Any = None, max_length: int = 4096, batch_size: int = 16,
                 device: str | None = None, dtype: Any = None, seed: int | None = None, progress: bool = False,
                 share_prefix: bool = True, min_shared_prefix: int = 32, input_format: str | None = None):
        self.requested_input_format = None if input_format is None else check_input_format(input_format)
        self._input_format: str | None = self.requested_input_format
        self.max_length = int(max_length) if max_length else None
        self.batch_size = max(1, int(batch_size))
        self.device_pref = device
        self.dtype_pref = dtype
        self.seed = seed
        self.progress = progress
        # share_prefix: inputs of one question (a GRPO group, Best-of-N candidates) run their common token prefix
        # once (KV cache) and only their code suffixes in batches -- same inputs, same scores up to float noise.
        self.share_prefix = bool(share_prefix)
        self.min_shared_prefix = int(min_shared_prefix)
        self.n_truncated = 0      # inputs right-truncated so far (cumulative over score() calls)
        self.n_scored = 0
        if isinstance(model_or_path, (str, bytes)) or hasattr(model_or_path, "__fspath__"):
            self.path: str | None = str(model_or_path)
            self._model = None
            self._tokenizer = tokenizer
        else:
            if tokenizer is None:
                raise ValueError("RewardScorer(model, tokenizer): an in-memory model needs its tokenizer")
            self.path = None
            self._model = model_or_path
            self._tokenizer = tokenizer
            if self._input_format is None:
                self._input_format = DEFAULT_RM_INPUT_FORMAT
            self._prepare_loaded()

    # -- loading / pickling -----------------------------------------------------------------------------
    def _prepare_loaded(self) -> None:
        tok, model = self._tokenizer, self._model
        if tok.pad_token_id is None:
            from cskit.models import ensure_pad_token

            ensure_pad_token(tok, model)
        if getattr(model.config, "pad_token_id", None) is None:
            model.config.pad_token_id = tok.pad_token_id
        ensure_chat_template(tok)
        model.eval()

    def _load(self) -> None:
        if self._model is not None:
            return
        from cskit.models import pick_device, pick_dtype

        device = pick_device(self.device_pref or "auto")
        dtype = pick_dtype(device, self.dtype_pref or "auto")
        model, tok = load_rm_seeded(self.path, device=device, dtype=dtype, seed=self.seed)
        if self._tokenizer is not None:
            tok = self._tokenizer
        if self._input_format is None:
            self._input_format = self._recorded_format()
        self._model, self._tokenizer = model, tok
        self._prepare_loaded()

    def _recorded_format(self) -> str:
        from cskit.models import resolve_model

        where = resolve_model(str(self.path), "seqcls")
        fmt = read_rm_input_format(where, hub=True)
        log.info("RewardScorer(%s): input format %r (%s)", self.path, fmt,
                 "recorded" if Path(where).is_dir() and (Path(where) / RM_INPUT_FILE).is_file()
                 else "no record: the authors' format")
        return fmt

    @property
    def input_format(self) -> str:
        """The RM input format this scorer encodes with (resolved when the model loads)."""
        if self._input_format is None:
            self._load()
        return str(self._input_format)

    @property
    def model(self):
        self._load()
        return self._model

    @property
    def tokenizer(self):
        self._load()
        return self._tokenizer

    @property
    def device(self):
        return next(self.model.parameters()).device

    def __getstate__(self):
        if self.path is None:
            raise TypeError("a RewardScorer built from an in-memory model cannot be pickled; save the model "
                            "(save_pretrained) and build the scorer from its directory")
        state = dict(self.__dict__)
        state["_model"] = None
        state["_tokenizer"] = None
        state["_input_format"] = self.requested_input_format  # re-resolved from the checkpoint on load
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return (f"RewardScorer({self.path or type(self._model).__name__!r}, max_length={self.max_length}, "
                f"batch_size={self.batch_size}, input_format={self._input_format or 'auto'}, "
                f"loaded={self._model is not None})")

    # -- scoring --------------------------------------------------------------------------------------------
    def encode(self, questions: Sequence[str], codes: Sequence[str]) -> tuple[list[list[int]], np.ndarray]:
        tok = self.tokenizer
        return encode_rm_inputs(tok, questions, codes, self.max_length, self.input_format)

    def score_ids(self, seqs: list[list[int]]) -> np.ndarray:
        """Scores of already-encoded inputs: length-sorted batches, right padding, last non-pad logit."""
        import torch
        from tqdm.auto import tqdm

        out = np.zeros(len(seqs), dtype=np.float64)
        if not seqs:
            return out
        model = self.model
        pad_id = int(model.config.pad_token_id)
        device = self.device
        order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i]))  # longest first: OOM shows up at once
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        with torch.inference_mode():
            for idx in tqdm(batches, desc="RM scoring", disable=not self.progress):
                ids, mask = _pad_batch([seqs[i] for i in idx], pad_id)
                logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False).logits
                out[idx] = logits[:, 0].float().cpu().numpy().astype(np.float64)
        return out

    def score_ids_shared_prefix(self, seqs: list[list[int]], groups: Sequence[int]) -> np.ndarray:
        """Like :meth:`score_ids`, but sequences of one group run their common prefix once (KV cache)."""
        import copy

        import torch

        out = np.zeros(len(seqs), dtype=np.float64)
        by_group: dict[int, list[int]] = {}
        for i, g in enumerate(groups):
            by_group.setdefault(int(g), []).append(i)
        plain: list[int] = []
        model = self.model
        pad_id, device = int(model.config.pad_token_id), self.device
        base = model.base_model
        with torch.inference_mode():
            for idx in by_group.values():
                members = [seqs[i] for i in idx]
                p = min(len(x) for x in members) - 1            # every member keeps >= 1 suffix token
                first = members[0]
                for x in members[1:]:
                    k = 0
                    while k < p and x[k] == first[k]:
                        k += 1
                    p = k
                if len(idx) < 2 or p < self.min_shared_prefix:
                    plain += idx
                    continue
                prefix = torch.tensor([first[:p]], dtype=torch.long, device=device)
                cache = base(input_ids=prefix, use_cache=True).past_key_values
                order = sorted(idx, key=lambda i: -len(seqs[i]))
                for b0 in range(0, len(order), self.batch_size):
                    bidx = order[b0:b0 + self.batch_size]
                    ids, mask = _pad_batch([seqs[i][p:] for i in bidx], pad_id)
                    c = copy.deepcopy(cache)
                    c.batch_repeat_interleave(len(bidx))
                    full_mask = torch.cat([torch.ones((len(bidx), p), dtype=mask.dtype), mask], dim=1)
                    pos = torch.arange(p, p + ids.shape[1], dtype=torch.long).expand(len(bidx), -1)
                    logits = model(input_ids=ids.to(device), attention_mask=full_mask.to(device),
                                   position_ids=pos.to(device), past_key_values=c, use_cache=True).logits
                    out[bidx] = logits[:, 0].float().cpu().numpy().astype(np.float64)
        if plain:
            out[plain] = self.score_ids([seqs[i] for i in plain])
        return out

    def score(self, questions: Sequence[str], codes: Sequence[str]) -> np.ndarray:
        """float64 scores, one per (question, code); identical inputs are scored once."""
        questions, codes = list(questions), list(codes)
        if len(questions) != len(codes):
            raise ValueError(f"{len(questions)} questions but {len(codes)} codes")
        if not questions:
            return np.zeros(0, dtype=np.float64)
        uniq: dict[tuple[str, str], int] = {}
        inv = np.array([uniq.setdefault((str(q), str(c)), len(uniq)) for q, c in zip(questions, codes)])
        keys = list(uniq)
        seqs, trunc = self.encode([k[0] for k in keys], [k[1] for k in keys])
        n_tr = int(trunc.sum())
        if n_tr:
            log.info("RewardScorer: %d of %d inputs right-truncated to %d tokens", n_tr, len(keys), self.max_length)
        self.n_truncated += n_tr
        self.n_scored += len(keys)
        if self.share_prefix:
            qid: dict[str, int] = {}
            groups = [qid.setdefault(k[0], len(qid)) for k in keys]
            try:
                return self.score_ids_shared_prefix(seqs, groups)[inv]
            except Exception as e:  # a model/cache type without batch-expandable KV caches: score plainly
                log.warning("RewardScorer: shared-prefix scoring failed (%s: %s); scoring without it",
                            type(e).__name__, e)
                self.share_prefix = False
        return self.score_ids(seqs)[inv]

    __call__ = score


# ---------------------------------------------------------------------------------------------------------
# pairs and rollouts
# ---------------------------------------------------------------------------------------------------------
PAIR_COLUMNS = ("question_content", "code_pos", "code_neg")
NEG_PASS_BINS = (0.0, 1e-9, 0.25, 0.5, 0.75, 1.0)
NEG_PASS_LABELS = ("0", "(0,0.25]", "(0.25,0.5]", "(0.5,0.75]", "(0.75,1)")


def check_columns(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {missing}; it has {list(df.columns)}")


def score_pairs(scorer, pairs_df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``pairs_df`` with ``score_pos``, ``score_neg``, ``margin`` (= pos - neg), ``correct``."""
    check_columns(pairs_df, PAIR_COLUMNS, "pairs table")
    df = pairs_df.reset_index(drop=True).copy()
    n = len(df)
    q = df["question_content"].astype(str).tolist()
    s = np.asarray(scorer.score(q + q, df["code_pos"].astype(str).tolist() + df["code_neg"].astype(str).tolist()),
                   dtype=np.float64)
    df["score_pos"], df["score_neg"] = s[:n], s[n:]
    df["margin"] = df["score_pos"] - df["score_neg"]
    df["correct"] = df["margin"] > 0
    return df


def neg_pass_bin(x: pd.Series) -> pd.Series:
    """Bucket the negative's pass fraction: 0 (fails every test) ... (0.75, 1) (hard negatives)."""
    return pd.cut(x.astype(float).clip(0, 1), bins=list(NEG_PASS_BINS), labels=list(NEG_PASS_LABELS),
                  include_lowest=True, right=True).astype(str)


def pair_metrics(scored: pd.DataFrame) -> dict:
    """Accuracy (ties count as wrong) with its 95% Wilson interval over pairs and, given ``problem_id``, a
    bootstrap interval over problems (``accuracy_ci_by_problem``: the honest one when a problem gives many
    pairs); mean/median margin, and the same by the negative's pass fraction."""
    out: dict[str, Any] = {"n_pairs": int(len(scored))}
    if not len(scored):
        out.update(accuracy=float("nan"), mean_margin=float("nan"), median_margin=float("nan"), ties=0,
                   by_neg_pass_fraction=[])
        return out
    from cskit.stats import rate

    m = scored["margin"].to_numpy(dtype=float)
    out.update(accuracy=float((m > 0).mean()), mean_margin=float(m.mean()), median_margin=float(np.median(m)),
               ties=int((m == 0).sum()),
               accuracy_se=float(math.sqrt(max((m > 0).mean() * (1 - (m > 0).mean()), 1e-12) / len(m))),
               accuracy_ci=rate(int((m > 0).sum()), len(m))["ci"])
    if "problem_id" in scored.columns:   # pairs of one problem share code: resample problems, not pairs
        from cskit.stats import cluster_bootstrap_ci

        out["n_problems"] = int(scored["problem_id"].nunique())
        out["accuracy_ci_by_problem"] = list(cluster_bootstrap_ci((m > 0).astype(float), scored["problem_id"]))
    rows = []
    if "neg_pass_fraction" in scored.columns:
        b = neg_pass_bin(scored["neg_pass_fraction"])
        for lab in NEG_PASS_LABELS:
            sel = (b == lab).to_numpy()
            if sel.any():
                rows.append({"neg_pass_bin": lab, "n": int(sel.sum()), "accuracy": float((m[sel] > 0).mean()),
                             "accuracy_ci": rate(int((m[sel] > 0).sum()), int(sel.sum()))["ci"],
                             "mean_margin": float(m[sel].mean())})
    out["by_neg_pass_fraction"] = rows
    if "pair_source" in scored.columns:
        out["by_pair_source"] = {str(k): float((g["margin"] > 0).mean())
                                 for k, g in scored.groupby("pair_source", sort=True)}
        out["by_pair_source_rate"] = {str(k): rate(int((g["margin"] > 0).sum()), len(g))
                                      for k, g in scored.groupby("pair_source", sort=True)}
    return out


def paired_accuracy_by_source(val_scores: pd.DataFrame, seed: int = 0) -> dict[str, dict]:
    """Trained minus untrained RM accuracy on the same held-out pairs, over all pairs and per ``pair_source``
    (``data/rm_scores/val_pairs.parquet``: ``margin_trained``, ``margin_untrained``, ``pair_source``,
    ``problem_id``): each a paired bootstrap difference with its interval over problems and its reading."""
    from cskit.stats import cluster_bootstrap_ci, describe_difference, paired_difference

    out: dict[str, dict] = {}
    groups = [("all", val_scores)] + [(str(k), g) for k, g in val_scores.groupby("pair_source", sort=True)]
    for name, g in groups:
        a = (g["margin_trained"] > 0).astype(float).to_numpy()
        b = (g["margin_untrained"] > 0).astype(float).to_numpy()
        d = paired_difference(a, b, seed=seed)
        d["ci_by_problem"] = list(cluster_bootstrap_ci(a - b, g["problem_id"].to_numpy(), seed=seed))
        d["n_problems"] = int(g["problem_id"].nunique())
        d["accuracy_trained"], d["accuracy_untrained"] = float(a.mean()), float(b.mean())
        d["wording"] = describe_difference(d, "trained RM", "untrained RM")
        out[name] = d
    return out


def evaluate_pairs(scorer, pairs_df: pd.DataFrame) -> dict:
    """Pairwise accuracy, margins, and accuracy by the negative's pass fraction (contract)."""
    return pair_metrics(score_pairs(scorer, pairs_df))


def score_rollouts(scorer, rollouts_df: pd.DataFrame, code: str = "auto") -> pd.DataFrame:
    """Per-sample RM scores of rollouts (columns question, code_strict/code_lenient, passed, pass_fraction).

    ``code``: ``strict`` / ``lenient`` picks that column; ``auto`` takes the strict extraction when there is one,
    else the lenient one. Rows with no code at all get ``score = NaN`` and ``scored = False``.
    Adds ``code_used``, ``score``, ``scored``.
    """
    check_columns(rollouts_df, ("question", "passed"), "rollouts table")
    df = rollouts_df.reset_index(drop=True).copy()
    strict = df["code_strict"].fillna("").astype(str) if "code_strict" in df else pd.Series([""] * len(df))
    lenient = df["code_lenient"].fillna("").astype(str) if "code_lenient" in df else pd.Series([""] * len(df))
    if code == "strict":
        used = strict
    elif code == "lenient":
        used = lenient
    elif code == "auto":
        used = strict.where(strict.str.strip() != "", lenient)
    else:
        raise ValueError(f"code must be 'auto', 'strict' or 'lenient', got {code!r}")
    df["code_used"] = used
    df["scored"] = used.str.strip() != ""
    df["score"] = np.nan
    sel = df.index[df["scored"]]
    if len(sel):
        df.loc[sel, "score"] = scorer.score(df.loc[sel, "question"].astype(str).tolist(),
                                            df.loc[sel, "code_used"].tolist())
    return df



def calibration_table(scored: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Pass rate (and mean pass fraction) per score quantile bin (deciles by default) of scored rollouts."""
    d = scored[scored["scored"]].copy()
    if d.empty:
        return pd.DataFrame(columns=["bin", "n", "score_mean", "pass_rate", "pass_fraction_mean"])
    q = min(bins, max(1, d["score"].nunique()))
    d["bin"] = pd.qcut(d["score"].rank(method="first"), q=q, labels=False)
    agg = {"n": ("score", "size"), "score_mean": ("score", "mean"), "pass_rate": ("passed", "mean")}
    if "pass_fraction" in d:
        agg["pass_fraction_mean"] = ("pass_fraction", "mean")
    return d.groupby("bin").agg(**agg).reset_index()


def rollout_metrics(scored: pd.DataFrame) -> dict:
    """Score distribution of passing vs failing code, AUROC with a 95% bootstrap interval over problems
    (``auroc_ci``; over rollouts without ``problem_id``), and the calibration table."""
    d = scored[scored["scored"]]
    passed = d["passed"].astype(bool).to_numpy()
    s = d["score"].to_numpy(dtype=float)

    def stats(x):
        return {"n": int(len(x)), "mean": float(np.mean(x)) if len(x) else float("nan"),
                "std": float(np.std(x)) if len(x) else float("nan"),
                "median": float(np.median(x)) if len(x) else float("nan")}

    from cskit.stats import auroc_ci

    clusters = d["problem_id"].to_numpy() if "problem_id" in d else None   # rollouts of a problem agree
    return {"n_rollouts": int(len(scored)), "n_scored": int(len(d)), "pass": stats(s[passed]),
            "fail": stats(s[~passed]), "auroc": auroc(s, passed),
            "auroc_ci": list(auroc_ci(s, passed, clusters)),
            "n_problems": int(d["problem_id"].nunique()) if "problem_id" in d else None,
            "calibration": calibration_table(scored).to_dict(orient="records")}


def trained_rm_reference(rm: str | os.PathLike | None, run_models: str | os.PathLike) -> str:
    """The reward model a stage after 03 uses: ``rm`` when given -- a local directory, or a hub id such as
    ``LARK-Lab/CodeScaler-8B`` (passed through; loading it needs the hub or its cache) -- else this run's
    ``models/rm`` written by stage 03. A local path that does not hold a model is an error that says so."""
    from pathlib import Path

    if rm:
        p = Path(str(rm)).expanduser()
        if p.exists():
            if not (p / "config.json").exists():
                raise FileNotFoundError(f"{p} holds no reward model (no config.json)")
            return str(p)
        if str(rm).startswith((".", "/", "~")) or str(rm).count("/") != 1:
            raise FileNotFoundError(f"reward model {rm!r}: no such directory, and not a hub id (owner/name)")
        return str(rm)   # a hub id
    p = Path(run_models) / "rm"
    if not (p / "config.json").exists():
        raise FileNotFoundError(f"no trained reward model at {p} (written by stage 03_reward_model): run that stage "
                                "first, or set rm_path to a model directory or hub id (e.g. LARK-Lab/CodeScaler-8B)")
    return str(p)
