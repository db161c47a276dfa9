"""Profiles, parameters and run directories.

A profile is one flat YAML file in ``params/`` (``smoke``, ``demo``, ``paper-qwen3-8b``, ...).
Every key is declared once in ``SCHEMA`` below with its type, default and meaning; a profile or an
override naming an unknown key, or giving a value of the wrong type, is an error that names the
file, line and key (with a "did you mean" hint). Overrides come from papermill (``overrides`` dict),
the CLI (``-p key=value``) or Python keyword arguments, and always win over the profile.

This module must not import torch: it is imported by the CLI and the sandbox tools.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from types import MappingProxyType
from pathlib import Path
from typing import Any, Mapping

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
PARAMS_DIR = Path(os.environ.get("CSKIT_PARAMS_DIR", REPO_ROOT / "params"))
OUTPUTS_DIR = Path(os.environ.get("CSKIT_OUTPUTS_DIR", REPO_ROOT / "outputs"))


class ConfigError(ValueError):
    """A profile or override is invalid; the message says where and what was expected."""


@dataclass(frozen=True)
class Param:
    type: type | tuple[type, ...]
    default: Any
    help: str
    choices: tuple | None = None


_num = (int, float)
_optstr = (str, type(None))

# One table for every stage. Keys are flat; the prefix names the stage that reads them.
SCHEMA: dict[str, Param] = {
    # --- run -----------------------------------------------------------------------------------
    "profile": Param(str, "smoke", "profile name (informational; set by load_config)"),
    "description": Param(str, "", "one line saying what this profile is for"),
    "seed": Param(int, 0, "global seed (sampling, splits, training)"),
    "device": Param(str, "auto", "'auto' (cuda if available), 'cpu' or 'cuda'", ("auto", "cpu", "cuda")),
    "progress": Param(bool, True, "show progress bars"),
    # --- models --------------------------------------------------------------------------------
    "policy_model": Param(str, "tiny-qwen3", "policy: 'tiny-qwen3', 'tiny-llama', 'smollm2-135m', a hub id or a local dir"),
    "rm_model": Param(str, "tiny-qwen3", "reward-model init (sequence classification, num_labels=1): same forms as policy_model"),
    "offpolicy_model": Param(str, "", "second policy for off-policy pairs (ablation); '' = none"),
    "dtype": Param(str, "auto", "'auto' (bf16 on GPU, fp32 on CPU), 'float32', 'bfloat16'", ("auto", "float32", "bfloat16", "float16")),
    # --- problems --------------------------------------------------------------------------------
    "train_problems": Param(str, "bundled:train", "comma list of problem sources for rollouts/RL (see cskit.problems.sources)"),
    "eval_problems": Param(str, "bundled:val", "comma list of problem sources for evaluation and Best-of-N"),
    "max_train_problems": Param(int, 0, "cap on training problems (0 = all)"),
    "max_eval_problems": Param(int, 0, "cap on evaluation problems (0 = all)"),
    # --- generation ------------------------------------------------------------------------------
    "gen_backend": Param(str, "transformers", "'transformers' (everywhere) or 'vllm' (GPU, optional extra)", ("transformers", "vllm")),
    "gen_batch_size": Param(int, 16, "sequences generated per forward batch"),
    "temperature": Param(_num, 0.6, "sampling temperature (paper: 0.6)"),
    "top_p": Param(_num, 0.95, "nucleus sampling (paper: 0.95)"),
    "top_k": Param(int, 20, "top-k sampling (paper: 20)"),
    "max_new_tokens": Param(int, 512, "max response tokens (paper: 16384)"),
    "gen_stop_after_code_block": Param(bool, False, "end a sample at its first closed ``` block (CPU time saver; changes multi-block behaviour, keep off for paper runs)"),
    "max_prompt_tokens": Param(int, 1024, "prompts longer than this are dropped with a warning (paper: 4096)"),
    # --- sandbox --------------------------------------------------------------------------------
    "sandbox_workers": Param(int, 0, "grading processes (0 = number of cores)"),
    "sandbox_backend": Param(str, "local", "where sandbox jobs run: 'local' (this machine's cores) or 'ray' (Ray tasks "
                             "on any node of a Ray cluster, the same sandbox on each)", ("local", "ray")),
    "sandbox_ray_address": Param(str, "", "Ray cluster for sandbox_backend=ray ('' = $RAY_ADDRESS, else a local Ray)"),
    "sandbox_ray_resource": Param(str, "", "custom Ray resource grading tasks need (e.g. 'sandbox' on CPU nodes); '' = any CPU"),
    "test_timeout": Param(_num, 2.0, "seconds per test case (paper: 2 s, LCB runner)"),
    "memory_mb": Param(int, 1024, "address-space cap per program (paper: 1 GiB)"),
    # --- rollouts (01) ---------------------------------------------------------------------------
    "rollout_source": Param(str, "sample", "where stage 01's rollouts come from: 'rlvr' = GRPO of the policy with the "
                            "binary execution reward, every completion of every step recorded (the paper; that policy "
                            "is stage 04's execution baseline); 'sample' = one-shot sampling of the fixed policy; "
                            "'file:PATH' = a JSONL log of another trainer (problem_id, completion[, step, passed])"),
    "rollout_n": Param(int, 8, "samples per problem (paper: n = 8)"),
    # --- pairs (02) --------------------------------------------------------------------------------
    "pairs_max_per_problem": Param(int, 16, "cap on pairs per problem (0 = no cap)"),
    "pairs_max_per_step": Param(int, 0, "cap on pairs per problem and GRPO step of the positive (rlvr rollouts; 0 = no cap)"),
    "pairs_hard_negatives": Param(bool, True, "prefer negatives with the highest pass fraction"),
    "pairs_dedup": Param(bool, True, "drop pairs whose codes are identical after whitespace normalisation"),
    "pairs_reference_positives": Param(bool, True, "use reference solutions as positives when the policy has none"),
    "pairs_unaligned_fraction": Param(_num, 0.0, "extra pairs whose negative comes from another problem, as a fraction of on-policy pairs"),
    "pairs_curated": Param(bool, False, "add pairs of reference vs known-wrong solutions shipped with the problems (bundled set)"),
    "pairs_offpolicy": Param(bool, False, "add pairs from offpolicy_model's samples (ablation)"),
    "pairs_val_fraction": Param(_num, 0.2, "fraction of problems held out for validation (split by problem)"),
    # --- reward model (03) ------------------------------------------------------------------------
    "rm_input_format": Param(str, "authors", "RM input: 'authors' = chat template over [user: question, assistant: "
                             "code], add_special_tokens=False, nothing appended (the authors' verl RM worker; what "
                             "LARK-Lab/CodeScaler-* and Skywork-Reward-V2 expect); 'chat_eos' = the same + EOS (the "
                             "kit's earlier format). Recorded in the trained RM dir (cskit_rm_input.json)",
                             ("authors", "chat_eos")),
    "rm_pairs": Param(str, "run", "RM training pairs: 'run' = this run's stage-02 pairs; "
                      "'hub:LARK-Lab/CodeScalerPair-51K[:split]' = the authors' 51K pairs (MIT; needs the hub or its "
                      "cache); 'parquet:PATH' / 'jsonl:PATH' / a path with columns question_content, code_pos, "
                      "code_neg (split by question with pairs_val_fraction and seed)"),
    "rm_path": Param(str, "", "the RM stages 04-06 use: '' = this run's models/rm (stage 03), or a local directory or "
                     "a hub id such as LARK-Lab/CodeScaler-8B (the published RMs; scored in the authors' input format)"),
    "rm_max_length": Param(int, 1024, "RM max tokens; longer inputs are right-truncated and counted (paper: 4096)"),
    "rm_learning_rate": Param(_num, 1e-5, "RM learning rate (paper: not released)"),
    "rm_epochs": Param(_num, 1.0, "RM epochs"),
    "rm_max_steps": Param(int, -1, "RM optimiser steps (-1 = from epochs)"),
    "rm_batch_size": Param(int, 8, "pairs per device step"),
    "rm_grad_accum": Param(int, 1, "gradient accumulation steps"),
    "rm_lora": Param(bool, False, "train a LoRA adapter (+ the score head) instead of all weights"),
    "rm_lora_r": Param(int, 16, "LoRA rank"),
    "rm_center_rewards": Param(_num, 0.0, "trl center_rewards_coefficient (0 = off; 0.01 recommended by trl)"),
    "rm_score_batch_size": Param(int, 16, "sequences per RM forward pass when scoring"),
    "rm_train_layers": Param(int, 0, "train only the top N decoder layers + head (0 = all weights; CPU demos)"),
    "rm_eval_max_rollouts": Param(int, 0, "rollouts scored for calibration/score histograms (0 = all; seeded sample)"),
    "rm_eval_train_pairs": Param(int, 64, "training pairs re-scored after training for train accuracy (0 = all; seeded sample)"),
    "rmbench_humaneval_problems": Param(int, 0, "offline RM-Bench-like code eval from HumanEval: problems (0 = skip)"),
    "rmbench_path": Param(str, "", "local RM-Bench JSON/JSONL (empty = hub 'THU-KEG/RM-Bench' when online, else skipped)"),
    # --- RL (04) ---------------------------------------------------------------------------------
    "rl_steps": Param(int, 250, "GRPO steps = generation rounds of rl_prompts_per_step prompts (paper: 250); trl max_steps = rl_steps x rl_updates_per_step"),
    "rl_prompts_per_step": Param(int, 128, "prompts per generation round (paper: 128)"),
    "rl_num_generations": Param(int, 8, "group size (paper: 8)"),
    "rl_updates_per_step": Param(int, 2, "optimiser updates per generation round (paper: 2 = mini-batch 64)"),
    "rl_learning_rate": Param(_num, 1e-6, "policy learning rate (paper: 1e-6)"),
    "rl_warmup_steps": Param(int, 10, "lr warm-up, in GRPO steps (paper: 10; constant lr afterwards, verl default)"),
    "rl_epsilon": Param(_num, 0.2, "PPO clip low (paper: 0.2)"),
    "rl_epsilon_high": Param(_num, 0.28, "PPO clip high, DAPO clip-higher (paper: 0.28)"),
    "rl_loss_type": Param(str, "dapo", "trl loss_type; 'dapo' = token-mean (paper)"),
    "rl_beta": Param(_num, 0.0, "KL coefficient (paper: 0, no KL)"),
    "rl_max_completion_length": Param(int, 512, "max response tokens in RL (paper: 16384)"),
    "rl_reward": Param(str, "codescaler", "reward for the main RL run: 'codescaler', 'execution', 'raw_rm'", ("codescaler", "execution", "raw_rm")),
    "rl_shaping": Param(str, "softplus", "shaping of RM scores: 'softplus', 'raw', 'sigmoid', 'softplus_nogate'"),
    "rl_use_vllm": Param(bool, False, "generate with vLLM inside trl (GPU only)"),
    "rl_save_steps": Param(int, 50, "checkpoint every N GRPO steps (paper: 50)"),
    "rl_eval_steps": Param(int, 10, "execution-based validation every N GRPO steps and before training (paper: 10); 0 = off"),
    "rl_baselines": Param(str, "execution", "comma list of extra RL runs from the same init: 'execution', 'raw_rm', 'untrained_rm'"),
    "rl_train_layers": Param(int, 0, "train only the top N decoder layers + final norm of the policy (0 = all weights, paper; CPU demos)"),
    "rl_micro_batch_size": Param(int, 0, "completions per device forward/backward; 0 = a whole mini-batch per device (no grad accumulation)"),
    "rl_vllm_gpu_memory_utilization": Param(_num, 0.3, "vLLM GPU memory share when rl_use_vllm (trl colocate; paper/verl: 0.8 with FSDP offload)"),
    "rl_val_problems": Param(str, "", "problem sources for in-training execution validation ('' = eval_problems; paper: LCB lcbv5 test)"),
    "rl_val_max_problems": Param(int, 16, "cap on validation problems (0 = all)"),
    "rl_probe_share": Param(_num, 0.0, "reward-hacking probes: share of each step's RM-rewarded completions executed in "
                            "the sandbox in the background (0 = off; cskit.rl.probes)"),
    "rl_rm_url": Param(str, "", "base URL of `cskit serve-rm` for the codescaler/untrained_rm rewards ('' = the RM "
                       "in every trainer process); the token from $CSKIT_RM_TOKEN"),
    "rl_vllm_mode": Param(str, "colocate", "trl's vLLM mode: 'colocate' (in the trainer's processes) or 'server' "
                          "(a separate `trl vllm-serve` on its own GPUs)", ("colocate", "server")),
    "rl_vllm_server_host": Param(str, "127.0.0.1", "host of `trl vllm-serve` when rl_vllm_mode=server"),
    "rl_vllm_server_port": Param(int, 8000, "port of `trl vllm-serve` when rl_vllm_mode=server"),
    "rl_vllm_importance_sampling_correction": Param(bool, False, "trl's vLLM importance-sampling correction "
                                                   "(off: the authors' verl recipe has no such step)"),
    "report_to": Param(str, "none", "loggers for RM training and GRPO, passed to trl: 'none', 'tensorboard', "
                       "'trackio', 'wandb' (set WANDB_MODE=offline without network), or a comma list"),
    # --- execution-free scaling -------------------------------------------------------------------------
    "scaling_enabled": Param(bool, False, "run the execution-free scaling experiment at the end of stage 04 (cskit.rl.scaling)"),
    "scaling_methods": Param(str, "verified,testfree,weak_tests,untrained_rm", "comma list of scaling rows: 'verified', 'testfree', 'weak_tests', 'untrained_rm'"),
    "scaling_testfree_problems": Param(str, "", "sources of the test-free pool added to train_problems (their tests, if any, are hidden); overlaps with train/val/eval are dropped"),
    "scaling_testfree_max": Param(int, 0, "cap on the test-free (and weak-test) pool (0 = all; seeded subsample)"),
    "scaling_weak_problems": Param(str, "", "sources of the weak-test pool for execution RL ('' = the test-free pool's problems with their tests)"),
    "scaling_weak_tests_keep": Param(int, 1, "tests kept per weak-test problem (a HumanEval check: assert statements); 0 = all, as they come"),
    "scaling_rl_steps": Param(int, 0, "GRPO steps of each scaling run (0 = rl_steps)"),
    "scaling_prompts_per_step": Param(int, 0, "prompts per GRPO step in scaling runs (0 = rl_prompts_per_step)"),
    "scaling_max_completion_length": Param(int, 0, "max response tokens in scaling runs (0 = rl_max_completion_length)"),
    "scaling_rl_eval_steps": Param(int, -1, "in-training validation every N steps in scaling runs (-1 = rl_eval_steps, 0 = off)"),
    "scaling_max_eval_problems": Param(int, 0, "cap per benchmark when evaluating the scaling rows (0 = max_eval_problems)"),
    # --- evaluation -------------------------------------------------------------------------------
    "eval_k": Param(int, 8, "samples per problem for avg@k / pass@k (paper: avg@8)"),
    "eval_max_new_tokens": Param(int, 512, "max tokens when evaluating (paper: 16384)"),
    "eval_max_total_tokens": Param(int, 0, "cap on prompt + response tokens per evaluation sample (0 = none; the "
                                   "authors' eval.py: vLLM max_model_len 16384)"),
    "eval_top_k": Param(int, -1, "top-k when evaluating; -1 = the profile's top_k, 0 = off (the authors' eval.py: off)"),
    "eval_fixed_test_timeout": Param(bool, False, "evaluate every problem with test_timeout per test, ignoring a row's "
                                     "own time limit (the authors grade CURE rows with a fixed 2 s)"),
    # --- Best-of-N (05) ----------------------------------------------------------------------------
    "bon_problems": Param(str, "", "problem specs for Best-of-N ('' = eval_problems)"),
    "bon_max_problems": Param(int, 0, "cap on Best-of-N problems (0 = max_eval_problems)"),
    "bon_n_values": Param(str, "1,2,4,8", "comma list of N to evaluate (candidates sampled once at max N)"),
    "bon_num_tests": Param(int, 4, "unit tests the policy writes per problem for the CURE-style selector (CURE: 16)"),
    "bon_vote_inputs": Param(int, 4, "generated inputs used by the majority-vote selector"),
    # --- ablations / report (06, 07) ------------------------------------------------------------------
    "ablations": Param(str, "extraction,shaping,pair_source,data_scale,rm_size,rl", "which ablations stage 06 runs"),
    "ablation_data_fractions": Param(str, "0.25,0.5,1.0", "fractions of pairs for the data-scale ablation"),
    "ablation_rl_steps": Param(int, 4, "GRPO steps for each RL ablation run"),
    "ablation_max_rollouts": Param(int, 48, "rollouts scored for the extraction/shaping ablations (0 = all; seeded sample)"),
    "ablation_rm_model": Param(str, "auto", "backbone of the pair-source / data-scale RMs ('auto' = rm_model on GPU, ablation_small_rm on CPU; the tables name the backbone and flag a substitution)"),
    "ablation_rm_pairs": Param(int, 64, "training pairs per pair-source / data-scale RM (the 100% pool; 0 = all)"),
    "ablation_rm_epochs": Param(_num, 1.0, "epochs of each small RM"),
    "ablation_rm_max_length": Param(int, 512, "token cap of the small RMs (capped by rm_max_length)"),
    "ablation_val_pairs": Param(int, 24, "held-out pairs every small RM is scored on (0 = all)"),
    "ablation_small_rm": Param(str, "tiny-qwen3", "the small backbone of the RM-size ablation"),
    "ablation_size_pairs": Param(int, 16, "training pairs of both RM-size runs"),
    "ablation_rl_variants": Param(str, "softplus,raw_rm", "RL ablation runs: shapings of the CodeScaler reward and/or raw_rm"),
    "ablation_rl_prompts_per_step": Param(int, 1, "prompts per GRPO step in RL ablations (0 = rl_prompts_per_step)"),
    "ablation_rl_max_completion_length": Param(int, 64, "response tokens in RL ablations (0 = rl_max_completion_length)"),
    "ablation_rl_val_problems": Param(int, 0, "execution validation problems per RL ablation step (0 = off)"),
    "ablation_keep_models": Param(bool, False, "keep the small RMs / RL policies after evaluation"),
}


def _type_name(t) -> str:
    if isinstance(t, tuple):
        return " or ".join(x.__name__ if x is not type(None) else "null" for x in t)
    return t.__name__


def check_rollout_source(value: str, where: str) -> str:
    if value in ("rlvr", "sample") or (value.startswith("file:") and len(value) > 5):
        return value
    raise ConfigError(f"{where}: key 'rollout_source' must be 'rlvr', 'sample' or 'file:PATH', got {value!r}")


def _check_value(key: str, value: Any, where: str) -> Any:
    p = SCHEMA[key]
    types = p.type if isinstance(p.type, tuple) else (p.type,)
    # bool is an int subclass: never accept it for a numeric key, and never a number for a bool key
    if isinstance(value, bool) and bool not in types:
        raise ConfigError(f"{where}: key '{key}' expects {_type_name(p.type)}, got a boolean ({value!r})")
    if not isinstance(value, types):
        raise ConfigError(f"{where}: key '{key}' expects {_type_name(p.type)}, got {type(value).__name__} ({value!r})")
    if p.choices and value not in p.choices:
        raise ConfigError(f"{where}: key '{key}' must be one of {list(p.choices)}, got {value!r}")
    if key == "rollout_source":
        check_rollout_source(value, where)
    return value


def _unknown(key: str, where: str) -> ConfigError:
    close = difflib.get_close_matches(key, SCHEMA.keys(), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ConfigError(f"{where}: unknown key '{key}'{hint}. Known keys are listed in cskit/config.py SCHEMA "
                       "or by `cskit params`.")


def profile_path(profile: str) -> Path:
    p = Path(profile)
    if p.suffix in (".yaml", ".yml") and p.exists():
        return p
    cand = PARAMS_DIR / f"{profile}.yaml"
    if not cand.exists():
        avail = sorted(x.stem for x in PARAMS_DIR.glob("*.yaml"))
        raise ConfigError(f"no profile '{profile}' in {PARAMS_DIR} (available: {', '.join(avail)})")
    return cand


def read_profile(path: str | Path) -> dict[str, Any]:
    """Parse a flat YAML profile, checking each key with its line number."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: invalid YAML ({getattr(e, 'problem', e)})") from None
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(f"{path}:1: a profile must be a flat mapping of key: value")
    out: dict[str, Any] = {}
    for knode, vnode in root.value:
        key = knode.value
        where = f"{path}:{knode.start_mark.line + 1}"
        if key in out:
            raise ConfigError(f"{where}: key '{key}' given twice")
        if key not in SCHEMA:
            raise _unknown(key, where)
        if not isinstance(vnode, yaml.ScalarNode):
            raise ConfigError(f"{where}: key '{key}' must be a scalar (profiles are flat)")
        value = yaml.safe_load(yaml.serialize(vnode))
        out[key] = _check_value(key, value, where)
    return out


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key=value`` from the CLI; the value is read as YAML (so 4 -> int, true -> bool)."""
    if "=" not in text:
        raise ConfigError(f"override {text!r}: expected key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if key in SCHEMA and SCHEMA[key].type is str and not isinstance(value, str):
        value = raw  # e.g. -p policy_model=123abc stays a string
    return key, value


class Config:
    """Resolved, validated parameters: immutable, read by attribute (``cfg.n_samples``).

    Built once by :func:`load_config`; :meth:`replace` returns a validated copy with some keys changed
    (``cfg.replace(rl_steps=2)``); :meth:`to_dict` gives a plain dict (manifests, JSON). Picklable.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]):
        object.__setattr__(self, "_values", MappingProxyType(dict(values)))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no parameter '{name}'") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Config is immutable: use cfg.replace({name}=...)")

    def __reduce__(self):
        return (Config, (dict(self._values),))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and dict(self._values) == dict(other._values)

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, repr(v)) for k, v in self._values.items())))

    def __repr__(self) -> str:
        return f"Config(profile={self._values.get('profile')!r}, {len(self._values)} keys)"

    def __contains__(self, key: str) -> bool:
        return key in self._values

    def keys(self):
        return self._values.keys()

    def to_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def replace(self, **changes: Any) -> "Config":
        """A copy with ``changes`` applied, each validated like an override."""
        values = dict(self._values)
        for key, value in changes.items():
            if key not in SCHEMA:
                raise _unknown(key, "replace")
            values[key] = _check_value(key, _coerce(key, value), f"replace {key}={value!r}")
        return Config(values)

    def list(self, key: str, cast=str) -> list:
        """Split a comma-list parameter: ``cfg.list('bon_n_values', int)``."""
        return [cast(x.strip()) for x in str(self._values[key]).split(",") if x.strip()]

    @classmethod
    def defaults(cls) -> "Config":
        """Every key at its schema default (no profile)."""
        return cls({**{k: p.default for k, p in SCHEMA.items()}, "profile": "defaults"})


def load_config(profile: str = "smoke", overrides: Mapping[str, Any] | None = None, **kw: Any) -> Config:
    """Defaults <- profile YAML <- overrides (papermill/CLI) <- keyword arguments, all validated."""
    path = profile_path(profile)
    values = {k: p.default for k, p in SCHEMA.items()}
    values.update(read_profile(path))
    values["profile"] = Path(profile).stem if str(profile).endswith((".yaml", ".yml")) else profile
    for source, mapping in (("override", overrides or {}), ("argument", kw)):
        for key, value in mapping.items():
            if key not in SCHEMA:
                raise _unknown(key, source)
            values[key] = _check_value(key, _coerce(key, value), f"{source} {key}={value!r}")
    return Config(values)


def _coerce(key: str, value: Any) -> Any:
    """Accept obvious spellings from string-typed channels (``-p rl_steps=4`` arrives as int already)."""
    want = SCHEMA[key].type
    if isinstance(value, str) and want in (int, _num, bool):
        try:
            v = yaml.safe_load(value)
        except yaml.YAMLError:
            return value
        return v
    return value


def describe_params() -> str:
    """A table of every key, its default and meaning (``cskit params``)."""
    rows = [f"{k:<28} {_type_name(p.type):<14} {p.default!r:<22} {p.help}" for k, p in SCHEMA.items()]
    return "\n".join(rows)


# --- run directories --------------------------------------------------------------------------------

RUN_SUBDIRS = ("data", "models", "results", "figures", "notebooks", "html")


@dataclass
class Run:
    """Paths inside ``outputs/<run>/``; every stage reads and writes only here."""

    root: Path

    def __post_init__(self):
        self.root = Path(self.root)

    def ensure(self) -> "Run":
        for d in RUN_SUBDIRS:
            (self.root / d).mkdir(parents=True, exist_ok=True)
        return self

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    data = property(lambda self: self.root / "data")
    models = property(lambda self: self.root / "models")
    results = property(lambda self: self.root / "results")
    figures = property(lambda self: self.root / "figures")


def open_run(run_dir: str | Path | None = None, profile: str = "smoke") -> Run:
    """The run directory: an explicit path, else ``outputs/<profile>-dev`` for interactive use."""
    root = Path(run_dir) if run_dir else OUTPUTS_DIR / f"{profile}-dev"
    return Run(root).ensure()
