"""annotate end to end on small files written here, through the CLI and the Python API."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from emolabel.annotation.pipeline import annotate
from emolabel.cli import main
from emolabel.inference.classifier import EmotionClassifier
from tests.conftest import EMOTIONS

TEXTS = [
    "i finally got the job and i am so happy",
    "",
    "my cat died and i cannot stop crying",
    "how dare you lie to me again",
    "   ",
    "what a surprise to see you here",
    "i am scared of the dark",
    "i love you more than words",
]
ADDED = ["emotion", "confidence", "emotions", *[f"score_{e}" for e in EMOTIONS], "truncated"]


@pytest.fixture(scope="module")
def classifier(tiny_model_dir: Path) -> EmotionClassifier:
    return EmotionClassifier.load(tiny_model_dir, precision="fp32")


def write_csv(path: Path, texts: list[str] = TEXTS) -> Path:
    pl.DataFrame({"id": list(range(len(texts))), "text": texts}).write_csv(path)
    return path


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def expected_labels(classifier: EmotionClassifier, texts: list[str]) -> list[str | None]:
    return [classifier.predict([t])[0].label if t.strip() else None for t in texts]


def test_csv_to_parquet_keeps_columns_order_and_nulls(
    tmp_path: Path, tiny_model_dir: Path, classifier: EmotionClassifier
) -> None:
    src = write_csv(tmp_path / "in.csv")
    out = tmp_path / "out.parquet"
    code, output = run(
        [
            "annotate",
            str(src),
            "-o",
            str(out),
            "-m",
            str(tiny_model_dir),
            "--precision",
            "fp32",
            "--chunk-rows",
            "3",
            "--quiet",
        ]
    )
    assert code == 0, output
    table = pq.read_table(out)
    assert table.column_names == ["id", "text", *ADDED]
    assert table.schema.field("confidence").type == pa.float32()
    assert table.schema.field("score_joy").type == pa.float32()
    assert table.schema.field("truncated").type == pa.bool_()
    assert table.column("text").to_pylist() == TEXTS
    assert table.column("emotion").to_pylist() == expected_labels(classifier, TEXTS)
    scores = np.array([table.column(f"score_{e}").to_pylist() for e in EMOTIONS], dtype=object)
    for row in range(len(TEXTS)):
        if TEXTS[row].strip():
            values = [float(v) for v in scores[:, row]]
            assert abs(sum(values) - 1) < 1e-4
            assert table.column("confidence")[row].as_py() == pytest.approx(max(values))
        else:
            assert table.column("confidence")[row].as_py() is None
            assert table.column("truncated")[row].as_py() is None
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


@pytest.mark.parametrize(
    "name,writer",
    [
        ("in.tsv", lambda df, p: df.write_csv(p, separator="\t")),
        ("in.jsonl", lambda df, p: df.write_ndjson(p)),
        ("in.parquet", lambda df, p: df.write_parquet(p)),
        ("in.csv.gz", lambda df, p: p.write_bytes(gzip.compress(df.write_csv().encode()))),
        ("in.jsonl.gz", lambda df, p: p.write_bytes(gzip.compress(df.write_ndjson().encode()))),
    ],
)
def test_every_input_format(
    tmp_path: Path, classifier: EmotionClassifier, name: str, writer: object
) -> None:
    df = pl.DataFrame({"id": list(range(len(TEXTS))), "text": TEXTS})
    src = tmp_path / name
    writer(df, src)  # type: ignore[operator]
    out = tmp_path / "out.jsonl"
    summary = annotate(src, out, model=classifier, chunk_rows=4)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == TEXTS
    assert [r["emotion"] for r in rows] == expected_labels(classifier, TEXTS)
    assert summary.rows == len(TEXTS)
    assert summary.skipped_empty == 2
    assert summary.labelled == 6


def test_txt_input_and_csv_output(tmp_path: Path, classifier: EmotionClassifier) -> None:
    src = tmp_path / "lines.txt"
    src.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    annotate(src, out, model=classifier)
    df = pl.read_csv(out, infer_schema=False)
    assert df.columns == ["text", *ADDED]
    assert [t or "" for t in df["text"].to_list()] == TEXTS
    assert df["emotion"].to_list() == expected_labels(classifier, TEXTS)


def test_order_is_kept_across_many_chunks(tmp_path: Path, classifier: EmotionClassifier) -> None:
    rng = np.random.default_rng(0)
    words = "happy sad angry love fear surprise day night you me the a".split()
    texts = [" ".join(rng.choice(words, size=int(rng.integers(1, 40)))) for _ in range(300)]
    src = write_csv(tmp_path / "many.csv", texts)
    out = tmp_path / "many.parquet"
    annotate(src, out, model=classifier, chunk_rows=17, batch_tokens=64)
    table = pq.read_table(out)
    assert table.column("id").to_pylist() == [str(i) for i in range(300)]
    proba, _ = classifier.predict_proba(texts, batch_tokens=100_000)
    got = np.array([table.column(f"score_{e}").to_pylist() for e in EMOTIONS]).T
    np.testing.assert_allclose(got, proba, atol=1e-5)


def test_free_heap_is_released_after_every_chunk(
    tmp_path: Path, classifier: EmotionClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Peak memory stays flat over a long run only if freed pages go back between chunks."""
    import emolabel.annotation.pipeline as annotate_module

    calls: list[int] = []
    monkeypatch.setattr(annotate_module, "release_free_memory", lambda: calls.append(1))
    src = write_csv(tmp_path / "in.csv", [f"text number {i}" for i in range(50)])
    annotate(src, tmp_path / "out.parquet", model=classifier, chunk_rows=20)
    assert len(calls) == 3


def test_long_text_is_truncated_head_and_tail(
    tmp_path: Path, classifier: EmotionClassifier
) -> None:
    long_text = "start " + "middle words here " * 400 + "the end"
    src = write_csv(tmp_path / "long.csv", ["short text", long_text])
    out = tmp_path / "long.parquet"
    summary = annotate(src, out, model=classifier)
    assert pq.read_table(out).column("truncated").to_pylist() == [False, True]
    assert summary.truncated == 1


def test_existing_output_needs_overwrite(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = write_csv(tmp_path / "in.csv")
    out = tmp_path / "out.parquet"
    out.write_bytes(b"precious")
    code, output = run(["annotate", str(src), "-o", str(out), "-m", str(tiny_model_dir), "-q"])
    assert code == 2
    assert "exists" in output and "--overwrite" in output
    assert out.read_bytes() == b"precious"
    code, _ = run(
        ["annotate", str(src), "-o", str(out), "-m", str(tiny_model_dir), "-q", "--overwrite"]
    )
    assert code == 0
    assert pq.read_table(out).num_rows == len(TEXTS)


def test_column_clash_suggests_prefix(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = tmp_path / "in.csv"
    pl.DataFrame({"text": ["i am happy"], "emotion": ["joy"]}).write_csv(src)
    out = tmp_path / "out.parquet"
    code, output = run(["annotate", str(src), "-o", str(out), "-m", str(tiny_model_dir), "-q"])
    assert code == 2 and "--prefix" in output and "'emotion'" in output
    assert not out.exists()
    code, output = run(
        ["annotate", str(src), "-o", str(out), "-m", str(tiny_model_dir), "-q", "--prefix", "emo_"]
    )
    assert code == 0, output
    assert pq.read_table(out).column_names[:3] == ["text", "emotion", "emo_emotion"]


def test_summary_json_and_table(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = write_csv(tmp_path / "in.csv")
    out = tmp_path / "out.parquet"
    summary_path = tmp_path / "summary.json"
    code, output = run(
        [
            "annotate",
            str(src),
            "-o",
            str(out),
            "-m",
            str(tiny_model_dir),
            "--summary-json",
            str(summary_path),
        ]
    )
    assert code == 0, output
    summary = json.loads(summary_path.read_text())
    assert summary["rows"] == 8 and summary["skipped_empty"] == 2 and summary["labelled"] == 6
    assert sum(summary["counts"].values()) == 6
    assert set(summary["counts"]) == set(EMOTIONS)
    assert "skipped (empty)" in output and "rows/s" in output


def test_threads_sets_torch_threads_and_the_summary_says_so(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    import torch

    before = torch.get_num_threads()
    src = write_csv(tmp_path / "in.csv")
    try:
        for threads in (1, 2):
            summary_path = tmp_path / f"summary-{threads}.json"
            args = ["annotate", str(src), "-o", str(tmp_path / f"out-{threads}.parquet")]
            args += ["-m", str(tiny_model_dir), "--device", "cpu", "--threads", str(threads)]
            code, output = run([*args, "--summary-json", str(summary_path)])
            assert code == 0, output
            assert torch.get_num_threads() == threads
            assert json.loads(summary_path.read_text())["threads"] == threads
            assert f"{threads} thread" in output
        code, output = run([*args, "--threads", "0"])
        assert code == 2 and "--threads" in output
    finally:
        torch.set_num_threads(before)


def test_failure_midway_leaves_no_output(tmp_path: Path, classifier: EmotionClassifier) -> None:
    src = tmp_path / "in.jsonl"
    good = "\n".join(json.dumps({"text": f"row {i}"}) for i in range(50))
    src.write_text(good + "\n{broken json\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    with pytest.raises(Exception, match="line 51"):
        annotate(src, out, model=classifier, chunk_rows=10)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # Once the input is fixed, a plain rerun starts afresh: stale chunks of the old input go.
    src.write_text(good + "\n", encoding="utf-8")
    summary = annotate(src, out, model=classifier, chunk_rows=10)
    assert summary.rows == 50 and summary.resumed_chunks == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.parquet"]


def test_python_api_predict(classifier: EmotionClassifier) -> None:
    predictions = classifier.predict(["i feel great", "i feel awful"])
    assert len(predictions) == 2
    for p in predictions:
        assert p.label in EMOTIONS
        assert p.confidence == pytest.approx(max(p.scores.values()))
        assert list(p.scores) == EMOTIONS


def test_version_and_module_entry_point() -> None:
    from emolabel import __version__

    code, output = run(["--version"])
    assert code == 0 and __version__ in output
    proc = subprocess.run(
        [sys.executable, "-m", "emolabel", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    assert proc.returncode == 0 and "annotate" in proc.stdout


def test_int8_run_reports_agreement_with_fp32(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = write_csv(tmp_path / "in.csv")
    summaries = {}
    for precision in ("int8", "fp32"):
        summary_path = tmp_path / f"{precision}.json"
        code, output = run(
            [
                "annotate",
                str(src),
                "-o",
                str(tmp_path / f"{precision}.parquet"),
                "-m",
                str(tiny_model_dir),
                "--device",
                "cpu",
                "--precision",
                precision,
                "--summary-json",
                str(summary_path),
            ]
        )
        assert code == 0, output
        summaries[precision] = (json.loads(summary_path.read_text()), output)
    int8, int8_output = summaries["int8"]
    assert int8["precision"] == "int8"
    assert int8["agreement_rows"] == 6  # the labelled rows; empty ones are not sampled
    assert 0.0 <= int8["fp32_agreement"] <= 1.0
    assert "int8 vs fp32" in int8_output and "of 6 sampled rows" in int8_output
    fp32, fp32_output = summaries["fp32"]
    assert fp32["fp32_agreement"] is None and "vs fp32" not in fp32_output
