"""classify: stdin lines or arguments in, one line out per input."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from emolabel.cli import main
from tests.conftest import EMOTIONS


def test_stdin_lines_tsv(tiny_model_dir: Path) -> None:
    result = CliRunner().invoke(
        main, ["classify", "-m", str(tiny_model_dir)], input="i am happy\n\ni am sad\n"
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 3
    label, confidence, emotions, text = lines[0].split("\t")
    assert label in EMOTIONS and 0 < float(confidence) <= 1 and text == "i am happy"
    assert emotions == label  # a single-label model: exactly [top label]
    assert lines[1] == "\t\t\t"
    assert lines[2].endswith("\ti am sad")


def test_arguments_jsonl(tiny_model_dir: Path) -> None:
    result = CliRunner().invoke(
        main, ["classify", "-m", str(tiny_model_dir), "--format", "jsonl", "one", "two"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["text"] for r in rows] == ["one", "two"]
    assert all(list(r["scores"]) == EMOTIONS for r in rows)
    assert all(r["emotions"] == [r["label"]] for r in rows)
    assert all(abs(sum(r["scores"].values()) - 1) < 1e-3 for r in rows)


def test_streams_through_a_real_pipe_and_survives_head(tiny_model_dir: Path) -> None:
    """A line in, a line out: the first answer arrives before stdin is closed."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "emolabel", "classify", "-m", str(tiny_model_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"first line here\n")
    proc.stdin.flush()
    first = proc.stdout.readline().decode()
    assert first.endswith("\tfirst line here\n")
    proc.stdout.close()  # the reader goes away, like `| head -1`
    proc.stdin.write(b"second\n" * 5000)
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.close()
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode() if proc.stderr else ""


def test_int8_prints_agreement_on_stderr_only(tiny_model_dir: Path) -> None:
    args = ["classify", "-m", str(tiny_model_dir), "--device", "cpu", "--precision", "int8"]
    result = CliRunner().invoke(main, args, input="i am happy\n\ni am sad\n")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3
    assert "int8 vs fp32: same top label on" in result.stderr
    assert result.stderr.rstrip().endswith("of 2 texts")
    plain = CliRunner().invoke(main, [*args[:-1], "fp32"], input="i am happy\n")
    assert plain.exit_code == 0 and plain.stderr == ""


def test_threads_caps_torchs_cpu_threads(tiny_model_dir: Path) -> None:
    import torch

    before = torch.get_num_threads()
    try:
        result = CliRunner().invoke(
            main, ["classify", "-m", str(tiny_model_dir), "--threads", "1", "i am happy"]
        )
        assert result.exit_code == 0, result.output
        assert result.output.endswith("\ti am happy\n")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
