"""`train --partial-labels`: in a union of sources with different label sets, a source's rows
teach only the labels that source uses, instead of teaching every other label as absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from emolabel import EmotionClassifier
from emolabel.cli import main
from emolabel.training.objective import partial_label_loss

FILLERS = "today now again really very so quite just".split()


def write_source(folder: Path, cue_label: str, n: int = 24) -> Path:
    """train/validation JSONL: texts with `zebra` carry cue_label, texts with `apple` carry a."""
    folder.mkdir(parents=True)
    rows = []
    for i in range(n):
        filler = f"{FILLERS[i % len(FILLERS)]} {FILLERS[(i * 3 + 1) % len(FILLERS)]}"
        rows.append({"text": f"{filler} zebra {i}", "labels": [cue_label]})
        rows.append({"text": f"{filler} apple {i}", "labels": ["a"]})
    for name, part in (
        ("train.jsonl", rows[: n * 3 // 2]),
        ("validation.jsonl", rows[n * 3 // 2 :]),
    ):
        lines = [json.dumps(row) for row in part]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def train_on_both(tmp_path: Path, tiny_model_dir: Path, *extra: str) -> tuple[Path, str]:
    """Source one uses labels a and b, source two (three times over) a and c; both call the
    same `zebra` texts by their own cue label."""
    one = write_source(tmp_path / "one", "b")
    two = write_source(tmp_path / "two", "c")
    out = tmp_path / "model"
    args = ["train", "--data", str(one), "--data", f"{two}:repeat=3", "-o", str(out)]
    args += ["--multi-label", "--base-model", str(tiny_model_dir), "--epochs", "15"]
    args += ["--lr", "5e-3", "--head-lr", "5e-2"]
    args += ["--threads", "1", "--precision", "fp32", "--batch-size", "8", *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out, result.output


def zebra_scores(out: Path) -> dict[str, float]:
    clf = EmotionClassifier.load(str(out), device="cpu")
    return clf.predict(["really so zebra 7"])[0].scores


def test_a_source_does_not_teach_the_labels_it_never_uses(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    """Without the flag source two's zebra rows teach b as absent three times as often as
    source one teaches it present, so b ends low; with it nothing contradicts b or c."""
    out, output = train_on_both(tmp_path / "partial", tiny_model_dir, "--partial-labels")
    assert "left out of each source's loss: one: c; two: b" in output
    scores = zebra_scores(out)
    assert scores["b"] > 0.9 and scores["c"] > 0.9 and scores["a"] < 0.2, scores

    plain, _ = train_on_both(tmp_path / "plain", tiny_model_dir)
    before = zebra_scores(plain)
    assert before["b"] < 0.5, before

    info = json.loads((out / "emolabel.json").read_text())
    assert info["hyperparameters"]["partial_labels"] is True
    assert [s["labels"] for s in info["data"]["sources"]] == [["a", "b"], ["a", "c"]]
    assert "--partial-labels" in info["command"]
    card = (out / "README.md").read_text()
    assert "each source's rows on the labels it uses (one without c; two without b)" in card


def test_one_source_is_refused(tmp_path: Path, tiny_model_dir: Path) -> None:
    one = write_source(tmp_path / "one", "b")
    out = tmp_path / "model"
    args = ["train", "--data", str(one), "-o", str(out), "--partial-labels"]
    result = CliRunner().invoke(main, [*args, "--base-model", str(tiny_model_dir)])
    assert result.exit_code == 2
    assert "--partial-labels: give several --data sources" in result.output
    assert not out.exists()


def test_distill_refuses_partial_labels(tmp_path: Path, tiny_model_dir: Path) -> None:
    from emolabel.errors import EmolabelError
    from emolabel.training.distill import distill

    with pytest.raises(EmolabelError, match="partial_labels is for train"):
        distill(str(tiny_model_dir), "minilm", str(tmp_path), tmp_path / "o", partial_labels=True)


def test_the_loss_leaves_unknown_labels_out() -> None:
    """Multi-label: the mean BCE over the known pairs only. Single-label: a softmax over the
    row's known labels (with smoothing spread over those alone)."""
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.3, 0.1, -2.0]])
    known = torch.tensor([[True, True, False], [True, False, True]])
    targets = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    expected = bce[known].mean()
    assert partial_label_loss(logits, targets, known).item() == pytest.approx(expected.item())

    ids = torch.tensor([0, 2])
    got = partial_label_loss(logits, ids, known, smoothing=0.2)
    rows = []
    for row, label, mask in zip(logits, ids, known, strict=True):
        log_p = torch.log_softmax(row[mask], dim=-1)
        position = int(mask[: int(label)].sum())
        rows.append(0.8 * -log_p[position] + 0.2 * -log_p.mean())
    assert got.item() == pytest.approx(torch.stack(rows).mean().item(), rel=1e-6)
