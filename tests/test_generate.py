"""Generation backends (cskit.models.generate) on the tiny random-init policy."""
import pytest

torch = pytest.importorskip("torch")

from cskit.models.generate import (Generation, SamplingParams, TransformersGenerator, VLLMGenerator,  # noqa: E402
                            _plan_batches, make_generator)
from cskit.models import load_policy  # noqa: E402


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    import os
    old = os.environ.get("CSKIT_CACHE")
    os.environ["CSKIT_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    try:
        model, tok = load_policy("tiny-qwen3", device="cpu")
    finally:
        if old is None:
            os.environ.pop("CSKIT_CACHE")
        else:
            os.environ["CSKIT_CACHE"] = old
    return model, tok


def _prompts(tok):
    texts = ["hi", "def add(a, b):\n    return a + b\n" * 3, "Read n from stdin and print n + 1.", "x"]
    return [tok.apply_chat_template([{"role": "user", "content": t}], tokenize=False, add_generation_prompt=True)
            for t in texts]


def test_plan_batches():
    b = _plan_batches([5, 50, 20], n=3, batch_size=4)
    assert b == [[(1, 3)], [(2, 3)], [(0, 3)]]
    b = _plan_batches([5, 50, 20, 7], n=2, batch_size=4)
    assert b == [[(1, 2), (2, 2)], [(3, 2), (0, 2)]]
    b = _plan_batches([5], n=5, batch_size=2)
    assert b == [[(0, 2)], [(0, 2)], [(0, 1)]]
    assert all(sum(k for _, k in batch) <= 4 for batch in _plan_batches(list(range(1, 30)), 3, 4))


def test_shapes_order_and_reproducibility(policy):
    model, tok = policy
    gen = make_generator("transformers", model, tok, batch_size=4)
    ps = _prompts(tok)
    params = SamplingParams(n=3, temperature=1.0, top_p=0.95, top_k=50, max_new_tokens=12, seed=7)
    rng_before = torch.random.get_rng_state()
    a = gen.generate(ps, params)
    assert torch.equal(rng_before, torch.random.get_rng_state())  # caller's RNG untouched
    b = gen.generate(ps, params)
    assert [[g.token_ids for g in r] for r in a] == [[g.token_ids for g in r] for r in b]
    assert len(a) == len(ps) and all(len(r) == 3 for r in a)
    c = gen.generate(ps, SamplingParams(n=3, temperature=1.0, top_k=50, max_new_tokens=12, seed=8))
    assert [[g.token_ids for g in r] for r in a] != [[g.token_ids for g in r] for r in c]
    # samples of one prompt differ from each other (sampling, not copies)
    assert len({tuple(g.token_ids) for g in a[0]}) > 1
    # outer order = prompt order: generating one prompt alone with batch_size = n reproduces its group
    # only for greedy (sampling depends on batch grouping), checked below


def test_token_counts_and_text(policy):
    model, tok = policy
    gen = TransformersGenerator(model, tok, batch_size=8)
    out = gen.generate(_prompts(tok), SamplingParams(n=2, temperature=1.0, max_new_tokens=10, seed=0))
    for row in out:
        for g in row:
            assert isinstance(g, Generation)
            assert g.n_tokens == len(g.token_ids)
            assert g.text == tok.decode(g.token_ids, skip_special_tokens=True)
            if g.finish_reason == "length":
                assert g.n_tokens == 10 and not set(g.token_ids) & set(gen.stop_ids)
            else:
                assert g.finish_reason == "stop" and g.token_ids[-1] in gen.stop_ids
                assert not set(g.token_ids[:-1]) & set(gen.stop_ids)


def test_greedy_left_padding_matches_unbatched(policy):
    model, tok = policy
    ps = _prompts(tok)
    params = SamplingParams(n=2, temperature=0.0, max_new_tokens=16)
    batched = TransformersGenerator(model, tok, batch_size=8).generate(ps, params)
    single = [TransformersGenerator(model, tok, batch_size=1).generate([p], SamplingParams(n=1, temperature=0.0,
                                                                                       max_new_tokens=16))[0][0]
              for p in ps]
    for row, s in zip(batched, single):
        assert [g.token_ids for g in row] == [s.token_ids, s.token_ids]
    assert len({tuple(s.token_ids) for s in single}) > 1  # the prompts really lead to different outputs
    # reference: one unpadded model.generate per prompt
    for p, s in zip(ps, single):
        ids = tok(p, add_special_tokens=False, return_tensors="pt")["input_ids"]
        ref = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                             max_new_tokens=16, pad_token_id=tok.pad_token_id, eos_token_id=list(
                                 TransformersGenerator(model, tok).stop_ids))[0, ids.shape[1]:].tolist()
        assert ref[:len(s.token_ids)] == s.token_ids


def test_stop_token_ends_generation(policy):
    model, tok = policy
    ps = _prompts(tok)[:1]
    free = TransformersGenerator(model, tok).generate(ps, SamplingParams(temperature=0.0, max_new_tokens=12))[0][0]
    target = free.token_ids[3]
    first = free.token_ids.index(target)
    old = model.generation_config.eos_token_id
    model.generation_config.eos_token_id = list(old) + [target]
    try:
        gen = TransformersGenerator(model, tok)
        g = gen.generate(ps, SamplingParams(temperature=0.0, max_new_tokens=12))[0][0]
    finally:
        model.generation_config.eos_token_id = old
    assert g.finish_reason == "stop" and g.token_ids == free.token_ids[:first + 1] and g.n_tokens == first + 1
    assert free.finish_reason == "length" or free.token_ids[-1] in gen.stop_ids


def test_errors_and_vllm_missing(policy):
    model, tok = policy
    with pytest.raises(ValueError, match="unknown generation backend"):
        make_generator("jax", model, tok)
    with pytest.raises(ValueError, match="tokenizer"):
        make_generator("transformers", model)
    with pytest.raises(ValueError):
        SamplingParams(n=0)
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="vllm"):
            VLLMGenerator("tiny-qwen3")


def test_vllm_backend_same_interface():
    pytest.importorskip("vllm")
    if not torch.cuda.is_available():
        pytest.skip("vllm needs a GPU")
    gen = make_generator("vllm", "tiny-qwen3")
    out = gen.generate(["<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"],
                       SamplingParams(n=2, max_new_tokens=8))
    assert len(out) == 1 and len(out[0]) == 2 and all(g.finish_reason in ("stop", "length") for g in out[0])



def test_stop_after_code_block_criterion_and_trimming():
    """The criterion fires per row exactly when the generated part holds a closed fenced block, and rows
    it ended (then padded by generate) are trimmed back and reported as stopped."""
    import torch

    from cskit.models.generate import SamplingParams, TransformersGenerator, _StopAfterBlock
    from cskit.models import load_policy, resolve_model

    model, tok = load_policy(resolve_model("tiny-qwen3"))
    prompt = tok("hello", add_special_tokens=False)["input_ids"]
    texts = ["```python\nx = 1\n```", "```python\nx = 1\n", "no code here", "a\n```\ny\n``` tail"]
    enc = [prompt + tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    width = max(map(len, enc))
    ids = torch.full((len(enc), width), tok.pad_token_id)
    for r, e in enumerate(enc):  # right-pad here; only the generated part after the prompt is decoded
        ids[r, :len(e)] = torch.tensor(e)
    done = _StopAfterBlock(tok, len(prompt))(ids, None)
    assert done.tolist() == [True, False, False, True]
    gen = TransformersGenerator(model, tok, batch_size=2)
    body = tok(texts[0], add_special_tokens=False)["input_ids"]
    g = gen._finish(body + [gen.pad_id] * 5, block_stop=True)
    assert g.finish_reason == "stop" and g.n_tokens == len(body) and g.text == texts[0]
    g = gen._finish(tok(texts[1], add_special_tokens=False)["input_ids"], block_stop=True)
    assert g.finish_reason == "length"
    # generation with the flag runs and never returns more tokens than without it
    prompts = ["<|im_start|>user\nwrite code<|im_end|>\n<|im_start|>assistant\n"]
    free = gen.generate(prompts, SamplingParams(n=2, temperature=1.0, max_new_tokens=24, seed=3))
    cut = gen.generate(prompts, SamplingParams(n=2, temperature=1.0, max_new_tokens=24, seed=3,
                                               stop_after_code_block=True))
    assert [c.n_tokens <= f.n_tokens for c, f in zip(cut[0], free[0])] == [True, True]


def test_shared_prefill_gives_the_same_tokens_as_separate_prompt_passes():
    """Decoding after one shared prompt pass equals decoding after n separate passes (top_k=1 makes
    sampling deterministic, so any numerical or positional mismatch would change tokens)."""
    from cskit.models.generate import SamplingParams, TransformersGenerator
    from cskit.models import load_policy, resolve_model

    model, tok = load_policy(resolve_model("tiny-qwen3"))
    prompts = ["<|im_start|>user\nshort<|im_end|>\n<|im_start|>assistant\n",
               "<|im_start|>user\na much longer prompt with more words in it<|im_end|>\n<|im_start|>assistant\n"]
    params = SamplingParams(n=3, temperature=1.0, top_k=1, max_new_tokens=12, seed=0)
    shared = TransformersGenerator(model, tok, batch_size=6, share_prefill=True).generate(prompts, params)
    plain = TransformersGenerator(model, tok, batch_size=6, share_prefill=False).generate(prompts, params)
    assert [[g.token_ids for g in r] for r in shared] == [[g.token_ids for g in r] for r in plain]
    greedy = TransformersGenerator(model, tok, batch_size=6).generate(prompts, SamplingParams(n=1, temperature=0,
                                                                                             max_new_tokens=12))
    assert [r[0].token_ids for r in shared] == [r[0].token_ids for r in greedy]


def test_max_total_tokens_caps_prompt_plus_response_per_prompt(policy):
    """vLLM's max_model_len semantics (the authors' eval): a long prompt gets fewer response tokens; the capped
    output is the uncapped one cut at the cap (the same samples, not a different run)."""
    model, tok = policy
    gen = make_generator("transformers", model, tok, batch_size=8)
    ps = _prompts(tok)
    lens = [len(tok(p, add_special_tokens=False)["input_ids"]) for p in ps]
    cap = min(lens) + 6
    free = gen.generate(ps, SamplingParams(n=2, temperature=1.0, top_k=0, max_new_tokens=40, seed=3))
    capped = gen.generate(ps, SamplingParams(n=2, temperature=1.0, top_k=0, max_new_tokens=40, seed=3,
                                             max_total_tokens=cap))
    for L, a, b in zip(lens, free, capped):
        allowed = max(1, min(40, cap - L))
        for ga, gb in zip(a, b):
            assert len(gb.token_ids) <= allowed
            assert gb.token_ids == ga.token_ids[:len(gb.token_ids)]
