"""The distillation loss and what carries the teacher's targets to it: the collator that
batches them and the Trainer whose training loss mixes them with the gold labels."""

from __future__ import annotations

from typing import Any

import torch

from emolabel.training.batches import PadCollator
from emolabel.training.objective import EmolabelTrainer

TEACHER_COLUMN = "teacher_logits"
IGNORE_LABEL = -100  # rows from --unlabelled: no gold label, soft loss only


class TeacherCollator:
    """PadCollator, plus the rows' teacher log-probabilities when the split has them."""

    def __init__(self, pad: PadCollator) -> None:
        self.pad = pad

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = self.pad(features)
        if features and TEACHER_COLUMN in features[0]:
            batch[TEACHER_COLUMN] = torch.tensor(
                [f[TEACHER_COLUMN] for f in features], dtype=torch.float32
            )
        return batch


class DistillationTrainer(EmolabelTrainer):
    """EmolabelTrainer whose training loss mixes the teacher's soft targets with gold labels.

    Validation batches carry no teacher column and keep the plain cross-entropy, so `val
    loss` and --metric loss stay comparable with `emolabel train`.
    """

    def __init__(
        self, *args: Any, temperature: float, alpha: float, multi_label: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.temperature = temperature
        self.alpha = alpha
        self.multi_label = multi_label

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        if TEACHER_COLUMN not in inputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        inputs = dict(inputs)
        labels = inputs.pop("labels")
        teacher = inputs.pop(TEACHER_COLUMN)
        outputs = model(**inputs)
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        loss_of = multi_label_distillation_loss if self.multi_label else distillation_loss
        loss = loss_of(
            logits.float(),
            teacher.to(logits.device),
            labels,
            temperature=self.temperature,
            alpha=self.alpha,
            class_weights=None if self.loss_weights is None else self.loss_weights,
            label_smoothing=self.loss_smoothing,
        )
        return (loss, outputs) if return_outputs else loss


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    temperature: float,
    alpha: float,
    class_weights: torch.Tensor | None = None,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE on the labelled rows.

    Rows labelled IGNORE_LABEL count in the soft term only; a batch with no gold label at
    all is pure distillation.
    """
    import torch.nn.functional as F

    t = temperature
    soft = F.kl_div(
        F.log_softmax(student_logits / t, dim=-1),
        F.log_softmax(teacher_logits / t, dim=-1),
        log_target=True,
        reduction="batchmean",
    ) * (t * t)
    labelled = labels != IGNORE_LABEL
    if alpha >= 1 or not bool(labelled.any()):
        return alpha * soft
    weights = None if class_weights is None else class_weights.to(student_logits.device)
    hard = F.cross_entropy(
        student_logits[labelled],
        labels[labelled],
        weight=weights,
        label_smoothing=label_smoothing,
    )
    return alpha * soft + (1 - alpha) * hard


def multi_label_distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    temperature: float,
    alpha: float,
    class_weights: torch.Tensor | None = None,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """alpha * T^2 * BCE(sigmoid(s/T), sigmoid(t/T)) + (1 - alpha) * BCE(s, y), per label.

    Each label is its own two-class problem, so the softmax KL becomes a per-label binary
    cross-entropy against the teacher's softened sigmoid probability (mean over rows and
    labels). Rows whose labels are IGNORE_LABEL (from --unlabelled) count in the soft term
    only; class_weights are BCE's pos_weight, as in plain training.
    """
    import torch.nn.functional as F

    t = temperature
    soft = F.binary_cross_entropy_with_logits(
        student_logits / t, torch.sigmoid(teacher_logits / t)
    ) * (t * t)
    labelled = labels[:, 0] != IGNORE_LABEL
    if alpha >= 1 or not bool(labelled.any()):
        return alpha * soft
    targets = labels[labelled].to(student_logits.dtype)
    if label_smoothing:
        targets = targets * (1 - label_smoothing) + label_smoothing / 2
    weights = None if class_weights is None else class_weights.to(student_logits.device)
    hard = F.binary_cross_entropy_with_logits(student_logits[labelled], targets, pos_weight=weights)
    return alpha * soft + (1 - alpha) * hard
