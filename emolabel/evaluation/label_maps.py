"""Scoring a model in a coarser label set: its labels grouped by a label map (member ->
group, e.g. GoEmotions' 28 labels -> Ekman's 6 + neutral).

A group's score is the max of its members' scores for a multi-label (sigmoid) model and
their sum for a single-label (softmax) one, where it is the group's probability; a group
is predicted when any member is. Labels the map does not name keep their own name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from emolabel.errors import EmolabelError
from emolabel.training.labels import read_label_map

GoldLabels: TypeAlias = "list[str] | list[list[str]]"  # one label per row, or a list per row


@dataclass(frozen=True)
class LabelGroups:
    """The model's labels grouped: `member[i, g]` is True when model label i is in group g."""

    source: str
    names: list[str]
    mapping: dict[str, str]
    member: np.ndarray  # bool (k_model, k_groups)

    def roll_up_scores(self, scores: np.ndarray, *, sigmoid: bool) -> np.ndarray:
        """(n, k_model) -> (n, k_groups): max of members (sigmoid) or sum (softmax)."""
        out = np.empty((len(scores), len(self.names)), dtype=np.float32)
        for g in range(len(self.names)):
            members = scores[:, self.member[:, g]]
            out[:, g] = members.max(axis=1) if sigmoid else members.sum(axis=1)
        return out

    def roll_up_decisions(self, decided: np.ndarray) -> np.ndarray:
        """A group is predicted where any of its members is."""
        return (decided.astype(np.int32) @ self.member.astype(np.int32)) > 0

    def roll_up_thresholds(self, thresholds: np.ndarray) -> np.ndarray:
        """The members' threshold when they share one, else NaN (reported as none)."""
        out = np.full(len(self.names), np.nan)
        for g in range(len(self.names)):
            values = np.unique(thresholds[self.member[:, g]])
            if len(values) == 1:
                out[g] = values[0]
        return out

    def map_gold(self, gold: GoldLabels) -> GoldLabels:
        """The data's labels in group names (already grouped labels stay as they are)."""
        get = self.mapping.get
        if any(isinstance(row, list) for row in gold):
            return [list(dict.fromkeys(get(x, x) for x in row)) for row in gold]
        return [get(x, x) for x in gold]  # type: ignore[arg-type]


def group_labels(
    model_labels: list[str], label_map: str | os.PathLike[str] | Mapping[str, str]
) -> LabelGroups:
    """Group `model_labels` by a label map: a file or built-in name (read by the training
    data's read_label_map, as `train --label-map` reads it) or a member -> group dict."""
    if isinstance(label_map, Mapping):
        mapping, source = dict(label_map), "given mapping"
    else:
        source = os.fspath(label_map)
        mapping = read_label_map(source)
    if not any(label in mapping for label in model_labels):
        raise EmolabelError(
            f"--label-map {source} names none of the model's labels "
            f"({', '.join(model_labels)}): pass a map whose members are the model's labels"
        )
    present = set(mapping.get(label, label) for label in model_labels)
    # groups in the map's order (its file's), then the model's labels the map does not name
    names = [group for group in dict.fromkeys(mapping.values()) if group in present]
    names += [label for label in model_labels if label not in mapping and label not in names]
    member = np.zeros((len(model_labels), len(names)), dtype=bool)
    for i, label in enumerate(model_labels):
        member[i, names.index(mapping.get(label, label))] = True
    return LabelGroups(source=source, names=names, mapping=mapping, member=member)
