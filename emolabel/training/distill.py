"""Knowledge distillation: train a small student to copy a fine-tuned teacher's probabilities.

The loss (Hinton et al. 2015) is

    alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))
      + (1 - alpha) * cross-entropy(student, gold label)

For a multi-label teacher (sigmoid per label) the soft term is, per label, the binary
cross-entropy of the student's sigmoid(student / T) against the teacher's sigmoid(teacher / T),
averaged over labels, times T^2; the hard term is BCE on the gold labels.

The temperature T > 1 softens both distributions so the student also learns how the teacher
ranks the wrong classes ("dark knowledge"); T^2 keeps the soft term's gradients on the same
scale as the hard one's whatever T is. Rows without a gold label (from --unlabelled) get the
soft term only, so raw text the teacher labels adds training signal for free. Several
teachers (an ensemble) give one target: the mean of their probabilities, in the first
teacher's label order.

The teacher runs once, before training, over every training text (and any unlabelled text)
with EmotionClassifier, the annotate engine: on a CPU that costs one inference pass instead
of a teacher forward pass per step and epoch. Its log-probabilities are stored beside the
token ids; softmax(log p / T) equals softmax(logits / T), so nothing is lost (a multi-label
teacher's logits log(p / (1 - p)) are stored instead).

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emolabel.errors import EmolabelError
from emolabel.events import Events
from emolabel.inference import DEFAULT_HEAD_TOKENS
from emolabel.inference.classifier import EmotionClassifier
from emolabel.inference.devices import resolve_device
from emolabel.inference.encoding import TextEncoder
from emolabel.inference.model_folders import check_model_folder
from emolabel.training.base_models import default_learning_rate
from emolabel.training.data import DEFAULT_HUB_DATASET, TrainingData
from emolabel.training.distillation_loss import (
    IGNORE_LABEL,
    TEACHER_COLUMN,
    DistillationTrainer,
    TeacherCollator,
)
from emolabel.training.layer_subset import split_layer_spec
from emolabel.training.model_folder import MODEL_INFO_FILE, data_name
from emolabel.training.objective import EmolabelTrainer, TrainingObjective, is_multi_label
from emolabel.training.options import TrainingOptions
from emolabel.training.trainer import TrainingResult, train

DEFAULT_TEMPERATURE = 2.0
DEFAULT_ALPHA = 0.5
DEFAULT_OUTPUT_DIR = "emolabel-student"
TEACHER_ALIAS = "teacher"
MIN_PROBABILITY = 1e-30  # log(0) guard for teacher probabilities that underflowed


def distill(
    teacher: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    student: str,
    data: str | os.PathLike[str] | list[str] = DEFAULT_HUB_DATASET,
    output_dir: str | os.PathLike[str] = DEFAULT_OUTPUT_DIR,
    *,
    temperature: float = DEFAULT_TEMPERATURE,
    alpha: float = DEFAULT_ALPHA,
    unlabelled: str | os.PathLike[str] | None = None,
    unlabelled_text_column: str | None = None,
    max_unlabelled: int | None = None,
    teacher_precision: str | None = None,
    overwrite: bool = False,
    resume: bool = False,
    events: Events | None = None,
    command: str | None = None,
    **options: Any,
) -> TrainingResult:
    """Distil the fine-tuned `teacher` folder (or a list of folders, an ensemble: the
    student learns their mean probabilities) into `student` and write a model folder.

    `student` is a base-model spec (`minilm:layers=2`, a folder, a preset) where the name
    `teacher` stands for the (first) teacher folder (`teacher:layers=3`). resume=True continues
    after Ctrl-C. `teacher_precision` is the teacher's labelling pass (annotate's
    precisions); None: fp32 on a CPU (exact soft targets), auto on a GPU. `options` are
    emolabel.training.TrainingOptions fields; lr defaults to the teacher's own when the
    student is cut from the teacher. `events` may also have teacher_labelling(rows, what).
    """
    if options.get("partial_labels"):
        raise EmolabelError(
            "partial_labels is for train: in distill the teacher's targets cover every label "
            "of every row; drop it"
        )
    teacher_dirs = check_teachers(teacher)
    teacher_dir = teacher_dirs[0]
    _check_distill_options(temperature, alpha, unlabelled, max_unlabelled)
    student_spec = resolve_student(student, teacher_dir)
    teacher_info = _read_info(teacher_dir)
    if options.get("lr") is None and split_layer_spec(student_spec)[0] == str(teacher_dir):
        options["lr"] = teacher_learning_rate(teacher_info, teacher_dir)
    if options.get("pooling") == "mean" and split_layer_spec(student_spec)[0] == str(teacher_dir):
        raise EmolabelError(
            "--pooling mean: a student cut from the teacher keeps the teacher's layers and "
            "head; drop --pooling"
        )
    objective = DistillationObjective(
        [load_teacher(folder, options, teacher_precision) for folder in teacher_dirs],
        temperature=temperature,
        alpha=alpha,
        unlabelled=Path(unlabelled).expanduser() if unlabelled is not None else None,
        unlabelled_text_column=unlabelled_text_column,
        max_unlabelled=max_unlabelled,
        teacher_figures=teacher_info.get("validation") or {},
        events=events,
    )
    if command is None:
        command = equivalent_command(
            teacher_dirs,
            student,
            data,
            output_dir,
            temperature,
            alpha,
            unlabelled,
            options,
            teacher_precision=teacher_precision,
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


def load_teacher(
    teacher_dir: Path, options: dict[str, Any], precision: str | None
) -> EmotionClassifier:
    """The teacher as annotate runs it, on the training device, cut as the student's texts
    are; precision None: fp32 on a CPU (exact soft targets), auto on a GPU."""
    device = resolve_device(str(options.get("device", "auto")))
    return EmotionClassifier.load(
        teacher_dir,
        device=device,
        precision=precision or ("auto" if device.startswith("cuda") else "fp32"),
        max_length=options.get("max_length"),
        head_tokens=int(options.get("head_tokens", DEFAULT_HEAD_TOKENS)),
    )


def _check_distill_options(
    temperature: float, alpha: float, unlabelled: Any, max_unlabelled: int | None
) -> None:
    if not temperature > 0:
        raise EmolabelError(f"--temperature {temperature}: must be positive (2 to 4 is usual)")
    if not 0 <= alpha <= 1:
        raise EmolabelError(f"--alpha {alpha}: choose 0 <= alpha <= 1 (weight of the soft loss)")
    if max_unlabelled is not None and max_unlabelled < 1:
        raise EmolabelError(f"--max-unlabelled {max_unlabelled}: must be at least 1")
    if unlabelled is not None and not Path(unlabelled).expanduser().is_file():
        raise EmolabelError(f"--unlabelled {unlabelled}: no such file; check the path")


def teacher_learning_rate(teacher_info: dict[str, Any], teacher_dir: Path) -> float:
    """A student cut from the teacher continues at the teacher's own learning rate."""
    recorded = (teacher_info.get("hyperparameters") or {}).get("lr")
    if isinstance(recorded, (int, float)) and recorded > 0:
        return float(recorded)
    base = (teacher_info.get("base_model") or {}).get("name") or str(teacher_dir)
    return default_learning_rate(base)


def equivalent_command(
    teachers: Sequence[Path],
    student: str,
    data: Any,
    output_dir: Any,
    temperature: float,
    alpha: float,
    unlabelled: Any,
    options: dict[str, Any],
    teacher_precision: str | None = None,
) -> str:
    """The `emolabel distill` line that repeats a Python-API run (for the model card)."""
    import shlex

    parts = ["emolabel", "distill"]
    for folder in teachers:
        parts += ["--teacher", str(folder)]
    parts += ["--student", student]
    name = data_name(data)
    for source in name if isinstance(name, list) else [name]:
        parts += ["--data", source]
    parts += ["-o", os.fspath(output_dir)]
    if temperature != DEFAULT_TEMPERATURE:
        parts += ["--temperature", f"{temperature:g}"]
    if alpha != DEFAULT_ALPHA:
        parts += ["--alpha", f"{alpha:g}"]
    if unlabelled is not None:
        parts += ["--unlabelled", os.fspath(unlabelled)]
    if teacher_precision is not None:
        parts += ["--teacher-precision", teacher_precision]
    defaults = TrainingOptions()
    for name, value in sorted(options.items()):
        if name in ("max_steps", "keep_checkpoints") or value is None:
            continue  # API-only
        if value == getattr(defaults, name, object()):
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parts.append(flag if value else "--single-label")  # only multi_label defaults None
        else:
            parts += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    return shlex.join(parts)


def check_teachers(
    teacher: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> list[Path]:
    """Each teacher folder checked (check_teacher), repeats refused: at least one."""
    given = [teacher] if isinstance(teacher, (str, os.PathLike)) else list(teacher)
    if not given:
        raise EmolabelError("--teacher: pass at least one model folder")
    folders = [check_teacher(t) for t in given]
    for i, folder in enumerate(folders):
        if folder in folders[:i]:
            raise EmolabelError(
                f"--teacher {given[i]}: given twice; an ensemble averages different models"
            )
    return folders


def check_teacher(teacher: str | os.PathLike[str]) -> Path:
    """The teacher must be a local fine-tuned model folder (config with labels, safetensors)."""
    path = Path(teacher).expanduser()
    if not path.exists():
        raise EmolabelError(
            f"--teacher {teacher}: no such folder; pass a model folder written by "
            "`emolabel train` (e.g. emolabel/models/ekman)"
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
    """Adds the teacher's log-probabilities to every training row and the distillation loss.

    Given several teachers, the target is their mean probability per class, each teacher's
    columns put in the first teacher's label order; all must share labels and head type.
    """

    def __init__(
        self,
        teacher: EmotionClassifier | Sequence[EmotionClassifier],
        *,
        temperature: float = DEFAULT_TEMPERATURE,
        alpha: float = DEFAULT_ALPHA,
        unlabelled: Path | None = None,
        unlabelled_text_column: str | None = None,
        max_unlabelled: int | None = None,
        teacher_figures: dict[str, Any] | None = None,
        events: Events | None = None,
    ) -> None:
        self.teachers = [teacher] if isinstance(teacher, EmotionClassifier) else list(teacher)
        self.teacher = self.teachers[0]  # whose label order the data and targets take
        check_ensemble(self.teachers)
        self.temperature = temperature
        self.alpha = alpha
        self.unlabelled = unlabelled
        self.unlabelled_text_column = unlabelled_text_column
        self.max_unlabelled = max_unlabelled
        self.teacher_figures = teacher_figures or {}
        self.events = events or Events()
        self.multi_label = teacher_is_multi_label(self.teacher)
        self._label_count = len(self.teacher.labels)
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
        if is_multi_label(data) != self.multi_label:
            kind = "multi-label" if self.multi_label else "single-label"
            raise EmolabelError(
                f"the teacher is {kind} but the data is not: distil a multi-label teacher on "
                "multi-label data (--multi-label reads any data as multi-label), a "
                "single-label teacher on single-label data"
            )
        if data.labels != teacher_labels:
            data = relabel(data, teacher_labels)
        self._train_texts = list(data.splits["train"]["text"])
        self._validation_texts = set(data.splits["validation"]["text"])
        return data

    def prepare_train(self, train: Any, encoder: TextEncoder) -> Any:
        """Teacher log-probabilities for every row, plus the --unlabelled rows."""
        from datasets import Dataset, concatenate_datasets

        if len(self._train_texts) != len(train):
            raise RuntimeError("prepare_data must see the same train split as prepare_train")
        started = time.perf_counter()
        kind = " (multi-label teacher: per-label sigmoid targets, BCE)" if self.multi_label else ""
        if len(self.teachers) > 1:
            kind += f" with each of {len(self.teachers)} teachers; targets: their mean"
        self.events.teacher_labelling(len(self._train_texts), f"training texts{kind}")
        train = train.add_column(TEACHER_COLUMN, self._teacher_targets(self._train_texts))
        texts = self._read_unlabelled()
        if texts:
            self.events.teacher_labelling(len(texts), f"unlabelled texts from {self.unlabelled}")
            ids = encoder.encode(texts).ids
            extra = Dataset.from_dict(
                {
                    "input_ids": ids,
                    "labels": [self._no_label()] * len(ids),
                    "length": [len(x) for x in ids],
                    TEACHER_COLUMN: self._teacher_targets(texts),
                },
                features=train.features,
            )
            train = concatenate_datasets([train, extra])
        self.unlabelled_rows = len(texts)
        self.teacher_seconds = time.perf_counter() - started
        return train

    def _teacher_targets(self, texts: list[str]) -> list[list[float]]:
        """Log-probabilities (softmax teacher) or logits (sigmoid teacher), float32; of the
        teachers' mean probabilities for an ensemble."""
        proba = self._teacher_proba(self.teacher, texts)
        for other in self.teachers[1:]:
            proba += self._teacher_proba(other, texts)
        proba /= len(self.teachers)
        if self.multi_label:
            p = np.clip(proba, MIN_PROBABILITY, 1.0 - 1e-7)
            return (np.log(p) - np.log1p(-p)).astype(np.float32).tolist()
        return np.log(np.clip(proba, MIN_PROBABILITY, 1.0)).astype(np.float32).tolist()

    def _teacher_proba(self, teacher: EmotionClassifier, texts: list[str]) -> np.ndarray:
        """float64 (n, k) in the first teacher's label order."""
        proba, _ = teacher.predict_proba(texts)
        order = [list(teacher.labels).index(name) for name in self.teacher.labels]
        return np.asarray(proba, dtype=np.float64)[:, order]

    def _no_label(self) -> Any:
        """The `labels` value of an --unlabelled row (soft loss only)."""
        return [float(IGNORE_LABEL)] * self._label_count if self.multi_label else IGNORE_LABEL

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
        return DistillationTrainer(
            temperature=self.temperature, alpha=self.alpha, multi_label=self.multi_label, **kwargs
        )

    def describe(self) -> dict[str, Any]:
        a, t = self.alpha, self.temperature
        extra = f"; plus {self.unlabelled_rows:,} unlabelled texts" if self.unlabelled_rows else ""
        sources = [teacher.source for teacher in self.teachers]
        if len(sources) == 1:
            origin = f"`{sources[0]}`"
        else:
            origin = "the mean probabilities of " + ", ".join(f"`{s}`" for s in sources)
        if self.multi_label:
            terms = (
                f"{a:g} x T^2 x BCE(student, teacher's sigmoid probabilities at T) + "
                f"{1 - a:g} x BCE on the gold labels; multi-label"
            )
            loss = "alpha * T^2 * BCE(sigmoid(s/T), sigmoid(t/T)) + (1 - alpha) * BCE(s, y)"
        else:
            terms = f"{a:g} x T^2 x KL(teacher || student) + {1 - a:g} x cross-entropy"
            loss = "alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(s, y)"
        return {
            "name": "distillation",
            "summary": (
                f"distilled from {origin} with temperature {t:g}, alpha {a:g} ({terms}){extra}"
            ),
            "multi_label": self.multi_label,
            "teacher": self.teacher.source,  # the first; its labels and figures below
            "teachers": sources,
            "teacher_labels": list(self.teacher.labels),
            "teacher_precision": self.teacher.precision,
            "teacher_validation": {
                key: self.teacher_figures.get(key)
                for key in (
                    ("macro_f1", "micro_f1") if self.multi_label else ("accuracy", "macro_f1")
                )
            },
            "temperature": t,
            "alpha": a,
            "loss": loss,
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
    new_id = np.asarray([index[name] for name in data.labels], dtype=np.int64)
    splits = {}
    for name, split in data.splits.items():
        if is_multi_label(data):
            renumbered = [
                new_id[np.asarray(ids, dtype=np.int64)].tolist() for ids in split["labels"]
            ]
            splits[name] = split.remove_columns("labels").add_column("labels", renumbered)
            continue
        names = [data.labels[i] for i in split["label"]]
        splits[name] = Dataset.from_dict(
            {"text": split["text"], "label": [index[n] for n in names]}, features=features
        )
    return dataclasses.replace(data, splits=DatasetDict(splits), labels=list(labels))


def check_ensemble(teachers: list[EmotionClassifier]) -> None:
    """Every teacher names the first one's labels (any order) with the same head type."""
    first = teachers[0]
    for other in teachers[1:]:
        if set(other.labels) != set(first.labels) or len(other.labels) != len(first.labels):
            raise EmolabelError(
                f"--teacher {other.source}: its labels ({', '.join(other.labels)}) differ from "
                f"{first.source}'s ({', '.join(first.labels)}); an ensemble needs one label set"
            )
        if teacher_is_multi_label(other) != teacher_is_multi_label(first):
            raise EmolabelError(
                f"--teacher {other.source}: multi-label and single-label teachers cannot be "
                "averaged; pass teachers of one kind"
            )


def teacher_is_multi_label(teacher: EmotionClassifier) -> bool:
    """Sigmoid teacher? (inference's rule, the pipeline's: multi-label problem type or one
    label)."""
    return bool(teacher.multi_label)


def _read_info(folder: Path) -> dict[str, Any]:
    try:
        info = json.loads((folder / MODEL_INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}
