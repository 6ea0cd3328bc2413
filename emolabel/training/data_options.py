"""The data-reading options' value types and defaults, in one light module: load_training_data
and `emolabel train`'s click options both read them (the CLI without importing pyarrow)."""

from __future__ import annotations

from typing import Any, Literal

UnmappedLabels = Literal["keep", "drop"]
OnError = Literal["fail", "skip"]

DEFAULT_HUB_DATASET = "dair-ai/emotion"
DEFAULT_UNMAPPED_LABELS: UnmappedLabels = "keep"
DEFAULT_ON_ERROR: OnError = "fail"

DATA_DEFAULTS: dict[str, Any] = {
    "sources": DEFAULT_HUB_DATASET,
    "text_column": None,
    "label_column": None,
    "label_map": None,
    "multi_label": None,
    "label_separator": None,
    "label_names": None,
    "unmapped_labels": DEFAULT_UNMAPPED_LABELS,
    "on_error": DEFAULT_ON_ERROR,
}


def data_default(name: str) -> Any:
    """The default of one load_training_data option (for click, so none is written twice)."""
    return DATA_DEFAULTS[name]
