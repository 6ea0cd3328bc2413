"""Fine-tune a sequence classifier with the Hugging Face Trainer and write an emolabel model.

The Trainer owns the loop (AdamW, linear warmup and decay, clipping, mixed precision,
per-epoch evaluation, best-checkpoint selection, resumable checkpoints); this module sets
it up: tokenized splits (the inference TextEncoder's head+tail truncation), the padding
collator, the loss (cross-entropy, or per-label BCE-with-logits for multi-label data),
an optional larger learning rate for the head, and the run from data to model folder.

Nothing here draws: progress goes to an `emolabel.events.Events` listener (emolabel.cli.render
has the Rich one), so the library runs the same from a notebook, a script or the CLI.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers
from transformers import (
    EarlyStoppingCallback,
    PrinterCallback,
    ProgressCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)
from transformers.trainer_utils import get_last_checkpoint

from emolabel.errors import Interrupted
from emolabel.events import Events
from emolabel.inference.devices import resolve_device
from emolabel.inference.encoding import TextEncoder
from emolabel.metrics import classification_metrics, epoch_metrics
from emolabel.training.base_models import (
    count_parameters,
    default_learning_rate,
    freeze_layers,
    load_base_model,
    resolve_base_model,
    resolve_training_precision,
)
from emolabel.training.batches import ROW_COLUMN, PadCollator, tokenize_splits
from emolabel.training.callbacks import EpochRecord, EventsCallback, InterruptFlag, epoch_history
from emolabel.training.data import DEFAULT_HUB_DATASET, TrainingData, load_training_data
from emolabel.training.model_folder import (
    CHECKPOINTS_DIR,
    ModelRecord,
    build_model_info,
    check_output_dir,
    check_resume_matches,
    empty_output_dir,
    equivalent_command,
    resume_command,
    write_model_info,
    write_run_file,
)
from emolabel.training.objective import (
    EmolabelTrainer,
    TrainingObjective,
    class_weights_for,
    is_multi_label,
    partial_labels_for,
)
from emolabel.training.options import DEFAULT_OUTPUT_DIR, TrainingOptions
from emolabel.training.thresholds import (
    multilabel_epoch_metrics,
    multilabel_validation,
    sigmoid,
)

__all__ = [
    "EmolabelTrainer",
    "EpochRecord",
    "PadCollator",
    "TrainingObjective",
    "TrainingOptions",
    "TrainingResult",
    "count_parameters",
    "tokenize_splits",
    "train",
]


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
    info: dict[str, Any] = field(default_factory=dict)
    multi_label: bool = False
    thresholds: dict[str, float] | None = None


# ----------------------------------------------------------------------------- public API
def train(
    data: str | os.PathLike[str] | list[str] | TrainingData = DEFAULT_HUB_DATASET,
    output_dir: str | os.PathLike[str] = DEFAULT_OUTPUT_DIR,
    *,
    overwrite: bool = False,
    resume: bool = False,
    events: Events | None = None,
    command: str | None = None,
    objective: TrainingObjective | None = None,
    **options: Any,
) -> TrainingResult:
    """Fine-tune `base_model` on `data` and write the best epoch's model to `output_dir`.

    `data` is what load_training_data reads (a file, folder, hub id, several of them) or a
    TrainingData already loaded. `options` are the fields of TrainingOptions (epochs, lr,
    head_lr, batch_size, seed, metric, patience, freeze, class_weights, ...). Ctrl-C saves a
    checkpoint and raises emolabel.errors.Interrupted; call again with resume=True to go on.
    `objective` changes what the model learns from (emolabel.training.distill passes one).
    """
    opts = TrainingOptions.from_kwargs(options)
    opts.check()
    threads = torch.get_num_threads()
    try:
        with _quiet_hugging_face():
            return _train(
                data,
                Path(output_dir).expanduser(),
                opts,
                overwrite,
                resume,
                events or Events(),
                command,
                objective or TrainingObjective(),
            )
    except KeyboardInterrupt:  # a second Ctrl-C: stopped at once, without a new checkpoint
        raise Interrupted(
            "interrupted: training stopped at once (second Ctrl-C); rerun the same command "
            "with --resume to continue from the last epoch checkpoint, if one was saved"
        ) from None
    finally:
        torch.set_num_threads(threads)  # leave the caller's process as it was


@dataclass
class _Run:
    """What one run has loaded before the Trainer starts."""

    opts: TrainingOptions
    out: Path
    started: float
    device: str
    precision: str
    source: str
    data: TrainingData
    tokenizer: Any
    model: Any
    encoder: TextEncoder
    trainable: int
    total: int
    lr: float
    command: str
    resumed: bool
    class_weights: list[float] | None  # --class-weights: per label, in data.labels order
    known_labels: np.ndarray | None  # --partial-labels: [train rows, labels] bool

    @property
    def checkpoints(self) -> Path:
        return self.out / CHECKPOINTS_DIR

    @property
    def multi_label(self) -> bool:
        return is_multi_label(self.data)


def _train(
    data: Any,
    out: Path,
    opts: TrainingOptions,
    overwrite: bool,
    resume: bool,
    events: Events,
    command: str | None,
    objective: TrainingObjective,
) -> TrainingResult:
    resume_from = check_output_dir(out, overwrite=overwrite, resume=resume)
    run = _load(data, out, opts, events, command, objective, resumed=resume_from is not None)
    tokenized = tokenize_splits(run.data, run.encoder, run.known_labels)
    tokenized["train"] = objective.prepare_train(tokenized["train"], run.encoder)
    if resume_from is None:
        empty_output_dir(out)  # only now, once data and model have loaded
    run.checkpoints.mkdir(parents=True, exist_ok=True)
    write_run_file(run.checkpoints, opts, run.data.labels, data)
    interrupt = InterruptFlag()
    progress = EventsCallback(events, interrupt)
    trainer = build_trainer(run, tokenized, [progress], objective)
    with interrupt.installed():
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    if interrupt.is_set and trainer.state.global_step < trainer.state.max_steps:
        checkpoint = Path(get_last_checkpoint(str(run.checkpoints)) or run.checkpoints)
        events.interrupted(checkpoint)
        again = resume_command(run.command)
        raise Interrupted(f"interrupted: checkpoint saved in {checkpoint}; continue with: {again}")
    events.saving(out)
    return _write_model(run, trainer, tokenized["validation"], progress.records, objective)


def _load(
    data: Any,
    out: Path,
    opts: TrainingOptions,
    events: Events,
    command: str | None,
    objective: TrainingObjective,
    *,
    resumed: bool,
) -> _Run:
    """Data, base model (frozen as asked) and encoder; nothing on disk changes here."""
    started = time.perf_counter()
    device = resolve_device(opts.device)
    precision = resolve_training_precision(opts.precision, device)
    source, is_local = resolve_base_model(opts.base_model)
    data_obj = objective.prepare_data(_load_data(data, opts))
    events.data_loaded(data_obj)
    if resumed:
        check_resume_matches(out / CHECKPOINTS_DIR, opts, data_obj.labels, data)
    threads = opts.threads or _cpu_count()
    if device == "cpu":
        torch.set_num_threads(threads)
    transformers.set_seed(opts.seed)
    multi_label = is_multi_label(data_obj)
    tokenizer, model = load_base_model(
        opts.base_model,
        source,
        is_local,
        data_obj.labels,
        multi_label=multi_label,
        pooling=opts.pooling,
    )
    trainable, total = freeze_layers(model, opts.freeze, opts.unfreeze_last)
    encoder = text_encoder(tokenizer, model, source, opts)
    # Persist the training max length so inference picks the same one by default.
    tokenizer.model_max_length = encoder.max_length
    lr = opts.lr if opts.lr is not None else default_learning_rate(opts.base_model)
    class_weights = class_weights_for(data_obj) if opts.class_weights else None
    left_out = partial_labels_for(data_obj) if opts.partial_labels else None
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
            "head_lr": opts.head_lr,
            "pooling": opts.pooling,
            "multi_label": multi_label,
            "class_weights": (
                dict(zip(data_obj.labels, class_weights, strict=True)) if class_weights else None
            ),
            "partial_labels": left_out,
        }
    )
    return _Run(
        opts, out, started, device, precision, source, data_obj, tokenizer, model, encoder,
        trainable, total, lr, command or equivalent_command(data, out, opts, lr), resumed,
        class_weights, data_obj.known_labels() if left_out is not None else None,
    )  # fmt: skip


def _write_model(
    run: _Run,
    trainer: Trainer,
    validation: Any,
    timed: list[EpochRecord],
    objective: TrainingObjective,
) -> TrainingResult:
    """Validate the best epoch's model and write it, emolabel.json and the card to -o."""
    metrics, thresholds = validate_best(trainer, validation, run.data, run.multi_label)
    state = trainer.state
    records = epoch_history(state.log_history, timed, state.best_global_step)
    best_epoch = next((r.epoch for r in records if r.is_best), None)
    best_model: Any = trainer.model
    best_model.save_pretrained(run.out, safe_serialization=True)
    run.tokenizer.save_pretrained(run.out)
    seconds = time.perf_counter() - run.started
    record = ModelRecord(
        opts=run.opts,
        lr=run.lr,
        head_lr=run.opts.head_lr,
        source=run.source,
        data=run.data,
        multi_label=run.multi_label,
        truncation=truncation_info(run.encoder),
        device=run.device,
        precision=run.precision,
        trainable=run.trainable,
        total=run.total,
        seconds=seconds,
        per_epoch=[asdict(r) for r in records],
        best_epoch=best_epoch,
        best_step=state.best_global_step,
        steps=state.global_step,
        epochs_run=state.epoch or 0,
        stopped_early=bool(run.opts.patience and state.global_step < state.max_steps),
        resumed=run.resumed,
        metrics=metrics,
        command=run.command,
        thresholds=thresholds,
        objective=objective.describe(),
    )
    info = build_model_info(record)
    write_model_info(run.out, info)
    if not run.opts.keep_checkpoints:
        shutil.rmtree(run.checkpoints, ignore_errors=True)
    return TrainingResult(
        output_dir=run.out,
        labels=run.data.labels,
        metrics=metrics,
        epochs=records,
        best_epoch=best_epoch,
        trainable_params=run.trainable,
        total_params=run.total,
        seconds=seconds,
        info=info,
        multi_label=run.multi_label,
        thresholds=thresholds,
    )


def _load_data(data: Any, opts: TrainingOptions) -> TrainingData:
    if isinstance(data, TrainingData):
        return data
    return load_training_data(data, **opts.data_options())


def text_encoder(tokenizer: Any, model: Any, source: str, opts: TrainingOptions) -> TextEncoder:
    """The tokenizer with inference's head+tail truncation and default max length."""
    return TextEncoder(
        tokenizer,
        source=source,
        config=model.config,
        max_length=opts.max_length,
        head_tokens=opts.head_tokens,
    )


def truncation_info(encoder: TextEncoder) -> dict[str, Any]:
    """emolabel.json's `truncation`: what inference must repeat to see the same ids."""
    return {
        "strategy": "head+tail",
        "max_length": encoder.max_length,
        "head_tokens": encoder.head_tokens,
        "tail_tokens": encoder.content_tokens - encoder.head_tokens,
    }


# ----------------------------------------------------------------------------- the Trainer
def build_trainer(
    run: _Run,
    tokenized: dict[str, Any],
    callbacks: list[TrainerCallback],
    objective: TrainingObjective,
) -> Trainer:
    """The Trainer for one run, its noisy default callbacks removed."""
    opts, data, device = run.opts, run.data, run.device
    multi_label = is_multi_label(data)
    steps_per_epoch = math.ceil(len(tokenized["train"]) / opts.batch_size)
    args = training_arguments(opts, run.checkpoints, run.lr, device, run.precision, steps_per_epoch)
    if opts.patience:
        callbacks = [*callbacks, EarlyStoppingCallback(early_stopping_patience=opts.patience)]
    labels = data.labels

    def compute_metrics(prediction: Any) -> dict[str, float]:
        logits = _logits(prediction.predictions)
        if multi_label:
            return multilabel_epoch_metrics(prediction.label_ids, logits, labels)
        return epoch_metrics(prediction.label_ids, logits, labels)

    trainer = objective.make_trainer(
        model=run.model,
        args=args,
        train_dataset=tokenized["train"],
        eval_dataset=tokenized["validation"],
        processing_class=run.tokenizer,
        data_collator=PadCollator(run.encoder.pad_id, 8 if device.startswith("cuda") else 1),
        compute_metrics=compute_metrics,
        callbacks=callbacks,
        class_weights=run.class_weights,
        label_smoothing=opts.label_smoothing,
        head_lr=opts.head_lr,
    )
    for noisy in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(noisy)
    return trainer


def training_arguments(
    opts: TrainingOptions,
    checkpoints: Path,
    lr: float,
    device: str,
    precision: str,
    steps_per_epoch: int,
) -> TrainingArguments:
    """Per-epoch evaluation and checkpoints, best epoch kept, length-grouped batches."""
    return TrainingArguments(
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
        optim=optimizer_name(device),
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


FUSED_ADAMW_DEVICES = ("cpu", "cuda")  # torch >= 2.4 fuses AdamW for both
FUSED_ADAMW_TORCH = (2, 4)


def optimizer_name(device: str) -> str:
    """AdamW, fused where torch can: the same update in one kernel over all parameters. On a
    CPU the per-tensor loop took about a quarter of every MiniLM and MPNet step (bf16 MiniLM
    trains 1.27x faster fused: benchmarks/bench_train.py --optimizers)."""
    version = tuple(int(part) for part in re.findall(r"\d+", torch.__version__)[:2])
    fusable = device.split(":")[0] in FUSED_ADAMW_DEVICES and version >= FUSED_ADAMW_TORCH
    return "adamw_torch_fused" if fusable else "adamw_torch"


def validate_best(
    trainer: Trainer, validation: Any, data: TrainingData, multi_label: bool
) -> tuple[dict[str, Any], dict[str, float] | None]:
    """The best model's validation figures (and, multi-label, its tuned thresholds)."""
    prediction = trainer.predict(validation)
    logits = _logits(prediction.predictions)
    label_ids = np.asarray(prediction.label_ids)
    rows = np.asarray(validation[ROW_COLUMN])
    sources = {
        name: np.isin(rows, np.asarray(indices))
        for name, indices in validation_sources(data).items()
    }
    if multi_label:
        truth = label_ids > 0.5
        return multilabel_validation(truth, sigmoid(logits), data.labels, sources)
    proba = _softmax(logits)
    metrics = classification_metrics(label_ids, proba, data.labels)
    if len(sources) > 1:
        metrics["sources"] = {}
        for name, mask in sources.items():
            part = classification_metrics(label_ids[mask], proba[mask], data.labels)
            metrics["sources"][name] = {
                "rows": int(mask.sum()),
                **{key: part[key] for key in ("accuracy", "macro_f1", "weighted_f1")},
            }
    return metrics, None


def validation_sources(data: TrainingData) -> dict[str, list[int]]:
    """Source name -> its rows in the validation split (one source: every row)."""
    return data.validation_sources or {data.source: list(range(len(data.splits["validation"])))}


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
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
