"""Annotate on a Ray cluster: Ray Data reads the files, an actor pool labels, parquet comes out.

Only reading, scheduling and writing belong to Ray; the labelling is annotation's
`label_batch`, so predictions, nulls and the output schema are the local engine's. Ray is an
optional dependency (`pip install 'emolabel[ray]'`) and is imported only when used.

    files --ray.data.read_*--> Arrow blocks --conform to the local reader's schema-->
          --map_batches(Labeller, ActorPoolStrategy)--> write_parquet(OUT_DIR)
          --read back emotion/confidence/truncated--> AnnotationSummary
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

from emolabel.annotation.pipeline import (
    DEFAULT_CHUNK_ROWS,
    AnnotationSummary,
    OutputColumns,
    output_schema,
)
from emolabel.engines.ray.inputs import (
    InputSpec,
    detect_input_format,
    in_chunks,
    inspect_inputs,
    read_dataset,
    resolve_inputs,
)
from emolabel.engines.ray.output import check_output_dir, count_written, staged_output
from emolabel.engines.ray.session import import_ray, ray_session, reraise_as_user_error
from emolabel.engines.ray.workers import (
    Labeller,
    LabellerConfig,
    ModelInfo,
    no_restarts,
    probe_model,
    worker_count,
)
from emolabel.errors import EmolabelError

__all__ = ["annotate_with_ray", "refuse_local_only_options"]


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
    head_tokens: int = 128,
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
    items = inputs if isinstance(inputs, list) else [inputs]
    source = ", ".join(os.fspath(item) for item in items)
    files = resolve_inputs(inputs)
    fmt = detect_input_format(files, input_format)
    spec = inspect_inputs(files, fmt, text_column, input_format)
    target = os.fspath(output_dir)
    check_output_dir(target, files, overwrite)
    if device == "auto":  # an actor without a reserved GPU must not take one
        device = "cuda" if gpus_per_worker > 0 else "cpu"
    model_arg = None if model is None else os.fspath(model)

    with ray_session(ray, ray_address, progress=progress), reraise_as_user_error(source):
        remote = bool(ray_address or os.environ.get("RAY_ADDRESS"))
        count = worker_count(ray, workers, gpus_per_worker, cpus_per_worker, remote)
        resources: dict[str, Any] = {"num_cpus": cpus_per_worker}
        if gpus_per_worker > 0:
            resources["num_gpus"] = gpus_per_worker
        probe = ray.remote(probe_model).options(**resources)
        info: ModelInfo = ray.get(probe.remote(model_arg, device, precision))
        columns = OutputColumns.for_labels(info.labels, prefix)
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
            schema=output_schema(spec.schema, columns, source),
            source=source,
        )
        labelled = _labelled_dataset(ray, spec, config, count, chunk_rows, resources, ray_address)
        summary = AnnotationSummary(
            input=source,
            output=target,
            model=info.name,
            device=info.device,
            precision=info.precision,
            labels=list(info.labels),
        )
        with staged_output(target, overwrite=overwrite) as write_to:
            labelled.write_parquet(
                write_to, compression="zstd", concurrency=count, ray_remote_args={"num_cpus": 0}
            )
            count_written(write_to, columns, summary)
            if summary.rows == 0:
                raise EmolabelError(f"{source} has no rows: nothing to label")
    summary.finish(time.perf_counter() - started)
    return summary


def _labelled_dataset(
    ray: Any,
    spec: InputSpec,
    config: LabellerConfig,
    count: int,
    chunk_rows: int,
    resources: dict[str, Any],
    ray_address: str | None,
) -> Any:
    """The lazy pipeline: read, cut into chunks, label on a pool of up to `count` actors."""
    pool = ray.data.ActorPoolStrategy(min_size=1, max_size=count)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
        return in_chunks(read_dataset(ray, spec, count), chunk_rows).map_batches(
            Labeller,
            fn_constructor_args=(config,),
            batch_format="pyarrow",
            batch_size=chunk_rows,
            compute=pool,
            **resources,
            **no_restarts(ray, ray_address),
        )
