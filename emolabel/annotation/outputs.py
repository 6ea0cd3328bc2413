"""Where annotate writes: `-o` as a file (checked, written to a temporary name and renamed
when complete, only ever replacing a regular file) or `-o -` for stdout."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from emolabel.errors import EmolabelError
from emolabel.io import output_format
from emolabel.io.formats import STDOUT_FORMATS

STDIO = "-"


@dataclass(frozen=True)
class OutputTarget:
    """The output: a file path, or None for stdout; its format and gzip."""

    path: Path | None
    format: str
    gzipped: bool

    @property
    def to_stdout(self) -> bool:
        return self.path is None

    def __str__(self) -> str:
        return "stdout" if self.path is None else str(self.path)


def output_target(
    output: str | os.PathLike[str], format_name: str | None, overwrite: bool
) -> OutputTarget:
    """Check `-o` before anything is read or loaded: format, folder, existing file."""
    if str(output) == STDIO:
        fmt, gzipped = output_format(STDIO, format_name)
        if fmt not in STDOUT_FORMATS or gzipped:
            raise EmolabelError(
                f"-o - writes {', '.join(STDOUT_FORMATS)} (uncompressed) to stdout, not {fmt}: "
                "pass --output-format jsonl or csv, or write parquet to a file"
            )
        return OutputTarget(None, fmt, False)
    path = Path(output)
    fmt, gzipped = output_format(path, format_name)
    check_output_path(path, overwrite)
    return OutputTarget(path, fmt, gzipped)


def check_output_path(output_path: Path, overwrite: bool) -> None:
    """Refuse a folder, a non-regular file, an existing output without --overwrite, or a
    missing/unwritable folder."""
    try:
        mode: int | None = os.lstat(output_path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise EmolabelError(f"cannot write {output_path}: {exc.strerror or exc}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise EmolabelError(f"-o {output_path} is a folder: give a file name like out.parquet")
    if mode is not None and not stat.S_ISREG(mode):
        raise EmolabelError(
            f"-o {output_path} is a {_kind(mode)}, not a regular file: annotate only ever "
            "replaces regular files; choose another -o (or -o - for stdout)"
        )
    if mode is not None and not overwrite:
        raise EmolabelError(f"{output_path} exists: pass --overwrite or choose another -o")
    parent = output_path.parent
    if not parent.exists():
        raise EmolabelError(f"cannot write {output_path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise EmolabelError(f"cannot write {output_path}: folder {parent} is not writable")


def refuse_input_as_output(files: Sequence[str | os.PathLike[str]], target: OutputTarget) -> None:
    """Writing over a file that is being read would destroy it."""
    if target.path is None or not target.path.exists():
        return
    for name in files:
        path = Path(name)
        if str(name) != STDIO and path.exists() and path.samefile(target.path):
            raise EmolabelError(f"-o {target.path} is the input file: choose another output path")


def temporary_path(output_path: Path) -> Path:
    return output_path.with_name(f".{output_path.name}.emolabel-{os.getpid()}.tmp")


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"
