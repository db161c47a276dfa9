"""Bradley-Terry reward-model training with trl's RewardTrainer on the pairs table (recipe: "Reward model").

Input: ``question_content``, ``code_pos``, ``code_neg`` rows. Each side is encoded by
:func:`cskit.rm.score.encode_rm_inputs` -- the scorer's own function: chat template over
``[user: question, assistant: code]``, ``add_special_tokens=False``, right-truncated to ``rm_max_length``, in
the RM input format ``rm_input_format`` (default ``"authors"``: nothing appended, the authors' verl RM input;
``"chat_eos"``: + EOS, the kit's earlier format) -- and handed to RewardTrainer pre-tokenized
(``chosen_ids`` / ``rejected_ids``), so trl neither re-renders, appends EOS, nor drops anything: every pair
trains, truncated ones are counted and logged. The format is recorded in the saved directory
(``cskit_rm_input.json``, :func:`cskit.rm.score.write_rm_input_format`), so
:class:`cskit.rm.score.RewardScorer` always scores a kit-trained RM in the format it was trained in.
Loss: -log sigmoid(r+ - r-) (+ optional ``rm_center_rewards`` * mean((r+ + r-)^2)).

Init: any sequence-classification checkpoint (``resolve_model(cfg.rm_model, "seqcls")``; a causal LM gets a
new seeded scalar head). Options: LoRA (``rm_lora``: peft, all linear layers, ``modules_to_save=["score"]``,
merged before saving) or training only the top ``rm_train_layers`` decoder layers + head (cheap CPU demos).
Output: an HF directory loadable by ``AutoModelForSequenceClassification.from_pretrained`` (+ tokenizer), with
``training_metrics.json``, ``cskit_rm_input.json`` and, written last, the completion marker ``cskit_rm_complete.json``.
Precision: bf16 autocast on GPU, fp32 on CPU; gradient checkpointing on GPU only. Seeded by ``cfg.seed``.

Multi-process / multi-GPU: the same function runs under ``accelerate launch`` through :mod:`cskit.rm.launch`
(see its docstring for DeepSpeed / FSDP launch lines).
"""
from __future__ import annotations

import json
import logging
import math
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cskit.rm.score import (DEFAULT_RM_INPUT_FORMAT, PAIR_COLUMNS, check_columns, check_input_format,
                            encode_rm_inputs, ensure_chat_template, load_rm_seeded, write_rm_input_format)
from cskit.config import Config
from cskit.runinfo import report_to

log = logging.getLogger(__name__)

COMPLETE_MARKER = "cskit_rm_complete.json"
METRICS_FILE = "training_metrics.json"
LORA_TARGETS = "all-linear"


def is_complete(out_dir: str | Path) -> bool:
    """True when ``out_dir`` holds a finished RM (the completion marker is written last)."""
    return (Path(out_dir) / COMPLETE_MARKER).exists()


def read_training_metrics(out_dir: str | Path) -> dict:
    return json.loads((Path(out_dir) / COMPLETE_MARKER).read_text(encoding="utf-8"))


def input_format_of(cfg) -> str:
    """``cfg.rm_input_format`` when the config has that key, else the authors' format."""
    fmt = cfg.rm_input_format if "rm_input_format" in cfg else DEFAULT_RM_INPUT_FORMAT
    return check_input_format(fmt or DEFAULT_RM_INPUT_FORMAT)


def pairs_to_dataset(pairs_df: pd.DataFrame, tokenizer, max_length: int,
                     input_format: str = DEFAULT_RM_INPUT_FORMAT):
    """Pre-tokenized preference dataset (``chosen_ids``, ``rejected_ids``) and truncation counts."""
    from datasets import Dataset

    check_columns(pairs_df, PAIR_COLUMNS, "pairs table")
    q = pairs_df["question_content"].astype(str).tolist()
    pos, tr_pos = encode_rm_inputs(tokenizer, q, pairs_df["code_pos"].astype(str).tolist(), max_length,
                                   input_format)
    neg, tr_neg = encode_rm_inputs(tokenizer, q, pairs_df["code_neg"].astype(str).tolist(), max_length,
                                   input_format)
    lens = np.array([len(x) for x in pos + neg]) if pos else np.zeros(0)
    info = {"n_pairs": int(len(pairs_df)), "n_truncated_pairs": int((tr_pos | tr_neg).sum()),
            "n_truncated_pos": int(tr_pos.sum()), "n_truncated_neg": int(tr_neg.sum()),
            "mean_tokens": float(lens.mean()) if len(lens) else 0.0,
            "max_tokens": int(lens.max()) if len(lens) else 0}
    return Dataset.from_dict({"chosen_ids": pos, "rejected_ids": neg}), info


def _use_gpu(cfg) -> bool:
    import torch

    return str(cfg.device) != "cpu" and torch.cuda.is_available()


def build_reward_trainer(train_df: pd.DataFrame, val_df: pd.DataFrame | None, init_model: str, out_dir: str | Path,
                         cfg: Config):
    """(RewardTrainer ready to ``train()``, info dict). The model is loaded seeded on CPU in fp32.

    The trainer carries its RM input format as ``trainer.cskit_rm_input_format`` (:func:`save_trained` records it).
    """
    import torch
    from trl import RewardConfig, RewardTrainer

    seed = int(cfg.seed)
    max_length = int(cfg.rm_max_length)
    input_format = input_format_of(cfg)
    gpu = _use_gpu(cfg)
    bf16 = gpu and str(cfg.dtype) in ("auto", "bfloat16") and torch.cuda.is_bf16_supported()
    model, tok = load_rm_seeded(init_model, device="cpu", dtype=torch.float32, seed=seed)
    ensure_chat_template(tok)
    model.config.pad_token_id = tok.pad_token_id
    model.train()

    train_ds, tinfo = pairs_to_dataset(train_df, tok, max_length, input_format)
    info: dict[str, Any] = {"init_model": str(init_model), "max_length": max_length, "input_format": input_format,
                            "train": tinfo,
                            "device": "cuda" if gpu else "cpu", "bf16": bool(bf16)}
    eval_ds = None
    if val_df is not None and len(val_df):
        eval_ds, vinfo = pairs_to_dataset(val_df, tok, max_length, input_format)
        info["val"] = vinfo
    for split in ("train", "val"):
        if split in info and info[split]["n_truncated_pairs"]:
            log.warning("RM %s: %d of %d pairs right-truncated to %d tokens (kept, not dropped)", split,
                        info[split]["n_truncated_pairs"], info[split]["n_pairs"], max_length)

    peft_config = None
    n_params = sum(p.numel() for p in model.parameters())
    if bool(cfg.rm_lora):
        from peft import LoraConfig

        r = int(cfg.rm_lora_r)
        peft_config = LoraConfig(task_type="SEQ_CLS", r=r, lora_alpha=2 * r, lora_dropout=0.0,
                                 target_modules=LORA_TARGETS, modules_to_save=["score"])
    elif int(cfg.rm_train_layers or 0) > 0:
        from cskit.models import freeze_to_top_layers

        info["trainable_params"] = freeze_to_top_layers(model, int(cfg.rm_train_layers), heads=("score",))
    info["params"] = int(n_params)

    center = float(cfg.rm_center_rewards or 0.0)
    args = RewardConfig(
        output_dir=str(Path(out_dir) / "_trainer"),
        per_device_train_batch_size=int(cfg.rm_batch_size),
        per_device_eval_batch_size=int(cfg.rm_batch_size),
        gradient_accumulation_steps=int(cfg.rm_grad_accum),
        learning_rate=float(cfg.rm_learning_rate),
        num_train_epochs=float(cfg.rm_epochs),
        max_steps=int(cfg.rm_max_steps),
        lr_scheduler_type="linear", warmup_steps=0, weight_decay=0.0,
        max_length=max_length,                       # no effect: inputs are already truncated to it
        # checkpointing on GPU only, and not with frozen lower layers (their outputs carry no grad, which
        # reentrant checkpointing would turn into no gradient for the trainable top layers)
        bf16=bool(bf16), fp16=False, use_cpu=not gpu,
        gradient_checkpointing=bool(gpu) and not int(cfg.rm_train_layers or 0),
        center_rewards_coefficient=center if center > 0 else None,
        seed=seed, data_seed=seed, report_to=report_to(cfg), save_strategy="no", eval_strategy="no",
        logging_steps=1, logging_first_step=True, disable_tqdm=not bool(cfg.progress),
        dataloader_num_workers=0, remove_unused_columns=False,
    )
    trainer = RewardTrainer(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                            processing_class=tok, peft_config=peft_config)
    if not bool(cfg.progress):
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    trainer.cskit_rm_input_format = input_format
    trainer.cskit_rm_max_length = max_length
    n_kept = len(trainer.train_dataset)
    if n_kept != len(train_ds):  # cannot happen (inputs are pre-truncated), but never lose rows silently
        raise RuntimeError(f"RewardTrainer dropped {len(train_ds) - n_kept} of {len(train_ds)} training pairs")
    if peft_config is not None:
        info["trainable_params"] = int(sum(p.numel() for p in trainer.model.parameters() if p.requires_grad))
    return trainer, info


def _loss_history(trainer) -> list[dict]:
    keep = ("step", "epoch", "loss", "accuracy", "margin", "learning_rate", "grad_norm")
    return [{k: h[k] for k in keep if k in h} for h in trainer.state.log_history if "loss" in h]


def save_trained(trainer, out_dir: str | Path) -> None:
    """Save an HF directory + tokenizer + the RM input record (``cskit_rm_input.json``). Call on every process:
    full fine-tunes go through ``Trainer.save_model`` (gathers ZeRO-3 / FSDP shards, writes on the main process
    only); a LoRA model is merged into its base and saved by the main process."""
    from accelerate.utils import is_peft_model

    out = Path(out_dir)
    tok = trainer.processing_class
    model = trainer.accelerator.unwrap_model(trainer.model)
    model.config.num_labels = 1
    model.config.pad_token_id = tok.pad_token_id
    if is_peft_model(model):
        if trainer.is_world_process_zero():
            merged = model.merge_and_unload()
            merged.config.pad_token_id = tok.pad_token_id
            merged.save_pretrained(out, safe_serialization=True)
            tok.save_pretrained(out)
    else:
        trainer.save_model(str(out))
    trainer.accelerator.wait_for_everyone()
    if trainer.is_world_process_zero():
        (out / "training_args.bin").unlink(missing_ok=True)
        write_rm_input_format(out, getattr(trainer, "cskit_rm_input_format", DEFAULT_RM_INPUT_FORMAT),
                              getattr(trainer, "cskit_rm_max_length", None))


def train_reward_model(train_df: pd.DataFrame, val_df: pd.DataFrame | None, init_model: str, out_dir: str | Path,
                       cfg: Config) -> dict:
    """Train, save to ``out_dir`` (HF format + tokenizer + marker) and return metrics (contract)."""
    from cskit.models import resolve_model

    out = Path(out_dir)
    if out.exists() and not is_complete(out):
        shutil.rmtree(out, ignore_errors=True)   # a half-written previous attempt
    out.mkdir(parents=True, exist_ok=True)
    init_path = resolve_model(str(init_model), "seqcls")
    trainer, info = build_reward_trainer(train_df, val_df, init_path, out, cfg)
    t0 = time.perf_counter()
    result = trainer.train()
    train_s = time.perf_counter() - t0
    hist = _loss_history(trainer)
    steps = int(trainer.state.global_step)
    metrics: dict[str, Any] = {
        **info, "init_model_name": str(init_model), "steps": steps, "train_runtime_s": round(train_s, 3),
        "step_time_s": round(train_s / max(steps, 1), 4), "train_loss": float(result.training_loss),
        "loss_first": hist[0]["loss"] if hist else float("nan"),
        "loss_last": hist[-1]["loss"] if hist else float("nan"),
        "train_accuracy_last": hist[-1].get("accuracy", float("nan")) if hist else float("nan"),
        "log_history": hist, "lora": bool(cfg.rm_lora),
        "world_size": int(trainer.accelerator.num_processes), "out_dir": str(out),
    }
    if trainer.eval_dataset is not None:
        ev = trainer.evaluate()
        metrics["eval"] = {k: float(v) for k, v in ev.items() if isinstance(v, (int, float))}
    save_trained(trainer, out)
    if trainer.is_world_process_zero():
        from cskit.io import write_json

        write_json(out / METRICS_FILE, metrics)
        shutil.rmtree(out / "_trainer", ignore_errors=True)
        write_json(out / COMPLETE_MARKER, metrics)   # last: marks the directory complete
    trainer.accelerator.wait_for_everyone()
    log.info("RM trained: %d steps in %.1fs, loss %.4f -> %.4f, saved to %s", steps, train_s,
             metrics["loss_first"], metrics["loss_last"], out)
    return metrics


def steps_per_epoch(n_pairs: int, cfg: Config, world_size: int = 1) -> int:
    per = int(cfg.rm_batch_size) * int(cfg.rm_grad_accum) * world_size
    return max(1, math.ceil(n_pairs / per))
