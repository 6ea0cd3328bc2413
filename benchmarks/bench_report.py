"""Peak memory of `emolabel report` on synthetic labelled files of growing size.

Writes annotate-shaped parquet (or CSV/JSONL) files in slices, so making them does not
itself need the memory: text, channel (50 groups), created_at (one year), emotion,
confidence, emotions (a multi-label list), one score_<label> per emotion, truncated.
Each report runs in a fresh process; its peak RSS comes from getrusage(RUSAGE_CHILDREN).

    python benchmarks/bench_report.py                       # 10k vs 1M rows, parquet
    python benchmarks/bench_report.py --rows 1000000 --rows 10000000
    python benchmarks/bench_report.py --format csv --keep /tmp/report-bench
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

LABELS = ["sadness", "joy", "love", "anger", "fear", "surprise"]
WORDS = np.array(
    "i feel so happy sad angry scared loved surprised today about the news with my friends "
    "at work again because nobody told me what really happened last night".split()
)
SLICE_ROWS = 200_000


def labelled_slice(start: int, rows: int, rng: np.random.Generator) -> pl.DataFrame:
    """`rows` annotate output rows; scores skewed so emotions differ by channel and month."""
    channel = rng.integers(0, 50, rows)
    seconds = rng.integers(0, 365 * 86_400, rows)
    logits = rng.normal(size=(rows, len(LABELS))).astype(np.float32) * 2.0
    logits[:, 1] += (channel % 5 == 0) * 1.5  # joy-heavy channels
    logits[:, 3] += np.sin(seconds / (365 * 86_400) * 2 * np.pi) * 1.5  # anger by season
    scores = 1 / (1 + np.exp(-logits))
    top = scores.argmax(axis=1)
    lengths = rng.integers(4, 30, rows)
    picks = rng.integers(0, len(WORDS), (rows, 30))
    text = [" ".join(WORDS[picks[i, : lengths[i]]]) for i in range(rows)]
    frame = pl.DataFrame(
        {
            "id": np.arange(start, start + rows),
            "text": text,
            "channel": [f"channel-{c:02d}" for c in channel],
            "created_at": np.datetime64("2024-01-01T00:00:00", "us")
            + seconds.astype("timedelta64[s]"),
            "emotion": np.array(LABELS)[top],
            "confidence": scores.max(axis=1),
        }
    )
    above = pl.DataFrame({label: scores[:, i] >= 0.5 for i, label in enumerate(LABELS)})
    lists = pl.concat_list([pl.when(above[x]).then(pl.lit(x)) for x in LABELS]).list.drop_nulls()
    frame = frame.with_columns(lists.alias("emotions"))
    frame = frame.with_columns(
        pl.when(pl.col("emotions").list.len() == 0)
        .then(pl.concat_list("emotion"))
        .otherwise(pl.col("emotions"))
        .alias("emotions"),
        *(pl.Series(f"score_{x}", scores[:, i]) for i, x in enumerate(LABELS)),
        pl.Series("truncated", rng.random(rows) < 0.02),
    )
    empty = pl.Series(rng.random(rows) < 0.01)  # empty texts: null predictions
    nulled = ["emotion", "confidence", "emotions", *(f"score_{x}" for x in LABELS)]
    return frame.with_columns(
        pl.when(empty).then(None).otherwise(pl.col(c)).alias(c) for c in nulled
    )


def write_labelled(path: Path, rows: int, fmt: str) -> None:
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    writer = None
    with path.open("wb") as sink:
        for start in range(0, rows, SLICE_ROWS):
            frame = labelled_slice(start, min(SLICE_ROWS, rows - start), rng)
            if fmt == "parquet":
                table = frame.to_arrow()
                writer = writer or pq.ParquetWriter(sink, table.schema, compression="zstd")
                writer.write_table(table)
            elif fmt == "csv":
                flat = frame.with_columns(pl.col("emotions").list.join("|"))
                sink.write(flat.write_csv(include_header=start == 0).encode())
            else:
                sink.write(frame.write_ndjson().encode())
        if writer is not None:
            writer.close()


def measure(cmd: list[str]) -> None:
    """Run `cmd` as this process's only child; print its peak RSS (MiB) and seconds."""
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run failed: {' '.join(cmd)}")
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{rss:.1f} {time.perf_counter() - started:.2f}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--_measure":
        measure(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="row counts (repeatable)")
    parser.add_argument("--format", choices=["parquet", "csv", "jsonl"], default="parquet")
    parser.add_argument("--keep", type=Path, default=None, help="keep files in this folder")
    args = parser.parse_args()
    sizes = sorted(args.rows or [10_000, 1_000_000])
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = []
        for rows in sizes:
            src = work / f"labelled-{rows}.{args.format}"
            if not src.exists():
                write_labelled(src, rows, args.format)
            cmd = [sys.executable, "-m", "emolabel", "report", str(src)]
            cmd += [
                "-o",
                str(work / f"report-{rows}.html"),
                "--json",
                str(work / f"report-{rows}.json"),
            ]
            cmd += ["--by", "channel", "--time", "created_at", "--every", "1w", "-q"]
            probe = [sys.executable, __file__, "--_measure", *cmd]
            proc = subprocess.run(probe, capture_output=True, text=True, check=True)
            rss, seconds = (float(x) for x in proc.stdout.split())
            size_mb = src.stat().st_size / 2**20
            results.append((rows, rss))
            print(
                f"{rows:>11,} rows  {size_mb:8.1f} MiB {args.format}  peak RSS {rss:7.1f} MiB  "
                f"{seconds:6.1f} s",
                flush=True,
            )
            print("  " + " ".join(cmd[1:]), flush=True)
            if args.keep is None:
                src.unlink()
    for rows, rss in results[1:]:
        print(f"peak RSS ratio {rows:,} / {results[0][0]:,} rows: {rss / results[0][1]:.2f}")


if __name__ == "__main__":
    main()
