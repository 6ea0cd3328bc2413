"""annotate's `emotions` column (issue 15): the labels at or above their threshold, highest
first, never empty for a text; `[emotion]` for a single-label model; a real list in parquet
and JSONL, joined by LIST_SEPARATOR in CSV; --threshold wired through AnnotateOptions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from emolabel.annotation.pipeline import annotate
from emolabel.cli import main
from emolabel.inference import EmotionClassifier
from emolabel.io import LIST_SEPARATOR
from tests.conftest import EMOTIONS, build_tiny_model

TEXTS = [
    "i feel so happy today",
    "",
    "i am terrified of what comes next and i cannot sleep",
    "ok",
    "i love you more than words can say",
    "this makes me furious",
]


@pytest.fixture(scope="module")
def multi_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = build_tiny_model(tmp_path_factory.mktemp("multi"), seed=1)
    config = json.loads((folder / "config.json").read_text())
    config["problem_type"] = "multi_label_classification"
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def write_csv(path: Path) -> Path:
    pl.DataFrame({"id": list(range(len(TEXTS))), "text": TEXTS}).write_csv(path)
    return path


def expected_emotions(clf: EmotionClassifier) -> list[list[str] | None]:
    keep = [t for t in TEXTS if t.strip()]
    proba, _ = clf.predict_proba(keep)
    found = iter(clf.emotions(proba))
    return [next(found) if t.strip() else None for t in TEXTS]


def test_multi_label_emotions_column_in_parquet(tmp_path: Path, multi_dir: Path) -> None:
    clf = EmotionClassifier.load(multi_dir, precision="fp32", threshold=0.5)
    out = tmp_path / "out.parquet"
    annotate(write_csv(tmp_path / "in.csv"), out, model=clf, chunk_rows=4)
    table = pq.read_table(out)
    names = table.column_names
    assert names.index("emotions") == names.index("confidence") + 1
    assert names[names.index("emotions") + 1] == f"score_{EMOTIONS[0]}"
    assert table.schema.field("emotions").type == pa.list_(pa.string())
    got = table.column("emotions").to_pylist()
    assert got == expected_emotions(clf)
    scores = np.array([table.column(f"score_{e}").to_pylist() for e in EMOTIONS], dtype=object).T
    for row, emotions in enumerate(got):
        if emotions is None:
            continue
        assert emotions[0] == table.column("emotion")[row].as_py()  # never empty, top first
        listed = [float(scores[row][EMOTIONS.index(e)]) for e in emotions]
        assert listed == sorted(listed, reverse=True)
        assert all(s >= 0.5 for s in listed[1:])
    assert any(e is not None and len(e) > 1 for e in got), "no row had a second emotion"


def test_threshold_option_changes_the_lists(tmp_path: Path, multi_dir: Path) -> None:
    src = write_csv(tmp_path / "in.csv")
    base = ["annotate", str(src), "-m", str(multi_dir), "--precision", "fp32", "-q"]
    low, high = tmp_path / "low.jsonl", tmp_path / "high.jsonl"
    for out, threshold in ((low, "0"), (high, "1")):
        result = CliRunner().invoke(main, [*base, "-o", str(out), "--threshold", threshold])
        assert result.exit_code == 0, result.output
    low_rows = [json.loads(line) for line in low.read_text().splitlines()]
    high_rows = [json.loads(line) for line in high.read_text().splitlines()]
    for lo, hi, text in zip(low_rows, high_rows, TEXTS, strict=True):
        if not text.strip():
            assert lo["emotions"] is None and hi["emotions"] is None
            continue
        assert sorted(lo["emotions"]) == sorted(EMOTIONS)  # every score reaches 0
        assert hi["emotions"] == [hi["emotion"]]  # none reaches 1: the top label alone


def test_single_label_emotions_is_the_top_label_and_csv_joins_lists(
    tmp_path: Path, tiny_model_dir: Path, multi_dir: Path
) -> None:
    src = write_csv(tmp_path / "in.csv")
    single = tmp_path / "single.parquet"
    annotate(src, single, model=tiny_model_dir, precision="fp32")
    table = pq.read_table(single)
    assert table.column("emotions").to_pylist() == [
        None if e is None else [e] for e in table.column("emotion").to_pylist()
    ]
    clf = EmotionClassifier.load(multi_dir, precision="fp32", threshold=0.3)
    out = tmp_path / "out.csv"
    annotate(src, out, model=clf)
    cells = pl.read_csv(out, infer_schema=False)["emotions"].to_list()
    assert cells == [None if e is None else LIST_SEPARATOR.join(e) for e in expected_emotions(clf)]


def test_threshold_with_a_loaded_model_is_refused(tmp_path: Path, multi_dir: Path) -> None:
    from emolabel.errors import EmolabelError

    clf = EmotionClassifier.load(multi_dir, precision="fp32")
    with pytest.raises(EmolabelError, match=r"EmotionClassifier\.load"):
        annotate(write_csv(tmp_path / "in.csv"), tmp_path / "o.parquet", model=clf, threshold=0.2)
    assert not (tmp_path / "o.parquet").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_summary_counts_every_emotion_in_the_lists(tmp_path: Path, multi_dir: Path) -> None:
    """A multi-label run's summary: the top label's rows, and the rows holding each emotion."""
    src = write_csv(tmp_path / "in.csv")
    out, summary_json = tmp_path / "out.jsonl", tmp_path / "summary.json"
    args = ["annotate", str(src), "-o", str(out), "-m", str(multi_dir), "--precision", "fp32"]
    result = CliRunner().invoke(
        main, [*args, "--threshold", "0.3", "--summary-json", str(summary_json)]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    lists = [r["emotions"] for r in rows if r["emotions"] is not None]
    assert max(len(e) for e in lists) >= 2, "no row holds two emotions: nothing tested"
    summary = json.loads(summary_json.read_text())
    assert summary["multi_label"] is True
    assert summary["present"] == {label: sum(label in e for e in lists) for label in EMOTIONS}
    assert summary["counts"] == {
        label: sum(r["emotion"] == label for r in rows) for label in EMOTIONS
    }
    assert summary["present_shares"]["joy"] == summary["present"]["joy"] / len(lists)
    assert "in emotions" in result.output  # the table's second count (stderr)


def test_single_label_summary_has_one_count(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = write_csv(tmp_path / "in.csv")
    out, summary_json = tmp_path / "out.parquet", tmp_path / "summary.json"
    args = ["annotate", str(src), "-o", str(out), "-m", str(tiny_model_dir), "--precision", "fp32"]
    result = CliRunner().invoke(main, [*args, "--summary-json", str(summary_json)])
    assert result.exit_code == 0, result.output
    summary = json.loads(summary_json.read_text())
    assert summary["multi_label"] is False and summary["present"] == summary["counts"]
    assert sum(summary["counts"].values()) == 5
    assert "in emotions" not in result.output
