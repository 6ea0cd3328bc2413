"""Reading and writing corpora: the one reader every command uses (CSV, TSV, JSONL, parquet,
text; gzip; encodings; errors that name the file and line) and the output writers.

    formats.py    format names, file-name detection, shared constants
    encoding.py   opening (gzipped) bytes, UTF-8 and gzip failures, finding an error's line
    columns.py    the text-column rule, text values, duplicate names
    reader.py     CorpusReader (the batch stream every format opener returns), RowError
    delimited.py  CSV/TSV     jsonl.py  JSON lines     parquet.py     text.py  plain text
    json_array.py a JSON file holding one array of objects
    inputs.py     resolve_inputs: files, folders, globs, URIs -> the files to read
    stdin.py      standard input, spooled so readers can start again; sniffing its format
    many.py       several files as one stream (schemas unioned, a source column)
    corpus.py     open_corpus          table.py  read_table (a whole file, for training data)
    writer.py     CorpusWriter, rechunk

Names other than the format constants load lazily, so the CLI can read its choices without
importing pyarrow (and numpy) before a command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emolabel.io.formats import (
    DEFAULT_BLOCK_BYTES,
    ENCODING_ERRORS,
    INPUT_FORMATS,
    LIST_SEPARATOR,
    MAX_BLOCK_BYTES,
    ON_ERROR,
    OUTPUT_FORMATS,
    STDOUT_FORMATS,
    TEXT_COLUMN_NAMES,
    EncodingErrors,
    InputFormat,
    OnError,
    OutputFormat,
    detect_format,
    output_format,
)

if TYPE_CHECKING:
    from emolabel.io.columns import choose_text_column, refuse_duplicate_columns, text_values
    from emolabel.io.corpus import open_corpus
    from emolabel.io.encoding import find_bad_utf8_line, find_line_starting_with
    from emolabel.io.inputs import resolve_inputs
    from emolabel.io.reader import CorpusReader, RowError
    from emolabel.io.stdin import SNIFFABLE_FORMATS
    from emolabel.io.table import LoadedTable, read_table
    from emolabel.io.writer import CorpusWriter, OutputClosed, rechunk

_LAZY = {
    "CorpusReader": "reader",
    "CorpusWriter": "writer",
    "LoadedTable": "table",
    "OutputClosed": "writer",
    "RowError": "reader",
    "SNIFFABLE_FORMATS": "stdin",
    "choose_text_column": "columns",
    "find_bad_utf8_line": "encoding",
    "find_line_starting_with": "encoding",
    "open_corpus": "corpus",
    "read_table": "table",
    "rechunk": "writer",
    "refuse_duplicate_columns": "columns",
    "resolve_inputs": "inputs",
    "text_values": "columns",
}

__all__ = [
    "DEFAULT_BLOCK_BYTES",
    "ENCODING_ERRORS",
    "INPUT_FORMATS",
    "LIST_SEPARATOR",
    "MAX_BLOCK_BYTES",
    "ON_ERROR",
    "OUTPUT_FORMATS",
    "SNIFFABLE_FORMATS",
    "STDOUT_FORMATS",
    "TEXT_COLUMN_NAMES",
    "CorpusReader",
    "CorpusWriter",
    "EncodingErrors",
    "InputFormat",
    "LoadedTable",
    "OnError",
    "OutputClosed",
    "OutputFormat",
    "RowError",
    "choose_text_column",
    "detect_format",
    "find_bad_utf8_line",
    "find_line_starting_with",
    "open_corpus",
    "output_format",
    "read_table",
    "rechunk",
    "refuse_duplicate_columns",
    "resolve_inputs",
    "text_values",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'emolabel.io' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"emolabel.io.{module}"), name)
    globals()[name] = value
    return value
