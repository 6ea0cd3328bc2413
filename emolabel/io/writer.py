"""Output writers: one incremental writer per output file (parquet, CSV, TSV, JSONL,
optionally gzipped) or standard output (`-`: JSONL, CSV, TSV, flushed batch by batch), and
rechunking a batch stream to a fixed number of rows."""

from __future__ import annotations

import errno
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from emolabel.errors import EmolabelError
from emolabel.io.formats import LIST_SEPARATOR, STDOUT_FORMATS

STDOUT = "-"


class OutputClosed(EmolabelError):
    """Standard output was closed by its reader (`| head`): the caller decides (exit 0)."""


class CorpusWriter:
    """Incremental writer for one output file (or `-`, stdout) of a fixed schema.

    CSV/TSV hold no lists: a list<string> column is written as its items joined by
    LIST_SEPARATOR; parquet and JSONL write real lists.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fmt: str,
        schema: pa.Schema,
        *,
        gzipped: bool = False,
        stdout: IO[bytes] | None = None,
    ) -> None:
        self.path = Path(path)
        self.format = fmt
        self.schema = schema
        self._sink: Any = None
        self._writer: Any = None
        self._stdout: IO[bytes] | None = None
        self._header_due = True
        self._joined = [f.name for f in schema if _is_string_list(f.type)]
        if fmt in ("csv", "tsv"):
            _refuse_nested(schema, fmt)
        if os.fspath(path) == STDOUT:
            if fmt not in STDOUT_FORMATS or gzipped:
                raise EmolabelError(
                    f"-o - writes {', '.join(STDOUT_FORMATS)} (uncompressed) to stdout, not "
                    f"{fmt}{' gzipped' if gzipped else ''}: pass --output-format jsonl or csv"
                )
            self._stdout = stdout if stdout is not None else sys.stdout.buffer
            return
        if fmt == "parquet":
            self._writer = pq.ParquetWriter(str(path), schema, compression="zstd")
            return
        self._sink = pa.output_stream(str(path), compression="gzip" if gzipped else None)
        if fmt in ("csv", "tsv"):
            options = pa_csv.WriteOptions(delimiter="\t" if fmt == "tsv" else ",")
            self._writer = pa_csv.CSVWriter(self._sink, self._flat_schema(), write_options=options)

    def _flat_schema(self) -> pa.Schema:
        schema = self.schema
        for name in self._joined:
            index = schema.get_field_index(name)
            schema = schema.set(index, pa.field(name, pa.string()))
        return schema

    def _flat(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """list<string> columns as one string each (CSV/TSV only)."""
        if not self._joined:
            return batch
        arrays = [
            pc.binary_join(column, LIST_SEPARATOR) if name in self._joined else column
            for name, column in zip(batch.schema.names, batch.columns, strict=True)
        ]
        return pa.RecordBatch.from_arrays(arrays, schema=self._flat_schema())

    def write(self, batch: pa.RecordBatch) -> None:
        if self._stdout is not None:
            self._write_stdout(self._encode(batch))
        elif self.format == "jsonl":
            self._sink.write(_ndjson(batch))
        elif self.format in ("csv", "tsv"):
            self._writer.write_batch(self._flat(batch))
        else:
            self._writer.write_batch(batch)

    def _encode(self, batch: pa.RecordBatch) -> bytes:
        if self.format == "jsonl":
            return _ndjson(batch)
        buffer = io.BytesIO()
        options = pa_csv.WriteOptions(
            delimiter="\t" if self.format == "tsv" else ",", include_header=self._header_due
        )
        pa_csv.write_csv(self._flat(batch), buffer, write_options=options)
        self._header_due = False
        return buffer.getvalue()

    def _write_stdout(self, data: bytes) -> None:
        assert self._stdout is not None
        try:
            self._stdout.write(data)
            self._stdout.flush()
        except BrokenPipeError:
            self._stdout_closed()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            self._stdout_closed()

    def _stdout_closed(self) -> None:
        # Python flushes stdout again at exit: point it at /dev/null so that cannot fail too.
        self._stdout = None
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass
        raise OutputClosed("stdout was closed before all rows were written (the reader exited)")

    def close(self) -> None:
        if self._stdout is not None:
            if self._header_due and self.format in ("csv", "tsv"):  # no rows: the header alone
                self._write_stdout(self._encode(pa.RecordBatch.from_pylist([], self.schema)))
            self._stdout = None
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


def _ndjson(batch: pa.RecordBatch) -> bytes:
    import polars as pl

    buffer = io.BytesIO()
    pl.from_arrow(batch).write_ndjson(buffer)  # type: ignore[union-attr]
    return buffer.getvalue()


def _is_string_list(kind: pa.DataType) -> bool:
    return (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and (
        pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)
    )


def _refuse_nested(schema: pa.Schema, fmt: str) -> None:
    for f in schema:
        if pa.types.is_nested(f.type) and not _is_string_list(f.type):
            raise EmolabelError(
                f"column {f.name!r} holds nested values that {fmt.upper()} cannot "
                "store: write .parquet or .jsonl instead"
            )


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
