"""Labelled data for training and evaluation: `--data` sources -> DatasetDict + labels.

Each source (a hub id, one file, a folder of split files; several sources train on their
union) is read by its layout (training/layouts.py), its label cells read into names and
mapped (training/labels.py), then cleaned and split (training/cleaning.py). This module
joins the sources: one label order, multi-label detection, each source's own validation
rows kept and indexed, and a record of what was detected and dropped.

Named data rather than datasets so it never shadows the Hugging Face package.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emolabel.errors import EmolabelError
from emolabel.training.cleaning import (
    CleanSplit,
    SplitStats,
    clean_split,
    dedupe,
    label_counts,
    stratified_split,
)
from emolabel.training.data_options import (
    DEFAULT_HUB_DATASET,
    DEFAULT_ON_ERROR,
    DEFAULT_UNMAPPED_LABELS,
    OnError,
    UnmappedLabels,
)
from emolabel.training.hub_datasets import (
    HUB_ID_PATTERN,
    hub_offline,
    hub_reachable,
    read_hub_dataset,
)
from emolabel.training.labels import (
    DAIR_AI_EMOTION_LABELS,
    LabelMap,
    LabelReader,
    build_label_map,
    load_label_map,
    read_label_map,
    read_names_file,
)
from emolabel.training.layouts import (
    GOEMOTIONS_LAYOUT,
    PARALLEL_LAYOUT,
    SEMICOLON_LAYOUT,
    SPLIT_ALIASES,
    RawSplit,
    Source,
    looks_like_path,
    read_data_file,
    read_folder,
    split_of_name,
)
from emolabel.training.naming import dataset_name_of, order_labels

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.name,
            "layout": self.layout,
            "sizes": dict(self.sizes),
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


@dataclass
class _ReadOptions:
    text_column: str | None
    label_column: str | None
    label_map: LabelMap | None
    label_separator: str | None
    label_names: list[str] | None
    unmapped_labels: UnmappedLabels
    on_error: OnError


@dataclass
class _CleanSource:
    source: Source
    splits: dict[str, CleanSplit]
    readers: list[LabelReader]
    name: str = ""
    validation_from: str = ""


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
    given = _source_list(sources)
    options = _read_options(
        text_column,
        label_column,
        label_map,
        label_separator,
        label_names,
        unmapped_labels,
        on_error,
    )
    read = [_clean_source(read_source(s, options), options, "train") for s in given]
    is_multi = _multi_label(read, multi_label)
    warnings: list[str] = []
    for item in read:
        for split in item.splits.values():
            dedupe(split, multi_label=is_multi)
        _hold_out_validation(item, val_fraction, seed, warnings)
        item.name = dataset_name_of(item.source)
        _reader_warnings(item, options, warnings)
    _unique_names(read)
    labels = order_labels(
        [(item.source, item.splits["train"], item.readers) for item in read],
        options.label_map,
        warnings,
    )
    if len(labels) < 2:
        raise EmolabelError(
            f"{_joined(read)} has only one class ({labels[0]!r}): a classifier needs at "
            "least 2 labels; check --label-column"
        )
    _check_known_labels(read, labels)
    union: dict[str, CleanSplit] = {}
    for name in ("train", "validation", "test"):
        joined = _union(read, name)
        if joined is not None:
            union[name] = joined
    overlap = len(set(union["train"].texts) & set(union["validation"].texts))
    if overlap:
        warnings.append(f"{overlap} text(s) occur in both train and validation")
    validation_sources: dict[str, list[int]] = {}
    start = 0
    for item in read:
        n = len(item.splits["validation"])
        validation_sources[item.name] = list(range(start, start + n))
        start += n
    first = read[0].source.splits["train"]
    return TrainingData(
        splits=to_dataset_dict(union, labels, is_multi),
        labels=labels,
        source=" + ".join(item.source.given for item in read),
        text_column=first.text_column,
        label_column=first.label_column,
        stats={name: _summed_stats(read, name) for name in union},
        validation_from="; ".join(
            item.validation_from if len(read) == 1 else f"{item.name}: {item.validation_from}"
            for item in read
        ),
        train_validation_overlap=overlap,
        warnings=warnings,
        multi_label=is_multi,
        dataset_name=" + ".join(item.name for item in read),
        validation_sources=validation_sources,
        sources=[_summary_of(item) for item in read],
        detected=_detected(read, is_multi, multi_label),
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
    item = _clean_source(source, options, wanted, only=wanted)
    clean = item.splits[wanted]
    is_multi = _multi_label([item], multi_label)
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
    options: _ReadOptions | None = None,
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
    if not HUB_ID_PATTERN.match(text):
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
def _source_list(sources: Sources) -> list[str]:
    if isinstance(sources, (str, os.PathLike)):
        items = [os.fspath(sources)]
    else:
        items = [os.fspath(s) for s in sources]
    if not items:
        raise EmolabelError("--data: give at least one file, folder or hub dataset id")
    seen = [s.strip().rstrip("/") for s in items]
    twice = sorted({s for s in seen if seen.count(s) > 1})
    if twice:
        raise EmolabelError(f"--data {twice[0]} is given twice: give each source once")
    return items


def _read_options(
    text_column: str | None,
    label_column: str | None,
    label_map: LabelMapSpec,
    label_separator: str | None,
    label_names: str | os.PathLike[str] | None,
    unmapped_labels: UnmappedLabels,
    on_error: OnError,
) -> _ReadOptions:
    if on_error not in ("fail", "skip"):
        raise EmolabelError(f"--on-error {on_error}: choose fail or skip")
    if unmapped_labels not in ("keep", "drop"):
        raise EmolabelError(f"--unmapped-labels {unmapped_labels}: choose keep or drop")
    if label_separator is not None and label_separator == "":
        raise EmolabelError("--label-separator is empty: give the character between labels")
    if unmapped_labels == "drop" and label_map is None:
        raise EmolabelError("--unmapped-labels drop needs a --label-map")
    return _ReadOptions(
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


def _clean_source(
    source: Source, options: _ReadOptions, needed: str, only: str | None = None
) -> _CleanSource:
    if needed not in source.splits:
        found = ", ".join(sorted(source.splits)) or "none"
        raise EmolabelError(
            f"{source.given} has no training split (found: {found}): name the training file "
            "train.<ext>, or pass one file with --data FILE"
        )
    splits: dict[str, CleanSplit] = {}
    readers: list[LabelReader] = []
    for name, raw in source.splits.items():
        if only is not None and name != only:
            continue
        reader = _reader_for(raw, options)
        readers.append(reader)
        splits[name] = clean_split(raw, reader)
    if not splits[needed].texts:
        raw = source.splits[needed]
        raise EmolabelError(
            f"{raw.source} has no usable rows (every text is empty or every label missing): "
            "check --text-column/--label-column"
            + (f"; first unreadable label: {readers[0].first_skip}" if readers[0].skipped else "")
        )
    return _CleanSource(source, splits, readers)


def _reader_for(raw: RawSplit, options: _ReadOptions) -> LabelReader:
    names = options.label_names if options.label_names is not None else raw.label_names
    return LabelReader(
        source=raw.source + (f" column {raw.label_column}" if raw.label_column else ""),
        names=names,
        separator=options.label_separator or raw.separator,
        label_map=options.label_map,
        unmapped=options.unmapped_labels,
        on_error=options.on_error,
    )


def _multi_label(read: list[_CleanSource], forced: bool | None) -> bool:
    """Forced, or any row with more than one label; False refuses such a row (file, line)."""
    for item in read:
        for name, split in item.splits.items():
            for index, names in enumerate(split.labels):
                if len(names) > 1:
                    if forced is False:
                        raw = item.source.splits[name]
                        where = raw.where(split.origin[index])
                        raise EmolabelError(
                            f"{where}: {len(names)} labels ({', '.join(names)}) in single-label "
                            "mode: drop --single-label, or keep one label per row"
                        )
                    return True
    return bool(forced)


def _hold_out_validation(
    item: _CleanSource, fraction: float, seed: int, warnings: list[str]
) -> None:
    validation = item.splits.get("validation")
    raw = item.source.splits.get("validation")
    if validation is not None and validation.texts and raw is not None:
        item.validation_from = f"file ({Path(raw.source).name})"
        return
    if raw is not None:
        warnings.append(f"{Path(raw.source).name} has no usable rows; split train instead")
    item.splits["validation"] = stratified_split(item.splits["train"], fraction, seed)
    item.validation_from = f"stratified {fraction:g} of train (seed {seed})"


def _reader_warnings(item: _CleanSource, options: _ReadOptions, warnings: list[str]) -> None:
    unmapped: dict[str, int] = {}
    skipped = 0
    for reader in item.readers:
        skipped += reader.skipped
        for label, n in reader.unmapped_seen.items():
            unmapped[label] = unmapped.get(label, 0) + n
    if unmapped and options.label_map is not None:
        shown = ", ".join(f"{label} ({n:,})" for label, n in sorted(unmapped.items()))
        action = "kept as their own classes" if options.unmapped_labels == "keep" else "dropped"
        warnings.append(
            f"{item.name}: label(s) not named by the label map {options.label_map.name}, "
            f"{action}: {shown}"
        )
    if skipped:
        first = next(r.first_skip for r in item.readers if r.first_skip)
        warnings.append(
            f"{item.name}: {skipped:,} row(s) with unreadable labels dropped (--on-error "
            f"skip); first: {first}"
        )
    if any(r.numeric for r in item.readers):
        warnings.append(
            f"{item.name}: labels are integer ids with no names file; the model's labels will "
            "be the numbers (give mapping.txt beside the data or --label-names FILE)"
        )


def _unique_names(read: list[_CleanSource]) -> None:
    seen: dict[str, int] = {}
    for item in read:
        if item.name in seen:
            seen[item.name] += 1
            item.name = f"{item.name} ({seen[item.name]})"
        else:
            seen[item.name] = 1


def _check_known_labels(read: list[_CleanSource], labels: list[str]) -> None:
    known = set(labels)
    for item in read:
        for name, split in item.splits.items():
            unseen = sorted({n for names in split.labels for n in names} - known)
            if unseen:
                raw = item.source.splits.get(name)
                where = raw.source if raw is not None else f"the {name} split"
                raise EmolabelError(
                    f"{where}: label(s) {', '.join(map(repr, unseen[:10]))} never occur in "
                    f"training data ({_joined(read)}): add training rows for them or drop "
                    "those rows"
                )


def _union(read: list[_CleanSource], name: str) -> CleanSplit | None:
    parts = [item.splits[name] for item in read if name in item.splits]
    if not parts:
        return None
    union = CleanSplit([], [], SplitStats(), " + ".join(p.source for p in parts))
    for part in parts:
        union.texts.extend(part.texts)
        union.labels.extend(part.labels)
    return union


def _summed_stats(read: list[_CleanSource], name: str) -> SplitStats:
    total = SplitStats()
    for item in read:
        if name in item.splits:
            total.add(item.splits[name].stats)
    return total


def _summary_of(item: _CleanSource) -> SourceSummary:
    return SourceSummary(
        name=item.name,
        given=item.source.given,
        layout=" + ".join(sorted(set(item.source.layouts))),
        sizes={name: len(split) for name, split in item.splits.items()},
        validation_from=item.validation_from,
        stats={name: split.stats for name, split in item.splits.items()},
    )


def _detected(read: list[_CleanSource], is_multi: bool, forced: bool | None) -> list[str]:
    lines = [item.source.describe(item.name) for item in read]
    if is_multi:
        rows = sum(
            sum(1 for names in split.labels if len(names) > 1)
            for item in read
            for split in item.splits.values()
        )
        why = "forced" if forced else f"{rows:,} rows carry 2 or more labels"
        lines.append(f"multi-label ({why})")
    return lines


def _joined(read: list[_CleanSource]) -> str:
    return " + ".join(item.source.splits["train"].source for item in read)


def to_dataset_dict(clean: dict[str, CleanSplit], labels: list[str], multi: bool) -> DatasetDict:
    """train/validation/test as Datasets: `label` ids, or `labels` id lists when multi."""
    from datasets import ClassLabel, Dataset, DatasetDict, Features, List, Value

    index = {name: i for i, name in enumerate(labels)}
    column = "labels" if multi else "label"
    feature: Any = List(ClassLabel(names=labels)) if multi else ClassLabel(names=labels)
    features = Features({"text": Value("string"), column: feature})
    order = [name for name in ("train", "validation", "test") if name in clean]
    out = {}
    for name in order:
        split = clean[name]
        if multi:
            values: list[Any] = [sorted(index[n] for n in names) for names in split.labels]
        else:
            values = [index[names[0]] for names in split.labels]
        out[name] = Dataset.from_dict({"text": split.texts, column: values}, features=features)
    return DatasetDict(out)


# The layouts' names, for callers that want to say what a source is.
LAYOUTS = (SEMICOLON_LAYOUT, PARALLEL_LAYOUT, GOEMOTIONS_LAYOUT)
