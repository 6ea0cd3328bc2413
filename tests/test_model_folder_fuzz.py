"""Fuzzing model folders: damaged files (truncated, bytes flipped, deleted, JSON values
replaced) either load and predict, or fail with one EmolabelError line: never another
exception. EMOLABEL_FUZZ_EXAMPLES raises the budget (default 30) for a longer local run."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from emolabel.errors import EmolabelError
from emolabel.inference import EmotionClassifier
from tests.conftest import EMOTIONS

FILES = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "emolabel.json",
]
JSON_FILES = [f for f in FILES if f.endswith(".json")]
TEXTS = ["i am so happy today", "word " * 600, "x"]
EXAMPLES = int(os.environ.get("EMOLABEL_FUZZ_EXAMPLES", "30"))

json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=600),  # small: a huge hidden_size would eat the RAM
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(-2, 40), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(-2, 40), max_size=2),
)


@pytest.fixture(scope="module")
def fuzz_base(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz-base") / "model"
    shutil.copytree(tiny_model_dir, folder)
    info = {"multi_label": False, "thresholds": dict.fromkeys(EMOTIONS, 0.4)}
    (folder / "emolabel.json").write_text(json.dumps(info))
    return folder


def _replace_json_value(data: Any, draw: st.DataObject) -> Any:
    """Walk down a few levels of a JSON document and replace the value found there."""
    if not isinstance(data, dict | list) or not data or draw.draw(st.integers(0, 3)) == 0:
        return draw.draw(json_values)
    if isinstance(data, dict):
        key = draw.draw(st.sampled_from(sorted(data)))
        data[key] = _replace_json_value(data[key], draw)
    else:
        index = draw.draw(st.integers(0, len(data) - 1))
        data[index] = _replace_json_value(data[index], draw)
    return data


def _mutate(folder: Path, draw: st.DataObject) -> str:
    name = draw.draw(st.sampled_from(FILES))
    path = folder / name
    if not path.exists():
        return f"{name}: already gone"
    kind = draw.draw(st.sampled_from(["truncate", "flip", "delete", "json"]))
    data = path.read_bytes()
    if not data and kind in ("flip", "json"):
        return f"{name}: already empty"
    if kind == "delete":
        path.unlink()
    elif kind == "truncate":
        path.write_bytes(data[: draw.draw(st.integers(0, max(len(data) - 1, 0)))])
    elif kind == "flip":
        buf = bytearray(data)
        near_start = draw.draw(st.booleans())  # headers and the first keys matter most
        for _ in range(draw.draw(st.integers(1, 8))):
            top = min(len(buf), 256) if near_start else len(buf)
            buf[draw.draw(st.integers(0, top - 1))] ^= draw.draw(st.integers(1, 255))
        path.write_bytes(bytes(buf))
    elif name in JSON_FILES:
        try:
            doc = json.loads(data)
        except ValueError:
            return f"{name}: no longer JSON"
        path.write_text(json.dumps(_replace_json_value(doc, draw)))
    return f"{name}: {kind}"


def _gist(message: str) -> str:
    """The kind of refusal, without paths and numbers."""
    words = [w for w in message.split() if "/" not in w and not any(c.isdigit() for c in w)]
    return " ".join(words[:7])


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_damaged_folders_load_or_fail_cleanly(
    fuzz_base: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("fuzz") / "model"
    shutil.copytree(fuzz_base, folder)
    done = [_mutate(folder, data) for _ in range(data.draw(st.integers(1, 3)))]
    try:
        clf = EmotionClassifier.load(folder, device="cpu", precision="fp32")
        predictions = clf.predict(TEXTS)
    except EmolabelError as exc:
        assert "\n" not in str(exc), (done, str(exc))
        event("refused: " + _gist(str(exc)))  # pytest --hypothesis-show-statistics
        return
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)
    event("loaded and predicted")
    assert len(predictions) == len(TEXTS), done
    for p in predictions:
        assert p.label in clf.labels and p.emotions and np.isfinite(p.confidence), done
