"""The net under annotate's input handling (issue 18): hypothesis mutates small real files of
every input format, bytes and structure, and every outcome must be a finished output or one
EmolabelError line — never another exception, never a partial output or leftover files."""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emolabel.annotation.pipeline import annotate
from emolabel.errors import EmolabelError
from emolabel.inference import EmotionClassifier

ROWS = {
    "id": [1, 2, 3, 4],
    "text": ["i am so happy", "what, a \"quoted\" day", "", "naïve café ünïcode 😀"],
    "likes": [3, 0, 12, 7],
}
FORMATS = ["csv", "tsv", "jsonl", "parquet", "txt"]
EXAMPLES = int(os.environ.get("EMOLABEL_FUZZ_EXAMPLES", "50"))


def seed_bytes(fmt: str) -> bytes:
    df = pl.DataFrame(ROWS)
    if fmt == "csv":
        return df.write_csv().encode()
    if fmt == "tsv":
        return df.write_csv(separator="\t").encode()
    if fmt == "jsonl":
        return df.write_ndjson().encode()
    if fmt == "txt":
        return ("\n".join(ROWS["text"]) + "\n").encode()
    buffer = io.BytesIO()
    pq.write_table(pa.table(ROWS), buffer)
    return buffer.getvalue()


STRUCTURED = [
    b"\n",  # blank line
    b",",  # an extra field
    b"\t",
    b'"',  # an unbalanced quote
    b"\xff\xfe",  # invalid UTF-8
    b"\xef\xbb\xbf",  # a BOM in the middle
    b'{"text": "a \\ud800 b"}\n',  # a lone surrogate escape
    b'{"text": ["not", "a", "string"]}\n',
    b'{"text": 12345}\n',
    b"id,text,text\n",  # a duplicate header
    b"[1, 2, 3]\n",
    b"\x00",
    b"x" * 70_000,  # a row longer than a read block
]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    fmt = draw(st.sampled_from(FORMATS))
    data = bytearray(seed_bytes(fmt))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["flip", "cut", "insert", "structured", "duplicate"]))
        if kind == "flip" and data:
            at = min(where, len(data) - 1)
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[where:]
        elif kind == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "structured":
            data[where:where] = draw(st.sampled_from(STRUCTURED))
        else:
            line_end = data.find(b"\n", where)
            line_start = data.rfind(b"\n", 0, where) + 1
            if line_end > 0:
                data[line_end + 1 : line_end + 1] = data[line_start : line_end + 1]
    return fmt, bytes(data)


@pytest.fixture(scope="module")
def classifier(tiny_model_dir: Path) -> EmotionClassifier:
    return EmotionClassifier.load(tiny_model_dir, precision="fp32")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    case=mutated(),
    out_fmt=st.sampled_from(["parquet", "jsonl", "csv"]),
    on_error=st.sampled_from(["fail", "skip"]),
    encoding_errors=st.sampled_from(["strict", "replace"]),
)
def test_every_outcome_is_a_finished_output_or_one_error_line(
    classifier: EmotionClassifier,
    case: tuple[str, bytes],
    out_fmt: str,
    on_error: str,
    encoding_errors: str,
) -> None:
    fmt, data = case
    folder = Path(tempfile.mkdtemp(prefix="emolabel-fuzz-"))
    try:
        src = folder / f"in.{fmt}"
        src.write_bytes(data)
        out = folder / f"out.{out_fmt}"
        try:
            summary = annotate(
                src,
                out,
                model=classifier,
                chunk_rows=2,
                on_error=on_error,
                encoding_errors=encoding_errors,
            )
        except EmolabelError as exc:
            message = str(exc)
            assert message and "\n" not in message, repr(message)
            assert sorted(os.listdir(folder)) == [src.name], "a failed run left files"
            return
        assert sorted(os.listdir(folder)) == sorted([src.name, out.name])
        assert _rows_in(out, out_fmt) == summary.rows
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _rows_in(path: Path, fmt: str) -> int:
    if fmt == "parquet":
        return pq.read_metadata(path).num_rows
    if fmt == "jsonl":
        return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if json.loads(line))
    return len(pl.read_csv(path, infer_schema=False))
