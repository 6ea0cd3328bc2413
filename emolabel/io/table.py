"""read_table: a whole data file as one Arrow table, for training and evaluation data, read
by the same format readers (gzip, encodings, errors with file and line, the text-column
rule) as annotate's stream, with the line each row starts on."""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emolabel.errors import EmolabelError
from emolabel.io.columns import choose_text_column, string_column_names
from emolabel.io.corpus import check_delimiter, check_reader_options
from emolabel.io.delimited import DelimitedFile
from emolabel.io.formats import detect_format
from emolabel.io.jsonl import JsonLinesFile
from emolabel.io.parquet import open_parquet_file
from emolabel.io.reader import RowError
from emolabel.io.text import TEXT_SCHEMA, open_txt

_ALL_ROWS = 1 << 62  # one batch: the JSON schema is inferred from every record


@dataclass
class LoadedTable:
    """A data file read whole: `lines[i]` is the 1-based line row i starts on (None for
    parquet); `format` is csv, tsv, jsonl, json (an array), parquet or txt."""

    table: pa.Table
    text_column: str | None
    lines: list[int] | None
    format: str
    path: str
    rejected: list[RowError] = field(default_factory=list)  # rows --on-error skip set aside


def read_table(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    text_column: str | None = None,
    encoding_errors: str = "strict",
    on_error: str = "fail",
    delimiter: str | None = None,
    header: bool = True,
    column_names: Sequence[str] | None = None,
    choose: bool = True,
    exclude_columns: Collection[str] = (),
) -> LoadedTable:
    """Read a CSV/TSV/JSONL/JSON/parquet/txt file (optionally gzipped) into memory.

    The text column follows annotate's rule (`choose_text_column`), never considering
    `exclude_columns` (e.g. the label column); `choose=False` with no `text_column` skips
    the rule. `header=False` reads CSV/TSV without a header (columns f0, f1, ... or
    `column_names`); `column_names` with a header replaces its names.
    """
    file = Path(path)
    if not file.exists():
        raise EmolabelError(f"{file}: no such file; check the path")
    if file.is_dir():
        raise EmolabelError(f"{file} is a folder: pass a file")
    check_reader_options(encoding_errors, on_error)
    fmt, gzipped = detect_format(file, format)
    if file.stat().st_size == 0:
        raise EmolabelError(f"{file} is empty: pass a file with a header and rows")
    request = _Request(
        file=file,
        given=str(path),
        fmt=fmt,
        gzipped=gzipped,
        text_column=text_column,
        encoding_errors=encoding_errors,
        on_error=on_error,
        choose=choose,
        exclude=exclude_columns,
    )
    if fmt in ("csv", "tsv"):
        return _read_delimited(request, check_delimiter(delimiter), header, column_names)
    if delimiter is not None:
        raise EmolabelError(f"--delimiter is for CSV and TSV files; {file} is {fmt}: drop it")
    if fmt == "jsonl":
        return _read_json(request)
    if fmt == "parquet":
        return _read_parquet(request)
    return _read_txt(request)


@dataclass(frozen=True)
class _Request:
    """What read_table was asked for, handed to the reader of the file's format."""

    file: Path
    given: str
    fmt: str
    gzipped: bool
    text_column: str | None
    encoding_errors: str
    on_error: str
    choose: bool
    exclude: Collection[str]

    def text_column_of(self, schema: pa.Schema, strings: list[str] | None = None) -> str | None:
        """The text column by annotate's rule, or None when not asked to choose."""
        if self.text_column is None and not self.choose:
            return None
        if strings is None:
            strings = string_column_names(schema)
        return choose_text_column(
            self.file, schema, self.text_column, strings, exclude=self.exclude
        )


def _read_delimited(
    request: _Request,
    delimiter: str | None,
    header: bool,
    column_names: Sequence[str] | None,
) -> LoadedTable:
    delimited = DelimitedFile(
        request.file,
        fmt=request.fmt,
        gzipped=request.gzipped,
        batch_rows=_ALL_ROWS,
        encoding_errors=request.encoding_errors,
        on_error=request.on_error,
        delimiter=delimiter,
        header=header,
        column_names=column_names,
    )
    column = request.text_column_of(delimited.inferred_schema)
    table = pa.Table.from_batches(list(delimited.batches()), schema=delimited.schema)
    lines = delimited_lines(table, first_line=2 if header else 1, rejected=delimited.rejected)
    return LoadedTable(table, column, lines, request.fmt, request.given, delimited.rejected)


def _read_json(request: _Request) -> LoadedTable:
    source = JsonLinesFile(
        request.file,
        gzipped=request.gzipped,
        text_column=request.text_column,
        batch_rows=_ALL_ROWS,
        encoding_errors=request.encoding_errors,
        on_error=request.on_error,
        choose=request.choose,
        exclude=request.exclude,
        keep_lines=True,
    )
    table = pa.Table.from_batches(list(source.batches()), schema=source.schema)
    fmt = "json" if source.is_array else "jsonl"
    return LoadedTable(table, source.text_column, source.lines, fmt, request.given, source.rejected)


def _read_parquet(request: _Request) -> LoadedTable:
    if request.gzipped:
        raise EmolabelError(f"{request.file}: parquet is compressed inside; pass the .parquet file")
    table = open_parquet_file(request.file).read()
    if table.num_rows == 0:
        raise EmolabelError(f"{request.file} has no rows: pass a file with rows")
    strings = [
        f.name
        for f in table.schema
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    column = request.text_column_of(table.schema, strings)
    return LoadedTable(table, column, None, request.fmt, request.given, [])


def _read_txt(request: _Request) -> LoadedTable:
    reader = open_txt(
        request.file,
        fmt=request.fmt,
        gzipped=request.gzipped,
        text_column=request.text_column,
        batch_rows=_ALL_ROWS,
        encoding_errors=request.encoding_errors,
        on_error=request.on_error,
    )
    table = pa.Table.from_batches(list(reader), schema=TEXT_SCHEMA)
    lines = list(range(1, table.num_rows + 1))
    return LoadedTable(table, "text", lines, request.fmt, request.given, [])


def delimited_lines(table: pa.Table, *, first_line: int, rejected: list[RowError]) -> list[int]:
    """The line each CSV/TSV row starts on: rows before it, plus the newlines inside their
    quoted values, plus the lines of rows set aside before it (blank lines are not seen)."""
    if table.num_rows == 0:
        return []
    extra = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            counts = pc.fill_null(pc.count_substring(column, "\n"), 0)
            extra += counts.to_numpy().astype(np.int64)
    spans = 1 + extra
    lines = first_line + np.concatenate([[0], np.cumsum(spans)[:-1]]).astype(np.int64)
    for row in rejected:  # in file order: each pushes the rows after it down
        if row.line is None:
            continue
        after = lines >= row.line
        lines[after] += 1 + row.raw.count("\n")
    return [int(x) for x in lines]
