"""CorpusReader: an opened corpus as a stream of Arrow record batches of bounded size, with
its schema, text column, progress position and the rows --on-error skip set aside."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa


@dataclass
class RowError:
    """A malformed row that --on-error skip set aside."""

    line: int | None
    reason: str
    raw: str
    file: str | None = None  # set when several files are read


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
    files: list[str] = field(default_factory=list)
    _close: Callable[[], None] = field(default=lambda: None)

    def __post_init__(self) -> None:
        if not self.files:
            self.files = [str(self.path)]

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self._batches()

    def close(self) -> None:
        """Release what opening read ahead (a JSONL file's first records, parquet's file)."""
        self._close()

    def position(self) -> int:
        """Bytes of the file consumed so far (rows for parquet), for progress and ETA."""
        try:
            return self._position()
        except ValueError:  # the file is already closed: everything was read
            return self.total_bytes or self.total_rows or 0
