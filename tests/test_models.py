"""Tiny models, name resolution, loaders, devices (cskit.models)."""
import hashlib
import os
import threading

import pytest

torch = pytest.importorskip("torch")

from cskit import models  # noqa: E402
from cskit.models import (build_tiny_model, build_tiny_tokenizer, load_policy, load_reward_model,  # noqa: E402
                          pick_device, pick_dtype, resolve_model)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CSKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_tokenizer_keeps_code_layout_and_specials():
    tok = build_tiny_tokenizer()
    s = "def f(x):\n    if x:\n\treturn [x, 'é']  # ok\r\n"
    assert tok.decode(tok(s)["input_ids"]) == s
    assert tok.eos_token == "<|endoftext|>" and tok.pad_token == "<|pad|>"
    assert tok.pad_token_id != tok.eos_token_id
    for t in ("<|im_start|>", "<|im_end|>"):
        assert len(tok(t, add_special_tokens=False)["input_ids"]) == 1
    text = tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    assert text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    assert build_tiny_tokenizer().get_vocab() == tok.get_vocab()  # deterministic


@pytest.mark.parametrize("arch", ["qwen3", "llama"])
def test_build_tiny_model_deterministic(tmp_path, arch):
    a = build_tiny_model(tmp_path / "a", arch=arch, seed=0)
    b = build_tiny_model(tmp_path / "b", arch=arch, seed=0)
    c = build_tiny_model(tmp_path / "c", arch=arch, seed=1)
    assert _sha(a / "model.safetensors") == _sha(b / "model.safetensors") != _sha(c / "model.safetensors")
    assert _sha(a / "tokenizer.json") == _sha(b / "tokenizer.json")
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig
    m = AutoModelForCausalLM.from_pretrained(a)
    assert m.config.model_type == arch
    assert sum(p.numel() for p in m.parameters()) < 5_000_000
    tok = AutoTokenizer.from_pretrained(a)
    gc = GenerationConfig.from_pretrained(a)
    assert tok.eos_token_id in gc.eos_token_id and tok.convert_tokens_to_ids("<|im_end|>") in gc.eos_token_id
    assert gc.pad_token_id == tok.pad_token_id != tok.eos_token_id
    assert tok.chat_template


def test_build_seqcls(tmp_path):
    d = build_tiny_model(tmp_path / "rm", arch="qwen3", head="seqcls")
    from transformers import AutoModelForSequenceClassification
    m = AutoModelForSequenceClassification.from_pretrained(d)
    assert m.config.num_labels == 1 and m.config.pad_token_id is not None
    with pytest.raises(ValueError):
        build_tiny_model(tmp_path / "x", arch="gpt2")


def test_resolve_model_cache_and_passthrough(cache):
    p1 = resolve_model("tiny-qwen3")
    assert p1.startswith(str(cache)) and os.path.exists(os.path.join(p1, "config.json"))
    mtime = os.path.getmtime(os.path.join(p1, "config.json"))
    assert resolve_model("tiny-qwen3") == p1 and os.path.getmtime(os.path.join(p1, "config.json")) == mtime
    assert resolve_model("tiny-qwen3", head="seqcls") != p1
    assert resolve_model("Qwen/Qwen3-8B") == "Qwen/Qwen3-8B"
    assert resolve_model("/some/local/dir") == "/some/local/dir"
    with pytest.raises(ValueError):
        resolve_model("tiny-qwen3", head="lm")


def test_resolve_model_race(cache):
    out, errs = [], []

    def work():
        try:
            out.append(resolve_model("tiny-llama"))
        except Exception as e:  # pragma: no cover - the failure we test against
            errs.append(e)

    ts = [threading.Thread(target=work) for _ in range(3)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert not errs and len(set(out)) == 1
    leftovers = [p for p in os.listdir(cache / "models") if p.startswith(".")]
    assert leftovers == []


def test_resolve_demo_model_missing(cache):
    with pytest.raises(FileNotFoundError, match="prepare-assets"):
        resolve_model("smollm2-135m")


def test_load_policy_and_reward_model(cache):
    m, tok = load_policy("tiny-qwen3", device="cpu")
    assert tok.padding_side == "left" and not m.training
    assert next(m.parameters()).dtype == torch.float32
    rm, rtok = load_reward_model("tiny-llama", device="cpu")
    assert rm.config.num_labels == 1 and rm.config.pad_token_id == rtok.pad_token_id != rtok.eos_token_id
    enc = rtok(["def f():\n    pass<|endoftext|>", "x"], padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = rm(**enc).logits
    assert logits.shape == (2, 1)


def test_reward_model_pad_fix(cache, tmp_path):
    d = build_tiny_model(tmp_path / "rm", arch="qwen3", head="seqcls")
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(d)
    tok.pad_token = tok.eos_token  # a tokenizer whose pad == eos (like many chat models)
    tok.save_pretrained(d)
    rm, rtok = load_reward_model(str(d), device="cpu")
    assert rtok.pad_token_id != rtok.eos_token_id
    assert rtok.pad_token_id != rtok.convert_tokens_to_ids("<|im_end|>")
    assert rm.config.pad_token_id == rtok.pad_token_id


def test_ensure_pad_token_adds_one_when_vocab_has_none():
    from transformers import AutoModelForSequenceClassification  # noqa: F401
    tok = build_tiny_tokenizer()
    vocab = tok.get_vocab()

    class FakeTok:
        pad_token_id = None
        eos_token = "<|endoftext|>"
        added = None

        def get_vocab(self):
            return {"<|endoftext|>": vocab["<|endoftext|>"], "a": 5}

        def add_special_tokens(self, d):
            self.added = d
            self.pad_token_id = 99

        def __len__(self):
            return 100

    class FakeModel:
        n = None

        def resize_token_embeddings(self, n):
            self.n = n

    t, m = FakeTok(), FakeModel()
    assert models.ensure_pad_token(t, m) == 99 and t.added == {"pad_token": "<|pad|>"} and m.n == 100


def test_hub_id_offline_error_is_clear(cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError, match="cskit-no-such-org/no-such-model.*local directory"):
        load_policy("cskit-no-such-org/no-such-model", device="cpu")


def test_pick_device_dtype():
    assert pick_device("cpu") == "cpu"
    assert pick_device("auto") in ("cpu", "cuda")
    assert pick_dtype("cpu") == torch.float32
    assert pick_dtype("cpu", "bf16") == torch.bfloat16 and pick_dtype("cpu", "float16") == torch.float16
    assert pick_dtype("cuda", torch.float32) == torch.float32
    with pytest.raises(ValueError, match="unknown dtype"):
        pick_dtype("cpu", "int3")
