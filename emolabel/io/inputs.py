"""Which files an input names: files, folders (recursive), globs and URIs, expanded into
the ordered list of files to read. The one resolver: the local and Ray engines share it."""

from __future__ import annotations

import fnmatch
import glob
import os
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from emolabel.errors import EmolabelError
from emolabel.io.formats import detect_format

GLOB_CHARS = frozenset("*?[")
STDIN = "-"

Inputs = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def is_uri(path: str) -> bool:
    """True for `s3://bucket/key` and the like (anything Arrow's filesystems may open)."""
    return "://" in path


def filesystem_for(path: str) -> tuple[Any, str]:
    """(pyarrow filesystem, path inside it) for a local path or a URI Arrow understands."""
    import pyarrow.fs as pafs

    if not is_uri(path):
        return pafs.LocalFileSystem(), os.path.abspath(os.path.expanduser(path))
    try:
        return pafs.FileSystem.from_uri(path)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise EmolabelError(f"{path}: cannot open this location ({exc})") from None


def visible(relative: str) -> bool:
    """False for hidden or `_`-prefixed files and folders (`.crc`, `_SUCCESS`, `_temporary/`)."""
    return not any(part.startswith((".", "_")) for part in relative.split("/") if part)


def _corpus_file(path: str) -> bool:
    """True for a name with a corpus extension; a folder's README or checksum is passed over."""
    try:
        detect_format(path)
    except EmolabelError:
        return False
    return True


def input_list(inputs: Inputs) -> list[str]:
    """One input or several, as a list of strings."""
    if isinstance(inputs, (str, os.PathLike)):
        return [os.fspath(inputs)]
    return [os.fspath(p) for p in inputs]


def resolve_inputs(inputs: Inputs, *, absolute: bool = True) -> list[str]:
    """Expand files, folders (recursively) and globs, local or URI, into a file list.

    Inputs keep their order; a folder's or glob's files are sorted by path. Hidden and
    `_`-prefixed files (`.crc`, `_SUCCESS`) are skipped; an empty result is an error. Local
    paths are made absolute unless `absolute=False` (then they read as given: `data/a.csv`,
    `data/2024/b.csv` for the folder `data`). `-` (stdin) is passed through.
    """
    files: list[str] = []
    for item in input_list(inputs):
        if item == STDIN:
            files.append(item)
        elif not is_uri(item) and GLOB_CHARS & set(item):
            files += _local_glob(item, absolute)
        elif is_uri(item) and GLOB_CHARS & set(item.split("://", 1)[1]):
            files += _remote_glob(item)
        else:
            files += _file_or_folder(item, absolute)
    return files


def _local_glob(pattern: str, absolute: bool) -> list[str]:
    matches = sorted(
        p for p in glob.glob(os.path.expanduser(pattern), recursive=True) if os.path.isfile(p)
    )
    if not matches:
        raise EmolabelError(f"{pattern}: no file matches this pattern; check the path")
    found = [p for p in matches if visible(os.path.basename(p))]
    return [os.path.abspath(p) for p in found] if absolute else found


def _remote_glob(pattern: str) -> list[str]:
    import pyarrow.fs as pafs

    fs, inner = filesystem_for(pattern)
    scheme = pattern.split("://", 1)[0] + "://"
    base = inner
    while GLOB_CHARS & set(base):
        base = base.rsplit("/", 1)[0]
    selector = pafs.FileSelector(base, recursive="**" in inner or "/" in inner[len(base) + 1 :])
    infos = fs.get_file_info(selector)
    matches = sorted(i.path for i in infos if i.is_file and fnmatch.fnmatch(i.path, inner))
    if not matches:
        raise EmolabelError(f"{pattern}: no file matches this pattern; check the path")
    return [scheme + p for p in matches if visible(p.rsplit("/", 1)[-1])]


def _file_or_folder(item: str, absolute: bool) -> list[str]:
    import pyarrow.fs as pafs

    fs, inner = filesystem_for(item)
    scheme = item.split("://", 1)[0] + "://" if is_uri(item) else ""
    info = fs.get_file_info(inner)
    if info.type == pafs.FileType.NotFound:
        raise EmolabelError(f"{item}: no such file or folder; check the path")
    if info.type != pafs.FileType.Directory:
        if scheme:
            return [scheme + inner]
        return [inner if absolute else os.path.expanduser(item)]
    infos = fs.get_file_info(pafs.FileSelector(inner, recursive=True))
    found = sorted(
        i.path
        for i in infos
        if i.is_file and visible(i.path[len(inner) :]) and _corpus_file(i.path)
    )
    if not found:
        raise EmolabelError(
            f"{item}: the folder holds no .parquet, .csv, .tsv or .jsonl files to label"
        )
    if scheme or absolute:
        return [scheme + p for p in found]
    given = os.path.expanduser(item)
    return [os.path.join(given, os.path.relpath(p, inner)) for p in found]
