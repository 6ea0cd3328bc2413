"""Every bad input gives one clear line on stderr, exit code 2, and no output file."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from emolabel.cli import main


def annotate_cli(src: Path, out: Path, model: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["annotate", str(src), "-o", str(out), "-m", str(model), "-q", *extra]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error:"), output
    assert "Traceback" not in output
    return lines[0]


CASES: list[tuple[str, Callable[[Path], Path], tuple[str, ...], list[str]]] = [
    ("missing file", lambda d: d / "nope.csv", (), ["nope.csv", "no such file"]),
    (
        "unknown extension",
        lambda d: _write(d / "data.xlsx", b"whatever"),
        (),
        ["data.xlsx", "unknown file extension", "--format"],
    ),
    ("empty file", lambda d: _write(d / "empty.csv", b""), (), ["empty.csv", "is empty"]),
    (
        "header only",
        lambda d: _write(d / "header.csv", b"id,text\n"),
        (),
        ["header.csv", "header but no rows"],
    ),
    (
        "missing text column",
        lambda d: _write(d / "nums.csv", b"a,b\n1,2\n"),
        (),
        ["nums.csv", "--text-column", "a, b"],
    ),
    (
        "ambiguous text column",
        lambda d: _write(d / "two.csv", b"title,summary\nhello,world\n"),
        (),
        ["two.csv", "--text-column", "title, summary"],
    ),
    (
        "unknown --text-column",
        lambda d: _write(d / "in.csv", b"text\nhello\n"),
        ("--text-column", "body"),
        ["in.csv", "'body'", "columns are: text"],
    ),
    (
        "malformed JSONL line",
        lambda d: _write(d / "bad.jsonl", b'{"text": "ok"}\n{"text": "fine"}\n{"text": oops}\n'),
        (),
        ["bad.jsonl line 3", "malformed JSON"],
    ),
    (
        "invalid UTF-8 in CSV",
        lambda d: _write(d / "latin.csv", b"text\nhello\ncaf\xe9 time\n"),
        (),
        ["latin.csv line 3", "invalid UTF-8", "--encoding-errors replace"],
    ),
    (
        "invalid UTF-8 in JSONL",
        lambda d: _write(d / "latin.jsonl", b'{"text": "ok"}\n{"text": "caf\xe9"}\n'),
        (),
        ["latin.jsonl line 2", "invalid UTF-8"],
    ),
    (
        "nested text column",
        lambda d: _write(d / "nested.jsonl", b'{"text": "ok"}\n{"text": {"a": 1}}\n'),
        (),
        ["nested.jsonl line 2", "nested"],
    ),
    (
        "ragged CSV row",
        lambda d: _write(d / "ragged.csv", b"id,text\n1,hello\n2,a,b\n3,bye\n"),
        (),
        ["ragged.csv line 3", "expected 2 columns, got 3"],
    ),
    (
        "duplicate column names",
        lambda d: _write(d / "dup.csv", b"text,text,likes\nhello,there,12345\n"),
        (),
        ["dup.csv", "duplicate column name 'text'"],
    ),
    (
        "semicolon-separated CSV",
        lambda d: _write(d / "semi.csv", b"text;likes\nhello;12\nbye;3\n"),
        (),
        ["semi.csv", "one column", "--delimiter ';'"],
    ),
    (
        "lone surrogate in JSONL",
        lambda d: _write(d / "sur.jsonl", b'{"text": "ok"}\n{"text": "a \\ud800 b"}\n'),
        (),
        ["sur.jsonl line 2", "--encoding-errors replace"],
    ),
    (
        "truncated gzip",
        lambda d: _write(d / "cut.csv.gz", gzip.compress(_numbered_lines(20000))[:-2000]),
        ("--chunk-rows", "50000"),  # no chunk can finish first (then its part would be kept)
        ["cut.csv.gz", "ends early"],
    ),
]


def _numbered_lines(n: int) -> bytes:
    return b"text\n" + "".join(f"row {i * 7919 % 100003} of {n}\n" for i in range(n)).encode()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name,make,extra,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_line(
    tmp_path: Path,
    tiny_model_dir: Path,
    name: str,
    make: Callable[[Path], Path],
    extra: tuple[str, ...],
    expected: list[str],
) -> None:
    src = make(tmp_path)
    out = tmp_path / "out.parquet"
    code, output = annotate_cli(src, out, tiny_model_dir, *extra)
    assert code == 2, output
    line = one_error_line(output)
    for fragment in expected:
        assert fragment in line, (fragment, line)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.parquet")]  # no parts


def test_encoding_errors_replace_is_opt_in(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = _write(tmp_path / "latin.csv", b"text\nhello\ncaf\xe9 time\n")
    out = tmp_path / "out.parquet"
    code, output = annotate_cli(src, out, tiny_model_dir, "--encoding-errors", "replace")
    assert code == 0, output
    assert pl.read_parquet(out)["text"].to_list() == ["hello", "caf\ufffd time"]


def test_numbers_in_text_column_are_stringified(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = tmp_path / "nums.parquet"
    pl.DataFrame({"text": [1, 22, None]}).write_parquet(src)
    out = tmp_path / "out.jsonl"
    code, output = annotate_cli(src, out, tiny_model_dir)
    assert code == 0, output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["text"] for r in rows] == [1, 22, None]
    assert rows[0]["emotion"] is not None and rows[2]["emotion"] is None


def test_nested_parquet_text_column_is_refused(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = tmp_path / "nested.parquet"
    pl.DataFrame({"text": [["a", "b"]], "id": [1]}).write_parquet(src)
    code, output = annotate_cli(src, tmp_path / "o.parquet", tiny_model_dir, "-c", "text")
    assert code == 2
    assert "nested.parquet" in one_error_line(output)


def test_model_folder_without_id2label(tmp_path: Path, tiny_model_dir: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    for f in tiny_model_dir.iterdir():
        (model / f.name).write_bytes(f.read_bytes())
    config = json.loads((model / "config.json").read_text())
    config.pop("id2label")
    config.pop("label2id", None)
    (model / "config.json").write_text(json.dumps(config))
    src = _write(tmp_path / "in.csv", b"text\nhello\n")
    code, output = annotate_cli(src, tmp_path / "out.parquet", model)
    assert code == 2
    line = one_error_line(output)
    assert "id2label" in line and "config.json" in line


def test_missing_model_folder(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.csv", b"text\nhello\n")
    code, output = annotate_cli(src, tmp_path / "out.parquet", tmp_path / "no" / "model")
    assert code == 2
    assert "model folder not found" in one_error_line(output)


def test_unwritable_output_dir(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = _write(tmp_path / "in.csv", b"text\nhello\n")
    if os.geteuid() == 0:  # root writes through permissions; /proc refuses new files to anyone
        target = Path("/proc/out.parquet")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "out.parquet"
    code, output = annotate_cli(src, target, tiny_model_dir)
    assert code == 2
    line = one_error_line(output)
    assert "cannot write" in line and str(target) in line


def test_output_in_missing_dir(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = _write(tmp_path / "in.csv", b"text\nhello\n")
    code, output = annotate_cli(src, tmp_path / "nowhere" / "out.parquet", tiny_model_dir)
    assert code == 2
    assert "does not exist" in one_error_line(output)


def test_output_is_input(tmp_path: Path, tiny_model_dir: Path) -> None:
    src = _write(tmp_path / "in.csv", b"text\nhello\n")
    code, output = annotate_cli(src, src, tiny_model_dir, "--overwrite", "--output-format", "csv")
    assert code == 2
    assert "is the input file" in one_error_line(output)
    assert src.read_bytes() == b"text\nhello\n"
