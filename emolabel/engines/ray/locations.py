"""Local paths and URIs (s3://, gs://, ...) as pyarrow filesystems, for inputs and output."""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from emolabel.errors import EmolabelError


def is_uri(path: str) -> bool:
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


def folder_has_files(fs: Any, inner: str) -> bool:
    """True when the folder exists and holds anything (a missing folder is empty)."""
    import pyarrow.fs as pafs

    return bool(fs.get_file_info(pafs.FileSelector(inner, recursive=False, allow_not_found=True)))
