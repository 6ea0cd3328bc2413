"""Resume after kill -9 and Ctrl-C, malformed rows skipped with rejects, hostile inputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from emolabel.annotation.checkpoints import parts_dir_for
from emolabel.annotation.pipeline import annotate
from emolabel.errors import EmolabelError, Interrupted
from emolabel.events import Events
from emolabel.inference.classifier import EmotionClassifier

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def classifier(tiny_model_dir: Path) -> EmotionClassifier:
    return EmotionClassifier.load(tiny_model_dir, precision="fp32")


def corpus(path: Path, n: int) -> Path:
    words = "happy sad angry love fear surprise day night you me the a".split()
    texts = [" ".join(words[(i * 7 + j) % len(words)] for j in range(i % 23 + 1)) for i in range(n)]
    pl.DataFrame({"id": list(range(n)), "text": texts}).write_csv(path)
    return path


def test_kill_9_then_resume_equals_uninterrupted_run(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = corpus(tmp_path / "in.csv", 6000)
    reference = tmp_path / "reference.parquet"
    args = ["-m", str(tiny_model_dir), "--precision", "fp32", "--chunk-rows", "200", "-q"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "emolabel", "annotate", str(src)]
    subprocess.run([*cmd, "-o", str(reference), *args], check=True, env=env)

    out = tmp_path / "out.parquet"
    parts = parts_dir_for(out)
    proc = subprocess.Popen([*cmd, "-o", str(out), *args], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(parts.glob("part-*.parquet"))) < 3:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = len(list(parts.glob("part-*.parquet")))
    assert not out.exists(), "the kill came too late to test anything"
    assert 3 <= finished < 30

    # A resume with other options is refused and keeps the chunks.
    refused = subprocess.run(
        [*cmd, "-o", str(out), *args, "--resume", "--head-tokens", "7"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert "cannot resume" in refused.stderr and "options" in refused.stderr
    # Without --resume the leftover work is not silently thrown away.
    plain = subprocess.run([*cmd, "-o", str(out), *args], env=env, capture_output=True, text=True)
    assert plain.returncode == 2 and "--resume" in plain.stderr
    assert len(list(parts.glob("part-*.parquet"))) >= finished

    done = subprocess.run(
        [*cmd, "-o", str(out), *args, "--resume", "--summary-json", str(tmp_path / "s.json")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert pq.read_table(out).equals(pq.read_table(reference))
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["resumed_chunks"] >= 3 and summary["rows"] == 6000
    assert not parts.exists()


class InterruptAfter(Events):
    """Events that press Ctrl-C after `n` chunks."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls = 0

    def advance(self, rows: int, position: int) -> None:
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt


def test_ctrl_c_keeps_chunks_and_says_how_to_resume(
    tmp_path: Path, classifier: EmotionClassifier
) -> None:
    src = corpus(tmp_path / "in.csv", 1000)
    out = tmp_path / "out.jsonl"
    with pytest.raises(Interrupted, match="--resume") as info:
        annotate(src, out, model=classifier, chunk_rows=100, events=InterruptAfter(4))
    assert info.value.exit_code == 130
    assert not out.exists()
    assert len(list(parts_dir_for(out).glob("part-*.parquet"))) == 4
    summary = annotate(src, out, model=classifier, chunk_rows=100, resume=True)
    assert summary.resumed_chunks == 4 and summary.rows == 1000
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [str(i) for i in range(1000)]
    reference = tmp_path / "ref.jsonl"
    annotate(src, reference, model=classifier, chunk_rows=100)
    assert out.read_text() == reference.read_text()


def test_resume_with_changed_input_is_refused(
    tmp_path: Path, classifier: EmotionClassifier
) -> None:
    src = corpus(tmp_path / "in.csv", 500)
    out = tmp_path / "out.parquet"
    with pytest.raises(Interrupted):
        annotate(src, out, model=classifier, chunk_rows=100, events=InterruptAfter(2))
    corpus(src, 501)
    with pytest.raises(EmolabelError, match=r"cannot resume.*input"):
        annotate(src, out, model=classifier, chunk_rows=100, resume=True)


def test_on_error_skip_writes_rejects(tmp_path: Path, classifier: EmotionClassifier) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"text": "fine"}\n{"text": broken}\n[1, 2]\n{"text": "also fine"}\n', encoding="utf-8"
    )
    out = tmp_path / "out.parquet"
    rejects = tmp_path / "rejects.jsonl"
    summary = annotate(src, out, model=classifier, on_error="skip", rejects=rejects)
    assert pq.read_table(out).column("text").to_pylist() == ["fine", "also fine"]
    assert summary.rejected == 2
    rows = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [r["line"] for r in rows] == [2, 3]
    assert rows[0]["raw"] == '{"text": broken}' and "malformed JSON" in rows[0]["reason"]


def test_ragged_csv_row_skipped(tmp_path: Path, classifier: EmotionClassifier) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,text\n1,hello\n2,a,b\n3,bye\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    rejects = tmp_path / "rejects.jsonl"
    summary = annotate(src, out, model=classifier, on_error="skip", rejects=rejects)
    assert pl.read_csv(out)["id"].to_list() == [1, 3]
    assert summary.rejected == 1
    assert json.loads(rejects.read_text())["raw"] == "2,a,b"


def test_ten_megabyte_single_text(tmp_path: Path, classifier: EmotionClassifier) -> None:
    big = ("it was a long day " * 600_000)[:10_000_000] + " and in the end i was happy"
    src = tmp_path / "big.jsonl"
    src.write_text(json.dumps({"text": big}) + "\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    started = time.perf_counter()
    summary = annotate(src, out, model=classifier)
    assert time.perf_counter() - started < 30
    assert summary.truncated == 1 and summary.labelled == 1
    assert len(pq.read_table(out).column("text")[0].as_py()) == len(big)


def test_hundred_thousand_empty_rows(tmp_path: Path, classifier: EmotionClassifier) -> None:
    src = tmp_path / "empty_rows.txt"
    src.write_text("\n" * 100_000 + "finally some text\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    summary = annotate(src, out, model=classifier)
    assert summary.rows == 100_001
    assert summary.skipped_empty == 100_000 and summary.labelled == 1
    emotion = pq.read_table(out).column("emotion")
    assert emotion.null_count == 100_000 and emotion[100_000].as_py() is not None


def test_jsonl_with_bom(tmp_path: Path, classifier: EmotionClassifier) -> None:
    src = tmp_path / "bom.jsonl"
    src.write_bytes(b'\xef\xbb\xbf{"text": "first"}\n{"text": "second"}\n')
    out = tmp_path / "out.parquet"
    annotate(src, out, model=classifier)
    assert pq.read_table(out).column("text").to_pylist() == ["first", "second"]


def test_disk_full_keeps_finished_chunks_and_resumes(
    tmp_path: Path, classifier: EmotionClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC on the fourth chunk: one clear error, no output, three chunks kept; after
    space is freed, --resume finishes with exactly the uninterrupted run's output."""
    import errno

    from emolabel.annotation.checkpoints import ChunkStore

    src = corpus(tmp_path / "in.csv", 700)
    out = tmp_path / "out.csv"
    real_write = ChunkStore.write

    def write_until_full(self: ChunkStore, index: int, batch: object) -> None:
        if index >= 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(self, index, batch)

    monkeypatch.setattr(ChunkStore, "write", write_until_full)
    with pytest.raises(EmolabelError, match="No space left on device") as info:
        annotate(src, out, model=classifier, chunk_rows=100)
    assert "--resume" in str(info.value) and "3 finished chunk(s)" in str(info.value)
    assert not out.exists()
    assert len(list(parts_dir_for(out).glob("part-*.parquet"))) == 3
    monkeypatch.setattr(ChunkStore, "write", real_write)
    summary = annotate(src, out, model=classifier, chunk_rows=100, resume=True)
    assert summary.resumed_chunks == 3 and summary.rows == 700
    reference = tmp_path / "ref.csv"
    annotate(src, reference, model=classifier, chunk_rows=100)
    assert out.read_text() == reference.read_text()
    assert not parts_dir_for(out).exists()
