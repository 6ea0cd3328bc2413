"""Reuse `emolabel train`'s options in compare and distill, so their names, defaults and
help stay the same as train's without being written out twice."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

# What compare and distill take from train: its hyper-parameters, data columns and device.
SHARED_TRAINING_OPTIONS = (
    "epochs",
    "lr",
    "head_lr",
    "pooling",
    "batch_size",
    "seed",
    "warmup_ratio",
    "weight_decay",
    "metric",
    "patience",
    "freeze",
    "unfreeze_last",
    "class_weights",
    "label_smoothing",
    "max_length",
    "head_tokens",
    "val_fraction",
    "text_column",
    "label_column",
    "device",
    "precision",
    "threads",
)


# How train reads its data: distill reads the same sources the same way (several --data make a
# union; --label-map merges labels), so a teacher trained on a union is distilled on it.
SHARED_DATA_OPTIONS = (
    "data",
    "label_map",
    "unmapped_labels",
    "label_separator",
    "label_names",
    "multi_label",
    "on_error",
)


def data_argument(data: tuple[str, ...]) -> str | list[str]:
    """train's repeatable --data as the library takes it: one source, or a list (a union)."""
    return data[0] if len(data) == 1 else list(data)


def train_options(*names: str) -> Callable[[F], F]:
    """Decorator adding the named parameters of `emolabel train` (by Python name) to a command."""

    def decorate(func: F) -> F:
        from emolabel.cli.train import command as train_command

        by_name = {p.name: p for p in train_command.params}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise KeyError(f"emolabel train has no option(s) {missing}")
        params: list[click.Parameter] = getattr(func, "__click_params__", [])
        # click applies decorators bottom-up and reverses __click_params__ at the end
        params.extend(by_name[n] for n in reversed(names))
        func.__click_params__ = params  # type: ignore[attr-defined]
        return func

    return decorate


def invoked_command() -> str | None:
    """The `emolabel ...` line this process runs, for emolabel.json and the resume hint; None
    when emolabel is not the program (a test runner, a notebook): the library then writes the
    equivalent command itself."""
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if program is None:
        return None
    ours = program.name == "emolabel" or (
        program.name == "__main__.py" and program.parent.name == "emolabel"
    )
    return shlex.join(["emolabel", *sys.argv[1:]]) if ours else None
