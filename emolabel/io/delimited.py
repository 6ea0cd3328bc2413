"""CSV and TSV: streamed through pyarrow's CSV reader in small blocks, every column read as
text, rows that outgrow a block re-read with bigger blocks, bad rows named by line."""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import IO, Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from emolabel.errors import EmolabelError
from emolabel.io.columns import (
    choose_text_column,
    refuse_duplicate_columns,
    string_column_names,
)
from emolabel.io.encoding import (
    Source,
    find_line_starting_with,
    find_lines_starting_with,
    open_binary,
    reader_path,
    source_size,
    stream_errors,
    utf8_error,
)
from emolabel.io.formats import DEFAULT_BLOCK_BYTES, MAX_BLOCK_BYTES
from emolabel.io.reader import CorpusReader, RowError


class CsvBlockStream(io.RawIOBase):
    """The bytes pyarrow's CSV reader sees, one read per block it parses.

    No block ends in a carriage return while more bytes follow: pyarrow 26 drops the
    newline of a quoted CRLF whose CR ends a block. With --encoding-errors replace,
    undecodable bytes are replaced on the way through.
    """

    def __init__(self, stream: IO[bytes], *, replace_bad_utf8: bool) -> None:
        self._stream = stream
        self._decoder = (
            codecs.getincrementaldecoder("utf-8")(errors="replace") if replace_bad_utf8 else None
        )
        self._pending = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        while len(self._pending) <= size and not self._eof:  # one byte past the block, to look
            chunk = self._stream.read(max(size, DEFAULT_BLOCK_BYTES))
            self._eof = not chunk
            if self._decoder is not None:
                chunk = self._decoder.decode(chunk, final=self._eof).encode("utf-8")
            self._pending += chunk
        n = min(size, len(self._pending))
        if 1 < n < len(self._pending) and self._pending[n - 1] == 0x0D:
            n -= 1  # the CR starts the next block, with its LF
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def row_exceeds_block(exc: Exception) -> bool:
    """pyarrow's CSV reader fails on a row longer than its block size ("straddling object")."""
    return "straddl" in str(exc)


class DelimitedFile:
    """One CSV/TSV file read as all-string record batches.

    The first block is read once to learn the column names; every later pass reads from the
    start, skipping rows an earlier pass (with smaller blocks) already gave out.
    """

    def __init__(
        self,
        path: Source,
        *,
        fmt: str,
        gzipped: bool,
        batch_rows: int,
        encoding_errors: str,
        on_error: str,
        delimiter: str | None = None,
        header: bool = True,
        column_names: Sequence[str] | None = None,
    ) -> None:
        self.path = path
        self.header = header
        self.column_names = list(column_names) if column_names else None
        self.fmt = fmt
        self.gzipped = gzipped
        self.batch_rows = batch_rows
        self.encoding_errors = encoding_errors
        self.on_error = on_error
        self.delimiter = delimiter or ("\t" if fmt == "tsv" else ",")
        self._delimiter_given = delimiter is not None
        self.rejected: list[RowError] = []
        self._row_errors: list[EmolabelError] = []
        self._position: Callable[[], int] = lambda: 0
        self.schema, self._first_block = self._probe()

    # -- pyarrow callbacks and streams ---------------------------------------------------
    def _invalid_row(self, row: Any) -> str:
        reason = f"expected {row.expected_columns} columns, got {row.actual_columns}"
        if self.on_error == "skip":
            self.rejected.append(RowError(line=None, reason=reason, raw=row.text))
            return "skip"
        line = find_line_starting_with(self.path, self.gzipped, row.text)
        where = f" line {line}" if line else ""
        snippet = row.text if len(row.text) <= 60 else row.text[:57] + "..."
        what = "tabs" if self.fmt == "tsv" else "commas"
        # pyarrow swallows exceptions raised here: keep ours and let it raise its own.
        self._row_errors.append(
            EmolabelError(
                f"{self.path}{where}: {reason} ({snippet!r}); fix the row, quote fields that "
                f"contain {what}, or pass --on-error skip"
            )
        )
        return "error"

    def _open(
        self, column_types: dict[str, pa.DataType] | None, block: int
    ) -> tuple[Any, IO[bytes], Callable[[], int], int]:
        """(pyarrow reader, byte stream, position, block size that fits the first rows)."""
        # The type probe (no column_types) reads one block only: it must not report rows.
        handler = self._invalid_row if column_types is not None else (lambda row: "skip")
        parse_options = pa_csv.ParseOptions(
            delimiter=self.delimiter, newlines_in_values=True, invalid_row_handler=handler
        )
        stream, position = open_binary(self.path, self.gzipped)
        source = CsvBlockStream(stream, replace_bad_utf8=self.encoding_errors == "replace")
        convert = pa_csv.ConvertOptions(column_types=column_types or {}, strings_can_be_null=False)
        try:
            with stream_errors(self.path):
                reader = pa_csv.open_csv(
                    source,
                    read_options=self._read_options(block),
                    parse_options=parse_options,
                    convert_options=convert,
                )
        except pa.ArrowInvalid as exc:
            stream.close()
            if row_exceeds_block(exc) and block < MAX_BLOCK_BYTES and not self._row_errors:
                return self._open(column_types, block * 8)
            raise self._parse_error(exc) from None
        return reader, stream, position, block

    def _read_options(self, block: int) -> pa_csv.ReadOptions:
        """Names from the header, from `column_names` (replacing a header), or f0, f1, ..."""
        if self.column_names is None:
            return pa_csv.ReadOptions(block_size=block, autogenerate_column_names=not self.header)
        return pa_csv.ReadOptions(
            block_size=block, column_names=self.column_names, skip_rows=int(self.header)
        )

    def _parse_error(self, exc: Exception) -> EmolabelError:
        if self._row_errors:
            return self._row_errors[0]
        message = str(exc)
        if "UTF8" in message or "utf-8" in message.lower():
            return utf8_error(self.path, self.gzipped)
        if "Empty CSV file" in message:
            return EmolabelError(f"{self.path} is empty: pass a file with a header and rows")
        return EmolabelError(f"{self.path}: cannot parse as {self.fmt.upper()}: {message}")

    def _probe(self) -> tuple[pa.Schema, int]:
        """The column names (all read as text) from the first block."""
        probe, stream, _, block = self._open(None, DEFAULT_BLOCK_BYTES)
        inferred = probe.schema
        stream.close()
        refuse_duplicate_columns(self.path, inferred.names)
        if self.header and not self._delimiter_given and len(inferred.names) == 1:
            self._refuse_other_delimiter(inferred.names[0])
        self.inferred_schema = inferred
        return pa.schema([(name, pa.string()) for name in inferred.names]), block

    def _refuse_other_delimiter(self, header: str) -> None:
        """One column whose name holds ; TAB or |: the file is most likely split by that."""
        for char, shown in ((";", ";"), ("\t", "\\t"), ("|", "|")):
            if char in header:
                raise EmolabelError(
                    f"{self.path}: one column, whose header {header[:60]!r} holds {shown!r}: "
                    f"if the file is {shown!r}-separated, pass --delimiter '{shown}'"
                )

    # -- passes over the file ------------------------------------------------------------
    def _one_pass(self, block: int, skip: int) -> Generator[pa.RecordBatch, None, tuple[int, int]]:
        """Yield the rows after the first `skip`; return (rows read, 0 at the end of the file
        or a bigger block size when a row outgrew this one)."""
        column_types = {name: pa.string() for name in self.schema.names}
        reader, stream, position, block = self._open(column_types, block)
        self._position = position
        rows = 0
        try:
            while True:
                try:
                    with stream_errors(self.path):
                        batch = reader.read_next_batch()
                except StopIteration:
                    return rows, 0
                except pa.ArrowInvalid as exc:
                    if row_exceeds_block(exc) and block < MAX_BLOCK_BYTES and not self._row_errors:
                        return rows, block * 8
                    raise self._parse_error(exc) from None
                rows += batch.num_rows
                fresh = batch.slice(max(0, skip - (rows - batch.num_rows)))
                for start in range(0, fresh.num_rows, self.batch_rows):
                    yield fresh.slice(start, self.batch_rows)
        finally:
            stream.close()

    def batches(self) -> Iterator[pa.RecordBatch]:
        block, seen_rows = self._first_block, 0
        while block:  # read again, with bigger blocks, whenever a row outgrows a block
            self.rejected.clear()  # a re-read finds the rejected rows again
            seen_rows, block = yield from self._one_pass(block, seen_rows)
        if self.rejected:
            self._find_rejected_lines()
        if seen_rows == 0 and not self.rejected:
            raise EmolabelError(f"{self.path} has a header but no rows: nothing to label")

    def _find_rejected_lines(self) -> None:
        lines = find_lines_starting_with(self.path, self.gzipped, [r.raw for r in self.rejected])
        for row, line in zip(self.rejected, lines, strict=True):
            row.line = line

    def position(self) -> int:
        return self._position()


def open_delimited(
    path: Source,
    *,
    fmt: str,
    gzipped: bool,
    text_column: str | None,
    batch_rows: int,
    encoding_errors: str,
    on_error: str,
    delimiter: str | None = None,
) -> CorpusReader:
    """Open a CSV/TSV file; the text column is chosen from the first block's inferred types."""
    source = DelimitedFile(
        path,
        fmt=fmt,
        gzipped=gzipped,
        batch_rows=batch_rows,
        encoding_errors=encoding_errors,
        on_error=on_error,
        delimiter=delimiter,
    )
    inferred = source.inferred_schema
    column = choose_text_column(path, inferred, text_column, string_column_names(inferred))
    return CorpusReader(
        path=reader_path(path),
        format=fmt,
        gzipped=gzipped,
        schema=source.schema,
        text_column=column,
        total_rows=None,
        total_bytes=source_size(path),
        _batches=source.batches,
        _position=source.position,
        rejected=source.rejected,
    )
