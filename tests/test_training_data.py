"""Training data: every local format, label naming and order, cleaning, splits, bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from emolabel.errors import EmolabelError
from emolabel.training import data as training_data
from emolabel.training import hub_datasets
from emolabel.training.data import (
    DAIR_AI_EMOTION_LABELS,
    load_labelled_split,
    load_training_data,
    split_of_name,
)

ROWS = [
    ("i am so happy today", "joy"),
    ("what a wonderful surprise party", "joy"),
    ("i love this sunny morning", "joy"),
    ("everything went great at work", "joy"),
    ("i miss my old friends so much", "sadness"),
    ("the funeral was heartbreaking", "sadness"),
    ("i cried all night long", "sadness"),
    ("nobody came to my birthday", "sadness"),
    ("how dare you lie to me", "anger"),
    ("this traffic makes me furious", "anger"),
    ("stop shouting at me right now", "anger"),
    ("i hate waiting in these queues", "anger"),
]


def write_semicolon(path: Path, rows: list[tuple[str, str]], lead: str = "") -> Path:
    path.write_text(lead + "".join(f"{t};{label}\n" for t, label in rows), encoding="utf-8")
    return path


def texts_of(data: training_data.TrainingData, split: str) -> list[str]:
    return list(data.splits[split]["text"])


def names_of(data: training_data.TrainingData, split: str) -> list[str]:
    return [data.labels[i] for i in data.splits[split]["label"]]


# ----------------------------------------------------------------------------- formats
def test_semicolon_lines_split_on_last_semicolon_and_skip_blank_lines(tmp_path: Path) -> None:
    rows = [*ROWS, ("one; two; three", "anger")]
    path = write_semicolon(tmp_path / "train.txt", rows, lead="\n")  # like val.txt's first byte
    data = load_training_data(path, val_fraction=0.25, seed=1)
    all_texts = texts_of(data, "train") + texts_of(data, "validation")
    assert sorted(all_texts) == sorted(t for t, _ in rows)
    all_names = names_of(data, "train") + names_of(data, "validation")
    pairs = dict(zip(all_texts, all_names, strict=True))
    assert pairs["one; two; three"] == "anger"
    assert data.labels == ["anger", "joy", "sadness"]  # not the dair-ai set: sorted names


def test_csv_tsv_jsonl_json_and_parquet_give_the_same_rows(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "id": list(range(len(ROWS))),
            "text": [t for t, _ in ROWS],
            "label": [label for _, label in ROWS],
        }
    )
    frame.write_csv(tmp_path / "d.csv")
    frame.write_csv(tmp_path / "d.tsv", separator="\t")
    frame.write_ndjson(tmp_path / "d.jsonl")
    frame.write_parquet(tmp_path / "d.parquet")
    (tmp_path / "d.json").write_text(json.dumps(frame.to_dicts()), encoding="utf-8")
    results = {}
    for name in ("d.csv", "d.tsv", "d.jsonl", "d.parquet", "d.json"):
        data = load_training_data(tmp_path / name, val_fraction=0.25, seed=3)
        assert data.text_column == "text" and data.label_column == "label"
        results[name] = (texts_of(data, "train"), texts_of(data, "validation"), data.labels)
    first = results["d.csv"]
    assert len(first[0]) == 9 and len(first[1]) == 3
    assert all(value == first for value in results.values())


def test_csv_with_quoted_commas_and_newlines(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    lines = ["text,label"] + [f'"{t}, really\nyes",{label}' for t, label in ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = load_training_data(path, val_fraction=0.25)
    assert all(", really\nyes" in t for t in texts_of(data, "train"))


def test_tweeteval_folder_with_mapping_and_trailing_spaces(tmp_path: Path) -> None:
    folder = tmp_path / "tweeteval"
    folder.mkdir()
    (folder / "mapping.txt").write_text("0\tanger\n1\tjoy\n2\toptimism\n3\tsadness", "utf-8")
    train = [
        ("so angry right now  ", 0),
        ("best day ever ", 1),
        ("it will get better ", 2),
        ("i feel down    ", 3),
        ("furious about this ", 0),
        ("lovely stuff ", 1),
        ("things improve ", 2),
        ("crying again ", 3),
        ("so angry right now  ", 0),
    ]
    val = [("rage ", 0), ("yay ", 1), ("hope ", 2), ("sad ", 3)]
    for split, rows in (("train", train), ("val", val)):
        (folder / f"{split}_text.txt").write_text("".join(f"{t}\n" for t, _ in rows), "utf-8")
        (folder / f"{split}_labels.txt").write_text("".join(f"{y}\n" for _, y in rows), "utf-8")
    data = load_training_data(folder)
    assert data.labels == ["anger", "joy", "optimism", "sadness"]  # mapping order
    assert "so angry right now" in texts_of(data, "train")
    assert all(t == t.rstrip() for t in texts_of(data, "train"))
    assert data.stats["train"].dropped_duplicates == 1  # equal once stripped
    assert names_of(data, "validation") == ["anger", "joy", "optimism", "sadness"]
    assert data.validation_from.startswith("file")


def test_folder_of_split_files_by_name(tmp_path: Path) -> None:
    write_semicolon(tmp_path / "train.txt", ROWS)
    write_semicolon(tmp_path / "dev.txt", ROWS[::4])
    write_semicolon(tmp_path / "test.txt", ROWS[1::4])
    (tmp_path / "README.md").write_text("not data")
    data = load_training_data(tmp_path)
    assert data.sizes() == {"train": 12, "validation": 3, "test": 3}
    assert data.train_validation_overlap == 3
    assert any("both train and validation" in w for w in data.warnings)


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("train.csv", "train"),
        ("emotion_dev.jsonl", "validation"),
        ("val_text.txt", "validation"),
        ("validation.parquet", "validation"),
        ("test-set.tsv", "test"),
        ("notes.csv", None),
    ],
)
def test_split_names(name: str, split: str | None) -> None:
    assert split_of_name(name) == split


def test_hub_dataset_uses_classlabel_names(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "label": datasets.ClassLabel(names=list(DAIR_AI_EMOTION_LABELS)),
        }
    )
    texts = [f"text number {i}" for i in range(24)]

    def fake_load(name: str) -> datasets.DatasetDict:
        assert name == "dair-ai/emotion"

        def make(n: int) -> datasets.Dataset:
            labels = [i % 6 for i in range(n)]
            return datasets.Dataset.from_dict(
                {"text": texts[:n], "label": labels}, features=features
            )

        return datasets.DatasetDict({"train": make(24), "validation": make(12), "test": make(6)})

    monkeypatch.setattr(hub_datasets, "hub_reachable", lambda timeout=3.0: True)
    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    data = load_training_data("dair-ai/emotion")
    assert data.labels == list(DAIR_AI_EMOTION_LABELS)
    assert data.sizes() == {"train": 24, "validation": 12, "test": 6}
    assert names_of(data, "train")[:3] == ["sadness", "joy", "love"]


# ----------------------------------------------------------------------------- labels
def test_dair_ai_label_set_keeps_hf_order(tmp_path: Path) -> None:
    rows = [(f"text {i} {name}", name) for i in range(3) for name in DAIR_AI_EMOTION_LABELS]
    data = load_training_data(write_semicolon(tmp_path / "d.txt", rows), val_fraction=0.34)
    assert data.labels == ["sadness", "joy", "love", "anger", "fear", "surprise"]
    assert data.splits["train"].features["label"].names == data.labels


def test_integer_labels_without_mapping_sort_numerically(tmp_path: Path) -> None:
    rows = [{"text": f"row {i}", "label": [2, 10, 1][i % 3]} for i in range(12)]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    data = load_training_data(path, val_fraction=0.25)
    assert data.labels == ["1", "2", "10"]


def test_integer_labels_named_by_mapping_next_to_csv(tmp_path: Path) -> None:
    (tmp_path / "mapping.txt").write_text("calm\nangry\n", "utf-8")  # one name a line
    pl.DataFrame({"text": [f"row {i}" for i in range(8)], "label": [0, 1] * 4}).write_csv(
        tmp_path / "train.csv"
    )
    data = load_training_data(tmp_path / "train.csv", val_fraction=0.25)
    assert data.labels == ["calm", "angry"]


def test_hundreds_of_classes(tmp_path: Path) -> None:
    rows = [(f"sample {i} of class {c}", f"class{c:03d}") for c in range(300) for i in range(2)]
    data = load_training_data(write_semicolon(tmp_path / "d.txt", rows), val_fraction=0.5)
    assert len(data.labels) == 300
    assert set(names_of(data, "validation")) == set(data.labels)  # every class held out once


def test_detects_other_column_names_and_honours_overrides(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "tweet": [t for t, _ in ROWS],
            "emotion": [y for _, y in ROWS],
            "note": [f"a much longer column of text, row {i}" for i in range(12)],
        }
    )
    frame.write_csv(tmp_path / "d.csv")
    data = load_training_data(tmp_path / "d.csv", val_fraction=0.25)
    assert (data.text_column, data.label_column) == ("tweet", "emotion")
    data = load_training_data(
        tmp_path / "d.csv", text_column="note", label_column="emotion", val_fraction=0.25
    )
    assert all(t.startswith("a much longer column") for t in texts_of(data, "train"))


def test_two_unnamed_string_columns_are_ambiguous_as_for_annotate(tmp_path: Path) -> None:
    # Behaviour change (issue 14): train uses annotate's text-column rule, which refuses two
    # string columns with no well-known name instead of guessing the longer one.
    frame = pl.DataFrame({"sentence_body": [t for t, _ in ROWS], "y_true": [y for _, y in ROWS]})
    frame.write_parquet(tmp_path / "d.parquet")
    message = error_of(tmp_path / "d.parquet", val_fraction=0.25)
    assert "cannot tell which column holds the text" in message and "--text-column" in message
    data = load_training_data(
        tmp_path / "d.parquet", text_column="sentence_body", val_fraction=0.25
    )
    assert (data.text_column, data.label_column) == ("sentence_body", "y_true")


# ----------------------------------------------------------------------------- cleaning
def test_drops_and_counts_empty_texts_missing_labels_and_duplicates(tmp_path: Path) -> None:
    rows = [{"text": t, "label": y} for t, y in ROWS]
    rows += [
        {"text": None, "label": "joy"},
        {"text": "   ", "label": "joy"},
        {"text": "no label here", "label": None},
        {"text": ROWS[0][0], "label": "joy"},
        {"text": ROWS[0][0], "label": "sadness"},
    ]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    data = load_training_data(path, val_fraction=0.25)
    stats = data.stats["train"]
    assert stats.rows_read == 17
    assert stats.dropped_empty_text == 2
    assert stats.dropped_missing_label == 1
    assert stats.dropped_duplicates == 1
    total_conflicts = stats.conflicting_texts + data.stats["validation"].conflicting_texts
    kept = texts_of(data, "train") + texts_of(data, "validation")
    assert kept.count(ROWS[0][0]) == 2  # the conflicting pair is kept and reported
    assert total_conflicts in (0, 1) and len(kept) == 13


def test_conflicting_labels_are_reported(tmp_path: Path) -> None:
    rows = [*ROWS, ("i am so happy today", "sadness")]
    write_semicolon(tmp_path / "train.txt", rows)
    write_semicolon(tmp_path / "val.txt", ROWS[:3])
    data = load_training_data(tmp_path)
    assert data.stats["train"].conflicting_texts == 1
    assert data.stats["train"].conflict_examples == ["i am so happy today -> joy/sadness"]


def test_stratified_split_is_seeded_and_keeps_every_class_in_train(tmp_path: Path) -> None:
    rows = (
        [(f"joy text {i}", "joy") for i in range(50)]
        + [(f"sad text {i}", "sadness") for i in range(20)]
        + [("lonely anger", "anger")]
    )
    path = write_semicolon(tmp_path / "d.txt", rows)
    a = load_training_data(path, val_fraction=0.2, seed=7)
    b = load_training_data(path, val_fraction=0.2, seed=7)
    c = load_training_data(path, val_fraction=0.2, seed=8)
    assert texts_of(a, "validation") == texts_of(b, "validation")
    assert texts_of(a, "validation") != texts_of(c, "validation")
    val_names = names_of(a, "validation")
    assert val_names.count("joy") == 10 and val_names.count("sadness") == 4
    assert "anger" in names_of(a, "train")  # a one-row class stays in train
    assert not set(texts_of(a, "train")) & set(texts_of(a, "validation"))
    assert a.validation_from == "stratified 0.2 of train (seed 7)"


def test_labelled_split_for_evaluation_keeps_duplicates(tmp_path: Path) -> None:
    write_semicolon(tmp_path / "train.txt", ROWS)
    write_semicolon(tmp_path / "val.txt", [ROWS[0], ROWS[0], ROWS[5], ("", "joy")])
    split = load_labelled_split(tmp_path, split="dev")
    assert split.split == "validation"
    assert split.texts == [ROWS[0][0], ROWS[0][0], ROWS[5][0]]
    assert split.stats.dropped_empty_text == 1
    whole = load_labelled_split(tmp_path / "train.txt", split="test")  # one file: all rows
    assert len(whole.texts) == 12


# ----------------------------------------------------------------------------- bad inputs
def error_of(*args: object, **kwargs: object) -> str:
    with pytest.raises(EmolabelError) as info:
        load_training_data(*args, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    assert "not found" in error_of(tmp_path / "nope.csv")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    assert "empty.csv is empty" in error_of(tmp_path / "empty.csv")
    (tmp_path / "blank.txt").write_text("\n\n")
    assert "no text;label lines" in error_of(tmp_path / "blank.txt")


def test_header_only_csv(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("text,label\n")
    assert "header but no rows" in error_of(tmp_path / "h.csv")


def test_unknown_label_column_names_file_and_columns(tmp_path: Path) -> None:
    pl.DataFrame({"text": ["a b c"], "label": ["joy"]}).write_csv(tmp_path / "d.csv")
    message = error_of(tmp_path / "d.csv", label_column="emotion")
    assert "d.csv has no column 'emotion'" in message
    assert "columns: text, label" in message and "--label-column" in message


def test_no_label_column_detected(tmp_path: Path) -> None:
    pl.DataFrame({"text": ["a b"], "x": [1], "y2": [2]}).write_csv(tmp_path / "d.csv")
    assert "no label column found" in error_of(tmp_path / "d.csv")


def test_one_class_only(tmp_path: Path) -> None:
    path = write_semicolon(tmp_path / "d.txt", [(f"text {i}", "joy") for i in range(10)])
    assert "only one class ('joy')" in error_of(path)


def test_validation_label_unseen_in_training(tmp_path: Path) -> None:
    write_semicolon(tmp_path / "train.txt", ROWS)
    write_semicolon(tmp_path / "val.txt", [("a frightening night", "fear")])
    message = error_of(tmp_path)
    assert "val.txt" in message and "'fear'" in message and "never occur in training" in message


def test_line_without_semicolon(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text("good;joy\nno separator here\n")
    assert "d.txt:2 has no ';'" in error_of(tmp_path / "d.txt")


def test_parallel_files_of_different_length(tmp_path: Path) -> None:
    (tmp_path / "train_text.txt").write_text("a\nb\nc\n")
    (tmp_path / "train_labels.txt").write_text("0\n1\n")
    assert "3 lines but train_labels.txt has 2" in error_of(tmp_path)


def test_label_file_with_a_name_and_an_id_outside_the_mapping(tmp_path: Path) -> None:
    (tmp_path / "train_text.txt").write_text("a\nb\n")
    (tmp_path / "train_labels.txt").write_text("0\njoy\n")
    assert "train_labels.txt:2: label 'joy' is not an integer id" in error_of(tmp_path)
    (tmp_path / "train_labels.txt").write_text("0\n7\n")
    (tmp_path / "mapping.txt").write_text("0\tanger\n1\tjoy")
    assert "label id 7 is not in the label mapping" in error_of(tmp_path)


def test_mixed_ids_and_names(tmp_path: Path) -> None:
    rows = [{"text": "aa", "label": 1}, {"text": "bb", "label": "joy"}]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert "mixes integer ids and label names" in error_of(tmp_path / "d.jsonl")


def test_float_labels(tmp_path: Path) -> None:
    pl.DataFrame({"text": ["aa", "bb"], "label": [0.5, 1.0]}).write_csv(tmp_path / "f.csv")
    assert "f.csv:2: label 0.5 is not a class" in error_of(tmp_path / "f.csv")


def test_invalid_json_line(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text('{"text": "a", "label": "joy"}\n{broken\n')
    assert "d.jsonl line 2: malformed JSON" in error_of(tmp_path / "d.jsonl")  # io's message


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_bytes("caf\xe9;joy\n".encode("latin-1"))
    assert "not UTF-8" in error_of(tmp_path / "d.txt")


def test_unsupported_extension(tmp_path: Path) -> None:
    (tmp_path / "d.xlsx").write_bytes(b"PK")
    assert "unsupported file type .xlsx" in error_of(tmp_path / "d.xlsx")


def test_folder_without_split_files_or_with_two_train_files(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("text,label\na,b\n")
    assert "holds no split files" in error_of(tmp_path)
    write_semicolon(tmp_path / "train.txt", ROWS)
    pl.DataFrame({"text": ["x"], "label": ["joy"]}).write_csv(tmp_path / "train.csv")
    assert "several train files (train.csv, train.txt)" in error_of(tmp_path)


def test_folder_with_only_a_test_split(tmp_path: Path) -> None:
    write_semicolon(tmp_path / "test.txt", ROWS)
    assert "has no training split (found: test)" in error_of(tmp_path)


def test_too_few_rows_for_validation(tmp_path: Path) -> None:
    path = write_semicolon(tmp_path / "d.txt", [("a", "joy"), ("b", "sadness")])
    assert "too few rows (2)" in error_of(path)


def test_bad_val_fraction(tmp_path: Path) -> None:
    assert "--val-fraction 1.5" in error_of(tmp_path, val_fraction=1.5)


def test_hub_unreachable_names_local_alternative(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub_datasets, "hub_reachable", lambda timeout=3.0: False)
    message = error_of("dair-ai/emotion")
    assert "cannot reach the Hugging Face hub" in message and "--data ./emotion/" in message


def test_hub_load_failure_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    def broken(name: str) -> None:
        raise ConnectionError("Couldn't reach 'owner/missing' on the Hub\nsecond line")

    monkeypatch.setattr(hub_datasets, "hub_reachable", lambda timeout=3.0: True)
    monkeypatch.setattr(datasets, "load_dataset", broken)
    message = error_of("owner/missing")
    # issue 18: the missing local path is named before anything about the hub
    assert message.startswith("--data owner/missing: no such file or folder here")
    assert "could not load hub dataset owner/missing: Couldn't reach" in message


def test_evaluation_split_missing(tmp_path: Path) -> None:
    write_semicolon(tmp_path / "train.txt", ROWS)
    with pytest.raises(EmolabelError, match="has no test split"):
        load_labelled_split(tmp_path, split="test")
    with pytest.raises(EmolabelError, match="--split holdout"):
        load_labelled_split(tmp_path, split="holdout")
