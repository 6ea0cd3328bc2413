"""Annotate on a Ray cluster: Ray Data reads the files, an actor pool labels, parquet comes out.

Each actor loads the same `EmotionClassifier` as the local engine once and runs
`annotate.label_batch` on every batch, so predictions, nulls and the output schema are the
local engine's; only reading, scheduling and writing belong to Ray. Ray is an optional
dependency (`pip install 'emolabel[ray]'`) and is imported only here, only when used.

    files --ray.data.read_*--> Arrow blocks --conform to the local reader's schema-->
          --map_batches(Labeller, ActorPoolStrategy)--> write_parquet(OUT_DIR)
          --read back emotion/confidence/truncated--> AnnotationSummary
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import shutil
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from emolabel.annotation.pipeline import (
    DEFAULT_CHUNK_ROWS,
    AnnotationSummary,
    OutputColumns,
    label_batch,
    output_schema,
)
from emolabel.errors import EmolabelError
from emolabel.inference.encoding import DEFAULT_HEAD_TOKENS
from emolabel.io import choose_text_column, detect_format, open_corpus
from emolabel.io import resolve_inputs as resolve_inputs  # the one resolver lives in io

RAY_INSTALL = "pip install 'emolabel[ray]'"
RAY_FORMATS = ("parquet", "csv", "tsv", "jsonl")
_SAMPLE_BYTES = 1 << 20


def import_ray() -> Any:
    """The ray module, or a one-line user error naming the install command."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise EmolabelError(
            f"--engine ray needs Ray, which is not installed: {RAY_INSTALL}"
        ) from None
    return ray


def refuse_local_only_options(
    *,
    output_format: str | None = None,
    encoding_errors: str = "strict",
    on_error: str = "fail",
    rejects: object = None,
    resume: bool = False,
    compile_model: bool = False,
) -> None:
    """The local engine's options that the Ray engine does not offer: a clear error each."""
    if output_format not in (None, "parquet"):
        raise EmolabelError(
            f"--engine ray writes parquet files only: drop --output-format {output_format}"
        )
    for flag, used in (
        ("--encoding-errors replace", encoding_errors != "strict"),
        ("--on-error skip", on_error != "fail"),
        ("--rejects", rejects is not None),
        ("--resume", resume),
        ("--compile", compile_model),
    ):
        if used:
            raise EmolabelError(
                f"{flag} works with the local engine only: drop it, or use --engine local"
            )


# ------------------------------------------------------------------------- input files
def _is_uri(path: str) -> bool:
    return "://" in path


def _filesystem(path: str) -> tuple[Any, str]:
    """(pyarrow filesystem, path inside it) for a local path or a URI Arrow understands."""
    import pyarrow.fs as pafs

    if not _is_uri(path):
        return pafs.LocalFileSystem(), os.path.abspath(os.path.expanduser(path))
    try:
        return pafs.FileSystem.from_uri(path)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise EmolabelError(f"{path}: cannot open this location ({exc})") from None


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
    """What every block is conformed to: the local engine's schema for the first file."""

    files: list[str]
    format: str
    schema: pa.Schema
    text_column: str


def inspect_inputs(
    files: list[str], fmt: str, text_column: str | None, format_override: str | None
) -> InputSpec:
    """Schema and text column as the local engine's reader sees the first file.

    A local first file goes through `corpus.open_corpus` itself; a remote one is sampled
    with the same rules (CSV: every column a string; JSON: null-only keys as strings).
    """
    first = files[0]
    if not _is_uri(first):
        reader = open_corpus(first, format=format_override or fmt, text_column=text_column)
        return InputSpec(files, fmt, reader.schema, reader.text_column)
    fs, inner = _filesystem(first)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(inner, filesystem=fs)
        except (pa.ArrowInvalid, OSError) as exc:
            raise EmolabelError(f"{first}: not a readable parquet file ({exc})") from None
    elif fmt in ("csv", "tsv"):
        import pyarrow.csv as pa_csv

        with fs.open_input_stream(inner, compression="detect") as stream:
            names = pa_csv.open_csv(stream, parse_options=_csv_parse_options(fmt)).schema.names
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
    return InputSpec(files, fmt, schema, column)


def _csv_parse_options(fmt: str) -> Any:
    import pyarrow.csv as pa_csv

    return pa_csv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",", newlines_in_values=True)


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
        kwargs["parse_options"] = _csv_parse_options(spec.format)
        kwargs["convert_options"] = pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in spec.schema.names},
            strings_can_be_null=False,
        )
        kwargs["file_extensions"] = None
    elif spec.format == "jsonl":
        kwargs["file_extensions"] = None
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


# ------------------------------------------------------------------------- the workers
@dataclass(frozen=True)
class ModelInfo:
    """What a worker resolved: the model source, its labels, device and precision."""

    source: str
    name: str
    labels: list[str]
    device: str
    precision: str


def probe_model(model: str | None, device: str, precision: str) -> ModelInfo:
    """Run on a worker (same resources as the actors): check the model is there and read
    its labels without loading weights, and resolve auto device/precision as workers will."""
    from emolabel.inference import (
        resolve_device,
        resolve_model_source,
        resolve_precision,
    )

    source = resolve_model_source(model)
    resolved_device = resolve_device(device)
    resolved_precision = resolve_precision(precision, resolved_device)
    path = Path(source)
    if path.exists():
        id2label = json.loads((path / "config.json").read_text(encoding="utf-8"))["id2label"]
        name = path.name
    else:
        from transformers import AutoConfig

        try:
            id2label = AutoConfig.from_pretrained(source, trust_remote_code=False).id2label
        except (OSError, ValueError) as exc:
            raise EmolabelError(
                f"could not load model hub id {source}: {str(exc).strip().splitlines()[0]}"
            ) from None
        name = source
    labels = [str(id2label[k]) for k in sorted(id2label, key=int)]
    return ModelInfo(source, name, labels, resolved_device, resolved_precision)


@dataclass(frozen=True)
class LabellerConfig:
    """Everything an actor needs to build its classifier and label a batch."""

    model: str
    device: str
    precision: str
    max_length: int | None
    head_tokens: int
    batch_tokens: int | None
    labels: list[str]
    text_column: str
    input_schema: pa.Schema
    columns: OutputColumns
    schema: pa.Schema
    source: str


class Labeller:
    """The map_batches callable class: one EmotionClassifier per actor, label_batch per batch."""

    def __init__(self, config: LabellerConfig) -> None:
        from emolabel.inference import EmotionClassifier

        self.config = config
        self.classifier = EmotionClassifier.load(
            config.model,
            device=config.device,
            precision=config.precision,
            max_length=config.max_length,
            head_tokens=config.head_tokens,
        )
        if self.classifier.labels != config.labels:
            raise EmolabelError(
                f"a worker loaded {config.model} with labels {self.classifier.labels}, not "
                f"{config.labels}: give every node the same model folder"
            )

    def __call__(self, table: pa.Table) -> pa.Table:
        config = self.config
        if table.num_rows == 0:
            return config.schema.empty_table()
        table = conform(table, config.input_schema).combine_chunks()
        batches = table.to_batches()
        batch = batches[0] if len(batches) == 1 else pa.concat_batches(batches)
        out = label_batch(
            self.classifier,
            batch,
            config.text_column,
            config.columns,
            source=config.source,
            batch_tokens=config.batch_tokens,
        )
        return pa.Table.from_batches([out]).cast(config.schema)


@dataclass
class BlockCounts:
    """Summary figures of some written rows; added up over the output's batches."""

    rows: int
    skipped_empty: int
    truncated: int
    counts: list[int]
    confidence_sums: list[float]


def count_block(table: pa.Table, columns: OutputColumns, labels: list[str]) -> BlockCounts:
    """Rows, empties, truncations, and per-label count and confidence sum, vectorized."""
    import pyarrow.compute as pc

    emotion = table.column(columns.emotion)
    confidence = table.column(columns.confidence).cast(pa.float64())
    truncated = table.column(columns.truncated).fill_null(False).cast(pa.int64())
    counts: list[int] = []
    sums: list[float] = []
    for label in labels:
        mask = pc.fill_null(pc.equal(emotion, label), False)
        counts.append(pc.sum(mask.cast(pa.int64())).as_py() or 0)
        sums.append(pc.sum(pc.filter(confidence, mask)).as_py() or 0.0)
    return BlockCounts(
        rows=table.num_rows,
        skipped_empty=emotion.null_count,
        truncated=pc.sum(truncated).as_py() or 0,
        counts=counts,
        confidence_sums=sums,
    )


# ------------------------------------------------------------------------- output folder
def _dir_has_files(fs: Any, inner: str) -> bool:
    import pyarrow.fs as pafs

    return bool(fs.get_file_info(pafs.FileSelector(inner, recursive=False, allow_not_found=True)))


def check_output_dir(output_dir: str, inputs: list[str], overwrite: bool) -> None:
    """Refuse a file, a non-empty folder (unless overwrite), a folder holding an input, or a
    local parent that is missing or read-only."""
    import pyarrow.fs as pafs

    fs, inner = _filesystem(output_dir)
    info = fs.get_file_info(inner)
    if info.type == pafs.FileType.File:
        raise EmolabelError(
            f"-o {output_dir} is a file: --engine ray writes a folder of parquet files; "
            "give a folder path"
        )
    if info.type == pafs.FileType.Directory and _dir_has_files(fs, inner) and not overwrite:
        raise EmolabelError(
            f"{output_dir} exists and is not empty: pass --overwrite or choose another -o"
        )
    if _is_uri(output_dir):
        return
    folder = Path(inner)
    for path in inputs:
        if not _is_uri(path) and (folder == Path(path) or folder in Path(path).parents):
            raise EmolabelError(
                f"-o {output_dir} holds the input file {path}: choose another output folder"
            )
    parent = folder.parent
    if not parent.exists():
        raise EmolabelError(f"cannot write {output_dir}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise EmolabelError(f"cannot write {output_dir}: folder {parent} is not writable")


def _move_into_place(tmp: Path, target: Path) -> None:
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


# ------------------------------------------------------------------------- Ray session
@contextlib.contextmanager
def ray_session(ray: Any, address: str | None, *, progress: bool) -> Iterator[None]:
    """Connect to `address` (or $RAY_ADDRESS), else start a local Ray on this machine's CPUs
    with quiet logs and no dashboard, and shut it down after. A Ray this process already
    runs is used as it is and left running."""
    started = False
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        options: dict[str, Any] = {
            "include_dashboard": False,
            "logging_level": logging.ERROR,
            "log_to_driver": False,
        }
        if address is None:
            options["num_cpus"] = (
                len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
            )
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            ray.init(address=address, **options)
        except Exception as exc:  # Ray raises bare Exception for a node that times out
            where = f"the Ray cluster at {address}" if address else "a local Ray"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            hint = (
                ""
                if address
                else " (on a busy machine Ray's own agents can start too slowly, see "
                "ray-project/ray#65983: retry when it is quieter, or use --engine local)"
            )
            raise EmolabelError(f"could not start or reach {where}: {first}{hint}") from None
        started = True
    context = ray.data.DataContext.get_current()
    saved = (context.enable_progress_bars, context.print_on_execution_start)
    data_logger = logging.getLogger("ray.data")
    saved_level = data_logger.level
    context.enable_progress_bars = progress
    context.print_on_execution_start = False
    data_logger.setLevel(logging.CRITICAL)  # errors reach the caller as exceptions
    try:
        yield
    finally:
        context.enable_progress_bars, context.print_on_execution_start = saved
        data_logger.setLevel(saved_level)
        if started:
            ray.shutdown()


def _user_error(exc: BaseException) -> EmolabelError | None:
    """The EmolabelError a Ray task raised, unwrapped from Ray's exception types, if any."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    wrapped: EmolabelError | None = None
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, EmolabelError):
            if not type(item).__module__.startswith("ray"):
                return EmolabelError(str(item))
            wrapped = wrapped or item  # Ray's dual-class copy: its text holds a traceback
        stack += [getattr(item, "cause", None), item.__cause__, item.__context__]
    if wrapped is not None:
        lines = [line for line in str(wrapped).splitlines() if line.strip()]
        return EmolabelError(lines[-1].split(": ", 1)[-1] if lines else "a Ray worker failed")
    return None


def _explain(exc: BaseException, source: str) -> EmolabelError | None:
    """A one-line error for a failed Ray run: the user error a worker raised, or the reason a
    file could not be read. None for anything else (a bug: the caller re-raises it)."""
    found = _user_error(exc)
    if found is not None:
        return found
    text = str(exc)
    bad_csv = re.search(r"Failed to read CSV file: (.+?)\. Please", text)
    if bad_csv:
        path = bad_csv.group(1)
        return EmolabelError(
            f"{path}: not valid CSV (a row with the wrong number of fields, an unclosed quote "
            f"or invalid UTF-8); `emolabel annotate {path} -o check.parquet` names the line"
        )
    for line in text.splitlines():
        if re.match(
            r"\s*(pyarrow\.lib\.)?(ArrowInvalid|ArrowTypeError|JSONDecodeError|"
            r"UnicodeDecodeError|json\.decoder\.JSONDecodeError)\b",
            line,
        ):
            return EmolabelError(f"{source}: cannot read the input ({line.strip()}); fix the file")
    return None


def _no_restarts(ray: Any, address: str | None) -> dict[str, Any]:
    """max_restarts=0 on one machine, where an actor that died (out of memory, most likely)
    would die again: fail at once rather than retry forever. Clusters keep Ray Data's
    default of restarting actors lost with a node. (Also spares Ray's per-run caveat about
    restarting actors; passed only while map_batches still takes extra remote args.)"""
    import inspect

    if address is not None or os.environ.get("RAY_ADDRESS"):
        return {}
    parameters = inspect.signature(ray.data.Dataset.map_batches).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return {"max_restarts": 0}
    return {}


def _worker_count(
    ray: Any,
    workers: int | None,
    gpus_per_worker: float,
    cpus_per_worker: float,
    remote: bool,
) -> int:
    """--workers, else one per CPU (per `gpus_per_worker` GPUs) the cluster has now. Asking
    for more GPUs than there are is refused, except for a given --workers on a remote
    cluster, whose autoscaler may add GPU nodes."""
    if workers is not None and workers < 1:
        raise EmolabelError("--workers must be 1 or more")
    resources = ray.cluster_resources()
    gpus = resources.get("GPU", 0)
    if gpus_per_worker > 0 and gpus < gpus_per_worker and not (remote and workers):
        raise EmolabelError(
            f"--gpus-per-worker {gpus_per_worker:g}: the Ray cluster has {gpus:g} GPU(s); "
            "drop --gpus-per-worker to label on CPUs"
            + ("" if remote else ", or pass --ray-address of a cluster with GPUs")
        )
    if workers is not None:
        return workers
    if gpus_per_worker > 0:
        return max(1, int(gpus // gpus_per_worker))
    return max(1, int(resources.get("CPU", 1) // cpus_per_worker))


# ------------------------------------------------------------------------- the engine
def annotate_with_ray(
    inputs: str | os.PathLike[str] | list[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str],
    *,
    model: str | os.PathLike[str] | None = None,
    text_column: str | None = None,
    input_format: str | None = None,
    prefix: str = "",
    device: str = "auto",
    precision: str = "auto",
    max_length: int | None = None,
    head_tokens: int = DEFAULT_HEAD_TOKENS,
    batch_tokens: int | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    workers: int | None = None,
    gpus_per_worker: float = 0,
    cpus_per_worker: float = 1,
    ray_address: str | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> AnnotationSummary:
    """Label every row of `inputs` on Ray and write parquet files with the local engine's
    schema into `output_dir`.

    `inputs` is a file, folder, glob or list of them, local or any URI Arrow reads (s3://,
    gs://, ...); every node must see them, the model and the output folder. A local output
    folder is written under a temporary name and renamed on success; on an object store the
    files are written in place. Without `ray_address` a local Ray is started and shut down.
    `workers` defaults to one per CPU (or per `gpus_per_worker` GPUs) in the cluster.
    """
    started = time.perf_counter()
    ray = import_ray()
    if chunk_rows <= 0:
        raise EmolabelError("--chunk-rows must be positive")
    if gpus_per_worker < 0:
        raise EmolabelError("--gpus-per-worker must be 0 or more")
    source = ", ".join(map(os.fspath, inputs)) if isinstance(inputs, list) else os.fspath(inputs)
    files = resolve_inputs(inputs)
    fmt = detect_input_format(files, input_format)
    spec = inspect_inputs(files, fmt, text_column, input_format)
    target = os.fspath(output_dir)
    check_output_dir(target, files, overwrite)
    if device == "auto" and gpus_per_worker > 0:
        device = "cuda"
    elif device == "auto":
        device = "cpu"  # an actor without a reserved GPU must not take one
    model_arg = None if model is None else os.fspath(model)

    with ray_session(ray, ray_address, progress=progress):
        remote = bool(ray_address or os.environ.get("RAY_ADDRESS"))
        count = _worker_count(ray, workers, gpus_per_worker, cpus_per_worker, remote)
        resources: dict[str, Any] = {"num_cpus": cpus_per_worker}
        if gpus_per_worker > 0:
            resources["num_gpus"] = gpus_per_worker
        try:
            info: ModelInfo = ray.get(
                ray.remote(probe_model).options(**resources).remote(model_arg, device, precision)
            )
        except Exception as exc:
            error = _explain(exc, source)
            if error is None:
                raise
            raise error from None
        columns = OutputColumns.for_labels(info.labels, prefix)
        schema = output_schema(spec.schema, columns, source)
        config = LabellerConfig(
            model=info.source,
            device=info.device,
            precision=info.precision,
            max_length=max_length,
            head_tokens=head_tokens,
            batch_tokens=batch_tokens,
            labels=info.labels,
            text_column=spec.text_column,
            input_schema=spec.schema,
            columns=columns,
            schema=schema,
            source=source,
        )
        pool = ray.data.ActorPoolStrategy(min_size=1, max_size=count)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
            labelled = in_chunks(read_dataset(ray, spec, count), chunk_rows).map_batches(
                Labeller,
                fn_constructor_args=(config,),
                batch_format="pyarrow",
                batch_size=chunk_rows,
                compute=pool,
                **resources,
                **_no_restarts(ray, ray_address),
            )
        local = not _is_uri(target)
        write_to = target
        if local:
            tmp = Path(target).resolve()
            tmp = tmp.with_name(f".{tmp.name}.emolabel-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
            write_to = str(tmp)
        elif overwrite:
            fs, inner = _filesystem(target)
            with contextlib.suppress(FileNotFoundError):
                fs.delete_dir_contents(inner, missing_dir_ok=True)
        try:
            try:
                labelled.write_parquet(
                    write_to,
                    compression="zstd",
                    concurrency=count,
                    ray_remote_args={"num_cpus": 0},
                )
            except Exception as exc:
                error = _explain(exc, source)
                if error is None:
                    raise
                raise error from None
            summary = _summarize(write_to, columns, info, source, target)
            if summary.rows == 0:
                raise EmolabelError(f"{source} has no rows: nothing to label")
            if local:
                _move_into_place(Path(write_to), Path(target).resolve())
        finally:
            if local:
                shutil.rmtree(write_to, ignore_errors=True)
    summary.finish(time.perf_counter() - started)
    return summary


def _summarize(
    written: str, columns: OutputColumns, info: ModelInfo, source: str, target: str
) -> AnnotationSummary:
    """Summary figures from the written files (what is on disk is what is counted).

    Reads only the emotion, confidence and truncated columns, with Arrow's threads, on the
    driver: cheap next to inference, and it needs no second Ray job.
    """
    import pyarrow.dataset as ds

    labels = info.labels
    summary = AnnotationSummary(
        input=source,
        output=target,
        model=info.name,
        device=info.device,
        precision=info.precision,
        labels=list(labels),
    )
    fs, inner = _filesystem(written)
    if not _dir_has_files(fs, inner):
        return summary
    dataset = ds.dataset(inner, format="parquet", filesystem=fs)
    wanted = [columns.emotion, columns.confidence, columns.truncated]
    counts = [0] * len(labels)
    sums = [0.0] * len(labels)
    for batch in dataset.to_batches(columns=wanted):
        block = count_block(pa.Table.from_batches([batch]), columns, labels)
        summary.rows += block.rows
        summary.skipped_empty += block.skipped_empty
        summary.truncated += block.truncated
        counts = [a + b for a, b in zip(counts, block.counts, strict=True)]
        sums = [a + b for a, b in zip(sums, block.confidence_sums, strict=True)]
    summary.labelled = summary.rows - summary.skipped_empty
    summary.counts = dict(zip(labels, counts, strict=True))
    summary._confidence_sums = dict(zip(labels, sums, strict=True))
    return summary
