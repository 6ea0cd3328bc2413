"""The result of `compare`: each model's figures, the comparison record, the recommendations.

Single-label and multi-label comparisons share one shape: `ModelFigures.summary()` gives the
headline figures of either kind (for multi-label, `accuracy` is the subset accuracy and
F1 is at the model's thresholds), so tables, plots and reports need no second path.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from emolabel import __version__
from emolabel.evaluation.sizes import format_params

WITHIN_POINTS = 1.0  # "smallest/fastest within 1 point of the best"


@dataclass
class ModelFigures:
    """One compared model: where it came from, how good, how big, how fast."""

    name: str
    path: str
    origin: str
    base_model: str | None
    params: int
    size_bytes: int
    train_seconds: float | None
    texts_per_second: dict[str, float]
    metrics: dict[str, Any] = field(repr=False)
    model_multi_label: bool = False

    @property
    def multi_label(self) -> bool:
        """Scored with the multi-label figures (the data or some compared model is)."""
        return bool(self.metrics.get("multi_label"))

    def summary(self) -> dict[str, Any]:
        """The headline figures (what the table and the plots show)."""
        m = self.metrics
        per = m["per_label"] if self.multi_label else m["per_class"]
        return {
            "accuracy": m["subset_accuracy"] if self.multi_label else m["accuracy"],
            "macro_precision": m["macro_precision"],
            "macro_recall": m["macro_recall"],
            "macro_f1": m["macro_f1"],
            "per_class_f1": {label: row["f1"] for label, row in per.items()},
        }


@dataclass
class Comparison:
    """Every model's figures on one split, the data's label distribution, the recommendations."""

    data: str
    split: str
    rows: int
    labels: list[str]
    label_distribution: dict[str, dict[str, int]]
    models: list[ModelFigures]
    recommendations: list[str]
    metric: str
    training: dict[str, Any]
    measurement: dict[str, Any]
    output_dir: Path
    files: list[Path] = field(default_factory=list)
    multi_label: bool = False

    @property
    def accuracy_name(self) -> str:
        """What the `accuracy` column holds: subset accuracy when multi-label."""
        return "subset accuracy" if self.multi_label else "accuracy"

    def to_dict(self) -> dict[str, Any]:
        """comparison.json: plain JSON types only."""
        return {
            "emolabel_version": __version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "data": self.data,
            "split": self.split,
            "rows": self.rows,
            "multi_label": self.multi_label,
            "labels": self.labels,
            "label_distribution": self.label_distribution,
            "metric": self.metric,
            "training": self.training,
            "measurement": self.measurement,
            "models": [
                {
                    "name": m.name,
                    "path": m.path,
                    "origin": m.origin,
                    "base_model": m.base_model,
                    "multi_label_model": m.model_multi_label,
                    "params": m.params,
                    "size_bytes": m.size_bytes,
                    "train_seconds": m.train_seconds,
                    "texts_per_second": m.texts_per_second,
                    **m.summary(),
                    "confusion_matrix": m.metrics.get("confusion_matrix"),
                    "metrics": {
                        k: v
                        for k, v in m.metrics.items()
                        if k not in ("confusion_matrix", "calibration_bins")
                    },
                }
                for m in self.models
            ],
            "recommendations": self.recommendations,
        }


def ranking_key(metric: str, multi_label: bool) -> str:
    """The summary figure models are ranked by: macro-F1 for multi-label unless weighted-F1
    is asked (subset accuracy punishes every missed second emotion)."""
    if multi_label:
        return "weighted_f1" if metric == "weighted_f1" else "macro_f1"
    return metric if metric in ("accuracy", "macro_f1", "weighted_f1") else "accuracy"


def recommend(
    models: list[ModelFigures],
    metric: str,
    max_params: Sequence[int] = (),
    min_speed: Sequence[float] = (),
) -> list[str]:
    """One line per budget: the best model by `metric` under N params / at M+ texts/s.

    Without budgets, the medians of the compared models serve as one of each. Also names
    the smallest and the fastest model within WITHIN_POINTS of the best accuracy (of the
    best macro-F1 for a multi-label comparison).
    """
    if not models:
        return []
    multi = models[0].multi_label
    key = ranking_key(metric, multi)
    close_key = "macro_f1" if multi else "accuracy"

    def score(m: ModelFigures) -> float:
        return float(m.metrics[key])

    def line(m: ModelFigures) -> str:
        return (
            f"{m.name} ({key} {score(m):.4f}, {format_params(m.params)} params, "
            f"{m.texts_per_second['short']:,.0f} short / {m.texts_per_second['long']:,.1f} "
            "long texts/s)"
        )

    best = max(models, key=score)
    lines = [f"best overall by {key}: {line(best)}"]
    params_budgets = list(max_params) or [int(statistics.median(m.params for m in models))]
    speed_budgets = list(min_speed) or [
        float(statistics.median(m.texts_per_second["short"] for m in models))
    ]
    for budget in params_budgets:
        fits = [m for m in models if m.params <= budget]
        choice = line(max(fits, key=score)) if fits else "none of the models"
        lines.append(f"at most {format_params(budget)} parameters: {choice}")
    for speed in speed_budgets:
        fits = [m for m in models if m.texts_per_second["short"] >= speed]
        choice = line(max(fits, key=score)) if fits else "none of the models"
        lines.append(f"at least {speed:,.0f} short texts/s: {choice}")
    top = best.metrics[close_key]
    close = [m for m in models if top - m.metrics[close_key] <= WITHIN_POINTS / 100]
    smallest = min(close, key=lambda m: (m.params, -score(m)))
    fastest = max(close, key=lambda m: (m.texts_per_second["long"], score(m)))
    what = "macro-F1" if multi else "accuracy"
    lines.append(f"smallest within {WITHIN_POINTS:g} point of the best {what}: {line(smallest)}")
    lines.append(f"fastest within {WITHIN_POINTS:g} point of the best {what}: {line(fastest)}")
    return lines
