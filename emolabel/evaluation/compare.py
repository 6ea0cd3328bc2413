"""Compare models on one dataset: what accuracy each size costs, and what speed it buys.

`compare` fine-tunes every base model with the same data, hyper-parameters and seed (or takes
model folders already trained, e.g. distilled students), scores each on the same split, and
measures what matters for choosing one: parameters, size on disk, training time and
texts/s with the annotate engine (EmotionClassifier) on short and on 512-token texts.

The evaluation split is the one `emolabel train` validates on (the data's validation file,
or the seeded stratified hold-out of a single file), so a model trained here shows the
same figures as its emolabel.json. Multi-label data or models are scored with the
multi-label figures (macro-F1 at each model's thresholds).
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emolabel.errors import EmolabelError, Interrupted
from emolabel.evaluation.comparison import Comparison, ModelFigures, recommend
from emolabel.evaluation.comparison_report import RESULT_FILE, slug, write_outputs
from emolabel.evaluation.evaluate import GoldLabels, model_decision_rule, score_classifier
from emolabel.evaluation.model_listing import folder_size
from emolabel.evaluation.timing import (
    LONG_TEXT_WORDS,
    SPEED_SAMPLE,
    long_sample,
    set_torch_threads,
    time_models,
    torch_threads,
)
from emolabel.events import Events
from emolabel.inference import EmotionClassifier, check_model_folder, resolve_device
from emolabel.inference.model_folders import read_model_info
from emolabel.training.data import DEFAULT_HUB_DATASET, TrainingData, load_training_data
from emolabel.training.trainer import (
    TrainingOptions,
    count_parameters,
    resolve_base_model,
    train,
)

DEFAULT_OUTPUT_DIR = "emolabel-comparison"
MODELS_DIR = "models"
INTERRUPTED = (
    "compare interrupted: no comparison was written; run the same command with --overwrite "
    "to start over (compare has no --resume)"
)


@dataclass
class LoadedModel:
    """A compared model ready to score: where it came from and its classifier."""

    name: str
    folder: Path
    origin: str
    base_model: str | None
    train_seconds: float | None
    classifier: EmotionClassifier


@dataclass
class EvaluationSplit:
    """The texts every model is scored and timed on, with their gold labels."""

    source: str
    name: str
    texts: list[str]
    gold: GoldLabels
    labels: list[str]
    multi_label: bool
    distribution: dict[str, dict[str, int]]


# ----------------------------------------------------------------------------- public API
def compare(
    base_models: Sequence[str] = (),
    models: Sequence[str | os.PathLike[str]] = (),
    data: str | os.PathLike[str] = DEFAULT_HUB_DATASET,
    output_dir: str | os.PathLike[str] = DEFAULT_OUTPUT_DIR,
    *,
    split: str = "validation",
    overwrite: bool = False,
    events: Events | None = None,
    max_params: Sequence[int] = (),
    min_speed: Sequence[float] = (),
    inference_precision: str = "auto",
    long_texts: int = 64,
    speed_repeats: int = 2,
    **options: Any,
) -> Comparison:
    """Fine-tune each of `base_models` and take each of `models`, then score and time them all.

    `options` are emolabel.training.TrainingOptions fields, the same for every model (lr
    defaults per preset, as in `emolabel train`). `max_params` / `min_speed` (short texts/s)
    are budgets for the recommendations; none given means the median of the models.
    Ctrl-C raises Interrupted.
    """
    events = events or Events()
    if not base_models and not models:
        raise EmolabelError("nothing to compare: pass --base-model SPEC and/or --model DIR")
    if long_texts < 1 or speed_repeats < 1:
        raise EmolabelError("--long-texts and --speed-repeats must be at least 1")
    unknown = sorted(set(options) - (set(TrainingOptions.__dataclass_fields__) - {"base_model"}))
    if unknown:
        raise TypeError(f"compare() got unknown option(s): {', '.join(unknown)}")
    opts = TrainingOptions(**options)
    opts.check()
    for spec in base_models:
        resolve_base_model(spec)  # unknown presets, bad layer counts: fail before any work
    folders = [_check_model(m) for m in models]
    out = _prepare_output_dir(Path(output_dir).expanduser(), overwrite)
    threads = torch_threads()
    try:
        evaluation = _evaluation_split(data, split, opts)
        loaded = _load_models(
            base_models, folders, data, out, opts, options, events, inference_precision
        )
        comparison = _measure(loaded, evaluation, opts, events, long_texts, speed_repeats)
    except (KeyboardInterrupt, Interrupted):  # train()'s own message would suggest --resume
        raise Interrupted(INTERRUPTED) from None
    finally:
        set_torch_threads(threads)
    comparison.output_dir = out
    comparison.recommendations = recommend(comparison.models, opts.metric, max_params, min_speed)
    comparison.files = write_outputs(comparison)
    return comparison


# ----------------------------------------------------------------------------- steps
def _evaluation_split(
    data: str | os.PathLike[str], split: str, opts: TrainingOptions
) -> EvaluationSplit:
    """The split every model is scored on, read as `emolabel train` reads the data."""
    data_obj = load_training_data(  # exactly as train() reads it, so the splits match
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
    if split not in data_obj.splits:
        raise EmolabelError(
            f"{data_obj.source} has no {split} split (it has {', '.join(data_obj.splits)}): "
            "pass --split validation"
        )
    names = {name: _gold_names(data_obj, name) for name in dict.fromkeys(("train", split))}
    multi = any(isinstance(g, list) for g in names[split][:1])
    return EvaluationSplit(
        source=data_obj.source,
        name=split,
        texts=list(data_obj.splits[split]["text"]),
        gold=names[split],
        labels=list(data_obj.labels),
        multi_label=multi,
        distribution={name: _label_counts(gold) for name, gold in names.items()},
    )


def _gold_names(data: TrainingData, split: str) -> GoldLabels:
    """A split's label names: one per row, or a list per row for multi-label data."""
    table = data.splits[split]
    if "labels" in table.column_names:  # multi-label: lists of label ids
        return [[data.labels[i] for i in row] for row in table["labels"]]
    return [data.labels[i] for i in table["label"]]


def _label_counts(gold: GoldLabels) -> dict[str, int]:
    """Rows per label (a multi-label row counts once for each of its labels), most first."""
    counts: Counter[str] = Counter()
    for row in gold:
        counts.update(row if isinstance(row, list) else [row])
    return dict(counts.most_common())


def _load_models(
    base_models: Sequence[str],
    folders: list[Path],
    data: str | os.PathLike[str],
    out: Path,
    opts: TrainingOptions,
    options: dict[str, Any],
    events: Events,
    inference_precision: str,
) -> list[LoadedModel]:
    """Train each base model (into out/models/) and load every model for scoring."""
    planned = [(spec, None) for spec in base_models] + [(None, f) for f in folders]
    names = unique_names([spec or folder.name for spec, folder in planned])  # type: ignore[union-attr]
    device = resolve_device(opts.device)
    training_events: Any = events  # train() takes its TrainingEvents until it moves to Events
    loaded: list[LoadedModel] = []
    for index, ((spec, given), name) in enumerate(zip(planned, names, strict=True), start=1):
        events.model_begin(index, len(planned), name, "training" if spec else "loading")
        if spec is not None:
            folder = out / MODELS_DIR / slug(name)
            result = train(
                data, folder, overwrite=True, events=training_events, base_model=spec, **options
            )
            if result.interrupted:
                raise Interrupted(INTERRUPTED)
            train_seconds: float | None = round(result.seconds, 1)
            base: str | None
            origin, base = "fine-tuned here", spec
        else:
            assert given is not None
            folder = given
            info = read_model_info(folder)
            train_seconds = (info.get("training") or {}).get("seconds")
            origin = describe_origin(info)
            base = (info.get("base_model") or {}).get("name")
        if opts.threads:
            set_torch_threads(opts.threads)  # train() restores the caller's count when it returns
        classifier = EmotionClassifier.load(
            folder,
            device=device,
            precision=inference_precision,
            max_length=opts.max_length,
            head_tokens=opts.head_tokens,
        )
        loaded.append(LoadedModel(name, folder, origin, base, train_seconds, classifier))
    return loaded


def _measure(
    loaded: list[LoadedModel],
    split: EvaluationSplit,
    opts: TrainingOptions,
    events: Events,
    long_texts: int,
    speed_repeats: int,
) -> Comparison:
    """Score every model on the split, then time them all, taking turns."""
    multi = split.multi_label or any(_multi_label(m.classifier) for m in loaded)
    scores: dict[str, dict[str, Any]] = {}
    for model in loaded:
        events.measuring(model.name)
        scores[model.name] = score_classifier(
            model.classifier, split.texts, split.gold, source=split.source, multi_label=multi
        ).metrics
    long = long_sample(split.texts, long_texts, seed=opts.seed)
    events.timing(len(loaded), speed_repeats)
    speeds = time_models(
        {m.name: m.classifier for m in loaded}, split.texts, long, repeats=speed_repeats
    )
    figures = [
        ModelFigures(
            name=m.name,
            path=str(m.folder),
            origin=m.origin,
            base_model=m.base_model,
            params=count_parameters(m.classifier.model)[1],
            size_bytes=folder_size(m.folder),
            train_seconds=m.train_seconds,
            texts_per_second=speeds[m.name],
            metrics=scores[m.name],
            model_multi_label=_multi_label(m.classifier),
        )
        for m in loaded
    ]
    return Comparison(
        data=split.source,
        split=split.name,
        rows=len(split.texts),
        labels=split.labels,
        label_distribution=split.distribution,
        models=figures,
        recommendations=[],
        metric=opts.metric,
        training={k: v for k, v in asdict(opts).items() if k != "base_model"},
        measurement=_measurement([m.classifier for m in loaded], split, long, opts, speed_repeats),
        output_dir=Path("."),
        multi_label=multi,
    )


def _measurement(
    classifiers: list[EmotionClassifier],
    split: EvaluationSplit,
    long: list[str],
    opts: TrainingOptions,
    repeats: int,
) -> dict[str, Any]:
    """How the speeds were measured, as the report states it."""
    return {
        "device": classifiers[0].device,
        "precision": "/".join(sorted({c.precision for c in classifiers})),
        "threads": opts.threads or torch_threads(),
        "short_texts": min(len(split.texts), SPEED_SAMPLE),
        "short_mean_words": round(float(np.mean([len(t.split()) for t in split.texts])), 1),
        "long_texts": len(long),
        "long_words": LONG_TEXT_WORDS,
        "long_tokens": sorted({c.max_length for c in classifiers}),
        "repeats": repeats,
        "engine": "EmotionClassifier.predict_proba (tokenize, truncate, batch, forward)",
    }


# ----------------------------------------------------------------------------- helpers
def _multi_label(classifier: EmotionClassifier) -> bool:
    return model_decision_rule(classifier)[0]


def unique_names(names: list[str]) -> list[str]:
    """Display names, shortened to the last path part, with -2, -3 for repeats."""
    out: list[str] = []
    for name in names:
        base, _, suffix = name.rpartition(":")
        short = f"{Path(base).name}:{suffix}" if base and "=" in suffix else Path(name).name or name
        candidate, n = short, 2
        while candidate in out:
            candidate, n = f"{short}-{n}", n + 1
        out.append(candidate)
    return out


def describe_origin(info: dict[str, Any]) -> str:
    """`distilled from X` / `fine-tuned from Y` from a model folder's emolabel.json."""
    objective = info.get("objective") or {}
    if objective.get("name") == "distillation":
        return f"distilled from {Path(str(objective.get('teacher', '?'))).name}"
    base = (info.get("base_model") or {}).get("name")
    return f"given (fine-tuned from {Path(base).name})" if base else "given"


def _check_model(model: str | os.PathLike[str]) -> Path:
    path = Path(model).expanduser()
    if not path.exists():
        raise EmolabelError(
            f"--model {model}: no such folder; pass a model folder written by `emolabel train`"
        )
    check_model_folder(path)
    return path


def _prepare_output_dir(out: Path, overwrite: bool) -> Path:
    """A new or empty folder; --overwrite replaces an earlier comparison (and nothing else)."""
    if out.exists() and not out.is_dir():
        raise EmolabelError(f"-o {out} is a file: pass a folder path")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise EmolabelError(
                f"output folder {out} is not empty: pass --overwrite to replace the earlier "
                "comparison, or choose another -o"
            )
        if not (out / RESULT_FILE).exists() and not (out / MODELS_DIR).exists():
            raise EmolabelError(
                f"--overwrite: {out} does not look like a comparison folder (no {RESULT_FILE}); "
                "refusing to delete it; choose another -o"
            )
        shutil.rmtree(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EmolabelError(f"cannot create output folder {out}: {exc.strerror}") from None
    return out
