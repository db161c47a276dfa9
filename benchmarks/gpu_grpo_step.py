"""GPU check: a few trl GRPO steps with a Qwen3-1.7B-shaped policy and reward model through cskit's own code.

What runs is what stage 04 runs: ``cskit.rl.grpo_args`` (the paper's GRPO settings mapped onto trl: clip
0.2/0.28, token-mean loss, no KL, T 0.6 / top-p 0.95 / top-k 20; on GPU fp32 master weights under bf16
autocast with gradient checkpointing) and ``cskit.rl.rewards.CodeScalerReward`` over a ``RewardScorer`` holding
the RM in bf16 (strict extraction -> RM score -> softplus). Weights are random and the tokenizer is
word-level over the full 151,936-id Qwen3 vocabulary (as in shared/gpu/grpo_paper_shape.py), so a random
policy never writes a fenced block: each completion is wrapped into one valid Python block (a string
literal holding the completion) before the reward sees it, so the RM really scores ~(prompt + completion)
tokens per sample instead of short-circuiting every sample to 0.

Prints and writes ``$OUT/gpu_grpo_step.json`` (or ``--out``): step times, wall time, peak GPU memory.
Budget: well under 5 minutes on one H200 (model init ~20 s, 3 steps of 16 completions x 64 tokens).

    python benchmarks/gpu_grpo_step.py                # GPU, Qwen3-1.7B shape, 3 steps
    python benchmarks/gpu_grpo_step.py --tiny         # CPU plumbing check (seconds)
    python benchmarks/gpu_grpo_step.py --wheels DIR   # install trl/datasets wheels from DIR first

Where only torch + transformers are installed, trl and datasets come as wheels (``trl==1.16.0
datasets==5.2.0 dill==0.4.0 multiprocess==0.70.18``, see shared/gpu/README.md): ``--wheels DIR`` (default
``.whl/`` in the repository when present) installs them with ``pip install --no-index --no-deps --target``
into a temporary directory placed on ``sys.path``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

V_FULL = 151936
# hidden, intermediate, layers, heads, kv heads, vocab
SHAPES = {"tiny": (64, 128, 2, 4, 2, 2048), "qwen3-1.7b": (2048, 6144, 28, 16, 8, V_FULL)}


def ensure_trl(wheels: str | None) -> None:
    try:
        import datasets  # noqa: F401
        import trl  # noqa: F401
        return
    except ImportError:
        pass
    wdir = Path(wheels) if wheels else REPO / ".whl"
    whls = sorted(str(p) for p in wdir.glob("*.whl")) if wdir.is_dir() else []
    if not whls:
        raise SystemExit(f"trl/datasets are not installed and no wheels were found in {wdir}; pass --wheels DIR "
                         "holding trl==1.16.0 datasets==5.2.0 dill==0.4.0 multiprocess==0.70.18")
    target = tempfile.mkdtemp(prefix="cskit-wheels-")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--target", target,
                    *whls], check=True)
    sys.path.insert(0, target)


def word_tokenizer(vocab: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.WordLevel({f"t{i}": i for i in range(vocab)}, unk_token="t0"))
    raw.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    raw.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # joins words with spaces
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, pad_token="t1", eos_token="t2", unk_token="t0")
    tok.padding_side = "left"
    tok.chat_template = "{% for m in messages %}{{ m['content'] }} {% endfor %}"
    return tok


class WrapAsCode:
    """Feeds each completion to the wrapped reward as one valid fenced Python block (see the module docstring)."""

    def __init__(self, reward):
        self.reward = reward
        self.__name__ = reward.__name__

    def __call__(self, prompts, completions, completion_ids=None, **kw):
        from cskit.rl.rewards import completion_text

        wrapped = ['```python\ns = """' + completion_text(c).replace('"', "") + '"""\n```' for c in completions]
        return self.reward(prompts, wrapped, completion_ids, **kw)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tiny", action="store_true", help="tiny shapes on CPU (plumbing check)")
    ap.add_argument("--steps", type=int, default=None, help="GRPO steps (default 3; --tiny: 2)")
    ap.add_argument("--prompts", type=int, default=2, help="prompts per GRPO step")
    ap.add_argument("--generations", type=int, default=8)
    ap.add_argument("--prompt-len", type=int, default=None, help="prompt tokens (default 256; --tiny: 32)")
    ap.add_argument("--completion-len", type=int, default=None, help="completion tokens (default 64; --tiny: 16)")
    ap.add_argument("--wheels", default=None)
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    a = ap.parse_args(argv)
    for key, full, tiny in (("steps", 3, 2), ("prompt_len", 256, 32), ("completion_len", 64, 16)):
        if getattr(a, key) is None:
            setattr(a, key, tiny if a.tiny else full)

    ensure_trl(a.wheels)
    import torch
    from datasets import Dataset
    from transformers import Qwen3Config, Qwen3ForCausalLM, Qwen3ForSequenceClassification
    from trl import GRPOTrainer

    from cskit.config import load_config
    from cskit.rl.rewards import CodeScalerReward
    from cskit.rl import grpo_args
    from cskit.rm.score import RewardScorer

    shape = "tiny" if a.tiny else "qwen3-1.7b"
    device = "cpu" if a.tiny else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device; use --tiny for the CPU check")
    h, inter, layers, heads, kv, vocab = SHAPES[shape]
    tok = word_tokenizer(vocab)
    mcfg = Qwen3Config(hidden_size=h, intermediate_size=inter, num_hidden_layers=layers, num_attention_heads=heads,
                       num_key_value_heads=kv, head_dim=max(16, h // heads) if a.tiny else 128, vocab_size=vocab,
                       pad_token_id=1, eos_token_id=2, bos_token_id=2, num_labels=1, tie_word_embeddings=False,
                       max_position_embeddings=4096)
    t0 = time.perf_counter()
    torch.manual_seed(0)
    with torch.device(device):
        policy = Qwen3ForCausalLM(mcfg)  # fp32 master weights (cskit.rl trains under bf16 autocast on GPU)
        torch.set_default_dtype(torch.bfloat16 if device == "cuda" else torch.float32)
        rm = Qwen3ForSequenceClassification(mcfg).eval()
        torch.set_default_dtype(torch.float32)
    policy.generation_config.pad_token_id, policy.generation_config.eos_token_id = 1, 2
    init_s = time.perf_counter() - t0

    scorer = RewardScorer(rm, tok, max_length=4096, batch_size=16, device=device)
    reward = WrapAsCode(CodeScalerReward(scorer))
    cfg = load_config("smoke", dict(
        rl_steps=a.steps, rl_prompts_per_step=a.prompts, rl_num_generations=a.generations, rl_updates_per_step=1,
        rl_max_completion_length=a.completion_len, rl_learning_rate=1e-6, rl_warmup_steps=0, rl_save_steps=0,
        temperature=0.6, top_p=0.95, top_k=20, rl_use_vllm=False, progress=False))
    out_dir = tempfile.mkdtemp(prefix="gpu-grpo-")
    args, layout = grpo_args(cfg, out_dir, device)
    args.model_init_kwargs = None  # the policy is passed as an object here
    prompts = [" ".join(f"t{(7 * i + j) % (vocab - 3) + 3}" for j in range(a.prompt_len)) for i in range(4 * a.prompts)]
    ds = Dataset.from_dict({"prompt": prompts, "question": prompts, "problem_id": [f"p{i}" for i in range(len(prompts))]})
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    tr = GRPOTrainer(model=policy, reward_funcs=[reward], args=args, train_dataset=ds, processing_class=tok)
    t1 = time.perf_counter()
    tr.train()
    wall = time.perf_counter() - t1
    logs = [entry for entry in tr.state.log_history if "step_time" in entry]
    row = dict(shape=shape, device=device, steps=a.steps, completions_per_step=layout["completions_per_step"],
               completion_len=a.completion_len, prompt_len=a.prompt_len,
               params_b=round(sum(p.numel() for p in policy.parameters()) / 1e9, 3),
               init_s=round(init_s, 1), train_wall_s=round(wall, 1),
               step_times_s=[round(entry["step_time"], 2) for entry in logs],
               reward_mean=[round(entry.get("reward", float("nan")), 4) for entry in logs],
               valid_rate=[entry.get("codescaler/valid_rate") for entry in logs],
               peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 1) if device == "cuda" else None,
               gpu=torch.cuda.get_device_name(0) if device == "cuda" else None,
               versions={m.__name__: getattr(m, "__version__", "?") for m in (torch, __import__("transformers"),
                                                                               __import__("trl"))})
    print(json.dumps(row), flush=True)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    (Path(a.out) / "gpu_grpo_step.json").write_text(json.dumps(row, indent=1) + "\n")
    assert all(v == 1.0 for v in row["valid_rate"]), "every wrapped completion should pass strict extraction"
    return 0


if __name__ == "__main__":
    sys.exit(main())
