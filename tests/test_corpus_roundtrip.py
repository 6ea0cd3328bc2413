"""Property-based round trips: whatever text goes in comes back out, every value and row."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emolabel.io import DEFAULT_BLOCK_BYTES, CorpusWriter, open_corpus, rechunk

HOSTILE = [
    '"',
    '""',
    "'",
    ",",
    "\t",
    ";",
    "|",
    "\n",
    "\r\n",
    "\r",
    "\\n",
    "\\",
    "\x00",
    "😀",
    "👩‍👩‍👧",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u202e",
    "مرحبا",
    "שלום",
    "é",
    "\u2028",
    "{",
    "}",
    "[",
    "]",
    ":",
    "null",
    "NaN",
    " ",
    "  leading",
    "trailing  ",
]
fragments = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20),
)
texts = st.lists(fragments, max_size=8).map("".join)
long_texts = st.builds(lambda t, n: (t or "x") * n, texts, st.integers(1000, 20000))
cell = st.one_of(texts, texts, texts, long_texts)
rows = st.lists(cell, min_size=1, max_size=25)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def round_trip(values: list[str], fmt: str, suffix: str) -> list[str]:
    schema = pa.schema([("id", pa.string()), ("text", pa.string())])
    batch = pa.record_batch(
        [pa.array([str(i) for i in range(len(values))]), pa.array(values)], schema=schema
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"data{suffix}"
        with CorpusWriter(path, fmt, schema, gzipped=suffix.endswith(".gz")) as writer:
            writer.write(batch)
        reader = open_corpus(path, text_column="text", batch_rows=7)
        got = pa.Table.from_batches(list(rechunk(iter(reader), 5)))
    assert got.column("id").to_pylist() == [str(i) for i in range(len(values))]
    return got.column("text").to_pylist()


@SETTINGS
@given(rows)
def test_csv_round_trip(values: list[str]) -> None:
    assert round_trip(values, "csv", ".csv") == values


@SETTINGS
@given(rows)
def test_tsv_gz_round_trip(values: list[str]) -> None:
    assert round_trip(values, "tsv", ".tsv.gz") == values


@SETTINGS
@given(rows)
def test_jsonl_round_trip(values: list[str]) -> None:
    assert round_trip(values, "jsonl", ".jsonl") == values


@SETTINGS
@given(rows)
def test_parquet_round_trip(values: list[str]) -> None:
    assert round_trip(values, "parquet", ".parquet") == values


@SETTINGS
@given(st.lists(cell.map(lambda t: t.replace("\r", "").replace("\n", "")), min_size=1))
def test_txt_round_trip(values: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lines.txt"
        path.write_bytes("".join(v + "\n" for v in values).encode("utf-8"))
        reader = open_corpus(path, batch_rows=3)
        got = [t for batch in reader for t in batch.column("text").to_pylist()]
    expected = list(values)
    if expected and expected[0].startswith("\ufeff"):
        expected[0] = expected[0][1:]  # a leading BOM is an encoding mark, not text
    assert got == expected


@pytest.mark.parametrize("where", [0, 3, 90_000])  # in the first read block, or far after it
@pytest.mark.parametrize(("fmt", "suffix"), [("csv", ".csv"), ("tsv", ".tsv.gz")])
def test_rows_longer_than_a_read_block(where: int, fmt: str, suffix: str) -> None:
    """A 3 MB field (quotes, newlines) outgrows the read block: read again, bigger, twice."""
    values = [f"short text {i}" for i in range(100_000)]
    values[where] = 'a "quoted"\nline, with\ttabs ' * 110_000
    assert round_trip(values, fmt, suffix) == values


def test_rejected_rows_are_counted_once_when_the_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    long = '"' + "very long text " * 200_000 + '"'
    filler = "".join(f"f{i},filler row {i}\n" for i in range(80_000))  # past the first block
    text = f"id,text\n1,fine\n2,too,many\n{filler}3,{long}\n4,also fine\n"
    path.write_text(text, encoding="utf-8")
    reader = open_corpus(path, text_column="text", on_error="skip")
    got = pa.Table.from_batches(list(iter(reader)))
    ids = got.column("id").to_pylist()
    assert len(ids) == 80_003
    assert [i for i in ids if not i.startswith("f")] == ["1", "3", "4"]
    assert len(reader.rejected) == 1
    assert "expected 2 columns, got 3" in reader.rejected[0].reason


@pytest.mark.parametrize("block", [1, 5])  # the first read block, or a later one
@pytest.mark.parametrize("encoding_errors", ["strict", "replace"])
def test_crlf_inside_a_quoted_field_on_a_block_boundary(
    block: int, encoding_errors: str, tmp_path: Path
) -> None:
    """pyarrow 26 drops the LF of a quoted CRLF whose CR is the last byte of a read block."""
    rows = [("id", "text")]
    text = "id,text\n"
    while len(text) < block * DEFAULT_BLOCK_BYTES - 2_000:
        rows.append((f"f{len(rows)}", "filler"))
        text += f"{rows[-1][0]},filler\n"
    prefix = f'{text}0,"'
    value = "a" * (block * DEFAULT_BLOCK_BYTES - 1 - len(prefix)) + "\r\nb"
    assert (prefix + value).index("\r") == block * DEFAULT_BLOCK_BYTES - 1
    path = tmp_path / "data.csv"
    path.write_bytes(f'{prefix}{value}"\n1,x\n'.encode())
    reader = open_corpus(path, text_column="text", encoding_errors=encoding_errors)
    got = pa.Table.from_batches(list(iter(reader)))
    assert got.column("text").to_pylist()[-2:] == [value, "x"]
    assert got.num_rows == len(rows) - 1 + 2
