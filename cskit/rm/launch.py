"""Reward-model training as a script, for ``accelerate launch`` (several processes / GPUs / nodes).

It runs :func:`cskit.rm.train.train_reward_model` -- the very function stage 03 calls in-process -- on
``DIR/train.parquet`` (+ ``DIR/val.parquet`` when present) of a pairs directory, so a model trained here is
picked up by stage 03 unchanged (point ``--out`` at ``outputs/<run>/models/rm``: a completed directory is not
retrained). Settings come from a profile plus ``-p key=value`` overrides (any ``rm_*`` key of
``cskit/config.py`` SCHEMA); ``--init`` overrides ``rm_model``.

Single process (CPU or one GPU)::

    python -m cskit.rm.launch --pairs outputs/demo/data/pairs --init smollm2-135m --out /tmp/rm --profile demo

CPU, 2 processes (DDP over gloo; what the tests run). In accelerate 1.15 ``--cpu`` always selects the
single-process launcher, so on a GPU-less machine use ``--multi_gpu`` (= torchrun; the processes find no GPU
and fall back to CPU + gloo), or torchrun itself::

    CUDA_VISIBLE_DEVICES= accelerate launch --multi_gpu --num_processes 2 -m cskit.rm.launch \
        --pairs DIR --init tiny-qwen3 --out OUT
    CUDA_VISIBLE_DEVICES= torchrun --nproc_per_node 2 -m cskit.rm.launch --pairs DIR --init tiny-qwen3 --out OUT

GPUs, data parallel (DDP), 8 GPUs, bf16::

    accelerate launch --multi_gpu --num_processes 8 --mixed_precision bf16 -m cskit.rm.launch \\
        --pairs DIR --init Skywork/Skywork-Reward-V2-Qwen3-8B --out OUT --profile paper-qwen3-8b

DeepSpeed ZeRO-3 (8B RM full fine-tune on 8x80GB; gradient checkpointing is on automatically on GPU)::

    accelerate launch --use_deepspeed --zero_stage 3 --num_processes 8 --mixed_precision bf16 \\
        --zero3_init_flag true --zero3_save_16bit_model true -m cskit.rm.launch \\
        --pairs DIR --init Skywork/Skywork-Reward-V2-Qwen3-8B --out OUT --profile paper-qwen3-8b

FSDP (full shard, Qwen3 decoder layers wrapped)::

    accelerate launch --use_fsdp --num_processes 8 --mixed_precision bf16 --fsdp_version 2 \\
        --fsdp_reshard_after_forward true --fsdp_auto_wrap_policy TRANSFORMER_BASED_WRAP \\
        --fsdp_transformer_layer_cls_to_wrap Qwen3DecoderLayer --fsdp_state_dict_type FULL_STATE_DICT \\
        -m cskit.rm.launch --pairs DIR --init Skywork/Skywork-Reward-V2-Qwen3-8B --out OUT --profile paper-qwen3-8b

LoRA (``-p rm_lora=true``) is merged on the main process after training: use it with DDP or ZeRO-1/2, not
with ZeRO-3 / FSDP (sharded weights would need gathering first). Full fine-tuning saves through
``Trainer.save_model``, which gathers ZeRO-3 / FSDP shards.

Per-device batch is ``rm_batch_size`` pairs; the global batch is that x processes x ``rm_grad_accum``.
Prints one JSON line (the training metrics) on the main process.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cskit.rm.launch", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", required=True, help="directory with train.parquet (and optionally val.parquet)")
    ap.add_argument("--init", default=None, help="initial RM: tiny-qwen3, smollm2-135m, a hub id or a dir "
                                                  "(default: the profile's rm_model)")
    ap.add_argument("--out", required=True, help="output HF directory")
    ap.add_argument("--profile", default="smoke", help="params/<profile>.yaml (default smoke)")
    ap.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config key (repeatable), e.g. -p rm_max_steps=10")
    ap.add_argument("--no-val", action="store_true", help="ignore val.parquet")
    args = ap.parse_args(argv)

    import pandas as pd

    from cskit.config import load_config, parse_override
    from cskit.runinfo import is_main_process
    from cskit.rm.train import train_reward_model

    overrides = dict(parse_override(x) for x in args.param)
    cfg = load_config(args.profile, overrides)
    pairs = Path(args.pairs)
    train = pd.read_parquet(pairs / "train.parquet")
    val = None
    if not args.no_val and (pairs / "val.parquet").exists():
        val = pd.read_parquet(pairs / "val.parquet")
    metrics = train_reward_model(train, val, args.init or cfg.rm_model, args.out, cfg)
    if metrics.get("world_size", 1) == 1 or is_main_process():
        slim = {k: v for k, v in metrics.items() if k != "log_history"}
        print(json.dumps(slim, default=str), flush=True)
    return 0



if __name__ == "__main__":
    sys.exit(main())
