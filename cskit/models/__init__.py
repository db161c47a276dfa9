"""Models: loading policies and reward models (hub ids, local dirs, tiny models built in code), the offline
demo asset (SmolLM2-135M converted from its GGUF), generation backends (transformers everywhere, vLLM on GPU)
and the grouped-KV SDPA attention used on CPU.

Importing this package does not import torch; the functions do, when called.
"""
from cskit.models.assets import AssetError, assets_dir, cache_dir, prepare_assets
from cskit.models.cpu_attention import restore_attention, use_gqa_sdpa
from cskit.models.generate import Generation, SamplingParams, make_generator
from cskit.models.loading import (CHATML_TEMPLATE, DEMO_MODEL, TINY_MODELS, build_tiny_model, build_tiny_tokenizer,
                                  ensure_pad_token, free_memory, freeze_to_top_layers, load_policy, load_reward_model,
                                  pick_device, pick_dtype, resolve_model)

__all__ = ["AssetError", "assets_dir", "cache_dir", "prepare_assets", "restore_attention", "use_gqa_sdpa",
           "Generation", "SamplingParams", "make_generator", "CHATML_TEMPLATE", "DEMO_MODEL", "TINY_MODELS",
           "build_tiny_model", "build_tiny_tokenizer", "ensure_pad_token", "free_memory", "freeze_to_top_layers",
           "load_policy", "load_reward_model", "pick_device", "pick_dtype", "resolve_model"]
