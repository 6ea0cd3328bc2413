"""`emolabel evaluate`, `emolabel train` and `emolabel models` through the CLI and the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from emolabel.cli import main
from emolabel.errors import EmolabelError
from emolabel.evaluation import model_listing
from emolabel.evaluation.evaluate import evaluate
from emolabel.evaluation.model_listing import describe_model, list_builtin_models
from emolabel.evaluation.sizes import format_size
from emolabel.events import Events
from tests.conftest import EMOTIONS
from tests.test_training import write_data

ROWS = [
    ("i am so happy today", "joy"),
    ("i miss you so much", "sadness"),
    ("how dare you", "anger"),
    ("i adore you", "love"),
    ("that is terrifying", "fear"),
    ("wow i did not expect that", "surprise"),
    ("i am so happy today", "joy"),  # duplicates count in an evaluation
    ("", "joy"),
]


@pytest.fixture
def labelled_csv(tmp_path: Path) -> Path:
    path = tmp_path / "val.csv"
    pl.DataFrame({"text": [t for t, _ in ROWS], "label": [y for _, y in ROWS]}).write_csv(path)
    return path


class Recorder(Events):
    """Every progress hook evaluate calls, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def start(self, total: int | None, unit: str) -> None:
        self.calls.append(("start", total, unit))

    def advance(self, rows: int, position: int) -> None:
        self.calls.append(("advance", rows, position))

    def stop(self) -> None:
        self.calls.append(("stop",))


def test_evaluate_api_on_a_csv(tiny_model_dir: Path, labelled_csv: Path) -> None:
    events = Recorder()
    report = evaluate(tiny_model_dir, labelled_csv, device="cpu", events=events)
    assert report.labels == EMOTIONS
    assert report.metrics["rows"] == 7 and report.stats.dropped_empty_text == 1
    assert events.calls == [("start", 7, "rows"), ("advance", 7, 7), ("stop",)]
    assert report.proba.shape == (7, 6)
    np.testing.assert_allclose(report.proba.sum(axis=1), 1.0, rtol=1e-5)
    expected = float((report.proba.argmax(axis=1) == report.y_true).mean())
    assert report.metrics["accuracy"] == pytest.approx(expected)
    assert report.y_true.tolist() == [1, 0, 3, 2, 4, 5, 1]
    as_dict = report.to_dict()
    json.dumps(as_dict)  # plain JSON types only
    assert as_dict["dropped"] == {"empty_text": 1, "missing_label": 0}


def test_labels_unknown_to_the_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    pl.DataFrame({"text": ["a", "b"], "label": ["joy", "boredom"]}).write_csv(path)
    events = Recorder()
    with pytest.raises(EmolabelError, match="'boredom' are not among the model's labels"):
        evaluate(tiny_model_dir, path, device="cpu", events=events)
    assert events.calls == []  # refused before predicting anything
    pl.DataFrame({"text": ["a", "b"], "label": [0, 1]}).write_csv(path)
    with pytest.raises(EmolabelError, match=r"put a mapping\.txt"):
        evaluate(tiny_model_dir, path, device="cpu")


def test_evaluate_cli_writes_json_and_plots(
    tiny_model_dir: Path, labelled_csv: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(tiny_model_dir),
            "--data",
            str(labelled_csv),
            "--device",
            "cpu",
            "--json",
            str(tmp_path / "out" / "figures.json"),
            "--plots",
            str(tmp_path / "plots"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "macro" in result.output and "ECE (15 bins)" in result.output
    figures = json.loads((tmp_path / "out" / "figures.json").read_text())
    assert figures["rows"] == 7 and figures["labels"] == EMOTIONS
    metrics = figures["metrics"]
    for key in (
        "accuracy",
        "macro_precision",
        "weighted_recall",
        "macro_f1",
        "weighted_f1",
        "roc_auc_macro",
        "roc_auc_weighted",
        "log_loss",
        "ece",
        "confusion_matrix",
        "per_class",
        "calibration_bins",
    ):
        assert key in metrics
    assert len(metrics["confusion_matrix"]) == 6
    for name in ("confusion_matrix.png", "reliability.png"):
        assert (tmp_path / "plots" / name).read_bytes()[:4] == b"\x89PNG"


def test_evaluate_cli_errors_are_one_line(tiny_model_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    pl.DataFrame({"text": ["a"], "label": ["boredom"]}).write_csv(path)
    result = CliRunner().invoke(main, ["evaluate", str(tiny_model_dir), "--data", str(path)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "boredom" in lines[0] and lines[0].startswith("error:")
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "none"), "--data", str(path)])
    assert result.exit_code == 2 and "model folder not found" in result.output
    result = CliRunner().invoke(
        main, ["evaluate", str(tiny_model_dir), "--data", str(tmp_path), "--split", "test"]
    )
    assert result.exit_code == 2 and "holds no split files" in result.output


def test_train_cli_end_to_end(tiny_model_dir: Path, tmp_path: Path) -> None:
    data = write_data(tmp_path / "data", n_train=30, n_val=9)
    out = tmp_path / "model"
    args = [
        "train",
        "--data",
        str(data),
        "-o",
        str(out),
        "--base-model",
        str(tiny_model_dir),
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--lr",
        "1e-2",
        "--threads",
        "1",
        "--unfreeze-last",
        "1",
        "--patience",
        "1",
        "--metric",
        "accuracy",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "epoch 1:" in result.output and "trainable" in result.output
    assert "accuracy" in result.output and "macro F1" in result.output
    info = json.loads((out / "emolabel.json").read_text())
    assert info["hyperparameters"]["unfreeze_last"] == 1
    assert info["training"]["selection_metric"] == "accuracy"
    assert info["parameters"]["trainable"] < info["parameters"]["total"]

    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2 and "--overwrite" in again.output
    replaced = CliRunner().invoke(main, [*args, "--overwrite", "--quiet"])
    assert replaced.exit_code == 0 and replaced.output == ""

    evaluated = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(out),
            "--data",
            str(data),
            "--split",
            "val",
            "--quiet",
            "--json",
            str(tmp_path / "f.json"),
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads((tmp_path / "f.json").read_text())["rows"] == 9


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--label-column", "emotion"], "has no column 'emotion'"),
        (["--freeze", "top"], "--freeze top"),
        (["--base-model", "nothing here"], "presets: minilm"),
    ],
)
def test_train_cli_bad_input(tmp_path: Path, extra: list[str], message: str) -> None:
    path = tmp_path / "d.csv"
    pl.DataFrame({"text": [f"t{i}" for i in range(20)], "label": ["a", "b"] * 10}).write_csv(path)
    result = CliRunner().invoke(
        main, ["train", "--data", str(path), "-o", str(tmp_path / "m"), *extra]
    )
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_train_cli_one_class_and_empty_file(tmp_path: Path) -> None:
    (tmp_path / "one.txt").write_text("".join(f"text {i};joy\n" for i in range(10)))
    result = CliRunner().invoke(
        main, ["train", "--data", str(tmp_path / "one.txt"), "-o", str(tmp_path / "m")]
    )
    assert result.exit_code == 2 and "only one class" in result.output
    (tmp_path / "empty.jsonl").write_text("")
    result = CliRunner().invoke(
        main, ["train", "--data", str(tmp_path / "empty.jsonl"), "-o", str(tmp_path / "m")]
    )
    assert result.exit_code == 2 and "is empty" in result.output


# ----------------------------------------------------------------------------- models
def test_models_lists_folders_with_their_figures(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    root = tmp_path / "models"
    root.mkdir()
    monkeypatch.setattr(model_listing, "BUILTIN_MODELS_DIR", root)
    result = CliRunner().invoke(main, ["models"])
    assert result.exit_code == 0 and "no built-in models yet" in result.output

    shutil.copytree(tiny_model_dir, root / "emotion-tiny")
    (root / "emotion-tiny" / "emolabel.json").write_text(
        json.dumps(
            {
                "validation": {"accuracy": 0.91, "macro_f1": 0.87},
                "base_model": {"source": "minilm"},
                "data": {"source": "emotion/"},
            }
        )
    )
    (root / "not-a-model").mkdir()
    infos = list_builtin_models()
    assert [i.name for i in infos] == ["emotion-tiny"]
    info = describe_model(root / "emotion-tiny")
    assert info.labels == EMOTIONS and info.accuracy == 0.91 and info.size_bytes > 100_000
    result = CliRunner().invoke(main, ["models"])
    assert result.exit_code == 0
    assert "emotion-tiny" in result.output and "0.8700" in result.output
    # one size formatter (MB = 1e6) for `models` and `compare`
    assert format_size(info.size_bytes) in result.output
    listed = CliRunner().invoke(main, ["models", "--json"])
    assert json.loads(listed.output.splitlines()[0])["macro_f1"] == 0.87


def test_format_size_is_decimal() -> None:
    assert format_size(999) == "999 B"
    assert format_size(12_345) == "12 KB"
    assert format_size(90_900_000) == "90.9 MB"  # 86.7 MB in 1024-units
    assert format_size(1_300_000_000) == "1.30 GB"


def test_evaluate_takes_the_shared_model_options(tiny_model_dir: Path, labelled_csv: Path) -> None:
    text = CliRunner().invoke(main, ["evaluate", "--help"], terminal_width=200).output
    for option in ("--compile", "--threshold", "--label-map", "--batch-tokens", "--model"):
        assert option in text
    assert "(max-length - 2 - head) tokens" in text  # model_options' help, not a copy
    args = ["evaluate", "--model", str(tiny_model_dir), "--data", str(labelled_csv)]
    result = CliRunner().invoke(main, [*args, "--device", "cpu", "--quiet"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, [*args, "other-model"])
    assert result.exit_code == 2 and "two models given" in result.output
