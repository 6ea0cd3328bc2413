"""open_corpus: the one entry point that opens a corpus file for streaming, whatever its
format, after checking it exists, is not empty and has a usable text column."""

from __future__ import annotations

import os
from pathlib import Path

from emolabel.errors import EmolabelError
from emolabel.io.delimited import open_delimited
from emolabel.io.formats import ENCODING_ERRORS, ON_ERROR, detect_format
from emolabel.io.jsonl import open_jsonl
from emolabel.io.parquet import open_parquet
from emolabel.io.reader import CorpusReader
from emolabel.io.text import open_txt


def open_corpus(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    text_column: str | None = None,
    batch_rows: int = 4096,
    encoding_errors: str = "strict",
    on_error: str = "fail",
) -> CorpusReader:
    """Open a corpus file for streaming; checks it exists, has rows and a usable text column."""
    path = Path(path)
    if not path.exists():
        raise EmolabelError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise EmolabelError(f"{path} is a folder: pass a file")
    check_reader_options(encoding_errors, on_error)
    fmt, gzipped = detect_format(path, format)
    if path.stat().st_size == 0:
        raise EmolabelError(f"{path} is empty: pass a file with a header and rows")
    common = dict(
        fmt=fmt,
        gzipped=gzipped,
        text_column=text_column,
        batch_rows=batch_rows,
        encoding_errors=encoding_errors,
        on_error=on_error,
    )
    if fmt in ("csv", "tsv"):
        return open_delimited(path, **common)  # type: ignore[arg-type]
    opener = {"jsonl": open_jsonl, "txt": open_txt, "parquet": open_parquet}[fmt]
    return opener(path, **common)  # type: ignore[arg-type]


def check_reader_options(encoding_errors: str, on_error: str) -> None:
    """--encoding-errors and --on-error values, checked before any file is opened."""
    if encoding_errors not in ENCODING_ERRORS:
        raise EmolabelError(f"--encoding-errors {encoding_errors}: choose strict or replace")
    if on_error not in ON_ERROR:
        raise EmolabelError(f"--on-error {on_error}: choose fail or skip")
