"""Streaming corpus readers and writers: CSV/TSV/JSONL/parquet/txt (optionally gzipped).

Everything moves as Arrow record batches of bounded size, so a file of any length is read,
labelled and written in about the memory of one chunk. Readers report errors with the file
and line; writers write to a temporary file that is renamed into place only on success.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from emolabel.errors import EmolabelError

INPUT_FORMATS = ("csv", "tsv", "jsonl", "parquet", "txt")
OUTPUT_FORMATS = ("parquet", "csv", "tsv", "jsonl")
TEXT_COLUMN_NAMES = ("text", "content", "body", "tweet", "sentence", "message")
_EXTENSIONS = {
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
    fmt = _EXTENSIONS.get(Path(name).suffix)
    if fmt is None:
        raise EmolabelError(
            f"{path}: unknown file extension; name it .csv, .tsv, .jsonl, .parquet or .txt "
            "(optionally .gz) or pass --format"
        )
    return fmt, gzipped


@dataclass
class RowError:
    """A malformed row that --on-error skip set aside."""

    line: int | None
    reason: str
    raw: str


def _row_exceeds_block(exc: Exception) -> bool:
    """pyarrow's CSV reader fails on a row longer than its block size ("straddling object")."""
    return "straddl" in str(exc)


@dataclass
class CorpusReader:
    """An opened corpus: its schema, its text column, and a stream of record batches."""

    path: Path
    format: str
    gzipped: bool
    schema: pa.Schema
    text_column: str
    total_rows: int | None
    total_bytes: int | None
    _batches: Callable[[], Iterator[pa.RecordBatch]]
    _position: Callable[[], int] = field(default=lambda: 0)
    rejected: list[RowError] = field(default_factory=list)

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self._batches()

    def position(self) -> int:
        """Bytes of the file consumed so far (rows for parquet), for progress and ETA."""
        try:
            return self._position()
        except ValueError:  # the file is already closed: everything was read
            return self.total_bytes or self.total_rows or 0


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
    if encoding_errors not in ENCODING_ERRORS:
        raise EmolabelError(f"--encoding-errors {encoding_errors}: choose strict or replace")
    if on_error not in ("fail", "skip"):
        raise EmolabelError(f"--on-error {on_error}: choose fail or skip")
    fmt, gzipped = detect_format(path, format)
    size = path.stat().st_size
    if size == 0:
        raise EmolabelError(f"{path} is empty: pass a file with a header and rows")
    opener = {
        "csv": _open_delimited,
        "tsv": _open_delimited,
        "jsonl": _open_jsonl,
        "txt": _open_txt,
        "parquet": _open_parquet,
    }[fmt]
    reader: CorpusReader = opener(
        path,
        fmt=fmt,
        gzipped=gzipped,
        text_column=text_column,
        batch_rows=batch_rows,
        encoding_errors=encoding_errors,
        on_error=on_error,
    )
    return reader


# ------------------------------------------------------------------------- text column
def choose_text_column(
    path: Path, schema: pa.Schema, requested: str | None, string_columns: list[str]
) -> str:
    """--text-column if given, else a well-known name, else the only string column."""
    names = schema.names
    listing = ", ".join(names) if names else "(none)"
    if requested is not None:
        if requested not in names:
            raise EmolabelError(f"{path}: no column named {requested!r}; columns are: {listing}")
        return requested
    lowered = {name.lower(): name for name in names}
    known = [lowered[n] for n in TEXT_COLUMN_NAMES if n in lowered]
    if len(known) == 1:
        return known[0]
    if len(known) > 1:
        raise EmolabelError(
            f"{path}: several text-like columns ({', '.join(known)}); "
            f"pass --text-column (columns are: {listing})"
        )
    if len(string_columns) == 1:
        return string_columns[0]
    if not string_columns:
        raise EmolabelError(
            f"{path}: no text column found; pass --text-column (columns are: {listing})"
        )
    raise EmolabelError(
        f"{path}: cannot tell which column holds the text; pass --text-column "
        f"(columns are: {listing})"
    )


def text_values(batch: pa.RecordBatch, column: str, path: Path) -> list[str | None]:
    """The text column as Python strings: numbers are stringified, nested values refused."""
    array = batch.column(batch.schema.get_field_index(column))
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return array.to_pylist()
    if pa.types.is_dictionary(kind):
        return array.cast(pa.string()).to_pylist()
    if pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        raise EmolabelError(
            f"{path}: column {column!r} holds {kind} values, not text; pass --text-column "
            "naming a string column"
        )
    return [None if v is None else str(v) for v in array.to_pylist()]


# ------------------------------------------------------------------------- raw streams
class _CountingFile(io.RawIOBase):
    """Wraps the on-disk file so progress can be read as compressed bytes consumed."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._raw.readinto(buffer)  # type: ignore[attr-defined]

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._raw.close()
        super().close()


def _open_binary(path: Path, gzipped: bool) -> tuple[IO[bytes], Callable[[], int]]:
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller's generator
    stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
    return stream, raw.tell


class _CsvBlockStream(io.RawIOBase):
    """The bytes pyarrow's CSV reader sees, one read per block it parses.

    No block ends in a carriage return while more bytes follow: pyarrow 26 drops the
    newline of a quoted CRLF whose CR ends a block. With --encoding-errors replace,
    undecodable bytes are replaced on the way through.
    """

    def __init__(self, stream: IO[bytes], *, replace_bad_utf8: bool) -> None:
        import codecs

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


def _stream_errors(path: Path) -> Any:
    """Translate low-level stream failures (truncated gzip, I/O) into user errors."""

    class _Guard:
        def __enter__(self) -> None:
            return None

        def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
            if exc is None:
                return False
            if isinstance(exc, EOFError) or (
                isinstance(exc, pa.ArrowInvalid) and "gzip" in str(exc).lower()
            ):
                raise EmolabelError(
                    f"{path}: the compressed file ends early (truncated download?); "
                    "re-fetch or re-compress it"
                ) from None
            if isinstance(exc, (gzip.BadGzipFile, zlib.error)):
                raise EmolabelError(
                    f"{path}: not a valid gzip file ({exc}); check the file"
                ) from None
            return False

    return _Guard()


def find_bad_utf8_line(path: Path, gzipped: bool) -> int | None:
    """1-based number of the first line that is not valid UTF-8 (only used on error)."""
    stream, _ = _open_binary(path, gzipped)
    with stream:
        for number, line in enumerate(stream, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


def find_line_starting_with(path: Path, gzipped: bool, text: str) -> int | None:
    """1-based number of the first line that begins with `text` (only used on error)."""
    stream, _ = _open_binary(path, gzipped)
    probe = text.split("\n", 1)[0].encode("utf-8", errors="replace")
    with stream:
        for number, line in enumerate(stream, start=1):
            if line.rstrip(b"\r\n") == probe:
                return number
    return None


def _decoded_lines(
    path: Path, gzipped: bool, encoding_errors: str, state: dict[str, Any]
) -> Iterator[tuple[int, str]]:
    """(line number, text) of a line-oriented file; a BOM at the start is dropped."""
    stream, position = _open_binary(path, gzipped)
    state["position"] = position
    with stream, _stream_errors(path):
        for number, raw in enumerate(stream, start=1):
            try:
                yield (
                    number,
                    raw.decode("utf-8-sig" if number == 1 else "utf-8", errors=encoding_errors),
                )
            except UnicodeDecodeError:
                raise _utf8_error(path, gzipped, number) from None


def _utf8_error(path: Path, gzipped: bool, line: int | None = None) -> EmolabelError:
    line = line or find_bad_utf8_line(path, gzipped)
    where = f" line {line}" if line else ""
    return EmolabelError(
        f"{path}{where}: invalid UTF-8; re-encode the file as UTF-8 or pass "
        "--encoding-errors replace"
    )


# ------------------------------------------------------------------------- CSV / TSV
def _open_delimited(
    path: Path,
    *,
    fmt: str,
    gzipped: bool,
    text_column: str | None,
    batch_rows: int,
    encoding_errors: str,
    on_error: str,
) -> CorpusReader:
    delimiter = "\t" if fmt == "tsv" else ","
    rejected: list[RowError] = []
    row_errors: list[EmolabelError] = []

    def invalid_row(row: Any) -> str:
        reason = f"expected {row.expected_columns} columns, got {row.actual_columns}"
        if on_error == "skip":
            rejected.append(RowError(line=None, reason=reason, raw=row.text))
            return "skip"
        line = find_line_starting_with(path, gzipped, row.text)
        where = f" line {line}" if line else ""
        snippet = row.text if len(row.text) <= 60 else row.text[:57] + "..."
        # pyarrow swallows exceptions raised here: keep ours and let it raise its own.
        row_errors.append(
            EmolabelError(
                f"{path}{where}: {reason} ({snippet!r}); fix the row, quote fields that contain "
                f"{'tabs' if fmt == 'tsv' else 'commas'}, or pass --on-error skip"
            )
        )
        return "error"

    def open_stream(column_types: dict[str, pa.DataType] | None, block: int) -> Any:
        # The type probe (no column_types) reads one block only: it must not report rows.
        handler = invalid_row if column_types is not None else (lambda row: "skip")
        parse_options = pa_csv.ParseOptions(
            delimiter=delimiter, newlines_in_values=True, invalid_row_handler=handler
        )
        stream, position = _open_binary(path, gzipped)
        source = _CsvBlockStream(stream, replace_bad_utf8=encoding_errors == "replace")
        read_options = pa_csv.ReadOptions(block_size=block)
        convert = pa_csv.ConvertOptions(column_types=column_types or {}, strings_can_be_null=False)
        try:
            with _stream_errors(path):
                reader = pa_csv.open_csv(
                    source,
                    read_options=read_options,
                    parse_options=parse_options,
                    convert_options=convert,
                )
        except pa.ArrowInvalid as exc:
            stream.close()
            if row_errors:
                raise row_errors[0] from None
            if _row_exceeds_block(exc) and block < MAX_BLOCK_BYTES:
                return open_stream(column_types, block * 8)
            message = str(exc)
            if "UTF8" in message or "utf-8" in message.lower():
                raise _utf8_error(path, gzipped) from None
            if "Empty CSV file" in message:
                raise EmolabelError(
                    f"{path} is empty: pass a file with a header and rows"
                ) from None
            raise EmolabelError(f"{path}: cannot parse as {fmt.upper()}: {message}") from None
        return reader, stream, position, block

    # First pass over one block: the inferred types tell which columns hold text.
    probe, probe_stream, _, first_block = open_stream(None, DEFAULT_BLOCK_BYTES)
    inferred = probe.schema
    probe_stream.close()
    strings = [f.name for f in inferred if pa.types.is_string(f.type) or pa.types.is_null(f.type)]
    column = choose_text_column(path, inferred, text_column, strings)
    all_strings = {name: pa.string() for name in inferred.names}
    schema = pa.schema([(name, pa.string()) for name in inferred.names])

    state: dict[str, Callable[[], int]] = {"position": lambda: 0}

    def one_pass(block: int, skip: int) -> Generator[pa.RecordBatch, None, tuple[int, int]]:
        """Yield the rows after the first `skip`; return (rows read, 0 at the end of the file
        or a bigger block size when a row outgrew this one)."""
        reader, stream, position, block = open_stream(all_strings, block)
        state["position"] = position
        rows = 0
        try:
            while True:
                try:
                    with _stream_errors(path):
                        batch = reader.read_next_batch()
                except StopIteration:
                    return rows, 0
                except pa.ArrowInvalid as exc:
                    if row_errors:
                        raise row_errors[0] from None
                    if "UTF8" in str(exc):
                        raise _utf8_error(path, gzipped) from None
                    if _row_exceeds_block(exc) and block < MAX_BLOCK_BYTES:
                        return rows, block * 8
                    raise EmolabelError(f"{path}: cannot parse as {fmt.upper()}: {exc}") from None
                rows += batch.num_rows
                fresh = batch.slice(max(0, skip - (rows - batch.num_rows)))
                for start in range(0, fresh.num_rows, batch_rows):
                    yield fresh.slice(start, batch_rows)
        finally:
            stream.close()

    def batches() -> Iterator[pa.RecordBatch]:
        block, seen_rows = first_block, 0
        while block:  # read again, with bigger blocks, whenever a row outgrows a block
            rejected.clear()  # a re-read finds the rejected rows again
            seen_rows, block = yield from one_pass(block, seen_rows)
        if seen_rows == 0 and not rejected:
            raise EmolabelError(f"{path} has a header but no rows: nothing to label")

    return CorpusReader(
        path=path,
        format=fmt,
        gzipped=gzipped,
        schema=schema,
        text_column=column,
        total_rows=None,
        total_bytes=path.stat().st_size,
        _batches=batches,
        _position=lambda: state["position"](),
        rejected=rejected,
    )


# ------------------------------------------------------------------------- JSONL
def _open_jsonl(
    path: Path,
    *,
    fmt: str,
    gzipped: bool,
    text_column: str | None,
    batch_rows: int,
    encoding_errors: str,
    on_error: str,
) -> CorpusReader:
    rejected: list[RowError] = []
    state: dict[str, Any] = {"position": lambda: 0, "schema": None}

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        for number, line in _decoded_lines(path, gzipped, encoding_errors, state):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                reason = f"malformed JSON ({exc.msg} at column {exc.colno})"
                if on_error == "skip":
                    rejected.append(RowError(number, reason, line.rstrip("\r\n")))
                    continue
                raise EmolabelError(
                    f"{path} line {number}: {reason}; fix the line or pass --on-error skip"
                ) from None
            if not isinstance(record, dict):
                reason = "not a JSON object"
                if on_error == "skip":
                    rejected.append(RowError(number, reason, line.rstrip("\r\n")))
                    continue
                raise EmolabelError(
                    f"{path} line {number}: {reason}; write one {{...}} object per line"
                )
            yield number, record

    def grouped() -> Iterator[list[tuple[int, dict[str, Any]]]]:
        group: list[tuple[int, dict[str, Any]]] = []
        for item in records():
            group.append(item)
            if len(group) >= batch_rows:
                yield group
                group = []
        if group:
            yield group

    groups = grouped()
    first = next(groups, None)
    if first is None:
        raise EmolabelError(f"{path} has no JSON records: nothing to label")
    schema, stringify = _infer_json_schema(path, first, text_column)
    string_columns = [f.name for f in schema if pa.types.is_string(f.type)]
    column = choose_text_column(path, schema, text_column, string_columns)
    schema = schema.set(schema.get_field_index(column), pa.field(column, pa.string()))
    stringify.add(column)

    def to_batch(group: list[tuple[int, dict[str, Any]]]) -> pa.RecordBatch:
        names = set(schema.names)
        for number, record in group:
            extra = record.keys() - names
            if extra:
                raise EmolabelError(
                    f"{path} line {number}: key {sorted(extra)[0]!r} is not in the first "
                    f"{batch_rows} records, so the output schema cannot hold it; "
                    "put every key in the first records or drop it"
                )
            value = record.get(column)
            if isinstance(value, (dict, list)):
                raise EmolabelError(
                    f"{path} line {number}: column {column!r} holds a nested value, not "
                    "text; pass --text-column naming a string field"
                )
        rows = [_stringified(record, stringify) for _, record in group]
        try:
            return pa.RecordBatch.from_pylist(rows, schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise EmolabelError(
                f"{path} lines {group[0][0]}-{group[-1][0]}: a value's type differs from the "
                f"first records ({exc}); make each key's type consistent"
            ) from None

    def batches() -> Iterator[pa.RecordBatch]:
        yield to_batch(first)
        for group in groups:
            yield to_batch(group)

    return CorpusReader(
        path=path,
        format=fmt,
        gzipped=gzipped,
        schema=schema,
        text_column=column,
        total_rows=None,
        total_bytes=path.stat().st_size,
        _batches=batches,
        _position=lambda: state["position"](),
        rejected=rejected,
    )


def _json_kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a nested value"


def _infer_json_schema(
    path: Path, group: list[tuple[int, dict[str, Any]]], text_column: str | None
) -> tuple[pa.Schema, set[str]]:
    """Schema from the first records, and the keys whose scalars are stored as strings.

    A key that mixes text with numbers becomes a string column (as does --text-column);
    one that mixes nested and scalar values is an error naming the line.
    """
    first_kind: dict[str, tuple[str, int]] = {}
    stringify: set[str] = set() if text_column is None else {text_column}
    for number, record in group:
        for key, value in record.items():
            kind = _json_kind(value)
            if kind is None:
                continue
            seen, seen_line = first_kind.setdefault(key, (kind, number))
            if seen == kind:
                continue
            if "a nested value" in (seen, kind):
                raise EmolabelError(
                    f"{path} line {number}: key {key!r} holds {kind} where line {seen_line} "
                    f"holds {seen}; make the key's values all nested or all scalar"
                )
            if {seen, kind} != {"a number"}:
                stringify.add(key)
    rows = [_stringified(record, stringify) for _, record in group]
    try:
        table = pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise EmolabelError(
            f"{path}: the first {len(rows)} records mix value types within a key ({exc}); "
            "make each key's type consistent"
        ) from None
    fields = [
        pa.field(f.name, pa.string()) if pa.types.is_null(f.type) or f.name in stringify else f
        for f in table.schema
    ]
    return pa.schema(fields), stringify


def _stringified(record: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    """Scalars of `keys` as strings (booleans as JSON writes them); others untouched."""
    out = dict(record)
    for key in keys:
        value = out.get(key)
        if value is None or isinstance(value, str):
            continue
        if isinstance(value, (dict, list)):
            continue
        out[key] = json.dumps(value) if isinstance(value, bool) else str(value)
    return out


# ------------------------------------------------------------------------- txt
def _open_txt(
    path: Path,
    *,
    fmt: str,
    gzipped: bool,
    text_column: str | None,
    batch_rows: int,
    encoding_errors: str,
    on_error: str,
) -> CorpusReader:
    if text_column not in (None, "text"):
        raise EmolabelError(f"{path}: a .txt file has one column, 'text'; drop --text-column")
    state: dict[str, Callable[[], int]] = {"position": lambda: 0}
    schema = pa.schema([("text", pa.string())])

    def batches() -> Iterator[pa.RecordBatch]:
        lines: list[str] = []
        for _, line in _decoded_lines(path, gzipped, encoding_errors, state):
            lines.append(line.rstrip("\r\n"))
            if len(lines) >= batch_rows:
                yield pa.record_batch([pa.array(lines, pa.string())], schema=schema)
                lines = []
        if lines:
            yield pa.record_batch([pa.array(lines, pa.string())], schema=schema)

    return CorpusReader(
        path=path,
        format=fmt,
        gzipped=gzipped,
        schema=schema,
        text_column="text",
        total_rows=None,
        total_bytes=path.stat().st_size,
        _batches=batches,
        _position=lambda: state["position"](),
    )


# ------------------------------------------------------------------------- parquet
def _open_parquet(
    path: Path,
    *,
    fmt: str,
    gzipped: bool,
    text_column: str | None,
    batch_rows: int,
    encoding_errors: str,
    on_error: str,
) -> CorpusReader:
    if gzipped:
        raise EmolabelError(f"{path}: parquet is compressed inside; pass the .parquet file itself")
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise EmolabelError(f"{path}: not a readable parquet file ({exc})") from None
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
    state = {"rows": 0}

    def batches() -> Iterator[pa.RecordBatch]:
        state["rows"] = 0
        for batch in parquet.iter_batches(batch_size=batch_rows):
            state["rows"] += batch.num_rows
            yield batch

    return CorpusReader(
        path=path,
        format=fmt,
        gzipped=False,
        schema=schema,
        text_column=column,
        total_rows=total,
        total_bytes=None,
        _batches=batches,
        _position=lambda: state["rows"],
    )


# ------------------------------------------------------------------------- writers
def output_format(path: str | os.PathLike[str], override: str | None = None) -> tuple[str, bool]:
    """(format, gzipped) for an output path; txt is not an output format."""
    if override:
        fmt = override.lower()
        if fmt not in OUTPUT_FORMATS:
            raise EmolabelError(
                f"--output-format {override}: choose one of {', '.join(OUTPUT_FORMATS)}"
            )
        return fmt, str(path).lower().endswith(".gz")
    name = Path(path).name.lower()
    gzipped = name.endswith(".gz")
    fmt = _EXTENSIONS.get(Path(name[:-3] if gzipped else name).suffix)
    if fmt not in OUTPUT_FORMATS:
        raise EmolabelError(
            f"{path}: cannot tell the output format; name it .parquet, .csv, .tsv or .jsonl "
            "or pass --output-format"
        )
    if fmt == "parquet" and gzipped:
        raise EmolabelError(f"{path}: parquet compresses itself; drop the .gz")
    return fmt, gzipped


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
