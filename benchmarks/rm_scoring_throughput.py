"""RM scoring throughput: cskit's RewardScorer vs one sample at a time vs trl's GRPOTrainer reward-model path.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rm_scoring_throughput.py            # demo model if prepared
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rm_scoring_throughput.py --model tiny-qwen3 --n 256

Inputs: (question, code) pairs built from the bundled problems (their question text with reference and wrong
solutions), ``--group`` codes per question as in a GRPO group (default 8), ``--n`` in all.

* ``scorer``: ``RewardScorer.score`` -- shared question prefix run once per group (KV cache), length-sorted
  batches of ``--batch-size`` code suffixes, right padding, + EOS.
* ``scorer_no_prefix_sharing``: the same with ``share_prefix=False`` (length-sorted batches only).
* ``one_at_a_time``: the same scorer called once per sample (batch of 1).
* ``trl_grpo_style``: what GRPOTrainer does with a model in ``reward_funcs``: chat-template text of
  prompt + completion, tokenized with ``padding_side="right", add_special_tokens=False`` per batch of
  ``--batch-size`` in arrival order (no sorting, no EOS), ``logits[:, 0]``.

Prints samples/s of each, the ratios, and how far the trl-style scores are from the scorer's (no EOS there).
"""
from __future__ import annotations

import argparse
import json
import random
import time


def build_inputs(n: int, group: int = 8, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` (question, code) inputs in groups of ``group`` codes per question (a GRPO group / Best-of-N);
    ``group=1``: every input has its own question. Codes cycle through reference + wrong solutions."""
    from cskit.problems import load_source
    from cskit.prompts import question_text

    problems = load_source("bundled")
    random.Random(seed).shuffle(problems)
    qs, cs = [], []
    k = 0
    while len(qs) < n:
        p = problems[k % len(problems)]
        codes = list(p.solutions) + list(p.wrong_solutions)
        for j in range(min(group, n - len(qs))):
            qs.append(question_text(p))
            cs.append(codes[j % len(codes)])
        k += 1
    return qs, cs


def trl_style_scores(model, tok, questions, codes, batch_size):
    import torch

    texts = [tok.apply_chat_template([{"role": "user", "content": q}, {"role": "assistant", "content": c}],
                                     tokenize=False) for q, c in zip(questions, codes)]
    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            enc = tok(texts[i:i + batch_size], return_tensors="pt", padding=True, padding_side="right",
                      add_special_tokens=False)
            out.append(model(**enc).logits[:, 0].float())
    return torch.cat(out).numpy()


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="RM name/dir (default: smollm2-135m if prepared, else tiny-qwen3)")
    ap.add_argument("--n", type=int, default=64, help="samples scored by each method")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-length", type=int, default=1024)
    ap.add_argument("--group", type=int, default=8, help="inputs per question (8 = a GRPO group; 1 = all distinct)")
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    from cskit.models import resolve_model
    from cskit.rm.score import RewardScorer

    name = args.model
    if name is None:
        try:
            resolve_model("smollm2-135m", "seqcls")
            name = "smollm2-135m"
        except FileNotFoundError:
            name = "tiny-qwen3"
    qs, cs = build_inputs(args.n, args.group)
    sc = RewardScorer(name, max_length=args.max_length, batch_size=args.batch_size, seed=0)
    sc.score(qs[:2], cs[:2])                        # load + warm up
    lens = [len(x) for x in sc.encode(qs, cs)[0]]
    res: dict = {"model": name, "n": args.n, "group": args.group, "batch_size": args.batch_size,
                 "torch_threads": torch.get_num_threads(),
                 "tokens_mean": float(np.mean(lens)), "tokens_min": int(min(lens)), "tokens_max": int(max(lens))}

    # distinct inputs for each method (the scorer dedupes identical pairs; don't let that help it)
    def uniq(tag):
        return qs, [c + f"\n# {tag} {i}" for i, c in enumerate(cs)]

    q1, c1 = uniq("a")
    t = time.perf_counter()
    s_batched = sc.score(q1, c1)
    res["scorer_s"] = time.perf_counter() - t
    sc.share_prefix = False
    t = time.perf_counter()
    s_noshare = sc.score(q1, c1)
    res["scorer_no_prefix_sharing_s"] = time.perf_counter() - t
    t = time.perf_counter()
    s_single = np.concatenate([sc.score([q], [c]) for q, c in zip(q1, c1)])
    res["one_at_a_time_s"] = time.perf_counter() - t
    t = time.perf_counter()
    s_trl = trl_style_scores(sc.model, sc.tokenizer, q1, c1, args.batch_size)
    res["trl_grpo_style_s"] = time.perf_counter() - t
    for k in ("scorer", "scorer_no_prefix_sharing", "one_at_a_time", "trl_grpo_style"):
        res[f"{k}_samples_per_s"] = round(args.n / res[f"{k}_s"], 2)
    res["speedup_vs_one_at_a_time"] = round(res["one_at_a_time_s"] / res["scorer_s"], 2)
    res["speedup_vs_trl_grpo_style"] = round(res["trl_grpo_style_s"] / res["scorer_s"], 2)
    res["speedup_no_prefix_sharing_vs_one_at_a_time"] = round(res["one_at_a_time_s"] / res["scorer_no_prefix_sharing_s"], 2)
    res["max_abs_diff_batched_vs_single"] = float(np.max(np.abs(s_batched - s_single)))
    res["max_abs_diff_shared_vs_plain"] = float(np.max(np.abs(s_batched - s_noshare)))
    res["mean_abs_diff_trl_style_vs_scorer (no EOS)"] = float(np.mean(np.abs(s_trl - s_batched)))
    print(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
