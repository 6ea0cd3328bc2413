"""`emolabel annotate`: label every row of a corpus file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
from emolabel.cli.options import model_options, use_threads
from emolabel.errors import EmolabelError


@click.command("annotate")
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(),
    required=True,
    help="Output file; .parquet, .csv, .tsv or .jsonl (optionally .gz) picks the format; "
    "- writes JSONL (or --output-format csv/tsv) to stdout. "
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
    help="Prefix for the added columns (emotion, confidence, emotions, score_*, truncated), "
    "for inputs that already have such columns.",
)
@model_options
@click.option(
    "--delimiter",
    default=DEFAULTS.delimiter,
    metavar="CHAR",
    help="Field separator of CSV input (e.g. ';'). Default: ',' for .csv, tab for .tsv.",
)
@click.option(
    "--source-column",
    default=DEFAULTS.source_column,
    show_default=True,
    metavar="NAME",
    help="With several inputs, a folder or a glob: the added column naming each row's file.",
)
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
    inputs: tuple[str, ...],
    output: str,
    model: str | None,
    compile_model: bool,
    quiet: bool,
    summary_json: Path | None,
    engine: str,
    ray_address: str | None,
    workers: int | None,
    gpus_per_worker: float,
    threads: int | None,
    **options: Any,
) -> None:
    """Label the emotion of every row of INPUT and write it to -o with the predictions.

    \b
    INPUT is CSV, TSV, JSONL, parquet or plain text (one text per line), optionally
    gzipped; several files, a folder or a quoted glob are read in order into one -o, with
    a `source` column naming each row's file; `-` reads stdin and `-o -` writes JSONL
    (or --output-format csv/tsv) to stdout. Every input column is kept; added are
    `emotion`, `confidence`, `emotions` (the labels at or above their threshold, highest
    first; CSV/TSV join them with "|"), one `score_<label>` per class and `truncated`.
    Empty texts get null predictions. The input is streamed in chunks, so memory does
    not grow with its size; from files to a file, finished chunks are kept on disk until
    the output is complete, so an interrupted run (Ctrl-C, crash, kill) continues where
    it stopped with --resume.
    """
    from emolabel.annotation.pipeline import annotate
    from emolabel.cli.render import AnnotateProgress, render_annotation_summary
    from emolabel.io import OutputClosed

    opts = AnnotateOptions(compile=compile_model, **options).checked()
    if engine == "ray" and threads is not None:
        raise EmolabelError(
            "--threads is for --engine local: each Ray worker uses the CPUs it reserves"
        )
    use_threads(threads)
    if engine == "ray":
        from emolabel.engines.ray import RayOptions, annotate_with_ray

        cluster = RayOptions(
            address=ray_address,
            workers=workers,
            gpus_per_worker=gpus_per_worker,
            progress=not quiet,
        )
        summary = annotate_with_ray(
            list(inputs),
            output,
            model=model,
            options=opts,
            ray=cluster,
        )
    elif ray_address is not None or workers is not None or gpus_per_worker:
        raise EmolabelError("--ray-address, --workers and --gpus-per-worker need --engine ray")
    else:
        try:
            summary = annotate(
                list(inputs),
                output,
                model=model,
                options=opts,
                events=None if quiet else AnnotateProgress(),
            )
        except OutputClosed:
            return  # the reader of -o - went away (e.g. `| head`): a normal end for a pipeline
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
    if not quiet:
        render_annotation_summary(summary)
