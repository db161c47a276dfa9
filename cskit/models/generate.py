"""Sampling completions from a policy: one interface, two backends (HF transformers, vLLM).

``make_generator(backend, model, tokenizer=None, batch_size=16, device=None)`` returns an object with
``.generate(prompts, params) -> list[list[Generation]]`` (outer: prompts in input order, inner: the
``params.n`` samples of that prompt in sample order). Prompts are already chat-rendered text
(``cskit.prompts.render_policy_prompt``); they are tokenized with ``add_special_tokens=False`` because
the chat template already holds every special token the model expects.

``TransformersGenerator`` (CPU and GPU):

* Batching: prompts are tokenized once and sorted by length (longest first); the (prompt, sample)
  rows are cut into batches of at most ``batch_size`` sequences (a prompt's n samples stay together
  unless n > batch_size), left-padded, and generated in one ``model.generate`` call per batch.
* Shared prompt processing (``share_prefill=True``, the default): with n > 1 samples per prompt, each
  distinct prompt of a batch is run once and its KV cache copied to its n rows before decoding, so the
  prompt costs one forward pass instead of n (the prompt dominates on CPU for short answers).
* Greedy when ``temperature == 0`` (then one row per prompt is generated and copied n times);
  otherwise sampling with temperature / top-p / top-k (top_k <= 0 disables it).
* Stops at any of: the tokenizer's EOS, the model's ``generation_config.eos_token_id`` (int or list),
  and ``<|im_end|>`` when the vocabulary has it. ``finish_reason`` is ``"stop"`` if a stop token was
  produced, else ``"length"``. ``n_tokens`` counts generated tokens including the stop token (as vLLM
  does); ``token_ids`` holds them; ``text`` is their decoding with special tokens skipped.
* ``stop_after_code_block`` (off by default; the CPU demo profile turns it on to save decoding time):
  a sample also ends as soon as its text holds one complete fenced block (```` ```tag\n ... ``` ````),
  with ``finish_reason`` ``"stop"``. This drops the prose and any further blocks the model would have
  written, so it changes what strict extraction sees (no multi-block answers): never use it where the
  paper's behaviour is measured. vLLM ignores it.
* Reproducible: each call seeds torch from ``params.seed`` inside ``torch.random.fork_rng`` (the
  caller's global RNG state is left untouched). The same call (prompts, params, batch_size) gives the
  same samples; changing ``batch_size`` regroups rows and so changes sampled (not greedy) outputs.

``VLLMGenerator`` has the same interface; vllm is imported only when it is constructed (clear
ImportError when missing: it is an optional GPU extra, ``pip install 'cskit[vllm]'``). Requests are
seeded with ``params.seed + prompt index``. In notebooks set ``VLLM_ENABLE_V1_MULTIPROCESSING=0``
(vLLM's engine uses spawn); scripts need an ``if __name__ == "__main__":`` guard.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

__all__ = ["SamplingParams", "Generation", "Generator", "TransformersGenerator", "VLLMGenerator",
           "make_generator", "stop_token_ids"]


@dataclass
class SamplingParams:
    n: int = 1
    temperature: float = 0.6
    top_p: float = 0.95
    top_k: int = 20
    max_new_tokens: int = 512
    seed: int = 0
    stop_after_code_block: bool = False  # transformers backend: end a sample once it holds a closed ``` block
    max_total_tokens: int = 0            # cap on prompt + response tokens per sample (vLLM's max_model_len); 0 = none

    def __post_init__(self):
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    @classmethod
    def from_config(cls, cfg: Any, *, n: int, max_new_tokens: int, seed: int,
                    stop_after_code_block: bool | None = None) -> "SamplingParams":
        """The profile's sampling (``temperature``, ``top_p``, ``top_k``, ``gen_stop_after_code_block``) with
        the stage's own n, length and seed."""
        stop = bool(cfg.gen_stop_after_code_block) if stop_after_code_block is None else stop_after_code_block
        return cls(n=int(n), temperature=float(cfg.temperature), top_p=float(cfg.top_p), top_k=int(cfg.top_k),
                   max_new_tokens=int(max_new_tokens), seed=int(seed), stop_after_code_block=stop)


@dataclass
class Generation:
    text: str
    n_tokens: int
    finish_reason: str  # "stop" | "length"
    token_ids: list[int] = field(default_factory=list, repr=False, compare=False)


class Generator(Protocol):
    def generate(self, prompts: Sequence[str], params: SamplingParams, progress: bool | None = None
                 ) -> list[list[Generation]]: ...


def stop_token_ids(tokenizer: Any, model: Any = None) -> list[int]:
    """EOS ids: the tokenizer's EOS, the model generation config's EOS (int or list), ``<|im_end|>``."""
    ids: list[int] = []
    if getattr(tokenizer, "eos_token_id", None) is not None:
        ids.append(int(tokenizer.eos_token_id))
    gc = getattr(model, "generation_config", None)
    geos = getattr(gc, "eos_token_id", None) if gc is not None else None
    if geos is not None:
        ids.extend(int(i) for i in (geos if isinstance(geos, (list, tuple)) else [geos]))
    vocab = tokenizer.get_vocab()
    if "<|im_end|>" in vocab:
        ids.append(int(vocab["<|im_end|>"]))
    return sorted(set(ids))


def _plan_batches(lengths: Sequence[int], n: int, batch_size: int) -> list[list[tuple[int, int]]]:
    """Batches of (prompt index, number of rows): longest prompts first, <= batch_size rows each."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    units = []
    for i in order:
        left = n
        while left > 0:
            k = min(left, batch_size)
            units.append((i, k))
            left -= k
    batches, cur, rows = [], [], 0
    for u in units:
        if rows + u[1] > batch_size and cur:
            batches.append(cur)
            cur, rows = [], 0
        cur.append(u)
        rows += u[1]
    if cur:
        batches.append(cur)
    return batches


_CLOSED_BLOCK = re.compile(r"```[^\n`]*\n.*?```", re.DOTALL)


class _StopAfterBlock:
    """transformers StoppingCriteria: per row, True once the generated text holds a closed fenced block."""

    def __init__(self, tokenizer: Any, prompt_width: int):
        self.tokenizer, self.width = tokenizer, prompt_width

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        gen = input_ids[:, self.width:].tolist()
        texts = self.tokenizer.batch_decode(gen, skip_special_tokens=True)
        return torch.tensor([bool(_CLOSED_BLOCK.search(t)) for t in texts], device=input_ids.device)


class TransformersGenerator:
    """Batched ``model.generate`` with left padding (see the module docstring)."""

    def __init__(self, model: Any, tokenizer: Any = None, batch_size: int = 16, device: str | None = None,
                 dtype: Any = None, progress: bool = False, share_prefill: bool = True):
        if isinstance(model, (str, os.PathLike)):
            from cskit.models.loading import load_policy

            model, loaded_tok = load_policy(str(model), device=device, dtype=dtype)
            tokenizer = tokenizer or loaded_tok
        elif tokenizer is None:
            raise ValueError("a model object needs its tokenizer: make_generator(backend, model, tokenizer)")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model, self.tokenizer = model, tokenizer
        self.batch_size, self.progress = int(batch_size), progress
        self.share_prefill = share_prefill
        self.stop_ids = stop_token_ids(tokenizer, model)
        if not self.stop_ids:
            raise ValueError("the tokenizer has no EOS token and the model's generation config names none")
        pad = tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else self.stop_ids[0])

    @property
    def device(self):
        return next(self.model.parameters()).device

    def _gen_config(self, params: SamplingParams, max_new_tokens: int):
        from transformers import GenerationConfig

        kw: dict[str, Any] = dict(max_new_tokens=max_new_tokens, eos_token_id=self.stop_ids, pad_token_id=self.pad_id,
                                  num_return_sequences=1, bos_token_id=None)
        if params.greedy:
            kw.update(do_sample=False)
        else:
            kw.update(do_sample=True, temperature=float(params.temperature), top_p=float(params.top_p),
                      top_k=int(params.top_k) if params.top_k and params.top_k > 0 else None)
        return GenerationConfig(**kw)

    def generate(self, prompts: Sequence[str], params: SamplingParams | None = None,
                 progress: bool | None = None) -> list[list[Generation]]:
        import torch
        from tqdm.auto import tqdm

        params = params or SamplingParams()
        prompts = list(prompts)
        if not prompts:
            return []
        enc = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        if any(len(e) == 0 for e in enc):
            raise ValueError("empty prompt: prompts must be chat-rendered text")
        rows_per_prompt = 1 if params.greedy else params.n

        def limit(prompt_len: int) -> int:   # response tokens a prompt may have (max_total_tokens)
            if params.max_total_tokens and params.max_total_tokens > 0:
                return max(1, min(params.max_new_tokens, params.max_total_tokens - prompt_len))
            return params.max_new_tokens

        batches = _plan_batches([len(e) for e in enc], rows_per_prompt, self.batch_size)
        results: list[list[Generation]] = [[] for _ in prompts]
        device = self.device
        fork_devices = [device] if device.type == "cuda" else []
        show = self.progress if progress is None else progress
        with torch.random.fork_rng(devices=fork_devices), torch.inference_mode():
            torch.manual_seed(params.seed)
            for batch in tqdm(batches, desc="generate", disable=not show, unit="batch"):
                rows = [i for i, k in batch for _ in range(k)]
                width = max(len(enc[i]) for i in rows)
                gcfg = self._gen_config(params, max(limit(len(enc[i])) for i in rows))
                ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
                mask = torch.zeros((len(rows), width), dtype=torch.long)
                for r, i in enumerate(rows):
                    e = enc[i]
                    ids[r, width - len(e):] = torch.tensor(e, dtype=torch.long)
                    mask[r, width - len(e):] = 1
                extra = {}
                if self.share_prefill and len(rows) > len(batch) and width > 1:
                    extra["past_key_values"] = self._shared_prefill(batch, enc, width, device)
                if params.stop_after_code_block:
                    from transformers import StoppingCriteriaList

                    extra["stopping_criteria"] = StoppingCriteriaList([_StopAfterBlock(self.tokenizer, width)])
                out = self.model.generate(input_ids=ids.to(device), attention_mask=mask.to(device),
                                          generation_config=gcfg, **extra)
                gen = out[:, width:].tolist()
                for r, i in enumerate(rows):
                    own = limit(len(enc[i]))   # the row's own cap; the batch ran to its least-capped row
                    results[i].append(self._finish(gen[r][:own], params.stop_after_code_block))
        if params.greedy and params.n > 1:
            results = [[Generation(g.text, g.n_tokens, g.finish_reason, list(g.token_ids))
                        for g in res for _ in range(params.n)] for res in results]
        return results

    def _shared_prefill(self, batch, enc, width: int, device):
        """Run each distinct prompt of the batch once (all but its last token) and copy its KV cache to
        the prompt's n rows: prompt processing drops from n passes to one. Positions follow generate's
        own rule for left padding (``cumsum(mask) - 1``), so the continuation is numerically the same."""
        import torch

        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for r, (i, _) in enumerate(batch):
            e = enc[i]
            ids[r, width - len(e):] = torch.tensor(e, dtype=torch.long)
            mask[r, width - len(e):] = 1
        ids, mask = ids[:, :-1].to(device), mask[:, :-1].to(device)
        pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 0)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True)
        cache = out.past_key_values
        cache.batch_select_indices(torch.tensor([r for r, (_, k) in enumerate(batch) for _ in range(k)],
                                                device=device))
        return cache

    def _finish(self, ids: list[int], block_stop: bool = False) -> Generation:
        stops = set(self.stop_ids)
        cut = next((j for j, t in enumerate(ids) if t in stops), None)
        if cut is None:
            reason = "length"
            if block_stop:  # rows ended by the block criterion are padded to the batch's length
                while ids and ids[-1] == self.pad_id:
                    ids = ids[:-1]
                if _CLOSED_BLOCK.search(self.tokenizer.decode(ids, skip_special_tokens=True)):
                    reason = "stop"
        else:
            reason, ids = "stop", ids[:cut + 1]
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        return Generation(text=text, n_tokens=len(ids), finish_reason=reason, token_ids=ids)


class VLLMGenerator:
    """The same interface on vLLM (GPU, optional extra). ``model``: a name or directory (a loaded HF model
    is accepted too: vLLM then loads its ``name_or_path``; free the HF copy yourself if memory is tight)."""

    def __init__(self, model: Any, tokenizer: Any = None, batch_size: int = 16, device: str | None = None,
                 dtype: Any = None, progress: bool = False, gpu_memory_utilization: float = 0.8,
                 max_model_len: int | None = None, **llm_kwargs: Any):
        try:
            import vllm  # noqa: F401
        except ImportError as e:
            raise ImportError(
                "gen_backend='vllm' needs the optional vllm package (GPU only): `pip install 'cskit[vllm]'` "
                "(= trl[vllm]==1.16.0 -> vllm 0.31.0). Use gen_backend='transformers' otherwise.") from e
        if not isinstance(model, (str, os.PathLike)):
            # an already-loaded HF model: serve the directory it came from (the object itself is not used)
            src = getattr(model, "name_or_path", None) or getattr(getattr(model, "config", None), "_name_or_path", "")
            if not src:
                raise TypeError("VLLMGenerator needs a model name or directory (this model object has no "
                                "name_or_path to reload from)")
            model = src
        from cskit.models.loading import pick_dtype, resolve_model

        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        path = resolve_model(str(model), "causal")
        dt = pick_dtype("cuda", dtype or "auto")
        self.llm = vllm.LLM(model=path, dtype=str(dt).replace("torch.", ""), gpu_memory_utilization=gpu_memory_utilization,
                            max_model_len=max_model_len, **llm_kwargs)  # vLLM batches by itself
        self.tokenizer = tokenizer or self.llm.get_tokenizer()
        self.stop_ids = stop_token_ids(self.tokenizer)
        self.progress = progress

    def generate(self, prompts: Sequence[str], params: SamplingParams | None = None,
                 progress: bool | None = None) -> list[list[Generation]]:
        import vllm

        params = params or SamplingParams()
        greedy = params.greedy
        reqs = [{"prompt_token_ids": self.tokenizer(p, add_special_tokens=False)["input_ids"]} for p in prompts]

        def cap(prompt_len: int) -> int:   # vLLM's max_model_len semantics: prompt + response <= max_total_tokens
            if params.max_total_tokens and params.max_total_tokens > 0:
                return max(1, min(int(params.max_new_tokens), params.max_total_tokens - prompt_len))
            return int(params.max_new_tokens)

        sps = [vllm.SamplingParams(
            n=params.n, temperature=0.0 if greedy else float(params.temperature),
            top_p=1.0 if greedy else float(params.top_p),
            top_k=-1 if greedy or not params.top_k or params.top_k <= 0 else int(params.top_k),
            max_tokens=cap(len(reqs[i]["prompt_token_ids"])), seed=int(params.seed) + i,
            stop_token_ids=self.stop_ids, skip_special_tokens=True) for i in range(len(prompts))]
        show = self.progress if progress is None else progress
        outs = self.llm.generate(reqs, sps, use_tqdm=show)
        res = []
        for o in outs:
            gens = sorted(o.outputs, key=lambda c: c.index)
            res.append([Generation(text=c.text, n_tokens=len(c.token_ids),
                                   finish_reason="length" if c.finish_reason == "length" else "stop",
                                   token_ids=list(c.token_ids)) for c in gens])
        return res


def make_generator(backend: str, model_name_or_obj: Any, tokenizer: Any = None, batch_size: int = 16,
                   device: str | None = None, **kwargs: Any) -> Generator:
    """``backend``: ``transformers`` or ``vllm``; extra kwargs (``dtype``, ``progress``, ...) go to the class."""
    if backend in ("transformers", "hf"):
        return TransformersGenerator(model_name_or_obj, tokenizer, batch_size=batch_size, device=device, **kwargs)
    if backend == "vllm":
        return VLLMGenerator(model_name_or_obj, tokenizer, batch_size=batch_size, device=device, **kwargs)
    raise ValueError(f"unknown generation backend {backend!r}; expected 'transformers' or 'vllm'")
