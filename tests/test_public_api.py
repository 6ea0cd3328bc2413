"""The public API is what the README says it is: every exported name, and the quick start."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import emolabel

ROOT = Path(__file__).resolve().parent.parent


def _defining_modules() -> dict[str, str]:
    return dict(emolabel._LAZY)  # type: ignore[attr-defined]


def _check_exports() -> None:
    for name, module_name in _defining_modules().items():
        expected = getattr(importlib.import_module(module_name), name)
        assert getattr(emolabel, name) is expected, name
    for name in ("annotate", "evaluate", "train"):
        assert callable(getattr(emolabel, name)), name
    assert set(emolabel.__all__) == {*_defining_modules(), "__version__"}


def test_every_exported_name_is_the_intended_object() -> None:
    _check_exports()


def test_exports_survive_importing_the_cli_and_every_package() -> None:
    import emolabel.cli  # noqa: F401  (imports every command module)

    for package in ("io", "inference", "annotation", "training", "evaluation"):
        importlib.import_module(f"emolabel.{package}")
    _check_exports()


def test_from_import_gives_the_function_in_a_fresh_process() -> None:
    """The lazy loader once returned the submodule `emolabel.annotate` instead of the function."""
    code = (
        "from emolabel import annotate, evaluate, train, EmotionClassifier\n"
        "from emolabel import annotate as again\n"
        "assert callable(annotate) and callable(evaluate) and callable(train), 'not callable'\n"
        "assert again is annotate\n"
        "print(annotate.__module__, EmotionClassifier.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "emolabel.annotation" in done.stdout


def _readme_python_quick_start() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"From Python:\s*```python\n(.*?)```", readme, re.S)
    assert match, "README has no 'From Python:' python block"
    return match.group(1)


def test_readme_python_quick_start_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each line runs; a line ending in `# 'value'` must evaluate to that value."""
    shutil.copy(ROOT / "sample_data" / "tweets.csv", tmp_path / "tweets.csv")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    checked = 0
    for line in _readme_python_quick_start().splitlines():
        code, _, comment = line.partition("#")
        code = code.strip()
        if not code:
            continue
        expected = re.match(r"\s*('[^']*'|\"[^\"]*\")\s*$", comment)
        if expected and not code.startswith(("from ", "import ")) and "=" not in code:
            assert eval(code, namespace) == eval(expected.group(1)), line
            checked += 1
        else:
            exec(code, namespace)
    assert checked >= 1, "the quick start shows no result to check"
    assert (tmp_path / "labelled.parquet").exists()
