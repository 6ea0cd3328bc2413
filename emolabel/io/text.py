"""Plain text: one text a line, a single column named `text`."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyarrow as pa

from emolabel.errors import EmolabelError
from emolabel.io.encoding import Source, decoded_lines, reader_path, source_size
from emolabel.io.reader import CorpusReader

TEXT_SCHEMA = pa.schema([("text", pa.string())])


def open_txt(
    path: Source,
    *,
    fmt: str,
    gzipped: bool,
    text_column: str | None,
    batch_rows: int,
    encoding_errors: str,
    on_error: str,
) -> CorpusReader:
    """Open a .txt file: every line (without its line ending) is one row."""
    if text_column not in (None, "text"):
        raise EmolabelError(f"{path}: a .txt file has one column, 'text'; drop --text-column")
    positions: list[Callable[[], int]] = [lambda: 0]

    def batches() -> Iterator[pa.RecordBatch]:
        lines: list[str] = []
        for _, line in decoded_lines(path, gzipped, encoding_errors, positions.append):
            lines.append(line.rstrip("\r\n"))
            if len(lines) >= batch_rows:
                yield pa.record_batch([pa.array(lines, pa.string())], schema=TEXT_SCHEMA)
                lines = []
        if lines:
            yield pa.record_batch([pa.array(lines, pa.string())], schema=TEXT_SCHEMA)

    return CorpusReader(
        path=reader_path(path),
        format=fmt,
        gzipped=gzipped,
        schema=TEXT_SCHEMA,
        text_column="text",
        total_rows=None,
        total_bytes=source_size(path),
        _batches=batches,
        _position=lambda: positions[-1](),
    )
