"""Eager attention that scales and masks the score matrix in place.

transformers' eager attention computes `matmul(q, k^T) * scaling + mask`, which allocates
two more tensors the size of the score matrix in every layer (batch x heads x length^2: 50 MB
for four 512-token texts in bf16 on MiniLM). Doing both steps in place is the same
arithmetic with the same roundings, so the same probabilities, and on the CPU it ran
512-token texts 10-13% faster (built-in model, bf16: 38 against 34 texts/s).
"""

from __future__ import annotations

from typing import Any

INPLACE_EAGER = "emolabel_eager"

_registered = False


def inplace_eager_attention(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """Drop-in for transformers' `eager_attention_forward` (same signature and outputs)."""
    import torch

    if scaling is None:
        scaling = query.size(-1) ** -0.5
    scores = torch.matmul(query, key.transpose(2, 3)).mul_(scaling)
    if attention_mask is not None:
        scores.add_(attention_mask)
    probs = torch.softmax(scores, dim=-1)
    probs = torch.nn.functional.dropout(probs, p=dropout, training=module.training)
    output = torch.matmul(probs, value).transpose(1, 2).contiguous()
    return output, probs


def register_inplace_eager() -> str:
    """Make INPLACE_EAGER a name `set_attn_implementation` accepts; returns the name."""
    global _registered
    if not _registered:
        from transformers import AttentionInterface
        from transformers.masking_utils import AttentionMaskInterface, eager_mask

        AttentionInterface.register(INPLACE_EAGER, inplace_eager_attention)
        AttentionMaskInterface.register(INPLACE_EAGER, eager_mask)
        _registered = True
    return INPLACE_EAGER
