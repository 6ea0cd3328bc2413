"""Describe model folders: the built-in ones `emolabel models` lists, and any given one.

Labels come from config.json, how the model was made and its validation figures from
emolabel.json (written by `emolabel train`, read by inference's model_folders).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emolabel.inference.model_folders import (
    BUILTIN_MODELS_DIR,
    DEFAULT_MODEL_NAME,
    read_model_info,
)


@dataclass
class ModelInfo:
    """What `emolabel models` shows for one model folder."""

    name: str
    path: Path
    labels: list[str]
    size_bytes: int
    base_model: str | None = None
    accuracy: float | None = None
    macro_f1: float | None = None
    data: str | None = None
    multi_label: bool = False
    default: bool = False
    summary: str | None = None  # one line: what the model is for (emolabel.json "summary")
    sources: dict[str, float] = field(default_factory=dict)  # validation macro-F1 per source


def describe_model(folder: str | os.PathLike[str]) -> ModelInfo:
    """Labels from config.json, figures from emolabel.json (when training wrote one)."""
    path = Path(folder)
    config = _read_json(path / "config.json")
    id2label = config.get("id2label") or {}
    labels = [str(id2label[k]) for k in sorted(id2label, key=lambda k: int(k))]
    info = read_model_info(path)
    validation = info.get("validation") or {}
    base = info.get("base_model") or {}
    multi = bool(info.get("multi_label")) or (
        config.get("problem_type") == "multi_label_classification"
    )
    return ModelInfo(
        name=path.name,
        path=path,
        labels=labels or list(info.get("labels") or []),
        size_bytes=folder_size(path),
        base_model=base.get("source") if isinstance(base, dict) else None,
        # a multi-label model's accuracy is its subset accuracy (the trainer may name it either)
        accuracy=validation.get("accuracy", validation.get("subset_accuracy")),
        macro_f1=validation.get("macro_f1"),
        data=(info.get("data") or {}).get("source"),
        multi_label=multi,
        summary=info.get("summary") if isinstance(info.get("summary"), str) else None,
        sources={
            str(name): float(figures["macro_f1"])
            for name, figures in (validation.get("sources") or {}).items()
            if isinstance(figures, dict) and isinstance(figures.get("macro_f1"), int | float)
        },
    )


def list_builtin_models(folder: str | os.PathLike[str] | None = None) -> list[ModelInfo]:
    """Every model folder (one with a config.json) under emolabel/models/: the default
    first, then by name."""
    root = Path(folder) if folder is not None else BUILTIN_MODELS_DIR
    if not root.is_dir():
        return []
    models = [
        describe_model(child)
        for child in sorted(root.iterdir())
        if child.is_dir() and (child / "config.json").exists()
    ]
    for info in models:
        info.default = info.name == DEFAULT_MODEL_NAME
    return sorted(models, key=lambda info: not info.default)


def folder_size(folder: str | os.PathLike[str]) -> int:
    """Bytes of every file in a model folder (weights dominate)."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
