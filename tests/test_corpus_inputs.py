"""Many files, folders, globs, stdin and stdout (issue 17), through open_corpus and
CorpusWriter; stdin and stdout through real pipes in a subprocess."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from emolabel.errors import EmolabelError
from emolabel.io import CorpusWriter, OutputClosed, open_corpus, output_format

ROOT = Path(__file__).resolve().parents[1]


def all_rows(reader: object) -> list[dict[str, object]]:
    return [row for batch in reader for row in batch.to_pylist()]  # type: ignore[attr-defined]


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "days" / "2024").mkdir(parents=True)
    (tmp_path / "days" / "b.csv").write_text("text,likes\nb1,1\nb2,2\n")
    (tmp_path / "days" / "a.jsonl").write_text('{"text": "a1", "n": 5}\n')
    (tmp_path / "days" / "2024" / "c.csv").write_text("text\nc1\n")
    (tmp_path / "days" / "_SUCCESS").write_text("")
    (tmp_path / "days" / ".b.csv.crc").write_text("junk")
    return tmp_path


def test_folder_reads_files_sorted_with_source_and_union(corpus: Path) -> None:
    reader = open_corpus("days", source_column="source")
    assert reader.files == ["days/2024/c.csv", "days/a.jsonl", "days/b.csv"]
    assert reader.schema.names == ["text", "n", "likes", "source"]
    assert all_rows(reader) == [
        {"text": "c1", "n": None, "likes": None, "source": "days/2024/c.csv"},
        {"text": "a1", "n": 5, "likes": None, "source": "days/a.jsonl"},
        {"text": "b1", "n": None, "likes": "1", "source": "days/b.csv"},
        {"text": "b2", "n": None, "likes": "2", "source": "days/b.csv"},
    ]
    sizes = sum(os.path.getsize(f) for f in reader.files)
    assert reader.total_bytes == sizes and reader.position() == sizes


def test_paths_keep_their_order_and_glob_is_sorted(corpus: Path) -> None:
    reader = open_corpus(["days/b.csv", "days/a.jsonl"])
    assert [r["text"] for r in all_rows(reader)] == ["b1", "b2", "a1"]
    assert "source" not in reader.schema.names
    globbed = open_corpus("days/*.csv", source_column="file")
    assert globbed.files == ["days/b.csv"]
    assert [r["file"] for r in all_rows(globbed)] == ["days/b.csv", "days/b.csv"]


def test_schema_clash_names_the_file(corpus: Path) -> None:
    pq.write_table(pa.table({"text": ["p"], "likes": [[1, 2]]}), corpus / "lists.parquet")
    with pytest.raises(EmolabelError, match=r"lists.parquet: .*likes"):
        open_corpus(["days/b.csv", "lists.parquet"])
    (corpus / "body.csv").write_text("body\nx\n")
    with pytest.raises(EmolabelError, match=r"body.csv: no column named 'text'"):
        open_corpus(["days/b.csv", "body.csv"])
    with pytest.raises(EmolabelError, match="--source-column likes"):
        open_corpus(["days/b.csv"], source_column="likes")


def test_rejects_across_files_name_their_file(corpus: Path) -> None:
    (corpus / "ragged.csv").write_text("text,likes\nok,1\nbad,1,2\n")
    reader = open_corpus(["days/b.csv", "ragged.csv"], on_error="skip")
    assert len(all_rows(reader)) == 3
    assert [(r.file, r.line) for r in reader.rejected] == [("ragged.csv", 3)]


def _python(code: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], input=stdin, capture_output=True, env=env, timeout=120
    )


READ_STDIN = (
    "import sys\nfrom emolabel.io import open_corpus\n"
    "r = open_corpus('-', format=(sys.argv[1:] or [None])[0])\n"
    "print(r.format, [row['text'] for b in r for row in b.to_pylist()])\n"
)


@pytest.mark.parametrize(
    "data",
    [
        b'{"text": "a"}\n{"text": "b"}\n',
        b'[{"text": "a"}, {"text": "b"}]',
        gzip.compress(b'{"text": "a"}\n{"text": "b"}\n'),
    ],
    ids=["jsonl", "json-array", "gzip-jsonl"],
)
def test_stdin_sniffs_json(data: bytes) -> None:
    done = _python(READ_STDIN, data)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == "jsonl ['a', 'b']"


def test_stdin_csv_needs_format(tmp_path: Path) -> None:
    refused = _python(READ_STDIN, b"text\na\n")
    assert refused.returncode != 0
    assert b"<stdin>: cannot tell the format" in refused.stderr
    assert b"--format csv" in refused.stderr
    long_rows = b"text\n" + b"".join(b'"' + b"x" * 70000 + b'"\n' for _ in range(3))
    code = READ_STDIN.replace("row['text']", "len(row['text'])") + ""
    done = _python(code.replace("format=(sys.argv[1:] or [None])[0]", "format='csv'"), long_rows)
    assert done.returncode == 0, done.stderr  # a row longer than a block: re-read from spool
    assert done.stdout.decode().strip() == "csv [70000, 70000, 70000]"


def test_stdin_parquet_is_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": ["p", "q"]}), path)
    done = _python(READ_STDIN, path.read_bytes())
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == "parquet ['p', 'q']"


WRITE_STDOUT = (
    "import sys, pyarrow as pa\nfrom emolabel.io import CorpusWriter, OutputClosed\n"
    "schema = pa.schema([('text', pa.string()), ('emotions', pa.list_(pa.string()))])\n"
    "batch = pa.RecordBatch.from_pylist([{'text': 'a,b', 'emotions': ['joy', 'love']}] * 2,"
    " schema=schema)\n"
    "w = CorpusWriter('-', sys.argv[1], schema)\n"
    "try:\n"
    "    for _ in range(int(sys.argv[2])):\n"
    "        w.write(batch)\n"
    "    w.close()\n"
    "except OutputClosed as exc:\n"
    "    print('closed:', exc, file=sys.stderr)\n"
)


def test_stdout_streams_csv_and_jsonl() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for fmt, expected in (
        ("csv", '"text","emotions"\n"a,b","joy|love"\n"a,b","joy|love"\n"a,b","joy|love"\n'),
        ("jsonl", '{"text":"a,b","emotions":["joy","love"]}\n' * 3),
    ):
        done = subprocess.run(
            [sys.executable, "-c", WRITE_STDOUT, fmt, "2"],
            capture_output=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.decode().splitlines(keepends=True)
        assert "".join(lines[: 4 if fmt == "csv" else 3]) == expected
    with pytest.raises(EmolabelError, match="--output-format"):
        CorpusWriter("-", "parquet", pa.schema([("text", pa.string())]))
    assert output_format("-") == ("jsonl", False)
    assert output_format("-", "csv") == ("csv", False)
    with pytest.raises(EmolabelError, match="--output-format jsonl, csv or tsv"):
        output_format("-", "parquet")


def test_closed_pipe_raises_output_closed() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITE_STDOUT, "jsonl", "200000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert writer.stdout is not None
    first = writer.stdout.readline()
    writer.stdout.close()  # as `| head -1` does
    _, stderr = writer.communicate(timeout=120)
    assert first.startswith(b'{"text":"a,b"')
    assert writer.returncode == 0, stderr
    assert b"closed: stdout was closed" in stderr
    assert b"Traceback" not in stderr and b"Exception ignored" not in stderr
    assert issubclass(OutputClosed, EmolabelError)
