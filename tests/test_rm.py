"""Reward model: BT training on tiny models, truncation accounting, scorer == trainer, pickling, LoRA, stage 03."""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from cskit.rm.score import (RewardScorer, auroc, calibration_table, encode_rm_inputs, pair_metrics,  # noqa: E402
                            rm_text, score_pairs, score_rollouts)
from cskit.rm.train import build_reward_trainer, is_complete, train_reward_model  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def make_pairs(n: int, start: int = 0, long: bool = False) -> pd.DataFrame:
    """Correct vs buggy solutions of simple problems; negatives of varied pass fraction."""
    rows = []
    for i in range(start, start + n):
        q = f"Write a function f{i}(a, b) that returns a + b + {i}."
        pad = "".join(f"    # note {k}\n" for k in range(40)) if long and i % 2 == 0 else ""
        rows.append(dict(question_content=q, code_pos=f"def f{i}(a, b):\n{pad}    return a + b + {i}\n",
                         code_neg=f"def f{i}(a, b):\n    return a - b\n", problem_id=f"p{i}",
                         pos_pass_fraction=1.0, neg_pass_fraction=[0.0, 0.2, 0.5, 0.9][i % 4],
                         pair_source="on_policy", split="train"))
    return pd.DataFrame(rows)


def cfg(**kw):
    from cskit.config import Config

    base = dict(seed=0, device="cpu", dtype="auto", progress=False, rm_max_length=128, rm_batch_size=4,
                rm_grad_accum=1, rm_learning_rate=1e-3, rm_epochs=1.0, rm_max_steps=12, rm_lora=False,
                rm_lora_r=4, rm_center_rewards=0.0, rm_train_layers=0)
    base.update(kw)
    return Config.defaults().replace(**base)


@pytest.fixture(scope="module")
def init_dir():
    from cskit.models import resolve_model

    return resolve_model("tiny-qwen3", "seqcls")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, init_dir):
    out = tmp_path_factory.mktemp("rm") / "rm"
    train, val = make_pairs(16), make_pairs(8, start=100)
    m = train_reward_model(train, val, "tiny-qwen3", out, cfg(rm_max_steps=16))
    return out, m, train, val


def test_rm_text_is_the_authors_chat_template(init_dir):
    # The default RM input is now the authors' (verl RM worker): the chat template with nothing appended. This
    # test used to expect "+ EOS", the kit's earlier format, which the published CodeScaler RMs were not trained
    # on; that format remains available as input_format="chat_eos" (tests/test_rm_input_format.py).
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(init_dir)
    chat = tok.apply_chat_template([{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "print(1)"}],
                                   tokenize=False, add_generation_prompt=False)
    assert rm_text(tok, "Q?", "print(1)") == chat and not chat.endswith(tok.eos_token)
    assert rm_text(tok, "Q?", "print(1)", input_format="chat_eos") == chat + tok.eos_token
    ids, tr = encode_rm_inputs(tok, ["Q?", "Q?"], ["print(1)", "x = 1\n" * 200], max_length=64)
    assert ids[0] == tok(chat, add_special_tokens=False)["input_ids"] and ids[0][-1] != tok.eos_token_id
    assert len(ids[1]) == 64 and tr.tolist() == [False, True]
    eos_ids, _ = encode_rm_inputs(tok, ["Q?"], ["print(1)"], max_length=64, input_format="chat_eos")
    assert eos_ids[0] == ids[0] + [tok.eos_token_id]


def test_training_loss_falls_and_beats_untrained(trained, init_dir):
    out, m, train, val = trained
    assert is_complete(out) and (out / "config.json").exists()
    assert json.loads((out / "cskit_rm_input.json").read_text())["format"] == "authors"  # train == score format
    assert m["input_format"] == "authors"
    assert m["steps"] == 16 and m["train"]["n_pairs"] == 16 and m["train"]["n_truncated_pairs"] == 0
    assert m["loss_last"] < m["loss_first"]
    hist = m["log_history"]
    assert len(hist) == 16 and hist[-1]["accuracy"] >= 0.75
    tr = pair_metrics(score_pairs(RewardScorer(str(out), max_length=128), train))
    un = pair_metrics(score_pairs(RewardScorer(init_dir, max_length=128, seed=0), train))
    assert tr["accuracy"] > un["accuracy"] and tr["accuracy"] >= 0.9
    assert tr["mean_margin"] > un["mean_margin"]
    assert {r["neg_pass_bin"] for r in tr["by_neg_pass_fraction"]} == {"0", "(0,0.25]", "(0.25,0.5]", "(0.75,1)"}


def test_truncation_counted_not_dropped(tmp_path):
    train = make_pairs(8, long=True)
    # 40 tokens (was 48 with the EOS-appended format: without the EOS some negatives fit in 48 exactly)
    trainer, info = build_reward_trainer(train, None, _tiny(), tmp_path / "rm", cfg(rm_max_length=40))
    assert info["train"]["n_truncated_pairs"] == 8          # every pair is longer than 40 tokens
    assert info["train"]["n_truncated_pos"] == 8 and info["train"]["n_truncated_neg"] == 8
    assert len(trainer.train_dataset) == 8                  # nothing dropped by trl's max_length filter
    assert max(len(x) for x in trainer.train_dataset["chosen_ids"]) == 40


def _tiny() -> str:
    from cskit.models import resolve_model

    return resolve_model("tiny-qwen3", "seqcls")


def test_scorer_margins_equal_trainer_rewards(tmp_path):
    train, val = make_pairs(12), make_pairs(10, start=50, long=True)  # mixed lengths: padding exercised
    trainer, info = build_reward_trainer(train, val, _tiny(), tmp_path / "rm", cfg(rm_max_steps=5, rm_max_length=96))
    trainer.train()
    trainer.model.eval()
    ds = trainer.eval_dataset
    batch = trainer.data_collator([ds[i] for i in range(len(ds))])
    with torch.no_grad():
        _, out = trainer.compute_loss(trainer.model, dict(batch), return_outputs=True)
    r = out.logits.squeeze(-1).double().numpy()
    trainer_margin = r[:len(ds)] - r[len(ds):]
    sc = RewardScorer(trainer.model, trainer.processing_class, max_length=96, batch_size=3, share_prefix=False)
    got = score_pairs(sc, val)
    np.testing.assert_allclose(got["margin"].to_numpy(), trainer_margin, atol=1e-5)
    np.testing.assert_allclose(got["score_pos"].to_numpy(), r[:len(ds)], atol=1e-5)
    assert sc.n_truncated > 0
    # the same through a saved directory, loaded lazily
    from cskit.rm.train import save_trained

    save_trained(trainer, tmp_path / "saved")
    sc2 = RewardScorer(str(tmp_path / "saved"), max_length=96, batch_size=4, share_prefix=True, min_shared_prefix=4)
    np.testing.assert_allclose(score_pairs(sc2, val)["margin"].to_numpy(), trainer_margin, atol=1e-5)


def test_shared_prefix_scoring_equals_plain(trained):
    out, _, _, val = trained
    qs = [q for q in val.question_content for _ in range(5)]
    cs = [f"def f(a, b):\n    return a * {k}\n" + "# pad\n" * k for _ in val.question_content for k in range(5)]
    plain = RewardScorer(str(out), max_length=128, batch_size=4, share_prefix=False).score(qs, cs)
    shared = RewardScorer(str(out), max_length=128, batch_size=3, share_prefix=True, min_shared_prefix=8)
    np.testing.assert_allclose(shared.score(qs, cs), plain, atol=1e-5)
    assert shared.share_prefix  # did not fall back


def test_untrained_scorer_is_the_training_init(tmp_path):
    """A causal checkpoint gets a new seeded head: the baseline scorer sees the same head as training."""
    from cskit.models import resolve_model

    causal = resolve_model("tiny-qwen3", "causal")
    val = make_pairs(4)
    trainer, _ = build_reward_trainer(val, None, causal, tmp_path / "rm", cfg(seed=3))
    sc_train_init = RewardScorer(trainer.model, trainer.processing_class, max_length=128)
    a = score_pairs(sc_train_init, val)["margin"].to_numpy()
    b = score_pairs(RewardScorer(causal, max_length=128, seed=3), val)["margin"].to_numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_scorer_pickles_path_not_weights(trained):
    out, _, _, val = trained
    sc = RewardScorer(str(out), max_length=128, batch_size=5)
    s1 = sc.score(val.question_content.tolist(), val.code_pos.tolist())
    blob = pickle.dumps(sc)
    assert len(blob) < 2000
    sc2 = pickle.loads(blob)
    assert sc2._model is None
    np.testing.assert_allclose(sc2.score(val.question_content.tolist(), val.code_pos.tolist()), s1, atol=1e-6)
    assert s1.dtype == np.float64 and sc.score([], []).shape == (0,)
    with pytest.raises(TypeError, match="in-memory"):
        pickle.dumps(RewardScorer(sc.model, sc.tokenizer))


def test_lora_saves_merged_loadable_model(tmp_path):
    from transformers import AutoModelForSequenceClassification

    train = make_pairs(8)
    out = tmp_path / "rm_lora"
    m = train_reward_model(train, None, "tiny-qwen3", out, cfg(rm_lora=True, rm_max_steps=3, rm_lora_r=4))
    assert m["lora"] and m["trainable_params"] < m["params"]
    model = AutoModelForSequenceClassification.from_pretrained(out)
    assert model.config.num_labels == 1 and model.config.pad_token_id is not None
    assert not any("lora" in k for k in model.state_dict())
    assert not (out / "adapter_config.json").exists()
    s = RewardScorer(str(out), max_length=128).score(["q"], ["print(1)"])
    assert np.isfinite(s).all()


def test_train_top_layers_only(tmp_path):
    from transformers import AutoModelForSequenceClassification

    out = tmp_path / "rm_top"
    m = train_reward_model(make_pairs(8), None, "tiny-qwen3", out, cfg(rm_train_layers=1, rm_max_steps=3))
    assert 0 < m["trainable_params"] < m["params"]
    a = AutoModelForSequenceClassification.from_pretrained(_tiny()).state_dict()
    b = AutoModelForSequenceClassification.from_pretrained(out).state_dict()
    assert torch.equal(a["model.embed_tokens.weight"], b["model.embed_tokens.weight"])
    assert torch.equal(a["model.layers.0.mlp.up_proj.weight"], b["model.layers.0.mlp.up_proj.weight"])
    assert not torch.equal(a["score.weight"], b["score.weight"])


class FakeScorer:
    """Score = length of the code (deterministic, no model)."""

    def score(self, questions, codes):
        return np.array([float(len(c)) for c in codes])


def test_score_rollouts_calibration_auroc():
    df = pd.DataFrame({"question": ["q"] * 6, "code_strict": ["a", "", "abc", "", "abcd", "ab"],
                       "code_lenient": ["a", "xx", "abc", "", "abcd", "ab"],
                       "passed": [False, False, True, False, True, True],
                       "pass_fraction": [0.0, 0.5, 1.0, 0.0, 1.0, 1.0]})
    s = score_rollouts(FakeScorer(), df)
    assert s.code_used.tolist() == ["a", "xx", "abc", "", "abcd", "ab"]
    assert s.scored.tolist() == [True, True, True, False, True, True]
    assert np.isnan(s.score[3]) and s.score[1] == 2.0
    assert auroc(np.array([1, 2, 3, 4.0]), np.array([0, 0, 1, 1])) == 1.0
    assert auroc(np.array([1, 1.0]), np.array([0, 1])) == 0.5
    cal = calibration_table(s, bins=5)
    assert cal.n.sum() == 5 and cal.pass_rate.iloc[-1] == 1.0
    strict = score_rollouts(FakeScorer(), df, code="strict")
    assert strict.scored.sum() == 4


def test_run_reward_model_stage_and_resume(tmp_path):
    from cskit.config import load_config, open_run
    from cskit.rm import rmbench_table, run_reward_model, summary_table

    run = open_run(tmp_path / "run", "smoke")
    (run.data / "pairs").mkdir(parents=True, exist_ok=True)
    make_pairs(12).to_parquet(run.data / "pairs" / "train.parquet")
    make_pairs(6, start=40).to_parquet(run.data / "pairs" / "val.parquet")
    p = make_pairs(6, start=40)
    roll = pd.DataFrame({"problem_id": list(p.problem_id) * 2, "sample_idx": [0] * 6 + [1] * 6,
                         "question": list(p.question_content) * 2,
                         "code_strict": list(p.code_pos) + list(p.code_neg), "code_lenient": list(p.code_pos) +
                         list(p.code_neg), "passed": [True] * 6 + [False] * 6,
                         "pass_fraction": [1.0] * 6 + [0.0] * 6})
    roll.to_parquet(run.data / "rollouts.parquet")
    c = load_config("smoke", {"rm_max_steps": 8, "rm_max_length": 128})
    m = run_reward_model(c, run)
    res = json.loads((run.results / "03_reward_model.json").read_text())
    assert res["stage"] == "03_reward_model" and not m["resumed_training"]
    for name in ("rm_loss", "rm_acc_by_neg_pass", "rm_trained_vs_untrained", "rm_score_hist", "rm_calibration"):
        assert (run.figures / f"{name}.png").exists(), name
    assert set(m["trained"]) >= {"val", "train", "rollouts"} and m["headline"]["n_val_pairs"] == 6
    v = m["trained"]["val"]   # accuracy with a Wilson interval over pairs and a bootstrap over problems
    assert v["n_problems"] == 6 and len(v["accuracy_ci"]) == 2 and len(v["accuracy_ci_by_problem"]) == 2
    assert m["rollouts_scope"] == "rollouts of problems without training pairs"   # AUROC out of sample
    assert set(m["val_accuracy_trained_minus_untrained_by_source"]) >= {"all"}
    d = m["val_accuracy_trained_minus_untrained"]
    assert d["n"] == 6 and d["n_problems"] == 6 and len(d["ci_by_problem"]) == 2 and d["wording"]
    assert (run.data / "rm_scores" / "rollouts.parquet").exists()
    t = summary_table(m)
    assert list(t.index) == ["untrained", "trained"]
    assert len(rmbench_table(m)) == 0  # this run's rows only (no bench configured in smoke); the report adds the paper's
    marker = run.models / "rm" / "cskit_rm_complete.json"
    before = marker.stat().st_mtime_ns
    m2 = run_reward_model(c, run)
    assert m2["resumed_training"] and marker.stat().st_mtime_ns == before
    assert m2["trained"]["val"]["accuracy"] == m["trained"]["val"]["accuracy"]


@pytest.mark.slow
def test_accelerate_launch_two_cpu_processes(tmp_path):
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    make_pairs(16).to_parquet(pairs / "train.parquet")
    make_pairs(4, start=60).to_parquet(pairs / "val.parquet")
    out = tmp_path / "rm"
    acc = Path(sys.executable).parent / "accelerate"
    # accelerate 1.15: `--cpu` always uses the single-process launcher; `--multi_gpu` on a GPU-less box runs
    # torchrun with 2 CPU processes (gloo), which is what we want here.
    env = dict(os.environ, OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    cmd = [str(acc), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no", "-m", "cskit.rm.launch", "--pairs", str(pairs), "--init", "tiny-qwen3",
           "--out", str(out), "-p", "rm_max_steps=4", "-p", "rm_batch_size=2", "-p", "rm_max_length=128"]
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    line = [x for x in r.stdout.splitlines() if x.startswith("{")][-1]
    m = json.loads(line)
    assert m["world_size"] == 2 and m["steps"] == 4
    assert is_complete(out)
    s = RewardScorer(str(out), max_length=128).score(["q"], ["print(1)"])
    assert np.isfinite(s).all()
