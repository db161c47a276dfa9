"""GRPO of the policy through trl's ``GRPOTrainer`` with the paper's settings (recipe: "RL (GRPO)"), and stage 04.

Mapping of the paper's verl recipe (``scripts/train.sh``) onto trl 1.16 (see :func:`grpo_args`):

=============================  ===============================  ===========================================
paper (verl)                   profile key                      trl ``GRPOConfig``
=============================  ===============================  ===========================================
GRPO, adv / group std          --                               ``scale_rewards="group"``, ``num_iterations=1``
n = 8                          ``rl_num_generations``           ``num_generations``
128 prompts per step           ``rl_prompts_per_step``          ``generation_batch_size`` = 128 x 8 = 1024
mini-batch 64 (2 updates)      ``rl_updates_per_step``          ``steps_per_generation`` = 2 x grad_accum
clip 0.2 / 0.28                ``rl_epsilon(_high)``            ``epsilon``, ``epsilon_high``
token-mean loss                ``rl_loss_type``                 ``loss_type="dapo"``
no KL, no entropy bonus        ``rl_beta``                      ``beta=0`` (no reference model), entropy 0
lr 1e-6, 10 warm-up, constant  ``rl_learning_rate/_warmup``     ``constant_with_warmup``, warm-up x updates
AdamW wd 0.01, clip 1.0        (verl actor defaults)            ``weight_decay=0.01``, ``max_grad_norm=1.0``
T 0.6 / top-p 0.95 / top-k 20  ``temperature/top_p/top_k``      same
response 16384, prompt 4096    ``rl_max_completion_length``     ``max_completion_length``; prompts longer
                               ``max_prompt_tokens``            than ``max_prompt_tokens`` are dropped
250 steps, save every 50       ``rl_steps``, ``rl_save_steps``  ``max_steps``/``save_steps`` x updates
vLLM rollout (0.8 GPU mem)     ``rl_use_vllm`` (+ ``_gpu_``..)  ``use_vllm``, ``vllm_mode="colocate"``
=============================  ===============================  ===========================================

**Batch layout.** One paper step generates ``P x G`` completions (128 x 8 = 1024) and makes ``U`` optimiser
updates (2) on mini-batches of ``P x G / U`` completions (512 = 64 prompts x 8). In trl a *micro step* consumes
``per_device_train_batch_size`` completions per process; an optimiser step is ``gradient_accumulation_steps``
micro steps; generation happens every ``steps_per_generation`` micro steps. So, with W processes and a
micro-batch ``m`` (``rl_micro_batch_size``, 0 = the whole per-device mini-batch):
``per_device_train_batch_size = m``, ``gradient_accumulation_steps = PG/(U W m)``,
``steps_per_generation = U x gradient_accumulation_steps`` and trl's ``generation_batch_size`` comes out as
``m W steps_per_generation = P G``. E.g. paper on 8 GPUs with m = 8: 8 x 8 GPUs x 8 accumulation = 512 per
update, 16 micro steps per generation round. trl counts *optimiser* steps, so every step count of the profile
(``rl_steps``, ``rl_warmup_steps``, ``rl_save_steps``, ``rl_eval_steps``, all in paper GRPO steps) is multiplied
by ``U``; the per-step logs returned here are regrouped per GRPO step.

**Loss.** trl's ``dapo`` loss divides the summed per-token loss of each update by the number of completion
tokens of the whole generation batch rescaled to one update (``/ U``): token-mean over a mini-batch, as verl's
``loss_agg_mode=token-mean``, except that the token count is averaged over the ``U`` mini-batches.

**Precision.** On GPU the policy keeps fp32 master weights and trains under bf16 autocast (``bf16=True``) with
gradient checkpointing: pure-bf16 weights would swallow most lr-1e-6 updates. On CPU: fp32, no checkpointing.

**Validation** (:class:`cskit.rl.validation.ExecValidationCallback`): before training and every ``rl_eval_steps`` GRPO steps, greedy
decoding (verl's default ``val_kwargs``: ``do_sample=False``, n = 1) on held-out problems (``rl_val_problems``,
paper: LiveCodeBench), strict extraction (as verl's ``check_correctness``), sandbox grading; the pass rate is
logged as ``val/pass_rate``. Generation uses transformers ``generate`` on the training model even under vLLM.

**Resuming.** Checkpoints go to ``run.models/<out_name>.ckpt/checkpoint-N`` (keeping the last 2); a restart
resumes from the latest one. A finished method writes ``run.models/<out_name>/cskit_rl.json`` (the completion
marker, written last, with the settings it was trained with) and is not retrained; asking for the same
``out_name`` with other settings is an error naming the keys that differ.
"""
from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

from cskit.io import read_json, write_json
from cskit.runinfo import report_to
from cskit.config import Config

DONE_MARKER = "cskit_rl.json"
REWARDS = ("codescaler", "execution", "raw_rm", "untrained_rm")
METHOD_NAMES = {"base": "base model", "codescaler": "CodeScaler RL", "execution": "execution RL",
                "raw_rm": "raw-RM RL", "untrained_rm": "untrained-RM RL"}


# --- batch layout and trl config ---------------------------------------------------------------------


def batch_layout(prompts_per_step: int, num_generations: int, updates_per_step: int, world_size: int = 1,
                 micro_batch_size: int = 0) -> dict[str, int]:
    """trl batch sizes for ``prompts_per_step x num_generations`` completions and ``updates_per_step`` updates
    per generation round (see the module docstring). Raises ValueError when the numbers do not divide."""
    P, G, U, W = int(prompts_per_step), int(num_generations), int(updates_per_step), int(world_size)
    if min(P, G, U, W) < 1 or G < 2:
        raise ValueError(f"need prompts_per_step, updates_per_step, world_size >= 1 and num_generations >= 2 "
                         f"(got P={P}, G={G}, U={U}, W={W})")
    total = P * G
    if total % U:
        raise ValueError(f"{P} prompts x {G} generations = {total} completions do not split into "
                         f"rl_updates_per_step={U} equal mini-batches")
    mini = total // U
    if mini % W:
        raise ValueError(f"a mini-batch of {mini} completions does not split over {W} processes")
    per_dev = mini // W
    m = int(micro_batch_size) or per_dev
    if per_dev % m:
        raise ValueError(f"rl_micro_batch_size={m} does not divide the per-device mini-batch of {per_dev} "
                         "completions")
    accum = per_dev // m
    layout = dict(prompts_per_step=P, num_generations=G, updates_per_step=U, world_size=W,
                  completions_per_step=total, mini_batch_completions=mini, per_device_train_batch_size=m,
                  gradient_accumulation_steps=accum, steps_per_generation=U * accum)
    layout["generation_batch_size"] = m * W * layout["steps_per_generation"]
    assert layout["generation_batch_size"] == total
    return layout


def check_vllm(use_vllm: bool) -> None:
    """Fail early, with a clear message, when vLLM generation is asked for but cannot run."""
    if not use_vllm:
        return
    from trl.import_utils import is_vllm_available

    if not is_vllm_available():
        raise ImportError("rl_use_vllm=true but vLLM is not installed in this environment. Install the GPU extra "
                          "(`pip install 'trl[vllm]'` on a CUDA machine) or set rl_use_vllm=false to generate with "
                          "transformers.")
    import torch

    if not torch.cuda.is_available():
        raise RuntimeError("rl_use_vllm=true needs a CUDA GPU; set rl_use_vllm=false on CPU")


def grpo_kwargs(cfg: Config, output_dir: str | Path, device: str, world_size: int = 1) -> tuple[dict, dict]:
    """The keyword arguments of the ``GRPOConfig`` for a profile (the paper's mapping, module docstring) and the
    batch layout. Builds nothing: ``cskit rl-config`` prints them on any machine."""
    layout = batch_layout(cfg.rl_prompts_per_step, cfg.rl_num_generations, cfg.rl_updates_per_step,
                          world_size, cfg.rl_micro_batch_size)
    U = layout["updates_per_step"]
    gpu = str(device).startswith("cuda")
    eval_every = int(cfg.rl_eval_steps)
    kwargs = dict(
        output_dir=str(output_dir),
        seed=int(cfg.seed), data_seed=int(cfg.seed),
        max_steps=int(cfg.rl_steps) * U,
        per_device_train_batch_size=layout["per_device_train_batch_size"],
        gradient_accumulation_steps=layout["gradient_accumulation_steps"],
        steps_per_generation=layout["steps_per_generation"],
        num_generations=layout["num_generations"],
        num_iterations=1,
        max_completion_length=int(cfg.rl_max_completion_length),
        temperature=float(cfg.temperature), top_p=float(cfg.top_p), top_k=int(cfg.top_k),
        learning_rate=float(cfg.rl_learning_rate),
        lr_scheduler_type="constant_with_warmup", warmup_steps=int(cfg.rl_warmup_steps) * U,
        weight_decay=0.01, max_grad_norm=1.0,
        beta=float(cfg.rl_beta), epsilon=float(cfg.rl_epsilon), epsilon_high=float(cfg.rl_epsilon_high),
        loss_type=str(cfg.rl_loss_type), scale_rewards="group", mask_truncated_completions=False,
        use_vllm=bool(cfg.rl_use_vllm), vllm_mode=str(cfg.rl_vllm_mode),
        vllm_server_host=str(cfg.rl_vllm_server_host), vllm_server_port=int(cfg.rl_vllm_server_port),
        vllm_importance_sampling_correction=bool(cfg.rl_vllm_importance_sampling_correction),
        vllm_gpu_memory_utilization=float(cfg.rl_vllm_gpu_memory_utilization),
        vllm_max_model_length=int(cfg.max_prompt_tokens) + int(cfg.rl_max_completion_length),
        # no checkpointing with frozen lower layers (reentrant checkpointing would drop the top layers' grads)
        bf16=gpu, gradient_checkpointing=gpu and int(cfg.rl_train_layers) <= 0, use_cpu=not gpu,
        model_init_kwargs={"dtype": "float32"},
        report_to=report_to(cfg), logging_steps=1, log_completions=False,
        save_strategy="steps" if int(cfg.rl_save_steps) > 0 else "no",
        save_steps=max(1, int(cfg.rl_save_steps)) * U, save_total_limit=None,   # keep every checkpoint (paper: 50/100/150/...)
        disable_tqdm=not bool(cfg.progress), dataloader_num_workers=0,
    )
    layout["eval_every_optimizer_steps"] = eval_every * U if eval_every > 0 else 0
    return kwargs, layout


def grpo_fields(cfg: Config, output_dir: str | Path, device: str, world_size: int = 1) -> tuple[dict, dict]:
    """Every field of ``GRPOConfig`` as the kit sets it: trl's dataclass defaults overridden by
    :func:`grpo_kwargs` (what ``cskit rl-config`` prints), and the layout."""
    import dataclasses

    from trl import GRPOConfig

    kwargs, layout = grpo_kwargs(cfg, output_dir, device, world_size)
    fields = {}
    for f in dataclasses.fields(GRPOConfig):
        if f.name in kwargs:
            fields[f.name] = kwargs[f.name]
        elif f.default is not dataclasses.MISSING:
            fields[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            fields[f.name] = f.default_factory()  # type: ignore[misc]
    return fields, layout


def grpo_args(cfg: Config, output_dir: str | Path, device: str, world_size: int = 1):
    """The ``GRPOConfig`` for a profile. Returns (args, layout)."""
    from trl import GRPOConfig

    check_vllm(bool(cfg.rl_use_vllm))
    kwargs, layout = grpo_kwargs(cfg, output_dir, device, world_size)
    return GRPOConfig(**kwargs), layout


# --- data --------------------------------------------------------------------------------------------


def build_dataset(problems: Sequence[Any], tokenizer: Any, max_prompt_tokens: int):
    """trl dataset: ``prompt`` (chat messages of :func:`cskit.prompts.policy_messages`), ``problem_id``,
    ``question`` (the RM's question text). Prompts longer than ``max_prompt_tokens`` are dropped (paper:
    ``filter_overlong_prompts``). Returns (dataset, n_dropped)."""
    from datasets import Dataset

    from cskit.prompts import policy_messages, question_text, render_policy_prompt

    rows, dropped = [], []
    for p in problems:
        n_tok = len(tokenizer(render_policy_prompt(tokenizer, p), add_special_tokens=False)["input_ids"])
        if max_prompt_tokens and n_tok > max_prompt_tokens:
            dropped.append(p.id)
            continue
        rows.append({"prompt": policy_messages(p), "problem_id": p.id, "question": question_text(p)})
    if dropped:
        warnings.warn(f"GRPO: dropped {len(dropped)} prompt(s) longer than max_prompt_tokens={max_prompt_tokens} "
                      f"(e.g. {dropped[:3]})")
    if not rows:
        raise ValueError("GRPO: no training prompts left (all dropped or none given)")
    return Dataset.from_list(rows), len(dropped)


def load_train_problems(cfg: Config) -> list:
    from cskit.problems import load_problems

    return load_problems(cfg.train_problems, limit=cfg.max_train_problems, seed=cfg.seed)


def load_val_problems(cfg: Config) -> list:
    from cskit.problems import load_problems

    specs = cfg.rl_val_problems or cfg.eval_problems
    probs = load_problems(specs, limit=cfg.rl_val_max_problems, seed=cfg.seed)
    return [p for p in probs if p.kind != "none" and p.tests]


# --- rewards -------------------------------------------------------------------------------------------


def build_reward(reward: str, cfg: Config, run: Any, problems: Sequence[Any], device: str,
                 rm_path: str | Path | None = None, on_graded: Any = None, probe: Any = None):
    """The reward callable for a method name (see :data:`REWARDS`)."""
    from cskit.rl.rewards import make_reward
    from cskit.sandbox import SandboxLimits

    if reward not in REWARDS:
        raise ValueError(f"unknown reward {reward!r}; expected one of {list(REWARDS)}")
    if reward in ("codescaler", "untrained_rm") and cfg.rl_rm_url:   # one served RM for every trainer rank
        from cskit.serve import connect_remote_reward

        return connect_remote_reward(cfg.rl_rm_url, shaping=cfg.rl_shaping, name=reward)
    rm = None
    if reward in ("codescaler", "raw_rm"):
        from cskit.rm.score import trained_rm_reference

        rm = trained_rm_reference(rm_path or cfg.rm_path, run.models)
    elif reward == "untrained_rm":
        from cskit.models import resolve_model

        rm = str(rm_path) if rm_path else resolve_model(cfg.rm_model, "seqcls")
    limits = SandboxLimits.from_config(cfg)
    return make_reward(reward, problems=problems, rm=rm, shaping=cfg.rl_shaping, limits=limits, on_graded=on_graded,
                       probe=probe if reward != "execution" else None,
                       workers=int(cfg.sandbox_workers),
                       scorer_kwargs=dict(max_length=int(cfg.rm_max_length),
                                          batch_size=int(cfg.rm_score_batch_size), device=device,
                                          seed=int(cfg.seed) if reward == "untrained_rm" else None))


# --- logs ------------------------------------------------------------------------------------------------

_STANDARD = {"reward": "reward_mean", "reward_std": "reward_std", "completions/mean_length": "completion_length",
             "completions/clipped_ratio": "clipped_ratio", "loss": "loss", "learning_rate": "learning_rate",
             "entropy": "entropy", "grad_norm": "grad_norm", "step_time": "step_time",
             "val/pass_rate": "val_pass_rate", "val/valid_rate": "val_valid_rate", "val/n": "val_n",
             "val/passed": "val_passed", "val/pass_rate_ci_low": "val_pass_rate_ci_low",
             "val/pass_rate_ci_high": "val_pass_rate_ci_high"}


def step_logs(log_history: Sequence[Mapping[str, Any]], updates_per_step: int) -> list[dict[str, Any]]:
    """Regroup trl's per-optimiser-step logs into one row per GRPO step (``rl_step`` 0 = before training):
    numbers are averaged within a step; standard names (``reward_mean``, ``valid_rate``, ``raw_mean``,
    ``completion_length``, ``val_pass_rate``, ...) are added beside the original keys."""
    U = max(1, int(updates_per_step))
    groups: dict[int, dict[str, list[float]]] = {}
    for entry in log_history:
        if "step" not in entry or "train_runtime" in entry:
            continue
        r = math.ceil(int(entry["step"]) / U)
        g = groups.setdefault(r, {})
        for k, v in entry.items():
            if k in ("step", "epoch") or isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            g.setdefault(k, []).append(float(v))
    rows = []
    for r in sorted(groups):
        vals = {k: (sum(v) / len(v)) for k, v in groups[r].items() if v}
        row: dict[str, Any] = {"rl_step": r}
        for k, name in _STANDARD.items():
            if k in vals:
                row[name] = vals[k]
        for k, v in vals.items():
            if k.startswith("val/"):
                continue
            for suffix in ("valid_rate", "raw_mean", "raw_std", "raw_min", "raw_max", "pass_rate"):
                if k.endswith("/" + suffix) and not k.startswith("rewards/"):
                    row.setdefault(suffix, v)
        row.update({k: v for k, v in vals.items() if k not in row})
        rows.append(row)
    return rows


# --- training -----------------------------------------------------------------------------------------------


def policy_for_training(policy_path: str, cfg: Config, device: str) -> tuple[Any, int | None]:
    """What ``GRPOTrainer`` gets as its model, and the number of trainable parameters when layers are frozen.

    On GPU with every weight trained: the path itself (trl loads it, as it must under DeepSpeed ZeRO-3).
    Otherwise a float32 model loaded here (trl's own dtype): on CPU with the grouped-KV attention of
    :mod:`cskit.models.cpu_attention` (same numbers, faster sampling), and with only the top ``rl_train_layers`` decoder
    layers + final norm trainable when that is > 0 (the tied embeddings/LM head stay frozen), which cuts the
    backward pass and the optimiser state to those layers."""
    k = int(cfg.rl_train_layers)
    gpu = str(device).startswith("cuda")
    if gpu and k <= 0:
        return policy_path, None
    import torch
    from transformers import AutoModelForCausalLM, set_seed

    from cskit.models.cpu_attention import use_gqa_sdpa
    from cskit.models import freeze_to_top_layers

    set_seed(int(cfg.seed))
    model = AutoModelForCausalLM.from_pretrained(policy_path, dtype=torch.float32)
    if not gpu:
        use_gqa_sdpa(model)
    return model, (freeze_to_top_layers(model, k) if k > 0 else None)


def _world_size() -> int:
    import os

    return int(os.environ.get("WORLD_SIZE", "1"))


def _checkpoint_step(path: str | None) -> int:
    """The optimizer step of a trl checkpoint directory (``checkpoint-N``); 0 without one."""
    if not path:
        return 0
    try:
        return int(Path(path).name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0


def train_grpo(cfg: Config, run: Any, reward: str, out_name: str, init_policy: str | None = None,
               problems: Sequence[Any] | None = None, rm_path: str | Path | None = None,
               val_problems: Sequence[Any] | None = None, on_graded: Any = None) -> dict[str, Any]:
    """Train one GRPO policy with ``reward`` and save it (HF format) to ``run.models/out_name``.

    ``on_graded``: for the execution reward, a picklable callable receiving every graded completion
    (``(rows, global_step)``; stage 01 records the RLVR trajectory with it).

    ``init_policy``: model name/dir (default ``cfg.policy_model``); ``problems``: training problems (default
    ``cfg.train_problems``); ``rm_path``: RM dir for the RM rewards (default ``run.models/'rm'``; for
    ``untrained_rm`` the profile's ``rm_model``); ``val_problems``: validation problems (default from
    ``rl_val_problems``). Returns ``{"method", "reward", "policy_dir", "steps": [per GRPO step rows],
    "layout", "n_train_prompts", "n_dropped_prompts", "train_time_s", "resumed_from"}``; a method whose
    marker exists is not retrained (its saved result is returned with ``"cached": True``).
    """
    from transformers import AutoTokenizer
    from transformers.trainer_utils import get_last_checkpoint

    from cskit.models import pick_device, resolve_model
    from cskit.rl.validation import ExecValidationCallback
    from cskit.sandbox import SandboxLimits

    out_dir = Path(run.models) / out_name
    marker = out_dir / DONE_MARKER
    fingerprint = train_fingerprint(cfg, reward, init_policy, rm_path)
    if marker.exists():
        done = read_json(marker)
        diff = sorted(k for k in set(fingerprint) | set(done.get("fingerprint", {}))
                      if fingerprint.get(k) != done.get("fingerprint", {}).get(k))
        if diff:
            raise ValueError(f"{out_dir} was trained with other settings ({', '.join(diff)} differ); use another "
                             "run directory or out_name, or delete that directory (and its .ckpt) to retrain")
        return {**done, "cached": True}

    device = pick_device(cfg.device)
    problems = list(problems) if problems is not None else load_train_problems(cfg)
    val_problems = list(val_problems) if val_problems is not None else load_val_problems(cfg)
    policy_path = resolve_model(init_policy or cfg.policy_model, "causal")
    probe = None
    if reward != "execution" and float(cfg.rl_probe_share) > 0:   # reward-hacking probes (cskit.rl.probes)
        from cskit.rl.probes import ShadowProbe

        probe = ShadowProbe({p.id: p for p in problems if p.has_tests}, Path(run.data) / "probes" / f"{out_name}.jsonl",
                            share=float(cfg.rl_probe_share), limits=SandboxLimits.from_config(cfg),
                            updates_per_step=int(cfg.rl_updates_per_step), seed=int(cfg.seed))
    reward_fn = build_reward(reward, cfg, run, problems, device, rm_path, on_graded=on_graded, probe=probe)

    tok = AutoTokenizer.from_pretrained(policy_path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"
    dataset, n_dropped = build_dataset(problems, tok, int(cfg.max_prompt_tokens))

    ckpt_dir = Path(run.models) / f"{out_name}.ckpt"
    args, layout = grpo_args(cfg, ckpt_dir, device, _world_size())
    limits = SandboxLimits.from_config(cfg)
    callback = ExecValidationCallback(val_problems, tok, layout["eval_every_optimizer_steps"],
                                      int(cfg.rl_max_completion_length), limits, int(cfg.sandbox_workers),
                                      int(cfg.gen_batch_size))
    from trl import GRPOTrainer

    model, trainable = policy_for_training(policy_path, cfg, device)
    if not isinstance(model, str):
        args.model_init_kwargs = None  # the model is already loaded (in trl's float32)
    trainer = GRPOTrainer(model=model, reward_funcs=[reward_fn], args=args, train_dataset=dataset,
                          processing_class=tok, callbacks=[callback])
    last = get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None
    for hook in (on_graded, probe):
        if hook is not None and hasattr(hook, "resume_from"):
            hook.resume_from(_checkpoint_step(last))   # drop what the resumed steps will generate again
    t0 = time.perf_counter()
    trainer.train(resume_from_checkpoint=last)
    if probe is not None:
        probe.close()
    train_time = time.perf_counter() - t0
    trainer.save_model(str(out_dir))
    tok.save_pretrained(str(out_dir))
    result = {"method": out_name, "reward": reward, "policy_dir": str(out_dir), "init_policy": policy_path,
              "shaping": cfg.rl_shaping if reward in ("codescaler", "untrained_rm") else None,
              "steps": step_logs(trainer.state.log_history, layout["updates_per_step"]),
              "log_history": list(trainer.state.log_history), "layout": layout,
              "n_train_prompts": len(dataset), "n_dropped_prompts": n_dropped, "n_val_problems": len(val_problems),
              "trainable_params": trainable,
              "train_time_s": round(train_time, 2), "resumed_from": Path(last).name if last else None,
              "device": device, "fingerprint": fingerprint}
    if probe is not None:
        from cskit.rl.probes import probe_summary, read_probes

        rows = read_probes(probe.out_path)
        result["probes"] = [{k: v for k, v in r.items() if k != "samples"} for r in rows]   # samples stay in the log
        result["probes_pooled"] = probe_summary(rows, seed=int(cfg.seed))
        result["probe_share"] = float(cfg.rl_probe_share)
    if trainer.accelerator.is_main_process:
        write_json(marker, result)
    del trainer
    from cskit.models import free_memory

    free_memory()
    return result


_FINGERPRINT_KEYS = ("seed", "policy_model", "rm_model", "train_problems", "max_train_problems", "temperature",
                     "top_p", "top_k", "max_prompt_tokens", "rm_max_length", "test_timeout", "memory_mb")


# rl_* keys that do not change what a GRPO run computes: which runs to make, where generation or the RM is
# served, and the probes (which only observe)
_NOT_FINGERPRINTED = ("rl_baselines", "rl_reward", "rl_rm_url", "rl_vllm_mode", "rl_vllm_server_host",
                      "rl_vllm_server_port", "rl_probe_share")


def train_fingerprint(cfg: Config, reward: str, init_policy: str | None = None,
                      rm_path: str | Path | None = None) -> dict[str, Any]:
    """The settings a finished GRPO run depends on (every ``rl_*`` key and the few others it reads)."""
    fp = {k: getattr(cfg, k) for k in sorted(cfg.keys()) if k.startswith("rl_") and k not in _NOT_FINGERPRINTED}
    fp.update({k: getattr(cfg, k) for k in _FINGERPRINT_KEYS if k in cfg})
    fp.update(reward=reward, init_policy=str(init_policy) if init_policy else None,
              rm_path=str(rm_path or cfg.rm_path) if (rm_path or cfg.rm_path) else None)
    return fp




# --- stage 04 ----------------------------------------------------------------------------------------------


def rl_methods(cfg: Config) -> list[str]:
    """The main reward (``rl_reward``, paper: codescaler) followed by each baseline of ``rl_baselines``."""
    out = [cfg.rl_reward]
    for b in str(cfg.rl_baselines).split(","):
        b = b.strip()
        if not b:
            continue
        if b not in REWARDS:
            raise ValueError(f"rl_baselines: unknown method {b!r}; expected some of {list(REWARDS)}")
        if b not in out:
            out.append(b)
    return out


def run_rl(cfg: Config, run: Any) -> dict[str, Any]:
    """Stage 04: GRPO with the CodeScaler reward and each baseline from the same initial policy, problems and
    seed; then avg@k of the base model and every trained policy on the eval benchmarks (cached per method in
    ``results/04_rl_eval/<method>.json``). Writes ``results/04_rl.json`` and the figures ``04_rl_*.png``
    (:mod:`cskit.rl.plots`); :func:`steps_frame` and :func:`eval_frame` give the tables."""
    from cskit.rl.evaluate import evaluate_policy, load_benchmarks, results_table
    from cskit.runinfo import write_stage_results

    problems = load_train_problems(cfg)
    val_problems = load_val_problems(cfg)
    methods = rl_methods(cfg)
    training: dict[str, dict] = {}
    for m in methods:
        training[m] = train_grpo(cfg, run, m, f"policy-{m}", problems=problems, val_problems=val_problems)

    benchmarks = load_benchmarks(cfg)
    eval_dir = Path(run.results) / "04_rl_eval"
    evals: dict[str, dict] = {}
    eval_keys = ("eval_problems", "max_eval_problems", "eval_k", "eval_max_new_tokens", "temperature", "top_p",
                 "top_k", "seed", "test_timeout", "memory_mb", "gen_backend")
    for label, model in [("base", cfg.policy_model)] + [(m, training[m]["policy_dir"]) for m in methods]:
        path = eval_dir / f"{label}.json"
        # reuse a finished evaluation only for the same model (and training run) and the same eval settings
        key = {"model": str(model), "trained": training.get(label, {}).get("train_time_s"),
               **{k: getattr(cfg, k) for k in eval_keys}}
        if path.exists() and read_json(path).get("cache_key") == key:
            evals[label] = read_json(path)
            continue
        evals[label] = {**evaluate_policy(model, benchmarks, cfg.eval_k, None, cfg), "cache_key": key}
        write_json(path, evals[label])
    table = results_table(evals)
    from cskit.rl.evaluate import compare_methods, pooled_avg

    # the paper's comparisons, paired on the same problems (avg@k per problem)
    comparisons = compare_methods(evals, (("codescaler", "execution"), ("codescaler", "base"), ("execution", "base")),
                                  METHOD_NAMES, seed=int(cfg.seed))
    metrics = {
        "methods": methods,
        "n_train_problems": len(problems), "n_val_problems": len(val_problems),
        "benchmarks": {k: len(v) for k, v in benchmarks.items()},
        "training": {m: {k: v for k, v in training[m].items() if k != "log_history"} for m in methods},
        "eval": {m: {k: v for k, v in e.items() if k not in ("per_problem", "cache_key")} for m, e in evals.items()},
        "table": table, "comparisons": comparisons,
        # avg@k over every evaluated problem, with n and a bootstrap interval over problems
        "pooled": pooled_avg(evals),
        "metric": f"avg@{cfg.eval_k}",
    }
    from cskit.rl.plots import save_figures

    save_figures(metrics, run)
    write_stage_results(run, "04_rl", cfg, metrics)
    return metrics


STEP_COLUMNS = ("reward_mean", "reward_std", "valid_rate", "raw_mean", "pass_rate", "completion_length",
                "clipped_ratio", "val_pass_rate", "val_n", "val_pass_rate_ci_low", "val_pass_rate_ci_high", "loss",
                "learning_rate", "step_time")


def steps_frame(metrics: Mapping[str, Any]):
    """Per-GRPO-step logs of every method as one long pandas table (method, rl_step, standard columns)."""
    import pandas as pd

    rows = [{"method": m, "rl_step": r["rl_step"], **{c: r.get(c) for c in STEP_COLUMNS}}
            for m, t in metrics["training"].items() for r in t["steps"]]
    df = pd.DataFrame(rows)
    return df.dropna(axis=1, how="all")


def eval_frame(metrics: Mapping[str, Any]):
    """The paper-shaped evaluation table (rows = methods incl. ``base``, columns = benchmarks + Average, %)."""
    import pandas as pd

    return pd.DataFrame.from_dict(metrics["table"], orient="index")
