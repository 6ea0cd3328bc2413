"""Layer-subset base models: `minilm:layers=3` keeps 3 of an encoder's transformer blocks.

Hub checkpoints of small BERTs are out of reach offline, so compact models are cut from an
encoder already on disk (the bundled MiniLM, or a fine-tuned emolabel model used as a
distillation teacher). The embeddings, the pooler and, for a fine-tuned folder, the
classification head are kept whole; only the stack of transformer blocks is thinned.

Which blocks: N evenly spaced ones, always including the last. For a 6-layer MiniLM that
is layers 2, 4, 6 for N=3 and layers 3, 6 for N=2 (1-based; `kept_layer_indices`). Why:
- DistilBERT (Sanh et al. 2019) initialises its student "by taking one layer out of two"
  of the teacher, i.e. alternating layers, and reports that this initialisation matters.
- TinyBERT (Jiao et al. 2020) found the uniform mapping (student layer m learns teacher
  layer m*L/N) the best of uniform/top/bottom, and keeping the last block keeps the
  representation the pooler and a fine-tuned head were trained on, so a student cut from
  a fine-tuned teacher starts close to it.
- Keeping only the bottom N blocks (Sajjad et al. 2023, "On the effect of dropping layers
  of pre-trained transformer models") can fine-tune slightly better *without* a teacher;
  we use one rule for both uses so a fine-tuned and a distilled model of the same spec
  have the same shape and start from the same weights, which is what a comparison needs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from emolabel.errors import EmolabelError

LAYERS_SUFFIX = re.compile(r"^(?P<base>.+):(?P<key>[A-Za-z_]+)=(?P<value>[^:]*)$")


def split_layer_spec(spec: str) -> tuple[str, int | None]:
    """`NAME_OR_DIR:layers=N` -> (NAME_OR_DIR, N); a spec without a suffix -> (spec, None).

    Refuses unknown keys and bad counts in one line. A path that merely contains a colon is
    left alone (the suffix must read `:word=value` at the very end).
    """
    match = LAYERS_SUFFIX.match(spec.strip())
    if match is None:
        return spec, None
    base, key, value = match.group("base", "key", "value")
    if key != "layers":
        raise EmolabelError(
            f"--base-model {spec}: unknown option {key!r}; the only one is layers=N "
            "(e.g. minilm:layers=3)"
        )
    if not value.isdigit():
        raise EmolabelError(f"--base-model {spec}: layers={value} is not a whole number")
    layers = int(value)
    if layers < 1:
        raise EmolabelError(f"--base-model {spec}: layers must be at least 1")
    return base, layers


def kept_layer_indices(total: int, keep: int) -> list[int]:
    """0-based indices of the `keep` evenly spaced blocks of `total`, the last one included.

    Block i of the student is block round((i + 1) * total / keep) - 1 of the original:
    6 -> 3 gives [1, 3, 5], 6 -> 2 gives [2, 5], 12 -> 6 gives [1, 3, 5, 7, 9, 11].
    """
    if not 1 <= keep <= total:
        raise ValueError(f"keep={keep} must be between 1 and {total}")
    return [round((i + 1) * total / keep) - 1 for i in range(keep)]


def config_layer_count(config: Any) -> int | None:
    """The block count of a transformers config or config.json dict (BERT, DistilBERT, ...)."""
    get = config.get if isinstance(config, dict) else lambda k: getattr(config, k, None)
    for key in ("num_hidden_layers", "n_layers", "num_layers"):
        value = get(key)
        if isinstance(value, int):
            return value
    return None


def check_layer_count(spec: str, folder: str | Path, layers: int) -> None:
    """Fail before any loading when a local encoder has fewer blocks than asked for."""
    config_path = Path(folder) / "config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # the loader reports unreadable folders with its own message
    total = config_layer_count(config)
    if total is not None and layers > total:
        raise EmolabelError(
            f"--base-model {spec}: layers={layers} but the encoder has only {total} layers; "
            f"choose 1 to {total}"
        )


def describe_layer_subset(source: str | Path, layers: int) -> str:
    """`layers 2, 4, 6 of 6` (1-based) for a local encoder, `3 layers` when the count is unknown.

    Goes into the model card and emolabel.json, so a reader knows what was kept.
    """
    try:
        config = json.loads((Path(source) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{layers} layers (evenly spaced, last included)"
    total = config_layer_count(config)
    if total is None or layers > total:
        return f"{layers} layers (evenly spaced, last included)"
    kept = ", ".join(str(i + 1) for i in kept_layer_indices(total, layers))
    return f"layers {kept} of {total}"


def keep_encoder_layers(model: Any, keep: int, spec: str = "") -> list[int]:
    """Thin `model`'s transformer blocks to `keep` evenly spaced ones, in place.

    Updates the config so save_pretrained writes a model that loads as an ordinary
    `keep`-layer encoder. Returns the 0-based indices of the original blocks kept.
    """
    import torch

    total = config_layer_count(model.config)
    found = None
    for name, module in model.base_model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == total and name:
            found = name, module
            break
    if found is None or total is None:
        raise EmolabelError(
            f"--base-model {spec}: cannot find the encoder layers of {type(model).__name__}; "
            "layer subsets work for BERT-style encoders"
        )
    if keep > total:
        raise EmolabelError(
            f"--base-model {spec}: layers={keep} but the encoder has only {total} layers; "
            f"choose 1 to {total}"
        )
    name, blocks = found
    indices = kept_layer_indices(total, keep)
    kept = torch.nn.ModuleList([blocks[i] for i in indices])
    for position, block in enumerate(kept):
        sub: Any
        for sub in block.modules():  # attention caches key on the block's position
            if isinstance(getattr(sub, "layer_idx", None), int):
                sub.layer_idx = position
    parent_name, _, attr = name.rpartition(".")
    parent = model.base_model.get_submodule(parent_name) if parent_name else model.base_model
    setattr(parent, attr, kept)
    for key in ("num_hidden_layers", "n_layers", "num_layers"):
        if isinstance(getattr(model.config, key, None), int):
            setattr(model.config, key, keep)
    if isinstance(getattr(model.config, "layer_types", None), list):
        model.config.layer_types = [model.config.layer_types[i] for i in indices]
    return indices
