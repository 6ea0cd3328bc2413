"""emolabel: label the emotion of text at corpus scale."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

__version__ = "0.3.1"

# bf16 matrix products on the CPU go through oneDNN, which caches a compiled primitive per
# input shape (1,024 by default, in two caches). Every batch has its own rows x length, so
# the caches fill and hold hundreds of MB; 16 entries keep annotate's memory flat
# (benchmarks/README.md). Set before torch first runs a oneDNN op; the user's own values win.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16")
os.environ.setdefault("LRU_CACHE_CAPACITY", "16")

__all__ = [
    "EmolabelError",
    "EmotionClassifier",
    "Interrupted",
    "Prediction",
    "__version__",
    "annotate",
    "annotate_frame",
    "evaluate",
    "train",
]

if TYPE_CHECKING:
    from emolabel.annotation.frames import annotate_frame
    from emolabel.annotation.pipeline import annotate
    from emolabel.errors import EmolabelError, Interrupted
    from emolabel.evaluation.evaluate import evaluate
    from emolabel.inference.classifier import EmotionClassifier, Prediction
    from emolabel.training.trainer import train

# Public name -> the module that defines it. No public name is also a submodule of this
# package, so importing one can never rebind another (`emolabel.annotate` is the function).
_LAZY = {
    "EmotionClassifier": "emolabel.inference.classifier",
    "Prediction": "emolabel.inference.classifier",
    "EmolabelError": "emolabel.errors",
    "Interrupted": "emolabel.errors",
    "annotate": "emolabel.annotation.pipeline",
    "annotate_frame": "emolabel.annotation.frames",
    "evaluate": "emolabel.evaluation.evaluate",
    "train": "emolabel.training.trainer",
}


def __getattr__(name: str) -> Any:
    """Import torch/transformers only when a name that needs them is used (fast --help)."""
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'emolabel' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
