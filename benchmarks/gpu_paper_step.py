"""GPU check of the paper profile on one GPU: 2 GRPO rounds at Qwen3-8B shape, then the RM server under load.

Phase 1 -- the kit's own GRPO code path with the CodeScaler reward: the ``paper-qwen3-8b`` profile, scaled
to fit one GPU (``--prompts`` x ``--generations`` completions of ``--completion-len`` tokens after
``--prompt-len``-token prompts instead of 128 x 8 x 16384 after 4096; 2 rounds; no vLLM), through
``cskit.rl.grpo_args`` (the paper's trl mapping: 2 updates per round, micro-batch 1, clip 0.2/0.28,
token-mean loss, no KL, bf16 autocast, gradient checkpointing) and ``CodeScalerReward`` over a
``RewardScorer`` (strict extraction -> RM score -> softplus). Policy and RM are random-init at Qwen3-8B
shape (hidden 4096, 36 layers, 32/8 heads, vocab 151,936) with a word-level tokenizer over the full vocabulary
(as the one-GPU measurement script of the kit's GPU notes does); each completion is wrapped into one valid fenced block so the RM
really scores every sample (``gpu_grpo_step.WrapAsCode``). One deviation from the multi-GPU recipe, needed
to fit one GPU: the policy's weights (and so AdamW's states) are bf16 (``--policy-dtype``), not fp32 masters
-- 16 bytes/parameter x 8.2B = 131 GB of fp32 master state fits 8 sharded GPUs, not one.
Printed: per-round wall time (generation + 2 updates), peak allocated/reserved GPU memory.

Phase 2 -- ``benchmarks/rm_server_load.py`` against ``cskit serve-rm`` on the GPU: the phase-1 RM is saved
(bf16, with its tokenizer), a server process loads it, and 64 concurrent clients run for ``--load-duration``
seconds; its figures (throughput vs the offline scorer on the same GPU, p50/p99, lost/duplicated) are printed.

Everything goes to ``$OUT/gpu_paper_step.json`` (or ``--out``). Budget: under 10 minutes on one H200
(init ~30 s, 2 rounds ~1-2 min, RM save/load ~1-2 min, 45 s of load).

    python benchmarks/gpu_paper_step.py --wheels .whl      # GPU
    python benchmarks/gpu_paper_step.py --tiny              # CPU plumbing check (tests run this)

Where only torch and transformers are installed (the GPU test machine: torch 2.11 and transformers, no trl, datasets or vLLM), bring
wheels in one folder (``--wheels DIR``, installed with ``pip install --no-index --no-deps --target``):
``trl==1.16.0 datasets==5.2.0 dill==0.4.0 multiprocess==0.70.18`` for phase 1 and, for the server,
``fastapi starlette uvicorn h11 click anyio sniffio httpx httpcore certifi idna pydantic pydantic_core
annotated_types typing_inspection`` at the lock's versions (``WHEELS_SERVE``; ``--print-wheels`` prints the
``pip download`` command for Python 3.12).
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

V_FULL = 151936
# hidden, intermediate, layers, heads, kv heads, vocab
SHAPES = {"tiny": (64, 128, 2, 4, 2, 2048), "qwen3-8b": (4096, 12288, 36, 32, 8, V_FULL)}
WHEELS_TRL = ["trl==1.16.0", "datasets==5.2.0", "dill==0.4.0", "multiprocess==0.70.18"]
WHEELS_SERVE = ["fastapi==0.165.0", "starlette==1.10.0", "uvicorn==0.54.0", "h11==0.16.0", "click==8.5.1",
                "anyio==4.16.0", "sniffio", "httpx==0.28.1", "httpcore==1.0.9", "certifi==2026.10.19.post1",
                "idna==3.20", "pydantic==2.14.4", "pydantic_core==2.50.5", "annotated-types==0.8.0",
                "typing-inspection==0.4.5", "annotated-doc==0.0.7"]


def grpo_step_helpers():
    """``ensure_trl``, ``word_tokenizer``, ``WrapAsCode`` of ``benchmarks/gpu_grpo_step.py`` (one copy)."""
    spec = importlib.util.spec_from_file_location("gpu_grpo_step", HERE / "gpu_grpo_step.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class RoundTimer:
    """TrainerCallback recording when each optimiser step ends (a round = ``updates`` optimiser steps)."""

    def __init__(self):
        self.marks: list[float] = []

    def on_train_begin(self, args, state, control, **kw):
        self.marks = [time.perf_counter()]

    def on_step_end(self, args, state, control, **kw):
        self.marks.append(time.perf_counter())

    def rounds(self, updates: int) -> list[float]:
        d = [b - a for a, b in zip(self.marks, self.marks[1:])]
        return [round(sum(d[i:i + updates]), 2) for i in range(0, len(d), updates)]


def gpu_mem() -> dict:
    import torch

    if not torch.cuda.is_available():
        return {}
    return {"peak_allocated_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
            "peak_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2),
            "total_gib": round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)}


def phase_grpo(a, helpers, device: str, rm_dir: Path) -> dict:
    import torch
    from datasets import Dataset
    from transformers import Qwen3Config, Qwen3ForCausalLM, Qwen3ForSequenceClassification, TrainerCallback
    from trl import GRPOTrainer

    from cskit.config import load_config
    from cskit.rl import CodeScalerReward, grpo_args
    from cskit.rm import RewardScorer

    h, inter, layers, heads, kv, vocab = SHAPES[a.shape]
    tok = helpers.word_tokenizer(vocab)
    mcfg = Qwen3Config(hidden_size=h, intermediate_size=inter, num_hidden_layers=layers, num_attention_heads=heads,
                       num_key_value_heads=kv, head_dim=16 if a.tiny else 128, vocab_size=vocab, pad_token_id=1,
                       eos_token_id=2, bos_token_id=2, num_labels=1, tie_word_embeddings=False,
                       max_position_embeddings=40960)
    pdtype = torch.bfloat16 if a.policy_dtype == "bf16" else torch.float32
    rdtype = torch.bfloat16 if device == "cuda" else torch.float32
    t0 = time.perf_counter()
    torch.manual_seed(0)
    with torch.device(device):
        torch.set_default_dtype(pdtype)
        policy = Qwen3ForCausalLM(mcfg)
        torch.set_default_dtype(rdtype)
        rm = Qwen3ForSequenceClassification(mcfg).eval()
        torch.set_default_dtype(torch.float32)
    policy.generation_config.pad_token_id, policy.generation_config.eos_token_id = 1, 2
    init_s = time.perf_counter() - t0
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    mem_models = gpu_mem()

    cfg = load_config("paper-qwen3-8b", dict(
        rl_steps=a.rounds, rl_prompts_per_step=a.prompts, rl_num_generations=a.generations,
        rl_max_completion_length=a.completion_len, rl_use_vllm=False, rl_save_steps=0, rl_eval_steps=0,
        rl_warmup_steps=0, progress=False))
    scorer = RewardScorer(rm, tok, max_length=cfg.rm_max_length, batch_size=cfg.rm_score_batch_size, device=device)
    reward = helpers.WrapAsCode(CodeScalerReward(scorer, shaping=cfg.rl_shaping))
    args, layout = grpo_args(cfg, tempfile.mkdtemp(prefix="gpu-paper-"), device)
    args.model_init_kwargs = None  # the policy is passed as an object
    prompts = [" ".join(f"t{(7 * i + j) % (vocab - 3) + 3}" for j in range(a.prompt_len))
               for i in range(a.prompts * a.rounds)]
    ds = Dataset.from_dict({"prompt": prompts, "question": prompts})
    timer = RoundTimer()

    class _CB(TrainerCallback):
        def on_train_begin(self, *x, **kw):
            timer.on_train_begin(*x, **kw)

        def on_step_end(self, *x, **kw):
            timer.on_step_end(*x, **kw)

    tr = GRPOTrainer(model=policy, reward_funcs=[reward], args=args, train_dataset=ds, processing_class=tok,
                     callbacks=[_CB()])
    t1 = time.perf_counter()
    tr.train()
    wall = time.perf_counter() - t1
    logs = [e for e in tr.state.log_history if "loss" in e or "reward" in e]
    row = dict(shape=a.shape, device=device, policy_dtype=a.policy_dtype, rounds=a.rounds,
               completions_per_round=layout["completions_per_step"], prompt_len=a.prompt_len,
               completion_len=a.completion_len, layout=layout,
               params_b=round(sum(p.numel() for p in policy.parameters()) / 1e9, 3), init_s=round(init_s, 1),
               train_wall_s=round(wall, 1), round_s=timer.rounds(layout["updates_per_step"]),
               reward_mean=[e.get("reward") for e in logs if "reward" in e],
               valid_rate=[e.get("codescaler/valid_rate") for e in logs if "codescaler/valid_rate" in e],
               memory_after_init=mem_models, memory_peak=gpu_mem(),
               gpu=torch.cuda.get_device_name(0) if device == "cuda" else None)
    del tr, policy, reward, scorer
    gc.collect()
    rm.save_pretrained(rm_dir)
    tok.save_pretrained(rm_dir)
    del rm
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()
    return row


def phase_load(a, rm_dir: Path, device: str, out_dir: Path) -> dict:
    out = out_dir / "rm_server_load.json"
    cmd = [sys.executable, str(HERE / "rm_server_load.py"), "--rm", str(rm_dir), "--device", device,
           "--duration", str(a.load_duration), "--clients", str(a.clients), "--items", str(a.items),
           "--inputs", str(a.inputs), "--max-code-lines", str(a.max_code_lines), "--out", str(out)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=a.load_duration + 420)
    print(proc.stdout.strip(), flush=True)
    if proc.returncode != 0:
        raise SystemExit(f"rm_server_load.py failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    res = json.loads(out.read_text())
    res["phase_wall_s"] = round(time.perf_counter() - t0, 1)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tiny", action="store_true", help="tiny shapes on CPU (plumbing check)")
    ap.add_argument("--rounds", type=int, default=2, help="GRPO generation rounds")
    ap.add_argument("--prompts", type=int, default=None, help="prompts per round (default 4; --tiny 2)")
    ap.add_argument("--generations", type=int, default=8)
    ap.add_argument("--prompt-len", type=int, default=None, help="prompt tokens (default 512; --tiny 16)")
    ap.add_argument("--completion-len", type=int, default=None, help="completion tokens (default 256; --tiny 8)")
    ap.add_argument("--policy-dtype", choices=["bf16", "fp32"], default=None,
                    help="policy weights (default bf16 on GPU, fp32 with --tiny)")
    ap.add_argument("--load-duration", type=float, default=None, help="seconds of server load (default 45; --tiny 3)")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--items", type=int, default=None, help="inputs per request (default 8; --tiny 2)")
    ap.add_argument("--inputs", type=int, default=None, help="distinct load inputs (default 512; --tiny 32)")
    ap.add_argument("--max-code-lines", type=int, default=None, help="code length of load inputs (default 200)")
    ap.add_argument("--skip-load", action="store_true", help="phase 1 only")
    ap.add_argument("--wheels", default=None, help="folder of wheels to install first (see the docstring)")
    ap.add_argument("--print-wheels", action="store_true", help="print the pip download command and exit")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    a = ap.parse_args(argv)
    if a.print_wheels:
        print("pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 "
              f"-d .whl {' '.join(WHEELS_TRL + WHEELS_SERVE)}")
        return 0
    defaults = {"prompts": (4, 2), "prompt_len": (512, 16), "completion_len": (256, 8), "load_duration": (45.0, 2.0),
                "items": (8, 2), "inputs": (512, 32), "max_code_lines": (200, 12)}
    for key, (full, tiny) in defaults.items():
        if getattr(a, key) is None:
            setattr(a, key, tiny if a.tiny else full)
    a.shape = "tiny" if a.tiny else "qwen3-8b"
    a.policy_dtype = a.policy_dtype or ("fp32" if a.tiny else "bf16")
    if a.tiny:
        a.clients = min(a.clients, 8)
    helpers = grpo_step_helpers()
    helpers.ensure_trl(a.wheels)
    import torch

    device = "cpu" if a.tiny else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device; use --tiny for the CPU check")
    out_dir = Path(a.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gpu-paper-rm-") as tmp:
        rm_dir = Path(tmp) / "rm"
        result = {"grpo": phase_grpo(a, helpers, device, rm_dir)}
        g = result["grpo"]
        print(f"GRPO     : {g['shape']} ({g['params_b']}B params, policy {g['policy_dtype']}), "
              f"{g['completions_per_round']} completions x {g['completion_len']} tokens per round: rounds "
              f"{g['round_s']} s, peak {g['memory_peak'].get('peak_allocated_gib', '-')} GiB allocated / "
              f"{g['memory_peak'].get('peak_reserved_gib', '-')} GiB reserved", flush=True)
        if not a.skip_load:
            result["rm_server_load"] = phase_load(a, rm_dir, device, out_dir)
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    result["versions"] = {m: getattr(__import__(m), "__version__", "?") for m in ("torch", "transformers", "trl")}
    (out_dir / "gpu_paper_step.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"total    : {result['wall_s']} s; wrote {out_dir / 'gpu_paper_step.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
