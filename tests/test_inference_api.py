"""emolabel.inference's public names: each resolves to the object of its module, and the
CLI's shared options read DEFAULT_HEAD_TOKENS and the precisions without numpy or torch."""

from __future__ import annotations

import importlib
import subprocess
import sys

import emolabel.inference as inference


def test_every_public_name_is_its_modules_object() -> None:
    assert sorted(inference.__all__) == sorted(inference._LAZY)
    for name in inference.__all__:
        module = importlib.import_module(f"emolabel.inference.{inference._LAZY[name]}")
        assert getattr(inference, name) is getattr(module, name), name
    assert inference.DEFAULT_HEAD_TOKENS == 128
    assert inference.MODEL_INFO_FILE == "emolabel.json"
    assert inference.PRECISIONS == ("auto", "fp32", "bf16", "fp16", "int8")


def test_cli_options_import_no_numpy_or_torch() -> None:
    code = (
        "import sys, emolabel.cli.options, emolabel.cli.train, emolabel.cli.evaluate; "
        "print(sorted(m for m in ('numpy', 'torch', 'transformers') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stdout.strip() == "[]", run.stderr
