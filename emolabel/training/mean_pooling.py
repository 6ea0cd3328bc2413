"""Mean pooling inside a standard BERT classifier: one appended layer that averages the tokens.

Sentence encoders such as all-MiniLM-L6-v2 were trained with mean pooling, so their [CLS]
vector is not a summary of the text, and the standard BERT head (tanh pooler on [CLS]) learns
slowly from it. A mean-pooled head is no standard transformers architecture, so
`transformers.pipeline` could not load it. This keeps the architecture standard: it appends
one encoder layer whose attention is uniform over the non-padding tokens (query and key are
zero, so every score is equal and the mask does the rest), whose values are the hidden
states scaled up (so the residual [CLS] term is negligible after LayerNorm) and whose
feed-forward adds nothing. At initialisation its [CLS] output is LayerNorm(masked mean of
the last layer), and the pooler starts as the identity. Fine-tuning may then move every
weight, as in any layer. The cost is one more layer at inference.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from emolabel.errors import EmolabelError

VALUE_SCALE = 64.0  # |c * mean| >> |h_cls|, so LayerNorm(c * mean + h_cls) ~ LayerNorm(mean)


def append_mean_pooling_layer(model: Any, base_model: str) -> None:
    """Append the averaging layer to a BERT-family classifier and make its pooler the identity."""
    layers: Any = getattr(getattr(model.base_model, "encoder", None), "layer", None)
    pooler: Any = getattr(model.base_model, "pooler", None)
    last = layers[-1] if isinstance(layers, torch.nn.ModuleList) and len(layers) else None
    if last is None or pooler is None or not _is_bert_layer(last):
        raise EmolabelError(
            f"--pooling mean: {base_model} is not a BERT-style encoder with a pooler "
            "(BERT, MiniLM, RoBERTa, ELECTRA; not MPNet); use --pooling cls"
        )
    layer: Any = copy.deepcopy(last)
    hidden = model.config.hidden_size
    eye = torch.eye(hidden)
    with torch.no_grad():
        attention: Any = layer.attention
        for linear in (attention.self.query, attention.self.key):
            linear.weight.zero_()
            linear.bias.zero_()
        attention.self.value.weight.copy_(eye * VALUE_SCALE)
        attention.self.value.bias.zero_()
        attention.output.dense.weight.copy_(eye)
        attention.output.dense.bias.zero_()
        layer.output.dense.weight.zero_()
        layer.output.dense.bias.zero_()
        for norm in (attention.output.LayerNorm, layer.output.LayerNorm):
            norm.weight.fill_(1.0)
            norm.bias.zero_()
        pooler.dense.weight.copy_(eye)
        pooler.dense.bias.zero_()
    layers.append(layer)
    model.config.num_hidden_layers = len(layers)


def _is_bert_layer(layer: Any) -> bool:
    attention = getattr(layer, "attention", None)
    parts = (
        getattr(attention, "self", None),
        getattr(attention, "output", None),
        getattr(layer, "output", None),
    )
    return all(part is not None for part in parts) and all(
        hasattr(parts[0], name) for name in ("query", "key", "value")
    )
