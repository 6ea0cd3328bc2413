"""Knowledge distillation: train a small student to copy a fine-tuned teacher's probabilities.

The loss (Hinton et al. 2015) is

    alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))
      + (1 - alpha) * cross-entropy(student, gold label)

The temperature T > 1 softens both distributions so the student also learns how the teacher
ranks the wrong classes ("dark knowledge"); T^2 keeps the soft term's gradients on the same
scale as the hard one's whatever T is. Rows without a gold label (from --unlabelled) get the
soft term only, so raw text the teacher labels adds training signal for free.

The teacher runs once, before training, over every training text (and any unlabelled text)
with EmotionClassifier, the annotate engine: on a CPU that costs one inference pass instead
of a teacher forward pass per step and epoch. Its log-probabilities are stored beside the
token ids; softmax(log p / T) equals softmax(logits / T), so nothing is lost.

Everything else is `emolabel.training.train`: the same data loading, best-epoch selection,
model folder, emolabel.json and model card. The student is any base-model spec; the
strong choice for a MiniLM teacher is `teacher:layers=N`, which cuts the student from the
teacher itself (its embeddings, N evenly spaced fine-tuned layers, pooler and head: see
emolabel.training.layer_subset), so it starts close to the teacher rather than from scratch.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emolabel.errors import EmolabelError
from emolabel.inference import (
    DEFAULT_HEAD_TOKENS,
    EmotionClassifier,
    check_model_folder,
    resolve_device,
)
from emolabel.training.data import DEFAULT_HUB_DATASET, TrainingData
from emolabel.training.layer_subset import split_layer_spec
from emolabel.training.trainer import (
    MODEL_INFO_FILE,
    EmolabelTrainer,
    PadCollator,
    TrainingEvents,
    TrainingObjective,
    TrainingOptions,
    TrainingResult,
    default_learning_rate,
    train,
)

DEFAULT_TEMPERATURE = 2.0
DEFAULT_ALPHA = 0.5
DEFAULT_OUTPUT_DIR = "emolabel-student"
TEACHER_ALIAS = "teacher"
TEACHER_COLUMN = "teacher_logits"
IGNORE_LABEL = -100  # rows from --unlabelled: no gold label, soft loss only
MIN_PROBABILITY = 1e-30  # log(0) guard for teacher probabilities that underflowed


def distill(
    teacher: str | os.PathLike[str],
    student: str,
    data: str | os.PathLike[str] = DEFAULT_HUB_DATASET,
    output_dir: str | os.PathLike[str] = DEFAULT_OUTPUT_DIR,
    *,
    temperature: float = DEFAULT_TEMPERATURE,
    alpha: float = DEFAULT_ALPHA,
    unlabelled: str | os.PathLike[str] | None = None,
    unlabelled_text_column: str | None = None,
    max_unlabelled: int | None = None,
    overwrite: bool = False,
    resume: bool = False,
    events: TrainingEvents | None = None,
    command: str | None = None,
    **options: Any,
) -> TrainingResult:
    """Distil the fine-tuned `teacher` folder into `student` and write a model folder.

    `student` is a base-model spec (`minilm:layers=2`, a folder, a preset) where the name
    `teacher` stands for the teacher folder (`teacher:layers=3`). resume=True continues
    after Ctrl-C. `options` are
    emolabel.training.TrainingOptions fields; lr defaults to the teacher's own when the
    student is cut from the teacher. `events` may also have teacher_labelling(rows, what).
    """
    teacher_dir = check_teacher(teacher)
    if not temperature > 0:
        raise EmolabelError(f"--temperature {temperature}: must be positive (2 to 4 is usual)")
    if not 0 <= alpha <= 1:
        raise EmolabelError(f"--alpha {alpha}: choose 0 <= alpha <= 1 (weight of the soft loss)")
    if max_unlabelled is not None and max_unlabelled < 1:
        raise EmolabelError(f"--max-unlabelled {max_unlabelled}: must be at least 1")
    if unlabelled is not None and not Path(unlabelled).expanduser().is_file():
        raise EmolabelError(f"--unlabelled {unlabelled}: no such file; check the path")
    student_spec = resolve_student(student, teacher_dir)
    teacher_info = _read_info(teacher_dir)
    if options.get("lr") is None and split_layer_spec(student_spec)[0] == str(teacher_dir):
        recorded = (teacher_info.get("hyperparameters") or {}).get("lr")
        if isinstance(recorded, (int, float)) and recorded > 0:
            options["lr"] = float(recorded)
        else:
            base = (teacher_info.get("base_model") or {}).get("name") or str(teacher_dir)
            options["lr"] = default_learning_rate(base)
    device = resolve_device(str(options.get("device", "auto")))
    classifier = EmotionClassifier.load(
        teacher_dir,
        device=device,
        precision="auto" if device.startswith("cuda") else "fp32",  # exact soft targets
        max_length=options.get("max_length"),
        head_tokens=int(options.get("head_tokens", DEFAULT_HEAD_TOKENS)),
    )
    objective = DistillationObjective(
        classifier,
        temperature=temperature,
        alpha=alpha,
        unlabelled=Path(unlabelled).expanduser() if unlabelled is not None else None,
        unlabelled_text_column=unlabelled_text_column,
        max_unlabelled=max_unlabelled,
        teacher_figures=teacher_info.get("validation") or {},
        notify=getattr(events, "teacher_labelling", None),
    )
    if command is None:
        command = equivalent_command(
            teacher_dir, student, data, output_dir, temperature, alpha, unlabelled, options
        )
    return train(
        data,
        output_dir,
        overwrite=overwrite,
        resume=resume,
        events=events,
        command=command,
        objective=objective,
        base_model=student_spec,
        **options,
    )


def equivalent_command(
    teacher: Path,
    student: str,
    data: Any,
    output_dir: Any,
    temperature: float,
    alpha: float,
    unlabelled: Any,
    options: dict[str, Any],
) -> str:
    """The `emolabel distill` line that repeats a Python-API run (for the model card)."""
    import shlex

    parts = ["emolabel", "distill", "--teacher", str(teacher), "--student", student]
    parts += ["--data", os.fspath(data), "-o", os.fspath(output_dir)]
    if temperature != DEFAULT_TEMPERATURE:
        parts += ["--temperature", f"{temperature:g}"]
    if alpha != DEFAULT_ALPHA:
        parts += ["--alpha", f"{alpha:g}"]
    if unlabelled is not None:
        parts += ["--unlabelled", os.fspath(unlabelled)]
    defaults = TrainingOptions()
    for name, value in sorted(options.items()):
        if name in ("max_steps", "keep_checkpoints") or value is None:
            continue  # API-only
        if value == getattr(defaults, name, object()):
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parts += [flag] if value else []
        else:
            parts += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    return shlex.join(parts)


def check_teacher(teacher: str | os.PathLike[str]) -> Path:
    """The teacher must be a local fine-tuned model folder (config with labels, safetensors)."""
    path = Path(teacher).expanduser()
    if not path.exists():
        raise EmolabelError(
            f"--teacher {teacher}: no such folder; pass a model folder written by "
            "`emolabel train` (e.g. emolabel/models/emotion-minilm)"
        )
    check_model_folder(path)
    return path.resolve()


def resolve_student(student: str, teacher_dir: Path) -> str:
    """`teacher:layers=N` -> `TEACHER_DIR:layers=N`; other specs pass through unchanged."""
    base, layers = split_layer_spec(student)
    if base.strip().lower() != TEACHER_ALIAS:
        return student
    return str(teacher_dir) if layers is None else f"{teacher_dir}:layers={layers}"


class DistillationObjective(TrainingObjective):
    """Adds the teacher's log-probabilities to every training row and the distillation loss."""

    def __init__(
        self,
        teacher: EmotionClassifier,
        *,
        temperature: float = DEFAULT_TEMPERATURE,
        alpha: float = DEFAULT_ALPHA,
        unlabelled: Path | None = None,
        unlabelled_text_column: str | None = None,
        max_unlabelled: int | None = None,
        teacher_figures: dict[str, Any] | None = None,
        notify: Callable[[int, str], None] | None = None,
    ) -> None:
        self.teacher = teacher
        self.temperature = temperature
        self.alpha = alpha
        self.unlabelled = unlabelled
        self.unlabelled_text_column = unlabelled_text_column
        self.max_unlabelled = max_unlabelled
        self.teacher_figures = teacher_figures or {}
        self.notify = notify
        self._train_texts: list[str] = []
        self._validation_texts: set[str] = set()
        self.unlabelled_rows = 0
        self.unlabelled_skipped = 0
        self.teacher_seconds = 0.0

    # ------------------------------------------------------------------ data
    def prepare_data(self, data: TrainingData) -> TrainingData:
        """Put the labels in the teacher's order, so soft targets, gold labels and a head
        cut from the teacher all mean the same class at the same index."""
        teacher_labels = list(self.teacher.labels)
        if set(data.labels) != set(teacher_labels):
            raise EmolabelError(
                f"the teacher's labels ({', '.join(teacher_labels)}) differ from the data's "
                f"({', '.join(data.labels)}): distil on data labelled with the teacher's labels"
            )
        if data.labels != teacher_labels:
            data = relabel(data, teacher_labels)
        self._train_texts = list(data.splits["train"]["text"])
        self._validation_texts = set(data.splits["validation"]["text"])
        return data

    def prepare_train(self, train: Any, encoder: EmotionClassifier) -> Any:
        """Teacher log-probabilities for every row, plus the --unlabelled rows."""
        from datasets import Dataset, concatenate_datasets

        if len(self._train_texts) != len(train):
            raise RuntimeError("prepare_data must see the same train split as prepare_train")
        started = time.perf_counter()
        self._notify(len(self._train_texts), "training texts")
        train = train.add_column(TEACHER_COLUMN, self._teacher_log_proba(self._train_texts))
        texts = self._read_unlabelled()
        if texts:
            self._notify(len(texts), f"unlabelled texts from {self.unlabelled}")
            ids = encoder.encode(texts).ids
            extra = Dataset.from_dict(
                {
                    "input_ids": ids,
                    "labels": [IGNORE_LABEL] * len(ids),
                    "length": [len(x) for x in ids],
                    TEACHER_COLUMN: self._teacher_log_proba(texts),
                },
                features=train.features,
            )
            train = concatenate_datasets([train, extra])
        self.unlabelled_rows = len(texts)
        self.teacher_seconds = time.perf_counter() - started
        return train

    def _notify(self, rows: int, what: str) -> None:
        if self.notify is not None:
            self.notify(rows, what)

    def _teacher_log_proba(self, texts: list[str]) -> list[list[float]]:
        proba, _ = self.teacher.predict_proba(texts)
        return np.log(np.clip(proba, MIN_PROBABILITY, 1.0)).astype(np.float32).tolist()

    def _read_unlabelled(self) -> list[str]:
        """Non-empty texts of the --unlabelled corpus, minus validation texts (no leakage into
        the epoch selection) and repeats, up to --max-unlabelled."""
        if self.unlabelled is None:
            return []
        from emolabel.io import open_corpus, text_values

        reader = open_corpus(self.unlabelled, text_column=self.unlabelled_text_column)
        seen: set[str] = set()
        texts: list[str] = []
        for batch in reader:
            for text in text_values(batch, reader.text_column, reader.path):
                if text is None or not text.strip():
                    continue
                text = text.strip()
                if text in self._validation_texts or text in seen:
                    self.unlabelled_skipped += 1
                    continue
                seen.add(text)
                texts.append(text)
                if self.max_unlabelled is not None and len(texts) >= self.max_unlabelled:
                    return texts
        if not texts:
            raise EmolabelError(
                f"--unlabelled {self.unlabelled}: no usable texts (all empty or in the "
                "validation split); check --unlabelled-text-column"
            )
        return texts

    # ------------------------------------------------------------------ training
    def make_trainer(self, **kwargs: Any) -> EmolabelTrainer:
        kwargs["data_collator"] = TeacherCollator(kwargs["data_collator"])
        return DistillationTrainer(temperature=self.temperature, alpha=self.alpha, **kwargs)

    def describe(self) -> dict[str, Any]:
        a, t = self.alpha, self.temperature
        extra = f"; plus {self.unlabelled_rows:,} unlabelled texts" if self.unlabelled_rows else ""
        return {
            "name": "distillation",
            "summary": (
                f"distilled from `{self.teacher.source}` with temperature {t:g}, "
                f"alpha {a:g} ({a:g} x T^2 x KL(teacher || student) + {1 - a:g} x "
                f"cross-entropy){extra}"
            ),
            "teacher": self.teacher.source,
            "teacher_labels": list(self.teacher.labels),
            "teacher_validation": {
                key: self.teacher_figures.get(key) for key in ("accuracy", "macro_f1")
            },
            "temperature": t,
            "alpha": a,
            "loss": "alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(s, y)",
            "unlabelled": {
                "source": str(self.unlabelled) if self.unlabelled else None,
                "rows": self.unlabelled_rows,
                "skipped_validation_or_repeated": self.unlabelled_skipped,
            },
            "teacher_seconds": round(self.teacher_seconds, 1),
        }


def relabel(data: TrainingData, labels: list[str]) -> TrainingData:
    """The same data with class ids renumbered into `labels`' order."""
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    features = Features({"text": Value("string"), "label": ClassLabel(names=labels)})
    index = {name: i for i, name in enumerate(labels)}
    splits = {}
    for name, split in data.splits.items():
        names = [data.labels[i] for i in split["label"]]
        splits[name] = Dataset.from_dict(
            {"text": split["text"], "label": [index[n] for n in names]}, features=features
        )
    return dataclasses.replace(data, splits=DatasetDict(splits), labels=list(labels))


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

    def __init__(self, *args: Any, temperature: float, alpha: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.temperature = temperature
        self.alpha = alpha

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
        loss = distillation_loss(
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


def _read_info(folder: Path) -> dict[str, Any]:
    try:
        info = json.loads((folder / MODEL_INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}
