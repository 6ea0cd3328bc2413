"""Cleaned sources -> one dataset: each source's labels read and cleaned, multi-label
decided over all of them, each source's own validation split (or a held-out share of its
train), then their union as a DatasetDict, with what was detected and dropped said once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emolabel.errors import EmolabelError
from emolabel.training.cleaning import CleanSplit, SplitStats, clean_split, stratified_split
from emolabel.training.data_options import OnError, UnmappedLabels
from emolabel.training.labels import LabelMap, LabelReader
from emolabel.training.layouts import RawSplit, Source

if TYPE_CHECKING:
    from datasets import DatasetDict


@dataclass
class ReadOptions:
    """How label cells are read, for every source of one run."""

    text_column: str | None
    label_column: str | None
    label_map: LabelMap | None
    label_separator: str | None
    label_names: list[str] | None
    unmapped_labels: UnmappedLabels
    on_error: OnError


@dataclass
class CleanSource:
    """One source after cleaning: its splits, label readers and dataset name."""

    source: Source
    splits: dict[str, CleanSplit]
    readers: list[LabelReader]
    name: str = ""
    validation_from: str = ""
    repeat: int = 1  # `:repeat=N`: its train rows enter the union N times


def clean_source(
    source: Source, options: ReadOptions, needed: str, only: str | None = None
) -> CleanSource:
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
        reader = reader_for(raw, options)
        readers.append(reader)
        splits[name] = clean_split(raw, reader)
    if not splits[needed].texts:
        raw = source.splits[needed]
        raise EmolabelError(
            f"{raw.source} has no usable rows (every text is empty or every label missing): "
            "check --text-column/--label-column"
            + (f"; first unreadable label: {readers[0].first_skip}" if readers[0].skipped else "")
        )
    return CleanSource(source, splits, readers)


def reader_for(raw: RawSplit, options: ReadOptions) -> LabelReader:
    names = options.label_names if options.label_names is not None else raw.label_names
    return LabelReader(
        source=raw.source + (f" column {raw.label_column}" if raw.label_column else ""),
        names=names,
        separator=options.label_separator or raw.separator,
        label_map=options.label_map,
        unmapped=options.unmapped_labels,
        on_error=options.on_error,
    )


def multi_label_of(read: list[CleanSource], forced: bool | None) -> bool:
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


def hold_out_validation(item: CleanSource, fraction: float, seed: int, warnings: list[str]) -> None:
    validation = item.splits.get("validation")
    raw = item.source.splits.get("validation")
    if validation is not None and validation.texts and raw is not None:
        item.validation_from = f"file ({Path(raw.source).name})"
        return
    if raw is not None:
        warnings.append(f"{Path(raw.source).name} has no usable rows; split train instead")
    item.splits["validation"] = stratified_split(item.splits["train"], fraction, seed)
    item.validation_from = f"stratified {fraction:g} of train (seed {seed})"


def reader_warnings(item: CleanSource, options: ReadOptions, warnings: list[str]) -> None:
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


def unique_names(read: list[CleanSource]) -> None:
    seen: dict[str, int] = {}
    for item in read:
        if item.name in seen:
            seen[item.name] += 1
            item.name = f"{item.name} ({seen[item.name]})"
        else:
            seen[item.name] = 1


def check_known_labels(read: list[CleanSource], labels: list[str]) -> None:
    known = set(labels)
    for item in read:
        for name, split in item.splits.items():
            unseen = sorted({n for names in split.labels for n in names} - known)
            if unseen:
                raw = item.source.splits.get(name)
                where = raw.source if raw is not None else f"the {name} split"
                raise EmolabelError(
                    f"{where}: label(s) {', '.join(map(repr, unseen[:10]))} never occur in "
                    f"training data ({joined(read)}): add training rows for them or drop "
                    "those rows"
                )


def union_split(read: list[CleanSource], name: str) -> CleanSplit | None:
    """One split of every source, in order; a repeated source's train rows N times over."""
    parts = [(item.splits[name], item.repeat) for item in read if name in item.splits]
    if not parts:
        return None
    union = CleanSplit([], [], SplitStats(), " + ".join(p.source for p, _ in parts))
    for part, repeat in parts:
        times = repeat if name == "train" else 1
        union.texts.extend(part.texts * times)
        union.labels.extend(part.labels * times)
    return union


def union_splits(read: list[CleanSource]) -> dict[str, CleanSplit]:
    """train, validation (and test where any source has one) of all sources, in order."""
    union: dict[str, CleanSplit] = {}
    for name in ("train", "validation", "test"):
        split = union_split(read, name)
        if split is not None:
            union[name] = split
    return union


def validation_index(read: list[CleanSource]) -> dict[str, list[int]]:
    """Each source's dataset name -> the indices of its rows in the union validation split."""
    index: dict[str, list[int]] = {}
    start = 0
    for item in read:
        n = len(item.splits["validation"])
        index[item.name] = list(range(start, start + n))
        start += n
    return index


def summed_stats(read: list[CleanSource], name: str) -> SplitStats:
    total = SplitStats()
    for item in read:
        if name in item.splits:
            total.add(item.splits[name].stats)
    return total


def detected_lines(read: list[CleanSource], is_multi: bool, forced: bool | None) -> list[str]:
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


def joined(read: list[CleanSource]) -> str:
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
