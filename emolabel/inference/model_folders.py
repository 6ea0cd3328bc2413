"""Model folders: where the built-in models live, what a --model value names, and the checks
that refuse a folder which would load wrongly, before any weights are read."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from emolabel.errors import EmolabelError

BUILTIN_MODELS_DIR = Path(__file__).parent.parent / "models"
DEFAULT_MODEL_NAME = "emotion-minilm"
MODEL_INFO_FILE = "emolabel.json"  # emolabel's own record of a model: how made, thresholds
DEFAULT_THRESHOLD = 0.5  # a multi-label model's decision threshold where none is stored
# A hub id: `name` or `owner/name` (callers that need the owner check for the slash).
HUB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")


def builtin_model_dir(name: str = DEFAULT_MODEL_NAME) -> Path:
    return BUILTIN_MODELS_DIR / name


def resolve_model_source(model: str | os.PathLike[str] | None) -> str:
    """Turn a --model value into a checked local folder or a hub id.

    None means the built-in model. A value that names an existing path must be a usable
    folder; anything else that looks like `owner/name` or a bare name is a hub id.
    """
    if model is None:
        folder = builtin_model_dir()
        if not (folder / "config.json").exists():
            raise EmolabelError(
                f"no built-in model at {folder}: pass --model MODEL_DIR (a folder written by "
                "`emolabel train`) or reinstall emolabel"
            )
        return str(folder)
    text = os.fspath(model)
    path = Path(text).expanduser()
    if path.exists():
        check_model_folder(path)
        return str(path)
    if (BUILTIN_MODELS_DIR / text / "config.json").exists():
        return str(BUILTIN_MODELS_DIR / text)
    if not HUB_ID_PATTERN.match(text):
        raise EmolabelError(
            f"model folder not found: {text}: pass a folder written by `emolabel train` "
            "or a Hugging Face hub id like owner/name"
        )
    return text


def check_model_folder(path: Path) -> None:
    """Refuse folders that would load wrongly: no config, no labels, or pickle-only weights."""
    if not path.is_dir():
        raise EmolabelError(f"model path is not a folder: {path}: pass a model folder")
    config_path = path / "config.json"
    if not config_path.exists():
        raise EmolabelError(
            f"{path} has no config.json: pass a Hugging Face model folder "
            "(one written by `emolabel train` or save_pretrained)"
        )
    config = _read_json_object(config_path)
    if not config.get("id2label"):
        raise EmolabelError(
            f"{config_path} has no id2label: this is not a fine-tuned classifier; "
            "train one with `emolabel train` or add id2label to its config"
        )
    _check_weights(path)


def _check_weights(path: Path) -> None:
    has_safetensors = (
        any(path.glob("*.safetensors")) or (path / "model.safetensors.index.json").exists()
    )
    if has_safetensors:
        return
    if any(path.glob("*.bin")) or any(path.glob("*.pt")) or any(path.glob("*.ckpt")):
        raise EmolabelError(
            f"{path} holds only pickle weights (*.bin): emolabel loads safetensors only, "
            "since pickle can run code; convert with "
            "`AutoModelForSequenceClassification.from_pretrained(dir).save_pretrained(dir)`"
        )
    raise EmolabelError(f"{path} has no model.safetensors: pass a complete model folder")


def read_model_info(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """emolabel.json of a local folder as a dict; {} when the folder has none (hub models)."""
    path = Path(folder) / MODEL_INFO_FILE
    if not path.is_file():
        return {}
    return _read_json_object(path)


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EmolabelError(f"{path} is not valid JSON ({exc}): fix or re-save it") from None
    except OSError as exc:
        raise EmolabelError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not isinstance(data, dict):
        raise EmolabelError(f"{path} holds a JSON {type(data).__name__}, not an object: re-save it")
    return data


def label_thresholds(
    info: dict[str, Any],
    labels: list[str],
    *,
    source: str,
    threshold: float | None = None,
) -> np.ndarray:
    """Per-label decision thresholds (float32, label order): `threshold` for every label when
    given, else emolabel.json's `"thresholds": {label: t}`, 0.5 for a label it does not name."""
    if threshold is not None:
        if not 0.0 <= threshold <= 1.0:
            raise EmolabelError(f"--threshold {threshold}: use a number from 0 to 1")
        return np.full(len(labels), threshold, dtype=np.float32)
    out = np.full(len(labels), DEFAULT_THRESHOLD, dtype=np.float32)
    stored = info.get("thresholds")
    if stored is None:
        return out
    where = f"{Path(source) / MODEL_INFO_FILE}"
    if not isinstance(stored, dict):
        raise EmolabelError(
            f'{where}: "thresholds" must map each label to a number from 0 to 1; fix or '
            "re-train the model, or pass --threshold"
        )
    position = {label: i for i, label in enumerate(labels)}
    for label, value in stored.items():
        if label not in position:
            raise EmolabelError(
                f'{where}: "thresholds" names {label!r}, which is not one of the model\'s labels '
                f"({', '.join(labels)}): fix the file or pass --threshold"
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise EmolabelError(
                f'{where}: "thresholds" gives {label!r} the value {value!r}: use a number from '
                "0 to 1, or pass --threshold"
            )
        out[position[label]] = value
    return out
