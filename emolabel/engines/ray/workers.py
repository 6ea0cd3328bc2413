"""The Ray workers: the model probe, the Labeller actors and how many of them to start.

Each actor loads the same `EmotionClassifier` as the local engine once and runs annotation's
`label_batch` on every block, so predictions, nulls and the output schema are the local
engine's.
"""

from __future__ import annotations

import inspect
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from emolabel.annotation.labelling import label_batch
from emolabel.annotation.options import AnnotateOptions
from emolabel.annotation.schema import OutputColumns
from emolabel.engines.ray.inputs import InputSpec, conform_block
from emolabel.engines.ray.options import RayOptions
from emolabel.errors import EmolabelError


@dataclass(frozen=True)
class ModelInfo:
    """What a worker resolved: the model source, its labels, device and precision."""

    source: str
    name: str
    labels: list[str]
    device: str
    precision: str
    multi_label: bool = False


def probe_model(model: str | None, device: str, precision: str) -> ModelInfo:
    """Run on a worker (same resources as the actors): check the model is there and read
    its labels without loading weights, and resolve auto device/precision as workers will."""
    from types import SimpleNamespace

    from emolabel.inference import (
        resolve_device,
        resolve_model_source,
        resolve_precision,
    )
    from emolabel.inference.emotions import is_multi_label

    source = resolve_model_source(model)
    resolved_device = resolve_device(device)
    resolved_precision = resolve_precision(precision, resolved_device)
    path = Path(source)
    config: Any
    if path.exists():
        config = SimpleNamespace(**json.loads((path / "config.json").read_text(encoding="utf-8")))
        name = path.name
    else:
        from transformers import AutoConfig

        try:
            config = AutoConfig.from_pretrained(source, trust_remote_code=False)
        except (OSError, ValueError) as exc:
            raise EmolabelError(
                f"could not load model hub id {source}: {str(exc).strip().splitlines()[0]}"
            ) from None
        name = source
    id2label = config.id2label
    labels = [str(id2label[k]) for k in sorted(id2label, key=int)]
    multi = is_multi_label(config, source)
    return ModelInfo(source, name, labels, resolved_device, resolved_precision, multi)


@dataclass(frozen=True)
class LabellerConfig:
    """Everything an actor needs to build its classifier and label a batch."""

    model: ModelInfo
    options: AnnotateOptions
    inputs: InputSpec
    columns: OutputColumns
    schema: pa.Schema
    source: str


class Labeller:
    """The map_batches callable class: one EmotionClassifier per actor, label_batch per batch."""

    def __init__(self, config: LabellerConfig) -> None:
        from emolabel.inference import EmotionClassifier

        self.config = config
        model, options = config.model, config.options
        self.classifier = EmotionClassifier.load(
            model.source,
            device=model.device,
            precision=model.precision,
            max_length=options.max_length,
            head_tokens=options.head_tokens,
            threshold=options.threshold,
        )
        if self.classifier.labels != model.labels:
            raise EmolabelError(
                f"a worker loaded {model.source} with labels {self.classifier.labels}, not "
                f"{model.labels}: give every node the same model folder"
            )

    def __call__(self, table: pa.Table) -> pa.Table:
        config = self.config
        if table.num_rows == 0:
            return config.schema.empty_table()
        table = conform_block(table, config.inputs).combine_chunks()
        batches = table.to_batches()
        batch = batches[0] if len(batches) == 1 else pa.concat_batches(batches)
        out = label_batch(
            self.classifier,
            batch,
            config.inputs.text_column,
            config.columns,
            source=config.source,
            batch_tokens=config.options.batch_tokens,
        )
        return pa.Table.from_batches([out]).cast(config.schema)


def no_restarts(ray: Any, address: str | None) -> dict[str, Any]:
    """max_restarts=0 on one machine, where an actor that died (out of memory, most likely)
    would die again: fail at once rather than retry forever. Clusters keep Ray Data's
    default of restarting actors lost with a node. (Also spares Ray's per-run caveat about
    restarting actors; passed only while map_batches still takes extra remote args.)"""
    if address is not None or os.environ.get("RAY_ADDRESS"):
        return {}
    parameters = inspect.signature(ray.data.Dataset.map_batches).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return {"max_restarts": 0}
    return {}


def worker_count(ray: Any, options: RayOptions, remote: bool) -> int:
    """--workers, else one per CPU (per `gpus_per_worker` GPUs) the cluster has now. Asking
    for more GPUs than there are is refused, except for a given --workers on a remote
    cluster, whose autoscaler may add GPU nodes."""
    workers, gpus_per_worker = options.workers, options.gpus_per_worker
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
    return max(1, int(resources.get("CPU", 1) // options.cpus_per_worker))


def worker_resources(options: RayOptions) -> dict[str, Any]:
    """What each worker (and the model probe) reserves."""
    resources: dict[str, Any] = {"num_cpus": options.cpus_per_worker}
    if options.gpus_per_worker > 0:
        resources["num_gpus"] = options.gpus_per_worker
    return resources
