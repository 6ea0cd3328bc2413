"""Hugging Face hub datasets as a training source: reachability, loading, ClassLabel names."""

from __future__ import annotations

import os
import socket
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa

from emolabel.errors import EmolabelError
from emolabel.io import LoadedTable
from emolabel.training.layouts import SPLIT_ALIASES, RawSplit, Source, pick_columns

HUB_LAYOUT = "hub dataset"


def read_hub_dataset(dataset_id: str, text_column: str | None, label_column: str | None) -> Source:
    """Load a hub dataset with `datasets.load_dataset` (needs network or a local HF cache)."""
    import datasets

    offline = hub_offline()
    if not offline and not hub_reachable():
        raise EmolabelError(
            f"cannot reach the Hugging Face hub to download {dataset_id}: pass local data "
            "instead, e.g. --data ./emotion/ holding train.txt and val.txt (text;label lines), "
            "or set HF_HUB_OFFLINE=1 to use a cached copy"
        )
    try:
        loaded = datasets.load_dataset(dataset_id)
    except Exception as exc:  # network, missing repo, bad config: all one line for the user
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EmolabelError(
            f"could not load hub dataset {dataset_id}: {first}; pass local data instead, e.g. "
            "--data ./emotion/ holding train.txt and val.txt"
        ) from None
    if not isinstance(loaded, datasets.DatasetDict):
        loaded = datasets.DatasetDict({"train": loaded})
    splits: dict[str, RawSplit] = {}
    for split_name, dataset in loaded.items():
        split = SPLIT_ALIASES.get(split_name.lower())
        if split is None or split in splits:
            continue
        where = f"{dataset_id}[{split_name}]"
        table = pa.table({name: dataset[name] for name in dataset.column_names})
        raw = pick_columns(
            LoadedTable(table, None, None, "hub", where), split, text_column, label_column
        )
        raw.label_names = class_label_names(dataset.features.get(raw.label_column or ""))
        raw.layout = HUB_LAYOUT
        splits[split] = raw
    if not splits:
        raise EmolabelError(
            f"hub dataset {dataset_id} has no train/validation/test splits "
            f"(found: {', '.join(loaded)})"
        )
    return Source(dataset_id, splits, is_hub=True, layouts=[HUB_LAYOUT])


def class_label_names(feature: Any) -> list[str] | None:
    """Names of a ClassLabel, or of a list of ClassLabels (go_emotions' `labels`)."""
    import datasets

    if isinstance(feature, datasets.ClassLabel):
        return list(feature.names)
    inner = getattr(feature, "feature", None)
    if isinstance(inner, datasets.ClassLabel):
        return list(inner.names)
    return None


def hub_reachable(timeout: float = 3.0) -> bool:
    """A quick TCP probe of the hub, so a machine without network fails at once, not after
    half a minute of retries."""
    try:
        from huggingface_hub import constants

        endpoint = constants.ENDPOINT
    except ImportError:  # pragma: no cover - huggingface_hub ships with transformers
        endpoint = "https://huggingface.co"
    parsed = urlparse(endpoint)
    host = parsed.hostname or "huggingface.co"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def hub_offline() -> bool:
    """HF_HUB_OFFLINE / HF_DATASETS_OFFLINE: use the local cache, never the network."""
    return any(
        os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
        for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    )
