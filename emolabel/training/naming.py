"""What to call the data and its labels: a source's dataset name (for model cards, never a
development path) and the model's label order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from emolabel.training.cleaning import CleanSplit
from emolabel.training.labels import DAIR_AI_EMOTION_LABELS, LabelMap, LabelReader
from emolabel.training.layouts import (
    GOEMOTIONS_LAYOUT,
    PARALLEL_LAYOUT,
    SEMICOLON_LAYOUT,
    Source,
)

TWEETEVAL_EMOTION_LABELS = ["anger", "joy", "optimism", "sadness"]
GOEMOTIONS_LABEL_COUNT = 28  # 27 emotions + neutral, in emotions.txt order


def dataset_name_of(source: Source) -> str:
    """The public dataset a source is a copy of, when its layout and labels say so, else the
    file or folder name: `dair-ai/emotion` for ../shared/data/emotion."""
    if source.is_hub:
        return source.given
    train = source.splits.get("train") or next(iter(source.splits.values()))
    names = train.label_names or []
    if train.layout == SEMICOLON_LAYOUT:
        seen = {str(label).strip() for label in train.labels if label is not None}
        if seen == set(DAIR_AI_EMOTION_LABELS):
            return "dair-ai/emotion"
    if train.layout == PARALLEL_LAYOUT and names == TWEETEVAL_EMOTION_LABELS:
        return "cardiffnlp/tweet_eval (emotion)"
    if (
        train.layout == GOEMOTIONS_LAYOUT
        and len(names) == GOEMOTIONS_LABEL_COUNT
        and names[0] == "admiration"
        and names[-1] == "neutral"
    ):
        return "google-research-datasets/go_emotions"
    path = Path(source.given.rstrip("/\\"))
    return path.name or source.given


def order_labels(
    sources: Sequence[tuple[Source, CleanSplit, list[LabelReader]]],
    label_map: LabelMap | None,
    warnings: list[str],
) -> list[str]:
    """The model's label order over the union's training rows.

    With a label map: its groups in the map's order, then labels it does not name. Without:
    each source's own order in turn (its names file or ClassLabel, dair-ai/emotion's, ids
    numerically, else names sorted), labels already placed skipped.
    """
    present: dict[str, None] = {}
    for _, train, _ in sources:
        for names in train.labels:
            present.update(dict.fromkeys(names))
    natural: dict[str, None] = {}
    for source, train, readers in sources:
        own = {n for names in train.labels for n in names}
        natural.update(dict.fromkeys(_source_order(source, own, readers, label_map, warnings)))
    if label_map is None:
        return list(natural)
    groups = [g for g in label_map.groups if g in present]
    return groups + [n for n in natural if n not in groups]


def _source_order(
    source: Source,
    present: set[str],
    readers: list[LabelReader],
    label_map: LabelMap | None,
    warnings: list[str],
) -> list[str]:
    names = source.splits["train"].label_names
    if readers and readers[0].names is not None:
        names = readers[0].names
    if names is not None and label_map is None:
        absent = [name for name in names if name not in present]
        if absent:
            warnings.append(
                f"label(s) {', '.join(absent)} from the mapping have no training rows; left out"
            )
        return [name for name in names if name in present]
    if names is not None:
        mapped = [label_map.get(n) or n for n in names] if label_map else names
        return [n for n in dict.fromkeys(mapped) if n in present]
    if present == set(DAIR_AI_EMOTION_LABELS):
        return list(DAIR_AI_EMOTION_LABELS)
    if readers and all(r.numeric for r in readers):
        return sorted(present, key=int)
    return sorted(present)
