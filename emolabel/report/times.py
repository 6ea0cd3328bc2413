"""Turning a --time column (datetime, date, ISO-like text, Twitter's created_at text or unix
time) into one naive-UTC datetime.

Explicit formats rather than polars' inference, which guesses from a chunk's first value
and so can read one file two ways. Numbers are unix time, their unit told by magnitude
(below 1e11 seconds, below 1e14 milliseconds, else microseconds: each unit's values from
1973 on are unambiguous), and only times from 1990 to 2100 are accepted, so a column of ids
or counts passed by mistake is refused instead of read as dates in 1970.
"""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl

from emolabel.errors import EmolabelError

_ZONED_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%a %b %d %H:%M:%S %z %Y",  # Twitter's created_at: Wed Oct 10 20:19:24 +0000 2018
)
_NAIVE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
)
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")
_EXAMPLE = "2024-01-31, 2024-01-31 14:05:00 or 2024-01-31T14:05:00+01:00"
_UNIX_EXAMPLE = "unix time in seconds, milliseconds or microseconds, 1990 to 2100"
_UNIX_RANGE_US = tuple(
    datetime(year, 1, 1, tzinfo=timezone.utc).timestamp() * 1e6 for year in (1990, 2100)
)


def parsed_time(column: str, dtype: pl.DataType, path: object) -> pl.Expr:
    """The column as Datetime(us), naive UTC; a value that does not parse becomes null."""
    col = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            col = col.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return col.cast(pl.Datetime("us"))
    if dtype == pl.Date:
        return col.cast(pl.Datetime("us"))
    if dtype.is_numeric():
        return _unix_time(col)
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


def _unix_time(col: pl.Expr) -> pl.Expr:
    value = col.cast(pl.Float64)
    size = value.abs()
    micros = (
        pl.when(size < 1e11).then(value * 1e6).when(size < 1e14).then(value * 1e3).otherwise(value)
    )
    low, high = _UNIX_RANGE_US  # outside (NaN too): null, before the cast could overflow
    return (
        pl.when((micros >= low) & (micros < high))
        .then(micros)
        .cast(pl.Int64)
        .cast(pl.Datetime("us"))
    )


def check_times_parse(frame: pl.LazyFrame, column: str, parsed: pl.Expr, path: object) -> int:
    """Refuse a column with a value that does not parse; return the rows with no time."""
    raw = pl.col(column)
    bad = raw.is_not_null() & parsed.is_null()
    dtype = frame.collect_schema()[column]
    if dtype == pl.String:
        bad = bad & (raw.str.strip_chars().str.len_chars() > 0)
    elif dtype.is_float():
        bad = bad & raw.is_not_nan()  # NaN: no time, as null
    found = frame.select(
        bad.sum().alias("bad"),
        raw.filter(bad).first().cast(pl.String).alias("example"),
        parsed.is_null().sum().alias("missing"),
    ).collect(engine="streaming")
    if found["bad"][0] and dtype.is_numeric():
        raise EmolabelError(
            f"{path}: --time {column}: {found['bad'][0]:,} values are not {_UNIX_EXAMPLE}, "
            f"e.g. {found['example'][0]}; pass a column of times (numbers are read as unix "
            "time), or group by it with --by"
        )
    if found["bad"][0]:
        raise EmolabelError(
            f"{path}: --time {column}: {found['bad'][0]:,} values do not parse as a time, "
            f"e.g. {found['example'][0]!r}; write them as {_EXAMPLE}"
        )
    return int(found["missing"][0])
