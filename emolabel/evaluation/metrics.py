"""Evaluation figures (accuracy, F1, ROC-AUC, log loss, calibration) and their plots.

One function computes everything from true class ids and predicted probabilities, so the
trainer's per-epoch validation, the model card and `emolabel evaluate` report the same
numbers computed the same way.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ECE_BINS = 15


def classification_metrics(
    y_true: Sequence[int] | np.ndarray,
    proba: np.ndarray,
    labels: Sequence[str],
    *,
    bins: int = ECE_BINS,
) -> dict[str, Any]:
    """All figures for single-label predictions: y_true holds class ids into `labels`.

    ROC-AUC is one-vs-rest over the classes that have both positive and negative rows
    (a class absent from the data has no AUC); per-class figures cover every label.
    """
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        log_loss,
        precision_recall_fscore_support,
    )

    y = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    n_classes = len(labels)
    if proba.ndim != 2 or proba.shape != (len(y), n_classes):
        raise ValueError(f"proba must be ({len(y)}, {n_classes}), got {proba.shape}")
    if len(y) == 0:
        raise ValueError("no rows to evaluate")
    class_ids = list(range(n_classes))
    pred = proba.argmax(axis=1)
    out: dict[str, Any] = {"rows": len(y), "accuracy": float(accuracy_score(y, pred))}
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(
            y, pred, labels=class_ids, average=average, zero_division=0
        )
        out[f"{average}_precision"] = float(p)
        out[f"{average}_recall"] = float(r)
        out[f"{average}_f1"] = float(f)
    p, r, f, s = precision_recall_fscore_support(
        y, pred, labels=class_ids, average=None, zero_division=0
    )
    out["per_class"] = {
        label: {
            "precision": float(p[i]),
            "recall": float(r[i]),
            "f1": float(f[i]),
            "support": int(s[i]),
        }
        for i, label in enumerate(labels)
    }
    out["confusion_matrix"] = confusion_matrix(y, pred, labels=class_ids).tolist()
    out.update(roc_auc_ovr(y, proba))
    clipped = np.clip(proba, 1e-12, 1.0)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    out["log_loss"] = float(log_loss(y, clipped, labels=class_ids))
    calibration = expected_calibration_error(y, proba, bins=bins)
    out["ece"] = calibration["ece"]
    out["calibration_bins"] = calibration["bins"]
    return out


def roc_auc_ovr(y: np.ndarray, proba: np.ndarray) -> dict[str, float | None]:
    """One-vs-rest ROC-AUC, macro and support-weighted, over classes with both outcomes."""
    from sklearn.metrics import roc_auc_score

    aucs: list[float] = []
    supports: list[int] = []
    for k in range(proba.shape[1]):
        positives = int((y == k).sum())
        if positives == 0 or positives == len(y):
            continue
        aucs.append(float(roc_auc_score((y == k).astype(int), proba[:, k])))
        supports.append(positives)
    if not aucs:
        return {"roc_auc_macro": None, "roc_auc_weighted": None}
    return {
        "roc_auc_macro": float(np.mean(aucs)),
        "roc_auc_weighted": float(np.average(aucs, weights=supports)),
    }


def expected_calibration_error(
    y: np.ndarray, proba: np.ndarray, *, bins: int = ECE_BINS
) -> dict[str, Any]:
    """Top-label ECE over equal-width confidence bins: sum of |accuracy - confidence| * share."""
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Bin i holds (edges[i], edges[i+1]]; a confidence of exactly 0 joins the first bin.
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    ece = 0.0
    table: list[dict[str, float | int]] = []
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        if count == 0:
            continue
        acc = float(correct[mask].mean())
        conf = float(confidence[mask].mean())
        ece += abs(acc - conf) * count / len(y)
        table.append(
            {
                "lower": float(edges[b]),
                "upper": float(edges[b + 1]),
                "count": count,
                "accuracy": acc,
                "confidence": conf,
            }
        )
    return {"ece": float(ece), "bins": table}


def epoch_metrics(y: np.ndarray, logits: np.ndarray, labels: Sequence[str]) -> dict[str, float]:
    """Flat floats for the trainer's per-epoch validation log (per-class F1 as f1_<label>)."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    proba = np.exp(shifted)
    proba /= proba.sum(axis=1, keepdims=True)
    full = classification_metrics(y, proba, labels)
    flat = {
        key: full[key]
        for key in (
            "accuracy",
            "macro_f1",
            "weighted_f1",
            "macro_precision",
            "macro_recall",
            "log_loss",
            "ece",
        )
    }
    for label, row in full["per_class"].items():
        flat[f"f1_{label}"] = row["f1"]
    return flat


# ----------------------------------------------------------------------------- plots
def save_confusion_matrix_plot(metrics: dict[str, Any], labels: Sequence[str], path: Path) -> Path:
    """Confusion-matrix PNG (counts, rows = true label), drawn by sklearn on the Agg backend."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    matrix = np.asarray(metrics["confusion_matrix"])
    size = max(4.0, 0.6 * len(labels) + 2.5)
    fig, ax = plt.subplots(figsize=(size, size))
    try:
        display = ConfusionMatrixDisplay(matrix, display_labels=list(labels))
        display.plot(
            ax=ax,
            cmap="Blues",
            colorbar=False,
            values_format="d",
            xticks_rotation=45 if len(labels) > 4 else "horizontal",
            include_values=len(labels) <= 30,
        )
        ax.set_title(f"Confusion matrix (accuracy {metrics['accuracy']:.3f})")
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)
    return path


def save_reliability_plot(
    y: np.ndarray, proba: np.ndarray, metrics: dict[str, Any], path: Path, *, bins: int = ECE_BINS
) -> Path:
    """Top-label reliability diagram: is a 0.9-confident prediction right 90% of the time?"""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from sklearn.calibration import CalibrationDisplay

    y = np.asarray(y)
    proba = np.asarray(proba, dtype=np.float64)
    correct = (proba.argmax(axis=1) == y).astype(int)
    confidence = proba.max(axis=1)
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # all-correct data leaves one class; still drawable
            CalibrationDisplay.from_predictions(
                correct,
                confidence,
                n_bins=bins,
                strategy="uniform",
                ax=ax,
                name="top label",
                pos_label=1,
            )
        ax.set_xlabel("Mean confidence")
        ax.set_ylabel("Accuracy")
        ax.set_title(f"Reliability ({bins} bins, ECE {metrics['ece']:.3f})")
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)
    return path
