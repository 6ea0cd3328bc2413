"""Where a dataset's texts and labels are: one source (file or folder) -> raw splits.

Layouts recognised without flags: dair-ai/emotion's `text;label` lines, TweetEval's parallel
`X_text.txt` / `X_labels.txt` with `mapping.txt`, GoEmotions' header-less TSV (text, ids,
comment id) with `emotions.txt`, and any table with a header (CSV/TSV/JSONL/JSON/parquet,
gzipped too), read through the one table reader that annotate uses. Nothing here cleans or
names labels: a RawSplit holds the cells as read, with the line each came from.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from emolabel.errors import EmolabelError
from emolabel.io import LoadedTable, choose_text_column, read_table
from emolabel.io.columns import string_column_names
from emolabel.training.labels import find_names_file, read_names_file

SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "val": "validation",
    "valid": "validation",
    "validation": "validation",
    "dev": "validation",
    "test": "test",
}
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
GOEMOTIONS_COLUMNS = ["text", "labels", "comment_id"]
ID_LIST = re.compile(r"^\d+(,\d+)*$")

Layout = str  # a description shown to the user, e.g. "GoEmotions TSV ..."
SEMICOLON_LAYOUT = "text;label lines (dair-ai/emotion)"
PARALLEL_LAYOUT = "parallel *_text.txt / *_labels.txt (TweetEval)"
GOEMOTIONS_LAYOUT = "header-less TSV text<TAB>ids<TAB>comment id (GoEmotions)"
TABLE_LAYOUT = "table with a header"


@dataclass
class RawSplit:
    """One split as read: texts and raw label cells in file order, before any cleaning."""

    name: str
    source: str
    texts: list[Any]
    labels: list[Any]
    rows: list[int]  # row or line number of each record, quoted in error messages
    row_word: str = "row"
    label_names: list[str] | None = None  # id -> name, from a names file or a ClassLabel
    names_file: str | None = None
    separator: str | None = None  # the layout's own label separator (GoEmotions: ",")
    text_column: str | None = None
    label_column: str | None = None
    layout: Layout = TABLE_LAYOUT

    def where(self, index: int) -> str:
        """`file:line` (or `file row N`) of record `index`, for error messages."""
        if self.row_word == "line":
            return f"{self.source}:{self.rows[index]}"
        return f"{self.source} {self.row_word} {self.rows[index]}"


@dataclass
class Source:
    """One --data value read: its splits, where it is and what layout it was found in."""

    given: str
    splits: dict[str, RawSplit]
    is_hub: bool = False
    layouts: list[Layout] = field(default_factory=list)

    def describe(self, name: str) -> str:
        """`name: layout(s), ids named by FILE`: what was detected, with no local path."""
        kinds = sorted(set(self.layouts))
        names = [s.names_file for s in self.splits.values() if s.names_file]
        named = f", ids named by {Path(names[0]).name}" if names else ""
        return f"{name}: {' + '.join(kinds)}{named}"


def read_folder(folder: Path, text_column: str | None, label_column: str | None) -> Source:
    """Split files recognised by name: train / val|validation|dev / test, any supported format."""
    by_split: dict[str, list[Path]] = {}
    names_file = find_names_file(folder)
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith((".", "_")):
            continue
        if path == names_file or file_kind(path) is None:
            continue
        if path.name.lower().endswith("_labels.txt"):
            continue  # read together with its *_text.txt
        split = split_of_name(path.name)
        if split is not None:
            by_split.setdefault(split, []).append(path)
    if not by_split:
        raise EmolabelError(
            f"{folder} holds no split files: name them train.<ext> (and val.<ext>, test.<ext>) "
            f"with <ext> one of {', '.join(sorted(TABLE_SUFFIXES))} (optionally .gz)"
        )
    splits: dict[str, RawSplit] = {}
    for split, paths in by_split.items():
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            raise EmolabelError(
                f"{folder} has several {split} files ({names}): keep one, or pass --data FILE"
            )
        splits[split] = read_data_file(paths[0], split, text_column, label_column)
    return Source(str(folder), splits, layouts=[s.layout for s in splits.values()])


def split_of_name(name: str) -> str | None:
    """train.csv, emotion_dev.jsonl, val_text.txt -> train / validation / validation."""
    stem = name.split(".", 1)[0].lower()
    for token in re.split(r"[_\-\s]+", stem):
        if token in SPLIT_ALIASES:
            return SPLIT_ALIASES[token]
    return None


def file_kind(path: Path) -> str | None:
    """csv / tsv / jsonl / json / parquet / txt from the name (a .gz suffix allowed)."""
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return TABLE_SUFFIXES.get(Path(name).suffix)


def read_data_file(
    path: Path, split: str, text_column: str | None, label_column: str | None
) -> RawSplit:
    """Read one file of any supported layout into a RawSplit."""
    kind = file_kind(path)
    if kind is None:
        raise EmolabelError(
            f"{path}: unsupported file type {path.suffix or '(none)'}: use one of "
            f"{', '.join(sorted(TABLE_SUFFIXES))} (optionally .gz)"
        )
    if path.stat().st_size == 0:
        raise EmolabelError(f"{path} is empty: pass a file with labelled rows")
    if kind == "txt":
        if path.name.lower().endswith("_text.txt"):
            return read_parallel_text_labels(path, split)
        return read_semicolon_lines(path, split)
    if kind == "tsv" and text_column is None and label_column is None and is_goemotions(path):
        return read_goemotions_tsv(path, split)
    loaded = read_table(path, choose=False)
    raw = pick_columns(loaded, split, text_column, label_column)
    names_file = find_names_file(path.parent)
    if names_file is not None:
        raw.label_names = read_names_file(names_file)
        raw.names_file = str(names_file)
    return raw


# ----------------------------------------------------------------------------- text files
def read_lines(path: Path) -> list[str]:
    """A text file's lines (gzip allowed), without line ends; a BOM is dropped."""
    try:
        data = path.read_bytes()
        if path.name.lower().endswith(".gz"):
            data = gzip.decompress(data)
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EmolabelError(f"{path} is not UTF-8 ({exc.reason}): re-save it as UTF-8") from None
    except (OSError, EOFError) as exc:
        raise EmolabelError(f"could not read {path}: {exc}") from None
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last record; it does not start another
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_semicolon_lines(path: Path, split: str) -> RawSplit:
    """`text;label` lines (the dair-ai/emotion text release): split on the last `;`."""
    texts: list[Any] = []
    labels: list[Any] = []
    rows: list[int] = []
    for number, line in enumerate(read_lines(path), start=1):
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
    return RawSplit(split, str(path), texts, labels, rows, row_word="line", layout=SEMICOLON_LAYOUT)


def read_parallel_text_labels(text_path: Path, split: str) -> RawSplit:
    """TweetEval layout: X_text.txt and X_labels.txt line by line, ids named by mapping.txt."""
    stem = text_path.name[: -len("_text.txt")]
    labels_path = text_path.with_name(f"{stem}_labels.txt")
    if not labels_path.exists():
        raise EmolabelError(
            f"{text_path} has no {labels_path.name} beside it: TweetEval-style data needs "
            "X_text.txt and X_labels.txt, one line each per record"
        )
    texts = read_lines(text_path)
    label_lines = read_lines(labels_path)
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
    names_file = find_names_file(text_path.parent)
    return RawSplit(
        split,
        f"{text_path} + {labels_path.name}",
        [t.rstrip() for t in texts],
        labels,
        list(range(1, len(texts) + 1)),
        row_word="line",
        label_names=read_names_file(names_file) if names_file else None,
        names_file=str(names_file) if names_file else None,
        layout=PARALLEL_LAYOUT,
    )


def is_goemotions(path: Path) -> bool:
    """A header-less TSV whose first line is text<TAB>1,2<TAB>id: the GoEmotions release."""
    try:
        with gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb") as f:
            first = f.readline(1 << 20).decode("utf-8-sig", errors="replace").rstrip("\r\n")
    except (OSError, EOFError):
        return False
    fields = first.split("\t")
    return len(fields) == 3 and bool(ID_LIST.match(fields[1].strip()))


def read_goemotions_tsv(path: Path, split: str) -> RawSplit:
    """GoEmotions: text, comma-separated ids, comment id; ids named by emotions.txt beside it."""
    loaded = read_table(
        path, format="tsv", header=False, column_names=GOEMOTIONS_COLUMNS, choose=False
    )
    table = loaded.table
    if table.num_columns != 3:
        raise EmolabelError(
            f"{path}: a GoEmotions-style TSV has 3 columns (text, ids, comment id), this one "
            f"{table.num_columns}: pass --text-column/--label-column for another layout"
        )
    names_file = find_names_file(path.parent)
    return RawSplit(
        split,
        str(path),
        table.column("text").to_pylist(),
        [None if v is None else str(v) for v in table.column("labels").to_pylist()],
        _rows(loaded),
        row_word="line" if loaded.lines is not None else "row",
        label_names=read_names_file(names_file) if names_file else None,
        names_file=str(names_file) if names_file else None,
        separator=",",
        text_column="text",
        label_column="labels",
        layout=GOEMOTIONS_LAYOUT,
    )


# ----------------------------------------------------------------------------- tables
def _rows(loaded: LoadedTable) -> list[int]:
    if loaded.lines is not None:
        return list(loaded.lines)
    return list(range(1, loaded.table.num_rows + 1))


def pick_columns(
    loaded: LoadedTable, split: str, text_column: str | None, label_column: str | None
) -> RawSplit:
    """The label column (given, or a well-known name), then io's text-column rule on the rest."""
    table, path = loaded.table, Path(loaded.path)
    names = table.column_names
    shown = ", ".join(names[:20]) + (" ..." if len(names) > 20 else "")
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise EmolabelError(
            f"{path}: column name(s) {', '.join(duplicated)} occur more than once: rename them"
        )
    for option, wanted in (("--text-column", text_column), ("--label-column", label_column)):
        if wanted is not None and wanted not in names:
            raise EmolabelError(
                f"{path} has no column {wanted!r} (columns: {shown}): "
                f"pass {option} with one of them"
            )
    label_name = label_column or detect_column(names, LABEL_COLUMN_NAMES, exclude=text_column)
    text_name = choose_text(path, table.schema, text_column, exclude=label_name)
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
        table.column(text_name).to_pylist(),
        table.column(label_name).to_pylist(),
        _rows(loaded),
        row_word="line" if loaded.lines is not None else "row",
        text_column=text_name,
        label_column=label_name,
        layout=f"{loaded.format.upper()} {TABLE_LAYOUT}",
    )


def choose_text(path: Path, schema: pa.Schema, requested: str | None, exclude: str | None) -> str:
    """annotate's text-column rule (io.choose_text_column), never picking the label column."""
    excluded = () if exclude is None else (exclude,)
    return choose_text_column(
        path, schema, requested, string_column_names(schema), exclude=excluded
    )


def detect_column(names: list[str], candidates: Sequence[str], exclude: str | None) -> str | None:
    lowered = {name.strip().lower(): name for name in names if name != exclude}
    for candidate in candidates:
        if candidate in lowered:
            return lowered[candidate]
    return None


def looks_like_path(text: str) -> bool:
    """`./x`, `/x`, `~/x`, `a/b/c` or a data suffix: never a hub id."""
    return (
        text.startswith((".", "/", "~"))
        or file_kind(Path(text)) is not None
        or text.count("/") > 1
        or (os.sep != "/" and os.sep in text)
    )
