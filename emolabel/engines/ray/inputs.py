"""What the Ray engine reads: the input file list, its one format and schema, the Ray Dataset.

The schema and text column are the local engine's (`open_corpus` on the first file), so
every block is conformed to what the local reader would have produced.
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from emolabel.annotation.options import AnnotateOptions
from emolabel.errors import EmolabelError
from emolabel.io import choose_text_column, detect_format, open_corpus, resolve_inputs
from emolabel.io.corpus import check_delimiter, check_delimiter_format
from emolabel.io.inputs import Inputs, filesystem_for, input_list, is_uri

RAY_FORMATS = ("parquet", "csv", "tsv", "jsonl")
RAY_PATH_COLUMN = "path"  # what Ray Data's include_paths names the column
_SAMPLE_BYTES = 1 << 20


def detect_input_format(files: list[str], override: str | None) -> str:
    """One format for all files (csv, tsv, jsonl or parquet); mixed formats are refused."""
    formats: dict[str, str] = {}
    for path in files:
        fmt, _ = detect_format(path, override)
        formats.setdefault(fmt, path)
    if len(formats) > 1:
        (a, path_a), (b, path_b) = list(formats.items())[:2]
        raise EmolabelError(
            f"the inputs mix formats ({a}: {path_a}; {b}: {path_b}); label one format per run"
        )
    fmt = next(iter(formats))
    if fmt not in RAY_FORMATS:
        raise EmolabelError(
            f"--engine ray reads {', '.join(RAY_FORMATS)} files, not {fmt}: convert the files "
            "or use --engine local"
        )
    return fmt


@dataclass(frozen=True)
class InputSpec:
    """What every block is conformed to: the local engine's schema for the first file, and
    for several files the column naming each row's file, as the local engine adds it."""

    files: list[str]  # local paths absolute, as Ray reads them
    given: list[str]  # the same files as the user named them
    format: str
    schema: pa.Schema  # of one file, as the local reader reads it
    text_column: str
    source_column: str | None = None
    given_names: dict[str, str] = field(default_factory=dict)  # Ray's path -> as given
    delimiter: str | None = None  # --delimiter of CSV/TSV files; None: by format

    @property
    def row_schema(self) -> pa.Schema:
        """The schema of a conformed block: the file's columns, then the source column."""
        if self.source_column is None:
            return self.schema
        return self.schema.append(pa.field(self.source_column, pa.string()))


def inspect_inputs(inputs: Inputs, options: AnnotateOptions) -> InputSpec:
    """Files, format, schema and text column as the local engine's reader sees them.

    Several files, a folder or a glob get the local engine's source column (each file's path
    as given); Ray's `path` column carries it, so an input column named `path` is refused.
    """
    files = resolve_inputs(inputs)
    fmt = detect_input_format(files, options.input_format)
    delimiter = check_delimiter(options.delimiter)
    check_delimiter_format(delimiter, fmt, files[0])
    schema, column = _file_schema(
        files[0], fmt, options.text_column, options.input_format, delimiter
    )
    given = resolve_inputs(inputs, absolute=False)
    items = input_list(inputs)
    if len(items) == 1 and given == [os.path.expanduser(items[0])]:
        return InputSpec(files, given, fmt, schema, column, delimiter=delimiter)
    source_column = options.source_column
    if source_column in schema.names:
        raise EmolabelError(
            f"{files[0]} already has a column {source_column!r}: pass --source-column NAME "
            "to give the file-name column another name"
        )
    if RAY_PATH_COLUMN in schema.names:
        raise EmolabelError(
            f"{files[0]} has a column {RAY_PATH_COLUMN!r}, which --engine ray uses to tell "
            "several files apart: rename it, or use --engine local"
        )
    names: dict[str, str] = {}
    for path, as_given in zip(files, given, strict=True):
        names[path] = as_given
        names[path.split("://", 1)[-1]] = as_given  # Ray names s3://b/k as b/k
    return InputSpec(files, given, fmt, schema, column, source_column, names, delimiter)


def _file_schema(
    first: str,
    fmt: str,
    text_column: str | None,
    format_override: str | None,
    delimiter: str | None,
) -> tuple[pa.Schema, str]:
    """Schema and text column of the first file as the local engine's reader sees it.

    A local file goes through `open_corpus` itself; a remote one is sampled with the same
    rules (CSV: every column a string; JSON: null-only keys as strings).
    """
    if not is_uri(first):
        reader = open_corpus(
            first, format=format_override or fmt, text_column=text_column, delimiter=delimiter
        )
        return reader.schema, reader.text_column
    fs, inner = filesystem_for(first)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(inner, filesystem=fs)
        except (pa.ArrowInvalid, OSError) as exc:
            raise EmolabelError(f"{first}: not a readable parquet file ({exc})") from None
    elif fmt in ("csv", "tsv"):
        import pyarrow.csv as pa_csv

        with fs.open_input_stream(inner, compression="detect") as stream:
            names = pa_csv.open_csv(
                stream, parse_options=_csv_parse_options(fmt, delimiter)
            ).schema.names
        schema = pa.schema([(name, pa.string()) for name in names])
    else:
        import pyarrow.json as pa_json

        with fs.open_input_stream(inner, compression="detect") as stream:
            head = stream.read(_SAMPLE_BYTES)
        sample = pa_json.read_json(io.BytesIO(head[: head.rfind(b"\n") + 1] or head))
        schema = pa.schema(
            [
                pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f
                for f in sample.schema
            ]
        )
    strings = [
        f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    column = choose_text_column(first, schema, text_column, strings)
    if fmt == "jsonl":  # as the local reader: the text column is text, whatever it holds
        schema = schema.set(schema.get_field_index(column), pa.field(column, pa.string()))
    return schema, column


def _csv_parse_options(fmt: str, delimiter: str | None) -> Any:
    import pyarrow.csv as pa_csv

    delimiter = delimiter or ("\t" if fmt == "tsv" else ",")
    return pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True)


def read_dataset(ray: Any, spec: InputSpec, concurrency: int) -> Any:
    """A lazy Ray Dataset over the files. Read tasks reserve no CPU (they are I/O bound, and
    would otherwise wait forever behind actors that hold every CPU of a small machine), so
    `concurrency` bounds them: each is a worker process of its own."""
    import pyarrow.csv as pa_csv

    _settle_fsspec_http_import()
    reader = {
        "parquet": ray.data.read_parquet,
        "csv": ray.data.read_csv,
        "tsv": ray.data.read_csv,
        "jsonl": ray.data.read_json,
    }[spec.format]
    kwargs: dict[str, Any] = {**_zero_cpu(reader), "concurrency": concurrency}
    if spec.format in ("csv", "tsv"):
        # As the local reader: every column a string, empty fields "" rather than null.
        kwargs["parse_options"] = _csv_parse_options(spec.format, spec.delimiter)
        kwargs["convert_options"] = pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in spec.schema.names},
            strings_can_be_null=False,
        )
        kwargs["file_extensions"] = None
    elif spec.format == "jsonl":
        kwargs["file_extensions"] = None
    if spec.source_column is not None:
        kwargs["include_paths"] = True
    return reader(spec.files, **kwargs)


def in_chunks(dataset: Any, chunk_rows: int) -> Any:
    """Blocks of at most `chunk_rows` rows, so the work spreads over the actors.

    Ray Data hands an actor whole blocks, and its parquet reader packs small files into one
    block: 4,000 rows in 8 files made a single block that one actor labelled while the
    other idled. The streaming repartition splits and merges blocks without a shuffle.
    """
    import inspect

    if "target_num_rows_per_block" in inspect.signature(dataset.repartition).parameters:
        return dataset.repartition(target_num_rows_per_block=chunk_rows)
    return dataset


def _settle_fsspec_http_import() -> None:
    """Make a failing `import fsspec.implementations.http` fail the same way every time.

    Ray Data (2.60) lists parquet files from several threads, each importing fsspec's HTTP
    filesystem and catching only ModuleNotFoundError. Without aiohttp (datasets no longer
    installs it) one thread's import fails while another sees the half-imported module and
    gets a plain ImportError that aborts the read: most runs over several files failed.
    Marking the module missing after a first failure makes every later import raise
    ModuleNotFoundError at once. It was unusable in this process anyway. This covers the
    driver only; Ray's ListFiles task races the same way in a worker, which is why the
    `ray` extra installs aiohttp (then the import simply succeeds everywhere).
    """
    if "fsspec.implementations.http" in sys.modules:
        return
    try:
        import fsspec.implementations.http  # noqa: F401
    except ModuleNotFoundError:
        sys.modules["fsspec.implementations.http"] = None  # type: ignore[assignment]
    except ImportError:
        pass


def _zero_cpu(function: Any) -> dict[str, Any]:
    """num_cpus=0 as the installed Ray spells it (a named argument since 2.5x)."""
    import inspect

    if "num_cpus" in inspect.signature(function).parameters:
        return {"num_cpus": 0}
    return {"ray_remote_args": {"num_cpus": 0}}


def conform_block(table: pa.Table, spec: InputSpec) -> pa.Table:
    """A block as the local reader would have produced it: the file's columns in order and
    type, then (several files) the source column from Ray's `path` column."""
    if spec.source_column is None:
        return conform(table, spec.schema)
    paths = table.column(RAY_PATH_COLUMN)
    rows = conform(table.drop_columns([RAY_PATH_COLUMN]), spec.schema)
    index = pc.index_in(paths, value_set=pa.array(list(spec.given_names), pa.string()))
    if index.null_count:
        unknown = pc.filter(paths, pc.is_null(index))[0].as_py()
        raise EmolabelError(f"Ray read a file that is not among the inputs: {unknown}")
    names = pa.array(list(spec.given_names.values()), pa.string()).take(index)
    return rows.append_column(pa.field(spec.source_column, pa.string()), names)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Columns in the schema's order and types; missing ones null, unknown ones an error."""
    if table.schema.equals(schema):
        return table
    extra = [name for name in table.column_names if name not in schema.names]
    if extra:
        raise EmolabelError(
            f"column {extra[0]!r} is in some input files but not the first, so the output "
            "schema cannot hold it; give every file the same columns"
        )
    arrays = [
        table.column(f.name) if f.name in table.column_names else pa.nulls(len(table), f.type)
        for f in schema
    ]
    try:
        return pa.Table.from_arrays(arrays, names=schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise EmolabelError(
            f"a column's type differs from the first input file's ({exc}); make each "
            "column's type the same in every file"
        ) from None
