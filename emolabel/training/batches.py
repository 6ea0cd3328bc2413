"""The training splits as the Trainer reads them: token ids (the inference encoder's head+tail
truncation), labels (class ids, or multi-hot rows for multi-label data), lengths for
length-grouped batches, and the collator that pads each batch."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from emolabel.inference.batching import pad_batch
from emolabel.inference.encoding import TextEncoder
from emolabel.training.data import TrainingData
from emolabel.training.objective import KNOWN_COLUMN, is_multi_label
from emolabel.training.thresholds import multi_hot

ROW_COLUMN = "row"  # validation rows' index in the data's own order (tokenizing sorts them)


def tokenize_splits(
    data: TrainingData, encoder: TextEncoder, known: np.ndarray | None = None
) -> dict[str, Any]:
    """Tokenize once (batched map), with the classifier's own head+tail truncation.

    Single-label rows get an int `labels`; multi-label rows a multi-hot float list. With
    `known` ([train rows, labels], from TrainingData.known_labels) the train rows also carry
    which labels their loss may use.
    """
    fingerprint = f"{encoder.source}|{encoder.max_length}|{encoder.head_tokens}"
    multi_label, k = is_multi_label(data), len(data.labels)

    def encode(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        ids = encoder.encode(batch["text"]).ids
        if multi_label:
            labels = multi_hot(batch["labels"], k).astype(np.float32).tolist()
        else:
            labels = batch["label"]
        return {"input_ids": ids, "labels": labels, "length": [len(x) for x in ids]}

    out: dict[str, Any] = {}
    for name in ("train", "validation"):
        split = data.splits[name]
        mapped = split.map(
            encode,
            batched=True,
            batch_size=2000,
            remove_columns=split.column_names,
            keep_in_memory=True,
            new_fingerprint=_fingerprint(split._fingerprint, fingerprint),
            desc=None,
        )
        if name == "validation":  # length order pads least; figures do not depend on order
            mapped = mapped.add_column(ROW_COLUMN, list(range(len(mapped))))
            mapped = mapped.select(np.argsort(np.asarray(mapped["length"]), kind="stable"))
        elif known is not None:
            mapped = mapped.add_column(KNOWN_COLUMN, known.tolist())
        out[name] = mapped
    return out


def _fingerprint(*parts: str) -> str:
    import hashlib

    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


class PadCollator:
    """Dynamic padding to the longest row of each batch (length-grouped batches pad little)."""

    def __init__(self, pad_id: int, multiple: int = 1) -> None:
        self.pad_id = pad_id
        self.multiple = multiple

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        ids, mask = pad_batch([f["input_ids"] for f in features], self.pad_id, self.multiple)
        raw = [f["labels"] for f in features]
        multi_hot_rows = bool(raw) and isinstance(raw[0], (list, tuple, np.ndarray))
        labels = torch.as_tensor(raw, dtype=torch.float32 if multi_hot_rows else torch.long)
        batch = {
            "input_ids": torch.from_numpy(ids),
            "attention_mask": torch.from_numpy(mask),
            "labels": labels,
        }
        if features and KNOWN_COLUMN in features[0]:
            known = [f[KNOWN_COLUMN] for f in features]
            batch[KNOWN_COLUMN] = torch.as_tensor(known, dtype=torch.bool)
        return batch
