"""Column rules every command shares: which column holds the text, its values as strings,
and refusing duplicate column names."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence

import pyarrow as pa

from emolabel.errors import EmolabelError
from emolabel.io.formats import TEXT_COLUMN_NAMES


def choose_text_column(
    path: object,
    schema: pa.Schema,
    requested: str | None,
    string_columns: list[str],
    *,
    exclude: Collection[str] = (),
) -> str:
    """--text-column if given, else a well-known name, else the only string column.

    `exclude` names columns that cannot be the text (training's label column)."""
    names = schema.names
    listing = ", ".join(names) if names else "(none)"
    if requested is not None:
        if requested not in names:
            raise EmolabelError(f"{path}: no column named {requested!r}; columns are: {listing}")
        return requested
    lowered = {name.lower(): name for name in names if name not in exclude}
    known = [lowered[n] for n in TEXT_COLUMN_NAMES if n in lowered]
    if len(known) == 1:
        return known[0]
    if len(known) > 1:
        raise EmolabelError(
            f"{path}: several text-like columns ({', '.join(known)}); "
            f"pass --text-column (columns are: {listing})"
        )
    candidates = [name for name in string_columns if name not in exclude]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise EmolabelError(
            f"{path}: no text column found; pass --text-column (columns are: {listing})"
        )
    raise EmolabelError(
        f"{path}: cannot tell which column holds the text; pass --text-column "
        f"(columns are: {listing})"
    )


def string_column_names(schema: pa.Schema) -> list[str]:
    """Columns that hold text (null-typed columns count: they may hold text later)."""
    return [
        f.name
        for f in schema
        if pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_null(f.type)
    ]


def refuse_duplicate_columns(path: object, names: Sequence[str]) -> None:
    """Two columns of one name: which one is the text is a guess, so refuse it."""
    duplicated = [name for name, count in Counter(names).items() if count > 1]
    if duplicated:
        shown = ", ".join(repr(name) for name in duplicated)
        raise EmolabelError(
            f"{path}: duplicate column name{'s' if len(duplicated) > 1 else ''} {shown}; "
            "rename the columns so each name is used once"
        )


def text_values(batch: pa.RecordBatch, column: str, path: object) -> list[str | None]:
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
