"""Training data goes through io's one reader (issue 14): gzip, annotate's text-column rule,
errors with file and line, and `emolabel train --data x.csv.gz` end to end."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from emolabel.cli import main
from emolabel.errors import EmolabelError
from emolabel.io import open_corpus
from emolabel.training.data import load_training_data

ROWS = [
    (f"{w} text number {i}", y)
    for i in range(6)
    for w, y in (("happy", "joy"), ("sad", "sadness"), ("angry", "anger"))
]


def write_csv(path: Path, columns: dict[str, list[str]]) -> Path:
    pl.DataFrame(columns).write_csv(path)
    return path


def annotate_choice(path: Path) -> str:
    """The column annotate would label (its reader's rule), or the refusal."""
    try:
        return open_corpus(path).text_column
    except EmolabelError as exc:
        return f"refused: {exc}"


def train_choice(path: Path) -> str:
    try:
        return str(load_training_data(path, val_fraction=0.3).text_column)
    except EmolabelError as exc:
        return f"refused: {exc}"


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (("text", "label"), "text"),
        (("tweet", "note", "label"), "tweet"),
        (("title", "review", "label"), "refused"),  # behaviour change: train used `review`
        (("title", "text", "body", "label"), "refused"),
    ],
)
def test_annotate_and_train_choose_the_same_text_column(
    tmp_path: Path, columns: tuple[str, ...], expected: str
) -> None:
    data = {name: [f"{name} {t}" for t, _ in ROWS] for name in columns if name != "label"}
    path = write_csv(tmp_path / "d.csv", {**data, "label": [y for _, y in ROWS]})
    by_annotate, by_train = annotate_choice(path), train_choice(path)
    if expected == "refused":
        assert by_annotate.startswith("refused") and by_train.startswith("refused")
        assert "--text-column" in by_train
    else:
        assert by_annotate == by_train == expected


def test_gzipped_csv_jsonl_and_tsv_read_like_plain_ones(tmp_path: Path) -> None:
    plain = write_csv(
        tmp_path / "d.csv", {"text": [t for t, _ in ROWS], "label": [y for _, y in ROWS]}
    )
    want = load_training_data(plain, val_fraction=0.3)
    for name, body in (
        ("d.csv.gz", plain.read_bytes()),
        ("d.tsv.gz", plain.read_text().replace(",", "\t").encode()),
        (
            "d.jsonl.gz",
            "".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in ROWS).encode(),
        ),
    ):
        (tmp_path / name).write_bytes(gzip.compress(body))
        got = load_training_data(tmp_path / name, val_fraction=0.3)
        assert got.labels == want.labels
        assert list(got.splits["train"]["text"]) == list(want.splits["train"]["text"])


def test_label_errors_name_the_line_after_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text('text,label\n"two\nlines",joy\nfine,sadness\nbad,0.5\n', "utf-8")
    with pytest.raises(EmolabelError, match=r"d\.csv:5: label 0\.5 is not a class"):
        load_training_data(path)


def test_train_cli_on_a_gzipped_csv(tmp_path: Path, tiny_model_dir: Path) -> None:
    words = {"joy": "happy", "sadness": "sad", "anger": "angry"}
    rows = [(f"so {words[y]} now {i}", y) for i in range(8) for y in words]
    body = "text,label\n" + "".join(f"{t},{y}\n" for t, y in rows)
    (tmp_path / "x.csv.gz").write_bytes(gzip.compress(body.encode()))
    out = tmp_path / "model"
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--data",
            str(tmp_path / "x.csv.gz"),
            "-o",
            str(out),
            "-q",
            "--base-model",
            str(tiny_model_dir),
            "--epochs",
            "1",
            "--threads",
            "1",
            "--precision",
            "fp32",
            "--batch-size",
            "8",
            "--max-length",
            "16",
        ],
    )
    assert result.exit_code == 0, result.output
    info = json.loads((out / "emolabel.json").read_text())
    assert info["data"]["source"] == "x.csv.gz"  # the dataset's name, not a local path
    assert sorted(info["labels"]) == ["anger", "joy", "sadness"]


def test_train_cli_missing_folder_is_named_before_the_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emolabel.training import hub_datasets

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(hub_datasets, "hub_reachable", lambda timeout=3.0: False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    result = CliRunner().invoke(main, ["train", "--data", "data/emotion", "-o", "m", "-q"])
    assert result.exit_code == 2
    assert "--data data/emotion: no such file or folder here" in result.output


def test_models_json_records_the_dataset_name_not_a_path() -> None:
    result = CliRunner().invoke(main, ["models", "--json"])
    assert result.exit_code == 0, result.output
    models = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    assert models
    assert [m["data"] for m in models] == [  # never ../shared/data/...
        "google-research-datasets/go_emotions + cardiffnlp/tweet_eval (emotion) + dair-ai/emotion",
        "google-research-datasets/go_emotions",
    ]


def test_the_label_column_is_never_the_text_column(tmp_path: Path) -> None:
    # The one rule, less the label column: annotate (no label column) refuses two string
    # columns; train knows `label` holds labels, so `review` is the only candidate left.
    path = write_csv(
        tmp_path / "d.csv", {"review": [t for t, _ in ROWS], "label": [y for _, y in ROWS]}
    )
    assert annotate_choice(path).startswith("refused")
    assert train_choice(path) == "review"
