"""Score a model on labelled data: single-label or multi-label, in the model's own label
set or rolled up to a coarser one (`label_map`).

Predictions come from EmotionClassifier, the engine annotate uses (same tokenizer,
truncation, batching, precision and thresholds), so an evaluation measures what annotate
will output: a multi-label model's labels are those reaching their thresholds, or the top
label when none does, exactly as annotate's `emotions` column.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from emolabel.errors import EmolabelError, Interrupted
from emolabel.evaluation.label_maps import GoldLabels, LabelGroups, group_labels
from emolabel.evaluation.plots import (
    save_confusion_matrix_plot,
    save_label_confusion_plot,
    save_per_label_f1_plot,
    save_reliability_plot,
)
from emolabel.events import Events
from emolabel.inference.classifier import EmotionClassifier
from emolabel.inference.truncation import DEFAULT_HEAD_TOKENS
from emolabel.metrics import ECE_BINS, classification_metrics, multilabel_metrics
from emolabel.training.data import SplitStats, load_labelled_split

PREDICT_CHUNK = 4096
DECISION = (
    "a label is predicted where its score reaches its threshold; the top label when none does "
    "(annotate's emotions column)"
)


@dataclass
class Scored:
    """A model's figures on gold labels, with the arrays behind them."""

    labels: list[str]
    metrics: dict[str, Any]
    y_true: np.ndarray  # class ids (n,), or bool (n, k) when multi-label
    proba: np.ndarray  # (n, k) scores in `labels` order
    multi_label: bool
    thresholds: np.ndarray | None  # (k,) when multi-label; NaN where undefined
    predicted: np.ndarray | None  # bool (n, k) when multi-label
    seconds: float


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
    multi_label: bool = False
    predicted: np.ndarray | None = field(default=None, repr=False)
    label_map: str | None = None
    model_labels: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """All figures as plain JSON types (predictions left out)."""
        out = {
            "model": self.model,
            "data": self.data,
            "split": self.split,
            "multi_label": self.multi_label,
            "labels": list(self.labels),
            "rows": int(self.metrics["rows"]),
            "dropped": {
                "empty_text": self.stats.dropped_empty_text,
                "missing_label": self.stats.dropped_missing_label,
            },
            "device": self.device,
            "precision": self.precision,
            "seconds": round(self.seconds, 2),
        }
        if self.multi_label:
            out["decision"] = DECISION
        else:
            out["ece_bins"] = ECE_BINS
        if self.label_map is not None:
            out["label_map"] = {"source": self.label_map, "model_labels": self.model_labels}
        out["metrics"] = self.metrics
        return out

    def write_json(self, path: str | os.PathLike[str]) -> Path:
        target = Path(path).expanduser()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise EmolabelError(f"cannot write --json {target}: {exc.strerror}") from None
        return target

    def save_plots(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Single-label: confusion_matrix.png and reliability.png; multi-label:
        per_label_f1.png and label_confusion.png; in `folder` (created if needed)."""
        target = Path(folder).expanduser()
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EmolabelError(f"cannot create --plots folder {target}: {exc.strerror}") from None
        if self.multi_label:
            assert self.predicted is not None
            return [
                save_per_label_f1_plot(self.metrics, target / "per_label_f1.png"),
                save_label_confusion_plot(
                    self.y_true, self.predicted, self.labels, target / "label_confusion.png"
                ),
            ]
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
    compile: bool = False,
    threshold: float | None = None,
    label_map: str | os.PathLike[str] | Mapping[str, str] | None = None,
    events: Events | None = None,
) -> EvaluationReport:
    """Predict every row of a labelled file/folder split and compute all figures.

    `model` is a folder, a built-in name, a hub id, None (the built-in model) or an
    already loaded EmotionClassifier. `threshold` replaces a multi-label model's stored
    per-label thresholds. `label_map` (a file, a built-in name such as `ekman`, or a
    member -> group dict) scores the model in the data's coarser label set. `events`
    sees start / advance / stop as the rows are predicted; Ctrl-C raises Interrupted.
    """
    examples = load_labelled_split(
        data,
        split=split,
        text_column=text_column,
        label_column=label_column,
        label_map=None if label_map is None or isinstance(label_map, Mapping) else str(label_map),
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
            compile=compile,
            threshold=threshold,
        )
    )
    groups = group_labels(classifier.labels, label_map) if label_map is not None else None
    scored = score_classifier(
        classifier,
        examples.texts,
        examples.labels,
        source=examples.source,
        threshold=threshold,
        groups=groups,
        multi_label=examples.multi_label,
        batch_tokens=batch_tokens,
        events=events,
    )
    return EvaluationReport(
        model=classifier.source,
        data=examples.source,
        split=examples.split,
        labels=scored.labels,
        metrics=scored.metrics,
        stats=examples.stats,
        seconds=scored.seconds,
        device=classifier.device,
        precision=classifier.precision,
        y_true=scored.y_true,
        proba=scored.proba,
        multi_label=scored.multi_label,
        predicted=scored.predicted,
        label_map=None if groups is None else groups.source,
        model_labels=list(classifier.labels),
    )


def score_classifier(
    classifier: EmotionClassifier,
    texts: Sequence[str],
    gold: GoldLabels,
    *,
    source: str,
    threshold: float | None = None,
    groups: LabelGroups | None = None,
    multi_label: bool | None = None,
    batch_tokens: int | None = None,
    events: Events | None = None,
) -> Scored:
    """Predict `texts` and score them against `gold` (label names, or lists of names).

    Multi-label figures are used when the model or the gold labels are multi-label, or when
    `multi_label=True` (compare scores every model alike); a single-label model then
    predicts its top label only.
    """
    model_multi, thresholds = model_decision_rule(classifier, threshold)
    multi = bool(multi_label) or model_multi or any(isinstance(g, list) for g in gold)
    labels = list(classifier.labels) if groups is None else groups.names
    if groups is not None:
        gold = groups.map_gold(gold)
    # gold labels the model cannot predict are refused before the (long) prediction pass
    names = cast("list[str]", gold)  # one name a row when not multi
    y = label_matrix(gold, labels, source) if multi else label_ids(names, labels, source)
    started = time.perf_counter()
    proba = predict_scores(classifier, texts, batch_tokens=batch_tokens, events=events)
    seconds = time.perf_counter() - started
    decided = model_decisions(proba, model_multi, thresholds)
    if not model_multi:
        thresholds = np.full(len(classifier.labels), np.nan)
    if groups is not None:
        proba = groups.roll_up_scores(proba, sigmoid=model_multi)
        decided = groups.roll_up_decisions(decided)
        thresholds = groups.roll_up_thresholds(thresholds)
    if not multi:
        metrics = classification_metrics(y, proba, labels)
        return Scored(labels, metrics, y, proba, False, None, None, seconds)
    metrics = multilabel_metrics(y, proba, thresholds, labels, predicted=decided)
    return Scored(labels, metrics, y, proba, True, thresholds, decided, seconds)


def predict_scores(
    classifier: EmotionClassifier,
    texts: Sequence[str],
    *,
    batch_tokens: int | None = None,
    events: Events | None = None,
) -> np.ndarray:
    """The model's scores for every text, in chunks, reporting progress through `events`."""
    events = events or Events()
    total = len(texts)
    proba = np.empty((total, len(classifier.labels)), dtype=np.float32)
    events.start(total, "rows")
    try:
        for start in range(0, total, PREDICT_CHUNK):
            chunk = list(texts[start : start + PREDICT_CHUNK])
            proba[start : start + len(chunk)], _ = classifier.predict_proba(
                chunk, batch_tokens=batch_tokens
            )
            events.advance(len(chunk), start + len(chunk))
    except KeyboardInterrupt:
        raise Interrupted("evaluation interrupted: nothing was written; run it again") from None
    finally:
        events.stop()
    return proba


def model_decision_rule(
    classifier: EmotionClassifier, threshold: float | None = None
) -> tuple[bool, np.ndarray]:
    """Whether the model is multi-label, and its per-label thresholds: all `threshold` when
    given, else the classifier's (emolabel.json's, 0.5 where absent)."""
    if threshold is None:
        return classifier.multi_label, np.asarray(classifier.thresholds, dtype=np.float32)
    if not 0.0 <= threshold <= 1.0:
        raise EmolabelError(f"--threshold {threshold}: use a number from 0 to 1")
    return classifier.multi_label, np.full(len(classifier.labels), threshold, dtype=np.float32)


def model_decisions(scores: np.ndarray, multi_label: bool, thresholds: np.ndarray) -> np.ndarray:
    """bool (n, k): what annotate's `emotions` holds: a multi-label model's labels at their
    thresholds (decide_labels), a single-label model's top label."""
    if multi_label:
        return decide_labels(scores, thresholds)
    decided = np.zeros(scores.shape, dtype=bool)
    decided[np.arange(len(scores)), scores.argmax(axis=1)] = True
    return decided


def decide_labels(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """bool (n, k): labels at or above their threshold; the top label where none is."""
    decided = scores >= thresholds
    empty = ~decided.any(axis=1)
    decided[np.flatnonzero(empty), scores[empty].argmax(axis=1)] = True
    return decided


def label_ids(names: list[str], model_labels: list[str], source: str) -> np.ndarray:
    """Data label names -> the model's class ids; labels the model lacks are an error."""
    index = {label: i for i, label in enumerate(model_labels)}
    _refuse_unknown({name for name in names if name not in index}, model_labels, source)
    return np.array([index[name] for name in names], dtype=np.int64)


def label_matrix(gold: GoldLabels, labels: list[str], source: str) -> np.ndarray:
    """Gold names (one or a list per row) -> bool (n, k) in `labels` order."""
    index = {label: i for i, label in enumerate(labels)}
    rows: list[int] = []
    cols: list[int] = []
    unknown: set[str] = set()
    for r, row in enumerate(gold):
        names = row if isinstance(row, list) else [str(row)]
        for name in names:
            col = index.get(name)
            if col is None:
                unknown.add(name)
            else:
                rows.append(r)
                cols.append(col)
    _refuse_unknown(unknown, labels, source)
    y = np.zeros((len(gold), len(labels)), dtype=bool)
    y[rows, cols] = True
    return y


def _refuse_unknown(unknown: set[str], model_labels: list[str], source: str) -> None:
    if not unknown:
        return
    shown = ", ".join(repr(u) for u in sorted(unknown)[:10])
    hint = "evaluate with data labelled in the model's label set, or pass --label-map"
    if all(u.lstrip("-").isdigit() for u in unknown):
        hint = "the data has integer label ids: put a mapping.txt (id<TAB>name a line) next to it"
    raise EmolabelError(
        f"{source}: label(s) {shown} are not among the model's labels "
        f"({', '.join(model_labels)}): {hint}"
    )
