"""`emolabel report` end to end: small labelled files built here, in every output shape."""

from __future__ import annotations

import gzip
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner, Result

from emolabel.cli import main

LABELS = ["anger", "joy", "sadness"]
SCRIPT = "<script>alert('boom')</script> & more"


def labelled_frame() -> pl.DataFrame:
    """40 rows as annotate writes them: 3 channels, 3 weeks, lists, 4 empty texts."""
    rows: list[dict[str, Any]] = []
    for i in range(40):
        empty = i % 10 == 9
        label = LABELS[i % 3] if i % 5 else "joy"
        second = [LABELS[(i + 1) % 3]] if i % 4 == 0 and label != LABELS[(i + 1) % 3] else []
        confidence = 0.4 + (i % 7) / 12
        rows.append(
            {
                "id": i,
                "text": "" if empty else (SCRIPT if i == 5 else f"text number {i}"),
                "channel": ["news", "sport", "music"][i % 3] if i < 36 else None,
                "created": (date(2024, 1, 1) + timedelta(days=i // 2)).isoformat(),
                "emotion": None if empty else label,
                "confidence": None if empty else confidence,
                "emotions": None if empty else [label, *second],
                **{
                    f"score_{x}": None if empty else (confidence if x == label else 0.1)
                    for x in LABELS
                },
                "truncated": i in (3, 4),
            }
        )
    frame = pl.DataFrame(rows)
    # the <script> text is joy's most confident: 0.99 beats every other row
    return frame.with_columns(
        pl.when(pl.col("id") == 5).then(0.99).otherwise(pl.col("confidence")).alias("confidence")
    )


def write_labelled(frame: pl.DataFrame, path: Path) -> Path:
    """The file annotate would write at `path`: lists joined by '|' in CSV/TSV."""
    name = path.name.removesuffix(".gz")
    if name.endswith(".parquet"):
        frame.write_parquet(path)
        return path
    if name.endswith(".jsonl"):
        data = frame.write_ndjson().encode()
    else:
        lists = [pl.col("emotions").list.join("|")] if "emotions" in frame.columns else []
        flat = frame.with_columns(lists)
        data = flat.write_csv(separator="\t" if name.endswith(".tsv") else ",").encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def report(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["report", *map(str, args)])


@pytest.fixture()
def labelled(tmp_path: Path) -> Path:
    return write_labelled(labelled_frame(), tmp_path / "labelled.parquet")


def test_html_has_pictures_groups_periods_and_escaped_texts(labelled: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    figures_path = tmp_path / "figures.json"
    result = report(
        labelled,
        "-o",
        out,
        "--by",
        "channel",
        "--time",
        "created",
        "--every",
        "1w",
        "--groups",
        "2",
        "--json",
        figures_path,
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    # five pictures: distribution, confidence, co-occurrence, groups, periods; all inline
    assert page.count("<svg") == 5
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<script" not in page.lower()  # the corpus's <script> is text, never markup
    assert "&lt;script&gt;alert(&#x27;boom&#x27;)&lt;/script&gt; &amp; more" in page
    # --groups 2: the two biggest channels (11 rows each), sport (10) and null folded into one
    for group in ("music", "news", "other (2 groups)"):
        assert f"<td>{group}</td>" in page
    for monday in ("2024-01-01", "2024-01-08", "2024-01-15"):
        assert f"<td>{monday}</td>" in page
    assert "Emotions predicted together" in page
    assert result.stdout == ""  # the tables go to stderr
    assert "share by channel" in result.stderr and "share per 1w of created" in result.stderr

    figures = json.loads(figures_path.read_text())
    expected = labelled_frame().filter(pl.col("emotion").is_not_null())
    assert figures["rows"] == 40 and figures["skipped"] == 4 and figures["truncated"] == 2
    assert figures["counts"] == dict(expected["emotion"].value_counts().iter_rows())
    assert figures["labels"] == LABELS
    assert [g["name"] for g in figures["groups"]["groups"]] == ["music", "news", "other (2 groups)"]
    news = next(g for g in figures["groups"]["groups"] if g["name"] == "news")
    news_rows = expected.filter(pl.col("channel") == "news")
    assert news["rows"] == news_rows.height
    assert news["counts"]["joy"] == news_rows.filter(pl.col("emotion") == "joy").height
    assert [p["start"] for p in figures["periods"]["periods"]] == [
        "2024-01-01",
        "2024-01-08",
        "2024-01-15",
    ]
    assert sum(p["rows"] for p in figures["periods"]["periods"]) == expected.height
    assert figures["texts"]["most"]["joy"][0]["text"] == SCRIPT
    assert len(figures["texts"]["least"]["anger"]) == 5
    multi = figures["multi_label"]
    several = expected.filter(pl.col("emotions").list.len() > 1).height
    assert multi["rows_with_several"] == several > 0
    joy, sadness = LABELS.index("joy"), LABELS.index("sadness")
    both = expected.filter(
        pl.col("emotions").list.contains("joy") & pl.col("emotions").list.contains("sadness")
    ).height
    assert multi["matrix"][joy][sadness] == multi["matrix"][sadness][joy] == both


@pytest.mark.parametrize(
    "name", ["labelled.csv", "labelled.tsv", "labelled.jsonl", "labelled.csv.gz", "ray-out"]
)
def test_every_output_shape_gives_the_parquet_figures(
    name: str, labelled: Path, tmp_path: Path
) -> None:
    frame = labelled_frame()
    if name == "ray-out":
        folder = tmp_path / name
        (folder / "_temp").mkdir(parents=True)
        frame[:17].write_parquet(folder / "part-0.parquet")
        frame[17:].write_parquet(folder / "part-1.parquet")
        frame[:3].write_parquet(folder / "_temp" / "half-written.parquet")  # skipped, as Ray's
        path = folder
    else:
        path = write_labelled(frame, tmp_path / name)
    args = ["--by", "channel", "--time", "created", "--json"]
    assert report(labelled, "-o", tmp_path / "a.html", *args, tmp_path / "a.json").exit_code == 0
    result = report(path, "-o", tmp_path / "b.html", *args, tmp_path / "b.json")
    assert result.exit_code == 0, result.output
    a, b = (json.loads((tmp_path / f"{x}.json").read_text()) for x in "ab")
    for key in ("rows", "skipped", "truncated", "counts", "multi_label", "groups", "periods"):
        assert a[key] == b[key], key
    assert a["mean_confidence"] == pytest.approx(b["mean_confidence"])
    assert b["texts"]["most"]["joy"][0]["text"] == SCRIPT


@pytest.mark.parametrize("unit", ["iso", "seconds", "milliseconds", "float-seconds", "twitter"])
def test_unix_times_and_twitter_created_at_give_the_iso_periods(
    unit: str, labelled: Path, tmp_path: Path
) -> None:
    """The same instants written as unix time (any unit) or Twitter's created_at text give
    the periods the ISO dates give."""
    frame = labelled_frame()
    instants = frame["created"].str.to_datetime("%Y-%m-%d", time_zone="UTC")
    seconds = instants.dt.epoch("s")
    written = {
        "iso": frame["created"],
        "seconds": seconds,
        "milliseconds": instants.dt.epoch("ms"),
        "float-seconds": seconds.cast(pl.Float64) + 0.25,
        "twitter": instants.dt.strftime("%a %b %d %H:%M:%S +0000 %Y"),
    }[unit]
    path = write_labelled(frame.with_columns(written.alias("created")), tmp_path / "t.parquet")
    args = ["--time", "created", "--every", "1w", "--json"]
    assert report(labelled, "-o", tmp_path / "a.html", *args, tmp_path / "a.json").exit_code == 0
    result = report(path, "-o", tmp_path / "b.html", *args, tmp_path / "b.json")
    assert result.exit_code == 0, result.output
    a, b = (json.loads((tmp_path / f"{x}.json").read_text()) for x in "ab")
    assert a["periods"] and a["periods"] == b["periods"]


def test_an_older_output_without_emotions_lists(tmp_path: Path) -> None:
    path = write_labelled(labelled_frame().drop("emotions", "truncated"), tmp_path / "old.csv")
    out = tmp_path / "report.html"
    result = report(path, "-o", out, "--top", "2", "--json", tmp_path / "f.json")
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert page.count("<svg") == 2  # distribution and confidence only
    assert "Multi-label" not in page and "not recorded" in page
    figures = json.loads((tmp_path / "f.json").read_text())
    assert figures["multi_label"] is None and figures["truncated"] is None
    assert all(len(rows) == 2 for rows in figures["texts"]["most"].values())


def test_single_label_lists_say_there_is_nothing_to_pair(tmp_path: Path) -> None:
    frame = labelled_frame().with_columns(pl.concat_list("emotion").alias("emotions"))
    frame = frame.with_columns(
        pl.when(pl.col("emotion").is_null())
        .then(None)
        .otherwise(pl.col("emotions"))
        .alias("emotions")
    )
    path = write_labelled(frame, tmp_path / "single.jsonl")
    result = report(path, "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text()
    assert "Every row has exactly one emotion" in page and page.count("<svg") == 2


def test_the_run_summary_beside_the_output_is_shown(labelled: Path, tmp_path: Path) -> None:
    summary = {
        "model": "my-<b>model</b>",
        "device": "cpu",
        "precision": "fp32",
        "rows": 40,
        "output": str(labelled),
        "elapsed_s": 2.0,
        "rows_per_s": 20.0,
    }
    (tmp_path / "labelled.parquet.summary.json").write_text(json.dumps(summary))
    result = report(labelled, "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text()
    assert "my-&lt;b&gt;model&lt;/b&gt;" in page and "20 rows/s" in page
    assert "my-<b>model</b>" in result.stderr
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**summary, "model": "given"}))
    result = report(labelled, "-o", tmp_path / "r.html", "--summary", other)
    assert result.exit_code == 0 and "given" in (tmp_path / "r.html").read_text()


def test_prefixed_columns(tmp_path: Path) -> None:
    frame = labelled_frame()
    added = [c for c in frame.columns if c not in ("id", "text", "channel", "created")]
    path = write_labelled(frame.rename({c: f"emo_{c}" for c in added}), tmp_path / "p.parquet")
    assert report(path, "-o", tmp_path / "r.html").exit_code == 2
    result = report(path, "-o", tmp_path / "r.html", "--prefix", "emo_", "--json", "-")
    assert result.exit_code == 0, result.output
    joy = frame.filter(pl.col("emotion") == "joy").height
    assert json.loads(result.stdout)["counts"]["joy"] == joy


@pytest.mark.parametrize(
    ("change", "args", "message"),
    [
        ("drop-emotion", [], "not an annotate output (no 'emotion' column"),
        (None, ["--by", "chanel"], "no column named 'chanel' for --by; columns are: id, text"),
        (None, ["--time", "when"], "no column named 'when' for --time"),
        ("bad-time", ["--time", "created"], "1 values do not parse as a time, e.g. 'yesterday'"),
        ("parquet", ["--time", "id"], "--time id: 36 values are not unix time in seconds"),
        (None, ["--every", "1w"], "--every needs --time"),
        (None, ["--summary", "missing.json"], "no such summary file"),
        (None, ["--text-column", "body"], "no column named 'body' for --text-column"),
        ("half-parquet", [], "cannot read it as parquet (parquet: File out of specification"),
        ("ragged-csv", [], "cannot read it as csv (found more fields than defined"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    change: str | None, args: list[str], message: str, tmp_path: Path
) -> None:
    frame = labelled_frame()
    if change == "drop-emotion":
        frame = frame.drop("emotion")
    if change == "bad-time":
        frame = frame.with_columns(
            pl.when(pl.col("id") == 7)
            .then(pl.lit("yesterday"))
            .otherwise(pl.col("created"))
            .alias("created")
        )
    suffix = "parquet" if change in ("parquet", "half-parquet") else "csv"
    path = write_labelled(frame, tmp_path / f"labelled.{suffix}")
    if change == "half-parquet":  # a copy that stopped half way
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    if change == "ragged-csv":
        lines = path.read_text().splitlines()
        path.write_text("\n".join([*lines[:5], lines[5] + ",extra", *lines[6:]]) + "\n")
    out = tmp_path / "report.html"
    result = report(path, "-o", out, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [path]  # nothing half-written


def test_a_missing_file(tmp_path: Path) -> None:
    result = report(tmp_path / "nope.parquet", "-o", tmp_path / "r.html")
    assert result.exit_code == 2 and "no such file or folder" in result.stderr


def test_co_occurrence_counts_a_label_that_is_never_the_top_one(tmp_path: Path) -> None:
    """Without score_ columns the labels come from the data: 'love' is only ever second."""
    frame = labelled_frame().drop(f"score_{x}" for x in LABELS)
    frame = frame.with_columns(
        pl.when(pl.col("id") % 6 == 1)
        .then(pl.concat_list("emotion", pl.lit("love")))
        .otherwise(pl.col("emotions"))
        .alias("emotions")
    )
    path = write_labelled(frame, tmp_path / "lists.parquet")
    result = report(path, "-o", tmp_path / "r.html", "--json", tmp_path / "f.json")
    assert result.exit_code == 0, result.output
    multi = json.loads((tmp_path / "f.json").read_text())["multi_label"]
    assert multi["labels"][-1] == "love"
    labelled = frame.filter(pl.col("emotions").is_not_null())
    for i, a in enumerate(multi["labels"]):
        for j, b in enumerate(multi["labels"]):
            both = labelled.filter(
                pl.col("emotions").list.contains(a) & pl.col("emotions").list.contains(b)
            ).height
            assert multi["matrix"][i][j] == both, (a, b)
