"""`emolabel tune-thresholds`: fit a multi-label model's per-label thresholds to the scores
it gives where it runs (or to your own labelled text) and write the model back with them."""

from __future__ import annotations

import click

from emolabel.cli.options import labelled_split_options, use_threads
from emolabel.inference.devices import PRECISIONS


@click.command("tune-thresholds")
@click.argument("model", metavar="MODEL")
@click.option(
    "--data",
    "-d",
    required=True,
    multiple=True,
    metavar="FILE|DIR|HUB_ID",
    help="Labelled data in the model's labels (or mapped to them with --label-map). Repeat "
    "to tune on several sources together.",
)
@labelled_split_options
@click.option(
    "--label-map",
    default=None,
    metavar="FILE|NAME",
    help="Map the data's labels onto the model's, as train's --label-map (e.g. `ekman`).",
)
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for the model with its new thresholds; MODEL's own folder updates it in place.",
)
@click.option("--overwrite", is_flag=True, help="Replace a non-empty output model folder.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N, mps.")
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    default="auto",
    show_default=True,
    help="As annotate's: tune in the precision you will annotate in.",
)
@click.option("--max-length", type=click.IntRange(min=8), default=None, help="As annotate's.")
@click.option("--threads", type=click.IntRange(min=1), default=None, metavar="N")
@click.option("--quiet", "-q", is_flag=True, help="No progress or table on stderr.")
def command(
    model: str, data: tuple[str, ...], threads: int | None, quiet: bool, **options: object
) -> None:
    """Re-tune MODEL's per-label thresholds for F1 on labelled data and save it to -o.

    \b
    emolabel tune-thresholds goemotions --data dev.tsv -o goemotions-tuned
    emolabel tune-thresholds my-model --data my-labelled.csv -o my-model   # in place
    emolabel annotate corpus.csv --model goemotions-tuned -o out.parquet
    """
    from emolabel.cli.render import EvaluationProgress, render_threshold_tuning
    from emolabel.evaluation.threshold_tuning import retune_thresholds

    use_threads(threads)
    out = options.pop("output")
    events = None if quiet else EvaluationProgress()
    result = retune_thresholds(model, list(data), str(out), events=events, **options)  # type: ignore[arg-type]
    if not quiet:
        render_threshold_tuning(result)
