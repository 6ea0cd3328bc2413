"""`emolabel annotate`: label every row of a corpus file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from emolabel.annotation.options import (
    DEFAULTS,
    AnnotateOptions,
    EncodingErrors,
    InputFormat,
    OnError,
    OutputFormat,
    choices,
)
from emolabel.cli.options import model_options
from emolabel.errors import EmolabelError


@click.command("annotate")
@click.argument("input_path", metavar="INPUT", type=click.Path())
@click.option(
    "--output",
    "-o",
    type=click.Path(),
    required=True,
    help="Output file; .parquet, .csv, .tsv or .jsonl (optionally .gz) picks the format. "
    "With --engine ray: an output folder of parquet files.",
)
@click.option(
    "--text-column",
    "-c",
    default=None,
    help="Column holding the text. Default: text, content, body, tweet, sentence or message, "
    "else the only string column.",
)
@click.option(
    "--format",
    "input_format",
    type=click.Choice(choices(InputFormat)),
    default=DEFAULTS.input_format,
    help="Input format. Default: from the file extension.",
)
@click.option(
    "--output-format",
    type=click.Choice(choices(OutputFormat)),
    default=DEFAULTS.output_format,
    help="Output format. Default: from the -o extension.",
)
@click.option(
    "--prefix",
    default=DEFAULTS.prefix,
    help="Prefix for the added columns (emotion, confidence, score_*, truncated), "
    "for inputs that already have such columns.",
)
@model_options
@click.option(
    "--chunk-rows",
    type=click.IntRange(min=1),
    default=DEFAULTS.chunk_rows,
    show_default=True,
    help="Rows read, labelled and written at a time; memory grows with this, not the file.",
)
@click.option(
    "--encoding-errors",
    type=click.Choice(choices(EncodingErrors)),
    default=DEFAULTS.encoding_errors,
    show_default=True,
    help="Invalid UTF-8: strict stops with the line number; replace substitutes U+FFFD.",
)
@click.option(
    "--on-error",
    type=click.Choice(choices(OnError)),
    default=DEFAULTS.on_error,
    show_default=True,
    help="Malformed rows (ragged CSV, broken JSON line): fail names the line; skip counts "
    "them and goes on.",
)
@click.option(
    "--rejects",
    type=click.Path(path_type=Path),
    default=DEFAULTS.rejects,
    help="With --on-error skip: write the skipped rows (line, reason, raw text) here as JSONL.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue an interrupted run of the same command from its last finished chunk.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace the output file, and any unfinished run's chunks, if they exist.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary table.")
@click.option(
    "--summary-json",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the summary figures to this JSON file.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: stream one file on this machine. ray: label files, folders, globs or "
    "s3:// URIs on a Ray cluster into -o as a folder of parquet files "
    "(pip install 'emolabel[ray]').",
)
@click.option(
    "--ray-address",
    default=None,
    metavar="ADDR",
    help="With --engine ray: the cluster to join (ray://host:10001, host:6379 or auto). "
    "Default: $RAY_ADDRESS, else a local Ray on this machine's CPUs.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="With --engine ray: model copies (Ray actors). Default: one per CPU, or per "
    "--gpus-per-worker GPUs, in the cluster.",
)
@click.option(
    "--gpus-per-worker",
    type=click.FloatRange(min=0),
    default=0,
    help="With --engine ray: GPUs each worker reserves (0.5 puts two on a GPU). "
    "Default: 0, CPU workers.",
)
def command(
    input_path: str,
    output: str,
    text_column: str | None,
    input_format: str | None,
    output_format: str | None,
    prefix: str,
    model: str | None,
    device: str,
    precision: str,
    max_length: int | None,
    head_tokens: int,
    batch_tokens: int | None,
    compile_model: bool,
    chunk_rows: int,
    encoding_errors: str,
    on_error: str,
    rejects: Path | None,
    resume: bool,
    overwrite: bool,
    quiet: bool,
    summary_json: Path | None,
    engine: str,
    ray_address: str | None,
    workers: int | None,
    gpus_per_worker: float,
) -> None:
    """Label the emotion of every row of INPUT and write it to -o with the predictions.

    \b
    INPUT is CSV, TSV, JSONL, parquet or plain text (one text per line), optionally
    gzipped. Every input column is kept; added are `emotion`, `confidence`, one
    `score_<label>` per class and `truncated`. Empty texts get null predictions.
    The file is streamed in chunks, so memory does not grow with its size; finished
    chunks are kept on disk until the output is complete, so an interrupted run
    (Ctrl-C, crash, kill) continues where it stopped with --resume.
    """
    from emolabel.annotation.pipeline import annotate
    from emolabel.cli.render import AnnotateProgress, render_annotation_summary

    options = AnnotateOptions(
        text_column=text_column,
        input_format=input_format,  # type: ignore[arg-type]
        output_format=output_format,  # type: ignore[arg-type]
        prefix=prefix,
        device=device,
        precision=precision,  # type: ignore[arg-type]
        max_length=max_length,
        head_tokens=head_tokens,
        batch_tokens=batch_tokens,
        compile=compile_model,
        chunk_rows=chunk_rows,
        overwrite=overwrite,
        resume=resume,
        encoding_errors=encoding_errors,  # type: ignore[arg-type]
        on_error=on_error,  # type: ignore[arg-type]
        rejects=rejects,
    )
    if engine == "ray":
        from emolabel.engines.ray import RayOptions, annotate_with_ray

        cluster = RayOptions(
            address=ray_address,
            workers=workers,
            gpus_per_worker=gpus_per_worker,
            progress=not quiet,
        )
        summary = annotate_with_ray(input_path, output, model=model, options=options, ray=cluster)
    elif ray_address is not None or workers is not None or gpus_per_worker:
        raise EmolabelError("--ray-address, --workers and --gpus-per-worker need --engine ray")
    else:
        summary = annotate(
            input_path,
            output,
            model=model,
            options=options,
            events=None if quiet else AnnotateProgress(),
        )
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
    if not quiet:
        render_annotation_summary(summary)
