"""Parquet: read in row batches straight from the file's row groups, its own schema kept."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from emolabel.errors import EmolabelError
from emolabel.io.columns import choose_text_column, refuse_duplicate_columns
from emolabel.io.encoding import Source, reader_path
from emolabel.io.reader import CorpusReader
from emolabel.io.stdin import StdinSpool


def open_parquet_file(path: Source) -> pq.ParquetFile:
    """The parquet file, or a one-line error; duplicate column names are refused."""
    try:
        parquet = pq.ParquetFile(path.read_all() if isinstance(path, StdinSpool) else path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise EmolabelError(f"{path}: not a readable parquet file ({exc})") from None
    refuse_duplicate_columns(path, parquet.schema_arrow.names)
    return parquet


def open_parquet(
    path: Source,
    *,
    fmt: str,
    gzipped: bool,
    text_column: str | None,
    batch_rows: int,
    encoding_errors: str,
    on_error: str,
) -> CorpusReader:
    """Open a parquet file: schema and row count come from its footer."""
    if gzipped:
        raise EmolabelError(f"{path}: parquet is compressed inside; pass the .parquet file itself")
    parquet = open_parquet_file(path)
    schema = parquet.schema_arrow
    total = parquet.metadata.num_rows
    if total == 0:
        raise EmolabelError(f"{path} has no rows: nothing to label")
    strings = [
        f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    column = choose_text_column(path, schema, text_column, strings)
    field_type = schema.field(column).type
    if pa.types.is_nested(field_type) or pa.types.is_binary(field_type):
        raise EmolabelError(
            f"{path}: column {column!r} holds {field_type} values, not text; pass --text-column "
            "naming a string column"
        )
    rows_read = [0]

    def batches() -> Iterator[pa.RecordBatch]:
        rows_read[0] = 0
        for batch in parquet.iter_batches(batch_size=batch_rows):
            rows_read[0] += batch.num_rows
            yield batch

    return CorpusReader(
        path=reader_path(path),
        format=fmt,
        gzipped=False,
        schema=schema,
        text_column=column,
        total_rows=total,
        total_bytes=None,
        _batches=batches,
        _position=lambda: rows_read[0],
        _close=parquet.close,
    )
