"""Multi-label inference: sigmoid or softmax as transformers.pipeline picks, per-label
thresholds from the model folder, and the `emotions` of each text."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from emolabel.errors import EmolabelError
from emolabel.inference import EmotionClassifier
from tests.conftest import EMOTIONS, build_tiny_model

TEXTS = [
    "i feel so happy today",
    "i am terrified of what comes next and i cannot sleep",
    "ok",
    "i love you more than words can say",
    "this makes me furious",
    "what a surprise!",
]


def _set_config(folder: Path, **values: object) -> None:
    config = json.loads((folder / "config.json").read_text())
    config.update(values)
    (folder / "config.json").write_text(json.dumps(config))


@pytest.fixture(scope="module")
def multi_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = build_tiny_model(tmp_path_factory.mktemp("multi"), seed=1)
    _set_config(folder, problem_type="multi_label_classification")
    return folder


@pytest.fixture(scope="module")
def one_label_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("one-label"), labels=["joy"], seed=2)


def _pipeline_scores(folder: Path, labels: list[str]) -> np.ndarray:
    from transformers import pipeline

    classify = pipeline("text-classification", model=str(folder), top_k=None, device="cpu")
    rows = classify(TEXTS)
    return np.array(
        [[{d["label"]: d["score"] for d in row}[label] for label in labels] for row in rows]
    )


@pytest.mark.parametrize("kind", ["single", "multi", "one-label"])
def test_scores_equal_the_transformers_pipeline(
    kind: str, tiny_model_dir: Path, multi_dir: Path, one_label_dir: Path
) -> None:
    folder = {"single": tiny_model_dir, "multi": multi_dir, "one-label": one_label_dir}[kind]
    clf = EmotionClassifier.load(folder, device="cpu", precision="fp32")
    assert clf.multi_label is (kind != "single")
    got, _ = clf.predict_proba(TEXTS)
    expected = _pipeline_scores(folder, clf.labels)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)
    if kind == "multi":  # sigmoid scores: independent, they do not sum to one
        assert np.abs(got.sum(axis=1) - 1).max() > 0.1


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_sigmoid_in_other_precisions(multi_dir: Path, precision: str) -> None:
    reference, _ = EmotionClassifier.load(multi_dir, device="cpu", precision="fp32").predict_proba(
        TEXTS
    )
    clf = EmotionClassifier.load(multi_dir, device="cpu", precision=precision)
    got, _ = clf.predict_proba(TEXTS)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, reference, atol=3e-2)


def test_single_label_emotions_are_the_top_label(tiny_model_dir: Path) -> None:
    clf = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="fp32", threshold=0.0)
    scores, _ = clf.predict_proba(TEXTS)
    assert clf.emotions(scores) == [[EMOTIONS[i]] for i in scores.argmax(axis=1)]
    predictions = clf.predict(TEXTS)
    assert [p.emotions for p in predictions] == [[p.label] for p in predictions]


def test_emotions_follow_thresholds_highest_first(multi_dir: Path) -> None:
    clf = EmotionClassifier.load(multi_dir, device="cpu", precision="fp32")
    np.testing.assert_array_equal(clf.thresholds, np.full(6, 0.5, dtype=np.float32))
    clf.thresholds = np.array([0.1, 0.5, 0.9, 0.3, 0.6, 0.5], dtype=np.float32)
    scores = np.array(
        [
            [0.2, 0.55, 0.95, 0.1, 0.7, 0.2],  # love, fear, joy (highest first), not sadness
            [0.05, 0.4, 0.8, 0.2, 0.3, 0.1],  # none reaches: the top label, love
            [0.1, 0.5, 0.0, 0.3, 0.0, 0.0],  # exactly at the threshold counts
        ],
        dtype=np.float32,
    )
    assert clf.emotions(scores) == [
        ["love", "fear", "joy", "sadness"],
        ["love"],
        ["joy", "anger", "sadness"],
    ]
    offsets, ids = clf.emotion_indices(scores)
    assert offsets.tolist() == [0, 4, 5, 8] and ids.tolist() == [2, 4, 1, 0, 2, 1, 3, 0]
    assert clf.emotions(np.empty((0, 6), dtype=np.float32)) == []


def test_stored_thresholds_are_used_and_threshold_overrides(
    tmp_path: Path, multi_dir: Path
) -> None:
    folder = tmp_path / "tuned"
    shutil.copytree(multi_dir, folder)
    (folder / "emolabel.json").write_text(
        json.dumps({"multi_label": True, "thresholds": {"joy": 0.0, "fear": 1.0}})
    )
    clf = EmotionClassifier.load(folder, device="cpu", precision="fp32")
    assert clf.thresholds.tolist() == [0.5, 0.0, 0.5, 0.5, 1.0, 0.5]
    for p in clf.predict(TEXTS):
        assert "joy" in p.emotions  # threshold 0: always reached
        assert "fear" not in p.emotions or p.label == "fear"  # 1.0: only as the top label
        expected = [
            k
            for k, v in sorted(p.scores.items(), key=lambda kv: -kv[1])
            if v >= clf.thresholds[EMOTIONS.index(k)]
        ]
        assert p.emotions == (expected or [p.label])
    everything = EmotionClassifier.load(folder, device="cpu", precision="fp32", threshold=0.0)
    assert everything.thresholds.tolist() == [0.0] * 6
    scores, _ = everything.predict_proba(TEXTS)
    assert [len(e) for e in everything.emotions(scores)] == [6] * len(TEXTS)
    nothing = EmotionClassifier.load(folder, device="cpu", precision="fp32", threshold=1.0)
    assert nothing.emotions(scores) == [[EMOTIONS[i]] for i in scores.argmax(axis=1)]


@pytest.mark.parametrize(
    ("info", "message"),
    [
        ({"thresholds": {"joy": 1.5}}, "from 0 to 1"),
        ({"thresholds": {"joy": "high"}}, "from 0 to 1"),
        ({"thresholds": {"glee": 0.3}}, "glee"),
        ({"thresholds": [0.3, 0.4]}, "must map each label"),
        ({"multi_label": False}, "problem_type"),
    ],
)
def test_bad_stored_thresholds_are_refused(
    tmp_path: Path, multi_dir: Path, info: dict[str, object], message: str
) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(multi_dir, folder)
    (folder / "emolabel.json").write_text(json.dumps(info))
    with pytest.raises(EmolabelError, match=message) as caught:
        EmotionClassifier.load(folder, device="cpu", precision="fp32")
    assert "\n" not in str(caught.value)


def test_threshold_out_of_range(multi_dir: Path) -> None:
    with pytest.raises(EmolabelError, match="--threshold"):
        EmotionClassifier.load(multi_dir, device="cpu", threshold=1.5)


def test_regression_models_are_refused(tmp_path: Path, tiny_model_dir: Path) -> None:
    folder = tmp_path / "regression"
    shutil.copytree(tiny_model_dir, folder)
    _set_config(folder, problem_type="regression")
    with pytest.raises(EmolabelError, match="regression"):
        EmotionClassifier.load(folder, device="cpu")


def test_classify_threshold_option(multi_dir: Path) -> None:
    from click.testing import CliRunner

    from emolabel.cli import main

    result = CliRunner().invoke(
        main, ["classify", "--model", str(multi_dir), "--device", "cpu", "--threshold", "2", "hi"]
    )
    assert result.exit_code == 2 and "--threshold" in result.output
    result = CliRunner().invoke(
        main,
        [
            "classify",
            "--model",
            str(multi_dir),
            "--device",
            "cpu",
            "--threshold",
            "0.3",
            "hi there",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "--threshold FLOAT" in CliRunner().invoke(main, ["classify", "--help"]).output
