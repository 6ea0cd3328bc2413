"""Byte sources and their failures: opening a (gzipped) file, turning truncated gzip and
invalid UTF-8 into one-line errors, and finding the line an error is on (error path only)."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Literal

import pyarrow as pa

from emolabel.errors import EmolabelError
from emolabel.io.stdin import StdinSpool

Source = Path | StdinSpool  # a file, or standard input


def source_size(source: Source) -> int | None:
    """Bytes on disk (None for standard input: its length is not known ahead)."""
    return None if isinstance(source, StdinSpool) else source.stat().st_size


def reader_path(source: Source) -> Path:
    """The path a CorpusReader reports: `-` for standard input."""
    return Path("-") if isinstance(source, StdinSpool) else source


def open_binary(path: Source, gzipped: bool) -> tuple[IO[bytes], Callable[[], int]]:
    """The file's (decompressed) bytes, and a function giving the on-disk bytes consumed."""
    if isinstance(path, StdinSpool):
        spooled = path.open()
        buffered = io.BufferedReader(spooled)
        if gzipped:
            return gzip.GzipFile(fileobj=buffered, mode="rb"), spooled.tell  # type: ignore[return-value]
        return buffered, spooled.tell
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw  # type: ignore[assignment]
    return stream, raw.tell


class stream_errors:
    """Translate low-level stream failures (truncated gzip, I/O) into user errors."""

    def __init__(self, path: Source) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        if exc is None:
            return False
        if isinstance(exc, EOFError) or (
            isinstance(exc, pa.ArrowInvalid) and "gzip" in str(exc).lower()
        ):
            raise EmolabelError(
                f"{self.path}: the compressed file ends early (truncated download?); "
                "re-fetch or re-compress it"
            ) from None
        if isinstance(exc, (gzip.BadGzipFile, zlib.error)):
            raise EmolabelError(
                f"{self.path}: not a valid gzip file ({exc}); check the file"
            ) from None
        return False


def find_bad_utf8_line(path: Source, gzipped: bool) -> int | None:
    """1-based number of the first line that is not valid UTF-8 (only used on error)."""
    stream, _ = open_binary(path, gzipped)
    with stream:
        for number, line in enumerate(stream, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


def find_line_starting_with(path: Source, gzipped: bool, text: str) -> int | None:
    """1-based number of the first line that begins with `text` (only used on error)."""
    found = find_lines_starting_with(path, gzipped, [text])
    return found[0]


def find_lines_starting_with(path: Source, gzipped: bool, texts: list[str]) -> list[int | None]:
    """For rows in file order, the 1-based line each starts on: one scan for all of them."""
    probes = [
        text.split("\n", 1)[0].rstrip("\r").encode("utf-8", errors="replace") for text in texts
    ]
    found: list[int | None] = [None] * len(texts)
    if not texts:
        return found
    wanted = 0
    stream, _ = open_binary(path, gzipped)
    with stream:
        for number, line in enumerate(stream, start=1):
            if line.rstrip(b"\r\n") == probes[wanted]:
                found[wanted] = number
                wanted += 1
                if wanted == len(texts):
                    break
    return found


def decoded_lines(
    path: Source, gzipped: bool, encoding_errors: str, on_open: Callable[[Callable[[], int]], None]
) -> Iterator[tuple[int, str]]:
    """(line number, text) of a line-oriented file; a BOM at the start is dropped.

    `on_open` receives the file's position function once it is open (for progress)."""
    stream, position = open_binary(path, gzipped)
    on_open(position)
    with stream, stream_errors(path):
        for number, raw in enumerate(stream, start=1):
            try:
                yield (
                    number,
                    raw.decode("utf-8-sig" if number == 1 else "utf-8", errors=encoding_errors),
                )
            except UnicodeDecodeError:
                raise utf8_error(path, gzipped, number) from None


def utf8_error(path: Source, gzipped: bool, line: int | None = None) -> EmolabelError:
    """The one-line invalid-UTF-8 error, naming the first bad line when it can be found."""
    line = line or find_bad_utf8_line(path, gzipped)
    where = f" line {line}" if line else ""
    return EmolabelError(
        f"{path}{where}: invalid UTF-8; re-encode the file as UTF-8 or pass "
        "--encoding-errors replace"
    )
