"""`emolabel compare`: fine-tune or load several models, score and time them side by side."""

from __future__ import annotations

import re

import click

from emolabel.cli.train_options import SHARED_TRAINING_OPTIONS, train_options

COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMbB]?)\s*$")


def parse_count(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[int]:
    """`25M`, `1.5e7`, `800k` -> integers (parameter budgets)."""
    scale = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9}
    out = []
    for value in values:
        match = COUNT.match(value)
        try:
            if match:
                number = float(match.group(1)) * scale[match.group(2).lower()]
            else:
                number = float(value)
        except ValueError:
            raise click.BadParameter(f"{value}: write a count such as 20M, 800k or 5e6") from None
        if number <= 0:
            raise click.BadParameter(f"{value}: must be positive")
        out.append(int(number))
    return out


@click.command("compare")
@click.option(
    "--base-model",
    "base_models",
    multiple=True,
    metavar="SPEC",
    help="Fine-tune this base model (repeatable): a preset, a folder, a hub id, or "
    "NAME_OR_DIR:layers=N to keep N evenly spaced layers (e.g. minilm:layers=3).",
)
@click.option(
    "--model",
    "models",
    multiple=True,
    metavar="DIR",
    type=click.Path(),
    help="Compare a model folder trained before (repeatable), e.g. a distilled student.",
)
@click.option(
    "--data",
    "-d",
    required=True,
    metavar="FILE|DIR|HUB_ID",
    help="Training and evaluation data, read as `emolabel train` reads it.",
)
@click.option(
    "--output",
    "-o",
    default="emolabel-comparison",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for comparison.md/.json, the plots, and models/ (the models trained here).",
)
@click.option(
    "--split",
    default="validation",
    show_default=True,
    type=click.Choice(["validation", "test"]),
    help="Split every model is scored on (validation: the one training selects epochs on).",
)
@click.option(
    "--max-params",
    multiple=True,
    callback=parse_count,
    metavar="N",
    help="Parameter budget for a recommendation, e.g. 20M (repeatable; default: the median).",
)
@click.option(
    "--min-speed",
    multiple=True,
    type=click.FloatRange(min=0, min_open=True),
    metavar="TEXTS_PER_S",
    help="Short-text speed budget for a recommendation (repeatable; default: the median).",
)
@click.option(
    "--inference-precision",
    type=click.Choice(["auto", "fp32", "bf16", "fp16", "int8"]),
    default="auto",
    show_default=True,
    help="Precision for scoring and timing, as `annotate --precision`.",
)
@click.option(
    "--long-texts",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="How many 512-token texts to time.",
)
@click.option(
    "--speed-repeats",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Timed passes per model; the fastest counts (robust to a busy machine).",
)
@train_options(*SHARED_TRAINING_OPTIONS)
@click.option("--overwrite", is_flag=True, help="Replace an earlier comparison in --output.")
@click.option("--quiet", "-q", is_flag=True, help="No progress or table on stderr.")
def command(output: str, quiet: bool, **options: object) -> None:
    """Compare models: accuracy, macro P/R/F1, per-emotion F1, size, training time, speed.

    Every --base-model is fine-tuned with the same data, hyper-parameters and seed; every
    --model folder is taken as it is. All are scored on the same split and timed with the
    annotate engine on short texts and on 512-token texts.

    \b
    emolabel compare --data data/ --base-model minilm --base-model minilm:layers=3 -o cmp
    emolabel compare --data data/ --model emolabel/models/ekman \\
        --model student-3l --max-params 20M --min-speed 500 -o cmp
    """
    from emolabel.cli.render import CompareProgress, render_comparison
    from emolabel.evaluation.compare import compare

    with CompareProgress(quiet=quiet) as progress:
        comparison = compare(output_dir=output, events=progress, **options)  # type: ignore[arg-type]
    if not quiet:
        render_comparison(comparison)
