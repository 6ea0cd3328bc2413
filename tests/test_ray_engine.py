"""--engine ray on a local 2-CPU Ray: the union of its output files is the local engine's
output, row for row and type for type. Deselect with `-m "not ray"`; skipped without Ray."""

from __future__ import annotations

import json
import logging
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from emolabel.annotation.pipeline import annotate
from emolabel.cli import main
from tests.conftest import EMOTIONS as EMOTIONS_OF_TINY
from tests.conftest import build_tiny_model

WORDS = (
    "i feel so happy today and love my friends but the news made me angry and a little "
    "scared of what comes next what a surprise to see you here after all these sad years"
).split()
FILES = 3
ROWS_PER_FILE = 100


def make_rows(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """Short texts of varied length, some empty or blank, one long enough to be truncated."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 30)))
        if i % 37 == 5:
            text = ""
        elif i % 53 == 7:
            text = "   "
        elif i == 11:
            text = " ".join(rng.choice(WORDS) for _ in range(700))
        rows.append(
            {
                "id": i,
                "text": text,
                "score": round(rng.random(), 3),
                "lang": None if i % 10 == 0 else "en",
            }
        )
    return rows


def write_parts(folder: Path, fmt: str) -> list[Path]:
    """FILES files of ROWS_PER_FILE rows each, as parquet or CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = make_rows(FILES * ROWS_PER_FILE)
    paths = []
    for part in range(FILES):
        table = pa.Table.from_pylist(rows[part * ROWS_PER_FILE : (part + 1) * ROWS_PER_FILE])
        path = folder / f"part-{part}.{fmt}"
        if fmt == "parquet":
            pq.write_table(table, path)
        else:
            pa_csv.write_csv(table, path)
        paths.append(path)
    return paths


def local_engine_output(inputs: str, model: Path, out: Path, **options: Any) -> pa.Table:
    """The local engine on the same inputs (a folder or glob: with its `source` column)."""
    annotate([inputs], out, model=model, precision="fp32", **options)
    return pq.read_table(out)


def assert_same_rows(ray_out: pa.Table, local_out: pa.Table, key: str = "id") -> None:
    """Same schema; same rows after sorting by `key`; floats equal to float32 rounding."""
    assert ray_out.schema.remove_metadata().equals(local_out.schema.remove_metadata()), (
        f"{ray_out.schema}\n!=\n{local_out.schema}"
    )
    assert ray_out.num_rows == local_out.num_rows
    ray_out, local_out = ray_out.sort_by(key), local_out.sort_by(key)
    for field in local_out.schema:
        got, want = ray_out.column(field.name), local_out.column(field.name)
        if pa.types.is_floating(field.type):
            assert got.is_null().equals(want.is_null()), field.name
            a = np.asarray(got.to_pylist(), dtype=float)
            b = np.asarray(want.to_pylist(), dtype=float)
            # Ray groups rows into other batches, so padding differs: last-bit noise only.
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-6, equal_nan=True, err_msg=field.name)
        else:
            assert got.equals(want), field.name


@pytest.fixture(scope="module")
def local_ray() -> Any:
    """One local Ray with 2 CPUs for the module; annotate_with_ray uses it and leaves it up."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.ray
def test_parquet_folder_through_the_cli_matches_the_local_engine(
    tmp_path: Path, tiny_model_dir: Path, local_ray: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_parts(tmp_path / "in", "parquet")
    out = tmp_path / "out"
    summary_json = tmp_path / "summary.json"
    monkeypatch.chdir(tmp_path)  # a relative folder: `source` holds the paths as given
    result = CliRunner().invoke(
        main,
        [
            "annotate", "in", "-o", str(out), "--engine", "ray",
            "--workers", "2", "-m", str(tiny_model_dir), "--precision", "fp32",
            "-q", "--summary-json", str(summary_json),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert list(out.glob("*.parquet")), "no parquet files written"
    assert not list(tmp_path.glob(".out.*")), "temporary folder left behind"
    local = local_engine_output("in", tiny_model_dir, tmp_path / "local.parquet")
    assert local.column("source").to_pylist()[0] == "in/part-0.parquet"
    assert_same_rows(pq.read_table(out), local)

    summary = json.loads(summary_json.read_text())
    assert summary["rows"] == local.num_rows == FILES * ROWS_PER_FILE
    assert summary["skipped_empty"] == local.column("emotion").null_count
    assert summary["labelled"] == local.num_rows - summary["skipped_empty"]
    assert summary["truncated"] == 1
    emotions = local.column("emotion").to_pylist()
    for label, count in summary["counts"].items():
        assert count == emotions.count(label)
    assert summary["device"] == "cpu"
    assert summary["precision"] == "fp32"


@pytest.mark.ray
def test_csv_glob_keeps_string_columns_like_the_local_engine(
    tmp_path: Path, tiny_model_dir: Path, local_ray: Any
) -> None:
    from emolabel.engines.ray import RayOptions, annotate_with_ray

    write_parts(tmp_path / "in", "csv")
    out = tmp_path / "out"
    out.mkdir()  # an existing empty folder is fine
    summary = annotate_with_ray(
        str(tmp_path / "in" / "part-*.csv"),
        out,
        model=tiny_model_dir,
        precision="fp32",
        prefix="emo_",
        chunk_rows=64,  # batches unlike the local engine's: results must not depend on them
        ray=RayOptions(workers=2),
    )
    local = local_engine_output(
        str(tmp_path / "in" / "part-*.csv"),
        tiny_model_dir,
        tmp_path / "local.parquet",
        prefix="emo_",
    )
    ray_out = pq.read_table(out)
    # The local CSV reader reads every column as text and keeps empty fields as "".
    for name in ("id", "text", "score", "lang"):
        assert ray_out.schema.field(name).type == pa.string()
    assert ray_out.column("lang").null_count == 0
    assert_same_rows(ray_out, local)
    assert summary.rows == FILES * ROWS_PER_FILE
    assert summary.output == str(out)


@pytest.mark.ray
def test_semicolon_csv_with_delimiter_matches_the_local_engine(
    tmp_path: Path, tiny_model_dir: Path, local_ray: Any
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    rows = make_rows(FILES * ROWS_PER_FILE)
    for part in range(FILES):
        table = pa.Table.from_pylist(rows[part * ROWS_PER_FILE : (part + 1) * ROWS_PER_FILE])
        options = pa_csv.WriteOptions(delimiter=";")
        pa_csv.write_csv(table, folder / f"part-{part}.csv", write_options=options)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "annotate", str(folder), "-o", str(out), "--engine", "ray", "--workers", "2",
            "-m", str(tiny_model_dir), "--precision", "fp32", "-q", "--delimiter", ";",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    local = local_engine_output(
        str(folder), tiny_model_dir, tmp_path / "local.parquet", delimiter=";"
    )
    assert {"id", "text", "score", "lang"} <= set(local.column_names)  # split on ';'
    assert_same_rows(pq.read_table(out), local)


@pytest.mark.ray
def test_a_non_empty_output_folder_is_refused_without_overwrite(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    pytest.importorskip("ray")
    paths = write_parts(tmp_path / "in", "parquet")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = CliRunner().invoke(
        main, ["annotate", str(paths[0]), "-o", str(out), "--engine", "ray", "-q"]
    )
    assert result.exit_code == 2
    assert "exists and is not empty" in result.output
    assert "--overwrite" in result.output
    assert (out / "keep.txt").read_text() == "mine"


def test_engine_ray_without_ray_installed_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    src = tmp_path / "in.csv"
    src.write_text("id,text\n1,hello\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["annotate", str(src), "-o", str(tmp_path / "out"), "--engine", "ray"]
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "pip install 'emolabel[ray]'" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def multi_label_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with a sigmoid head and per-label thresholds stored in emolabel.json:
    one label always passes (0.0), one never does unless it is the top label (1.0)."""
    folder = build_tiny_model(tmp_path_factory.mktemp("tiny-multi-label"), seed=3)
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["problem_type"] = "multi_label_classification"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    thresholds = dict(zip(EMOTIONS_OF_TINY, [0.0, 1.0, 0.5, 0.49, 0.51, 0.5], strict=True))
    info = {"multi_label": True, "thresholds": thresholds}
    (folder / "emolabel.json").write_text(json.dumps(info), encoding="utf-8")
    return folder


@pytest.mark.ray
def test_multi_label_model_gives_the_local_engines_emotions_lists_and_scores(
    tmp_path: Path, multi_label_model_dir: Path, local_ray: Any
) -> None:
    """Sigmoid scores, `emotions` lists from the stored thresholds and from --threshold: the
    Ray output, joined to the local engine's by id, is the same row for row."""
    write_parts(tmp_path / "in", "parquet")
    for threshold in (None, 0.5):
        out = tmp_path / f"out-{threshold}"
        extra = [] if threshold is None else ["--threshold", str(threshold)]
        summary_json = tmp_path / f"summary-{threshold}.json"
        result = CliRunner().invoke(
            main,
            [
                "annotate", str(tmp_path / "in"), "-o", str(out), "--engine", "ray",
                "--workers", "2", "-m", str(multi_label_model_dir), "--precision", "fp32",
                "--chunk-rows", "50", "-q", "--summary-json", str(summary_json), *extra,
            ],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        local = local_engine_output(
            str(tmp_path / "in"),
            multi_label_model_dir,
            tmp_path / f"local-{threshold}.parquet",
            threshold=threshold,
        )
        ray_out = pq.read_table(out)
        assert ray_out.schema.field("emotions").type == pa.list_(pa.string())
        assert_same_rows(ray_out, local)

        labelled = local.filter(local.column("emotion").is_valid())
        emotions = labelled.column("emotions").to_pylist()
        summary = json.loads(summary_json.read_text())  # counted from the written files
        assert summary["multi_label"] is True
        assert summary["present"] == {x: sum(x in e for e in emotions) for x in EMOTIONS_OF_TINY}
        assert max(len(e) for e in emotions) >= 2, "no row has two emotions: nothing tested"
        totals = sum(labelled.column(f"score_{label}").to_numpy() for label in EMOTIONS_OF_TINY)
        assert not np.allclose(totals, 1.0, atol=1e-3), "scores sum to 1: softmax, not sigmoid"
        if threshold is None:  # sadness's stored threshold is 0.0: always in the list
            assert all("sadness" in e for e in emotions)
        else:
            assert not all("sadness" in e for e in emotions)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--rejects", "bad.csv"], "--rejects works with the local engine only"),
        (["--delimiter", ";", "--format", "jsonl"], "--delimiter is for CSV and TSV"),
        (["--resume"], "--resume works with the local engine only"),
        (["--threads", "2"], "--threads is for --engine local"),
        (["--output-format", "csv"], "writes parquet files only"),
        (["-o", "-"], "`-` (stdin or stdout) works with --engine local only"),
    ],
)
def test_local_engine_only_options_are_refused_not_ignored(
    tmp_path: Path, args: list[str], says: str
) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,text\n1,hello\n", encoding="utf-8")
    out = ["-o", str(tmp_path / "out")] if "-o" not in args else []
    result = CliRunner().invoke(main, ["annotate", str(src), *out, "--engine", "ray", *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0], result.output
    assert not (tmp_path / "out").exists()
