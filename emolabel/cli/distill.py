"""`emolabel distill`: train a smaller student on a fine-tuned teacher's soft labels."""

from __future__ import annotations

import click

from emolabel.cli.train_options import (
    SHARED_DATA_OPTIONS,
    SHARED_TRAINING_OPTIONS,
    data_argument,
    invoked_command,
    train_options,
)
from emolabel.inference.devices import PRECISIONS


@click.command("distill")
@click.option(
    "--teacher",
    required=True,
    multiple=True,
    metavar="DIR",
    type=click.Path(),
    help="Fine-tuned model folder to learn from (e.g. emolabel/models/ekman). Repeat for an "
    "ensemble: the student learns the teachers' mean probabilities (same labels).",
)
@click.option(
    "--student",
    required=True,
    metavar="SPEC",
    help="Student base model: teacher:layers=N cuts N evenly spaced layers out of the "
    "teacher (best start for a MiniLM teacher); or minilm:layers=N, a preset, a folder.",
)
@train_options(*SHARED_DATA_OPTIONS)
@click.option(
    "--output",
    "-o",
    default="emolabel-student",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Model folder to write (refused if not empty, unless --overwrite).",
)
@click.option(
    "--temperature",
    "-T",
    type=click.FloatRange(min=0, min_open=True),
    default=2.0,
    show_default=True,
    help="Softens teacher and student probabilities; higher shows more of the teacher's "
    "ranking of the wrong classes.",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Weight of the soft (teacher) loss; 1 - alpha weighs the gold-label loss.",
)
@click.option(
    "--unlabelled",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Extra text without labels (CSV/TSV/JSONL/parquet/txt, as annotate reads), "
    "labelled by the teacher; texts of the validation split are left out.",
)
@click.option("--unlabelled-text-column", default=None, help="Text column of --unlabelled.")
@click.option(
    "--max-unlabelled",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Use at most the first N usable texts of --unlabelled.",
)
@click.option(
    "--teacher-precision",
    type=click.Choice(PRECISIONS),
    default=None,
    help="Precision of the teacher's one labelling pass, as annotate's --precision. "
    "Default: fp32 on a CPU (exact soft targets), auto on a GPU; bf16 on a CPU with AMX "
    "labelled 3.4x as fast (an MPNet teacher, 250 against 72 texts/s).",
)
@train_options(*SHARED_TRAINING_OPTIONS, "keep_checkpoints")
@click.option("--overwrite", is_flag=True, help="Replace an existing model folder.")
@click.option(
    "--resume",
    is_flag=True,
    help="Continue from the last checkpoint in OUTPUT/checkpoints (left by Ctrl-C).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress or summary on stderr.")
def command(
    output: str,
    quiet: bool,
    overwrite: bool,
    resume: bool,
    data: tuple[str, ...],
    **options: object,
) -> None:
    """Distil a fine-tuned teacher into a smaller, faster student model folder.

    Loss: alpha * T^2 * KL(teacher || student at temperature T) + (1 - alpha) *
    cross-entropy on the gold labels; for a multi-label teacher, alpha * T^2 * BCE against
    the teacher's sigmoid(logits / T) + (1 - alpha) * BCE on the gold labels. The teacher
    labels every training text once, before training. The result loads like any
    `emolabel train` model (--model DIR).

    \b
    emolabel distill --teacher emolabel/models/goemotions --student teacher:layers=3 \\
        --data data/ -o student-3l
    emolabel distill --teacher my-model --student teacher:layers=2 --data data/ \\
        --unlabelled tweets.csv --temperature 3 --alpha 0.7 -o student-2l
    emolabel distill --teacher big-teacher --student minilm --pooling mean \\
        --data go/ --data tweets/ --label-map ekman -o student    the teacher's union
    emolabel distill --teacher big-teacher --teacher run-2 --student minilm ...   an ensemble
    """
    from emolabel.cli.render import DistillProgress, render_training_result
    from emolabel.training.distill import distill

    invoked = invoked_command()
    with DistillProgress(quiet=quiet) as progress:  # Ctrl-C: Interrupted, exit 130
        result = distill(
            data=data_argument(data),
            output_dir=output,
            overwrite=overwrite,
            resume=resume,
            events=progress,
            command=invoked,
            **options,  # type: ignore[arg-type]
        )
    if not quiet:
        render_training_result(result)
