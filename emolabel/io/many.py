"""Several corpus files read as one: their schemas unioned (a column missing from a file
is null there), one shared text column, an optional column naming each row's file, and
progress summed over the files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from emolabel.errors import EmolabelError
from emolabel.io.reader import CorpusReader, RowError


@dataclass
class _FileInfo:
    name: str
    size: int | None
    rows: int | None  # parquet: rows in the file


class ManyFiles:
    """The files of one corpus, opened one after another in the given order."""

    def __init__(
        self,
        files: list[str],
        open_one: Callable[[str, str | None], CorpusReader],
        *,
        text_column: str | None,
        source_column: str | None,
    ) -> None:
        self.files = files
        self._open_one = open_one
        self.source_column = source_column
        self.rejected: list[RowError] = []
        self._infos: list[_FileInfo] = []
        schemas: list[tuple[str, pa.Schema]] = []
        self.formats: list[str] = []
        self.gzipped = False
        self.text_column = text_column
        for name in files:  # the first file's text column is every file's
            reader = open_one(name, self.text_column)
            reader.close()
            self.text_column = reader.text_column
            schemas.append((name, reader.schema))
            self.formats.append(reader.format)
            self.gzipped = self.gzipped or reader.gzipped
            size = reader.total_bytes if reader.format != "parquet" else _file_size(name)
            self._infos.append(_FileInfo(name, size, reader.total_rows))
        self.input_schema = union_schemas(schemas)
        self.schema = self.input_schema
        if source_column is not None:
            if source_column in self.input_schema.names:
                raise EmolabelError(
                    f"--source-column {source_column}: the input already has a column of that "
                    "name; pass another name"
                )
            self.schema = self.input_schema.append(pa.field(source_column, pa.string()))
        self._current = 0
        self._done = 0
        self._reader: CorpusReader | None = None

    @property
    def all_parquet(self) -> bool:
        return all(f == "parquet" for f in self.formats)

    @property
    def total_rows(self) -> int | None:
        rows = [info.rows for info in self._infos]
        return sum(r for r in rows if r is not None) if self.all_parquet else None

    @property
    def total_bytes(self) -> int | None:
        if self.all_parquet:
            return None
        sizes = [info.size for info in self._infos]
        return None if None in sizes else sum(s for s in sizes if s is not None)

    def position(self) -> int:
        """Rows (all parquet) or bytes read so far, over every file."""
        reader = self._reader
        if reader is None:
            return self._done
        here = reader.position()
        info = self._infos[self._current]
        if reader.format == "parquet" and not self.all_parquet:
            here = int((info.size or 0) * here / max(info.rows or 1, 1))
        return self._done + here

    def batches(self) -> Iterator[pa.RecordBatch]:
        self.rejected.clear()
        self._done = 0
        for index, name in enumerate(self.files):
            self._current = index
            self._reader = self._open_one(name, self.text_column)
            for batch in self._reader:
                yield self._conform(batch, name)
            for row in self._reader.rejected:
                row.file = name
            self.rejected += self._reader.rejected
            info = self._infos[index]
            self._done += (info.rows or 0) if self.all_parquet else (info.size or 0)
        self._reader = None

    def _conform(self, batch: pa.RecordBatch, name: str) -> pa.RecordBatch:
        """The batch in the union schema: missing columns null, types widened."""
        arrays: list[pa.Array] = []
        for field in self.input_schema:
            index = batch.schema.get_field_index(field.name)
            if index < 0:
                arrays.append(pa.nulls(batch.num_rows, field.type))
                continue
            column = batch.column(index)
            arrays.append(column if column.type == field.type else column.cast(field.type))
        if self.source_column is not None:
            arrays.append(pa.repeat(pa.scalar(name, pa.string()), batch.num_rows))
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def union_schemas(schemas: list[tuple[str, pa.Schema]]) -> pa.Schema:
    """Every file's columns, in order of first appearance; a type clash names the file."""
    union = schemas[0][1]
    for name, schema in schemas[1:]:
        try:
            union = pa.unify_schemas([union, schema], promote_options="permissive")
        except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
            raise EmolabelError(
                f"{name}: its columns do not fit the earlier files' ({_clash(exc)}); make the "
                "column types agree or label the files separately"
            ) from None
    return union


def _clash(exc: Exception) -> str:
    message = str(exc).split("\n", 1)[0]
    return message.removeprefix("Unable to merge: ")


def _file_size(name: str) -> int | None:
    try:
        return Path(name).stat().st_size
    except OSError:
        return None


def many_files_reader(
    files: list[str],
    open_one: Callable[[str, str | None], CorpusReader],
    *,
    text_column: str | None,
    source_column: str | None,
) -> CorpusReader:
    """A CorpusReader over several files (or one, with a source column)."""
    many = ManyFiles(files, open_one, text_column=text_column, source_column=source_column)
    formats = set(many.formats)
    assert many.text_column is not None
    return CorpusReader(
        path=Path(files[0]),
        format=formats.pop() if len(formats) == 1 else "mixed",
        gzipped=many.gzipped,
        schema=many.schema,
        text_column=many.text_column,
        total_rows=many.total_rows,
        total_bytes=many.total_bytes,
        _batches=many.batches,
        _position=many.position,
        rejected=many.rejected,
        files=list(files),
    )
