"""emolabel: label the emotion of text at corpus scale."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# bf16 matrix products on the CPU go through oneDNN, which caches a compiled primitive per
# input shape (1,024 by default, in two caches). Every batch has its own rows x length, so
# the caches fill for hours and hold hundreds of MB: annotate's memory grew by half from
# 10k to 1M rows. 16 entries keep memory flat, and were faster than 64 entries with
# lengths padded to multiples of 8 (benchmarks/README.md). Set before torch first runs a
# oneDNN op; the user's own values win.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16")
os.environ.setdefault("LRU_CACHE_CAPACITY", "16")

__all__ = [
    "EmolabelError",
    "EmotionClassifier",
    "Prediction",
    "__version__",
    "annotate",
    "evaluate",
    "train",
]

if TYPE_CHECKING:
    from emolabel.annotation.pipeline import annotate
    from emolabel.errors import EmolabelError
    from emolabel.evaluation.evaluate import evaluate
    from emolabel.inference.classifier import EmotionClassifier, Prediction
    from emolabel.training.trainer import train

_LAZY = {
    "EmotionClassifier": "emolabel.inference.classifier",
    "Prediction": "emolabel.inference.classifier",
    "EmolabelError": "emolabel.errors",
    "annotate": "emolabel.annotation.pipeline",
    "evaluate": "emolabel.evaluation.evaluate",
    "train": "emolabel.training.trainer",
}


def __getattr__(name: str) -> Any:
    """Import torch/transformers only when a name that needs them is used (fast --help)."""
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'emolabel' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
