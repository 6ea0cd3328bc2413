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
            [0.0, 0.6, 0.85, 0.0, 0.0, 0.0],  # the top label (love) misses, joy reaches
        ],
        dtype=np.float32,
    )
    assert clf.emotions(scores) == [
        ["love", "fear", "joy", "sadness"],
        ["love"],
        ["joy", "anger", "sadness"],
        ["joy"],
    ]
    offsets, ids = clf.emotion_indices(scores)
    assert offsets.tolist() == [0, 4, 5, 8, 9] and ids.tolist() == [2, 4, 1, 0, 2, 1, 3, 0, 1]
    assert clf.emotions(np.empty((0, 6), dtype=np.float32)) == []
    column = clf.emotions_array(scores)
    assert str(column.type) == "list<item: string>"
    assert column.to_pylist() == clf.emotions(scores)
    assert clf.emotions_array(np.empty((0, 6), dtype=np.float32)).to_pylist() == []


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
        assert "fear" not in p.emotions  # 1.0 is never reached, and joy always is
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


def test_top_label_is_the_highest_of_the_emotions(tmp_path: Path, multi_dir: Path) -> None:
    """The highest score overall, below its threshold, is not the top label when another
    label passes: `emotion` is always `emotions[0]`, in Python and in annotate's output."""
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from emolabel.cli import main

    scores, _ = EmotionClassifier.load(multi_dir, device="cpu", precision="fp32").predict_proba(
        TEXTS
    )
    first, second = np.argsort(-scores[0])[:2]
    thresholds = dict.fromkeys(EMOTIONS, 0.999)
    thresholds[EMOTIONS[first]], thresholds[EMOTIONS[second]] = 1.0, 0.0  # only `second` passes
    folder = tmp_path / "tuned"
    shutil.copytree(multi_dir, folder)
    info = {"multi_label": True, "thresholds": thresholds}
    (folder / "emolabel.json").write_text(json.dumps(info))
    (p,) = EmotionClassifier.load(folder, device="cpu", precision="fp32").predict(TEXTS[:1])
    assert p.label == EMOTIONS[second] != EMOTIONS[first] and p.emotions == [p.label]
    assert p.confidence == pytest.approx(float(scores[0, second]), abs=1e-5)
    corpus = tmp_path / "texts.csv"
    corpus.write_text("text\n" + "\n".join(TEXTS) + "\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    args = ["annotate", str(corpus), "-o", str(out), "--model", str(folder), "--quiet"]
    result = CliRunner().invoke(main, [*args, "--precision", "fp32"])
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out).to_pylist()
    assert rows[0]["emotion"] == EMOTIONS[second]
    assert all(row["emotion"] == row["emotions"][0] for row in rows)


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


@pytest.mark.parametrize("kind", ["sigmoid", "ties", "unbounded"])
def test_vectorised_emotions_equal_a_row_by_row_reference(multi_dir: Path, kind: str) -> None:
    clf = EmotionClassifier.load(multi_dir, device="cpu", precision="fp32")
    clf.thresholds = np.array([0.5, 0.3, 0.7, 0.5, 0.2, 0.9], dtype=np.float32)
    rng = np.random.default_rng(0)
    scores = rng.random((2000, 6)).astype(np.float32) ** 2
    if kind == "ties":
        scores = np.round(scores * 4) / 4
    elif kind == "unbounded":  # any scores, not only probabilities
        scores = rng.standard_normal((2000, 6)).astype(np.float32)
    expected = []
    for row in scores:
        order = np.argsort(-row, kind="stable")
        kept = [EMOTIONS[i] for i in order if row[i] >= clf.thresholds[i]]
        expected.append(kept or [EMOTIONS[order[0]]])
    assert clf.emotions(scores) == expected
    assert clf.emotions_array(scores).to_pylist() == expected
