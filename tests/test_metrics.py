"""Evaluation figures checked against hand-computed values and scikit-learn."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score, log_loss, roc_auc_score

from emolabel.evaluation.plots import save_confusion_matrix_plot, save_reliability_plot
from emolabel.metrics import (
    classification_metrics,
    epoch_metrics,
    expected_calibration_error,
    roc_auc_ovr,
)

LABELS = ["anger", "joy", "sadness"]
Y = np.array([0, 0, 1, 1, 2, 2, 1, 0])
PROBA = np.array(
    [
        [0.7, 0.2, 0.1],  # right
        [0.3, 0.6, 0.1],  # wrong -> joy
        [0.1, 0.8, 0.1],  # right
        [0.2, 0.5, 0.3],  # right
        [0.1, 0.1, 0.8],  # right
        [0.5, 0.1, 0.4],  # wrong -> anger
        [0.05, 0.9, 0.05],  # right
        [0.9, 0.05, 0.05],  # right
    ]
)


def test_headline_figures_match_sklearn() -> None:
    m = classification_metrics(Y, PROBA, LABELS)
    pred = PROBA.argmax(axis=1)
    assert m["rows"] == 8
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["macro_f1"] == pytest.approx(f1_score(Y, pred, average="macro"))
    assert m["weighted_f1"] == pytest.approx(f1_score(Y, pred, average="weighted"))
    assert m["log_loss"] == pytest.approx(log_loss(Y, PROBA))
    assert m["roc_auc_macro"] == pytest.approx(roc_auc_score(Y, PROBA, multi_class="ovr"))
    assert m["roc_auc_weighted"] == pytest.approx(
        roc_auc_score(Y, PROBA, multi_class="ovr", average="weighted")
    )
    assert m["confusion_matrix"] == [[2, 1, 0], [0, 3, 0], [1, 0, 1]]
    assert m["per_class"]["sadness"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "support": 2,
    }


def test_ece_by_hand() -> None:
    # Two rows in bin (0.6, 0.667]: confidences 0.6 and 0.6... use simple distinct bins.
    y = np.array([0, 1, 0, 1])
    proba = np.array([[1.0, 0.0], [0.55, 0.45], [0.95, 0.05], [0.05, 0.95]])
    # confidences 1.0 (right), 0.55 (wrong), 0.95 (right), 0.95 (right)
    out = expected_calibration_error(y, proba, bins=15)
    expected = (abs(1 - 1.0) * 1 + abs(0 - 0.55) * 1 + abs(1 - 0.95) * 2) / 4
    assert out["ece"] == pytest.approx(expected)
    assert sum(b["count"] for b in out["bins"]) == 4
    top = out["bins"][-1]
    assert top["upper"] == 1.0 and top["count"] == 3  # 0.95, 0.95 and exactly 1.0 share it


def test_perfect_predictions() -> None:
    y = np.array([0, 1, 2, 1])
    proba = np.eye(3)[y]
    m = classification_metrics(y, proba, LABELS)
    assert m["accuracy"] == 1.0 and m["macro_f1"] == 1.0 and m["ece"] == 0.0
    assert m["roc_auc_macro"] == 1.0
    assert math.isfinite(m["log_loss"]) and m["log_loss"] < 1e-6  # zeros clipped, not inf


def test_absent_class_has_no_auc_but_keeps_its_row() -> None:
    y = np.array([0, 1, 0, 1])
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1]])
    m = classification_metrics(y, proba, LABELS)
    assert m["per_class"]["sadness"]["support"] == 0
    assert m["roc_auc_macro"] == 1.0
    assert roc_auc_ovr(np.array([1, 1]), np.array([[0.4, 0.6], [0.3, 0.7]])) == {
        "roc_auc_macro": None,
        "roc_auc_weighted": None,
    }


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="proba must be"):
        classification_metrics(Y, PROBA[:, :2], LABELS)
    with pytest.raises(ValueError, match="no rows"):
        classification_metrics(np.array([], dtype=int), np.zeros((0, 3)), LABELS)


def test_epoch_metrics_from_logits_are_flat_floats() -> None:
    logits = np.log(PROBA)
    flat = epoch_metrics(Y, logits, LABELS)
    assert flat["accuracy"] == pytest.approx(0.75)
    assert flat["f1_sadness"] == pytest.approx(2 / 3)
    assert flat["log_loss"] == pytest.approx(log_loss(Y, PROBA), rel=1e-6)
    assert all(isinstance(v, float) for v in flat.values())


def test_plots_are_pngs(tmp_path: Path) -> None:
    m = classification_metrics(Y, PROBA, LABELS)
    a = save_confusion_matrix_plot(m, LABELS, tmp_path / "plots" / "cm.png")
    b = save_reliability_plot(Y, PROBA, m, tmp_path / "plots" / "rel.png")
    for path in (a, b):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    perfect = np.eye(3)[Y]  # every prediction right: one outcome only, still drawable
    c = save_reliability_plot(
        Y, perfect, classification_metrics(Y, perfect, LABELS), tmp_path / "perfect.png"
    )
    assert c.stat().st_size > 1000
