"""JSON lines: one object a line, read in groups of `batch_rows` records; the schema comes
from the first group (keys mixing text and numbers become text), later records must fit it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Generator, Iterator
from typing import Any

import pyarrow as pa

from emolabel.errors import EmolabelError
from emolabel.io.columns import choose_text_column
from emolabel.io.encoding import Source, decoded_lines, reader_path, source_size
from emolabel.io.json_array import json_array_records, starts_with_array
from emolabel.io.reader import CorpusReader, RowError

Record = tuple[int, dict[str, Any]]  # (line number, object)
_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads joins pairs: what is left is alone


class JsonLinesFile:
    """One JSONL file as record batches of a schema fixed by its first `batch_rows` records."""

    def __init__(
        self,
        path: Source,
        *,
        gzipped: bool,
        text_column: str | None,
        batch_rows: int,
        encoding_errors: str,
        on_error: str,
        choose: bool = True,
        exclude: Collection[str] = (),
        keep_lines: bool = False,
    ) -> None:
        self.path = path
        self.gzipped = gzipped
        self.batch_rows = batch_rows
        self.encoding_errors = encoding_errors
        self.on_error = on_error
        self.rejected: list[RowError] = []
        self.keep_lines = keep_lines
        self.lines: list[int] = []  # with keep_lines: the line each row given out starts on
        self._position: Callable[[], int] = lambda: 0
        self.is_array = starts_with_array(path, gzipped)
        self._groups = self._grouped()
        first = next(self._groups, None)
        if first is None:
            raise EmolabelError(f"{path} has no JSON records: nothing to label")
        self._first = first
        schema, self._stringify = infer_json_schema(path, first, text_column)
        self.text_column: str | None = None
        if text_column is not None or choose:
            strings = [f.name for f in schema if pa.types.is_string(f.type)]
            self.text_column = choose_text_column(
                path, schema, text_column, strings, exclude=exclude
            )
            index = schema.get_field_index(self.text_column)
            schema = schema.set(index, pa.field(self.text_column, pa.string()))
            self._stringify.add(self.text_column)
        self.schema = schema

    def _set_position(self, position: Callable[[], int]) -> None:
        self._position = position

    def position(self) -> int:
        return self._position()

    def _reject_or_raise(self, number: int, line: str, reason: str, fix: str) -> None:
        if self.on_error == "skip":
            self.rejected.append(RowError(number, reason, line.rstrip("\r\n")))
            return
        raise EmolabelError(f"{self.path} line {number}: {reason}; {fix}")

    def _records(self) -> Iterator[Record]:
        if self.is_array:
            yield from self._array_records()
            return
        lines = decoded_lines(self.path, self.gzipped, self.encoding_errors, self._set_position)
        for number, line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                reason = f"malformed JSON ({exc.msg} at column {exc.colno})"
                self._reject_or_raise(number, line, reason, "fix the line or pass --on-error skip")
                continue
            if not isinstance(record, dict):
                self._reject_or_raise(
                    number, line, "not a JSON object", "write one {...} object per line"
                )
                continue
            repeated = repeated_key(line, record)
            if repeated is not None:
                self._reject_or_raise(number, line, *_repeated_key_message(repeated))
                continue
            if "\\u" in line and ("\\ud" in line or "\\uD" in line) and has_surrogate(record):
                record = self._lone_surrogates(number, line, record)
                if record is None:
                    continue
            yield number, record

    def _array_records(self) -> Iterator[Record]:
        """A JSON array's objects: read whole, so progress jumps to the end at once."""
        size = source_size(self.path) or 0
        self._position = lambda: size
        for number, record, raw in json_array_records(
            self.path, self.gzipped, self.encoding_errors
        ):
            repeated = repeated_key(raw, record)
            if repeated is not None:
                reason, fix = _repeated_key_message(repeated)
                raise EmolabelError(f"{self.path} line {number}: {reason}; {fix}")
            if has_surrogate(record):
                record = self._lone_surrogates(number, json.dumps(record), record)
                if record is None:
                    continue
            yield number, record

    def _grouped(self) -> Generator[list[Record], None, None]:
        group: list[Record] = []
        for item in self._records():
            group.append(item)
            if len(group) >= self.batch_rows:
                yield group
                group = []
        if group:
            yield group

    def _to_batch(self, group: list[Record]) -> pa.RecordBatch:
        names = set(self.schema.names)
        column = self.text_column
        for number, record in group:
            extra = record.keys() - names
            if extra:
                raise EmolabelError(
                    f"{self.path} line {number}: key {sorted(extra)[0]!r} is not in the first "
                    f"{self.batch_rows} records, so the output schema cannot hold it; "
                    "put every key in the first records or drop it"
                )
            value = record.get(column) if column is not None else None
            if isinstance(value, (dict, list)):
                raise EmolabelError(
                    f"{self.path} line {number}: column {column!r} holds a nested value, not "
                    "text; pass --text-column naming a string field"
                )
        rows = [stringified(record, self._stringify) for _, record in group]
        try:
            batch = pa.RecordBatch.from_pylist(rows, schema=self.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise EmolabelError(
                f"{self.path} lines {group[0][0]}-{group[-1][0]}: a value's type differs from "
                f"the first records ({exc}); make each key's type consistent"
            ) from None
        if self.keep_lines:
            self.lines += [number for number, _ in group]
        return batch

    def _lone_surrogates(self, number: int, line: str, record: dict[str, Any]) -> Any:
        """The record with lone surrogates (a "\\ud800" escape not half of a pair, which no
        UTF-8 text holds) replaced by U+FFFD, or None once rejected; else an error."""
        if self.encoding_errors == "replace":
            return replace_surrogates(record)
        fix = "fix the line, or pass --encoding-errors replace or --on-error skip"
        self._reject_or_raise(number, line, "a lone \\uD800-\\uDFFF escape (not valid text)", fix)
        return None

    def close(self) -> None:
        self._groups.close()

    def batches(self) -> Iterator[pa.RecordBatch]:
        yield self._to_batch(self._first)
        for group in self._groups:
            yield self._to_batch(group)


def open_jsonl(
    path: Source,
    *,
    fmt: str,
    gzipped: bool,
    text_column: str | None,
    batch_rows: int,
    encoding_errors: str,
    on_error: str,
) -> CorpusReader:
    """Open a JSONL file: reads the first group of records to fix the schema."""
    source = JsonLinesFile(
        path,
        gzipped=gzipped,
        text_column=text_column,
        batch_rows=batch_rows,
        encoding_errors=encoding_errors,
        on_error=on_error,
    )
    assert source.text_column is not None  # choose=True always picks one
    return CorpusReader(
        path=reader_path(path),
        format=fmt,
        gzipped=gzipped,
        schema=source.schema,
        text_column=source.text_column,
        total_rows=None,
        total_bytes=source_size(path),
        _batches=source.batches,
        _position=source.position,
        rejected=source.rejected,
        _close=source.close,
    )


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


_KEY_END = re.compile(r'"\s*:')  # how every key in JSON text ends (and a few strings)


def repeated_key(raw: str, value: Any) -> str | None:
    """A key given twice in one object of the JSON text `raw` (parsed: `value`), else None.

    json.loads keeps the last of two equal keys silently, so every record is checked. Cheaply:
    each key in the text is followed by exactly one colon, so when the text has no more
    colons (or, next, no more quote-colon endings) than the parsed value has keys, none was
    repeated. Otherwise (a repeat, or strings that hold colons) the text is parsed again
    with a hook that sees every key.
    """
    keys = _key_count(value)
    if raw.count(":") <= keys or len(_KEY_END.findall(raw)) <= keys:
        return None
    try:
        json.loads(raw, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        return exc.key
    return None


def _key_count(value: Any) -> int:
    """Keys of every object in the value, nested ones too."""
    if isinstance(value, dict):
        count = len(value)
        for item in value.values():
            if isinstance(item, (dict, list)):
                count += _key_count(item)
        return count
    if isinstance(value, list):
        return sum(_key_count(v) for v in value if isinstance(v, (dict, list)))
    return 0


def _repeated_key_message(key: str) -> tuple[str, str]:
    return (
        f"duplicate column name {key!r} (a key given twice)",
        "rename the keys so each name is used once",
    )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record = dict(pairs)
    if len(record) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return record


def has_surrogate(value: Any) -> bool:
    """True when a string anywhere in the value holds a lone surrogate."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(has_surrogate(k) or has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_surrogate(v) for v in value)
    return False


def replace_surrogates(value: Any) -> Any:
    """The value with each lone surrogate replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {replace_surrogates(k): replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_surrogates(v) for v in value]
    return value


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


def infer_json_schema(
    path: Source, group: list[Record], text_column: str | None
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
    rows = [stringified(record, stringify) for _, record in group]
    keys = dict.fromkeys(key for row in rows for key in row)  # every key, not only row 1's
    try:
        table = pa.Table.from_pydict({key: [row.get(key) for row in rows] for key in keys})
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


def stringified(record: dict[str, Any], keys: set[str]) -> dict[str, Any]:
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
