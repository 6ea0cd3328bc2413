"""TEMPORARY stand-in for emolabel.io.read_table (CONTRACTS.md), until the io owner's lands.

Same signature and result; replaced by `from emolabel.io import read_table` on merge.
"""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from emolabel.errors import EmolabelError
from emolabel.io.corpus import choose_text_column


@dataclass
class LoadedTable:
    table: pa.Table
    text_column: str | None
    lines: list[int] | None
    format: str
    path: str


SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
            ".json": "json", ".parquet": "parquet", ".pq": "parquet"}


def read_table(
    path: str | Path,
    *,
    format: str | None = None,
    text_column: str | None = None,
    encoding_errors: str = "strict",
    on_error: str = "fail",
    delimiter: str | None = None,
    header: bool = True,
    column_names: list[str] | None = None,
    choose: bool = True,
) -> LoadedTable:
    path = Path(path)
    name = path.name.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    fmt = format or SUFFIXES.get(Path(name).suffix)
    if fmt is None:
        raise EmolabelError(f"{path}: unsupported file type {Path(name).suffix or '(none)'}")
    raw = path.read_bytes()
    if gz:
        raw = gzip.decompress(raw)
    if not raw.strip():
        raise EmolabelError(f"{path} is empty: pass a file with labelled rows")
    lines: list[int] | None
    if fmt in ("csv", "tsv"):
        import polars as pl

        try:
            frame = pl.read_csv(
                io.BytesIO(raw),
                separator=delimiter or ("\t" if fmt == "tsv" else ","),
                has_header=header,
                new_columns=column_names,
                infer_schema_length=10000,
            )
        except Exception as exc:
            raise EmolabelError(f"could not read {path} as {fmt.upper()}: {exc}") from None
        table = frame.to_arrow()
        lines = [i + (2 if header else 1) for i in range(table.num_rows)]
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(raw))
        lines = None
    else:
        text = raw.decode("utf-8-sig")
        records: list[dict[str, Any]] = []
        lines = []
        if text.lstrip().startswith("["):
            records = json.loads(text)
            lines = list(range(1, len(records) + 1))
        else:
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise EmolabelError(
                            f"{path}:{number} is not valid JSON ({exc.msg})"
                        ) from None
                    lines.append(number)
        table = pa.Table.from_pylist(records)
    if table.num_rows == 0:
        raise EmolabelError(f"{path} has a header but no rows: pass a file with labelled rows")
    chosen = None
    if choose:
        strings = [f.name for f in table.schema if pa.types.is_string(f.type)
                   or pa.types.is_large_string(f.type)]
        chosen = choose_text_column(path, table.schema, text_column, strings)
    return LoadedTable(table, chosen, lines, fmt, str(path))
