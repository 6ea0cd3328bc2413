"""annotate over several files, a folder or a glob (one output, a source column, resume across
files), from stdin and to stdout through real pipes (issue 17)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from emolabel.annotation.pipeline import annotate
from emolabel.cli import main
from emolabel.errors import EmolabelError, Interrupted
from emolabel.events import Events
from emolabel.inference import EmotionClassifier

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def classifier(tiny_model_dir: Path) -> EmotionClassifier:
    return EmotionClassifier.load(tiny_model_dir, precision="fp32")


def write(path: Path, texts: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"text": texts, "n": list(range(len(texts)))}).write_csv(path)
    return path


def cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "emolabel", "annotate", *args],
        input=stdin,
        capture_output=True,
        env=ENV,
        timeout=300,
    )


def test_several_files_in_order_with_a_source_column(tmp_path: Path, tiny_model_dir: Path) -> None:
    a = write(tmp_path / "a.csv", ["i am happy", "so sad"])
    b = write(tmp_path / "b.csv", ["angry now", "", "what a surprise"])
    out = tmp_path / "out.parquet"
    args = ["annotate", str(b), str(a), "-o", str(out), "-m", str(tiny_model_dir), "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column("text").to_pylist() == [
        "angry now",
        "",
        "what a surprise",
        "i am happy",
        "so sad",
    ]
    assert table.column("source").to_pylist() == [str(b)] * 3 + [str(a)] * 2
    assert table.column_names.index("source") == table.column_names.index("emotion") - 1
    assert table.column("emotion").null_count == 1


def test_folder_and_glob_sorted_hidden_skipped_and_renamed_column(
    tmp_path: Path, classifier: EmotionClassifier
) -> None:
    folder = tmp_path / "days"
    write(folder / "2024-01-02.csv", ["second day"])
    write(folder / "2024-01-01.csv", ["first day", "still first"])
    write(folder / "_skipped.csv", ["never"])
    write(folder / ".hidden.csv", ["never"])
    out = tmp_path / "out.jsonl"
    summary = annotate(folder, out, model=classifier, source_column="file")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["text"] for r in rows] == ["first day", "still first", "second day"]
    assert [Path(r["file"]).name for r in rows] == ["2024-01-01.csv"] * 2 + ["2024-01-02.csv"]
    assert summary.rows == 3 and len(summary.inputs) == 2
    globbed = tmp_path / "glob.jsonl"
    annotate(str(folder / "*.csv"), globbed, model=classifier)
    assert [json.loads(line)["text"] for line in globbed.read_text().splitlines()] == [
        "first day",
        "still first",
        "second day",
    ]


def test_source_column_clash_is_refused(tmp_path: Path, classifier: EmotionClassifier) -> None:
    a = tmp_path / "a.csv"
    pl.DataFrame({"text": ["hi"], "source": ["web"]}).write_csv(a)
    b = write(tmp_path / "b.csv", ["there"])
    with pytest.raises(EmolabelError, match="source"):
        annotate([a, b], tmp_path / "out.parquet", model=classifier)
    assert not (tmp_path / "out.parquet").exists()
    annotate([a, b], tmp_path / "out.parquet", model=classifier, source_column="file")
    assert pq.read_table(tmp_path / "out.parquet").column("file").to_pylist() == [str(a), str(b)]


def test_resume_across_files_and_an_edited_second_file_is_refused(
    tmp_path: Path, classifier: EmotionClassifier
) -> None:
    class InterruptAfter(Events):
        def __init__(self) -> None:
            self.calls = 0

        def advance(self, rows: int, position: int) -> None:
            self.calls += 1
            if self.calls == 3:
                raise KeyboardInterrupt

    a = write(tmp_path / "a.csv", [f"text {i} happy" for i in range(250)])
    b = write(tmp_path / "b.csv", [f"text {i} sad" for i in range(250)])
    reference = tmp_path / "ref.parquet"
    annotate([a, b], reference, model=classifier, chunk_rows=100)
    out = tmp_path / "out.parquet"
    with pytest.raises(Interrupted):
        annotate([a, b], out, model=classifier, chunk_rows=100, events=InterruptAfter())
    summary = annotate([a, b], out, model=classifier, chunk_rows=100, resume=True)
    assert summary.resumed_chunks == 3 and summary.rows == 500
    assert pq.read_table(out).equals(pq.read_table(reference))

    out.unlink()
    with pytest.raises(Interrupted):
        annotate([a, b], out, model=classifier, chunk_rows=100, events=InterruptAfter())
    write(b, [f"text {i} sad" for i in range(251)])
    with pytest.raises(EmolabelError, match=r"b\.csv"):
        annotate([a, b], out, model=classifier, chunk_rows=100, resume=True)


def test_stdin_to_a_file_and_resume_refused(tmp_path: Path, tiny_model_dir: Path) -> None:
    data = pl.DataFrame({"text": ["i am happy", "", "so sad"]}).write_csv().encode()
    out = tmp_path / "out.parquet"
    done = cli("-", "--format", "csv", "-o", str(out), "-m", str(tiny_model_dir), stdin=data)
    assert done.returncode == 0, done.stderr.decode()
    assert pq.read_table(out).column("text").to_pylist()[::2] == ["i am happy", "so sad"]
    assert sorted(os.listdir(tmp_path)) == ["out.parquet"]
    again = cli("-", "--format", "csv", "-o", str(out), "-m", str(tiny_model_dir), "--resume")
    assert again.returncode == 2
    assert b"stdin cannot be read again" in again.stderr
    assert len(again.stderr.decode().strip().splitlines()) == 1


def test_stdout_through_a_real_pipe_summary_on_stderr(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = write(tmp_path / "in.csv", ["i am happy", "so sad", ""])
    done = cli(str(src), "-o", "-", "-m", str(tiny_model_dir))
    assert done.returncode == 0, done.stderr.decode()
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [r["text"] for r in rows] == ["i am happy", "so sad", ""]
    assert rows[0]["emotions"] == [rows[0]["emotion"]]
    assert b"emolabel: stdout" in done.stderr  # the summary table went to stderr
    as_csv = cli(str(src), "-o", "-", "--output-format", "csv", "-m", str(tiny_model_dir), "-q")
    assert as_csv.returncode == 0 and as_csv.stdout.decode().startswith("text,n,emotion,")
    refused = cli(str(src), "-o", "-", "--resume", "-m", str(tiny_model_dir))
    assert refused.returncode == 2 and b"stdout keeps nothing to resume" in refused.stderr
    assert sorted(os.listdir(tmp_path)) == ["in.csv"]


def test_closed_pipe_like_head_exits_0(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = write(tmp_path / "in.csv", [f"line {i} of many happy words" for i in range(20_000)])
    pipeline = (
        f"{sys.executable} -m emolabel annotate {src} -o - -m {tiny_model_dir} -q "
        '--chunk-rows 500 | head -n 2; echo "status=${PIPESTATUS[0]}"'
    )
    result = subprocess.run(
        ["bash", "-c", pipeline], capture_output=True, env=ENV, text=True, timeout=300
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and lines[-1] == "status=0", result.stderr
    assert "Traceback" not in result.stderr and "error" not in result.stderr
