"""open_corpus: the one entry point that opens a corpus for streaming, whatever its format,
from one file, several files, a folder, a glob or standard input ("-"), after checking each
exists, is not empty and has a usable text column."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from emolabel.errors import EmolabelError
from emolabel.io.delimited import open_delimited
from emolabel.io.encoding import Source
from emolabel.io.formats import ENCODING_ERRORS, ON_ERROR, detect_format
from emolabel.io.inputs import GLOB_CHARS, STDIN, Inputs, input_list, is_uri, resolve_inputs
from emolabel.io.jsonl import open_jsonl
from emolabel.io.many import many_files_reader
from emolabel.io.parquet import open_parquet
from emolabel.io.reader import CorpusReader
from emolabel.io.stdin import StdinSpool, sniff_stdin
from emolabel.io.text import open_txt

Opener = Callable[..., CorpusReader]
OPENERS: dict[str, Opener] = {
    "csv": open_delimited,
    "tsv": open_delimited,
    "jsonl": open_jsonl,
    "txt": open_txt,
    "parquet": open_parquet,
}


def open_corpus(
    inputs: Inputs,
    *,
    format: str | None = None,
    text_column: str | None = None,
    batch_rows: int = 4096,
    encoding_errors: str = "strict",
    on_error: str = "fail",
    delimiter: str | None = None,
    source_column: str | None = None,
) -> CorpusReader:
    """Open a corpus for streaming: a path, `-` (stdin), or several paths, folders, globs.

    Several files are read in the order given (a folder's or glob's files sorted by path) as
    one stream of the union of their columns; `source_column` adds a column with each row's
    file (as given). Each file must have rows and the text column the first file has.
    """
    check_reader_options(encoding_errors, on_error)
    delimiter = check_delimiter(delimiter)
    if format is not None:
        detect_format("x", format)  # an unknown --format is refused before anything is read
    items = input_list(inputs)
    if not items:
        raise EmolabelError("no input given: pass a file, a folder, a glob or - (stdin)")
    spools: dict[str, StdinSpool] = {}

    def open_one(name: str, column: str | None) -> CorpusReader:
        return open_file(
            name,
            format=format,
            text_column=column,
            batch_rows=batch_rows,
            encoding_errors=encoding_errors,
            on_error=on_error,
            delimiter=delimiter,
            spools=spools,
        )

    if len(items) == 1 and source_column is None and _single_file(items[0]):
        return open_one(items[0], text_column)
    files = resolve_inputs(items, absolute=False)
    if files.count(STDIN) > 1:
        raise EmolabelError("- (stdin) is given twice: pass it once")
    return many_files_reader(files, open_one, text_column=text_column, source_column=source_column)


def _single_file(item: str) -> bool:
    """A plain path or `-`: opened directly, with the one-file messages."""
    if item == STDIN:
        return True
    return not is_uri(item) and not GLOB_CHARS & set(item) and not os.path.isdir(item)


def open_file(
    name: str | os.PathLike[str],
    *,
    format: str | None,
    text_column: str | None,
    batch_rows: int,
    encoding_errors: str,
    on_error: str,
    delimiter: str | None = None,
    spools: dict[str, StdinSpool] | None = None,
) -> CorpusReader:
    """One file (or standard input, spooled once per `spools`), opened by its format."""
    source: Source
    if os.fspath(name) == STDIN:
        spools = {} if spools is None else spools
        source = spools.setdefault(STDIN, StdinSpool())
        fmt, gzipped = sniff_stdin(source, format and detect_format("x", format)[0])
    else:
        source = Path(name)
        if not source.exists():
            raise EmolabelError(f"{source}: no such file; check the path")
        if source.is_dir():
            raise EmolabelError(f"{source} is a folder: pass a file")
        fmt, gzipped = detect_format(source, format)
        if source.stat().st_size == 0:
            raise EmolabelError(f"{source} is empty: pass a file with a header and rows")
    common = dict(
        fmt=fmt,
        gzipped=gzipped,
        text_column=text_column,
        batch_rows=batch_rows,
        encoding_errors=encoding_errors,
        on_error=on_error,
    )
    check_delimiter_format(delimiter, fmt, name)
    if fmt in ("csv", "tsv"):
        common["delimiter"] = delimiter
    return OPENERS[fmt](source, **common)


def check_reader_options(encoding_errors: str, on_error: str) -> None:
    """--encoding-errors and --on-error values, checked before any file is opened."""
    if encoding_errors not in ENCODING_ERRORS:
        raise EmolabelError(f"--encoding-errors {encoding_errors}: choose strict or replace")
    if on_error not in ON_ERROR:
        raise EmolabelError(f"--on-error {on_error}: choose fail or skip")


_DELIMITER_NAMES = {"\\t": "\t", "tab": "\t", "TAB": "\t"}


def check_delimiter(delimiter: str | None) -> str | None:
    """One character (`\\t` and `tab` mean a tab) that is not a quote or a line break."""
    if delimiter is None:
        return None
    value = _DELIMITER_NAMES.get(delimiter, delimiter)
    if len(value) != 1 or value in '"\r\n':
        raise EmolabelError(
            f"--delimiter {delimiter!r}: pass one character such as ';', '|' or '\\t'"
        )
    return value


def check_delimiter_format(delimiter: str | None, fmt: str, name: object) -> None:
    """--delimiter only splits CSV and TSV files."""
    if delimiter is not None and fmt not in ("csv", "tsv"):
        raise EmolabelError(f"--delimiter is for CSV and TSV files; {name} is {fmt}: drop it")


__all__ = [
    "check_delimiter",
    "check_delimiter_format",
    "check_reader_options",
    "open_corpus",
    "open_file",
]
