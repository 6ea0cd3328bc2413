"""File formats: which formats exist, how a file name (or --format) names one, and the
constants every reader and writer shares."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from emolabel.errors import EmolabelError

InputFormat = Literal["csv", "tsv", "jsonl", "parquet", "txt"]
OutputFormat = Literal["parquet", "csv", "tsv", "jsonl"]
EncodingErrors = Literal["strict", "replace"]
OnError = Literal["fail", "skip"]

INPUT_FORMATS = ("csv", "tsv", "jsonl", "parquet", "txt")
OUTPUT_FORMATS = ("parquet", "csv", "tsv", "jsonl")
STDOUT_FORMATS = ("jsonl", "csv", "tsv")  # what `-o -` can stream
TEXT_COLUMN_NAMES = ("text", "content", "body", "tweet", "sentence", "message")
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".txt": "txt",
    ".text": "txt",
}
ENCODING_ERRORS = ("strict", "replace")
ON_ERROR = ("fail", "skip")
# CSV/TSV cannot hold a list: a list<string> column is written as its items joined by this.
LIST_SEPARATOR = "|"
# Small blocks: pyarrow's streaming reader reads blocks ahead of the parser, so with 1 MB
# blocks reading a 100 MB file peaked 59 MiB above a 1 MB one (64 KB: 2 MiB); rows longer
# than a block are read again with bigger blocks.
DEFAULT_BLOCK_BYTES = 1 << 16
MAX_BLOCK_BYTES = 1 << 30  # pyarrow's CSV reader needs every row to fit in one block


def detect_format(path: str | os.PathLike[str], override: str | None = None) -> tuple[str, bool]:
    """(format, gzipped) from the file name; `override` wins for the format."""
    name = Path(path).name.lower()
    gzipped = name.endswith(".gz")
    if gzipped:
        name = name[:-3]
    if override:
        fmt = override.lower()
        if fmt == "ndjson":
            fmt = "jsonl"
        if fmt not in INPUT_FORMATS:
            raise EmolabelError(f"--format {override}: choose one of {', '.join(INPUT_FORMATS)}")
        return fmt, gzipped
    found = EXTENSIONS.get(Path(name).suffix)
    if found is None:
        raise EmolabelError(
            f"{path}: unknown file extension; name it .csv, .tsv, .jsonl, .parquet or .txt "
            "(optionally .gz) or pass --format"
        )
    return found, gzipped


def output_format(path: str | os.PathLike[str], override: str | None = None) -> tuple[str, bool]:
    """(format, gzipped) for an output path; txt is not an output format. `-` (stdout)
    is JSONL unless `override` says csv or tsv."""
    if os.fspath(path) == "-":
        fmt = (override or "jsonl").lower()
        if fmt not in STDOUT_FORMATS:
            raise EmolabelError(
                f"-o - writes {', '.join(STDOUT_FORMATS)} to stdout, not {fmt}: pass "
                "--output-format jsonl, csv or tsv"
            )
        return fmt, False
    if override:
        fmt = override.lower()
        if fmt not in OUTPUT_FORMATS:
            raise EmolabelError(
                f"--output-format {override}: choose one of {', '.join(OUTPUT_FORMATS)}"
            )
        return fmt, str(path).lower().endswith(".gz")
    name = Path(path).name.lower()
    gzipped = name.endswith(".gz")
    found = EXTENSIONS.get(Path(name[:-3] if gzipped else name).suffix)
    if found is None or found not in OUTPUT_FORMATS:
        raise EmolabelError(
            f"{path}: cannot tell the output format; name it .parquet, .csv, .tsv or .jsonl "
            "or pass --output-format"
        )
    if found == "parquet" and gzipped:
        raise EmolabelError(f"{path}: parquet compresses itself; drop the .gz")
    return found, gzipped
