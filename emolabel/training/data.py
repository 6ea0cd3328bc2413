"""Labelled data for training and evaluation: hub ids and local files -> DatasetDict + labels.

Every source (a hub dataset, one local file, a folder of split files) is first read into
plain `RawSplit`s (texts and raw labels in file order, with the row numbers that error
messages quote), then cleaned the same way: empty texts and missing labels dropped and
counted, exact duplicate rows dropped, conflicting labels reported, labels named and
ordered, and a stratified validation split made when none was given.

Named training_data rather than datasets so it never shadows the Hugging Face package.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from emolabel.errors import EmolabelError
from emolabel.inference.model_folders import HUB_ID_PATTERN

if TYPE_CHECKING:
    from datasets import DatasetDict

DEFAULT_HUB_DATASET = "dair-ai/emotion"
# dair-ai/emotion's own integer encoding (its HF ClassLabel order, not alphabetical).
DAIR_AI_EMOTION_LABELS = ("sadness", "joy", "love", "anger", "fear", "surprise")
SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "val": "validation",
    "valid": "validation",
    "validation": "validation",
    "dev": "validation",
    "test": "test",
}
TEXT_COLUMN_NAMES = (
    "text",
    "texts",
    "sentence",
    "content",
    "tweet",
    "review",
    "body",
    "message",
    "document",
    "utterance",
    "comment",
    "post",
    "input",
)
LABEL_COLUMN_NAMES = (
    "label",
    "labels",
    "emotion",
    "emotions",
    "class",
    "category",
    "target",
    "sentiment",
    "intent",
    "label_name",
    "y",
)
TABLE_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".txt": "txt",
}
MAPPING_FILE_NAMES = ("mapping.txt", "labels.txt", "label_names.txt")
CONFLICT_EXAMPLES = 5


# ----------------------------------------------------------------------------- records
@dataclass
class RawSplit:
    """One split as read: texts and raw labels in file order, before any cleaning."""

    name: str
    source: str
    texts: list[Any]
    labels: list[Any]
    rows: list[int]  # row or line number of each record, quoted in error messages
    row_word: str = "row"
    label_names: list[str] | None = None  # id -> name, from mapping.txt or a ClassLabel
    text_column: str | None = None
    label_column: str | None = None


@dataclass
class SplitStats:
    """What cleaning did to one split (all counts are rows)."""

    rows_read: int = 0
    dropped_empty_text: int = 0
    dropped_missing_label: int = 0
    dropped_duplicates: int = 0
    conflicting_texts: int = 0
    conflict_examples: list[str] = field(default_factory=list)
    rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "dropped_empty_text": self.dropped_empty_text,
            "dropped_missing_label": self.dropped_missing_label,
            "dropped_duplicates": self.dropped_duplicates,
            "conflicting_texts": self.conflicting_texts,
            "conflict_examples": list(self.conflict_examples),
            "rows": self.rows,
        }


@dataclass
class CleanSplit:
    """A cleaned split: non-empty texts with label names."""

    texts: list[str]
    labels: list[str]
    stats: SplitStats
    numeric_labels: bool


@dataclass
class TrainingData:
    """A DatasetDict (text, label) with its ordered label list and a record of the cleaning."""

    splits: DatasetDict
    labels: list[str]
    source: str
    text_column: str | None
    label_column: str | None
    stats: dict[str, SplitStats]
    validation_from: str
    train_validation_overlap: int
    warnings: list[str] = field(default_factory=list)

    def sizes(self) -> dict[str, int]:
        return {name: len(split) for name, split in self.splits.items()}

    def summary(self) -> dict[str, Any]:
        """The data part of emolabel.json."""
        return {
            "source": self.source,
            "text_column": self.text_column,
            "label_column": self.label_column,
            "sizes": self.sizes(),
            "validation_from": self.validation_from,
            "cleaning": {name: stats.to_dict() for name, stats in self.stats.items()},
            "train_validation_text_overlap": self.train_validation_overlap,
            "warnings": list(self.warnings),
        }


@dataclass
class LabelledTexts:
    """One cleaned split for evaluation: texts and label names, duplicates kept."""

    texts: list[str]
    labels: list[str]
    source: str
    split: str
    stats: SplitStats


# ----------------------------------------------------------------------------- public API
def load_training_data(
    data: str | os.PathLike[str] = DEFAULT_HUB_DATASET,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    val_fraction: float = 0.1,
    seed: int = 42,
) -> TrainingData:
    """Read, clean and split training data from a hub id, a file, or a folder of split files.

    Returns a DatasetDict with `train` and `validation` (and `test` when given) whose
    `label` column is a ClassLabel in the returned label order.
    """
    if not 0.0 < val_fraction < 1.0:
        raise EmolabelError(f"--val-fraction {val_fraction}: choose a number between 0 and 1")
    source, raw = read_splits(data, text_column=text_column, label_column=label_column)
    if "train" not in raw:
        found = ", ".join(sorted(raw)) or "none"
        raise EmolabelError(
            f"{source} has no training split (found: {found}): name the training file "
            "train.<ext>, or pass one file with --data FILE"
        )
    clean = {name: clean_split(split, dedupe=True) for name, split in raw.items()}
    train = clean["train"]
    if not train.texts:
        raise EmolabelError(
            f"{raw['train'].source} has no usable rows (every text is empty or every label "
            "missing): check --text-column/--label-column"
        )
    warnings: list[str] = []
    if "validation" in clean and clean["validation"].texts:
        validation_from = f"file ({raw['validation'].source})"
    else:
        if "validation" in clean:
            warnings.append(f"{raw['validation'].source} has no usable rows; split train instead")
        clean["validation"] = stratified_split(train, val_fraction, seed, raw["train"].source)
        validation_from = f"stratified {val_fraction:g} of train (seed {seed})"
        train = clean["train"]
    labels = order_labels(raw["train"], train, warnings)
    if len(labels) < 2:
        raise EmolabelError(
            f"{raw['train'].source} has only one class ({labels[0]!r}): a classifier needs at "
            "least 2 labels; check --label-column"
        )
    known = set(labels)
    for name, split in clean.items():
        unseen = sorted(set(split.labels) - known)
        if unseen:
            where = raw[name].source if name in raw else f"the {name} split"
            raise EmolabelError(
                f"{where}: label(s) {', '.join(map(repr, unseen[:10]))} never occur in training "
                f"data ({raw['train'].source}): add training rows for them or drop those rows"
            )
    overlap = len(set(train.texts) & set(clean["validation"].texts))
    if overlap:
        warnings.append(f"{overlap} text(s) occur in both train and validation")
    splits = _to_dataset_dict(clean, labels)
    first = raw["train"]
    return TrainingData(
        splits=splits,
        labels=labels,
        source=source,
        text_column=first.text_column,
        label_column=first.label_column,
        stats={name: split.stats for name, split in clean.items()},
        validation_from=validation_from,
        train_validation_overlap=overlap,
        warnings=warnings,
    )


def load_labelled_split(
    data: str | os.PathLike[str],
    *,
    split: str = "validation",
    text_column: str | None = None,
    label_column: str | None = None,
) -> LabelledTexts:
    """One labelled split for evaluation: a whole file, or the named split of a folder/hub id.

    Empty texts and missing labels are dropped and counted; duplicates are kept, since an
    evaluation should score the data as given.
    """
    wanted = SPLIT_ALIASES.get(split.strip().lower())
    if wanted is None:
        raise EmolabelError(f"--split {split}: choose train, validation (val, dev) or test")
    source, raw = read_splits(
        data, text_column=text_column, label_column=label_column, single_file_split=wanted
    )
    if wanted not in raw:
        found = ", ".join(sorted(raw)) or "none"
        raise EmolabelError(
            f"{source} has no {wanted} split (found: {found}): pass --split with one of them "
            "or --data FILE"
        )
    clean = clean_split(raw[wanted], dedupe=False)
    if not clean.texts:
        raise EmolabelError(
            f"{raw[wanted].source} has no usable rows (every text is empty or every label "
            "missing): check --text-column/--label-column"
        )
    return LabelledTexts(
        texts=clean.texts,
        labels=clean.labels,
        source=raw[wanted].source,
        split=wanted,
        stats=clean.stats,
    )


# ----------------------------------------------------------------------------- sources
def read_splits(
    data: str | os.PathLike[str],
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    single_file_split: str = "train",
) -> tuple[str, dict[str, RawSplit]]:
    """Read every split of a hub id, a folder or one file (which becomes `single_file_split`)."""
    text = os.fspath(data).strip()
    if not text:
        raise EmolabelError("--data is empty: pass a file, a folder of split files or a hub id")
    path = Path(text).expanduser()
    if path.is_dir():
        return str(path), read_folder(path, text_column, label_column)
    if path.exists():
        split = read_data_file(path, single_file_split, text_column, label_column)
        return str(path), {single_file_split: split}
    looks_like_path = text.startswith((".", "/", "~")) or path.suffix.lower() in TABLE_SUFFIXES
    if looks_like_path or text.count("/") > 1 or (os.sep != "/" and os.sep in text):
        raise EmolabelError(f"data file not found: {text}: check the path")
    if not HUB_ID_PATTERN.match(text) or "/" not in text:
        raise EmolabelError(
            f"--data {text}: no such file or folder, and not a hub dataset id (owner/name)"
        )
    return text, read_hub_dataset(text, text_column, label_column)


def read_folder(
    folder: Path, text_column: str | None, label_column: str | None
) -> dict[str, RawSplit]:
    """Split files recognised by name: train / val|validation|dev / test, any supported format."""
    by_split: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.name.lower() in MAPPING_FILE_NAMES or path.suffix.lower() not in TABLE_SUFFIXES:
            continue
        if path.name.lower().endswith("_labels.txt"):
            continue  # read together with its *_text.txt
        split = split_of_name(path.name)
        if split is not None:
            by_split.setdefault(split, []).append(path)
    if not by_split:
        raise EmolabelError(
            f"{folder} holds no split files: name them train.<ext> (and val.<ext>, test.<ext>) "
            f"with <ext> one of {', '.join(sorted(TABLE_SUFFIXES))}"
        )
    splits: dict[str, RawSplit] = {}
    for split, paths in by_split.items():
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            raise EmolabelError(
                f"{folder} has several {split} files ({names}): keep one, or pass --data FILE"
            )
        splits[split] = read_data_file(paths[0], split, text_column, label_column)
    return splits


def split_of_name(name: str) -> str | None:
    """train.csv, emotion_dev.jsonl, val_text.txt -> train / validation / validation."""
    stem = name.split(".", 1)[0].lower()
    for token in re.split(r"[_\-\s]+", stem):
        if token in SPLIT_ALIASES:
            return SPLIT_ALIASES[token]
    return None


def read_data_file(
    path: Path, split: str, text_column: str | None, label_column: str | None
) -> RawSplit:
    """Read one file of any supported format into a RawSplit."""
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise EmolabelError(
            f"{path}: unsupported file type {path.suffix or '(none)'}: use one of "
            f"{', '.join(sorted(TABLE_SUFFIXES))}"
        )
    if path.stat().st_size == 0:
        raise EmolabelError(f"{path} is empty: pass a file with labelled rows")
    if kind == "txt":
        if path.name.lower().endswith("_text.txt"):
            return read_parallel_text_labels(path, split)
        return read_semicolon_lines(path, split)
    columns, rows, row_word = _read_columns(path, kind)
    raw = _pick_columns(path, split, columns, rows, row_word, text_column, label_column)
    raw.label_names = read_label_mapping(path.parent)
    return raw


def read_semicolon_lines(path: Path, split: str) -> RawSplit:
    """`text;label` lines (the dair-ai/emotion text release): split on the last `;`."""
    texts: list[Any] = []
    labels: list[Any] = []
    rows: list[int] = []
    for number, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        text, sep, label = line.rpartition(";")
        if not sep:
            raise EmolabelError(
                f"{path}:{number} has no ';': each line of a .txt file must be text;label "
                "(or use CSV/TSV/JSONL/parquet)"
            )
        texts.append(text)
        labels.append(label.strip())
        rows.append(number)
    if not texts:
        raise EmolabelError(f"{path} has no text;label lines: pass a file with labelled rows")
    return RawSplit(split, str(path), texts, labels, rows, row_word="line")


def read_parallel_text_labels(text_path: Path, split: str) -> RawSplit:
    """TweetEval layout: X_text.txt and X_labels.txt line by line, ids named by mapping.txt."""
    stem = text_path.name[: -len("_text.txt")]
    labels_path = text_path.with_name(f"{stem}_labels.txt")
    if not labels_path.exists():
        raise EmolabelError(
            f"{text_path} has no {labels_path.name} beside it: TweetEval-style data needs "
            "X_text.txt and X_labels.txt, one line each per record"
        )
    texts = _read_lines(text_path)
    label_lines = _read_lines(labels_path)
    if len(texts) != len(label_lines):
        raise EmolabelError(
            f"{text_path.name} has {len(texts)} lines but {labels_path.name} has "
            f"{len(label_lines)}: the two files must be parallel, one record per line"
        )
    if not texts:
        raise EmolabelError(f"{text_path} is empty: pass a file with labelled rows")
    labels: list[Any] = []
    for number, value in enumerate(label_lines, start=1):
        value = value.strip()
        if not value:
            labels.append(None)
            continue
        try:
            labels.append(int(value))
        except ValueError:
            raise EmolabelError(
                f"{labels_path}:{number}: label {value!r} is not an integer id: TweetEval-style "
                "label files hold one class id a line, named by mapping.txt"
            ) from None
    mapping = read_label_mapping(text_path.parent)
    return RawSplit(
        split,
        f"{text_path} + {labels_path.name}",
        [t.rstrip() for t in texts],
        labels,
        list(range(1, len(texts) + 1)),
        row_word="line",
        label_names=mapping,
    )


def read_label_mapping(folder: Path) -> list[str] | None:
    """mapping.txt: `id<TAB>name` lines (TweetEval) or one name per line (id = line index)."""
    for name in MAPPING_FILE_NAMES:
        path = folder / name
        if path.exists():
            break
    else:
        return None
    entries: dict[int, str] = {}
    for number, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        parts = line.strip().split("\t") if "\t" in line else line.strip().split(None, 1)
        if len(parts) == 2 and parts[0].lstrip("-").isdigit():
            entries[int(parts[0])] = parts[1].strip()
        elif len(parts) >= 1 and not any(p.isdigit() for p in parts[:1]):
            entries[len(entries)] = line.strip()
        else:
            raise EmolabelError(f"{path}:{number}: write `id<TAB>name` or one label name a line")
    if sorted(entries) != list(range(len(entries))):
        raise EmolabelError(f"{path}: label ids must run 0..{len(entries) - 1} without gaps")
    names = [entries[i] for i in range(len(entries))]
    if len(set(names)) != len(names):
        raise EmolabelError(f"{path}: a label name occurs twice; names must be unique")
    return names


def read_hub_dataset(
    dataset_id: str, text_column: str | None, label_column: str | None
) -> dict[str, RawSplit]:
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
        columns = {name: dataset[name] for name in dataset.column_names}
        where = f"{dataset_id}[{split_name}]"
        raw = _pick_columns(
            Path(where),
            split,
            columns,
            list(range(1, len(dataset) + 1)),
            "row",
            text_column,
            label_column,
        )
        feature = dataset.features.get(raw.label_column or "")
        if isinstance(feature, datasets.ClassLabel):
            raw.label_names = list(feature.names)
        raw.source = where
        splits[split] = raw
    if not splits:
        raise EmolabelError(
            f"hub dataset {dataset_id} has no train/validation/test splits "
            f"(found: {', '.join(loaded)})"
        )
    return splits


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


# ----------------------------------------------------------------------------- tables
def _read_lines(path: Path) -> list[str]:
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EmolabelError(f"{path} is not UTF-8 ({exc.reason}): re-save it as UTF-8") from None
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last record; it does not start another
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _read_columns(path: Path, kind: str) -> tuple[dict[str, list[Any]], list[int], str]:
    """Columns of a CSV/TSV/JSON(L)/parquet file as Python lists, with 1-based row numbers."""
    if kind in ("csv", "tsv"):
        import polars as pl

        try:
            frame = pl.read_csv(
                path,
                separator="\t" if kind == "tsv" else ",",
                infer_schema_length=10000,
                encoding="utf8-lossy",
                truncate_ragged_lines=False,
            )
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise EmolabelError(
                f"could not read {path} as {kind.upper()}: {first}; check the quoting and "
                "the separator"
            ) from None
        if frame.height == 0:
            raise EmolabelError(f"{path} has a header but no rows: pass a file with labelled rows")
        columns = {name: frame[name].to_list() for name in frame.columns}
        return columns, list(range(1, frame.height + 1)), "row"
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as exc:
            raise EmolabelError(f"could not read {path} as parquet: {exc}") from None
        if table.num_rows == 0:
            raise EmolabelError(f"{path} has no rows: pass a file with labelled rows")
        columns = {name: table.column(name).to_pylist() for name in table.column_names}
        return columns, list(range(1, table.num_rows + 1)), "row"
    records, numbers = _read_json_records(path, kind)
    if not records:
        raise EmolabelError(f"{path} has no records: pass a file with labelled rows")
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    columns = {name: [record.get(name) for record in records] for name in names}
    return columns, numbers, "line" if kind == "jsonl" else "record"


def _read_json_records(path: Path, kind: str) -> tuple[list[dict[str, Any]], list[int]]:
    lines = _read_lines(path)
    if kind == "json":
        body = "\n".join(lines).strip()
        if body.startswith("["):
            try:
                data = json.loads(body)
            except json.JSONDecodeError as exc:
                raise EmolabelError(f"{path} is not valid JSON: {exc}") from None
            if not all(isinstance(x, dict) for x in data):
                raise EmolabelError(f"{path}: the JSON array must hold objects, one per record")
            return data, list(range(1, len(data) + 1))
    records: list[dict[str, Any]] = []
    numbers: list[int] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EmolabelError(
                f"{path}:{number} is not valid JSON ({exc.msg}): write one JSON object a line"
            ) from None
        if not isinstance(record, dict):
            raise EmolabelError(f"{path}:{number} is not a JSON object: write one object a line")
        records.append(record)
        numbers.append(number)
    return records, numbers


def _pick_columns(
    path: Path,
    split: str,
    columns: dict[str, list[Any]],
    rows: list[int],
    row_word: str,
    text_column: str | None,
    label_column: str | None,
) -> RawSplit:
    names = list(columns)
    shown = ", ".join(names[:20]) + (" ..." if len(names) > 20 else "")
    for option, wanted in (("--text-column", text_column), ("--label-column", label_column)):
        if wanted is not None and wanted not in columns:
            raise EmolabelError(
                f"{path} has no column {wanted!r} (columns: {shown}): "
                f"pass {option} with one of them"
            )
    text_name = text_column or _detect_column(names, TEXT_COLUMN_NAMES, exclude=label_column)
    if text_name is None:
        text_name = _longest_text_column(columns, exclude=label_column)
    if text_name is None:
        raise EmolabelError(
            f"{path}: no text column found (columns: {shown}): pass --text-column NAME"
        )
    label_name = label_column or _detect_column(names, LABEL_COLUMN_NAMES, exclude=text_name)
    if label_name is None:
        others = [n for n in names if n != text_name]
        if len(others) == 1:
            label_name = others[0]
    if label_name is None:
        raise EmolabelError(
            f"{path}: no label column found (columns: {shown}): pass --label-column NAME"
        )
    if label_name == text_name:
        raise EmolabelError(
            f"{path}: the text and label column are both {text_name!r}: pass --text-column "
            "and --label-column"
        )
    return RawSplit(
        split,
        str(path),
        list(columns[text_name]),
        list(columns[label_name]),
        rows,
        row_word=row_word,
        text_column=text_name,
        label_column=label_name,
    )


def _detect_column(names: list[str], candidates: Sequence[str], exclude: str | None) -> str | None:
    lowered = {name.strip().lower(): name for name in names if name != exclude}
    for candidate in candidates:
        if candidate in lowered:
            return lowered[candidate]
    return None


def _longest_text_column(columns: dict[str, list[Any]], exclude: str | None) -> str | None:
    best, best_length = None, 0.0
    for name, values in columns.items():
        if name == exclude:
            continue
        sample = [v for v in values[:1000] if v is not None]
        if not sample or not all(isinstance(v, str) for v in sample):
            continue
        mean = sum(len(v) for v in sample) / len(sample)
        if mean > best_length:
            best, best_length = name, mean
    return best if best_length >= 15 else None  # short strings are more likely labels


# ----------------------------------------------------------------------------- cleaning
def clean_split(raw: RawSplit, *, dedupe: bool) -> CleanSplit:
    """Drop empty texts and missing labels, name integer labels, optionally drop duplicates."""
    stats = SplitStats(rows_read=len(raw.texts))
    kinds: set[str] = set()
    texts: list[str] = []
    labels: list[str] = []
    for text, label, row in zip(raw.texts, raw.labels, raw.rows, strict=True):
        if text is None or (isinstance(text, float) and math.isnan(text)):
            stats.dropped_empty_text += 1
            continue
        text = str(text).strip()
        if not text:
            stats.dropped_empty_text += 1
            continue
        name, kind = _label_name(label, raw, row)
        if name is None:
            stats.dropped_missing_label += 1
            continue
        kinds.add(kind)
        texts.append(text)
        labels.append(name)
    if kinds == {"id", "name"}:
        raise EmolabelError(
            f"{raw.source}: column {raw.label_column or 'label'} mixes integer ids and label "
            "names: use one or the other"
        )
    if dedupe:
        texts, labels, stats.dropped_duplicates = _drop_duplicates(texts, labels)
    stats.conflicting_texts, stats.conflict_examples = _conflicts(texts, labels)
    stats.rows = len(texts)
    numeric = kinds == {"id"} and raw.label_names is None
    return CleanSplit(texts, labels, stats, numeric)


def _label_name(value: Any, raw: RawSplit, row: int) -> tuple[str | None, str]:
    where = f"{raw.source} {raw.row_word} {row}"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, ""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise EmolabelError(
                f"{where}: label {value} is not a class (a float): labels must be names or "
                "integer ids"
            )
        value = int(value)
    if isinstance(value, int):
        if raw.label_names is None:
            return str(value), "id"
        if not 0 <= value < len(raw.label_names):
            raise EmolabelError(
                f"{where}: label id {value} is not in the label mapping (ids 0.."
                f"{len(raw.label_names) - 1}): fix the row or the mapping file"
            )
        return raw.label_names[value], "id"
    if isinstance(value, (list, tuple, dict)):
        raise EmolabelError(
            f"{where}: label {value!r} is a list: emolabel trains single-label classifiers; "
            "keep one label per row"
        )
    name = str(value).strip()
    return (name or None), "name"


def _drop_duplicates(texts: list[str], labels: list[str]) -> tuple[list[str], list[str], int]:
    seen: set[tuple[str, str]] = set()
    kept_texts: list[str] = []
    kept_labels: list[str] = []
    for text, label in zip(texts, labels, strict=True):
        key = (text, label)
        if key in seen:
            continue
        seen.add(key)
        kept_texts.append(text)
        kept_labels.append(label)
    return kept_texts, kept_labels, len(texts) - len(kept_texts)


def _conflicts(texts: list[str], labels: list[str]) -> tuple[int, list[str]]:
    by_text: dict[str, set[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        by_text.setdefault(text, set()).add(label)
    conflicting = [(t, sorted(ls)) for t, ls in by_text.items() if len(ls) > 1]
    examples = [
        f"{t[:60]}{'...' if len(t) > 60 else ''} -> {'/'.join(ls)}"
        for t, ls in conflicting[:CONFLICT_EXAMPLES]
    ]
    return len(conflicting), examples


def order_labels(raw: RawSplit, train: CleanSplit, warnings: list[str]) -> list[str]:
    """The model's label order: the mapping's, dair-ai/emotion's, numeric ids, or sorted names."""
    present = set(train.labels)
    if raw.label_names is not None:
        absent = [name for name in raw.label_names if name not in present]
        if absent:
            warnings.append(
                f"label(s) {', '.join(absent)} from the mapping have no training rows; left out"
            )
        return [name for name in raw.label_names if name in present]
    if present == set(DAIR_AI_EMOTION_LABELS):
        return list(DAIR_AI_EMOTION_LABELS)
    if train.numeric_labels:
        return sorted(present, key=int)
    return sorted(present)


def stratified_split(train: CleanSplit, fraction: float, seed: int, source: str) -> CleanSplit:
    """Move a seeded, per-class share of train into a new validation split (in place)."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(train.labels):
        by_label.setdefault(label, []).append(i)
    chosen: list[int] = []
    for label in sorted(by_label):
        indices = np.array(by_label[label])
        rng.shuffle(indices)
        n_val = min(round(len(indices) * fraction), len(indices) - 1)
        chosen.extend(indices[:n_val].tolist())
    if not chosen:
        raise EmolabelError(
            f"{source} has too few rows ({len(train.texts)}) to hold out {fraction:g} for "
            "validation: add rows, raise --val-fraction, or give a val file"
        )
    chosen_set = set(chosen)
    chosen.sort()
    val_texts = [train.texts[i] for i in chosen]
    val_labels = [train.labels[i] for i in chosen]
    keep = [i for i in range(len(train.texts)) if i not in chosen_set]
    train.texts = [train.texts[i] for i in keep]
    train.labels = [train.labels[i] for i in keep]
    train.stats.rows = len(train.texts)
    stats = SplitStats(rows_read=len(val_texts), rows=len(val_texts))
    stats.conflicting_texts, stats.conflict_examples = _conflicts(val_texts, val_labels)
    return CleanSplit(val_texts, val_labels, stats, train.numeric_labels)


def _to_dataset_dict(clean: dict[str, CleanSplit], labels: list[str]) -> DatasetDict:
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    features = Features({"text": Value("string"), "label": ClassLabel(names=labels)})
    index = {name: i for i, name in enumerate(labels)}
    order = [name for name in ("train", "validation", "test") if name in clean]
    return DatasetDict(
        {
            name: Dataset.from_dict(
                {
                    "text": clean[name].texts,
                    "label": [index[label] for label in clean[name].labels],
                },
                features=features,
            )
            for name in order
        }
    )


def label_counts(labels: Sequence[str]) -> dict[str, int]:
    """Rows per label, most frequent first (for summaries)."""
    return dict(Counter(labels).most_common())
