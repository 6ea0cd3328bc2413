"""Every `emolabel train` option with its default, in one dataclass: the CLI reads its defaults
from here, emolabel.json records it, and `check()` refuses impossible values before any
slow work starts."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from emolabel.errors import EmolabelError
from emolabel.inference.truncation import DEFAULT_HEAD_TOKENS
from emolabel.training.data_options import (
    DEFAULT_ON_ERROR,
    DEFAULT_UNMAPPED_LABELS,
    OnError,
    UnmappedLabels,
)

TrainingPrecision = Literal["auto", "fp32", "bf16", "fp16"]
Metric = Literal["macro_f1", "accuracy", "weighted_f1", "loss"]
# --freeze is spelled none | embeddings | all-but-last-N (N a number, or the letter N with
# --unfreeze-last); FreezeKind is what the spelling means once parsed.
FreezeKind = Literal["none", "embeddings", "all-but-last"]

PRECISIONS: tuple[str, ...] = get_args(TrainingPrecision)
METRICS: tuple[str, ...] = get_args(Metric)
FREEZE_PATTERN = re.compile(r"^(none|embeddings|all-but-last-(n|\d+))$")
DATA_READING_OPTIONS = (
    "multi_label",
    "label_map",
    "label_separator",
    "label_names",
    "unmapped_labels",
    "on_error",
)
# cls: the standard head (tanh pooler on [CLS]); mean: one appended layer that mean-pools
# inside the standard architecture (training/mean_pooling.py), for mean-pooled encoders.
Pooling = Literal["cls", "mean"]
DEFAULT_BASE_MODEL = "minilm"
DEFAULT_OUTPUT_DIR = "emolabel-model"


@dataclass
class TrainingOptions:
    """Every hyper-parameter and switch, as recorded in emolabel.json."""

    base_model: str = DEFAULT_BASE_MODEL
    epochs: float = 3.0
    lr: float | None = None
    head_lr: float | None = None
    pooling: Pooling = "cls"
    batch_size: int = 32
    seed: int = 42
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    metric: Metric = "macro_f1"
    patience: int | None = None
    freeze: str = "none"
    unfreeze_last: int | None = None
    class_weights: bool = False
    partial_labels: bool = False  # a source's rows teach only the labels that source uses
    label_smoothing: float = 0.0
    max_length: int | None = None
    head_tokens: int = DEFAULT_HEAD_TOKENS
    val_fraction: float = 0.1
    text_column: str | None = None
    label_column: str | None = None
    # data-reading options (owner: data), passed through to load_training_data
    multi_label: bool | None = None
    label_map: str | None = None
    label_separator: str | None = None
    label_names: str | None = None
    unmapped_labels: UnmappedLabels = DEFAULT_UNMAPPED_LABELS
    on_error: OnError = DEFAULT_ON_ERROR
    device: str = "auto"
    precision: TrainingPrecision = "auto"
    threads: int | None = None
    max_steps: int | None = None
    keep_checkpoints: bool = False

    @classmethod
    def from_kwargs(cls, options: dict[str, Any]) -> TrainingOptions:
        """Build from train()'s keyword arguments; a misspelt one is a TypeError, as Python's."""
        unknown = sorted(set(options) - set(cls.__dataclass_fields__))
        if unknown:
            raise TypeError(f"train() got unknown option(s): {', '.join(unknown)}")
        return cls(**options)

    def check(self) -> None:
        """Refuse impossible values before any slow work starts."""
        if self.epochs <= 0:
            raise EmolabelError(f"--epochs {self.epochs}: must be positive")
        for flag, lr in (("--lr", self.lr), ("--head-lr", self.head_lr)):
            if lr is not None and not 0 < lr < 1:
                raise EmolabelError(f"{flag} {lr}: use a small positive number such as 5e-5")
        if self.pooling not in get_args(Pooling):
            raise EmolabelError(f"--pooling {self.pooling}: choose cls or mean")
        if self.batch_size < 1:
            raise EmolabelError(f"--batch-size {self.batch_size}: must be at least 1")
        if not 0 <= self.warmup_ratio < 1:
            raise EmolabelError(f"--warmup-ratio {self.warmup_ratio}: choose 0 <= ratio < 1")
        if self.metric not in METRICS:
            raise EmolabelError(f"--metric {self.metric}: choose one of {', '.join(METRICS)}")
        if self.patience is not None and self.patience < 1:
            raise EmolabelError(f"--patience {self.patience}: must be at least 1 (epochs)")
        if not 0 <= self.label_smoothing < 1:
            raise EmolabelError(f"--label-smoothing {self.label_smoothing}: choose 0 <= x < 1")
        if self.head_tokens < 0:
            raise EmolabelError(f"--head-tokens {self.head_tokens}: must be 0 or more")
        precision = self.precision.strip().lower()
        if precision == "int8":
            raise EmolabelError(
                "--precision int8 is for inference only: train with auto, bf16 or fp32"
            )
        if precision not in PRECISIONS:
            raise EmolabelError(f"--precision {self.precision}: choose auto, fp32, bf16 or fp16")
        if self.threads is not None and self.threads < 1:
            raise EmolabelError(f"--threads {self.threads}: must be at least 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise EmolabelError(f"max_steps {self.max_steps}: must be at least 1")
        parse_freeze(self.freeze, self.unfreeze_last)

    def data_options(self) -> dict[str, Any]:
        """The keyword arguments of load_training_data that this run sets."""
        given = {
            "text_column": self.text_column,
            "label_column": self.label_column,
            "val_fraction": self.val_fraction,
            "seed": self.seed,
        }
        given.update({name: getattr(self, name) for name in DATA_READING_OPTIONS})
        return given


def option_default(name: str) -> Any:
    """The default of one TrainingOptions field (for click, so no default is written twice)."""
    field = TrainingOptions.__dataclass_fields__[name]
    if field.default is dataclasses.MISSING:  # pragma: no cover - every field has one
        raise KeyError(name)
    return field.default


def parse_freeze(freeze: str, unfreeze_last: int | None) -> tuple[FreezeKind, int | None]:
    """--freeze and --unfreeze-last -> (what to freeze, how many last layers stay trainable).

    `--unfreeze-last N` alone means all-but-last-N.
    """
    spec = (freeze or "none").strip().lower()
    if not FREEZE_PATTERN.match(spec):
        raise EmolabelError(
            f"--freeze {freeze}: choose none, embeddings, or all-but-last-N (e.g. all-but-last-2)"
        )
    keep: int | None = None
    if spec.startswith("all-but-last-"):
        suffix = spec.rsplit("-", 1)[1]
        if suffix == "n":
            if unfreeze_last is None:
                raise EmolabelError("--freeze all-but-last-N needs --unfreeze-last N")
            keep = unfreeze_last
        else:
            keep = int(suffix)
            if unfreeze_last is not None and unfreeze_last != keep:
                raise EmolabelError(
                    f"--freeze {spec} and --unfreeze-last {unfreeze_last} disagree: give one"
                )
    elif unfreeze_last is not None:
        if spec != "none":
            raise EmolabelError(f"--unfreeze-last goes with --freeze all-but-last-N, not {spec}")
        keep = unfreeze_last
    if keep is not None and keep < 0:
        raise EmolabelError(f"--unfreeze-last {keep}: must be 0 or more")
    if keep is not None:
        return "all-but-last", keep
    return ("embeddings" if spec == "embeddings" else "none"), None
