"""Grouped-query attention on CPU without copying the KV cache (a generation speed-up, same numbers).

transformers' ``sdpa`` attention repeats the key/value heads of a grouped-query-attention model (SmolLM2,
Qwen3, Llama 3: fewer KV heads than query heads) whenever an attention mask is present, which is always the case
for left-padded batches. During decoding that copies the whole KV cache, every layer, every token: on a 2-core CPU
it was a third of SmolLM2-135M's sampling time. ``torch.nn.functional.scaled_dot_product_attention`` accepts
``enable_gqa=True`` with a mask on CPU and gives the same result (bit-identical in our checks) without the copy.

:func:`use_gqa_sdpa` switches a loaded model to that attention (registered with transformers as
``cskit_sdpa_gqa``; masks are built exactly as for ``sdpa``). It only does so for CPU models whose
attention is currently ``sdpa`` and which have grouped KV heads; anything else (GPU, eager, flash attention,
position biases) keeps transformers' own path. :func:`restore_attention` puts ``sdpa`` back. transformers
does not write the attention implementation into ``config.json``, so a model saved while switched loads
anywhere with its default attention (tested).
"""

from __future__ import annotations

from typing import Any

NAME = "cskit_sdpa_gqa"
_REGISTERED = False


def gqa_sdpa_attention_forward(module: Any, query: Any, key: Any, value: Any, attention_mask: Any,
                               dropout: float = 0.0, scaling: float | None = None, is_causal: bool | None = None,
                               position_bias: Any = None, **kwargs: Any):
    """transformers' ``sdpa_attention_forward`` with ``enable_gqa=True`` instead of ``repeat_kv``."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    groups = getattr(module, "num_key_value_groups", 1)
    if (groups <= 1 or position_bias is not None or query.device.type != "cpu"
            or kwargs.get("output_attentions", False) or torch.jit.is_tracing()):
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      is_causal=is_causal, position_bias=position_bias, **kwargs)
    q_length = query.shape[2]
    is_causal = is_causal if is_causal is not None else getattr(module, "is_causal", True)
    is_causal = bool(q_length > 1 and attention_mask is None and is_causal)
    if is_causal and key.shape[2] > q_length:
        key, value = key[:, :, :q_length, :], value[:, :, :q_length, :]
    out = torch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask=attention_mask,
                                                           dropout_p=dropout, scale=scaling, is_causal=is_causal,
                                                           enable_gqa=True)
    return out.transpose(1, 2).contiguous(), None


def register() -> None:
    """Register ``cskit_sdpa_gqa`` (attention function + the ``sdpa`` mask builder) with transformers."""
    global _REGISTERED
    if _REGISTERED:
        return
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(NAME, gqa_sdpa_attention_forward)
    AttentionMaskInterface.register(NAME, sdpa_mask)
    _REGISTERED = True


def _has_grouped_kv(config: Any) -> bool:
    cfg = config.get_text_config() if hasattr(config, "get_text_config") else config
    heads = getattr(cfg, "num_attention_heads", None)
    kv = getattr(cfg, "num_key_value_heads", None) or heads
    return bool(heads and kv and kv < heads)


def use_gqa_sdpa(model: Any) -> bool:
    """Switch a CPU ``sdpa`` model with grouped KV heads to :data:`NAME`; returns whether it did."""
    try:
        device = next(model.parameters()).device
    except (StopIteration, AttributeError):
        return False
    config = getattr(model, "config", None)
    if device.type != "cpu" or config is None or getattr(config, "_attn_implementation", None) != "sdpa":
        return False
    if not _has_grouped_kv(config) or not hasattr(model, "set_attn_implementation"):
        return False
    register()
    model.set_attn_implementation(NAME)
    return getattr(model.config, "_attn_implementation", None) == NAME


def restore_attention(model: Any) -> None:
    """Undo :func:`use_gqa_sdpa` (back to ``sdpa``); a no-op for any other model."""
    config = getattr(model, "config", None)
    if config is not None and getattr(config, "_attn_implementation", None) == NAME:
        model.set_attn_implementation("sdpa")
