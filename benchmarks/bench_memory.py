"""Peak memory of `emolabel annotate` on a 10k-row vs a 1M-row CSV (it must not grow).

Each run is a fresh subprocess; its peak RSS comes from getrusage(RUSAGE_CHILDREN).
The texts are real tweets from ../shared/data/emotion when present (else synthetic),
repeated to size.

    python benchmarks/bench_memory.py                  # built-in model, 10k vs 1M rows
    python benchmarks/bench_memory.py --tiny-model     # a 2-layer random model: same
                                                       # pipeline, minutes instead of an hour
    python benchmarks/bench_memory.py --rows 10000 --rows 100000 --model DIR
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

import pyarrow as pa
import pyarrow.csv as pa_csv

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "emotion" / "train.txt"


def load_texts() -> list[str]:
    if SHARED.exists():
        lines = SHARED.read_text(encoding="utf-8").splitlines()
        return [line.rsplit(";", 1)[0] for line in lines if ";" in line]
    words = "i feel so happy sad angry scared loved surprised today about the news".split()
    return [
        " ".join(words[(i * 7 + j) % len(words)] for j in range(5 + i % 30)) for i in range(5000)
    ]


def write_corpus(path: Path, rows: int, texts: list[str]) -> None:
    """Write `rows` rows in slices, so making the file does not itself need the memory."""
    step = 100_000
    with pa_csv.CSVWriter(str(path), pa.schema([("id", pa.int64()), ("text", pa.string())])) as w:
        for start in range(0, rows, step):
            n = min(step, rows - start)
            ids = pa.array(range(start, start + n), pa.int64())
            chunk = pa.array([texts[(start + i) % len(texts)] for i in range(n)])
            w.write_batch(pa.record_batch([ids, chunk], names=["id", "text"]))


def tiny_model(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.conftest import build_tiny_model

    return build_tiny_model(folder)


def peak_rss_mb(cmd: list[str]) -> tuple[float, float]:
    """Run a command in a fresh process; return (peak RSS MiB, seconds)."""
    started = time.perf_counter()
    code = os.fork()
    if code == 0:  # child: exec so that RUSAGE_CHILDREN sees only this run
        os.execvp(cmd[0], cmd)
    _, status = os.waitpid(code, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run failed: {' '.join(cmd)}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_maxrss / 1024, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="row counts (repeatable)")
    parser.add_argument("--model", default=None, help="model folder (default: built-in)")
    parser.add_argument("--tiny-model", action="store_true", help="use a 2-layer random model")
    parser.add_argument("--chunk-rows", type=int, default=4096)
    args = parser.parse_args()
    sizes = sorted(args.rows or [10_000, 1_000_000])
    texts = load_texts()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = str(tiny_model(work / "tiny")) if args.tiny_model else args.model
        results = []
        # Each size runs in its own child of a fresh interpreter so the RUSAGE_CHILDREN
        # maximum belongs to that size alone.
        for rows in sizes:
            src = work / f"corpus-{rows}.csv"
            write_corpus(src, rows, texts)
            out = work / f"out-{rows}.parquet"
            cmd = [
                sys.executable,
                "-m",
                "emolabel",
                "annotate",
                str(src),
                "-o",
                str(out),
                "-q",
                "--chunk-rows",
                str(args.chunk_rows),
            ]
            if model:
                cmd += ["--model", model]
            probe = [sys.executable, __file__, "--_measure", *cmd]
            proc = subprocess.run(probe, capture_output=True, text=True, check=True)
            rss, seconds = (float(x) for x in proc.stdout.split())
            size_mb = src.stat().st_size / 2**20
            results.append((rows, size_mb, rss, seconds))
            print(
                f"{rows:>10,} rows  {size_mb:8.1f} MiB CSV  peak RSS {rss:8.1f} MiB  "
                f"{seconds:7.1f} s  {rows / seconds:8,.0f} rows/s",
                flush=True,
            )
            src.unlink()
            out.unlink()
    base = results[0][2]
    for rows, _, rss, _ in results[1:]:
        print(f"peak RSS ratio {rows:,} / {results[0][0]:,} rows: {rss / base:.3f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--_measure":
        rss, seconds = peak_rss_mb(sys.argv[2:])
        print(f"{rss} {seconds}")
    else:
        main()
