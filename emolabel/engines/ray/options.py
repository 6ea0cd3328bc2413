"""The Ray engine's own options (cluster, workers, resources), and the annotate options it
does not offer, each refused with a one-line reason."""

from __future__ import annotations

import os
from dataclasses import dataclass

from emolabel.annotation.options import AnnotateOptions
from emolabel.errors import EmolabelError
from emolabel.io.inputs import STDIN, Inputs, input_list


@dataclass(frozen=True)
class RayOptions:
    """Where and on how many workers to label; the rest of a run is its AnnotateOptions."""

    address: str | None = None  # None: $RAY_ADDRESS, else a local Ray on this machine's CPUs
    workers: int | None = None  # None: one per CPU (or per `gpus_per_worker` GPUs)
    gpus_per_worker: float = 0
    cpus_per_worker: float = 1
    progress: bool = False  # Ray Data's own progress bars, on stderr

    def checked(self) -> RayOptions:
        if self.workers is not None and self.workers < 1:
            raise EmolabelError("--workers must be 1 or more")
        if self.gpus_per_worker < 0:
            raise EmolabelError("--gpus-per-worker must be 0 or more")
        if self.cpus_per_worker <= 0:
            raise EmolabelError("cpus_per_worker must be positive")
        return self


def refuse_local_only_options(
    options: AnnotateOptions, inputs: Inputs, output: str | os.PathLike[str]
) -> None:
    """The local engine's options that the Ray engine does not offer: a clear error each, so
    none is silently ignored."""
    if STDIN in input_list(inputs) or os.fspath(output) == STDIN:
        raise EmolabelError(
            "--engine ray reads files and writes a folder: `-` (stdin or stdout) works with "
            "--engine local only"
        )
    if options.output_format not in (None, "parquet"):
        raise EmolabelError(
            f"--engine ray writes parquet files only: drop --output-format {options.output_format}"
        )
    for flag, used in (
        ("--encoding-errors replace", options.encoding_errors != "strict"),
        ("--on-error skip", options.on_error != "fail"),
        ("--rejects", options.rejects is not None),
        ("--resume", options.resume),
        ("--compile", options.compile),
    ):
        if used:
            raise EmolabelError(
                f"{flag} works with the local engine only: drop it, or use --engine local"
            )
