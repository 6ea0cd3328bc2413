"""Turning a --time column (datetime, date or ISO-like text) into one naive-UTC datetime.

Explicit formats rather than polars' inference, which guesses from a chunk's first value
and so can read one file two ways.
"""

from __future__ import annotations

import polars as pl

from emolabel.errors import EmolabelError

_ZONED_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z")
_NAIVE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
)
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")
_EXAMPLE = "2024-01-31, 2024-01-31 14:05:00 or 2024-01-31T14:05:00+01:00"


def parsed_time(column: str, dtype: pl.DataType, path: object) -> pl.Expr:
    """The column as Datetime(us), naive UTC; a value that does not parse becomes null."""
    col = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            col = col.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return col.cast(pl.Datetime("us"))
    if dtype == pl.Date:
        return col.cast(pl.Datetime("us"))
    if dtype != pl.String:
        raise EmolabelError(
            f"{path}: --time {column} holds {dtype} values, not times; pass a column of dates "
            f"or datetimes (e.g. {_EXAMPLE}), or group by it with --by"
        )
    text = col.str.strip_chars()
    tries = [
        text.str.to_datetime(f, strict=False, time_zone="UTC").dt.replace_time_zone(None)
        for f in _ZONED_FORMATS
    ]
    tries += [text.str.to_datetime(f, strict=False).cast(pl.Datetime("us")) for f in _NAIVE_FORMATS]
    tries += [text.str.to_date(f, strict=False).cast(pl.Datetime("us")) for f in _DATE_FORMATS]
    return pl.coalesce(tries)


def check_times_parse(frame: pl.LazyFrame, column: str, parsed: pl.Expr, path: object) -> int:
    """Refuse a column with a value that does not parse; return the rows with no time."""
    raw = pl.col(column)
    bad = raw.is_not_null() & parsed.is_null()
    if frame.collect_schema()[column] == pl.String:
        bad = bad & (raw.str.strip_chars().str.len_chars() > 0)
    found = frame.select(
        bad.sum().alias("bad"),
        raw.filter(bad).first().cast(pl.String).alias("example"),
        parsed.is_null().sum().alias("missing"),
    ).collect(engine="streaming")
    if found["bad"][0]:
        raise EmolabelError(
            f"{path}: --time {column}: {found['bad'][0]:,} values do not parse as a time, "
            f"e.g. {found['example'][0]!r}; write them as {_EXAMPLE}"
        )
    return int(found["missing"][0])
