"""Which labels a text gets: the activation (sigmoid for multi-label models, softmax for
single-label ones, chosen as transformers' TextClassificationPipeline does) and the
per-label thresholds that turn scores into each text's list of emotions and its top label.

A multi-label model's top label is the highest-scoring of its `emotions` (the labels at or
above their thresholds), so the two columns never disagree; the highest score overall was
a label below its threshold on 1-2% of validation texts (e.g. joy 0.45 under its 0.47
while neutral's 0.30 passed its 0.22). Ranking by distance above the threshold instead was
measured and not taken (benchmarks/README.md): F1-tuned thresholds are lowest for the
hardest labels, so it favoured them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from emolabel.errors import EmolabelError
from emolabel.inference.model_folders import MODEL_INFO_FILE


def emotion_indices(
    scores: np.ndarray, thresholds: np.ndarray, *, multi_label: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The emotions of each row as (offsets int32 (n+1,), label ids int32): row i's labels
    are `ids[offsets[i]:offsets[i+1]]`, those whose score reaches their threshold, highest
    score first, so `ids[offsets[i]]` is row i's top label; the top label alone when none
    does, and always for a single-label model.

    The layout of an Arrow list array, so annotate builds its `emotions` column from it with
    no per-row Python.
    """
    n = scores.shape[0]
    if not multi_label or n == 0:
        top = scores.argmax(axis=1) if n else np.empty(0, dtype=np.int32)
        return np.arange(n + 1, dtype=np.int32), top.astype(np.int32)
    passed = scores >= thresholds
    empty = np.flatnonzero(~passed.any(axis=1))
    passed[empty, scores[empty].argmax(axis=1)] = True  # none reached: the top label
    rows, cols = np.nonzero(passed)  # row-major: each row's labels together
    # Sort only the labels that passed (1-3 a row) by row, then score descending; stable, so
    # ties keep label order. Scores in [0, 1] sort on one float64 key, row * 2 + (1 - score):
    # 40x faster than lexsort on two keys.
    passed_scores = scores[rows, cols].astype(np.float64)
    if passed_scores.size and passed_scores.min() >= 0.0 and passed_scores.max() <= 1.0:
        order = np.argsort(rows * 2.0 + (1.0 - passed_scores), kind="stable")
    else:
        order = np.lexsort((-passed_scores, rows))
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n), out=offsets[1:])
    return offsets, cols[order].astype(np.int32)


def is_multi_label(config: Any, source: str) -> bool:
    """Sigmoid or softmax, chosen as transformers' TextClassificationPipeline does."""
    problem_type = getattr(config, "problem_type", None)
    if problem_type == "regression":
        raise EmolabelError(
            f"model {source} is a regression model (problem_type regression), not a classifier: "
            "pass a classification model"
        )
    return problem_type == "multi_label_classification" or len(config.id2label) == 1


def check_info_agrees(info: dict[str, Any], config: Any, source: str) -> None:
    """emolabel.json's `multi_label` must match the activation config.json implies."""
    stated = info.get("multi_label")
    if stated is None:
        return
    implied = is_multi_label(config, source)
    if bool(stated) != implied:
        raise EmolabelError(
            f"{Path(source) / MODEL_INFO_FILE} says multi_label {str(bool(stated)).lower()} but "
            f"config.json's problem_type ({getattr(config, 'problem_type', None)}) means "
            f"{'sigmoid' if implied else 'softmax'} scores: set config.json's problem_type to "
            f"{'multi_label_classification' if stated else 'single_label_classification'}"
        )
