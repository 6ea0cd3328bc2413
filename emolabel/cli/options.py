"""Options shared by the commands that run a model (annotate, classify, evaluate) or score
one on labelled data (evaluate, tune-thresholds)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from emolabel.inference.devices import PRECISIONS
from emolabel.inference.truncation import DEFAULT_HEAD_TOKENS

F = TypeVar("F", bound=Callable[..., Any])


def labelled_split_options(func: F) -> F:
    """--split, --text-column, --label-column: which labelled rows evaluate and tune-thresholds
    read, as train reads them."""
    options = [
        click.option(
            "--split",
            default="validation",
            show_default=True,
            help="Split of a folder or hub dataset: train, validation (val, dev) or test.",
        ),
        click.option("--text-column", default=None, help="Text column (default: detected)."),
        click.option("--label-column", default=None, help="Label column (default: detected)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def model_options(func: F) -> F:
    """--model, --device, --precision, --max-length, --head-tokens, --batch-tokens, --threshold,
    --compile, --threads."""
    options = [
        click.option(
            "--model",
            "-m",
            metavar="DIR|HUB_ID",
            default=None,
            help="Model folder (from `emolabel train`), built-in model name, or hub id. "
            "Default: the built-in emotion model.",
        ),
        click.option(
            "--device",
            default="auto",
            show_default=True,
            help="auto, cpu, cuda, cuda:N or mps; auto picks the GPU when there is one.",
        ),
        click.option(
            "--precision",
            type=click.Choice(PRECISIONS),
            default="auto",
            show_default=True,
            help="auto = fp16/bf16 on GPU, bf16 on CPUs where it is fast (AMX, AMD Zen 4+), "
            "else fp32; int8 = dynamic quantization on CPU (opt-in, slightly less exact: "
            "its agreement with fp32 on a sample is printed).",
        ),
        click.option(
            "--max-length",
            type=click.IntRange(min=8),
            default=None,
            help="Tokens per text including special tokens. Default: the model's, capped at 512.",
        ),
        click.option(
            "--head-tokens",
            type=click.IntRange(min=0),
            default=DEFAULT_HEAD_TOKENS,
            show_default=True,
            help="Long texts keep this many first tokens plus the last "
            "(max-length - 2 - head) tokens.",
        ),
        click.option(
            "--batch-tokens",
            type=click.IntRange(min=1),
            default=None,
            help="Token budget per batch (rows x padded length). Default: 2048 on CPU, "
            "65536 on GPU.",
        ),
        click.option(
            "--threshold",
            type=click.FloatRange(0, 1),
            default=None,
            metavar="FLOAT",
            help="Multi-label models: a label is among a text's emotions when its score reaches "
            "this, for every label. Default: the model's per-label thresholds (tuned by "
            "`emolabel train`, in emolabel.json), else 0.5. Single-label models: emotions is "
            "the top label.",
        ),
        click.option(
            "--compile",
            "compile_model",
            is_flag=True,
            help="Run the model through torch.compile: tens of seconds of warm-up, then "
            "faster batches; pays on large corpora (see benchmarks/README.md).",
        ),
        click.option(
            "--threads",
            type=click.IntRange(min=1),
            default=None,
            metavar="N",
            help="CPU threads for torch (e.g. 1 to leave the other cores free). Default: "
            "every core this process may use.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def use_threads(threads: int | None) -> None:
    """--threads: torch's intra-op thread count for the rest of this command's process."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
