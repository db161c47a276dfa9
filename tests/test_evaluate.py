"""cskit.rl.evaluate: pass@k estimator, avg@k, per-benchmark evaluation with grading, determinism."""
from __future__ import annotations

import math
from math import comb

import pytest

from cskit.rl import evaluate as ev
from cskit.config import load_config
from cskit.rl.evaluate import avg_at_k, evaluate_policy, k_values, pass_at_k, results_table, summarize
from cskit.problems import bundled_problems


def test_pass_at_k_known_values():
    assert pass_at_k(10, 1, 1) == pytest.approx(0.1)
    assert pass_at_k(10, 5, 2) == pytest.approx(1 - 10 / 45)
    assert pass_at_k(8, 0, 8) == 0.0
    assert pass_at_k(8, 1, 8) == 1.0
    assert pass_at_k(5, 3, 3) == 1.0  # n - c < k
    for n, c, k in [(20, 3, 5), (16, 7, 4), (100, 13, 10)]:
        assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k))
    with pytest.raises(ValueError):
        pass_at_k(4, 1, 5)
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)


def test_avg_at_k_and_summary():
    passes = [[True, False, False, False], [True, True, True, True], [False] * 4]
    assert avg_at_k(passes) == pytest.approx((0.25 + 1 + 0) / 3)
    s = summarize(passes, 4)
    assert s["avg@4"] == pytest.approx(s["pass@1"])  # pass@1 == avg@k
    assert s["pass@4"] == pytest.approx(2 / 3)
    assert s["pass@2"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert k_values(8) == [1, 2, 4, 8] and k_values(6) == [1, 2, 4, 6] and k_values(1) == [1]
    assert math.isnan(avg_at_k([]))


def test_results_table_shape():
    res = {"k": 2, "benchmarks": {"A": {"avg@2": 0.5}, "B": {"avg@2": 0.25}}, "average": {"avg@2": 0.375}}
    t = results_table({"base": res, "codescaler": res})
    assert list(t) == ["base", "codescaler"]
    assert t["base"] == {"A": 50.0, "B": 25.0, "Average": 37.5}


class _FakeGen:
    """Answers each prompt with the problem's reference solution in sample 0 and a wrong one after."""

    def __init__(self, problems):
        from cskit.prompts import question_text

        self.by_question = {question_text(p): p for p in problems}

    def generate(self, prompts, params, progress=None):
        from cskit.models.generate import Generation

        out = []
        for prompt in prompts:
            p = next(p for q, p in self.by_question.items() if q in prompt)
            texts = [f"```python\n{p.solutions[0]}\n```"] + \
                [f"Sure.\n```python\n{p.wrong_solutions[0]}\n```"] * (params.n - 1)
            out.append([Generation(t, 10, "stop") for t in texts])
        return out


class _Tok:
    chat_template = "x"

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
        return "<user>" + messages[0]["content"] + "<assistant>"


def test_evaluate_policy_grades_per_benchmark(monkeypatch):
    probs = [p for p in bundled_problems("val") if p.solutions and p.wrong_solutions][:3]
    monkeypatch.setattr(ev, "_load_for_generation", lambda m, cfg, tok: (_FakeGen(probs), _Tok(), False))
    cfg = load_config("smoke", dict(sandbox_workers=1))
    res = evaluate_policy("fake", {"one": probs[:1], "two": probs[1:]}, k=4, cfg=cfg)
    assert res["k"] == 4
    assert res["benchmarks"]["one"]["avg@4"] == pytest.approx(0.25)
    assert res["benchmarks"]["two"]["pass@4"] == pytest.approx(1.0)
    assert res["benchmarks"]["two"]["n_problems"] == 2 and res["benchmarks"]["two"]["n_samples"] == 8
    assert res["average"]["avg@4"] == pytest.approx(0.25)
    assert res["per_problem"]["two"][0]["c"] == 1


def test_evaluate_policy_tiny_model_deterministic(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setenv("CSKIT_CACHE", str(tmp_path / "cache"))
    cfg = load_config("smoke", dict(sandbox_workers=1, eval_max_new_tokens=8, gen_batch_size=8))
    benches = {"bundled-val": bundled_problems("val")[:2]}
    a = evaluate_policy("tiny-qwen3", benches, k=2, cfg=cfg, keep_samples=True)
    b = evaluate_policy("tiny-qwen3", benches, k=2, cfg=cfg, keep_samples=True)
    assert a["samples"] == b["samples"]
    assert a["benchmarks"]["bundled-val"]["n_samples"] == 4
    assert 0.0 <= a["average"]["avg@2"] <= 1.0
