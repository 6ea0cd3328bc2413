"""Multi-label training on the tiny BERT: BCE, tuned thresholds, the model folder, pos_weight,
per-source figures, --head-lr and distillation from a multi-label teacher."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from emolabel.training.base_models import load_base_model
from emolabel.training.data import SplitStats, TrainingData
from emolabel.training.objective import EmolabelTrainer, class_weights_for, head_parameter_names
from emolabel.training.trainer import train
from tests.test_training import FAST

LABELS = ["anger", "joy", "surprise"]
WORDS = {"anger": ["angry", "furious"], "joy": ["happy", "glad"], "surprise": ["wow", "suddenly"]}
FILLERS = "today now again really very so".split()


def multi_label_rows(n: int, seed: int) -> list[tuple[str, list[int]]]:
    """Unique texts with one or two label words; the labels are the words' emotions."""
    rng = random.Random(seed)
    rows: dict[str, list[int]] = {}
    while len(rows) < n:
        ids = sorted(rng.sample(range(len(LABELS)), rng.choice([1, 1, 2])))
        words = [rng.choice(WORDS[LABELS[i]]) for i in ids]
        text = " ".join([rng.choice(FILLERS), *words, rng.choice(FILLERS)])
        rows.setdefault(text, ids)
    return sorted(rows.items())


def multi_label_data(
    n_train: int = 90, n_val: int = 30, sources: dict[str, list[int]] | None = None
) -> TrainingData:
    """TrainingData as the data owner's reader builds it: `text` plus `labels` id lists."""
    from datasets import Dataset, DatasetDict

    rows = multi_label_rows(n_train + n_val, seed=0)
    random.Random(1).shuffle(rows)
    splits = DatasetDict(
        {
            name: Dataset.from_dict({"text": [t for t, _ in part], "labels": [y for _, y in part]})
            for name, part in (("train", rows[:n_train]), ("validation", rows[n_train:]))
        }
    )
    data = TrainingData(
        splits=splits,
        labels=list(LABELS),
        source="hand-made",
        text_column="text",
        label_column="labels",
        stats={"train": SplitStats(rows=n_train), "validation": SplitStats(rows=n_val)},
        validation_from="validation",
        train_validation_overlap=0,
        multi_label=True,
        dataset_name="hand-made",
        validation_sources=sources or {},
    )
    return data


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("multi") / "model"
    sources = {"a.jsonl": list(range(0, 30, 2)), "b.jsonl": list(range(1, 30, 2))}
    data = multi_label_data(sources=sources)
    options = {**FAST, "lr": 3e-3}
    result = train(data, out, base_model=str(tiny_model_dir), epochs=4, head_lr=3e-2, **options)
    return {"result": result, "out": out, "data": data}


def test_config_and_emolabel_json_say_multi_label(trained: dict[str, Any]) -> None:
    out: Path = trained["out"]
    config = json.loads((out / "config.json").read_text())
    assert config["problem_type"] == "multi_label_classification"
    assert config["id2label"] == {"0": "anger", "1": "joy", "2": "surprise"}
    info = json.loads((out / "emolabel.json").read_text())
    assert info["multi_label"] is True and info["task"] == "multi-label text classification"
    assert set(info["thresholds"]) == set(LABELS)
    assert all(0.05 <= t <= 0.95 for t in info["thresholds"].values())
    assert info["data"]["train_label_counts"].keys() == set(LABELS)
    assert info["hyperparameters"]["head_lr"] == 3e-2
    assert info["training"]["selection_metric"] == "macro_f1 at tuned thresholds"
    v = info["validation"]
    assert {"macro_f1", "micro_f1", "at_0.5", "per_class", "sources"} <= set(v)
    assert {"macro_f1", "micro_f1"} <= set(v["at_0.5"])
    assert v["sources"]["a.jsonl"]["rows"] == 15 and v["sources"]["b.jsonl"]["rows"] == 15
    assert v["per_class"]["joy"]["threshold"] == pytest.approx(info["thresholds"]["joy"])
    card = (out / "README.md").read_text()
    assert "| macro F1 |" in card and "at tuned thresholds" in card
    assert "| label | threshold |" in card and "`a.jsonl` (15 rows)" in card
    assert "binary cross-entropy per label" in card


def test_thresholds_are_tuned_on_the_saved_model(trained: dict[str, Any]) -> None:
    """The stored figures are what the saved model scores on validation at those thresholds."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from emolabel.training.thresholds import multi_hot, multilabel_f1, tune_thresholds

    out, data = trained["out"], trained["data"]
    tokenizer = AutoTokenizer.from_pretrained(out)
    model = AutoModelForSequenceClassification.from_pretrained(out).eval()
    texts = list(data.splits["validation"]["text"])
    with torch.no_grad():
        logits = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits
    scores = torch.sigmoid(logits).numpy()
    truth = multi_hot(data.splits["validation"]["labels"], len(LABELS))
    info = json.loads((out / "emolabel.json").read_text())
    expected = tune_thresholds(truth, scores)
    np.testing.assert_allclose([info["thresholds"][k] for k in LABELS], expected, atol=1e-4)
    figures = multilabel_f1(truth, scores, expected, LABELS)
    assert info["validation"]["macro_f1"] == pytest.approx(figures["macro_f1"], abs=1e-4)
    assert trained["result"].metrics["macro_f1"] > 0.6  # it learned the words
    # each source's figures are those of its own rows (not of rows in another order)
    for name, rows in data.validation_sources.items():
        part = multilabel_f1(truth[rows], scores[rows], expected, LABELS)
        stored = info["validation"]["sources"][name]
        assert stored["macro_f1"] == pytest.approx(part["macro_f1"], abs=1e-4), name
        assert stored["micro_f1"] == pytest.approx(part["micro_f1"], abs=1e-4), name


def test_pipeline_applies_a_sigmoid(trained: dict[str, Any]) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    out = trained["out"]
    text = "so happy wow now"
    pipe = pipeline("text-classification", model=str(out), device="cpu", top_k=None)
    theirs = {row["label"]: row["score"] for row in pipe([text])[0]}
    tokenizer = AutoTokenizer.from_pretrained(out)
    model = AutoModelForSequenceClassification.from_pretrained(out).eval()
    with torch.no_grad():
        logits = model(**tokenizer([text], return_tensors="pt")).logits[0]
    ours = dict(zip(LABELS, torch.sigmoid(logits).tolist(), strict=True))
    for label in LABELS:
        assert theirs[label] == pytest.approx(ours[label], abs=1e-5)
    assert sum(theirs.values()) != pytest.approx(1.0, abs=1e-3)  # not a softmax


def test_bce_loss_with_pos_weight(tmp_path: Path, tiny_model_dir: Path) -> None:
    from transformers import TrainingArguments

    data = multi_label_data(n_train=30, n_val=9)
    weights = class_weights_for(data)
    hot = np.zeros((30, 3))
    for i, ids in enumerate(data.splits["train"]["labels"]):
        hot[i, ids] = 1
    positives = hot.sum(axis=0)
    assert weights == pytest.approx(list((30 - positives) / positives))
    model = load_base_model("t", str(tiny_model_dir), True, LABELS, multi_label=True)[1]
    args = TrainingArguments(output_dir=str(tmp_path / "o"), use_cpu=True, report_to="none")
    trainer = EmolabelTrainer(model=model, args=args, class_weights=weights)
    inputs = {
        "input_ids": torch.tensor([[101, 2000, 102], [101, 2001, 102]]),
        "attention_mask": torch.ones(2, 3, dtype=torch.long),
        "labels": torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]),
    }
    model.eval()
    loss = trainer.compute_loss(model, inputs)
    logits = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits
    p = torch.sigmoid(logits)
    y = inputs["labels"]
    w = torch.tensor(weights)
    expected = -(w * y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_head_lr_gives_the_head_and_pooler_their_own_learning_rate(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    from transformers import TrainingArguments

    model = load_base_model("t", str(tiny_model_dir), True, LABELS, multi_label=True)[1]
    head = head_parameter_names(model)
    assert head == {
        "bert.pooler.dense.weight",
        "bert.pooler.dense.bias",
        "classifier.weight",
        "classifier.bias",
    }
    args = TrainingArguments(
        output_dir=str(tmp_path / "o"),
        use_cpu=True,
        report_to="none",
        learning_rate=1e-4,
        weight_decay=0.01,
    )
    trainer = EmolabelTrainer(model=model, args=args, head_lr=1e-2)
    optimizer = trainer.create_optimizer()
    by_id = {id(p): name for name, p in model.named_parameters()}
    seen = set()
    for group in optimizer.param_groups:
        names = {by_id[id(p)] for p in group["params"]}
        seen |= names
        assert group["lr"] == (1e-2 if names <= head else 1e-4)
        assert names <= head or not names & head  # a group is all head or all encoder
        assert group["weight_decay"] in (0.0, 0.01)
    assert seen == {name for name, _ in model.named_parameters()}
    assert {g["lr"] for g in optimizer.param_groups} == {1e-2, 1e-4}
    plain = EmolabelTrainer(model=model, args=args).create_optimizer()
    assert {g["lr"] for g in plain.param_groups} == {1e-4}


def test_head_lr_steps_the_head_further(tmp_path: Path, tiny_model_dir: Path) -> None:
    """One real step (AdamW moves each weight by about its lr): with head_lr = 100 x lr the
    classifier moves about 100x as far, the encoder the same."""
    import transformers
    from safetensors.torch import load_file

    from tests.test_training import write_data

    data = write_data(tmp_path / "d")
    transformers.set_seed(FAST.get("seed", 42))  # train() seeds the fresh head the same way
    start = load_base_model("t", str(tiny_model_dir), True, ["anger", "joy", "sadness"])[1]
    initial = {k: v.detach().clone() for k, v in start.state_dict().items()}
    moved: dict[str, dict[str, float]] = {}
    for name, head_lr in (("same", None), ("larger", 1e-1)):
        out = tmp_path / name
        options = {**FAST, "lr": 1e-3}
        train(data, out, base_model=str(tiny_model_dir), max_steps=1, warmup_ratio=0.0,
              head_lr=head_lr, **options)  # fmt: skip
        after = load_file(out / "model.safetensors")
        moved[name] = {
            key: float((after[key] - initial[key]).abs().mean())
            for key in ("classifier.weight", "bert.encoder.layer.0.output.dense.weight")
        }
    head, encoder = "classifier.weight", "bert.encoder.layer.0.output.dense.weight"
    assert moved["larger"][head] > 30 * moved["same"][head] > 0
    assert moved["larger"][encoder] == pytest.approx(moved["same"][encoder], rel=0.05)


def test_train_help_shows_head_lr_and_defaults_from_the_dataclass() -> None:
    from emolabel.cli import main
    from emolabel.cli.train import command
    from emolabel.training.options import TrainingOptions

    defaults = TrainingOptions()
    for param in command.params:
        if param.name in TrainingOptions.__dataclass_fields__:
            assert param.default == getattr(defaults, param.name), param.name
    help_text = CliRunner().invoke(main, ["train", "--help"]).output
    assert "--head-lr" in help_text and "multi-label" in help_text


# ----------------------------------------------------------------------------- distillation
@pytest.fixture(scope="module")
def distilled(trained: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from emolabel.training.distill import distill

    out = tmp_path_factory.mktemp("multi-student") / "student"
    result = distill(
        trained["out"], "teacher:layers=1", trained["data"], out, temperature=2.0, epochs=1, **FAST
    )
    return {"result": result, "out": out}


def test_multi_label_teacher_distils_into_a_multi_label_student(
    trained: dict[str, Any], distilled: dict[str, Any]
) -> None:
    out: Path = distilled["out"]
    config = json.loads((out / "config.json").read_text())
    assert config["problem_type"] == "multi_label_classification"
    assert config["num_hidden_layers"] == 1
    info = json.loads((out / "emolabel.json").read_text())
    assert info["multi_label"] is True and set(info["thresholds"]) == set(LABELS)
    objective = info["objective"]
    assert objective["multi_label"] is True
    assert "BCE(sigmoid(s/T), sigmoid(t/T))" in objective["loss"]
    assert "sigmoid probabilities" in objective["summary"]
    assert set(objective["teacher_validation"]) == {"macro_f1", "micro_f1"}
    assert "sigmoid probabilities" in (out / "README.md").read_text()


def test_multi_label_teacher_targets_are_its_logits(trained: dict[str, Any]) -> None:
    from emolabel.inference.classifier import EmotionClassifier
    from emolabel.training.batches import tokenize_splits
    from emolabel.training.distill import DistillationObjective
    from emolabel.training.distillation_loss import IGNORE_LABEL, TEACHER_COLUMN

    teacher = EmotionClassifier.load(trained["out"], device="cpu", precision="fp32")
    assert teacher.multi_label
    objective = DistillationObjective(teacher)
    data = objective.prepare_data(trained["data"])
    rows = objective.prepare_train(tokenize_splits(data, teacher.encoder)["train"], teacher.encoder)
    proba, _ = teacher.predict_proba([data.splits["train"]["text"][3]])
    np.testing.assert_allclose(
        torch.sigmoid(torch.tensor(rows[3][TEACHER_COLUMN])), proba[0], atol=1e-5
    )
    assert objective._no_label() == [float(IGNORE_LABEL)] * len(LABELS)


def test_multi_label_distillation_loss_matches_its_definition() -> None:
    from emolabel.training.distillation_loss import IGNORE_LABEL, multi_label_distillation_loss

    torch.manual_seed(0)
    student, teacher = torch.randn(4, 3), torch.randn(4, 3)
    labels = torch.tensor([[1.0, 0, 1], [0, 1, 0], [IGNORE_LABEL] * 3, [0, 0, 1]])
    t, a = 2.0, 0.3
    q = torch.sigmoid(teacher / t)
    s = torch.sigmoid(student / t)
    soft = -(q * s.log() + (1 - q) * (1 - s).log()).mean() * t * t
    keep = [0, 1, 3]
    p, y = torch.sigmoid(student[keep]), labels[keep]
    hard = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    got = multi_label_distillation_loss(student, teacher, labels, temperature=t, alpha=a)
    assert got.item() == pytest.approx((a * soft + (1 - a) * hard).item(), rel=1e-5)
    only_soft = multi_label_distillation_loss(
        student, teacher, torch.full((4, 3), float(IGNORE_LABEL)), temperature=t, alpha=a
    )
    assert only_soft.item() == pytest.approx(a * soft.item(), rel=1e-5)


def test_multi_label_teacher_on_single_label_data_is_refused(
    trained: dict[str, Any], tmp_path: Path
) -> None:
    from emolabel.errors import EmolabelError
    from emolabel.training.distill import distill

    folder = tmp_path / "d"
    folder.mkdir()
    for name, n in (("train.txt", 12), ("val.txt", 6)):
        rows = [(t, LABELS[ids[0]]) for t, ids in multi_label_rows(n, seed=n) if len(ids) == 1]
        (folder / name).write_text("".join(f"{t};{y}\n" for t, y in rows), encoding="utf-8")
    with pytest.raises(EmolabelError, match="teacher is multi-label but the data is not"):
        distill(trained["out"], "teacher:layers=1", folder, tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_rendered_result_shows_thresholds_and_both_f1s(trained: dict[str, Any]) -> None:
    from rich.console import Console

    from emolabel.cli.render import render_training_result

    console = Console(record=True, width=120)
    render_training_result(trained["result"], console=console)
    text = console.export_text()
    assert "threshold" in text and "micro F1" in text
    m = trained["result"].metrics
    assert f"{m['macro_f1']:.4f} tuned, {m['at_0.5']['macro_f1']:.4f} at 0.5" in text
    assert "a.jsonl" in text and "15 rows" in text


def test_cli_ctrl_c_exits_130_with_the_resume_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import emolabel.training.trainer as trainer_module
    from emolabel.cli import main
    from emolabel.errors import Interrupted

    def stopped(*args: Any, **kwargs: Any) -> Any:
        raise Interrupted("interrupted: checkpoint saved in m/checkpoints/checkpoint-8; "
                          "continue with: emolabel train --data d -o m --resume")  # fmt: skip

    monkeypatch.setattr(trainer_module, "train", stopped)
    result = CliRunner().invoke(main, ["train", "--data", str(tmp_path), "-o", "m", "-q"])
    assert result.exit_code == 130
    assert "continue with: emolabel train --data d -o m --resume" in result.output


def test_emotion_classifier_reads_the_tuned_thresholds(trained: dict[str, Any]) -> None:
    from emolabel.inference.classifier import EmotionClassifier

    out = trained["out"]
    info = json.loads((out / "emolabel.json").read_text())
    classifier = EmotionClassifier.load(out, device="cpu", precision="fp32")
    assert classifier.multi_label and classifier.labels == LABELS
    np.testing.assert_allclose(
        classifier.thresholds, [info["thresholds"][k] for k in LABELS], atol=1e-6
    )


def test_cli_trains_a_multi_label_model_from_label_lists(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    """Through the data reader: JSONL rows with label-name lists -> a multi-label folder."""
    from emolabel.cli import main

    folder = tmp_path / "data"
    folder.mkdir()
    rows = multi_label_rows(60, seed=3)
    for name, part in (("train.jsonl", rows[:45]), ("validation.jsonl", rows[45:])):
        lines = [json.dumps({"text": t, "labels": [LABELS[i] for i in ids]}) for t, ids in part]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "m"
    args = ["train", "--data", str(folder), "-o", str(out), "--base-model", str(tiny_model_dir)]
    args += ["--epochs", "1", "--threads", "1", "--precision", "fp32", "--batch-size", "8"]
    result = CliRunner().invoke(main, [*args, "--lr", "1e-2", "--class-weights"])
    assert result.exit_code == 0, result.output
    positives = {label: sum(LABELS.index(label) in ids for _, ids in rows[:45]) for label in LABELS}
    shown = ", ".join(f"{label} {(45 - n) / n:.3g}" for label, n in positives.items())
    assert f"class weights (BCE pos_weight): {shown}" in result.output  # negatives / positives
    assert "cpu fp32, 1 thread;" in result.output
    config = json.loads((out / "config.json").read_text())
    assert config["problem_type"] == "multi_label_classification"
    info = json.loads((out / "emolabel.json").read_text())
    assert info["multi_label"] is True and set(info["thresholds"]) == set(LABELS)
    assert info["data"]["sizes"] == {"train": 45, "validation": 15}
    assert "--class-weights" in info["command"]


def test_a_source_macro_f1_averages_only_the_labels_it_has() -> None:
    """dair-ai has no neutral: its macro-F1 must not count neutral as an F1 of 0."""
    from emolabel.training.thresholds import source_figures

    truth = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0]], dtype=bool)  # no third label
    scores = np.array([[0.9, 0.1, 0.2], [0.2, 0.8, 0.1], [0.3, 0.1, 0.1]], dtype=np.float32)
    figures = source_figures(truth, scores, np.full(3, 0.5), ["a", "b", "neutral"])
    assert figures["labels"] == ["a", "b"]
    assert figures["macro_f1"] == pytest.approx((2 / 3 + 1.0) / 2)  # a: P 1, R 1/2; b: 1
    assert figures["at_0.5"]["macro_f1"] == pytest.approx(figures["macro_f1"])
