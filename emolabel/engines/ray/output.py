"""The Ray engine's output folder: checks before the run, moving it into place, counting it.

A local folder is written under a temporary name and renamed over the target on success;
the summary is counted from the files written, so what is on disk is what is reported.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from emolabel.annotation.schema import OutputColumns
from emolabel.annotation.summary import AnnotationSummary
from emolabel.errors import EmolabelError
from emolabel.io.inputs import filesystem_for, is_uri


def folder_has_files(fs: Any, inner: str) -> bool:
    """True when the folder exists and holds anything (a missing folder is empty)."""
    import pyarrow.fs as pafs

    return bool(fs.get_file_info(pafs.FileSelector(inner, recursive=False, allow_not_found=True)))


def check_output_dir(output_dir: str, inputs: list[str], overwrite: bool) -> None:
    """Refuse a file, a non-empty folder (unless overwrite), a folder holding an input, or a
    local parent that is missing or read-only."""
    import pyarrow.fs as pafs

    fs, inner = filesystem_for(output_dir)
    info = fs.get_file_info(inner)
    if info.type == pafs.FileType.File:
        raise EmolabelError(
            f"-o {output_dir} is a file: --engine ray writes a folder of parquet files; "
            "give a folder path"
        )
    if info.type == pafs.FileType.Directory and folder_has_files(fs, inner) and not overwrite:
        raise EmolabelError(
            f"{output_dir} exists and is not empty: pass --overwrite or choose another -o"
        )
    if is_uri(output_dir):
        return
    folder = Path(inner)
    for path in inputs:
        if not is_uri(path) and (folder == Path(path) or folder in Path(path).parents):
            raise EmolabelError(
                f"-o {output_dir} holds the input file {path}: choose another output folder"
            )
    parent = folder.parent
    if not parent.exists():
        raise EmolabelError(f"cannot write {output_dir}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise EmolabelError(f"cannot write {output_dir}: folder {parent} is not writable")


def move_into_place(tmp: Path, target: Path) -> None:
    """Rename the finished temp folder over the target; an old target is removed only after."""
    if target.exists() and any(target.iterdir()):
        old = target.with_name(f".{target.name}.emolabel-old-{uuid.uuid4().hex[:8]}")
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        if target.exists():
            target.rmdir()
        os.replace(tmp, target)


@contextlib.contextmanager
def staged_output(target: str, *, overwrite: bool) -> Iterator[str]:
    """The folder to write into: for a local target a hidden temporary sibling, moved over the
    target only when the block ends without an error and removed in any case; on an object
    store the target itself (emptied first with `overwrite`)."""
    if is_uri(target):
        if overwrite:
            fs, inner = filesystem_for(target)
            with contextlib.suppress(FileNotFoundError):
                fs.delete_dir_contents(inner, missing_dir_ok=True)
        yield target
        return
    final = Path(target).resolve()
    tmp = final.with_name(f".{final.name}.emolabel-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield str(tmp)
        move_into_place(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def count_written(written: str, columns: OutputColumns, summary: AnnotationSummary) -> None:
    """Add the figures of the written files to `summary` (what is on disk is what is counted).

    Reads only the emotion, confidence, emotions and truncated columns, with Arrow's threads,
    on the driver: cheap next to inference, and it needs no second Ray job.
    """
    import pyarrow.dataset as ds

    fs, inner = filesystem_for(written)
    if not folder_has_files(fs, inner):
        return
    dataset = ds.dataset(inner, format="parquet", filesystem=fs)
    wanted = [columns.emotion, columns.confidence, columns.emotions, columns.truncated]
    for batch in dataset.to_batches(columns=wanted):
        summary.count(batch, columns)
