"""One run per output (an OS lock), only regular files replaced, nothing left by a failed run,
resume refusals that name what changed, honest rows/s after a resume (issue 18)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from emolabel.annotation.checkpoints import parts_dir_for
from emolabel.annotation.pipeline import annotate
from emolabel.annotation.run_lock import LOCK_FILE
from emolabel.errors import EmolabelError, Interrupted
from emolabel.events import Events
from emolabel.inference.classifier import EmotionClassifier

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def classifier(tiny_model_dir: Path) -> EmotionClassifier:
    return EmotionClassifier.load(tiny_model_dir, precision="fp32")


def corpus(path: Path, n: int, word: str = "happy") -> Path:
    words = f"{word} sad angry love fear surprise day night you me the a".split()
    texts = [" ".join(words[(i * 7 + j) % len(words)] for j in range(i % 23 + 1)) for i in range(n)]
    pl.DataFrame({"id": list(range(n)), "text": texts}).write_csv(path)
    return path


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "emolabel", "annotate", *args]


def wait_for_parts(parts: Path, n: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(parts.glob("part-*.parquet"))) < n:
        assert proc.poll() is None, "the first run ended before the test could start"
        time.sleep(0.02)


def test_second_run_on_a_live_output_is_refused_and_the_first_stays_exact(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    a = corpus(tmp_path / "a.csv", 6000)
    b = corpus(tmp_path / "b.csv", 300, word="lonely")
    args = ["-m", str(tiny_model_dir), "--precision", "fp32", "--chunk-rows", "200", "-q"]
    reference = tmp_path / "reference.parquet"
    subprocess.run(cli(str(a), "-o", str(reference), *args), check=True, env=ENV)

    out = tmp_path / "out.parquet"
    first = subprocess.Popen(cli(str(a), "-o", str(out), *args), env=ENV)
    try:
        wait_for_parts(parts_dir_for(out), 2, first)
        # All three at once: one after the other, the first run could finish in between.
        started = time.monotonic()
        seconds = [
            subprocess.Popen(
                cli(*other, "-o", str(out), *args), env=ENV, stderr=subprocess.PIPE, text=True
            )
            for other in ([str(b), "--overwrite"], [str(a)], [str(a), "--resume"])
        ]
        for second in seconds:
            _, stderr = second.communicate(timeout=120)
            assert second.returncode == 2, stderr
            assert f"pid {first.pid}" in stderr and "another emolabel run" in stderr
            assert len(stderr.strip().splitlines()) == 1
            assert time.monotonic() - started < 60
        assert first.wait(timeout=300) == 0
    finally:
        if first.poll() is None:
            first.kill()
    assert pq.read_table(out).equals(pq.read_table(reference))
    assert not parts_dir_for(out).exists()


def test_kill_9_releases_the_lock_so_resume_works(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = corpus(tmp_path / "in.csv", 6000)
    args = ["-m", str(tiny_model_dir), "--precision", "fp32", "--chunk-rows", "200", "-q"]
    out = tmp_path / "out.parquet"
    parts = parts_dir_for(out)
    proc = subprocess.Popen(cli(str(src), "-o", str(out), *args), env=ENV)
    wait_for_parts(parts, 2, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (parts / LOCK_FILE).read_text().strip() == str(proc.pid)  # the dead run's pid
    done = subprocess.run(
        cli(str(src), "-o", str(out), *args, "--resume"), env=ENV, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert pq.read_table(out).column("id").to_pylist() == [str(i) for i in range(6000)]
    assert not parts.exists()


def test_overwrite_never_replaces_a_symlink_or_fifo(
    tmp_path: Path, classifier: EmotionClassifier
) -> None:
    src = corpus(tmp_path / "in.csv", 5)
    kept = tmp_path / "precious.csv"
    kept.write_text("do not touch\n")
    link = tmp_path / "link.csv"
    link.symlink_to(kept)
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "nowhere.csv")
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    for target, kind in ((link, "symbolic link"), (dangling, "symbolic link"), (fifo, "FIFO")):
        with pytest.raises(EmolabelError, match=f"is a {kind}.*only ever replaces regular files"):
            annotate(src, target, model=classifier, overwrite=True)
        assert not stat.S_ISREG(os.lstat(target).st_mode)
    assert kept.read_text() == "do not touch\n"
    assert not (tmp_path / "nowhere.csv").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a device node needs root")
def test_overwrite_never_replaces_a_device_node(
    tmp_path: Path, classifier: EmotionClassifier
) -> None:
    src = corpus(tmp_path / "in.csv", 5)
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    with pytest.raises(EmolabelError, match="is a device"):
        annotate(src, device, model=classifier, overwrite=True, output_format="csv")
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_failed_run_without_finished_chunks_leaves_nothing(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("id,text\n1,fine\n2,too,many,fields\n", encoding="utf-8")
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,text\n", encoding="utf-8")
    for src in (ragged, header_only):
        before = set(os.listdir(tmp_path))
        result = subprocess.run(
            cli(str(src), "-o", str(tmp_path / "out.parquet"), "-m", str(tiny_model_dir), "-q"),
            env=ENV,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert set(os.listdir(tmp_path)) == before, "a failed run left files behind"


def test_failed_run_with_finished_chunks_keeps_them_and_says_so(
    tmp_path: Path, classifier: EmotionClassifier
) -> None:
    src = corpus(tmp_path / "in.csv", 6000)  # ~400 KB: the bad row is many read blocks in
    with open(src, "a", encoding="utf-8") as f:
        f.write("9999,one,field,too,many\n")
    out = tmp_path / "out.parquet"
    with pytest.raises(EmolabelError) as info:
        annotate(src, out, model=classifier, chunk_rows=500)
    message = str(info.value)
    assert "line 6002" in message and "\n" not in message
    kept = len(list(parts_dir_for(out).glob("part-*.parquet")))
    assert kept >= 1
    assert f"{kept} finished chunk(s) are kept in {parts_dir_for(out)}" in message
    assert not out.exists()


def test_ctrl_c_before_the_first_chunk_leaves_nothing(
    tmp_path: Path, classifier: EmotionClassifier
) -> None:
    class InterruptAtStart(Events):
        def start(self, total: int | None, unit: str) -> None:
            raise KeyboardInterrupt

    src = corpus(tmp_path / "in.csv", 50)
    with pytest.raises(Interrupted, match="nothing was kept"):
        annotate(src, tmp_path / "out.parquet", model=classifier, events=InterruptAtStart())
    assert sorted(os.listdir(tmp_path)) == ["in.csv"]


class InterruptAfter(Events):
    def __init__(self, n: int) -> None:
        self.calls, self.n = 0, n

    def advance(self, rows: int, position: int) -> None:
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt


def test_resume_refusal_names_the_options_that_differ(
    tmp_path: Path, classifier: EmotionClassifier
) -> None:
    src = corpus(tmp_path / "in.csv", 1000)
    out = tmp_path / "out.parquet"
    with pytest.raises(Interrupted):
        annotate(src, out, model=classifier, chunk_rows=100, events=InterruptAfter(3))
    with pytest.raises(EmolabelError, match="chunk_rows 100 -> 777") as info:
        annotate(src, out, model=classifier, chunk_rows=777, resume=True)
    assert "head_tokens" not in str(info.value)
    with open(src, "a", encoding="utf-8") as f:
        f.write("1000,one more row\n")
    with pytest.raises(EmolabelError, match=r"input .*in\.csv changed"):
        annotate(src, out, model=classifier, chunk_rows=100, resume=True)


def test_rows_per_second_after_resume_counts_only_rows_labelled_now(
    tmp_path: Path, classifier: EmotionClassifier
) -> None:
    src = corpus(tmp_path / "in.csv", 1000)
    out = tmp_path / "out.parquet"
    with pytest.raises(Interrupted):
        annotate(src, out, model=classifier, chunk_rows=100, events=InterruptAfter(4))
    summary = annotate(src, out, model=classifier, chunk_rows=100, resume=True)
    assert summary.rows == 1000 and summary.resumed_rows == 400
    assert summary.rows_per_s == pytest.approx(600 / summary.elapsed_s)
    assert summary.to_dict()["rows_per_s"] == pytest.approx(600 / summary.elapsed_s)


def test_delimiter_option_reads_a_semicolon_csv(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = tmp_path / "semi.csv"
    src.write_text("text;likes\ni am happy, really;12\nso sad;3\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = subprocess.run(
        cli(str(src), "-o", str(out), "-m", str(tiny_model_dir), "--delimiter", ";", "-q"),
        env=ENV,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["text"] for r in rows] == ["i am happy, really", "so sad"]
    assert [r["likes"] for r in rows] == ["12", "3"]  # CSV columns stay strings
    assert all(r["emotion"] for r in rows)
