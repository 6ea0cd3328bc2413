"""One run per output: an exclusive OS lock (`fcntl.flock`) on a file in the output's parts
folder, held for the whole run. The kernel drops it when the process dies, even by kill -9,
so a crashed run can always be resumed while a live one can never be clobbered."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType

from emolabel.errors import EmolabelError

LOCK_FILE = "lock"


class RunLock:
    """Held from `acquire` to `release`; a second holder is refused at once, naming the first."""

    def __init__(self, directory: Path, output: Path | str) -> None:
        self.directory = directory
        self.output = output
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        return self.directory / LOCK_FILE

    def acquire(self) -> RunLock:
        """Create the folder and lock file if needed and take the lock, or raise EmolabelError."""
        while self._fd is None:
            try:
                self.directory.mkdir(exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:  # the folder vanished under us: its owner just finished
                continue
            except OSError as exc:
                raise EmolabelError(
                    f"cannot write {self.output}: {exc.strerror or exc} ({self.directory})"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_pid(fd)
                os.close(fd)
                raise EmolabelError(
                    f"{self.output} is being written by another emolabel run (pid {holder}); "
                    "wait for it to finish or stop it, or choose another -o"
                ) from None
            if _same_file(fd, self.path):
                self._fd = fd
            else:  # we locked a lock file its finished owner had already removed: retry
                os.close(fd)
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)
        return self

    def release(self) -> None:
        """Drop the lock; the lock file stays only if the parts folder does."""
        if self._fd is None:
            return
        if self.directory.exists() and os.listdir(self.directory) == [LOCK_FILE]:
            with contextlib.suppress(OSError):
                self.path.unlink()
                self.directory.rmdir()
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    except OSError:
        text = ""
    return text or "unknown"


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (held.st_dev, held.st_ino)
