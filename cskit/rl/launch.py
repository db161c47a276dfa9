"""GRPO training of one method as a script, for ``accelerate launch`` (several processes / GPUs / nodes).

It runs :func:`cskit.rl.train_grpo` -- the function stage 04 calls in-process -- into
``<run-dir>/models/policy-<reward>``, so stage 04 (``cskit run``) later finds the finished policy (its
completion marker) and only evaluates it, provided the profile and overrides are the same. The reward
model for ``codescaler`` is ``<run-dir>/models/rm`` (stage 03's output).

Single process (CPU or one GPU)::

    python -m cskit.rl.launch --profile demo --run-dir outputs/demo --reward codescaler

8 GPUs, one node, DeepSpeed ZeRO-3 (policy sharded; trl generates with transformers or, with
``-p rl_use_vllm=true``, colocated vLLM)::

    accelerate launch --use_deepspeed --zero_stage 3 --num_processes 8 --mixed_precision bf16 \\
        -m cskit.rl.launch --profile paper-qwen3-8b --run-dir outputs/paper --reward codescaler

FSDP2 over 2 nodes x 8 GPUs (run on each node with its --machine_rank)::

    accelerate launch --use_fsdp --fsdp_version 2 --num_machines 2 --machine_rank 0 \\
        --main_process_ip HOST0 --main_process_port 29500 --num_processes 16 --mixed_precision bf16 \\
        --fsdp_auto_wrap_policy TRANSFORMER_BASED_WRAP --fsdp_transformer_layer_cls_to_wrap Qwen3DecoderLayer \\
        -m cskit.rl.launch --profile paper-qwen3-8b --run-dir outputs/paper --reward execution

The per-step prompt count stays ``rl_prompts_per_step`` whatever the number of processes
(``cskit.rl.batch_layout`` divides it over them). Prints one JSON line (the run summary) on the main process.
"""
from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cskit.rl.launch", description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--run-dir", required=True, help="the run directory (outputs/<run>) holding models/rm")
    ap.add_argument("--reward", default=None, choices=["codescaler", "execution", "raw_rm", "untrained_rm"],
                    help="default: the profile's rl_reward")
    ap.add_argument("--out-name", default=None, help="default: policy-<reward> (what stage 04 looks for)")
    ap.add_argument("--rm", default=None, metavar="PATH_OR_HUB_ID",
                    help="the RM for the codescaler / raw_rm rewards: a directory or a hub id such as "
                         "LARK-Lab/CodeScaler-8B (default: rm_path, else <run-dir>/models/rm)")
    ap.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args(argv)

    from cskit.config import load_config, open_run, parse_override
    from cskit.rl.grpo import train_grpo

    cfg = load_config(args.profile, dict(parse_override(x) for x in args.param))
    reward = args.reward or cfg.rl_reward
    run = open_run(args.run_dir, cfg.profile)
    result = train_grpo(cfg, run, reward, args.out_name or f"policy-{reward}", rm_path=args.rm)
    from cskit.runinfo import is_main_process

    if is_main_process():
        print(json.dumps({k: v for k, v in result.items() if k != "steps"}, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
