"""What the model learns from: the loss (cross-entropy, or per-label BCE-with-logits for
multi-label data, with class weights and smoothing), the optimizer's parameter groups (a
separate head learning rate), and the objective hook distillation plugs into."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from transformers import Trainer

from emolabel.errors import EmolabelError
from emolabel.training.data import TrainingData
from emolabel.training.thresholds import multi_hot

if TYPE_CHECKING:
    from emolabel.inference.encoding import TextEncoder


KNOWN_COLUMN = "known_labels"  # --partial-labels: 1 where the row's source uses the label


def is_multi_label(data: TrainingData) -> bool:
    """Multi-label data (the reader's flag; its splits carry a `labels` column of id lists)."""
    return bool(data.multi_label) or "labels" in data.splits["train"].column_names


def class_weights_for(data: TrainingData) -> list[float]:
    """Single-label: inverse-frequency weights n / (k * n_c), so every class weighs the same.

    Multi-label: BCE's pos_weight, negatives / positives per label (1 for a label with no
    positive row), so a rare label's few positives weigh as much as its many negatives.
    """
    split, k = data.splits["train"], len(data.labels)
    if is_multi_label(data):
        positives = multi_hot(split["labels"], k).sum(axis=0)
        negatives = len(split) - positives
        pairs = zip(positives, negatives, strict=True)
        return [float(neg / pos) if pos else 1.0 for pos, neg in pairs]
    counts = np.bincount(np.asarray(split["label"]), minlength=k)
    n = counts.sum()
    return [float(n / (k * c)) if c else 0.0 for c in counts]


def partial_labels_for(data: TrainingData) -> dict[str, list[str]]:
    """--partial-labels: each source's dataset name -> the labels its rows leave out of their
    loss (those it never uses)."""
    if len(data.sources) < 2:
        raise EmolabelError(
            "--partial-labels: give several --data sources; with one, its rows use every label"
        )
    return data.unused_labels()


# ----------------------------------------------------------------------------- trainer
class EmolabelTrainer(Trainer):
    """Trainer with a loss that can weigh classes and smooth labels, and a head learning rate.

    Integer labels: cross-entropy. Multi-hot float labels (multi-label data): BCE-with-logits
    per label, class weights as pos_weight, smoothing towards 0.5.
    """

    loss_is_scaled_for_ga = False  # per-batch mean; the Trainer divides for accumulation

    def __init__(
        self,
        *args: Any,
        class_weights: list[float] | None = None,
        label_smoothing: float = 0.0,
        head_lr: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.loss_weights = (
            torch.tensor(class_weights, dtype=torch.float32) if class_weights else None
        )
        self.loss_smoothing = label_smoothing
        self.head_lr = head_lr

    def _get_eval_sampler(self, eval_dataset: Any) -> torch.utils.data.Sampler | None:
        """Validation in the dataset's own order. With group_by_length, transformers 5 also
        shuffles evaluation into length groups, and predictions come back in that order, so
        figures per source (rows picked by index) would score the wrong rows. The validation
        split is sorted by length already (batches.py), so sequential order pads as little."""
        if eval_dataset is None:
            return None
        return torch.utils.data.SequentialSampler(eval_dataset)

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        inputs = dict(inputs)
        labels = inputs.pop("labels")
        known = inputs.pop(KNOWN_COLUMN, None)
        outputs = model(**inputs)
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        loss = self.supervised_loss(logits.float(), labels, known)
        return (loss, outputs) if return_outputs else loss

    def supervised_loss(
        self, logits: torch.Tensor, labels: torch.Tensor, known: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Cross-entropy on class ids, or BCE-with-logits on multi-hot rows.

        `known` ([rows, labels] bool, --partial-labels): a label a row's source never uses
        is left out of that row's loss: no BCE term, or no share of the softmax.
        """
        weights = None if self.loss_weights is None else self.loss_weights.to(logits.device)
        if known is not None:
            return partial_label_loss(
                logits, labels, known.to(logits.device), weights, self.loss_smoothing
            )
        if labels.is_floating_point():
            targets = labels.to(logits.dtype)
            if self.loss_smoothing:
                targets = targets * (1 - self.loss_smoothing) + self.loss_smoothing / 2
            return torch.nn.functional.binary_cross_entropy_with_logits(
                logits, targets, pos_weight=weights
            )
        return torch.nn.functional.cross_entropy(
            logits, labels, weight=weights, label_smoothing=self.loss_smoothing
        )

    def create_optimizer(self, model: Any = None) -> torch.optim.Optimizer:
        """AdamW as the Trainer builds it; with head_lr, the head and pooler get their own lr.

        A freshly initialised head (and the tanh pooler before it) starts far from where it
        should be while the encoder is nearly right, so a larger step for those few
        parameters speeds them up without disturbing the encoder: the standard
        architecture, still loadable by transformers.pipeline.
        """
        if self.head_lr is None or self.optimizer is not None:
            return super().create_optimizer(model)
        opt_model: Any = self.model if model is None else model
        decay = set(self.get_decay_parameter_names(opt_model))
        head = head_parameter_names(opt_model)
        groups: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
        for name, parameter in opt_model.named_parameters():
            if parameter.requires_grad:
                groups.setdefault((name in head, name in decay), []).append(parameter)
        optimizer_cls, kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
        self.optimizer = optimizer_cls(
            [
                {
                    "params": params,
                    "weight_decay": self.args.weight_decay if decayed else 0.0,
                    "lr": self.head_lr if is_head else self.args.learning_rate,
                }
                for (is_head, decayed), params in sorted(groups.items())
            ],
            **kwargs,
        )
        return self.optimizer


def partial_label_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    known: torch.Tensor,
    weights: torch.Tensor | None = None,
    smoothing: float = 0.0,
) -> torch.Tensor:
    """The loss of supervised_loss over each row's known labels only.

    Multi-label: BCE-with-logits (pos_weight = weights) summed over the known (row, label)
    pairs and divided by their number. Single-label: cross-entropy of a softmax over the
    row's known labels (smoothing spread over those), rows weighted by their class's
    weight as torch's weighted mean does.
    """
    import torch.nn.functional as F

    if labels.is_floating_point():
        targets = labels.to(logits.dtype)
        if smoothing:
            targets = targets * (1 - smoothing) + smoothing / 2
        terms = F.binary_cross_entropy_with_logits(
            logits, targets, pos_weight=weights, reduction="none"
        )
        mask = known.to(terms.dtype)
        return (terms * mask).sum() / mask.sum().clamp(min=1.0)
    log_p = torch.log_softmax(logits.masked_fill(~known, float("-inf")), dim=-1)
    nll = -log_p.gather(1, labels[:, None]).squeeze(1)
    if smoothing:
        spread = -log_p.masked_fill(~known, 0.0).sum(dim=-1) / known.sum(dim=-1)
        nll = (1 - smoothing) * nll + smoothing * spread
    row_weights = torch.ones_like(nll) if weights is None else weights[labels]
    return (row_weights * nll).sum() / row_weights.sum()


def head_parameter_names(model: Any) -> set[str]:
    """Parameters outside the pre-trained encoder (classifier, pre-classifier) plus the pooler."""
    prefix = f"{model.base_model_prefix}."
    return {
        name
        for name, _ in model.named_parameters()
        if not name.startswith(prefix) or name.startswith(f"{prefix}pooler.")
    }


class TrainingObjective:
    """What the model learns from. This default changes nothing: gold labels, the usual loss.

    A hook rather than a second trainer: emolabel.training.distill subclasses it to add a
    teacher's soft targets, and every other part of a run (data, presets, freezing,
    checkpoints, best-epoch selection, model folder, card) stays the one in this module.
    """

    def prepare_data(self, data: TrainingData) -> TrainingData:
        """The loaded, cleaned data -> the data to train on (e.g. labels in a teacher's order)."""
        return data

    def prepare_train(self, train: Any, encoder: TextEncoder) -> Any:
        """The tokenized train split -> what the Trainer iterates (may add columns or rows)."""
        return train

    def make_trainer(self, **kwargs: Any) -> Trainer:
        """Build the Trainer from EmolabelTrainer's keyword arguments."""
        return EmolabelTrainer(**kwargs)

    def describe(self) -> dict[str, Any] | None:
        """emolabel.json's `objective` section, with a one-line `summary` for the card."""
        return None
