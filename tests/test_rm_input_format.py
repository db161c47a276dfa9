"""RM input format: checkpoints the kit did not train are scored exactly as the authors' verl RM worker does.

The reference below re-implements that worker independently of cskit (chat template with
add_generation_prompt=False, add_special_tokens=False, right truncation, right padding, the token-classification
logit at the last valid token, no EOS appended) and RewardScorer must match it to 1e-4 -- plain and batched, and
on the shared-prefix fast path. Kit-trained RMs record their format (cskit_rm_input.json) and are scored in it.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from cskit.rm.score import (RM_INPUT_FILE, RewardScorer, read_rm_input_format, score_pairs,  # noqa: E402
                            write_rm_input_format)

QUESTIONS = ["Write a function add(a, b) that returns a + b.",
             "Read n from stdin and print the sum of the first n integers.",
             "Given a list xs, return the largest element."]
CODES = ["def add(a, b):\n    return a + b\n",
         "n = int(input())\nprint(n * (n + 1) // 2)\n" + "# explain\n" * 30,   # truncated at max_length=64
         "def largest(xs):\n    return max(xs)\n"]


@pytest.fixture(scope="module")
def plain_ckpt(tmp_path_factory):
    """A tiny sequence-classification checkpoint with a seeded head, written by plain save_pretrained."""
    from cskit.models import build_tiny_model

    out = build_tiny_model(tmp_path_factory.mktemp("plain") / "rm", head="seqcls", seed=11)
    assert not (out / RM_INPUT_FILE).exists()
    return out


def authors_scores(model_dir, questions, codes, max_length, batch_size=2, append_eos=False):
    """The authors' recipe, written from their worker: token-classification model, right-padded batches, logit
    at argmax(position_ids * attention_mask). ``append_eos`` gives the kit's old format, for contrast."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForTokenClassification.from_pretrained(model_dir, num_labels=1, dtype=torch.float32).eval()
    seqs = []
    for q, c in zip(questions, codes):
        text = tok.apply_chat_template([{"role": "user", "content": q}, {"role": "assistant", "content": c}],
                                       add_generation_prompt=False, tokenize=False)
        if append_eos:
            text += tok.eos_token
        seqs.append(tok(text, add_special_tokens=False, truncation=True, max_length=max_length)["input_ids"])
    out = []
    for b in range(0, len(seqs), batch_size):
        chunk = seqs[b:b + batch_size]
        width = max(len(s) for s in chunk)
        ids = torch.full((len(chunk), width), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, s in enumerate(chunk):
            ids[i, :len(s)] = torch.tensor(s)
            mask[i, :len(s)] = 1
        pos = (mask.cumsum(-1) - 1).clamp(min=0) * mask
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits.squeeze(-1)
        last = torch.argmax(pos * mask, dim=-1)
        out += logits[torch.arange(len(chunk)), last].double().tolist()
    return np.array(out), [len(s) for s in seqs]


def test_plain_checkpoint_scored_the_authors_way(plain_ckpt):
    ref, lens = authors_scores(plain_ckpt, QUESTIONS, CODES, max_length=64)
    assert lens[1] == 64  # the long input really is truncated
    sc = RewardScorer(str(plain_ckpt), max_length=64, batch_size=1, share_prefix=False)
    np.testing.assert_allclose(sc.score(QUESTIONS, CODES), ref, atol=1e-4)
    assert sc.input_format == "authors" and sc.n_truncated == 1
    # batched with padding (lengths differ), and through a pickled copy
    batched = RewardScorer(str(plain_ckpt), max_length=64, batch_size=3, share_prefix=False)
    np.testing.assert_allclose(batched.score(QUESTIONS, CODES), ref, atol=1e-4)
    # the old kit format (EOS appended) gives other scores: the check above can tell them apart
    eos_ref, _ = authors_scores(plain_ckpt, QUESTIONS, CODES, max_length=64, append_eos=True)
    assert np.abs(eos_ref - ref).max() > 1e-2
    eos = RewardScorer(str(plain_ckpt), max_length=64, batch_size=2, share_prefix=False, input_format="chat_eos")
    np.testing.assert_allclose(eos.score(QUESTIONS, CODES), eos_ref, atol=1e-4)


def test_shared_prefix_matches_authors_recipe(plain_ckpt):
    qs = [q for q in QUESTIONS for _ in range(4)]
    cs = [f"{c}# variant {k}\n" + "x = 1\n" * k for c in CODES for k in range(4)]
    ref, lens = authors_scores(plain_ckpt, qs, cs, max_length=80, batch_size=5)
    assert len(set(lens)) > 2
    sc = RewardScorer(str(plain_ckpt), max_length=80, batch_size=3, share_prefix=True, min_shared_prefix=4)
    np.testing.assert_allclose(sc.score(qs, cs), ref, atol=1e-4)
    assert sc.share_prefix  # the fast path ran (no fallback)


def test_in_memory_model_defaults_to_authors(plain_ckpt):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(plain_ckpt, num_labels=1).eval()
    sc = RewardScorer(model, AutoTokenizer.from_pretrained(plain_ckpt), max_length=64, share_prefix=False)
    ref, _ = authors_scores(plain_ckpt, QUESTIONS, CODES, max_length=64)
    np.testing.assert_allclose(sc.score(QUESTIONS, CODES), ref, atol=1e-4)
    assert "input_format=authors" in repr(sc)


def test_recorded_format_is_used(plain_ckpt, tmp_path):
    import shutil

    d = tmp_path / "rm_eos"
    shutil.copytree(plain_ckpt, d)
    write_rm_input_format(d, "chat_eos", max_length=64)
    rec = json.loads((d / RM_INPUT_FILE).read_text())
    assert rec["format"] == "chat_eos" and rec["append_eos"] is True and rec["add_special_tokens"] is False
    assert read_rm_input_format(d) == "chat_eos"
    eos_ref, _ = authors_scores(d, QUESTIONS, CODES, max_length=64, append_eos=True)
    sc = RewardScorer(str(d), max_length=64, batch_size=2)
    np.testing.assert_allclose(sc.score(QUESTIONS, CODES), eos_ref, atol=1e-4)
    assert sc.input_format == "chat_eos"
    # an explicit input_format wins over the record
    ref, _ = authors_scores(d, QUESTIONS, CODES, max_length=64)
    np.testing.assert_allclose(RewardScorer(str(d), max_length=64, input_format="authors").score(QUESTIONS, CODES),
                               ref, atol=1e-4)
    # a broken record is an error naming the file, not a silent default
    (d / RM_INPUT_FILE).write_text('{"format": "mystery"}')
    with pytest.raises(ValueError, match=r"cskit_rm_input.json.*mystery"):
        read_rm_input_format(d)
    with pytest.raises(ValueError, match="input_format"):
        RewardScorer(str(d), input_format="eos")


def test_legacy_kit_directory_without_record_is_chat_eos(plain_ckpt, tmp_path):
    """A directory trained by the kit before the record existed (marker, no record) was trained with EOS."""
    import shutil

    from cskit.rm.train import COMPLETE_MARKER

    d = tmp_path / "old_rm"
    shutil.copytree(plain_ckpt, d)
    (d / COMPLETE_MARKER).write_text("{}")
    assert read_rm_input_format(d) == "chat_eos"
    assert read_rm_input_format(plain_ckpt) == "authors"
    assert read_rm_input_format("LARK-Lab/CodeScaler-1.7B", hub=True) == "authors"  # offline: no record


def _cfg(**kw):
    from cskit.config import Config

    base = dict(seed=0, device="cpu", dtype="auto", progress=False, rm_max_length=96, rm_batch_size=4,
                rm_grad_accum=1, rm_learning_rate=1e-3, rm_epochs=1.0, rm_max_steps=4, rm_lora=False,
                rm_lora_r=4, rm_center_rewards=0.0, rm_train_layers=0)
    base.update(kw)
    cfg = Config.defaults().replace(**{k: v for k, v in base.items() if k in Config.defaults()})
    extra = {k: v for k, v in base.items() if k not in cfg}
    return Config({**cfg.to_dict(), **extra}) if extra else cfg   # rm_input_format before it is a schema key


def _pairs(n, start=0):
    return pd.DataFrame([dict(question_content=f"Write f{i}(a, b) returning a + b + {i}.",
                              code_pos=f"def f{i}(a, b):\n    return a + b + {i}\n",
                              code_neg=f"def f{i}(a, b):\n" + "    # wrong\n" * (i % 3) + "    return a - b\n")
                         for i in range(start, start + n)])


@pytest.mark.parametrize("fmt", ["authors", "chat_eos"])
def test_kit_trained_rm_is_scored_as_trained(tmp_path, fmt):
    from cskit.rm.train import build_reward_trainer, save_trained

    val = _pairs(6, start=20)
    kw = {} if fmt == "authors" else {"rm_input_format": fmt}   # default training format: the authors'
    trainer, info = build_reward_trainer(_pairs(8), val, _tiny(), tmp_path / "rm", _cfg(**kw))
    assert info["input_format"] == fmt
    trainer.train()
    trainer.model.eval()
    ds = trainer.eval_dataset
    batch = trainer.data_collator([ds[i] for i in range(len(ds))])
    with torch.no_grad():
        _, out = trainer.compute_loss(trainer.model, dict(batch), return_outputs=True)
    r = out.logits.squeeze(-1).double().numpy()
    margin = r[:len(ds)] - r[len(ds):]
    eos_id = trainer.processing_class.eos_token_id
    assert all((x[-1] == eos_id) == (fmt == "chat_eos") for x in ds["chosen_ids"])
    save_trained(trainer, tmp_path / "saved")
    assert json.loads((tmp_path / "saved" / RM_INPUT_FILE).read_text())["format"] == fmt
    sc = RewardScorer(str(tmp_path / "saved"), max_length=96, batch_size=4, min_shared_prefix=4)
    np.testing.assert_allclose(score_pairs(sc, val)["margin"].to_numpy(), margin, atol=1e-5)
    assert sc.input_format == fmt


def _tiny() -> str:
    from cskit.models import resolve_model

    return resolve_model("tiny-qwen3", "seqcls")


def test_hub_id_passes_through_and_fails_offline_clearly(monkeypatch):
    from cskit.models import resolve_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for hub_id in ("LARK-Lab/CodeScaler-8B", "Skywork/Skywork-Reward-V2-Qwen3-1.7B"):
        assert resolve_model(hub_id, "seqcls") == hub_id
    sc = RewardScorer("LARK-Lab/CodeScaler-1.7B", max_length=64, device="cpu")
    assert sc.path == "LARK-Lab/CodeScaler-1.7B"
    with pytest.raises(OSError, match=r"LARK-Lab/CodeScaler-1\.7B.*HF_HUB_OFFLINE.*local directory"):
        sc.score(["q"], ["print(1)"])


def test_a_hub_id_is_accepted_where_an_rm_path_is(tmp_path):
    """GRPO rewards, Best-of-N and `python -m cskit.rl.launch --rm` take a directory or a hub id; offline, the
    hub id fails when the model loads, naming it."""
    from cskit.config import load_config, open_run
    from cskit.rl.grpo import build_reward
    from cskit.rm.score import trained_rm_reference

    run = open_run(tmp_path / "run", "smoke")
    assert trained_rm_reference("LARK-Lab/CodeScaler-8B", run.models) == "LARK-Lab/CodeScaler-8B"
    with pytest.raises(FileNotFoundError, match="stage 03"):
        trained_rm_reference("", run.models)
    with pytest.raises(FileNotFoundError, match="holds no reward model"):
        (tmp_path / "empty").mkdir()
        trained_rm_reference(str(tmp_path / "empty"), run.models)
    cfg = load_config("smoke", {"rm_path": "LARK-Lab/CodeScaler-8B"})
    reward = build_reward("codescaler", cfg, run, [], "cpu")
    assert reward._holder._path == "LARK-Lab/CodeScaler-8B"
    with pytest.raises(Exception, match="LARK-Lab/CodeScaler-8B"):
        reward(completions=["```python\nprint(1)\n```"], question=["q"], problem_id=["p"])
