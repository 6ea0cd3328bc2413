"""TextEncoder: the tokenizer and head+tail truncation of a model folder, without the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emolabel.errors import EmolabelError
from emolabel.inference import DEFAULT_HEAD_TOKENS, EmotionClassifier, TextEncoder

TEXTS = ["i feel so happy today", "ok", " ".join(f"word{i}" for i in range(300)), "x"]


def test_same_ids_as_the_classifier(tiny_model_dir: Path) -> None:
    encoder = TextEncoder.from_folder(tiny_model_dir, max_length=32, head_tokens=8)
    clf = EmotionClassifier.load(
        tiny_model_dir, device="cpu", precision="fp32", max_length=32, head_tokens=8
    )
    mine, theirs = encoder.encode(TEXTS), clf.encode(TEXTS)
    assert mine.ids == theirs.ids
    np.testing.assert_array_equal(mine.truncated, theirs.truncated)
    assert mine.truncated.tolist() == [False, False, True, False]
    assert (encoder.max_length, encoder.head_tokens, encoder.pad_id) == (32, 8, clf.pad_id)


def test_defaults_come_from_the_model(tiny_model_dir: Path) -> None:
    encoder = TextEncoder.from_folder(tiny_model_dir)
    assert encoder.max_length == 512  # the tiny BERT's max_position_embeddings
    assert encoder.head_tokens == DEFAULT_HEAD_TOKENS == 128
    long = encoder.encode([" ".join(["filler"] * 2000)]).ids[0]
    assert len(long) == 512 and long[0] == encoder.prefix[0] and long[-1] == encoder.suffix[-1]


def test_folder_without_tokenizer(tmp_path: Path) -> None:
    with pytest.raises(EmolabelError, match="tokenizer"):
        TextEncoder.from_folder(tmp_path)
