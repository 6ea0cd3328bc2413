"""The built-in model as emolabel ships it: fp16 weights on disk, fp32/bf16 compute, and
right answers on sentences nobody could argue about."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from click.testing import CliRunner
from safetensors import safe_open
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from emolabel.cli import main
from emolabel.inference import EmotionClassifier, builtin_model_dir, cpu_supports_bf16

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"


def test_fp16_stored_weights_load_as_fp32(tmp_path: Path, tiny_model_dir: Path) -> None:
    half = tmp_path / "half"
    AutoModelForSequenceClassification.from_pretrained(tiny_model_dir).half().save_pretrained(half)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(half)
    stored = EmotionClassifier.load(half, precision="fp32")
    assert next(stored.model.parameters()).dtype == torch.float32
    full = EmotionClassifier.load(tiny_model_dir, precision="fp32")
    texts = ["i am so happy today", "this is awful and i hate it"]
    a, _ = stored.predict_proba(texts)
    b, _ = full.predict_proba(texts)
    np.testing.assert_allclose(a, b, atol=2e-3)


# Written for this test, not taken from any dataset: one clear emotion each.
UNAMBIGUOUS = {
    "sadness": [
        "i feel so lonely and sad since my grandmother passed away",
        "i cried all night because i feel miserable and heartbroken",
    ],
    "joy": [
        "i am so happy and excited that i passed all my exams today",
        "i feel wonderful and cheerful this morning",
    ],
    "love": [
        "i feel so loving and tender towards my sweet newborn daughter",
        "i feel passionate and romantic whenever he holds my hand",
    ],
    "anger": [
        "i am furious that they lied to me again and i hate them for it",
        "i feel so irritated and annoyed by his rude behaviour",
    ],
    "fear": [
        "i feel terrified walking home alone in the dark",
        "i am scared and nervous about the surgery tomorrow",
    ],
    "surprise": [
        "i was amazed and shocked when i saw the results, i never expected that",
        "i feel so surprised by how strange this news is",
    ],
}


@pytest.fixture(scope="module")
def builtin() -> EmotionClassifier:
    assert (builtin_model_dir() / "model.safetensors").is_file(), "the built-in model is missing"
    return EmotionClassifier.load(device="cpu", precision="fp32")


def test_builtin_model_is_stored_as_fp16_and_runs_as_fp32(builtin: EmotionClassifier) -> None:
    folder = builtin_model_dir()
    with safe_open(str(folder / "model.safetensors"), framework="pt") as f:
        assert {f.get_slice(k).get_dtype() for k in f.keys()} == {"F16"}  # noqa: SIM118
    assert next(builtin.model.parameters()).dtype == torch.float32
    assert builtin.labels == ["sadness", "joy", "love", "anger", "fear", "surprise"]
    # A plain transformers loader (e.g. pipeline on a CPU) gets fp32 too, not slow fp16.
    plain = AutoModelForSequenceClassification.from_pretrained(folder)
    assert next(plain.parameters()).dtype == torch.float32


def test_builtin_model_labels_unambiguous_sentences(builtin: EmotionClassifier) -> None:
    texts = [text for texts in UNAMBIGUOUS.values() for text in texts]
    expected = [label for label, texts in UNAMBIGUOUS.items() for _ in texts]
    got = [p.label for p in builtin.predict(texts)]
    wrong = [(t, e, g) for t, e, g in zip(texts, expected, got, strict=True) if e != g]
    assert not wrong, wrong


def test_builtin_model_in_bf16_agrees_with_fp32(builtin: EmotionClassifier) -> None:
    if not cpu_supports_bf16():
        pytest.skip("this CPU has no native bf16")
    texts = [text for texts in UNAMBIGUOUS.values() for text in texts]
    bf16 = EmotionClassifier.load(device="cpu", precision="bf16")
    assert [p.label for p in bf16.predict(texts)] == [p.label for p in builtin.predict(texts)]


def test_annotate_sample_data_with_no_model_option(tmp_path: Path) -> None:
    """The README's first command: the built-in model, no other step."""
    out = tmp_path / "out.parquet"
    result = CliRunner().invoke(
        main, ["annotate", str(SAMPLE_DATA / "tweets.csv"), "-o", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    source = pq.read_table(SAMPLE_DATA / "tweets.parquet")
    assert table.num_rows == source.num_rows
    assert table.column_names[:4] == ["id", "user", "text", "likes"]
    first = table.slice(0, 2).to_pylist()
    assert first[0]["emotion"] == "joy"  # "i finally got the job offer and i cannot stop smiling"
    assert first[1]["emotion"] == "sadness"  # "my dog passed away this morning ..."


def test_models_command_lists_the_builtin_model() -> None:
    result = CliRunner().invoke(main, ["models", "--json"])
    assert result.exit_code == 0, result.output
    (info,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert info["name"] == "emotion-minilm"
    assert info["labels"] == ["sadness", "joy", "love", "anger", "fear", "surprise"]
    assert 40e6 < info["size_bytes"] < 60e6  # fp16 weights, not fp32
    assert info["accuracy"] > 0.9 and info["macro_f1"] > 0.85
