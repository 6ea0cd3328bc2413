"""Score a model on labelled data, and describe the model folders emolabel ships.

Predictions come from EmotionClassifier, the engine annotate uses (same tokenizer,
truncation, batching and precision), so an evaluation measures what annotate will output.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emolabel.errors import EmolabelError
from emolabel.evaluation.metrics import (
    ECE_BINS,
    classification_metrics,
    save_confusion_matrix_plot,
    save_reliability_plot,
)
from emolabel.inference import (
    BUILTIN_MODELS_DIR,
    DEFAULT_HEAD_TOKENS,
    MODEL_INFO_FILE,
    EmotionClassifier,
)
from emolabel.training.data import SplitStats, load_labelled_split

PREDICT_CHUNK = 4096


@dataclass
class EvaluationReport:
    """Every figure for one model on one labelled split, plus the predictions behind them."""

    model: str
    data: str
    split: str
    labels: list[str]
    metrics: dict[str, Any]
    stats: SplitStats
    seconds: float
    device: str
    precision: str
    y_true: np.ndarray = field(repr=False)
    proba: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """All figures as plain JSON types (predictions left out)."""
        return {
            "model": self.model,
            "data": self.data,
            "split": self.split,
            "labels": list(self.labels),
            "rows": int(self.metrics["rows"]),
            "dropped": {
                "empty_text": self.stats.dropped_empty_text,
                "missing_label": self.stats.dropped_missing_label,
            },
            "device": self.device,
            "precision": self.precision,
            "seconds": round(self.seconds, 2),
            "ece_bins": ECE_BINS,
            "metrics": self.metrics,
        }

    def write_json(self, path: str | os.PathLike[str]) -> Path:
        target = Path(path).expanduser()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise EmolabelError(f"cannot write --json {target}: {exc.strerror}") from None
        return target

    def save_plots(self, folder: str | os.PathLike[str]) -> list[Path]:
        """confusion_matrix.png and reliability.png in `folder` (created if needed)."""
        target = Path(folder).expanduser()
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EmolabelError(f"cannot create --plots folder {target}: {exc.strerror}") from None
        return [
            save_confusion_matrix_plot(self.metrics, self.labels, target / "confusion_matrix.png"),
            save_reliability_plot(
                self.y_true, self.proba, self.metrics, target / "reliability.png"
            ),
        ]


def evaluate(
    model: str | os.PathLike[str] | EmotionClassifier | None,
    data: str | os.PathLike[str],
    *,
    split: str = "validation",
    text_column: str | None = None,
    label_column: str | None = None,
    device: str = "auto",
    precision: str = "auto",
    max_length: int | None = None,
    head_tokens: int = DEFAULT_HEAD_TOKENS,
    batch_tokens: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvaluationReport:
    """Predict every row of a labelled file/folder split and compute all figures.

    `model` is a folder, a built-in name, a hub id, None (the built-in model) or an
    already loaded EmotionClassifier. `progress(done, total)` is called after each chunk.
    """
    examples = load_labelled_split(
        data, split=split, text_column=text_column, label_column=label_column
    )
    classifier = (
        model
        if isinstance(model, EmotionClassifier)
        else EmotionClassifier.load(
            model,
            device=device,
            precision=precision,
            max_length=max_length,
            head_tokens=head_tokens,
        )
    )
    y_true = label_ids(examples.labels, classifier.labels, examples.source)
    started = time.perf_counter()
    total = len(examples.texts)
    proba = np.empty((total, len(classifier.labels)), dtype=np.float32)
    for start in range(0, total, PREDICT_CHUNK):
        chunk = examples.texts[start : start + PREDICT_CHUNK]
        proba[start : start + len(chunk)], _ = classifier.predict_proba(
            chunk, batch_tokens=batch_tokens
        )
        if progress is not None:
            progress(start + len(chunk), total)
    seconds = time.perf_counter() - started
    metrics = classification_metrics(y_true, proba, classifier.labels)
    return EvaluationReport(
        model=classifier.source,
        data=examples.source,
        split=examples.split,
        labels=list(classifier.labels),
        metrics=metrics,
        stats=examples.stats,
        seconds=seconds,
        device=classifier.device,
        precision=classifier.precision,
        y_true=y_true,
        proba=proba,
    )


def label_ids(names: list[str], model_labels: list[str], source: str) -> np.ndarray:
    """Data label names -> the model's class ids; labels the model lacks are an error."""
    index = {label: i for i, label in enumerate(model_labels)}
    unknown = sorted({name for name in names if name not in index})
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:10])
        hint = "evaluate with data labelled in the model's label set"
        if all(u.lstrip("-").isdigit() for u in unknown):
            hint = (
                "the data has integer label ids: put a mapping.txt (id<TAB>name a line) next to it"
            )
        raise EmolabelError(
            f"{source}: label(s) {shown} are not among the model's labels "
            f"({', '.join(model_labels)}): {hint}"
        )
    return np.array([index[name] for name in names], dtype=np.int64)


# ----------------------------------------------------------------------------- model folders
@dataclass
class ModelInfo:
    """What `emolabel models` shows for one model folder."""

    name: str
    path: Path
    labels: list[str]
    size_bytes: int
    base_model: str | None = None
    accuracy: float | None = None
    macro_f1: float | None = None
    data: str | None = None


def describe_model(folder: str | os.PathLike[str]) -> ModelInfo:
    """Labels from config.json, figures from emolabel.json (when training wrote one)."""
    path = Path(folder)
    config = _read_json(path / "config.json")
    id2label = config.get("id2label") or {}
    labels = [str(id2label[k]) for k in sorted(id2label, key=lambda k: int(k))]
    info = _read_json(path / MODEL_INFO_FILE)
    validation = info.get("validation") or {}
    base = info.get("base_model") or {}
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return ModelInfo(
        name=path.name,
        path=path,
        labels=labels or list(info.get("labels") or []),
        size_bytes=size,
        base_model=base.get("source") if isinstance(base, dict) else None,
        accuracy=validation.get("accuracy"),
        macro_f1=validation.get("macro_f1"),
        data=(info.get("data") or {}).get("source"),
    )


def list_builtin_models(folder: str | os.PathLike[str] | None = None) -> list[ModelInfo]:
    """Every model folder (one with a config.json) under emolabel/models/, by name."""
    root = Path(folder) if folder is not None else BUILTIN_MODELS_DIR
    if not root.is_dir():
        return []
    return [
        describe_model(child)
        for child in sorted(root.iterdir())
        if child.is_dir() and (child / "config.json").exists()
    ]


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
