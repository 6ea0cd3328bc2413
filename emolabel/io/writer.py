"""Output writers: one incremental writer per output file (parquet, CSV, TSV, JSONL,
optionally gzipped), and rechunking a batch stream to a fixed number of rows."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from emolabel.errors import EmolabelError


class CorpusWriter:
    """Incremental writer for one output file of a fixed schema."""

    def __init__(self, path: Path, fmt: str, schema: pa.Schema, *, gzipped: bool = False) -> None:
        self.path = path
        self.format = fmt
        self.schema = schema
        self._sink: Any = None
        self._writer: Any = None
        if fmt == "parquet":
            self._writer = pq.ParquetWriter(str(path), schema, compression="zstd")
            return
        self._sink = pa.output_stream(str(path), compression="gzip" if gzipped else None)
        if fmt in ("csv", "tsv"):
            for f in schema:
                if pa.types.is_nested(f.type):
                    self._sink.close()
                    raise EmolabelError(
                        f"column {f.name!r} holds nested values that {fmt.upper()} cannot "
                        "store: write .parquet or .jsonl instead"
                    )
            options = pa_csv.WriteOptions(delimiter="\t" if fmt == "tsv" else ",")
            self._writer = pa_csv.CSVWriter(self._sink, schema, write_options=options)

    def write(self, batch: pa.RecordBatch) -> None:
        if self.format == "jsonl":
            import polars as pl

            buffer = io.BytesIO()
            pl.from_arrow(batch).write_ndjson(buffer)  # type: ignore[union-attr]
            self._sink.write(buffer.getvalue())
        else:
            self._writer.write_batch(batch)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    def __enter__(self) -> CorpusWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def rechunk(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """Exactly `rows` rows per batch (the last may be shorter), whatever the reader gives."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending)
            head = table.slice(0, rows).combine_chunks()
            yield _single_batch(head)
            rest = table.slice(rows)
            pending = rest.to_batches() if rest.num_rows else []
            count = rest.num_rows
    if count:
        yield _single_batch(pa.Table.from_batches(pending).combine_chunks())


def _single_batch(table: pa.Table) -> pa.RecordBatch:
    batches = table.to_batches()
    if len(batches) == 1:
        return batches[0]
    return pa.RecordBatch.from_arrays(
        [table.column(i).combine_chunks() for i in range(table.num_columns)], schema=table.schema
    )
