"""cskit.models.cpu_attention: grouped-KV SDPA on CPU gives transformers' sdpa numbers, with and without padding."""
from __future__ import annotations

import pytest
import torch

from cskit.models.cpu_attention import NAME, restore_attention, use_gqa_sdpa
from cskit.models import load_policy


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSKIT_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield load_policy("tiny-qwen3", device="cpu")


def test_load_policy_switches_cpu_gqa_models(tiny):
    model, _ = tiny
    assert model.config.num_key_value_heads < model.config.num_attention_heads
    assert model.config._attn_implementation == NAME


def test_same_logits_and_greedy_tokens_as_sdpa_with_left_padding(tiny):
    model, tok = tiny
    enc = tok(["def f(x):\n    return", "print(1)", "a b c d e f g h i j"], return_tensors="pt", padding=True,
              padding_side="left")
    assert (enc.attention_mask == 0).any()  # padded rows exercise the mask path
    kw = dict(max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
    with torch.no_grad():
        fast_logits = model(**enc).logits
        fast_ids = model.generate(**enc, **kw)
    restore_attention(model)
    try:
        assert model.config._attn_implementation == "sdpa"
        with torch.no_grad():
            ref_logits = model(**enc).logits
            ref_ids = model.generate(**enc, **kw)
    finally:
        assert use_gqa_sdpa(model)
    keep = enc.attention_mask.bool()
    torch.testing.assert_close(fast_logits[keep], ref_logits[keep], rtol=0, atol=1e-5)
    assert torch.equal(fast_ids, ref_ids)


def test_gradients_match_sdpa(tiny):
    model, tok = tiny
    enc = tok(["x = 1\nprint(x)", "y"], return_tensors="pt", padding=True, padding_side="left")

    def grads():
        model.zero_grad()
        out = model(**enc, labels=enc.input_ids.masked_fill(enc.attention_mask == 0, -100))
        out.loss.backward()
        return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    fast = grads()
    restore_attention(model)
    try:
        ref = grads()
    finally:
        use_gqa_sdpa(model)
        model.zero_grad()
    assert fast.keys() == ref.keys()
    for n in ref:
        torch.testing.assert_close(fast[n], ref[n], rtol=1e-4, atol=1e-6)


def test_saved_model_loads_without_cskit(tiny, tmp_path):
    import json

    from transformers import AutoModelForCausalLM

    model, _ = tiny
    model.save_pretrained(tmp_path / "m")
    assert "_attn_implementation" not in json.loads((tmp_path / "m" / "config.json").read_text())
    assert AutoModelForCausalLM.from_pretrained(tmp_path / "m").config._attn_implementation == "sdpa"


def test_leaves_non_gqa_and_non_sdpa_models_alone():
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2)
    cfg._attn_implementation = "sdpa"
    assert use_gqa_sdpa(LlamaForCausalLM(cfg)) is False  # no grouped KV heads: nothing to gain
    cfg = LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=1)
    cfg._attn_implementation = "eager"
    eager = LlamaForCausalLM(cfg)
    assert use_gqa_sdpa(eager) is False and eager.config._attn_implementation == "eager"


def test_benchmark_script_runs_on_the_tiny_model(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "cpu_attention.py"
    env = {**os.environ, "CSKIT_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, str(script), "--model", "tiny-qwen3", "--prompts", "2", "--n", "2",
                          "--max-new-tokens", "8"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "same tokens   : True" in out.stdout and "speed-up" in out.stdout
