"""`emolabel evaluate`: accuracy, F1, ROC-AUC, log loss and calibration of a model, or the
multi-label figures (micro/macro/samples F1, subset accuracy, Hamming loss, AUC, AP)."""

from __future__ import annotations

import click

from emolabel.cli.options import labelled_split_options, model_options, use_threads


@click.command("evaluate")
@click.argument("model_arg", metavar="[MODEL]", required=False)
@click.option(
    "--data",
    "-d",
    required=True,
    metavar="FILE|DIR|HUB_ID",
    help="Labelled data: one file (all rows), or a folder / hub id with --split.",
)
@labelled_split_options
@click.option(
    "--label-map",
    default=None,
    metavar="FILE|NAME",
    help="Score the model in the data's coarser label set: a map of groups to the model's "
    "labels (ekman_mapping.json format) or a built-in name such as `ekman`. A group's score "
    "is the max of its members' (sum for a single-label model); labels not named keep their "
    "name. Default: none.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write every figure (incl. per-class, confusion matrix, calibration bins).",
)
@click.option(
    "--plots",
    "plots_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for confusion_matrix.png and reliability.png (multi-label: "
    "per_label_f1.png and label_confusion.png).",
)
@model_options
@click.option("--quiet", "-q", is_flag=True, help="No progress or tables on stderr.")
def command(
    model_arg: str | None,
    model: str | None,
    json_path: str | None,
    plots_dir: str | None,
    quiet: bool,
    threads: int | None,
    **options: object,
) -> None:
    """Score MODEL (a folder, built-in name or hub id; or --model) on labelled data.

    \b
    emolabel evaluate my-model --data data/ --split validation
    emolabel evaluate my-model --data test.csv --json figures.json --plots plots/
    emolabel evaluate goemotions-model --data ekman.csv --label-map ekman
    """
    from emolabel.cli.render import EvaluationProgress, render_evaluation, stderr_console
    from emolabel.evaluation.evaluate import evaluate

    if model_arg and model and model_arg != model:
        raise click.UsageError(f"two models given ({model_arg} and --model {model}): pass one")
    options["compile"] = options.pop("compile_model")
    use_threads(threads)
    events = None if quiet else EvaluationProgress()
    report = evaluate(model_arg or model, events=events, **options)  # type: ignore[arg-type]
    if not quiet:
        render_evaluation(report)
    if json_path:
        path = report.write_json(json_path)
        if not quiet:
            stderr_console.print(f"figures written to {path}")
    if plots_dir:
        paths = report.save_plots(plots_dir)
        if not quiet:
            stderr_console.print("plots written: " + ", ".join(str(p) for p in paths))
