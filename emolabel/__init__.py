"""emolabel: label the emotion of text at corpus scale."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

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
    from emolabel.annotate import annotate
    from emolabel.classifier import EmotionClassifier, Prediction
    from emolabel.errors import EmolabelError
    from emolabel.evaluation import evaluate
    from emolabel.training import train

_LAZY = {
    "EmotionClassifier": "emolabel.classifier",
    "Prediction": "emolabel.classifier",
    "EmolabelError": "emolabel.errors",
    "annotate": "emolabel.annotate",
    "evaluate": "emolabel.evaluation",
    "train": "emolabel.training",
}


def __getattr__(name: str) -> Any:
    """Import torch/transformers only when a name that needs them is used (fast --help)."""
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'emolabel' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
