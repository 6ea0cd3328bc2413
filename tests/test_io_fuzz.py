"""Fuzzing the readers: byte-level and structured mutations of small valid files in every
input format either read (every batch in the announced schema) or raise EmolabelError —
never another exception. A bounded budget (hypothesis, no deadline) so CI stays quick."""

from __future__ import annotations

import gzip
import io
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emolabel.errors import EmolabelError
from emolabel.io import open_corpus, read_table


def _parquet_bytes() -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"text": ["hello", "bye"], "likes": [1, 2]}), sink)
    return sink.getvalue()


SEEDS: dict[str, bytes] = {
    "in.csv": b'id,text\n1,hello\n2,"quoted, with\r\nnewline"\n3,bye\n',
    "in.tsv": b"id\ttext\n1\thello\n2\tbye\n",
    "in.jsonl": b'{"text": "hello", "n": 1}\n{"text": "bye \\ud83d\\ude00", "n": 2.5}\n',
    "in.json": b'[{"text": "hello"}, {"text": "bye", "tags": ["a"]}]',
    "in.txt": b"hello\nbye\n",
    "in.parquet": _parquet_bytes(),
}
SEEDS["in.csv.gz"] = gzip.compress(SEEDS["in.csv"])
NOISE = [
    b"",
    b",",
    b"\t",
    b'"',
    b"\r",
    b"\n",
    b"\xff",
    b"\xef\xbb\xbf",
    b"{",
    b"[",
    b"]",
    b"\\ud800",
    b"\x00",
    b"text",
    b";",
    b"|",
    b'"text"',
]

edit = st.tuples(
    st.sampled_from(["insert", "delete", "replace", "truncate", "duplicate"]),
    st.floats(0, 1),
    st.sampled_from(NOISE) | st.binary(max_size=4),
)


def mutate(data: bytes, edits: list[tuple[str, float, bytes]]) -> bytes:
    for kind, where, piece in edits:
        at = int(where * len(data))
        if kind == "insert":
            data = data[:at] + piece + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + 1 + len(piece) :]
        elif kind == "replace":
            data = data[:at] + piece + data[at + len(piece) :]
        elif kind == "truncate":
            data = data[:at]
        else:
            data = data[:at] + data[at:] + data[at:]
    return data


def read_everything(path: Path, **options: object) -> None:
    reader = open_corpus(path, batch_rows=2, **options)  # type: ignore[arg-type]
    for batch in reader:
        assert batch.schema.names == reader.schema.names
    read_table(path, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(SEEDS))
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.lists(edit, min_size=1, max_size=3), skip=st.booleans())
def test_mutated_inputs_read_or_fail_cleanly(
    name: str, edits: list[tuple[str, float, bytes]], skip: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(mutate(SEEDS[name], edits))
        options = {"on_error": "skip", "encoding_errors": "replace"} if skip else {}
        try:
            read_everything(path, **options)
        except EmolabelError as exc:
            assert "\n" not in str(exc), str(exc)
