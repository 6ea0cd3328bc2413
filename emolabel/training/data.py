"""Labelled data for training and evaluation: `--data` sources -> DatasetDict + labels.

The public entry points. Each source (a hub id, one file, a folder of split files; several
sources train on their union) is read by its layout (layouts.py, hub_datasets.py), its
label cells read into names and mapped (labels.py), cleaned and split (cleaning.py), then
joined (union.py) under one label order (naming.py).

Named data rather than datasets so it never shadows the Hugging Face package.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emolabel.errors import EmolabelError
from emolabel.inference.model_folders import HUB_ID_PATTERN
from emolabel.training.cleaning import (
    SplitStats,
    dedupe,
    label_counts,
)
from emolabel.training.data_options import (
    DEFAULT_HUB_DATASET,
    DEFAULT_ON_ERROR,
    DEFAULT_UNMAPPED_LABELS,
    OnError,
    UnmappedLabels,
)
from emolabel.training.hub_datasets import (
    hub_offline,
    hub_reachable,
    read_hub_dataset,
)
from emolabel.training.labels import (
    DAIR_AI_EMOTION_LABELS,
    LabelMap,
    build_label_map,
    load_label_map,
    read_label_map,
    read_names_file,
)
from emolabel.training.layouts import (
    SPLIT_ALIASES,
    Source,
    looks_like_path,
    read_data_file,
    read_folder,
    split_of_name,
)
from emolabel.training.naming import dataset_name_of, order_labels
from emolabel.training.union import (
    CleanSource,
    ReadOptions,
    check_known_labels,
    clean_source,
    detected_lines,
    hold_out_validation,
    joined,
    multi_label_of,
    reader_warnings,
    summed_stats,
    to_dataset_dict,
    union_splits,
    unique_names,
    validation_index,
)

if TYPE_CHECKING:
    from datasets import DatasetDict

__all__ = [
    "DAIR_AI_EMOTION_LABELS",
    "DEFAULT_HUB_DATASET",
    "HUB_ID_PATTERN",
    "LabelledTexts",
    "SourceSummary",
    "SplitStats",
    "TrainingData",
    "hub_offline",
    "hub_reachable",
    "label_counts",
    "load_labelled_split",
    "load_training_data",
    "read_label_map",
    "read_source",
    "split_of_name",
]

Sources = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
REPEAT_SUFFIX = re.compile(r":repeat=(-?\d+)$")
MAX_REPEAT = 100
LabelMapSpec = str | os.PathLike[str] | Mapping[str, Sequence[str]] | LabelMap | None


@dataclass
class SourceSummary:
    """One --data source in the union: its dataset name, layout and what cleaning did."""

    name: str
    given: str
    layout: str
    sizes: dict[str, int]
    validation_from: str
    stats: dict[str, SplitStats]
    repeat: int = 1
    labels: list[str] = field(default_factory=list)  # the labels its training rows use

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.name,
            "layout": self.layout,
            "sizes": dict(self.sizes),
            "repeat": self.repeat,
            "labels": list(self.labels),
            "validation_from": self.validation_from,
            "cleaning": {name: s.to_dict() for name, s in self.stats.items()},
        }


@dataclass
class TrainingData:
    """A DatasetDict with its ordered label list and a record of reading and cleaning.

    Single-label: columns `text`, `label` (ClassLabel). Multi-label: `text`, `labels` (a
    non-empty list of label ids). `validation_sources` maps each source's dataset name to
    the indices of its rows in the validation split.
    """

    splits: DatasetDict
    labels: list[str]
    source: str
    text_column: str | None
    label_column: str | None
    stats: dict[str, SplitStats]
    validation_from: str
    train_validation_overlap: int
    warnings: list[str] = field(default_factory=list)
    multi_label: bool = False
    dataset_name: str = ""
    validation_sources: dict[str, list[int]] = field(default_factory=dict)
    sources: list[SourceSummary] = field(default_factory=list)
    detected: list[str] = field(default_factory=list)  # layouts and label kind, said once
    label_map: str | None = None

    def sizes(self) -> dict[str, int]:
        return {name: len(split) for name, split in self.splits.items()}

    def train_label_names(self) -> list[list[str]]:
        """Each training row's label names (one-element lists for single-label data)."""
        column = "labels" if self.multi_label else "label"
        ids = self.splits["train"][column]
        if self.multi_label:
            return [[self.labels[i] for i in row] for row in ids]
        return [[self.labels[i]] for i in ids]

    def unused_labels(self) -> dict[str, list[str]]:
        """Each source's dataset name -> the labels its training rows never use."""
        return {s.name: [x for x in self.labels if x not in s.labels] for s in self.sources}

    def known_labels(self) -> np.ndarray:
        """[train rows, labels] bool: True where the row's source uses that label at all.

        A source that never uses a label (dair-ai has no disgust, TweetEval no neutral) was
        never asked about it, so its rows say nothing about that label either way. The
        sources' train rows lie in order in the union, each `repeat` times (union_split).
        """
        known = np.ones((len(self.splits["train"]), len(self.labels)), dtype=bool)
        start = 0
        for source in self.sources:
            stop = start + source.sizes["train"] * source.repeat
            known[start:stop] = [label in source.labels for label in self.labels]
            start = stop
        if self.sources and start != len(known):
            raise ValueError(f"the sources hold {start} train rows, the split {len(known)}")
        return known

    def summary(self) -> dict[str, Any]:
        """The data part of emolabel.json: dataset names, never a development path."""
        return {
            "source": self.dataset_name,
            "dataset": self.dataset_name,
            "sources": [s.to_dict() for s in self.sources],
            "multi_label": self.multi_label,
            "label_map": self.label_map,
            "text_column": self.text_column,
            "label_column": self.label_column,
            "sizes": self.sizes(),
            "validation_from": self.validation_from,
            "cleaning": {name: stats.to_dict() for name, stats in self.stats.items()},
            "train_validation_text_overlap": self.train_validation_overlap,
            "detected": list(self.detected),
            "warnings": list(self.warnings),
        }


@dataclass
class LabelledTexts:
    """One cleaned split for evaluation: texts and label names, duplicates kept.

    `labels` is a list of names, or of name lists when `multi_label`.
    """

    texts: list[str]
    labels: list[Any]
    source: str
    split: str
    stats: SplitStats
    multi_label: bool = False
    dataset_name: str = ""


# ----------------------------------------------------------------------------- public API
def load_training_data(
    sources: Sources = DEFAULT_HUB_DATASET,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    label_map: LabelMapSpec = None,
    multi_label: bool | None = None,
    label_separator: str | None = None,
    label_names: str | os.PathLike[str] | None = None,
    unmapped_labels: UnmappedLabels = DEFAULT_UNMAPPED_LABELS,
    on_error: OnError = DEFAULT_ON_ERROR,
    val_fraction: float = 0.1,
    seed: int = 42,
) -> TrainingData:
    """Read, clean and split training data from one or several sources, into their union.

    A source is a hub id, a file, or a folder of split files. Multi-label is detected when
    any row has more than one label; `multi_label=True` forces it, False refuses such rows.
    A source without a validation split holds out a stratified `val_fraction` of its train.
    """
    if not 0.0 < val_fraction < 1.0:
        raise EmolabelError(f"--val-fraction {val_fraction}: choose a number between 0 and 1")
    given, repeats = split_repeats(_source_list(sources))
    _refuse_twice(given)
    options = _read_options(
        text_column,
        label_column,
        label_map,
        label_separator,
        label_names,
        unmapped_labels,
        on_error,
    )
    read = [clean_source(read_source(s, options), options, "train") for s in given]
    for item, repeat in zip(read, repeats, strict=True):
        item.repeat = repeat
    is_multi = multi_label_of(read, multi_label)
    warnings: list[str] = []
    for item in read:
        for split in item.splits.values():
            dedupe(split, multi_label=is_multi)
        hold_out_validation(item, val_fraction, seed, warnings)
        item.name = dataset_name_of(item.source)
        reader_warnings(item, options, warnings)
    unique_names(read)
    labels = order_labels(
        [(item.source, item.splits["train"], item.readers) for item in read],
        options.label_map,
        warnings,
    )
    if len(labels) < 2:
        raise EmolabelError(
            f"{joined(read)} has only one class ({labels[0]!r}): a classifier needs at "
            "least 2 labels; check --label-column"
        )
    check_known_labels(read, labels)
    return _training_data(read, labels, is_multi, multi_label, options, warnings)


def _training_data(
    read: list[CleanSource],
    labels: list[str],
    is_multi: bool,
    forced: bool | None,
    options: ReadOptions,
    warnings: list[str],
) -> TrainingData:
    union = union_splits(read)
    overlap = len(set(union["train"].texts) & set(union["validation"].texts))
    if overlap:
        warnings.append(f"{overlap} text(s) occur in both train and validation")
    first = read[0].source.splits["train"]
    return TrainingData(
        splits=to_dataset_dict(union, labels, is_multi),
        labels=labels,
        source=" + ".join(item.source.given for item in read),
        text_column=first.text_column,
        label_column=first.label_column,
        stats={name: summed_stats(read, name) for name in union},
        validation_from="; ".join(
            item.validation_from if len(read) == 1 else f"{item.name}: {item.validation_from}"
            for item in read
        ),
        train_validation_overlap=overlap,
        warnings=warnings,
        multi_label=is_multi,
        dataset_name=" + ".join(item.name for item in read),
        validation_sources=validation_index(read),
        sources=[_summary_of(item, labels) for item in read],
        detected=detected_lines(read, is_multi, forced),
        label_map=options.label_map.name if options.label_map else None,
    )


def load_labelled_split(
    data: str | os.PathLike[str],
    *,
    split: str = "validation",
    text_column: str | None = None,
    label_column: str | None = None,
    label_map: LabelMapSpec = None,
    multi_label: bool | None = None,
    label_separator: str | None = None,
    label_names: str | os.PathLike[str] | None = None,
    unmapped_labels: UnmappedLabels = DEFAULT_UNMAPPED_LABELS,
    on_error: OnError = DEFAULT_ON_ERROR,
) -> LabelledTexts:
    """One labelled split for evaluation: a whole file, or the named split of a folder/hub id.

    Empty texts and missing labels are dropped and counted; duplicates are kept, since an
    evaluation should score the data as given.
    """
    wanted = SPLIT_ALIASES.get(split.strip().lower())
    if wanted is None:
        raise EmolabelError(f"--split {split}: choose train, validation (val, dev) or test")
    options = _read_options(
        text_column,
        label_column,
        label_map,
        label_separator,
        label_names,
        unmapped_labels,
        on_error,
    )
    source = read_source(data, options, single_file_split=wanted)
    if wanted not in source.splits:
        found = ", ".join(sorted(source.splits)) or "none"
        raise EmolabelError(
            f"{source.given} has no {wanted} split (found: {found}): pass --split with one of "
            "them or --data FILE"
        )
    item = clean_source(source, options, wanted, only=wanted)
    clean = item.splits[wanted]
    is_multi = multi_label_of([item], multi_label)
    return LabelledTexts(
        texts=clean.texts,
        labels=[list(names) for names in clean.labels]
        if is_multi
        else [names[0] for names in clean.labels],
        source=source.splits[wanted].source,
        split=wanted,
        stats=clean.stats,
        multi_label=is_multi,
        dataset_name=dataset_name_of(source),
    )


def read_source(
    data: str | os.PathLike[str],
    options: ReadOptions | None = None,
    *,
    single_file_split: str = "train",
) -> Source:
    """Read every split of a hub id, a folder or one file (which becomes `single_file_split`).

    A missing local path is named as missing first; only a name that can be a hub id
    (owner/name) is then tried on the hub.
    """
    text_column = options.text_column if options else None
    label_column = options.label_column if options else None
    text = os.fspath(data).strip()
    if not text:
        raise EmolabelError("--data is empty: pass a file, a folder of split files or a hub id")
    path = Path(text).expanduser()
    if path.is_dir():
        return read_folder(path, text_column, label_column)
    if path.exists():
        split = read_data_file(path, single_file_split, text_column, label_column)
        return Source(str(path), {single_file_split: split}, layouts=[split.layout])
    if looks_like_path(text):
        raise EmolabelError(f"data file not found: {text}: check the path")
    if not HUB_ID_PATTERN.match(text) or "/" not in text:
        raise EmolabelError(
            f"--data {text}: no such file or folder, and not a hub dataset id (owner/name)"
        )
    try:
        return read_hub_dataset(text, text_column, label_column)
    except EmolabelError as exc:
        if text == DEFAULT_HUB_DATASET:
            raise
        raise EmolabelError(
            f"--data {text}: no such file or folder here ({Path.cwd()}); as a hub dataset id: {exc}"
        ) from None


# ----------------------------------------------------------------------------- steps
def split_repeats(given: list[str]) -> tuple[list[str], list[int]]:
    """`SOURCE:repeat=N` -> (SOURCE, N): a small source's train rows weigh N times in the
    union (its validation split is scored once), so it is not drowned by a big one."""
    sources, repeats = [], []
    for spec in given:
        match = REPEAT_SUFFIX.search(spec)
        if match is None:
            sources.append(spec)
            repeats.append(1)
            continue
        repeat = int(match.group(1))
        if not 1 <= repeat <= MAX_REPEAT:
            raise EmolabelError(
                f"--data {spec}: repeat={repeat}: use a whole number from 1 to {MAX_REPEAT}"
            )
        sources.append(spec[: match.start()])
        repeats.append(repeat)
    return sources, repeats


def _source_list(sources: Sources) -> list[str]:
    if isinstance(sources, (str, os.PathLike)):
        items = [os.fspath(sources)]
    else:
        items = [os.fspath(s) for s in sources]
    if not items:
        raise EmolabelError("--data: give at least one file, folder or hub dataset id")
    return items


def _refuse_twice(given: list[str]) -> None:
    seen = [s.strip().rstrip("/") for s in given]
    twice = sorted({s for s in seen if seen.count(s) > 1})
    if twice:
        raise EmolabelError(
            f"--data {twice[0]} is given twice: give each source once (to weigh a source "
            "more, append :repeat=N)"
        )


def _read_options(
    text_column: str | None,
    label_column: str | None,
    label_map: LabelMapSpec,
    label_separator: str | None,
    label_names: str | os.PathLike[str] | None,
    unmapped_labels: UnmappedLabels,
    on_error: OnError,
) -> ReadOptions:
    if on_error not in ("fail", "skip"):
        raise EmolabelError(f"--on-error {on_error}: choose fail or skip")
    if unmapped_labels not in ("keep", "drop"):
        raise EmolabelError(f"--unmapped-labels {unmapped_labels}: choose keep or drop")
    if label_separator is not None and label_separator == "":
        raise EmolabelError("--label-separator is empty: give the character between labels")
    if unmapped_labels == "drop" and label_map is None:
        raise EmolabelError("--unmapped-labels drop needs a --label-map")
    return ReadOptions(
        text_column=text_column,
        label_column=label_column,
        label_map=_label_map(label_map),
        label_separator=label_separator,
        label_names=read_names_file(Path(label_names)) if label_names is not None else None,
        unmapped_labels=unmapped_labels,
        on_error=on_error,
    )


def _label_map(spec: LabelMapSpec) -> LabelMap | None:
    if spec is None or isinstance(spec, LabelMap):
        return spec
    if isinstance(spec, (str, os.PathLike)):
        return load_label_map(os.fspath(spec))
    return build_label_map("(given map)", {g: tuple(m) for g, m in spec.items()}, "the label map")


def _summary_of(item: CleanSource, labels: list[str]) -> SourceSummary:
    used = {name for names in item.splits["train"].labels for name in names}
    return SourceSummary(
        name=item.name,
        given=item.source.given,
        layout=" + ".join(sorted(set(item.source.layouts))),
        sizes={name: len(split) for name, split in item.splits.items()},
        validation_from=item.validation_from,
        stats={name: split.stats for name, split in item.splits.items()},
        repeat=item.repeat,
        labels=[label for label in labels if label in used],
    )
