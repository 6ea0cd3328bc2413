"""Raw splits -> clean splits: empty texts and unreadable labels dropped and counted,
duplicates dropped (single-label) or merged (multi-label), conflicts reported, and a seeded
stratified validation split when the data brings none.

Multi-label duplicates (the same text with different label sets, e.g. 183 GoEmotions train
texts posted as different comments) are merged into one row with the union of the sets:
both annotations are evidence for the text, and two rows with contradicting 0/1 targets
would only teach the model that the text is ambiguous.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from emolabel.errors import EmolabelError
from emolabel.training.labels import LabelReader
from emolabel.training.layouts import RawSplit

CONFLICT_EXAMPLES = 5
LabelSet = tuple[str, ...]


@dataclass
class SplitStats:
    """What cleaning did to one split (all counts are rows)."""

    rows_read: int = 0
    dropped_empty_text: int = 0
    dropped_missing_label: int = 0
    dropped_bad_label: int = 0  # unreadable labels, dropped with on_error="skip"
    dropped_duplicates: int = 0
    merged_duplicates: int = 0  # multi-label: texts whose label sets were united
    conflicting_texts: int = 0
    conflict_examples: list[str] = field(default_factory=list)
    rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)} | {
            "conflict_examples": list(self.conflict_examples)
        }

    def add(self, other: SplitStats) -> None:
        """Sum another source's counts into these (examples: the first few of both)."""
        for f in fields(self):
            if f.name == "conflict_examples":
                room = CONFLICT_EXAMPLES - len(self.conflict_examples)
                self.conflict_examples.extend(other.conflict_examples[: max(room, 0)])
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class CleanSplit:
    """A cleaned split: non-empty, stripped texts with their label names."""

    texts: list[str]
    labels: list[LabelSet]
    stats: SplitStats
    source: str = ""
    origin: list[int] = field(default_factory=list)  # index of each row in its RawSplit

    def __len__(self) -> int:
        return len(self.texts)


def clean_split(raw: RawSplit, reader: LabelReader) -> CleanSplit:
    """Strip texts, drop empty ones and missing labels, read every label cell into names."""
    stats = SplitStats(rows_read=len(raw.texts))
    texts: list[str] = []
    labels: list[LabelSet] = []
    origin: list[int] = []
    for index, (text, cell) in enumerate(zip(raw.texts, raw.labels, strict=True)):
        if text is None or (isinstance(text, float) and text != text):
            stats.dropped_empty_text += 1
            continue
        text = str(text).strip()
        if not text:
            stats.dropped_empty_text += 1
            continue
        names = reader.read(cell, raw.where(index))
        if names is None:
            stats.dropped_missing_label += 1
            continue
        if not names:
            stats.dropped_bad_label += 1
            continue
        texts.append(text)
        labels.append(names)
        origin.append(index)
    reader.check_kinds()
    stats.rows = len(texts)
    return CleanSplit(texts, labels, stats, raw.source, origin)


def dedupe(split: CleanSplit, *, multi_label: bool) -> None:
    """Drop exact duplicate rows; multi-label: also merge a text's label sets (in place)."""
    if multi_label:
        merged: dict[str, list[str]] = {}
        first: list[int] = []
        differing: set[str] = set()
        for i, (text, names) in enumerate(zip(split.texts, split.labels, strict=True)):
            if text in merged:
                if set(names) != set(merged[text]):
                    differing.add(text)
                merged[text].extend(n for n in names if n not in merged[text])
            else:
                merged[text] = list(names)
                first.append(i)
        split.stats.dropped_duplicates += len(split.texts) - len(merged)
        split.stats.merged_duplicates += len(differing)
        split.texts = list(merged)
        split.labels = [tuple(v) for v in merged.values()]
        split.origin = [split.origin[i] for i in first] if split.origin else []
    else:
        seen: set[tuple[str, LabelSet]] = set()
        keep: list[int] = []
        for i, key in enumerate(zip(split.texts, split.labels, strict=True)):
            if key not in seen:
                seen.add(key)
                keep.append(i)
        split.stats.dropped_duplicates += len(split.texts) - len(keep)
        split.texts = [split.texts[i] for i in keep]
        split.labels = [split.labels[i] for i in keep]
        split.origin = [split.origin[i] for i in keep] if split.origin else []
    split.stats.rows = len(split.texts)
    report_conflicts(split)


def report_conflicts(split: CleanSplit) -> None:
    """Texts that occur with more than one label (set): counted, a few shown."""
    by_text: dict[str, set[LabelSet]] = {}
    for text, names in zip(split.texts, split.labels, strict=True):
        by_text.setdefault(text, set()).add(names)
    conflicting = [
        (t, sorted("+".join(s) for s in sets)) for t, sets in by_text.items() if len(sets) > 1
    ]
    split.stats.conflicting_texts = len(conflicting)
    split.stats.conflict_examples = [
        f"{t[:60]}{'...' if len(t) > 60 else ''} -> {'/'.join(ls)}"
        for t, ls in conflicting[:CONFLICT_EXAMPLES]
    ]


def stratified_split(train: CleanSplit, fraction: float, seed: int) -> CleanSplit:
    """Move a seeded, per-class share of train into a new validation split (in place).

    A multi-label row is stratified by its rarest label, so rare labels reach validation.
    """
    frequency = Counter(name for names in train.labels for name in names)
    by_key: dict[str, list[int]] = {}
    for i, names in enumerate(train.labels):
        key = min(names, key=lambda n: (frequency[n], n))
        by_key.setdefault(key, []).append(i)
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for key in sorted(by_key):
        indices = np.array(by_key[key])
        rng.shuffle(indices)
        n_val = min(round(len(indices) * fraction), len(indices) - 1)
        chosen.extend(indices[:n_val].tolist())
    if not chosen:
        raise EmolabelError(
            f"{train.source} has too few rows ({len(train.texts)}) to hold out {fraction:g} "
            "for validation: add rows, raise --val-fraction, or give a val file"
        )
    chosen_set = set(chosen)
    chosen.sort()
    validation = CleanSplit(
        [train.texts[i] for i in chosen],
        [train.labels[i] for i in chosen],
        SplitStats(rows_read=len(chosen), rows=len(chosen)),
        f"{train.source} (held out)",
        [train.origin[i] for i in chosen] if train.origin else [],
    )
    keep = [i for i in range(len(train.texts)) if i not in chosen_set]
    train.texts = [train.texts[i] for i in keep]
    train.labels = [train.labels[i] for i in keep]
    train.origin = [train.origin[i] for i in keep] if train.origin else []
    train.stats.rows = len(train.texts)
    report_conflicts(validation)
    return validation


def label_counts(labels: Any) -> dict[str, int]:
    """Rows per label, most frequent first (for summaries); accepts names or name lists."""
    counter: Counter[str] = Counter()
    for item in labels:
        if isinstance(item, (list, tuple)):
            counter.update(item)
        else:
            counter[item] += 1
    return dict(counter.most_common())
