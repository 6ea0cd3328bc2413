"""`emolabel compare` end to end on tiny models, the recommendations, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from emolabel.cli import main
from emolabel.cli.compare import parse_count
from emolabel.errors import EmolabelError
from emolabel.evaluation.compare import unique_names
from emolabel.evaluation.comparison import ModelFigures, recommend
from emolabel.evaluation.comparison_report import slug
from tests.conftest import build_tiny_model
from tests.test_training import write_data

LABELS = ["anger", "joy", "sadness"]
KEYS = {
    "name",
    "path",
    "origin",
    "base_model",
    "multi_label_model",
    "params",
    "size_bytes",
    "train_seconds",
    "texts_per_second",
    "accuracy",
    "macro_precision",
    "macro_recall",
    "macro_f1",
    "per_class_f1",
    "confusion_matrix",
    "metrics",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> dict[str, Any]:
    """One comparison: a 1-layer cut of the tiny BERT trained here, and a given folder."""
    root = tmp_path_factory.mktemp("compare")
    data = write_data(root / "data")
    given = build_tiny_model(root / "given", labels=LABELS, seed=1)
    out = root / "cmp"
    args = ["compare", "--data", str(data), "-o", str(out)]
    args += ["--base-model", f"{tiny_model_dir}:layers=1", "--model", str(given)]
    args += ["--epochs", "1", "--lr", "1e-2", "--batch-size", "8", "--threads", "1"]
    args += ["--precision", "fp32", "--inference-precision", "fp32"]
    args += ["--long-texts", "2", "--speed-repeats", "1", "--max-params", "1.005M"]
    args += ["--min-speed", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return {"out": out, "output": result.output, "data": data, "given": given}


def test_json_has_every_figure(run: dict[str, Any]) -> None:
    report = json.loads((run["out"] / "comparison.json").read_text())
    assert report["split"] == "validation" and report["rows"] == 30
    assert report["labels"] == LABELS
    assert set(report["label_distribution"]) == {"train", "validation"}
    assert sum(report["label_distribution"]["validation"].values()) == 30
    names = [m["name"] for m in report["models"]]
    assert names[0].endswith(":layers=1") and names[1] == "given"
    for model in report["models"]:
        assert set(model) == KEYS
        assert set(model["per_class_f1"]) == set(LABELS)
        assert model["params"] > 0 and model["size_bytes"] > 0
        assert model["texts_per_second"]["short"] > 0 and model["texts_per_second"]["long"] > 0
        assert 0 <= model["accuracy"] <= 1
    trained, given = report["models"]
    assert trained["origin"] == "fine-tuned here" and trained["train_seconds"] > 0
    assert given["train_seconds"] is None  # a folder without emolabel.json
    assert trained["params"] < given["params"]  # one of two layers
    assert report["training"]["epochs"] == 1 and report["measurement"]["long_texts"] == 2
    assert len(report["recommendations"]) == 5


def test_trained_model_matches_its_own_validation(run: dict[str, Any]) -> None:
    report = json.loads((run["out"] / "comparison.json").read_text())
    trained = report["models"][0]
    info = json.loads((Path(trained["path"]) / "emolabel.json").read_text())
    assert Path(trained["path"]).parent == run["out"] / "models"
    assert trained["accuracy"] == pytest.approx(info["validation"]["accuracy"])


def test_markdown_table_and_plots(run: dict[str, Any]) -> None:
    import matplotlib.image

    md = (run["out"] / "comparison.md").read_text()
    report = json.loads((run["out"] / "comparison.json").read_text())
    for model in report["models"]:  # a headline row and a per-emotion F1 row each
        rows = [line for line in md.splitlines() if line.startswith(f"| {model['name']} |")]
        assert len(rows) == 2
        assert f"{model['accuracy']:.4f}" in rows[0]
    assert "## Recommendations" in md and "at most 1.00M parameters" in md
    plots = [
        "accuracy_vs_params.png",
        "accuracy_vs_speed.png",
        "per_class_f1.png",
        "label_distribution.png",
        "confusion_given.png",
    ]
    plots.append(next(p.name for p in run["out"].glob("confusion_*layers-1.png")))
    for name in plots:
        assert f"]({name})" in md
        image = matplotlib.image.imread(run["out"] / name)  # a valid, decodable PNG
        assert image.shape[0] > 100 and image.shape[1] > 100


def test_cli_prints_table_and_recommendations(run: dict[str, Any]) -> None:
    output = run["output"]
    assert "texts/s" in output and "accuracy" in output
    assert "> best overall by macro_f1:" in output
    assert "> at least 1 short texts/s:" in output


def figures(name: str, params: int, speed: float, accuracy: float) -> ModelFigures:
    metrics = {"accuracy": accuracy, "macro_f1": accuracy - 0.05}
    return ModelFigures(
        name, name, "given", None, params, 0, None, {"short": speed, "long": speed / 10}, metrics
    )


def test_recommendations_per_budget() -> None:
    models = [
        figures("big", 100_000_000, 100, 0.93),
        figures("mid", 20_000_000, 400, 0.925),
        figures("small", 5_000_000, 1000, 0.80),
    ]
    lines = recommend(models, "accuracy", max_params=[25_000_000, 1_000_000], min_speed=[300])
    assert lines[0].startswith("best overall by accuracy: big")
    assert lines[1].startswith("at most 25.0M parameters: mid")
    assert lines[2] == "at most 1.00M parameters: none of the models"
    assert lines[3].startswith("at least 300 short texts/s: mid")
    assert lines[4].startswith("smallest within 1 point of the best accuracy: mid")
    assert lines[5].startswith("fastest within 1 point of the best accuracy: mid")
    default = recommend(models, "macro_f1")  # medians as budgets
    assert default[1].startswith("at most 20.0M parameters: mid")
    assert default[2].startswith("at least 400 short texts/s: mid")


def test_names_and_counts() -> None:
    assert slug("minilm:layers=3") == "minilm-layers-3"
    assert unique_names(["/a/model", "/b/model", "minilm:layers=2", "/x/t:layers=3"]) == [
        "model",
        "model-2",
        "minilm:layers=2",
        "t:layers=3",
    ]
    assert parse_count(None, None, ("20M", "800k", "5e6", "1.5M")) == [  # type: ignore[arg-type]
        20_000_000,
        800_000,
        5_000_000,
        1_500_000,
    ]


def one_line(args: list[str]) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_bad_compare_input_is_one_line(run: dict[str, Any], tmp_path: Path) -> None:
    data = str(run["data"])
    out = str(tmp_path / "out")
    cases = [
        ([], "nothing to compare"),
        (["--model", str(tmp_path / "missing")], "no such folder"),
        (["--base-model", "minilm:layers=0"], "layers must be at least 1"),
        (["--base-model", "minilm:layers=9"], "only 6 layers"),
        (["--base-model", "minilm:width=2"], "unknown option 'width'"),
        (["--base-model", "not a model"], "not a folder, a hub id"),
    ]
    for extra, message in cases:
        assert message in one_line(["compare", "--data", data, "-o", out, *extra])
    assert not (tmp_path / "out").exists()


def test_output_folder_rules(run: dict[str, Any], tmp_path: Path) -> None:
    from emolabel.evaluation.compare import compare

    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(EmolabelError, match="not empty"):
        compare(models=[run["given"]], data=run["data"], output_dir=tmp_path / "busy")
    with pytest.raises(EmolabelError, match="does not look like a comparison"):
        compare(
            models=[run["given"]], data=run["data"], output_dir=tmp_path / "busy", overwrite=True
        )
    assert (tmp_path / "busy" / "notes.txt").exists()


def test_ctrl_c_is_interrupted(
    run: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emolabel.errors import Interrupted
    from emolabel.evaluation import compare as compare_module

    def stop(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(compare_module, "time_models", stop)
    with pytest.raises(Interrupted, match="--overwrite to start over"):
        compare_module.compare(models=[run["given"]], data=run["data"], output_dir=tmp_path / "a")
    args = ["compare", "--data", str(run["data"]), "--model", str(run["given"])]
    result = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "b"), "--quiet"])
    assert result.exit_code == 130 and "compare interrupted" in result.output
    assert not (tmp_path / "b" / "comparison.json").exists()


def test_interrupted_training_says_compare_has_no_resume(
    run: dict[str, Any], tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emolabel.errors import Interrupted
    from emolabel.evaluation import compare as compare_module

    def stopped_training(*args: Any, **kwargs: Any) -> None:
        raise Interrupted("training interrupted: run it again with --resume")

    monkeypatch.setattr(compare_module, "train", stopped_training)
    with pytest.raises(Interrupted, match="compare has no --resume"):
        compare_module.compare(
            base_models=[f"{tiny_model_dir}:layers=1"], data=run["data"], output_dir=tmp_path
        )
