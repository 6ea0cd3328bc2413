"""Standard input as a corpus source: read once, kept in a temporary file as it is read,
so a reader can start again from the top (CSV's type probe, a re-read with bigger blocks,
finding an error's line) while the rest still streams in. Formats that can be told from
the first bytes are sniffed; the others need --format."""

from __future__ import annotations

import gzip
import io
import os
import sys
import tempfile
import zlib
from typing import IO, Any

from emolabel.errors import EmolabelError

STDIN_NAME = "<stdin>"
# What the first bytes tell: JSON lines / a JSON array ('{' or '['), parquet ('PAR1'), and
# any of these gzipped. CSV, TSV and text look alike: they need --format.
SNIFFABLE_FORMATS = ("jsonl", "parquet")
_PULL_BYTES = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"


class StdinSpool:
    """Bytes of a non-seekable stream, spooled to a temporary file as they are pulled."""

    def __init__(self, stream: IO[bytes] | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdin.buffer
        self._spool = tempfile.TemporaryFile(prefix="emolabel-stdin-")  # noqa: SIM115
        self._fd = self._spool.fileno()
        self.size = 0  # bytes pulled so far
        self.eof = False

    def __str__(self) -> str:
        return STDIN_NAME

    def pull(self, n: int) -> bytes:
        """Up to n new bytes from the stream (b"" at its end), appended to the spool."""
        if self.eof:
            return b""
        read1 = getattr(self._stream, "read1", None)
        chunk = read1(n) if read1 is not None else self._stream.read(n)
        if not chunk:
            self.eof = True
            return b""
        os.pwrite(self._fd, chunk, self.size)
        self.size += len(chunk)
        return chunk

    def read_at(self, offset: int, n: int) -> bytes:
        """Bytes already spooled, from `offset`."""
        return os.pread(self._fd, n, offset)

    def open(self) -> SpoolReader:
        """A reader from the first byte: the spool, then the stream."""
        return SpoolReader(self)

    def read_all(self) -> IO[bytes]:
        """Pull the rest of the stream; a seekable file of all of it (for parquet)."""
        while self.pull(_PULL_BYTES):
            pass
        return os.fdopen(os.dup(self._fd), "rb")

    def head(self, n: int) -> bytes:
        """The first n bytes (fewer at the end of the stream), pulling as needed."""
        while self.size < n and self.pull(n - self.size):
            pass
        return self.read_at(0, n)

    def close(self) -> None:
        self._spool.close()


class SpoolReader(io.RawIOBase):
    """One pass over a StdinSpool from its start; `tell()` is the bytes given out."""

    def __init__(self, spool: StdinSpool) -> None:
        self._spool = spool
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = len(buffer)
        if self._offset < self._spool.size:
            data = self._spool.read_at(self._offset, min(n, self._spool.size - self._offset))
        else:
            data = self._spool.pull(n)
        buffer[: len(data)] = data
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset


def sniff_stdin(spool: StdinSpool, override: str | None) -> tuple[str, bool]:
    """(format, gzipped) of standard input: --format if given, else from its first bytes."""
    head = spool.head(4)
    gzipped = head[:2] == _GZIP_MAGIC
    if override:
        return override, gzipped
    if not head:
        raise EmolabelError(f"{STDIN_NAME} is empty: pipe a file with a header and rows")
    if head == b"PAR1":
        return "parquet", False
    if gzipped:
        stream: IO[bytes] = gzip.GzipFile(fileobj=io.BufferedReader(spool.open()), mode="rb")  # type: ignore[assignment]
    else:
        stream = io.BufferedReader(spool.open())
    try:
        start = stream.read(_PULL_BYTES).removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    except (EOFError, gzip.BadGzipFile, zlib.error):
        start = b""
    if start[:1] in (b"{", b"["):
        return "jsonl", gzipped
    raise EmolabelError(
        f"{STDIN_NAME}: cannot tell the format from the stream (only JSON lines, JSON arrays "
        "and parquet can be told); pass --format csv, tsv or txt"
    )
