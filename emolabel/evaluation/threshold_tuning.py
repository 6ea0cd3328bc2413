"""Re-tune a multi-label model's per-label thresholds on labelled data, through annotate's
own engine, and write the model folder back with them.

`emolabel train` tunes thresholds on the scores of its last validation pass (training
length, training precision). What users run is the stored model through EmotionClassifier:
another max length, fp16 weights, bf16 on the CPU. Tuning on those scores makes the
thresholds fit what annotate outputs; tuning on your own labelled text fits them to it.
The figures before and after use annotate's rule (the top label where none reaches its
threshold), so they are what the `emotions` column will score.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from emolabel.errors import EmolabelError
from emolabel.evaluation.evaluate import decide_labels, label_matrix, predict_scores
from emolabel.events import Events
from emolabel.inference.classifier import EmotionClassifier
from emolabel.inference.model_folders import MODEL_INFO_FILE, read_model_info
from emolabel.inference.truncation import DEFAULT_HEAD_TOKENS
from emolabel.metrics import multilabel_metrics
from emolabel.training.data import load_labelled_split
from emolabel.training.thresholds import tune_thresholds

CARD_FILE = "README.md"
CARD_SECTION = "## Thresholds re-tuned"


@dataclass
class ThresholdTuning:
    """What re-tuning changed: thresholds and annotate-rule figures before and after."""

    model: str
    out: Path
    data: list[str]
    split: str
    labels: list[str]
    rows: int
    before: np.ndarray
    after: np.ndarray
    metrics_before: dict[str, Any]
    metrics_after: dict[str, Any]
    precision: str

    def record(self) -> dict[str, Any]:
        """The `threshold_tuning` entry of emolabel.json."""
        from emolabel import __version__

        return {
            "emolabel_version": __version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "data": self.data,
            "split": self.split,
            "rows": self.rows,
            "precision": self.precision,
            "decision": "labels at or above their threshold; the top label where none is",
            "macro_f1_before": round(self.metrics_before["macro_f1"], 4),
            "macro_f1_after": round(self.metrics_after["macro_f1"], 4),
            "micro_f1_before": round(self.metrics_before["micro_f1"], 4),
            "micro_f1_after": round(self.metrics_after["micro_f1"], 4),
            "per_label": {
                label: {
                    "threshold_before": round(float(self.before[i]), 4),
                    **self.metrics_after["per_label"][label],
                }
                for i, label in enumerate(self.labels)
            },
        }


def retune_thresholds(
    model: str | os.PathLike[str] | None,
    data: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    split: str = "validation",
    text_column: str | None = None,
    label_column: str | None = None,
    label_map: str | None = None,
    overwrite: bool = False,
    device: str = "auto",
    precision: str = "auto",
    max_length: int | None = None,
    head_tokens: int = DEFAULT_HEAD_TOKENS,
    batch_tokens: int | None = None,
    events: Events | None = None,
) -> ThresholdTuning:
    """Tune each label's threshold for F1 on `data` (all rows of every source together) and
    write the model to `out` with them: a copy, or `model` itself when `out` is its folder.

    `label_map` maps the data's labels onto the model's (as train's --label-map). Nothing is
    written until every row is scored; the copy appears complete or not at all.
    """
    if not data:
        raise EmolabelError("no --data: give the labelled data to tune the thresholds on")
    classifier = EmotionClassifier.load(
        model, device=device, precision=precision, max_length=max_length, head_tokens=head_tokens
    )
    if not classifier.multi_label:
        raise EmolabelError(
            f"model {classifier.source} is single-label: its label is the top score, there "
            "are no thresholds to tune"
        )
    source = _local_folder(classifier.source)
    target = Path(out).expanduser()
    in_place = target.exists() and target.resolve() == source.resolve()
    if not in_place:
        _check_target(target, overwrite=overwrite)
    labels = list(classifier.labels)
    texts: list[str] = []
    truth = []
    for item in data:
        split_data = load_labelled_split(
            item, split=split, text_column=text_column, label_column=label_column,
            label_map=label_map,
        )  # fmt: skip
        truth.append(label_matrix(split_data.labels, labels, split_data.source))
        texts += split_data.texts
    y = np.concatenate(truth)
    scores = predict_scores(classifier, texts, batch_tokens=batch_tokens, events=events)
    before = np.asarray(classifier.thresholds, dtype=np.float32)
    after = tune_thresholds(y, scores)
    result = ThresholdTuning(
        model=classifier.source,
        out=target,
        data=[str(d) for d in data],
        split=split,
        labels=labels,
        rows=len(texts),
        before=before,
        after=after,
        metrics_before=_figures(y, scores, before, labels),
        metrics_after=_figures(y, scores, after, labels),
        precision=classifier.precision,
    )
    _write(source, target, result, in_place=in_place)
    return result


def _figures(y: np.ndarray, scores: np.ndarray, cut: np.ndarray, labels: list[str]) -> Any:
    return multilabel_metrics(y, scores, cut, labels, predicted=decide_labels(scores, cut))


def _local_folder(source: str) -> Path:
    """The model's files on disk: its folder, or the hub snapshot transformers loaded."""
    if Path(source).is_dir():
        return Path(source)
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(source, local_files_only=True))


def _check_target(target: Path, *, overwrite: bool) -> None:
    if target.exists() and not target.is_dir():
        raise EmolabelError(f"-o {target} is a file: pass a folder path")
    if target.exists() and any(target.iterdir()):
        if not overwrite:
            raise EmolabelError(
                f"output folder {target} is not empty: pass --overwrite to replace it, or "
                "choose another -o (-o MODEL updates the model's own folder)"
            )
        if not (target / "config.json").exists():
            raise EmolabelError(
                f"--overwrite: {target} does not look like a model folder (no config.json); "
                "refusing to delete it; choose another -o"
            )


def _write(source: Path, target: Path, result: ThresholdTuning, *, in_place: bool) -> None:
    info = read_model_info(source)
    info["thresholds"] = {
        label: round(float(t), 4) for label, t in zip(result.labels, result.after, strict=True)
    }
    info["threshold_tuning"] = result.record()
    card_path = source / CARD_FILE
    card = card_path.read_text(encoding="utf-8") if card_path.exists() else ""
    card = card.split(f"\n{CARD_SECTION}", 1)[0].rstrip("\n") + "\n\n" + _card_section(result)
    staging = target.with_name(f".{target.name}.partial") if not in_place else target
    try:
        if not in_place:
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(source, staging, ignore=shutil.ignore_patterns("checkpoints"))
        _replace_text(staging / MODEL_INFO_FILE, json.dumps(info, indent=2) + "\n")
        _replace_text(staging / CARD_FILE, card)
        if not in_place:
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
    except OSError as exc:
        if not in_place:
            shutil.rmtree(staging, ignore_errors=True)
        raise EmolabelError(f"cannot write {target}: {exc.strerror or exc}") from None


def _replace_text(path: Path, text: str) -> None:
    """Write beside, then rename: an interrupted write leaves the old file whole."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _card_section(result: ThresholdTuning) -> str:
    before, after = result.metrics_before, result.metrics_after
    lines = [
        CARD_SECTION,
        "",
        f"Thresholds re-tuned by `emolabel tune-thresholds` on {', '.join(result.data)} "
        f"({result.split}, {result.rows} rows), from the stored model's scores "
        f"({result.precision}), each label's for its F1. They replace the thresholds above. "
        "Figures use annotate's rule (the top label where none reaches its threshold):",
        "",
        "| figure | before | after |",
        "| --- | --- | --- |",
        f"| macro F1 | {before['macro_f1']:.4f} | {after['macro_f1']:.4f} |",
        f"| micro F1 | {before['micro_f1']:.4f} | {after['micro_f1']:.4f} |",
        "",
        "| label | threshold before | threshold | precision | recall | F1 | support |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, label in enumerate(result.labels):
        row = after["per_label"][label]
        lines.append(
            f"| {label} | {result.before[i]:.2f} | {result.after[i]:.2f} | "
            f"{row['precision']:.4f} | {row['recall']:.4f} | {row['f1']:.4f} | "
            f"{row['support']} |"
        )
    return "\n".join(lines) + "\n"
