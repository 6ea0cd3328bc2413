"""Per-label threshold tuning and the multi-label F1 figures, on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from emolabel.training.thresholds import (
    multi_hot,
    multilabel_f1,
    multilabel_validation,
    sigmoid,
    tune_thresholds,
)


def test_each_label_gets_the_threshold_that_separates_it() -> None:
    # label 0: positives score 0.30-0.35, negatives at most 0.2 -> only thresholds in
    # (0.20, 0.30] give F1 1.0; the lowest grid value there is 0.21.
    # label 1: positives 0.9, negatives 0.6-0.7 -> (0.70, 0.90] is perfect; lowest 0.71.
    # label 2: no positive row -> keeps 0.5.
    scores = np.array(
        [
            [0.30, 0.90, 0.1],
            [0.35, 0.60, 0.2],
            [0.20, 0.70, 0.3],
            [0.05, 0.90, 0.9],
            [0.10, 0.65, 0.4],
        ],
        dtype=np.float32,
    )
    truth = np.array(
        [[1, 1, 0], [1, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 0]],
        dtype=bool,
    )
    thresholds = tune_thresholds(truth, scores)
    assert thresholds.dtype == np.float32
    np.testing.assert_allclose(thresholds, [0.21, 0.71, 0.5], atol=1e-6)
    figures = multilabel_f1(truth, scores, thresholds, ["a", "b", "c"])
    assert figures["per_class"]["a"]["f1"] == 1.0 and figures["per_class"]["b"]["f1"] == 1.0
    # at 0.5 label a is never predicted and label b has three false positives
    plain = multilabel_f1(truth, scores, 0.5, ["a", "b", "c"])
    assert plain["per_class"]["a"]["f1"] == 0.0
    assert plain["per_class"]["b"]["f1"] == pytest.approx(2 * 2 / (5 + 2))


def test_tuned_threshold_is_the_grid_best_on_random_data() -> None:
    rng = np.random.default_rng(0)
    truth = rng.random((300, 4)) < 0.2
    scores = np.clip(truth * 0.3 + rng.random((300, 4)) * 0.7, 0, 1).astype(np.float32)
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    thresholds = tune_thresholds(truth, scores, grid)
    for k in range(4):
        by_hand = [f1_score(truth[:, k], scores[:, k] >= t, zero_division=0) for t in grid]
        assert thresholds[k] == pytest.approx(grid[int(np.argmax(by_hand))], abs=1e-6)


def test_f1_figures_match_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    truth = rng.random((200, 5)) < 0.3
    scores = rng.random((200, 5)).astype(np.float32)
    thresholds = np.array([0.3, 0.5, 0.7, 0.2, 0.9], dtype=np.float32)
    predicted = scores >= thresholds
    figures = multilabel_f1(truth, scores, thresholds, list("abcde"))
    assert figures["macro_f1"] == pytest.approx(f1_score(truth, predicted, average="macro"))
    assert figures["micro_f1"] == pytest.approx(f1_score(truth, predicted, average="micro"))
    assert figures["weighted_f1"] == pytest.approx(f1_score(truth, predicted, average="weighted"))
    assert figures["accuracy"] == pytest.approx(float((predicted == truth).all(axis=1).mean()))
    assert figures["per_class"]["c"]["threshold"] == pytest.approx(0.7)
    assert figures["per_class"]["c"]["support"] == int(truth[:, 2].sum())


def test_validation_figures_per_source() -> None:
    truth = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=bool)
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.6], [0.1, 0.2]], dtype=np.float32)
    first = np.array([True, True, False, False])
    metrics, thresholds = multilabel_validation(
        truth, scores, ["x", "y"], {"one.jsonl": first, "two.jsonl": ~first}
    )
    assert set(thresholds) == {"x", "y"}
    assert metrics["macro_f1"] == 1.0 and "at_0.5" in metrics
    assert metrics["sources"]["one.jsonl"]["rows"] == 2
    assert metrics["sources"]["two.jsonl"]["rows"] == 2
    single, _ = multilabel_validation(truth, scores, ["x", "y"], {"only": np.ones(4, bool)})
    assert "sources" not in single


def test_multi_hot_and_sigmoid() -> None:
    np.testing.assert_array_equal(
        multi_hot([[0, 2], [1], []], 3), [[True, False, True], [False, True, False], [False] * 3]
    )
    x = np.array([-1000.0, 0.0, 2.0, 1000.0])
    np.testing.assert_allclose(sigmoid(x), [0.0, 0.5, 1 / (1 + np.exp(-2.0)), 1.0], atol=1e-7)


def test_epoch_figures_select_by_macro_f1_at_tuned_thresholds() -> None:
    from emolabel.training.thresholds import multilabel_epoch_metrics

    # label a's positives score sigmoid(-1) ~ 0.27: perfect once tuned, never predicted at 0.5
    logits = np.array([[-1.0, 3.0], [-1.0, -3.0], [-3.0, 3.0], [-3.0, -3.0]], dtype=np.float32)
    label_ids = np.array([[1, 1], [1, 0], [0, 1], [0, 0]], dtype=np.float32)
    flat = multilabel_epoch_metrics(label_ids, logits, ["a", "b"])
    assert flat["macro_f1"] == 1.0 and flat["micro_f1"] == 1.0 and flat["accuracy"] == 1.0
    assert flat["macro_f1_at_0.5"] == pytest.approx(0.5)  # a: F1 0, b: F1 1
    assert flat["f1_a"] == 1.0
