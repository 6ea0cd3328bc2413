"""Evaluation figures: single-label (accuracy, F1, ROC-AUC, log loss, calibration) and
multi-label (micro/macro/weighted/samples P/R/F1, subset accuracy, Hamming loss, AUC, AP).

One function per kind computes everything from the truth and the model's scores, so the
trainer's validation, the model card, `evaluate` and `compare` report the same numbers
computed the same way. The pictures of these figures are in evaluation/plots.py.
"""

from __future__ import annotations

from collections.abc import Sequence
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


# ----------------------------------------------------------------------------- multi-label
def multilabel_metrics(
    y_true: np.ndarray,
    scores: np.ndarray,
    thresholds: np.ndarray | Sequence[float],
    labels: Sequence[str],
    *,
    predicted: np.ndarray | None = None,
) -> dict[str, Any]:
    """All figures for multi-label predictions: y_true is bool (n, k), scores (n, k).

    A label is predicted where its score reaches its threshold, unless `predicted` (bool
    (n, k)) gives the decisions (evaluate passes annotate's rule: the top label when no
    label reaches its threshold). Undefined ratios count 0, as scikit-learn's
    zero_division=0; ROC-AUC and average precision cover the labels with both outcomes.
    A threshold given as NaN (a label map's group of members with different thresholds)
    is reported as None.
    """
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    k = len(labels)
    t = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    if y.ndim != 2 or y.shape[1] != k or s.shape != y.shape or t.shape != (k,):
        raise ValueError(
            f"y_true and scores must be (n, {k}) and thresholds ({k},), got "
            f"{y.shape}, {s.shape}, {t.shape}"
        )
    if len(y) == 0:
        raise ValueError("no rows to evaluate")
    p = s >= t if predicted is None else np.asarray(predicted, dtype=bool)
    if p.shape != y.shape:
        raise ValueError(f"predicted must be {y.shape}, got {p.shape}")
    tp = (y & p).sum(axis=0).astype(np.float64)
    fp = (~y & p).sum(axis=0).astype(np.float64)
    fn = (y & ~p).sum(axis=0).astype(np.float64)
    support = y.sum(axis=0)
    precision, recall, f1 = _prf(tp, fp, fn)
    out: dict[str, Any] = {
        "rows": len(y),
        "multi_label": True,
        "subset_accuracy": float((y == p).all(axis=1).mean()),
        "hamming_loss": float((y != p).mean()),
        "mean_true_labels": float(y.sum(axis=1).mean()),
        "mean_predicted_labels": float(p.sum(axis=1).mean()),
    }
    out.update(_averages(y, p, tp, fp, fn, support))
    out["per_label"] = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
            "predicted": int(p[:, i].sum()),
            "threshold": None if np.isnan(t[i]) else round(float(t[i]), 6),  # float32 noise
        }
        for i, label in enumerate(labels)
    }
    out.update(_ranking_figures(y, s))
    return out


def _averages(
    y: np.ndarray, p: np.ndarray, tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, support: Any
) -> dict[str, float]:
    """Micro, macro, weighted (by support) and samples (per row) precision, recall, F1."""
    precision, recall, f1 = _prf(tp, fp, fn)
    weights = support / support.sum() if support.sum() else np.zeros(len(tp))
    row_tp = (y & p).sum(axis=1).astype(np.float64)
    samples = _prf(row_tp, p.sum(axis=1) - row_tp, y.sum(axis=1) - row_tp)
    out: dict[str, float] = {}
    for name, (pp, rr, ff) in (
        ("micro", _prf(tp.sum(), fp.sum(), fn.sum())),
        ("macro", (precision.mean(), recall.mean(), f1.mean())),
        ("weighted", ((precision * weights).sum(), (recall * weights).sum(), (f1 * weights).sum())),
        ("samples", (samples[0].mean(), samples[1].mean(), samples[2].mean())),
    ):
        out[f"{name}_precision"] = float(pp)
        out[f"{name}_recall"] = float(rr)
        out[f"{name}_f1"] = float(ff)
    return out


def _prf(
    tp: np.ndarray | float, fp: np.ndarray | float, fn: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 from counts; 0 where a ratio has no denominator."""
    tp, fp, fn = (np.asarray(x, dtype=np.float64) for x in (tp, fp, fn))
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    return precision, recall, f1


def _ranking_figures(y: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """ROC-AUC and average precision, macro over labels with both outcomes, and micro."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    positives = y.sum(axis=0)
    usable = [i for i in range(y.shape[1]) if 0 < positives[i] < len(y)]
    out: dict[str, Any] = {"ranking_labels": len(usable)}
    if usable:
        out["roc_auc_macro"] = float(
            np.mean([roc_auc_score(y[:, i], scores[:, i]) for i in usable])
        )
        out["average_precision_macro"] = float(
            np.mean([average_precision_score(y[:, i], scores[:, i]) for i in usable])
        )
    else:
        out["roc_auc_macro"] = out["average_precision_macro"] = None
    flat_y, flat_s = y.ravel(), scores.ravel()
    if 0 < flat_y.sum() < flat_y.size:
        out["roc_auc_micro"] = float(roc_auc_score(flat_y, flat_s))
        out["average_precision_micro"] = float(average_precision_score(flat_y, flat_s))
    else:
        out["roc_auc_micro"] = out["average_precision_micro"] = None
    return out
