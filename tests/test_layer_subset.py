"""Layer-subset specs (`NAME_OR_DIR:layers=N`): parsing, which layers are kept, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from emolabel.errors import EmolabelError
from emolabel.training.base_models import (
    default_learning_rate,
    encoder_layers,
    load_base_model,
    resolve_base_model,
)
from emolabel.training.layer_subset import (
    describe_layer_subset,
    keep_encoder_layers,
    kept_layer_indices,
    split_layer_spec,
)


@pytest.mark.parametrize(
    ("total", "keep", "kept"),
    [
        (6, 3, [1, 3, 5]),  # MiniLM-L6 -> 3: layers 2, 4, 6 (every other, as DistilBERT)
        (6, 2, [2, 5]),
        (6, 1, [5]),
        (6, 6, [0, 1, 2, 3, 4, 5]),
        (12, 6, [1, 3, 5, 7, 9, 11]),
        (12, 4, [2, 5, 8, 11]),
        (2, 1, [1]),
    ],
)
def test_evenly_spaced_layers_keep_the_last(total: int, keep: int, kept: list[int]) -> None:
    assert kept_layer_indices(total, keep) == kept


def test_spec_parsing() -> None:
    assert split_layer_spec("minilm:layers=2") == ("minilm", 2)
    assert split_layer_spec("/models/my-model:layers=3") == ("/models/my-model", 3)
    assert split_layer_spec("minilm") == ("minilm", None)
    assert split_layer_spec("owner/name") == ("owner/name", None)
    assert split_layer_spec("/odd:path/model") == ("/odd:path/model", None)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("minilm:layers=0", "at least 1"),
        ("minilm:layers=two", "not a whole number"),
        ("minilm:heads=2", "unknown option 'heads'"),
        ("minilm:layers=7", "only 6 layers"),
    ],
)
def test_bad_specs_fail_before_loading(spec: str, message: str) -> None:
    with pytest.raises(EmolabelError, match=message) as caught:
        resolve_base_model(spec)
    assert "\n" not in str(caught.value)


def test_keep_layers_copies_the_chosen_blocks(tiny_model_dir: Path, tmp_path: Path) -> None:
    _, full = load_base_model("tiny", str(tiny_model_dir), True, ["a", "b"])
    _, cut = load_base_model(f"{tiny_model_dir}:layers=1", str(tiny_model_dir), True, ["a", "b"])
    assert cut.config.num_hidden_layers == 1
    assert len(encoder_layers(cut)) == 1
    kept, last = encoder_layers(cut)[0], encoder_layers(full)[1]  # the last block is kept
    for (name, a), (_, b) in zip(kept.named_parameters(), last.named_parameters(), strict=True):
        assert torch.equal(a, b), name
    assert sum(p.numel() for p in cut.parameters()) < sum(p.numel() for p in full.parameters())
    cut.save_pretrained(tmp_path / "cut")  # reloads as an ordinary 1-layer model
    assert json.loads((tmp_path / "cut" / "config.json").read_text())["num_hidden_layers"] == 1


def test_too_many_layers_on_load(tiny_model_dir: Path) -> None:
    _, model = load_base_model("tiny", str(tiny_model_dir), True, ["a", "b"])
    with pytest.raises(EmolabelError, match="only 2 layers"):
        keep_encoder_layers(model, 3, "tiny:layers=3")
    with pytest.raises(EmolabelError, match="only 2 layers"):
        resolve_base_model(f"{tiny_model_dir}:layers=3")


def test_presets_and_descriptions(tiny_model_dir: Path) -> None:
    source, local = resolve_base_model("minilm:layers=2")
    assert local and Path(source, "config.json").exists()
    assert default_learning_rate("minilm:layers=2") == default_learning_rate("minilm")
    assert describe_layer_subset(source, 2) == "layers 3, 6 of 6"
    assert describe_layer_subset(tiny_model_dir, 1) == "layers 2 of 2"
