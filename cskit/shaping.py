"""Reward shaping (recipe: "Reward shaping"): validity-preserving softplus and the ablation variants.

R'(q, r) = 0 if extract(r) = ε else softplus(s), with s the raw RM score. No scale, offset or clip.

``softplus`` is the numerically stable ``max(x, 0) + log1p(exp(-|x|))``: no overflow for large x
(softplus(1e4) == 1e4), and for large negative x the result is the tiny positive exp(x) until it
underflows to 0.0 (float64 below about -745, float32 below about -104); it is never negative or NaN
for finite input. Note that an underflowed 0.0 equals the invalid-response reward: "strictly above
invalid" holds only for scores above that bound, which trained RMs never approach.

Works on numpy arrays, Python scalars/lists (-> numpy float64) and torch tensors (-> tensors of the
same dtype/device; torch is imported only when a tensor comes in).
"""
from __future__ import annotations

from typing import Any

import numpy as np

SHAPINGS: tuple[str, ...] = ("softplus", "raw", "sigmoid", "softplus_nogate", "raw_gated")
_GATED = {"softplus": True, "raw": False, "sigmoid": True, "softplus_nogate": False, "raw_gated": True}

__all__ = ["SHAPINGS", "softplus", "sigmoid", "shape_rewards"]


def _is_tensor(x: Any) -> bool:
    mod = type(x).__module__
    return mod.startswith("torch") and hasattr(x, "detach")


def softplus(x):
    """log(1 + exp(x)), stable; numpy or torch in, same kind out."""
    if _is_tensor(x):
        import torch

        if not torch.is_floating_point(x):
            x = x.to(torch.get_default_dtype())
        return torch.clamp(x, min=0) + torch.log1p(torch.exp(-torch.abs(x)))
    a = np.asarray(x, dtype=np.float64)
    with np.errstate(under="ignore"):  # exp(-|x|) underflowing to 0 is the intended result
        out = np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a)))
    return out if out.ndim else np.float64(out)


def sigmoid(x):
    """1 / (1 + exp(-x)), stable (via tanh); numpy or torch in, same kind out."""
    if _is_tensor(x):
        import torch

        if not torch.is_floating_point(x):
            x = x.to(torch.get_default_dtype())
        return torch.sigmoid(x)
    a = np.asarray(x, dtype=np.float64)
    with np.errstate(under="ignore"):
        out = 0.5 * (1.0 + np.tanh(0.5 * a))
    return out if out.ndim else np.float64(out)


def shape_rewards(scores, valid=None, method: str = "softplus"):
    """Shape raw RM ``scores`` into rewards; ``valid[i]`` says whether response i had extractable code.

    Methods (``SHAPINGS``): ``softplus`` (paper: 0 if invalid else softplus(s)), ``raw`` (s, no gate),
    ``sigmoid`` (0 if invalid else sigmoid(s)), ``softplus_nogate`` (softplus(s) always),
    ``raw_gated`` (0 if invalid else s). Gated methods ignore the score of an invalid response (it may
    be NaN). Returns a 1-D numpy float64 array, or a tensor when ``scores`` is a tensor.
    """
    if method not in _GATED:
        raise ValueError(f"unknown shaping method {method!r}; expected one of {SHAPINGS}")
    gated = _GATED[method]
    if _is_tensor(scores):
        return _shape_torch(scores, valid, method, gated)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if method in ("softplus", "softplus_nogate"):
        val = softplus(s)
    elif method == "sigmoid":
        val = sigmoid(s)
    else:
        val = s.copy()
    val = np.asarray(val, dtype=np.float64).reshape(-1)
    if not gated:
        return val
    v = _valid_mask(valid, len(s))
    return np.where(v, val, 0.0)


def _valid_mask(valid, n: int) -> np.ndarray:
    if valid is None:
        raise ValueError("this shaping method is gated on validity: pass valid=[bool, ...]")
    if _is_tensor(valid):
        valid = valid.detach().cpu().numpy()
    v = np.asarray(valid, dtype=bool).reshape(-1)
    if len(v) != n:
        raise ValueError(f"scores and valid have different lengths ({n} vs {len(v)})")
    return v


def _shape_torch(scores, valid, method: str, gated: bool):
    import torch

    s = scores.reshape(-1)
    if not torch.is_floating_point(s):
        s = s.to(torch.get_default_dtype())
    if method in ("softplus", "softplus_nogate"):
        val = softplus(s)
    elif method == "sigmoid":
        val = torch.sigmoid(s)
    else:
        val = s.clone()
    if not gated:
        return val
    v = torch.as_tensor(_valid_mask(valid, s.numel()), device=s.device)
    return torch.where(v, val, torch.zeros_like(val))
