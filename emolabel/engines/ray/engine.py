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

from emolabel.annotation.options import AnnotateOptions
from emolabel.annotation.schema import OutputColumns, output_schema
from emolabel.annotation.summary import AnnotationSummary
from emolabel.engines.ray.inputs import (
    InputSpec,
    in_chunks,
    inspect_inputs,
    read_dataset,
)
from emolabel.engines.ray.options import RayOptions, refuse_local_only_options
from emolabel.engines.ray.output import check_output_dir, count_written, staged_output
from emolabel.engines.ray.session import import_ray, ray_session, reraise_as_user_error
from emolabel.engines.ray.workers import (
    Labeller,
    LabellerConfig,
    ModelInfo,
    no_restarts,
    probe_model,
    worker_count,
    worker_resources,
)
from emolabel.errors import EmolabelError
from emolabel.io.inputs import Inputs, input_list

__all__ = ["RayOptions", "annotate_with_ray"]


def annotate_with_ray(
    inputs: Inputs,
    output: str | os.PathLike[str],
    *,
    model: str | os.PathLike[str] | None = None,
    options: AnnotateOptions | None = None,
    ray: RayOptions | None = None,
    **option_overrides: Any,
) -> AnnotationSummary:
    """Label every row of `inputs` on Ray and write parquet files with the local engine's
    schema into the folder `output`.

    `options` (with `option_overrides` applied, as for `annotate`) say how to label; `ray`
    says where. `inputs` is a file, folder, glob or list of them, local or any URI Arrow reads
    (s3://, gs://, ...); every node must see them, the model and the output folder. A local
    output folder is written under a temporary name and renamed on success; on an object
    store the files are written in place. Without an address a local Ray is started and
    shut down after.
    """
    started = time.perf_counter()
    opts = (options or AnnotateOptions()).with_overrides(**option_overrides)
    cluster = (ray or RayOptions()).checked()
    refuse_local_only_options(opts, inputs, output)
    source = ", ".join(input_list(inputs))
    spec = inspect_inputs(inputs, opts)  # bad inputs are named before Ray is even needed
    target = os.fspath(output)
    check_output_dir(target, spec.files, opts.overwrite)
    ray_module = import_ray()
    with (
        ray_session(ray_module, cluster.address, progress=cluster.progress),
        reraise_as_user_error(source),
    ):
        remote = bool(cluster.address or os.environ.get("RAY_ADDRESS"))
        count = worker_count(ray_module, cluster, remote)
        info = _probe_model(ray_module, model, opts, cluster)
        columns = OutputColumns.for_labels(info.labels, opts.prefix)
        config = LabellerConfig(
            model=info,
            options=opts,
            inputs=spec,
            columns=columns,
            schema=output_schema(spec.row_schema, columns, source),
            source=source,
        )
        summary = AnnotationSummary(
            input=source,
            output=target,
            model=info.name,
            device=info.device,
            precision=info.precision,
            labels=list(info.labels),
            multi_label=bool(info.multi_label),
            inputs=list(spec.given),
        )
        labelled = _labelled_dataset(ray_module, spec, config, count, cluster)
        with staged_output(target, overwrite=opts.overwrite) as write_to:
            labelled.write_parquet(
                write_to, compression="zstd", concurrency=count, ray_remote_args={"num_cpus": 0}
            )
            count_written(write_to, columns, summary)
            if summary.rows == 0:
                raise EmolabelError(f"{source} has no rows: nothing to label")
    summary.finish(time.perf_counter() - started)
    return summary


def _probe_model(
    ray: Any, model: str | os.PathLike[str] | None, opts: AnnotateOptions, cluster: RayOptions
) -> ModelInfo:
    """The model's labels and the device/precision the workers will use, found on a worker
    with the workers' resources (the driver may have no GPU, or not see the model folder)."""
    device = opts.device
    if device == "auto":  # an actor without a reserved GPU must not take one
        device = "cuda" if cluster.gpus_per_worker > 0 else "cpu"
    model_arg = None if model is None else os.fspath(model)
    probe = ray.remote(probe_model).options(**worker_resources(cluster))
    info: ModelInfo = ray.get(probe.remote(model_arg, device, opts.precision))
    return info


def _labelled_dataset(
    ray: Any, spec: InputSpec, config: LabellerConfig, count: int, cluster: RayOptions
) -> Any:
    """The lazy pipeline: read, cut into chunks, label on a pool of up to `count` actors."""
    chunk_rows = config.options.chunk_rows
    pool = ray.data.ActorPoolStrategy(min_size=1, max_size=count)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
        return in_chunks(read_dataset(ray, spec, count), chunk_rows).map_batches(
            Labeller,
            fn_constructor_args=(config,),
            batch_format="pyarrow",
            batch_size=chunk_rows,
            compute=pool,
            **worker_resources(cluster),
            **no_restarts(ray, cluster.address),
        )
