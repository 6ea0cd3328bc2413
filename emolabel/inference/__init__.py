"""Running a model: EmotionClassifier, text encoding with head+tail truncation, devices and
precision, model folders, batch planning, attention and the allocator settings that keep
inference fast.

Names load lazily, so the CLI can read DEFAULT_HEAD_TOKENS or the Precision choices without
importing numpy or torch (`--help` stays fast).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emolabel.inference.classifier import (
        AGREEMENT_SAMPLE_ROWS,
        EAGER_ATTENTION_MAX_TOKENS,
        EmotionClassifier,
        Prediction,
    )
    from emolabel.inference.devices import (
        PRECISIONS,
        Device,
        Precision,
        cpu_bf16_is_fast,
        cpu_supports_bf16,
        resolve_device,
        resolve_precision,
    )
    from emolabel.inference.encoding import (
        MAX_LENGTH_CAP,
        EncodedTexts,
        TextEncoder,
        default_max_length,
    )
    from emolabel.inference.model_folders import (
        BUILTIN_MODELS_DIR,
        DEFAULT_MODEL_NAME,
        HUB_ID_PATTERN,
        MODEL_INFO_FILE,
        builtin_model_dir,
        check_model_folder,
        read_model_info,
        resolve_model_source,
    )
    from emolabel.inference.truncation import DEFAULT_HEAD_TOKENS

_MODULES = {
    "classifier": (
        "AGREEMENT_SAMPLE_ROWS",
        "EAGER_ATTENTION_MAX_TOKENS",
        "EmotionClassifier",
        "Prediction",
    ),
    "devices": (
        "PRECISIONS",
        "Device",
        "Precision",
        "cpu_bf16_is_fast",
        "cpu_supports_bf16",
        "resolve_device",
        "resolve_precision",
    ),
    "encoding": ("MAX_LENGTH_CAP", "EncodedTexts", "TextEncoder", "default_max_length"),
    "model_folders": (
        "BUILTIN_MODELS_DIR",
        "DEFAULT_MODEL_NAME",
        "HUB_ID_PATTERN",
        "MODEL_INFO_FILE",
        "builtin_model_dir",
        "check_model_folder",
        "read_model_info",
        "resolve_model_source",
    ),
    "truncation": ("DEFAULT_HEAD_TOKENS",),
}
_LAZY = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "AGREEMENT_SAMPLE_ROWS",
    "BUILTIN_MODELS_DIR",
    "DEFAULT_HEAD_TOKENS",
    "DEFAULT_MODEL_NAME",
    "EAGER_ATTENTION_MAX_TOKENS",
    "HUB_ID_PATTERN",
    "MAX_LENGTH_CAP",
    "MODEL_INFO_FILE",
    "PRECISIONS",
    "Device",
    "EmotionClassifier",
    "EncodedTexts",
    "Precision",
    "Prediction",
    "TextEncoder",
    "builtin_model_dir",
    "check_model_folder",
    "cpu_bf16_is_fast",
    "cpu_supports_bf16",
    "default_max_length",
    "read_model_info",
    "resolve_device",
    "resolve_model_source",
    "resolve_precision",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'emolabel.inference' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"emolabel.inference.{module}"), name)
