"""`emolabel train`: fine-tune a classifier on labelled data and write a model folder."""

from __future__ import annotations

import click

from emolabel.training.data_options import data_default
from emolabel.training.labels import BUILTIN_LABEL_MAPS
from emolabel.training.options import (
    DEFAULT_OUTPUT_DIR,
    METRICS,
    PRECISIONS,
    option_default,
)

PRESET_HELP = (
    "minilm (default, bundled), distilbert, bert-base, bert-tiny, bert-mini, "
    "bert-small, roberta-base"
)


@click.command("train")
# --- data options (owner: data; defaults read from load_training_data) ---------------------
@click.option(
    "--data",
    "-d",
    multiple=True,
    default=[data_default("sources")],
    show_default=True,
    metavar="FILE|DIR|HUB_ID",
    help="A CSV/TSV/JSONL/JSON/parquet file (gzipped too), a text;label file, a folder of "
    "train/val/test files (TweetEval *_text.txt/*_labels.txt + mapping.txt; GoEmotions "
    "header-less TSV + emotions.txt), or a hub dataset id. Give it several times to train "
    "on the union (each source keeps its own validation split); SOURCE:repeat=N puts a "
    "small source's training rows in N times, so a big one does not drown it.",
)
@click.option(
    "--label-map",
    default=data_default("label_map"),
    metavar="FILE|NAME",
    help='Merge or rename labels while reading: a JSON file {"group": ["label", ...]} '
    "(the format of GoEmotions' ekman_mapping.json) or a built-in map "
    f"({', '.join(BUILTIN_LABEL_MAPS)}: GoEmotions' Ekman groups + neutral; also maps "
    "dair-ai's love and TweetEval's optimism to joy). Labels not named keep their name.",
)
@click.option(
    "--unmapped-labels",
    type=click.Choice(["keep", "drop"]),
    default=data_default("unmapped_labels"),
    show_default=True,
    help="With --label-map: keep labels the map does not name as their own classes, or drop "
    "them (a row left with none is an error, or dropped with --on-error skip).",
)
@click.option(
    "--label-separator",
    default=data_default("label_separator"),
    metavar="SEP",
    help="Split CSV/TSV label cells on SEP into several labels (e.g. ','). "
    "Default: one label a cell (JSONL/parquet lists are always lists).",
)
@click.option(
    "--label-names",
    default=data_default("label_names"),
    type=click.Path(dir_okay=False),
    help="File naming integer label ids (id<TAB>name or one name a line). "
    "Default: mapping.txt / labels.txt / emotions.txt beside the data.",
)
@click.option(
    "--multi-label/--single-label",
    default=data_default("multi_label"),
    help="Force a multi-label (sigmoid) head, or refuse rows with several labels. "
    "Default: multi-label when any row has more than one label.",
)
@click.option(
    "--on-error",
    type=click.Choice(["fail", "skip"]),
    default=data_default("on_error"),
    show_default=True,
    help="Rows with unreadable labels (empty lists, unknown ids, all labels unknown to the "
    "map): stop with file and line, or drop and count them.",
)
# --- end of data options ---------------------------------------------------------------------
@click.option(
    "--output",
    "-o",
    default=DEFAULT_OUTPUT_DIR,
    show_default=True,
    type=click.Path(file_okay=False),
    help="Model folder to write (refused if not empty, unless --overwrite or --resume).",
)
@click.option(
    "--base-model",
    default=option_default("base_model"),
    show_default=True,
    metavar="PRESET|DIR|HUB_ID",
    help=f"Encoder to fine-tune: a preset ({PRESET_HELP}), a local folder or a hub id; "
    "append :layers=N to keep N evenly spaced layers of it (e.g. minilm:layers=3).",
)
@click.option(
    "--epochs",
    type=click.FloatRange(min=0, min_open=True),
    default=option_default("epochs"),
    show_default=True,
    help="Passes over the training data.",
)
@click.option(
    "--lr",
    type=float,
    default=option_default("lr"),
    help="Peak learning rate. Default: 1e-4 for minilm/bert-mini/bert-small, "
    "3e-4 for bert-tiny, 5e-5 otherwise.",
)
@click.option(
    "--head-lr",
    type=float,
    default=option_default("head_lr"),
    help="Peak learning rate of the classification head and pooler (the encoder keeps "
    "--lr); a larger one (e.g. 10x) helps a fresh head catch up. Default: --lr.",
)
@click.option(
    "--pooling",
    type=click.Choice(["cls", "mean"]),
    default=option_default("pooling"),
    show_default=True,
    help="cls: the standard head on [CLS]. mean: append one layer that mean-pools the "
    "tokens, for BERT-style encoders pre-trained with mean pooling (all-MiniLM); the folder "
    "stays a standard BERT classifier that transformers.pipeline loads. Not for MPNet "
    "(all-mpnet): its relative position bias reaches the appended layer.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=option_default("batch_size"),
    show_default=True,
)
@click.option(
    "--seed",
    type=int,
    default=option_default("seed"),
    show_default=True,
    help="Seeds the head initialisation, shuffling and the validation split.",
)
@click.option(
    "--warmup-ratio",
    type=click.FloatRange(0, 1, max_open=True),
    default=option_default("warmup_ratio"),
    show_default=True,
    help="Share of steps for linear warmup, then linear decay.",
)
@click.option(
    "--weight-decay",
    type=click.FloatRange(min=0),
    default=option_default("weight_decay"),
    show_default=True,
)
@click.option(
    "--metric",
    type=click.Choice(METRICS),
    default=option_default("metric"),
    show_default=True,
    help="Validation figure that picks the best epoch (and drives --patience); for "
    "multi-label data F1 and accuracy are taken at thresholds tuned per label.",
)
@click.option(
    "--patience",
    type=click.IntRange(min=1),
    default=option_default("patience"),
    help="Stop after this many epochs without a better --metric.",
)
@click.option(
    "--freeze",
    default=option_default("freeze"),
    show_default=True,
    metavar="none|embeddings|all-but-last-N",
    help="Freeze the embeddings, or everything but the last N encoder layers (and the head).",
)
@click.option(
    "--unfreeze-last",
    type=click.IntRange(min=0),
    default=option_default("unfreeze_last"),
    metavar="N",
    help="Train only the last N encoder layers and the head (= --freeze all-but-last-N).",
)
@click.option(
    "--class-weights",
    is_flag=True,
    default=option_default("class_weights"),
    help="Inverse-frequency weighted cross-entropy, for imbalanced labels (multi-label: "
    "BCE pos_weight = negatives / positives per label).",
)
@click.option(
    "--partial-labels",
    is_flag=True,
    default=option_default("partial_labels"),
    help="With several --data sources: a source's rows teach only the labels that source "
    "uses; the others are left out of their loss, not taught as absent. For sources that "
    "really leave labels unannotated.",
)
@click.option(
    "--label-smoothing",
    type=click.FloatRange(0, 1, max_open=True),
    default=option_default("label_smoothing"),
    show_default=True,
)
@click.option(
    "--max-length",
    type=click.IntRange(min=8),
    default=option_default("max_length"),
    help="Tokens per text incl. special tokens. Default: the model's, capped at 512.",
)
@click.option(
    "--head-tokens",
    type=click.IntRange(min=0),
    default=option_default("head_tokens"),
    show_default=True,
    help="Long texts keep this many first tokens plus the last ones (as annotate).",
)
@click.option(
    "--val-fraction",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=option_default("val_fraction"),
    show_default=True,
    help="Stratified share of train held out when the data has no validation split.",
)
@click.option(
    "--text-column", default=option_default("text_column"), help="Text column (default: detected)."
)
@click.option(
    "--label-column",
    default=option_default("label_column"),
    help="Label column (default: detected).",
)
@click.option(
    "--device",
    default=option_default("device"),
    show_default=True,
    help="auto, cpu, cuda, cuda:N or mps.",
)
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    default=option_default("precision"),
    show_default=True,
    help="auto = bf16/fp16 mixed precision on GPU; on the CPU bf16 where it is fast "
    "(AMX, AMD Zen 4+: about 2x fp32), else fp32.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=option_default("threads"),
    help="CPU threads for torch. Default: every core this process may use.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing model folder.")
@click.option(
    "--resume",
    is_flag=True,
    help="Continue from the last checkpoint in OUTPUT/checkpoints (left by Ctrl-C).",
)
@click.option(
    "--keep-checkpoints",
    is_flag=True,
    default=option_default("keep_checkpoints"),
    help="Keep OUTPUT/checkpoints (resumable epoch checkpoints) after training.",
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
    """Fine-tune an emotion classifier and write a model folder for annotate and pipeline.

    \b
    emolabel train --data data/ -o my-model                 train/val files in data/
    emolabel train --data tweets.csv --epochs 5 -o m        hold out 10% for validation
    emolabel train --data d/ --unfreeze-last 2 --class-weights -o m
    emolabel train --data d/ -o m --resume                  continue after Ctrl-C
    emolabel train --data d/ --head-lr 1e-3 -o m            larger steps for the new head
    """
    from emolabel.cli.render import TrainingProgress, render_training_result
    from emolabel.cli.train_options import data_argument, invoked_command
    from emolabel.training.trainer import train

    invoked = invoked_command()
    with TrainingProgress(quiet=quiet) as progress:  # Ctrl-C: Interrupted, exit 130
        result = train(
            data_argument(data),
            output,
            overwrite=overwrite,
            resume=resume,
            events=progress,
            command=invoked,
            **options,  # type: ignore[arg-type]
        )
    if not quiet:
        render_training_result(result)
