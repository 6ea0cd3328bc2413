"""Inputs that used to label the wrong thing or crash (issue 18), through the io API: each
gives the right rows or one EmolabelError naming the file, line or column."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from emolabel.errors import EmolabelError
from emolabel.io import LIST_SEPARATOR, CorpusWriter, open_corpus, read_table


def rows(path: Path, **options: object) -> list[dict[str, object]]:
    reader = open_corpus(path, **options)  # type: ignore[arg-type]
    return [row for batch in reader for row in batch.to_pylist()]


@pytest.mark.parametrize("name", ["dup.csv", "dup.tsv", "dup.jsonl", "dup.parquet"])
def test_duplicate_column_names_are_refused_in_every_format(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.endswith(".csv"):
        path.write_text("text,text,likes\nhello,there,12345\n")
    elif name.endswith(".tsv"):
        path.write_text("text\ttext\tlikes\nhello\tthere\t12345\n")
    elif name.endswith(".jsonl"):
        path.write_text('{"text": "hello", "text": "there", "likes": 12345}\n')
    else:
        table = pa.Table.from_arrays(
            [pa.array(["hello"]), pa.array(["there"]), pa.array([12345])],
            names=["text", "text", "likes"],
        )
        pq.write_table(table, path)
    for read in (open_corpus, read_table):
        with pytest.raises(EmolabelError, match=rf"{name}.*duplicate column name 'text'"):
            read(path)


def test_a_key_given_twice_deep_in_a_jsonl_file_is_refused(tmp_path: Path) -> None:
    """json.loads keeps the last of two equal keys: every record is checked, not only the
    records that fix the schema (the first 4,096 before 0.3.1)."""
    records = [
        json.dumps({"id": i, "text": f"text {i}", "note": 'says "a": b'}) for i in range(6000)
    ]
    records[5000] = '{"id": 5000, "text": "kept?", "text": "or this", "note": "x"}'
    path = tmp_path / "late.jsonl"
    path.write_text("\n".join(records) + "\n")
    with pytest.raises(EmolabelError, match=r"late\.jsonl line 5001: duplicate column name 'text'"):
        rows(path)
    reader = open_corpus(path, on_error="skip")
    kept = [row for batch in reader for row in batch.to_pylist()]
    assert len(kept) == 5999 and [r.line for r in reader.rejected] == [5001]
    assert kept[0]["note"] == 'says "a": b'  # a string holding `":` is no repeat
    nested = tmp_path / "nested.jsonl"
    nested.write_text('{"text": "hi", "meta": {"a": 1, "a": 2}}\n')
    with pytest.raises(EmolabelError, match="line 1: duplicate column name 'a'"):
        rows(nested)


def test_a_key_given_twice_in_a_json_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "array.json"
    path.write_text('[{"text": "a", "id": 1},\n {"text": "b", "id": 2, "id": 3}]')
    for read in (rows, read_table):
        with pytest.raises(EmolabelError, match=r"array\.json line 2: duplicate column name 'id'"):
            read(path)


def test_semicolon_csv_suggests_delimiter_and_reads_with_it(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("text;likes\nhello, world;12\nbye;3\n")
    with pytest.raises(EmolabelError, match=r"semi.csv: one column.*--delimiter ';'"):
        open_corpus(path)
    assert rows(path, delimiter=";") == [
        {"text": "hello, world", "likes": "12"},
        {"text": "bye", "likes": "3"},
    ]
    pipes = tmp_path / "pipes.csv"
    pipes.write_text("text|likes\nhello|1\n")
    with pytest.raises(EmolabelError, match=r"--delimiter '\|'"):
        open_corpus(pipes)
    tabs = tmp_path / "tabs.csv"
    tabs.write_text("text\tlikes\nhello\t1\n")
    with pytest.raises(EmolabelError, match=r"--delimiter '\\t'"):
        open_corpus(tabs)
    assert rows(tabs, delimiter="\\t") == [{"text": "hello", "likes": "1"}]
    with pytest.raises(EmolabelError, match="one character"):
        open_corpus(path, delimiter=";;")


def test_one_column_csv_without_separators_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("text\nhello; there\n")
    assert rows(path) == [{"text": "hello; there"}]


LONE = '{"text": "ok"}\n{"text": "a \\ud800 b"}\n{"text": "\\ud83d\\ude00 pair"}\n'


def test_lone_surrogate_strict_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "sur.jsonl"
    path.write_text(LONE)
    with pytest.raises(EmolabelError, match=r"sur.jsonl line 2: .*--encoding-errors replace"):
        rows(path)


def test_lone_surrogate_replace_and_skip(tmp_path: Path) -> None:
    path = tmp_path / "sur.jsonl"
    path.write_text(LONE)
    assert [r["text"] for r in rows(path, encoding_errors="replace")] == [
        "ok",
        "a \ufffd b",
        "\U0001f600 pair",
    ]
    reader = open_corpus(path, on_error="skip")
    texts = [r["text"] for b in reader for r in b.to_pylist()]
    assert texts == ["ok", "\U0001f600 pair"]
    assert [(r.line, json.loads(r.raw)["text"][:2]) for r in reader.rejected] == [(2, "a ")]


def test_csv_rejects_record_their_line(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text('id,text\n1,hello\n2,a,b\n3,"two\nlines"\n4,x,y,z\n5,bye\n')
    reader = open_corpus(path, on_error="skip")
    assert [r["id"] for b in reader for r in b.to_pylist()] == ["1", "3", "5"]
    assert [(r.line, r.raw) for r in reader.rejected] == [(3, "2,a,b"), (6, "4,x,y,z")]


def test_json_array_is_read_not_malformed(tmp_path: Path) -> None:
    path = tmp_path / "posts.json"
    path.write_text('[\n  {"text": "hello"},\n  {"text": "bye", "likes": 2}\n]\n')
    assert rows(path) == [{"text": "hello", "likes": None}, {"text": "bye", "likes": 2}]
    same = tmp_path / "posts.jsonl"  # an array in a .jsonl file is read too
    same.write_text(path.read_text())
    assert rows(same) == rows(path)


def test_list_columns_written_as_lists_or_joined(tmp_path: Path) -> None:
    schema = pa.schema([("text", pa.string()), ("emotions", pa.list_(pa.string()))])
    batch = pa.RecordBatch.from_pylist(
        [{"text": "a, b", "emotions": ["joy", "love"]}, {"text": "c", "emotions": None}],
        schema=schema,
    )
    for fmt in ("parquet", "jsonl", "csv", "tsv"):
        out = tmp_path / f"out.{fmt}"
        with CorpusWriter(out, fmt, schema) as writer:
            writer.write(batch)
        back = rows(out)
        if fmt in ("parquet", "jsonl"):
            assert [r["emotions"] for r in back] == [["joy", "love"], None], fmt
        else:
            assert [r["emotions"] for r in back] == [f"joy{LIST_SEPARATOR}love", ""], fmt
    assert LIST_SEPARATOR == "|"
    nested = pa.schema([("text", pa.string()), ("meta", pa.struct([("a", pa.int64())]))])
    with pytest.raises(EmolabelError, match="'meta' holds nested values"):
        CorpusWriter(tmp_path / "x.csv", "csv", nested)
    assert not (tmp_path / "x.csv").exists()


def test_invalid_utf8_in_header_or_ragged_row_is_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    header = tmp_path / "head.csv"
    header.write_bytes(b"te\x87xt,id\nhello,1\n")
    with pytest.raises(EmolabelError, match=r"head.csv line 1: invalid UTF-8"):
        open_corpus(header)
    assert rows(header, encoding_errors="replace") == [{"te\ufffdxt": "hello", "id": "1"}]
    ragged = tmp_path / "ragged.csv"
    ragged.write_bytes(b"id,text\n1,hello\n2,a\x87,b\n3,bye\n")
    for on_error in ("fail", "skip"):
        with pytest.raises(EmolabelError, match=r"ragged.csv line 3: invalid UTF-8"):
            rows(ragged, on_error=on_error)
    assert "Exception ignored" not in capfd.readouterr().err


def test_damaged_parquet_pages_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.parquet"
    pq.write_table(pa.table({"text": ["hello world"] * 100}), path, compression="none")
    data = bytearray(path.read_bytes())
    data[4:40] = b"," * 36  # the first data page's header, footer intact
    path.write_bytes(bytes(data))
    for read in (rows, read_table):
        with pytest.raises(EmolabelError, match=r"cut.parquet: not a readable parquet file"):
            read(path)
