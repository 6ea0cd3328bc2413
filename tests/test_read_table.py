"""read_table (training/evaluation data) and resolve_inputs: the io pieces other commands
read through, on small files built here."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from emolabel.errors import EmolabelError
from emolabel.io import open_corpus, read_table, resolve_inputs

CSV = 'text,label\nhello,joy\n"two\nlines",sadness\nbye,anger\n'


def test_csv_gz_reads_like_csv_with_start_lines(tmp_path: Path) -> None:
    plain = tmp_path / "train.csv"
    plain.write_text(CSV)
    packed = tmp_path / "train.csv.gz"
    packed.write_bytes(gzip.compress(CSV.encode()))
    for path in (plain, packed):
        loaded = read_table(path)
        assert loaded.format == "csv"
        assert loaded.text_column == "text"
        assert loaded.table.column("text").to_pylist() == ["hello", "two\nlines", "bye"]
        assert loaded.table.column("label").to_pylist() == ["joy", "sadness", "anger"]
        assert loaded.lines == [2, 3, 5]


def test_text_column_rule_is_annotates(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("title,review,label\nGreat,I loved every minute of it,joy\n")
    with pytest.raises(EmolabelError, match="pass --text-column") as raised:
        read_table(path)
    with pytest.raises(EmolabelError) as annotate_raised:
        open_corpus(path)
    assert str(raised.value) == str(annotate_raised.value)
    assert read_table(path, text_column="review").text_column == "review"
    assert read_table(path, choose=False).text_column is None
    two = tmp_path / "two.csv"
    two.write_text("review,label\nI loved every minute of it,joy\n")
    assert read_table(two, exclude_columns=["label"]).text_column == "review"


def test_headerless_tsv_with_column_names(tmp_path: Path) -> None:
    path = tmp_path / "train.tsv"
    path.write_text("hello\tjoy\nbye\tsadness\n")
    loaded = read_table(path, header=False, column_names=["text", "label"])
    assert loaded.table.to_pylist() == [
        {"text": "hello", "label": "joy"},
        {"text": "bye", "label": "sadness"},
    ]
    assert loaded.lines == [1, 2]
    assert read_table(path, header=False, choose=False).table.column_names == ["f0", "f1"]


def test_semicolon_lines_with_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "train.txt"
    path.write_text("i feel great;joy\ni am sad;sadness\n")
    loaded = read_table(
        path, format="csv", delimiter=";", header=False, column_names=["text", "label"]
    )
    assert loaded.table.column("label").to_pylist() == ["joy", "sadness"]


@pytest.mark.parametrize(
    ("body", "fmt", "lines"),
    [
        ('[\n {"text": "a", "label": 1},\n {"text": "b",\n  "label": 2}\n]\n', "json", [2, 3]),
        ('{"text": "a", "label": 1}\n\n{"text": "b", "label": 2}\n', "jsonl", [1, 3]),
    ],
)
def test_json_is_an_array_or_lines(tmp_path: Path, body: str, fmt: str, lines: list[int]) -> None:
    path = tmp_path / "train.json"
    path.write_text(body)
    loaded = read_table(path)
    assert loaded.format == fmt
    assert loaded.lines == lines
    assert loaded.table.to_pylist() == [{"text": "a", "label": 1}, {"text": "b", "label": 2}]
    assert [b.to_pylist() for b in open_corpus(path)] == [loaded.table.to_pylist()]


def test_json_array_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[\n {"text": "a"},\n 3\n]\n')
    with pytest.raises(EmolabelError, match=r"bad.json line 3: an array element that is not"):
        read_table(path)


def test_csv_rejects_keep_lines(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("text,label\na,joy\nb,joy,extra\nc,sadness\nd\n")
    loaded = read_table(path, on_error="skip")
    assert loaded.table.column("text").to_pylist() == ["a", "c"]
    assert loaded.lines == [2, 4]
    assert [(r.line, r.raw) for r in loaded.rejected] == [(3, "b,joy,extra"), (5, "d")]


def test_parquet_has_no_lines(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "train.parquet"
    pq.write_table(pa.table({"text": ["a", "b"], "label": [0, 1]}), path)
    loaded = read_table(path)
    assert loaded.lines is None and loaded.text_column == "text"
    assert loaded.table.num_rows == 2


def test_resolve_inputs_folders_globs_and_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "2024").mkdir(parents=True)
    for name in ("data/b.csv", "data/a.csv", "data/2024/c.jsonl", "data/.hidden.csv"):
        (tmp_path / name).write_text("text\nx\n")
    (tmp_path / "data" / "_SUCCESS").write_text("")
    (tmp_path / "data" / "README.md").write_text("")
    (tmp_path / "z.csv").write_text("text\nz\n")
    given = resolve_inputs(["z.csv", "data"], absolute=False)
    assert given == ["z.csv", "data/2024/c.jsonl", "data/a.csv", "data/b.csv"]
    assert resolve_inputs("data/*.csv", absolute=False) == ["data/a.csv", "data/b.csv"]
    assert resolve_inputs("z.csv") == [str(tmp_path / "z.csv")]
    assert resolve_inputs(["-"]) == ["-"]
    with pytest.raises(EmolabelError, match="no file matches"):
        resolve_inputs("data/*.parquet")
    with pytest.raises(EmolabelError, match="no such file or folder"):
        resolve_inputs("missing")
