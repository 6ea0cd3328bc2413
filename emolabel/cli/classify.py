"""`emolabel classify`: label texts given as arguments or lines on stdin."""

from __future__ import annotations

import os
import sys

import click

from emolabel.cli.options import model_options, use_threads


@click.command("classify")
@click.argument("texts", nargs=-1)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["tsv", "jsonl"]),
    default="tsv",
    show_default=True,
    help="tsv: label<TAB>confidence<TAB>emotions (joined by |)<TAB>text; jsonl: one JSON "
    "object with the emotions list and all class scores.",
)
@model_options
def command(
    texts: tuple[str, ...],
    output_format: str,
    model: str | None,
    device: str,
    precision: str,
    max_length: int | None,
    head_tokens: int,
    batch_tokens: int | None,
    threshold: float | None,
    compile_model: bool,
    threads: int | None,
) -> None:
    """Label TEXTS, or each line of stdin when none are given; one output line per input.

    \b
    cat texts.txt | emolabel classify
    emolabel classify "i miss you so much" "what a lovely day"
    emolabel classify --format jsonl < texts.txt | jq .label

    With --precision int8, stderr gets one closing line: how often the top label matched
    fp32 on the first 1,000 texts.
    """
    from emolabel.annotation.line_mode import format_lines, iter_line_batches
    from emolabel.inference import AGREEMENT_SAMPLE_ROWS, EmotionClassifier

    if not texts and sys.stdin.isatty():
        raise click.UsageError("give texts as arguments or pipe lines into stdin")
    use_threads(threads)
    classifier = EmotionClassifier.load(
        model,
        device=device,
        precision=precision,
        max_length=max_length,
        head_tokens=head_tokens,
        compile=compile_model,
        threshold=threshold,
    )
    batches = [list(texts)] if texts else iter_line_batches(sys.stdin.buffer)
    out = sys.stdout
    sample: list[str] = []
    try:
        for batch in batches:
            out.write(
                "\n".join(format_lines(classifier, batch, output_format, batch_tokens)) + "\n"
            )
            out.flush()
            if classifier.precision == "int8" and len(sample) < AGREEMENT_SAMPLE_ROWS:
                sample.extend(t for t in batch if t.strip())
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): that is a normal end for a pipeline.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    if sample:
        sample = sample[:AGREEMENT_SAMPLE_ROWS]
        agreement = classifier.fp32_agreement(sample)
        click.echo(
            f"int8 vs fp32: same top label on {agreement:.1%} of {len(sample):,} texts", err=True
        )
