"""Per-label decision thresholds for multi-label models, tuned on validation, and the F1
figures that pick the best epoch and go into emolabel.json.

A sigmoid head trained with BCE on rare labels rarely reaches 0.5 for them, so at 0.5 their
recall (and macro-F1) is poor; the threshold that maximises each label's F1 on validation
is the usual fix (GoEmotions baselines tune it the same way). Everything is vectorised over
rows, labels and the grid at once: one (grid, n, k) comparison, no Python loop per label.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)
DEFAULT_THRESHOLD = 0.5
GRID_CHUNK_ROWS = 1 << 14  # rows per slice of the (grid, rows, labels) comparison (memory)


def tune_thresholds(
    y_true: np.ndarray, scores: np.ndarray, grid: np.ndarray | None = None
) -> np.ndarray:
    """For each label, the grid value whose F1 on (y_true, scores) is highest (float32 (k,)).

    Ties go to the lowest threshold. A label without a positive row keeps 0.5: there is
    nothing to tune it on.
    """
    truth = np.asarray(y_true, dtype=bool)
    proba = np.asarray(scores, dtype=np.float32)
    if truth.shape != proba.shape or truth.ndim != 2:
        raise ValueError(f"y_true {truth.shape} and scores {proba.shape} must be the same (n, k)")
    values = np.asarray(DEFAULT_GRID if grid is None else grid, dtype=np.float32)
    tp = np.zeros((len(values), truth.shape[1]), dtype=np.int64)
    predicted = np.zeros_like(tp)
    for start in range(0, len(truth), GRID_CHUNK_ROWS):
        rows = slice(start, start + GRID_CHUNK_ROWS)
        above = proba[rows][None, :, :] >= values[:, None, None]  # (grid, n, k)
        tp += (above & truth[rows][None]).sum(axis=1)
        predicted += above.sum(axis=1)
    positives = truth.sum(axis=0)[None, :]
    f1 = _f1(tp, predicted, positives)
    best = values[np.argmax(f1, axis=0)]  # argmax takes the first (lowest) of equal F1s
    return np.where(positives[0] > 0, best, np.float32(DEFAULT_THRESHOLD)).astype(np.float32)


def multilabel_f1(
    y_true: np.ndarray, scores: np.ndarray, thresholds: np.ndarray | float, labels: list[str]
) -> dict[str, Any]:
    """Macro, micro and weighted F1, subset accuracy and per-label P/R/F1/support of
    `scores >= thresholds` (the figures that select an epoch and fill the card)."""
    truth = np.asarray(y_true, dtype=bool)
    cut = np.broadcast_to(np.asarray(thresholds, dtype=np.float32), (truth.shape[1],))
    predicted = np.asarray(scores, dtype=np.float32) >= cut[None, :]
    tp = (predicted & truth).sum(axis=0)
    n_pred = predicted.sum(axis=0)
    n_true = truth.sum(axis=0)
    f1 = _f1(tp, n_pred, n_true)
    precision = np.divide(tp, n_pred, out=np.zeros(len(tp)), where=n_pred > 0)
    recall = np.divide(tp, n_true, out=np.zeros(len(tp)), where=n_true > 0)
    micro = float(_f1(tp.sum(), n_pred.sum(), n_true.sum()))
    weighted = float((f1 * n_true).sum() / n_true.sum()) if n_true.sum() else 0.0
    return {
        "rows": len(truth),
        "macro_f1": float(f1.mean()),
        "micro_f1": micro,
        "weighted_f1": weighted,
        "accuracy": float((predicted == truth).all(axis=1).mean()) if len(truth) else 0.0,
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(n_true[i]),
                "threshold": float(cut[i]),
            }
            for i, label in enumerate(labels)
        },
    }


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Logistic function, float32, without overflow warnings for large |logits|."""
    x = np.asarray(logits, dtype=np.float32)
    return (0.5 * (1.0 + np.tanh(0.5 * x))).astype(np.float32)


def multi_hot(label_ids: Any, k: int) -> np.ndarray:
    """Rows of label-id lists -> a bool (n, k) matrix."""
    rows = list(label_ids)
    matrix = np.zeros((len(rows), k), dtype=bool)
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    if lengths.sum():
        flat = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(lengths.sum()))
        matrix[np.repeat(np.arange(len(rows)), lengths), flat] = True
    return matrix


def _f1(tp: Any, predicted: Any, positives: Any) -> np.ndarray:
    """2TP / (predicted + positives); 0 where both are 0."""
    denominator = np.asarray(predicted + positives, dtype=np.float64)
    return np.divide(
        2.0 * np.asarray(tp, dtype=np.float64),
        denominator,
        out=np.zeros(np.shape(denominator)),
        where=denominator > 0,
    )


def multilabel_epoch_metrics(
    label_ids: np.ndarray, logits: np.ndarray, labels: list[str]
) -> dict[str, float]:
    """Flat floats for one epoch's validation log: figures at thresholds tuned on this very
    epoch's scores (so `macro_f1` picks the epoch that is best once tuned), and at 0.5."""
    truth = np.asarray(label_ids) > 0.5
    scores = sigmoid(logits)
    tuned = multilabel_f1(truth, scores, tune_thresholds(truth, scores), labels)
    plain = multilabel_f1(truth, scores, DEFAULT_THRESHOLD, labels)
    flat = {key: tuned[key] for key in ("macro_f1", "micro_f1", "weighted_f1", "accuracy")}
    flat["macro_f1_at_0.5"] = plain["macro_f1"]
    flat["micro_f1_at_0.5"] = plain["micro_f1"]
    for label, row in tuned["per_class"].items():
        flat[f"f1_{label}"] = row["f1"]
    return flat


FIGURE_KEYS = ("macro_f1", "micro_f1", "weighted_f1", "accuracy")


def source_figures(
    truth: np.ndarray, scores: np.ndarray, thresholds: np.ndarray, labels: list[str]
) -> dict[str, Any]:
    """One source's figures at `thresholds` and at 0.5. Its macro-F1 averages the labels the
    source carries: a label it never has (dair-ai has no neutral) has no F1 there, and
    counting it as 0 would understate every source but the richest."""
    tuned = multilabel_f1(truth, scores, thresholds, labels)
    plain = multilabel_f1(truth, scores, DEFAULT_THRESHOLD, labels)
    present = [label for label in labels if tuned["per_class"][label]["support"] > 0]
    for figures in (tuned, plain):
        f1 = [figures["per_class"][label]["f1"] for label in present]
        figures["macro_f1"] = float(np.mean(f1)) if f1 else 0.0
    tuned.pop("per_class")
    return {**tuned, "labels": present, "at_0.5": {key: plain[key] for key in FIGURE_KEYS}}


def multilabel_validation(
    truth: np.ndarray, scores: np.ndarray, labels: list[str], sources: dict[str, np.ndarray]
) -> tuple[dict[str, Any], dict[str, float]]:
    """The saved model's validation figures and its tuned thresholds ({label: t}).

    Figures at the tuned thresholds at the top level, at 0.5 under `at_0.5`, and per source
    (rows where that source's mask is True; source_figures) when there are several.
    """
    thresholds = tune_thresholds(truth, scores)
    tuned = multilabel_f1(truth, scores, thresholds, labels)
    plain = multilabel_f1(truth, scores, DEFAULT_THRESHOLD, labels)
    metrics = {**tuned, "at_0.5": {key: plain[key] for key in FIGURE_KEYS}}
    if len(sources) > 1:
        metrics["sources"] = {
            name: source_figures(truth[mask], scores[mask], thresholds, labels)
            for name, mask in sources.items()
        }
    by_label = {label: round(float(t), 4) for label, t in zip(labels, thresholds, strict=True)}
    return metrics, by_label
