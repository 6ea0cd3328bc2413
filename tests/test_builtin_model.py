"""The model folder as emolabel ships it: fp16 weights on disk, fp32/bf16 compute."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from emolabel.classifier import EmotionClassifier


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
