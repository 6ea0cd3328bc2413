"""`emolabel evaluate`: accuracy, F1, ROC-AUC, log loss and calibration of a model."""

from __future__ import annotations

import click

from emolabel.inference.truncation import DEFAULT_HEAD_TOKENS


@click.command("evaluate")
@click.argument("model", metavar="MODEL")
@click.option(
    "--data",
    "-d",
    required=True,
    metavar="FILE|DIR|HUB_ID",
    help="Labelled data: one file (all rows), or a folder / hub id with --split.",
)
@click.option(
    "--split",
    default="validation",
    show_default=True,
    help="Split of a folder or hub dataset: train, validation (val, dev) or test.",
)
@click.option("--text-column", default=None, help="Text column (default: detected).")
@click.option("--label-column", default=None, help="Label column (default: detected).")
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
    help="Folder for confusion_matrix.png and reliability.png.",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N or mps.")
@click.option(
    "--precision",
    type=click.Choice(["auto", "fp32", "bf16", "fp16", "int8"]),
    default="auto",
    show_default=True,
)
@click.option(
    "--max-length",
    type=click.IntRange(min=8),
    default=None,
    help="Tokens per text incl. special tokens. Default: the model's, capped at 512.",
)
@click.option(
    "--head-tokens", type=click.IntRange(min=0), default=DEFAULT_HEAD_TOKENS, show_default=True
)
@click.option(
    "--batch-tokens",
    type=click.IntRange(min=1),
    default=None,
    help="Token budget per batch. Default: 2048 on CPU, 65536 on GPU.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress or tables on stderr.")
def command(
    model: str, json_path: str | None, plots_dir: str | None, quiet: bool, **options: object
) -> None:
    """Score MODEL (a folder, built-in name or hub id) on labelled data.

    \b
    emolabel evaluate my-model --data data/ --split validation
    emolabel evaluate my-model --data test.csv --json figures.json --plots plots/
    """
    from emolabel.cli.render import evaluation_progress, render_evaluation, stderr_console
    from emolabel.evaluation.evaluate import evaluate

    if quiet:
        report = evaluate(model, **options)  # type: ignore[arg-type]
    else:
        with evaluation_progress() as bar:
            task = bar.add_task("predicting", total=None)
            report = evaluate(
                model,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                **options,  # type: ignore[arg-type]
            )
        render_evaluation(report)
    if json_path:
        path = report.write_json(json_path)
        if not quiet:
            stderr_console.print(f"figures written to {path}")
    if plots_dir:
        paths = report.save_plots(plots_dir)
        if not quiet:
            stderr_console.print("plots written: " + ", ".join(str(p) for p in paths))
