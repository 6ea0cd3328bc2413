"""Durable progress for annotate: finished chunks as part files plus a manifest.

Every chunk is written to `part-NNNNNN.parquet` through a temporary file, flushed to disk
and renamed, so after a crash or `kill -9` a part is either complete or absent. The
manifest pins the input file, the model and every option that changes the output, so a
resume continues only the very run that was interrupted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from emolabel.annotation.run_lock import LOCK_FILE
from emolabel.errors import EmolabelError

MANIFEST = "manifest.json"
SAMPLE_BYTES = 1 << 20


def parts_dir_for(output_path: Path) -> Path:
    return output_path.with_name(f".{output_path.name}.emolabel-parts")


def file_fingerprint(path: Path) -> dict[str, Any]:
    """Size, mtime and hashes of the first and last MiB: cheap, and changes with any edit
    that a resume must not paper over (appends, truncation, rewrites)."""
    stat = path.stat()
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        digest.update(f.read(SAMPLE_BYTES))
        if stat.st_size > SAMPLE_BYTES:
            f.seek(max(stat.st_size - SAMPLE_BYTES, SAMPLE_BYTES))
            digest.update(f.read(SAMPLE_BYTES))
    return {
        "path": str(path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256_ends": digest.hexdigest(),
    }


def model_fingerprint(source: str) -> dict[str, Any]:
    """A local folder by its config and weight files; a hub id by name."""
    folder = Path(source)
    if not folder.is_dir():
        return {"hub_id": source}
    files = [*sorted(folder.glob("*.safetensors")), folder / "config.json"]
    return {
        "folder": str(folder.resolve()),
        "files": {f.name: [f.stat().st_size, f.stat().st_mtime_ns] for f in files if f.exists()},
        "config_sha256": hashlib.sha256((folder / "config.json").read_bytes()).hexdigest(),
    }


@dataclass
class ChunkStore:
    """The part files of one output path."""

    directory: Path

    def finished(self) -> int:
        """How many chunks, counted from the first, are complete on disk."""
        n = 0
        while self.part(n).exists():
            n += 1
        return n

    def part(self, index: int) -> Path:
        return self.directory / f"part-{index:06d}.parquet"

    def read_manifest(self) -> dict[str, Any] | None:
        path = self.directory / MANIFEST
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None

    def start(self, manifest: dict[str, Any]) -> None:
        """Empty the folder (all but the run lock) and write the manifest atomically."""
        self.directory.mkdir(exist_ok=True)
        for entry in self.directory.iterdir():
            if entry.name == LOCK_FILE:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        _atomic_write(self.directory / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"))

    def clean_temporaries(self) -> None:
        for leftover in self.directory.glob("*.tmp"):
            leftover.unlink(missing_ok=True)

    def write(self, index: int, batch: pa.RecordBatch) -> None:
        """Write one finished chunk durably: temp file, fsync, rename."""
        final = self.part(index)
        tmp = final.with_name(final.name + ".tmp")
        try:
            with pq.ParquetWriter(str(tmp), batch.schema, compression="zstd") as writer:
                writer.write_batch(batch)
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def read(self) -> Iterator[pa.RecordBatch]:
        for index in range(self.finished()):
            yield from pq.ParquetFile(self.part(index)).iter_batches(batch_size=1 << 16)

    def rows(self, chunks: int) -> int:
        """Rows in the first `chunks` part files (from their footers, nothing decoded)."""
        return sum(pq.ParquetFile(self.part(i)).metadata.num_rows for i in range(chunks))

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def check_resumable(store: ChunkStore, manifest: dict[str, Any], resume: bool) -> int:
    """Number of chunks to skip; refuses a resume of a different run.

    Without --resume, leftover chunks of the same run are an error (pass --resume or
    --overwrite), since silently starting over would throw finished work away.
    """
    if not store.directory.exists():
        return 0
    previous = store.read_manifest()
    done = store.finished()
    if previous is None:
        return 0
    if not resume:
        if previous == manifest and done:
            raise EmolabelError(
                f"{store.directory} holds {done} finished chunk(s) of an interrupted run of "
                "this command: pass --resume to continue it, or --overwrite to start over"
            )
        return 0
    if previous != manifest:
        raise EmolabelError(
            f"cannot resume: the interrupted run in {store.directory} differs: "
            f"{'; '.join(describe_differences(previous, manifest))}; rerun with the same "
            "input, model and options, or drop --resume and pass --overwrite to start over"
        )
    store.clean_temporaries()
    return done


def describe_differences(previous: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What changed between two manifests, e.g. `chunk_rows 4096 -> 777`, `input in.csv changed`."""
    changes = []
    old_options, new_options = previous.get("options", {}), current.get("options", {})
    for key in sorted(set(old_options) | set(new_options)):
        if old_options.get(key) != new_options.get(key):
            changes.append(f"{key} {old_options.get(key)} -> {new_options.get(key)}")
    for key in ("input", "model"):
        old, new = previous.get(key), current.get(key)
        if old != new:
            changes.append(_describe_change(key, old, new))
    for key in sorted((set(previous) | set(current)) - {"options", "input", "model"}):
        if previous.get(key) != current.get(key):
            changes.append(f"{key} {previous.get(key)} -> {current.get(key)}")
    return changes or ["its manifest"]


def _describe_change(key: str, old: Any, new: Any) -> str:
    """`input a.csv -> b.csv` when the names differ, else `input a.csv changed` (edited)."""
    names_old, names_new = _names(old), _names(new)
    if names_old != names_new:
        return f"{key} {', '.join(names_old)} -> {', '.join(names_new)}"
    return f"{key} {', '.join(names_new)} changed since (size, time or content)"


def _names(fingerprint: Any) -> list[str]:
    items = fingerprint if isinstance(fingerprint, list) else [fingerprint]
    names = []
    for item in items:
        if isinstance(item, dict):
            names.append(str(item.get("path") or item.get("folder") or item.get("hub_id")))
        else:
            names.append(str(item))
    return names


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
