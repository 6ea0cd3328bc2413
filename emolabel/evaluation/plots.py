"""The pictures: evaluation plots (confusion, reliability, per-label F1, label confusion)
and comparison plots (trade-offs, per-emotion heatmap, label distribution).

Drawn with matplotlib on the Agg backend (no display needed); every function writes one
PNG and returns its path.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emolabel.metrics import ECE_BINS

if TYPE_CHECKING:
    from emolabel.evaluation.comparison import Comparison


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path, dpi: int = 120) -> Path:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


# ----------------------------------------------------------------------------- evaluate
def save_confusion_matrix_plot(metrics: dict[str, Any], labels: Sequence[str], path: Path) -> Path:
    """Confusion-matrix PNG (counts, rows = true label), drawn by sklearn."""
    plt = _pyplot()
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
        return _save(fig, path)
    finally:
        plt.close(fig)


def save_reliability_plot(
    y: np.ndarray, proba: np.ndarray, metrics: dict[str, Any], path: Path, *, bins: int = ECE_BINS
) -> Path:
    """Top-label reliability diagram: is a 0.9-confident prediction right 90% of the time?"""
    plt = _pyplot()
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
        return _save(fig, path)
    finally:
        plt.close(fig)


def save_per_label_f1_plot(metrics: dict[str, Any], path: Path) -> Path:
    """Multi-label: F1 per label as bars, with each label's support and threshold."""
    plt = _pyplot()
    rows = metrics["per_label"]
    labels = list(rows)
    f1 = [rows[label]["f1"] for label in labels]
    fig, ax = plt.subplots(figsize=(max(5.0, 0.35 * len(labels) + 2.5), 4.5))
    try:
        ax.bar(range(len(labels)), f1, color="tab:blue")
        ax.axhline(metrics["macro_f1"], color="tab:red", lw=1, ls="--", label="macro F1")
        ax.axhline(metrics["micro_f1"], color="tab:green", lw=1, ls=":", label="micro F1")
        names = [f"{label} ({rows[label]['support']:,})" for label in labels]
        ax.set_xticks(range(len(labels)), names, rotation=60, ha="right", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_ylabel("F1 at the label's threshold")
        ax.set_title(f"F1 per label (support in brackets; {metrics['rows']:,} rows)")
        ax.legend(loc="best")
        return _save(fig, path)
    finally:
        plt.close(fig)


def save_label_confusion_plot(
    y_true: np.ndarray, predicted: np.ndarray, labels: Sequence[str], path: Path
) -> Path:
    """Multi-label: rows carrying true label i (row) that were given label j (column),
    as a share of label i's rows; the diagonal is each label's recall, the rest shows
    which labels are predicted in its place or beside it."""
    plt = _pyplot()
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(predicted, dtype=np.float64)
    counts = y.T @ p
    support = y.sum(axis=0)
    share = np.divide(
        counts, support[:, None], out=np.zeros_like(counts), where=support[:, None] > 0
    )
    size = max(4.5, 0.35 * len(labels) + 3)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    try:
        image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(len(labels)), list(labels), rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)), list(labels), fontsize=8)
        ax.set_xlabel("predicted label")
        ax.set_ylabel("true label")
        if len(labels) <= 12:
            for (i, j), value in np.ndenumerate(share):
                color = "white" if value > 0.6 else "black"
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color=color)
        fig.colorbar(image, ax=ax, label="share of the true label's rows")
        ax.set_title("Labels predicted for each true label")
        return _save(fig, path)
    finally:
        plt.close(fig)


# ----------------------------------------------------------------------------- compare
def save_tradeoff_plot(comparison: Comparison, axis: str, path: Path) -> Path:
    """Accuracy and macro-F1 against parameters (axis="params") or short texts/s ("speed")."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    try:
        models = comparison.models
        if axis == "params":
            xs = [m.params / 1e6 for m in models]
            ax.set_xlabel("parameters (millions)")
        else:
            xs = [m.texts_per_second["short"] for m in models]
            ax.set_xlabel("texts/s (short texts; long-text figures in comparison.md)")
        accuracy = comparison.accuracy_name
        for key, marker, label in (("accuracy", "o", accuracy), ("macro_f1", "s", "macro-F1")):
            ys = [m.summary()[key] for m in models]
            ax.scatter(xs, ys, marker=marker, label=label, s=45)
        for i, (m, x) in enumerate(zip(models, xs, strict=True)):
            ax.annotate(  # alternate above/below so models of one size stay readable
                m.name,
                (x, m.summary()["accuracy"]),
                textcoords="offset points",
                xytext=(5, 5 if i % 2 == 0 else -11),
                fontsize=8,
            )
        ax.margins(x=0.15, y=0.1)
        ax.set_ylabel("score")
        ax.set_title(
            f"{accuracy.capitalize()} and macro-F1 vs "
            f"{'size' if axis == 'params' else 'speed'} ({comparison.split})"
        )
        ax.grid(alpha=0.3)
        ax.legend(loc="best")
        return _save(fig, path, dpi=110)
    finally:
        plt.close(fig)


def save_per_class_heatmap(comparison: Comparison, path: Path) -> Path:
    """Models x emotions F1 heatmap: which emotions suffer first as models shrink."""
    plt = _pyplot()
    labels = comparison.labels
    matrix = np.array(
        [[m.summary()["per_class_f1"][label] for label in labels] for m in comparison.models]
    )
    fig, ax = plt.subplots(
        figsize=(max(5.0, 1.0 * len(labels) + 3), max(2.5, 0.5 * len(comparison.models) + 1.5))
    )
    try:
        # colours span the data (from the nearest 0.05 below), so close models still differ
        low = max(0.0, float(np.floor(matrix.min() * 20) / 20) - 0.05) if matrix.size else 0.0
        image = ax.imshow(matrix, cmap="viridis", vmin=low, vmax=1.0, aspect="auto")
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_yticks(range(len(comparison.models)), [m.name for m in comparison.models])
        if matrix.size <= 400:
            for (i, j), value in np.ndenumerate(matrix):
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="black" if value > low + 0.6 * (1 - low) else "white",
                )
        fig.colorbar(image, ax=ax, label="F1")
        ax.set_title(f"F1 per emotion ({comparison.split})")
        return _save(fig, path, dpi=110)
    finally:
        plt.close(fig)


def save_label_distribution_plot(comparison: Comparison, path: Path) -> Path:
    """Rows per label in train and in the evaluated split (imbalance explains weak classes)."""
    plt = _pyplot()
    labels = comparison.labels
    splits = list(comparison.label_distribution)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(labels) + 2), 4))
    try:
        width = 0.8 / len(splits)
        x = np.arange(len(labels))
        for k, name in enumerate(splits):
            counts = comparison.label_distribution[name]
            total = max(sum(counts.values()), 1)
            shares = [counts.get(label, 0) / total for label in labels]
            ax.bar(x + k * width - 0.4 + width / 2, shares, width, label=f"{name} ({total:,})")
        ax.set_xticks(x, labels, rotation=30, ha="right")
        ax.set_ylabel("share of labels given" if comparison.multi_label else "share of rows")
        ax.set_title("Label distribution")
        ax.legend()
        return _save(fig, path, dpi=110)
    finally:
        plt.close(fig)
