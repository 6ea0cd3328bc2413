"""Distillation on the tiny BERT: the student folder, the loss, the teacher targets, bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from emolabel.cli import main
from emolabel.errors import EmolabelError
from emolabel.inference.classifier import EmotionClassifier
from emolabel.training.base_models import count_parameters
from emolabel.training.batches import PadCollator, tokenize_splits
from emolabel.training.data import load_training_data
from emolabel.training.distill import DistillationObjective, distill
from emolabel.training.distillation_loss import (
    IGNORE_LABEL,
    TEACHER_COLUMN,
    TeacherCollator,
    distillation_loss,
)
from emolabel.training.trainer import train
from tests.test_training import FAST, write_data


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> dict[str, Any]:
    """A 2-layer teacher trained for a few steps, and a 1-layer student distilled from it."""
    root = tmp_path_factory.mktemp("distill")
    data = write_data(root / "data")
    teacher = root / "teacher"
    train(data, teacher, base_model=str(tiny_model_dir), epochs=1, **FAST)
    unlabelled = root / "more.csv"
    unlabelled.write_text(
        "id,text\n1,so very happy again\n2,very very sad today\n3,\n4,so very happy again\n",
        encoding="utf-8",
    )
    student = root / "student"
    result = distill(
        teacher,
        "teacher:layers=1",
        data,
        student,
        temperature=3.0,
        alpha=0.7,
        unlabelled=unlabelled,
        epochs=1,
        **FAST,
    )
    return {"data": data, "teacher": teacher, "student": student, "result": result}


def test_student_is_a_smaller_model_folder(setup: dict[str, Any]) -> None:
    student: Path = setup["student"]
    names = {p.name for p in student.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "emolabel.json"} <= names
    assert "README.md" in names and "checkpoints" not in names
    config = json.loads((student / "config.json").read_text())
    assert config["num_hidden_layers"] == 1
    teacher = EmotionClassifier.load(setup["teacher"], device="cpu", precision="fp32")
    loaded = EmotionClassifier.load(student, device="cpu", precision="fp32")
    assert loaded.labels == teacher.labels
    assert count_parameters(loaded.model)[1] < count_parameters(teacher.model)[1]
    assert loaded.predict(["so happy today"])[0].label in loaded.labels


def test_emolabel_json_and_card_describe_the_distillation(setup: dict[str, Any]) -> None:
    info = json.loads((setup["student"] / "emolabel.json").read_text())
    objective = info["objective"]
    assert objective["name"] == "distillation"
    assert objective["temperature"] == 3.0 and objective["alpha"] == 0.7
    assert Path(objective["teacher"]) == setup["teacher"].resolve()
    assert objective["unlabelled"]["rows"] == 2  # one empty text and one repeat left out
    assert set(objective["teacher_validation"]) == {"accuracy", "macro_f1"}
    assert info["base_model"]["source"].endswith("layers 2 of 2")
    assert info["validation"]["accuracy"] == setup["result"].metrics["accuracy"]
    assert info["command"].startswith("emolabel distill --teacher ")
    assert "--temperature 3 --alpha 0.7" in info["command"]
    assert objective["teacher_precision"] == "fp32"  # the CPU default: exact soft targets
    assert "--teacher-precision" not in info["command"]
    card = (setup["student"] / "README.md").read_text()
    assert "- objective: distilled from" in card


def test_loss_matches_its_definition() -> None:
    torch.manual_seed(0)
    student, teacher = torch.randn(4, 3), torch.randn(4, 3)
    labels = torch.tensor([0, 2, IGNORE_LABEL, 1])
    t, a = 2.0, 0.3
    p = torch.softmax(teacher / t, -1)
    kl = (p * (p.log() - torch.log_softmax(student / t, -1))).sum(-1).mean()
    ce = torch.nn.functional.cross_entropy(student[[0, 1, 3]], labels[[0, 1, 3]])
    expected = a * t * t * kl + (1 - a) * ce
    got = distillation_loss(student, teacher, labels, temperature=t, alpha=a)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    # identical logits and alpha=1: nothing to learn
    same = distillation_loss(teacher, teacher, labels, temperature=t, alpha=1.0)
    assert same.item() == pytest.approx(0.0, abs=1e-6)
    # a batch of unlabelled rows only: the soft term alone
    unlabelled = torch.full((4,), IGNORE_LABEL)
    soft = distillation_loss(student, teacher, unlabelled, temperature=t, alpha=a)
    assert soft.item() == pytest.approx(a * t * t * kl.item(), rel=1e-5)


def test_teacher_targets_line_up_with_rows(setup: dict[str, Any], tmp_path: Path) -> None:
    teacher = EmotionClassifier.load(setup["teacher"], device="cpu", precision="fp32")
    data = load_training_data(setup["data"])
    val_text = data.splits["validation"]["text"][0]
    extra = tmp_path / "extra.txt"
    extra.write_text(f"a brand new text\n{val_text}\n", encoding="utf-8")
    objective = DistillationObjective(teacher, unlabelled=extra)
    data = objective.prepare_data(data)
    tokenized = tokenize_splits(data, teacher.encoder)
    rows = objective.prepare_train(tokenized["train"], teacher.encoder)
    n = len(tokenized["train"])
    assert len(rows) == n + 1  # the validation text is not used as unlabelled data
    proba, _ = teacher.predict_proba([data.splits["train"]["text"][5], "a brand new text"])
    np.testing.assert_allclose(np.exp(rows[5][TEACHER_COLUMN]), proba[0], atol=1e-5)
    np.testing.assert_allclose(np.exp(rows[n][TEACHER_COLUMN]), proba[1], atol=1e-5)
    assert rows[n]["labels"] == IGNORE_LABEL and rows[5]["labels"] >= 0
    batch = TeacherCollator(PadCollator(teacher.pad_id))([rows[0], rows[n]])
    assert batch[TEACHER_COLUMN].shape == (2, len(teacher.labels))
    assert set(batch) == {"input_ids", "attention_mask", "labels", TEACHER_COLUMN}


def test_data_labels_follow_the_teacher_order(tmp_path: Path, tiny_model_dir: Path) -> None:
    from tests.conftest import build_tiny_model

    teacher_dir = build_tiny_model(tmp_path / "t", labels=["sadness", "joy", "anger"])
    teacher = EmotionClassifier.load(teacher_dir, device="cpu", precision="fp32")
    data = load_training_data(write_data(tmp_path / "d"))
    assert data.labels == ["anger", "joy", "sadness"]
    before = list(zip(data.splits["train"]["text"], data.splits["train"]["label"], strict=True))
    relabelled = DistillationObjective(teacher).prepare_data(data)
    assert relabelled.labels == ["sadness", "joy", "anger"]
    after = list(
        zip(relabelled.splits["train"]["text"], relabelled.splits["train"]["label"], strict=True)
    )
    for (text, old), (text2, new) in zip(before, after, strict=True):
        assert text == text2 and data.labels[old] == relabelled.labels[new]


def test_teacher_with_other_labels_is_refused(tmp_path: Path, tiny_model_dir: Path) -> None:
    # tiny_model_dir has the six dair-ai/emotion labels; the data has three
    with pytest.raises(EmolabelError, match=r"teacher's labels .* differ from the data's"):
        distill(tiny_model_dir, "teacher:layers=1", write_data(tmp_path / "d"), tmp_path / "s")
    assert not (tmp_path / "s").exists()


def one_line(args: list[str]) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


@pytest.mark.parametrize(
    ("student", "teacher", "message"),
    [
        ("teacher:layers=1", "missing", "--teacher"),
        ("teacher:layers=0", None, "layers must be at least 1"),
        ("teacher:layers=5", None, "only 2 layers"),
        ("teacher:depth=1", None, "unknown option 'depth'"),
        ("no-such-preset", None, "not a folder, a hub id"),
    ],
)
def test_bad_distill_input_is_one_line(
    setup: dict[str, Any], tmp_path: Path, student: str, teacher: str | None, message: str
) -> None:
    teacher_dir = str(tmp_path / teacher) if teacher else str(setup["teacher"])
    out = tmp_path / "out"
    args = ["distill", "--teacher", teacher_dir, "--student", student]
    line = one_line([*args, "--data", str(setup["data"]), "-o", str(out), "-q"])
    assert message in line
    assert not out.exists()


def test_teacher_folder_without_config(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmolabelError, match=r"no config\.json"):
        distill(tmp_path / "empty", "teacher:layers=1", tmp_path, tmp_path / "s")


def test_distill_options_are_checked(setup: dict[str, Any], tmp_path: Path) -> None:
    for kwargs, message in (
        ({"temperature": 0.0}, "--temperature"),
        ({"alpha": 1.5}, "--alpha"),
        ({"unlabelled": tmp_path / "nope.csv"}, "--unlabelled"),
    ):
        with pytest.raises(EmolabelError, match=message):
            distill(setup["teacher"], "teacher:layers=1", setup["data"], tmp_path / "s", **kwargs)
    assert math.isfinite(setup["result"].metrics["accuracy"])


def test_distill_reads_a_union_through_the_teachers_label_map(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    """A teacher trained on two sources merged by --label-map is distilled on the same union:
    distill takes train's data options, so the student's labels are the teacher's."""
    from tests.test_training import easy_rows

    renamed = {"joy": "happy", "sadness": "down"}  # source b names two labels its own way
    folders = {"a": tmp_path / "a", "b": tmp_path / "b"}
    for seed, (name, folder) in enumerate(folders.items()):
        folder.mkdir()
        rows = easy_rows(60, seed=seed)
        if name == "b":
            rows = [(t, renamed.get(y, y)) for t, y in rows]
        for split, part in (("train.txt", rows[:45]), ("val.txt", rows[45:])):
            (folder / split).write_text("".join(f"{t};{y}\n" for t, y in part), encoding="utf-8")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"joy": ["joy", "happy"], "sadness": ["sadness", "down"]}))
    data = ["--data", str(folders["a"]), "--data", str(folders["b"])]
    fast = ["--epochs", "1", "--threads", "1", "--precision", "fp32", "--batch-size", "8", "-q"]
    teacher = tmp_path / "teacher"
    args = ["train", *data, "--label-map", str(mapping), "--base-model", str(tiny_model_dir)]
    result = CliRunner().invoke(main, [*args, "-o", str(teacher), *fast])
    assert result.exit_code == 0, result.output
    student = tmp_path / "student"
    args = ["distill", "--teacher", str(teacher), "--student", "teacher:layers=1", *data]
    without_map = CliRunner().invoke(main, [*args, "-o", str(student), *fast])
    assert without_map.exit_code == 2 and "happy" in without_map.output
    assert not student.exists()
    result = CliRunner().invoke(
        main,
        [
            *args,
            *("--label-map", str(mapping), "--keep-checkpoints", "--teacher-precision", "bf16"),
            *("-o", str(student), *fast),
        ],
    )
    assert result.exit_code == 0, result.output
    teacher_info = json.loads((teacher / "emolabel.json").read_text())
    info = json.loads((student / "emolabel.json").read_text())
    assert info["labels"] == teacher_info["labels"]
    assert sorted(teacher_info["labels"]) == ["anger", "joy", "sadness"]
    assert info["data"]["sizes"] == teacher_info["data"]["sizes"]
    assert "--label-map" in info["command"] and info["command"].count("--data") == 2
    assert any((student / "checkpoints").iterdir())
    assert info["objective"]["teacher_precision"] == "bf16"
    assert "--teacher-precision bf16" in info["command"]


def test_an_ensemble_learns_the_teachers_mean_probabilities(
    setup: dict[str, Any], tmp_path: Path
) -> None:
    from tests.conftest import build_tiny_model

    first = EmotionClassifier.load(setup["teacher"], device="cpu", precision="fp32")
    # untrained, its labels in another order: its columns must be moved to the first's
    other_dir = build_tiny_model(tmp_path / "other", labels=["sadness", "joy", "anger"], seed=3)
    other = EmotionClassifier.load(other_dir, device="cpu", precision="fp32")
    objective = DistillationObjective([first, other])
    data = objective.prepare_data(load_training_data(setup["data"]))
    assert data.labels == list(first.labels)
    rows = objective.prepare_train(tokenize_splits(data, first.encoder)["train"], first.encoder)
    a, _ = first.predict_proba([data.splits["train"]["text"][5]])
    b, _ = other.predict_proba([data.splits["train"]["text"][5]])
    order = [list(other.labels).index(name) for name in first.labels]
    assert np.abs(b[0] - b[0][order]).max() > 1e-3  # the order matters for this row
    np.testing.assert_allclose(np.exp(rows[5][TEACHER_COLUMN]), (a[0] + b[0][order]) / 2, atol=1e-5)


def test_cli_distils_an_ensemble(setup: dict[str, Any], tmp_path: Path) -> None:
    from tests.conftest import build_tiny_model

    second = build_tiny_model(tmp_path / "second", labels=["anger", "joy", "sadness"], seed=5)
    out = tmp_path / "student"
    args = ["distill", "--teacher", str(setup["teacher"]), "--teacher", str(second)]
    args += ["--student", "teacher:layers=1", "--data", str(setup["data"]), "-o", str(out)]
    args += ["--epochs", "1", "--threads", "1", "--precision", "fp32", "--batch-size", "8", "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    info = json.loads((out / "emolabel.json").read_text())
    teachers = [str(setup["teacher"].resolve()), str(second.resolve())]
    assert info["objective"]["teachers"] == teachers
    assert info["objective"]["teacher"] == teachers[0]
    assert info["command"].count("--teacher ") == 2
    assert "distilled from the mean probabilities of" in (out / "README.md").read_text()
    assert json.loads((out / "config.json").read_text())["num_hidden_layers"] == 1


def test_an_ensemble_needs_one_label_set(
    setup: dict[str, Any], tmp_path: Path, tiny_model_dir: Path
) -> None:
    out = tmp_path / "out"
    base = ["distill", "--teacher", str(setup["teacher"]), "--student", "teacher:layers=1"]
    rest = ["--data", str(setup["data"]), "-o", str(out), "-q"]
    line = one_line([*base, "--teacher", str(tiny_model_dir), *rest])  # six labels, not three
    assert f"--teacher {tiny_model_dir}" in line and "an ensemble needs one label set" in line
    line = one_line([*base, "--teacher", str(setup["teacher"]), *rest])
    assert "given twice" in line
    assert not out.exists()
