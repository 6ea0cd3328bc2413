"""`emolabel tune-thresholds`: per-label thresholds re-tuned on the scores annotate's engine
gives, written into a copy (or the model's own folder) that annotate then uses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from emolabel.cli import main
from emolabel.evaluation.evaluate import decide_labels
from emolabel.inference.classifier import EmotionClassifier
from emolabel.metrics import multilabel_metrics
from emolabel.training.thresholds import tune_thresholds
from tests.conftest import EMOTIONS, build_tiny_model

TEXTS = [
    "i am so happy today",
    "i miss you so much",
    "how dare you",
    "i adore you",
    "that is terrifying",
    "wow i did not expect that",
    "what a lovely surprise",
    "i am scared and sad",
    "this makes me furious",
    "best day ever",
    "i feel so alone",
    "the meeting is moved to 3pm",
]
GOLD = [
    "joy", "sadness", "anger", "love", "fear", "surprise",
    "joy|surprise", "fear|sadness", "anger", "joy", "sadness", "surprise",
]  # fmt: skip


@pytest.fixture
def model(tmp_path: Path) -> Path:
    import torch
    from transformers import AutoModelForSequenceClassification

    folder = build_tiny_model(tmp_path / "ml-model", seed=5)
    net = AutoModelForSequenceClassification.from_pretrained(folder)
    with torch.no_grad():
        net.classifier.weight.mul_(40.0)  # spread the scores so each label has its own best cut
    net.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    config["problem_type"] = "multi_label_classification"
    (folder / "config.json").write_text(json.dumps(config))
    stored = {label: 0.9 for label in EMOTIONS}  # far off: a tiny random model scores ~0.5
    (folder / "emolabel.json").write_text(json.dumps({"thresholds": stored, "note": "kept"}))
    (folder / "README.md").write_text("# my model\n\nhow it was made\n")
    return folder


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    path = tmp_path / "dev.jsonl"
    pl.DataFrame({"text": TEXTS, "labels": [g.split("|") for g in GOLD]}).write_ndjson(path)
    return path


def _truth() -> np.ndarray:
    return np.array([[label in g.split("|") for label in EMOTIONS] for g in GOLD])


def test_tuned_copy_holds_the_f1_best_thresholds_and_annotate_uses_them(
    model: Path, labelled: Path, tmp_path: Path
) -> None:
    out = tmp_path / "tuned"
    args = ["tune-thresholds", str(model), "--data", str(labelled), "-o", str(out)]
    result = CliRunner().invoke(main, [*args, "--device", "cpu", "--precision", "fp32"])
    assert result.exit_code == 0, result.output
    assert "macro F1" in result.output and str(out) in result.output

    scores, _ = EmotionClassifier.load(model, device="cpu", precision="fp32").predict_proba(TEXTS)
    expected = tune_thresholds(_truth(), scores)
    assert len(set(expected.tolist())) > 1  # the case tunes labels to different values
    info = json.loads((out / "emolabel.json").read_text())
    assert [info["thresholds"][x] for x in EMOTIONS] == pytest.approx(expected, abs=1e-4)
    assert info["note"] == "kept"  # the rest of the record is the model's
    record = info["threshold_tuning"]
    after = multilabel_metrics(
        _truth(), scores, expected, EMOTIONS, predicted=decide_labels(scores, expected)
    )
    assert record["macro_f1_after"] == pytest.approx(after["macro_f1"], abs=1e-4)
    assert record["macro_f1_after"] > record["macro_f1_before"]
    assert record["rows"] == len(TEXTS) and record["per_label"]["joy"]["threshold_before"] == 0.9
    card = (out / "README.md").read_text()
    assert card.startswith("# my model") and card.count("## Thresholds re-tuned") == 1
    # the source is untouched; the copy loads with the new thresholds
    assert json.loads((model / "emolabel.json").read_text())["thresholds"]["joy"] == 0.9
    tuned = EmotionClassifier.load(out, device="cpu", precision="fp32")
    assert tuned.thresholds == pytest.approx(expected, abs=1e-4)


def test_in_place_twice_keeps_one_section_and_refuses_to_clobber(
    model: Path, labelled: Path, tmp_path: Path
) -> None:
    args = ["tune-thresholds", str(model), "--data", str(labelled), "--device", "cpu", "-q"]
    for _ in range(2):
        result = CliRunner().invoke(main, [*args, "-o", str(model)])
        assert result.exit_code == 0, result.output
    assert (model / "README.md").read_text().count("## Thresholds re-tuned") == 1
    assert json.loads((model / "emolabel.json").read_text())["thresholds"]["joy"] != 0.9

    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    result = CliRunner().invoke(main, [*args, "-o", str(taken)])
    assert result.exit_code == 2 and "not empty" in result.output
    result = CliRunner().invoke(main, [*args, "-o", str(taken), "--overwrite"])
    assert result.exit_code == 2 and "refusing to delete" in result.output
    assert (taken / "notes.txt").read_text() == "mine"


def test_refusals_leave_nothing_written(model: Path, labelled: Path, tmp_path: Path) -> None:
    single = build_tiny_model(tmp_path / "single")
    out = tmp_path / "out"
    args = ["--data", str(labelled), "-o", str(out), "--device", "cpu"]
    result = CliRunner().invoke(main, ["tune-thresholds", str(single), *args])
    assert result.exit_code == 2 and "single-label" in result.output
    bad = tmp_path / "bad.csv"
    pl.DataFrame({"text": ["so happy"], "labels": ["elation"]}).write_csv(bad)
    args[1] = str(bad)
    result = CliRunner().invoke(main, ["tune-thresholds", str(model), *args])
    assert result.exit_code == 2 and "elation" in result.output
    assert not out.exists() and not list(tmp_path.glob(".out*"))
