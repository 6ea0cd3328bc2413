"""Multi-label training data: label lists in every format, GoEmotions as it ships, label maps,
ids + names files, the union of several sources, and the errors (file and line)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest

from emolabel.errors import EmolabelError
from emolabel.training.data import (
    TrainingData,
    load_labelled_split,
    load_training_data,
    read_label_map,
)
from emolabel.training.labels import EKMAN_GROUPS

GOEMOTIONS_28 = (
    "admiration amusement anger annoyance approval caring confusion curiosity desire "
    "disappointment disapproval disgust embarrassment excitement fear gratitude grief joy love "
    "nervousness optimism pride realization relief remorse sadness surprise neutral"
).split()
GO_NAMES = ["admiration", "amusement", "anger", "joy", "sadness", "surprise", "neutral"]
GO_TRAIN = [
    ("Thanks, that made my day", "0,3"),
    ('"He said ""no way"" and left "', "2"),  # CSV-style quoting inside the TSV
    ("lol that is hilarious", "1"),
    ("I am so sorry for your loss", "4"),
    ("Wait, what? Really?", "5"),
    ("ok", "6"),
    ("This is great news, congrats!", "0,3,5"),
    ("ugh, that is awful", "2,4"),
    ("haha nice one", "1,3"),
    ("meh", "6"),
    ("Thanks, that made my day", "3,5"),  # same text, other labels: merged (union)
]
GO_DEV = [("well done you", "0"), ("what a sad day", "4"), ("no idea", "6"), ("wow", "5")]


def write_goemotions(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "emotions.txt").write_text("\n".join(GO_NAMES), "utf-8")  # no final newline
    for name, rows in (("train.tsv", GO_TRAIN), ("dev.tsv", GO_DEV)):
        body = "".join(f"{text}\t{ids}\tc{i:06d}\n" for i, (text, ids) in enumerate(rows))
        (folder / name).write_text(body, "utf-8")
    return folder


def label_sets(data: TrainingData, split: str) -> dict[str, set[str]]:
    rows = data.splits[split]
    pairs = zip(rows["text"], rows["labels"], strict=True)
    return {t: {data.labels[i] for i in ids} for t, ids in pairs}


def error_of(*args: object, **kwargs: object) -> str:
    with pytest.raises(EmolabelError) as info:
        load_training_data(*args, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    return message


# ----------------------------------------------------------------------------- GoEmotions
def test_goemotions_folder_as_it_ships_needs_no_flag(tmp_path: Path) -> None:
    data = load_training_data(write_goemotions(tmp_path / "goemotions"))
    assert data.multi_label
    assert data.labels == GO_NAMES  # emotions.txt order
    assert any("GoEmotions" in line and "emotions.txt" in line for line in data.detected)
    assert any(line.startswith("multi-label") for line in data.detected)
    train = label_sets(data, "train")
    assert train['He said "no way" and left'] == {"anger"}  # quotes undone, text stripped
    assert train["This is great news, congrats!"] == {"admiration", "joy", "surprise"}
    # a duplicated text with another label set is one row with the union
    assert train["Thanks, that made my day"] == {"admiration", "joy", "surprise"}
    assert data.stats["train"].merged_duplicates == 1
    assert data.stats["train"].dropped_duplicates == 1
    assert data.sizes() == {"train": 10, "validation": 4}
    assert data.validation_from == "file (dev.tsv)"
    assert data.validation_sources == {"goemotions": [0, 1, 2, 3]}
    # every row's ids are sorted and non-empty
    assert all(ids == sorted(ids) and ids for ids in data.splits["train"]["labels"])


def test_goemotions_with_the_ekman_map(tmp_path: Path) -> None:
    data = load_training_data(write_goemotions(tmp_path / "go"), label_map="ekman")
    assert data.labels == ["anger", "joy", "sadness", "surprise", "neutral"]  # map order
    train = label_sets(data, "train")
    assert train["haha nice one"] == {"joy"}  # amusement + joy -> one label
    assert train["This is great news, congrats!"] == {"joy", "surprise"}
    assert data.multi_label and data.label_map == "ekman"


def test_goemotions_unknown_id_names_file_and_line(tmp_path: Path) -> None:
    folder = write_goemotions(tmp_path / "go")
    lines = (folder / "train.tsv").read_text("utf-8").splitlines(keepends=True)
    lines[3] = "broken row\t3,9\tcxxxxxx\n"
    (folder / "train.tsv").write_text("".join(lines), "utf-8")
    message = error_of(folder)
    assert "train.tsv:4" in message and "label id 9 is not in the label mapping" in message
    data = load_training_data(folder, on_error="skip")
    assert data.stats["train"].dropped_bad_label == 1
    assert any("1 row(s) with unreadable labels dropped" in w for w in data.warnings)


def test_goemotions_file_gzipped_and_alone(tmp_path: Path) -> None:
    folder = write_goemotions(tmp_path / "go")
    (folder / "train.tsv.gz").write_bytes(gzip.compress((folder / "train.tsv").read_bytes()))
    data = load_training_data(folder / "train.tsv.gz", val_fraction=0.3)
    assert data.multi_label and data.labels[0] == "admiration"
    assert data.dataset_name == "train.tsv.gz"


# ----------------------------------------------------------------------------- formats
LIST_ROWS = [
    ("what a lovely surprise", ["joy", "surprise"]),
    ("i am furious and sad", ["anger", "sadness"]),
    ("sunny day", ["joy"]),
    ("so angry", ["anger"]),
    ("crying alone", ["sadness"]),
    ("unexpected news", ["surprise"]),
    ("happy and calm", ["joy"]),
    ("rage", ["anger"]),
]


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "json"])
def test_label_lists_in_jsonl_json_and_parquet(tmp_path: Path, fmt: str) -> None:
    frame = pl.DataFrame({"text": [t for t, _ in LIST_ROWS], "labels": [y for _, y in LIST_ROWS]})
    path = tmp_path / f"train.{fmt}"
    if fmt == "jsonl":
        frame.write_ndjson(path)
    elif fmt == "parquet":
        frame.write_parquet(path)
    else:
        path.write_text(json.dumps(frame.to_dicts()), "utf-8")
    data = load_training_data(path, val_fraction=0.5)
    assert data.multi_label and data.label_column == "labels"
    sets = {**label_sets(data, "train"), **label_sets(data, "validation")}
    assert sets == {t: set(y) for t, y in LIST_ROWS}


def test_csv_label_separator(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"text": [t for t, _ in LIST_ROWS], "emotion": [" | ".join(y) for _, y in LIST_ROWS]}
    )
    frame.write_csv(tmp_path / "d.csv")
    data = load_training_data(tmp_path / "d.csv", label_separator="|", val_fraction=0.5)
    sets = {**label_sets(data, "train"), **label_sets(data, "validation")}
    assert sets == {t: set(y) for t, y in LIST_ROWS}
    # without the separator each joined cell is one (single-label) class
    plain = load_training_data(tmp_path / "d.csv", val_fraction=0.5)
    assert not plain.multi_label and "joy | surprise" in plain.labels


def test_integer_ids_with_a_names_file_given(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("0\tcalm\n1\tangry\n2\tglad\n", "utf-8")
    rows = [{"text": f"row {i}", "ids": [[0], [1, 2], [2]][i % 3]} for i in range(9)]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    data = load_training_data(tmp_path / "d.jsonl", label_names=names, val_fraction=0.34)
    assert data.labels == ["calm", "angry", "glad"] and data.multi_label
    rows[4]["ids"] = [1, 7]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    message = error_of(tmp_path / "d.jsonl", label_names=names)
    assert "d.jsonl:5" in message and "label id 7" in message


def test_empty_label_list_is_an_error_with_line_or_skipped(tmp_path: Path) -> None:
    rows = [{"text": t, "labels": y} for t, y in LIST_ROWS]
    rows.insert(2, {"text": "nothing here", "labels": []})
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    message = error_of(tmp_path / "d.jsonl")
    assert "d.jsonl:3: empty label list" in message and "--on-error skip" in message
    data = load_training_data(tmp_path / "d.jsonl", on_error="skip", val_fraction=0.5)
    assert data.stats["train"].dropped_bad_label == 1
    assert "nothing here" not in data.splits["train"]["text"]


# ----------------------------------------------------------------------------- modes
def test_multi_label_forced_on_single_label_data_and_refused_by_single(tmp_path: Path) -> None:
    rows = [f"text {i};{['joy', 'anger', 'fear'][i % 3]}\n" for i in range(12)]
    (tmp_path / "d.txt").write_text("".join(rows), "utf-8")
    data = load_training_data(tmp_path / "d.txt", multi_label=True, val_fraction=0.25)
    assert data.multi_label and set(data.splits["train"].column_names) == {"text", "labels"}
    assert all(len(ids) == 1 for ids in data.splits["train"]["labels"])
    single = load_training_data(tmp_path / "d.txt", val_fraction=0.25)
    assert not single.multi_label and "label" in single.splits["train"].column_names
    frame = pl.DataFrame({"text": [t for t, _ in LIST_ROWS], "labels": [y for _, y in LIST_ROWS]})
    frame.write_ndjson(tmp_path / "m.jsonl")
    message = error_of(tmp_path / "m.jsonl", multi_label=False)
    assert "m.jsonl:1: 2 labels (joy, surprise) in single-label mode" in message


# ----------------------------------------------------------------------------- label maps
def test_label_map_file_merges_renames_and_keeps_unnamed(tmp_path: Path) -> None:
    (tmp_path / "map.json").write_text(
        json.dumps({"positive": ["joy", "surprise"], "negative": ["anger"]}), "utf-8"
    )
    frame = pl.DataFrame({"text": [t for t, _ in LIST_ROWS], "labels": [y for _, y in LIST_ROWS]})
    frame.write_ndjson(tmp_path / "d.jsonl")
    data = load_training_data(
        tmp_path / "d.jsonl", label_map=tmp_path / "map.json", val_fraction=0.5
    )
    assert data.labels == ["positive", "negative", "sadness"]  # map order, then unnamed
    sets = {**label_sets(data, "train"), **label_sets(data, "validation")}
    assert sets["what a lovely surprise"] == {"positive"}
    assert sets["i am furious and sad"] == {"negative", "sadness"}
    assert any("not named by the label map" in w and "sadness (2)" in w for w in data.warnings)


def test_unmapped_labels_drop_and_rows_left_without_labels(tmp_path: Path) -> None:
    (tmp_path / "map.json").write_text(
        json.dumps({"bad": ["anger", "sadness"], "good": ["calm"]}), "utf-8"
    )
    rows = "".join(f"t{i};{y}\n" for i, y in enumerate(["anger", "calm", "joy", "sadness"] * 4))
    (tmp_path / "d.txt").write_text(rows, "utf-8")
    the_map = str(tmp_path / "map.json")
    message = error_of(tmp_path / "d.txt", label_map=the_map, unmapped_labels="drop")
    assert "d.txt:3: label(s) 'joy' are all unknown to the label map" in message
    data = load_training_data(
        tmp_path / "d.txt",
        label_map=the_map,
        unmapped_labels="drop",
        on_error="skip",
        val_fraction=0.25,
    )
    assert data.labels == ["bad", "good"]
    assert data.stats["train"].dropped_bad_label == 4
    assert any("joy (4)" in w and "dropped" in w for w in data.warnings)
    kept = load_training_data(tmp_path / "d.txt", label_map=the_map, val_fraction=0.25)
    assert kept.labels == ["bad", "good", "joy"]  # default: unnamed labels keep their name


def test_read_label_map_builtin_and_errors(tmp_path: Path) -> None:
    ekman = read_label_map("ekman")
    assert ekman["amusement"] == "joy" and ekman["love"] == "joy" and ekman["optimism"] == "joy"
    assert ekman["nervousness"] == "fear" and ekman["neutral"] == "neutral"
    assert ekman["joy"] == "joy"  # a group maps to itself
    assert sum(len(m) for m in EKMAN_GROUPS.values()) == 28  # 27 emotions + neutral
    with pytest.raises(EmolabelError, match="not a built-in map"):
        read_label_map(str(tmp_path / "missing.json"))
    (tmp_path / "two.json").write_text(json.dumps({"a": ["x"], "b": ["x"]}), "utf-8")
    with pytest.raises(EmolabelError, match="'x' is in two groups"):
        read_label_map(str(tmp_path / "two.json"))
    (tmp_path / "bad.json").write_text(json.dumps({"a": 3}), "utf-8")
    with pytest.raises(EmolabelError, match="must list label names"):
        read_label_map(str(tmp_path / "bad.json"))


# ----------------------------------------------------------------------------- union
def write_dair(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    labels = ["sadness", "joy", "love", "anger", "fear", "surprise"]
    (folder / "train.txt").write_text(
        "".join(f"dair text {i} {y};{y}\n" for i in range(3) for y in labels), "utf-8"
    )
    (folder / "val.txt").write_text("\n" + "".join(f"dair val {y};{y}\n" for y in labels), "utf-8")
    return folder


def write_tweeteval(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mapping.txt").write_text("0\tanger\n1\tjoy\n2\toptimism\n3\tsadness", "utf-8")
    for split, n in (("train", 8), ("val", 4)):
        (folder / f"{split}_text.txt").write_text(
            "".join(f"tweet {split} {i} \n" for i in range(n)), "utf-8"
        )
        (folder / f"{split}_labels.txt").write_text("".join(f"{i % 4}\n" for i in range(n)))
    return folder


def test_union_of_three_sources_with_ekman(tmp_path: Path) -> None:
    sources = [
        write_dair(tmp_path / "emotion"),
        write_tweeteval(tmp_path / "tweeteval_emotion"),
        write_goemotions(tmp_path / "goemotions"),
    ]
    data = load_training_data([str(s) for s in sources], label_map="ekman")
    assert data.labels == ["anger", "fear", "joy", "sadness", "surprise", "neutral"]
    assert data.multi_label  # GoEmotions brings rows with several labels
    assert data.sizes()["train"] == 18 + 8 + 10
    # (the small GoEmotions fixture has 7 labels, so it is named by its folder)
    assert data.dataset_name == "dair-ai/emotion + cardiffnlp/tweet_eval (emotion) + goemotions"
    vs = data.validation_sources
    assert list(vs) == ["dair-ai/emotion", "cardiffnlp/tweet_eval (emotion)", "goemotions"]
    assert vs["dair-ai/emotion"] == list(range(6)) and vs[
        "cardiffnlp/tweet_eval (emotion)"
    ] == list(range(6, 10))
    texts = data.splits["validation"]["text"]
    assert [texts[i] for i in vs["goemotions"]] == [t for t, _ in GO_DEV]
    sets = label_sets(data, "train")
    assert sets["dair text 0 love"] == {"joy"} and sets["tweet train 2"] == {"joy"}  # optimism
    summary = data.summary()
    assert summary["source"] == data.dataset_name and str(tmp_path) not in json.dumps(summary)
    assert [s["dataset"] for s in summary["sources"]] == list(vs)


def test_union_without_map_orders_by_source_and_refuses_a_source_twice(tmp_path: Path) -> None:
    a, b = write_dair(tmp_path / "emotion"), write_tweeteval(tmp_path / "tw")
    data = load_training_data([str(a), str(b)])
    assert data.labels == ["sadness", "joy", "love", "anger", "fear", "surprise", "optimism"]
    assert not data.multi_label
    assert "given twice" in error_of([str(a), str(a) + "/"])


def test_a_source_repeated_weighs_its_train_rows_n_times(tmp_path: Path) -> None:
    a, b = write_dair(tmp_path / "emotion"), write_tweeteval(tmp_path / "tw")
    once = load_training_data([str(a), str(b)])
    data = load_training_data([str(a), f"{b}:repeat=3"])
    assert data.sizes()["train"] == once.sizes()["train"] + 2 * 8  # the 8 tweets 3 times
    assert data.sizes()["validation"] == once.sizes()["validation"]  # scored once
    train = data.splits["train"]["text"]
    assert train.count("tweet train 2") == 3 and train.count("dair text 0 love") == 1
    assert [s["repeat"] for s in data.summary()["sources"]] == [1, 3]
    assert "repeat=0" in error_of([str(a), f"{b}:repeat=0"])
    assert "given twice" in error_of([str(b), f"{b}:repeat=2"])


def test_labelled_split_multi_label_for_evaluation(tmp_path: Path) -> None:
    folder = write_goemotions(tmp_path / "go")
    split = load_labelled_split(folder, split="dev")
    assert not split.multi_label and split.labels == [
        "admiration",
        "sadness",
        "neutral",
        "surprise",
    ]
    train = load_labelled_split(folder, split="train", label_map="ekman")
    assert train.multi_label and train.labels[0] == ["joy"]
    assert ["joy", "surprise"] in train.labels  # duplicates kept, each row as given
    assert len(train.texts) == len(GO_TRAIN)


# ----------------------------------------------------------------------------- names
def test_dataset_name_is_never_a_development_path(tmp_path: Path) -> None:
    data = load_training_data(write_dair(tmp_path / "some" / "dev" / "path"))
    assert data.dataset_name == "dair-ai/emotion"
    assert data.summary()["source"] == "dair-ai/emotion"
    assert data.validation_from == "file (val.txt)"
    go = write_goemotions(tmp_path / "dev" / "go")
    (go / "emotions.txt").write_text("\n".join(GOEMOTIONS_28), "utf-8")
    assert load_training_data(go).dataset_name == "google-research-datasets/go_emotions"
    other = tmp_path / "mine.csv"
    pl.DataFrame({"text": [f"t {i}" for i in range(8)], "label": ["a", "b"] * 4}).write_csv(other)
    assert load_training_data(other, val_fraction=0.25).dataset_name == "mine.csv"


def test_missing_local_folder_is_named_before_the_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emolabel.training import hub_datasets

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub_datasets, "hub_reachable", lambda timeout=3.0: False)
    message = error_of("data/emotion")
    assert message.startswith("--data data/emotion: no such file or folder here")
    assert message.index("no such file or folder") < message.index("hub")
