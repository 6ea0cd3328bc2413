"""Compare models on one dataset: what accuracy each size costs, and what speed it buys.

`compare` fine-tunes every base model with the same data, hyper-parameters and seed (or takes
model folders already trained, e.g. distilled students), scores each on the same split, and
measures what matters for choosing one: parameters, size on disk, training time and
texts/s with the annotate engine (EmotionClassifier) on short and on 512-token texts.

The evaluation split is the one `emolabel train` validates on (the data's validation file,
or the seeded stratified hold-out of a single file), so a model trained here shows the
same figures as its emolabel.json.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from emolabel import __version__
from emolabel.errors import EmolabelError
from emolabel.evaluation.evaluate import label_ids
from emolabel.evaluation.metrics import classification_metrics, save_confusion_matrix_plot
from emolabel.inference import EmotionClassifier, check_model_folder, resolve_device
from emolabel.training.data import DEFAULT_HUB_DATASET, label_counts, load_training_data
from emolabel.training.trainer import (
    MODEL_INFO_FILE,
    TrainingEvents,
    TrainingOptions,
    count_parameters,
    resolve_base_model,
    train,
)

DEFAULT_OUTPUT_DIR = "emolabel-comparison"
RESULT_FILE = "comparison.json"
REPORT_FILE = "comparison.md"
MODELS_DIR = "models"
LONG_TEXT_WORDS = 600  # > 512 WordPiece tokens for English, so every long text is cut to 512
SPEED_SAMPLE = 2000  # short texts timed (the evaluation split, up to this many)
WITHIN_POINTS = 1.0  # "smallest/fastest within 1 point of the best"


@dataclass
class ModelFigures:
    """One compared model: where it came from, how good, how big, how fast."""

    name: str
    path: str
    origin: str
    base_model: str | None
    params: int
    size_bytes: int
    train_seconds: float | None
    texts_per_second: dict[str, float]
    metrics: dict[str, Any] = field(repr=False)

    def summary(self) -> dict[str, Any]:
        """The headline figures (what the table and the plots show)."""
        m = self.metrics
        return {
            "accuracy": m["accuracy"],
            "macro_precision": m["macro_precision"],
            "macro_recall": m["macro_recall"],
            "macro_f1": m["macro_f1"],
            "per_class_f1": {label: row["f1"] for label, row in m["per_class"].items()},
        }


@dataclass
class Comparison:
    """Every model's figures on one split, the data's label distribution, the recommendations."""

    data: str
    split: str
    rows: int
    labels: list[str]
    label_distribution: dict[str, dict[str, int]]
    models: list[ModelFigures]
    recommendations: list[str]
    metric: str
    training: dict[str, Any]
    measurement: dict[str, Any]
    output_dir: Path
    files: list[Path] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """comparison.json: plain JSON types only."""
        return {
            "emolabel_version": __version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "data": self.data,
            "split": self.split,
            "rows": self.rows,
            "labels": self.labels,
            "label_distribution": self.label_distribution,
            "metric": self.metric,
            "training": self.training,
            "measurement": self.measurement,
            "models": [
                {
                    "name": m.name,
                    "path": m.path,
                    "origin": m.origin,
                    "base_model": m.base_model,
                    "params": m.params,
                    "size_bytes": m.size_bytes,
                    "train_seconds": m.train_seconds,
                    "texts_per_second": m.texts_per_second,
                    **m.summary(),
                    "confusion_matrix": m.metrics["confusion_matrix"],
                    "metrics": {
                        k: v
                        for k, v in m.metrics.items()
                        if k not in ("confusion_matrix", "calibration_bins")
                    },
                }
                for m in self.models
            ],
            "recommendations": self.recommendations,
        }


class CompareEvents(TrainingEvents):
    """TrainingEvents plus the comparison's own steps; every method is a no-op here."""

    def model_begin(self, index: int, total: int, name: str, action: str) -> None:
        """Model `index` of `total` starts: action is `training` or `loading`."""

    def measuring(self, name: str) -> None:
        """Scoring of a model on the split starts."""

    def timing(self, models: int, repeats: int) -> None:
        """The speed rounds start: every model, `repeats` times, taking turns."""


# ----------------------------------------------------------------------------- public API
def compare(
    base_models: Sequence[str] = (),
    models: Sequence[str | os.PathLike[str]] = (),
    data: str | os.PathLike[str] = DEFAULT_HUB_DATASET,
    output_dir: str | os.PathLike[str] = DEFAULT_OUTPUT_DIR,
    *,
    split: str = "validation",
    overwrite: bool = False,
    events: TrainingEvents | None = None,
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
    """
    events = events or CompareEvents()
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

    data_obj = load_training_data(
        data,
        text_column=opts.text_column,
        label_column=opts.label_column,
        val_fraction=opts.val_fraction,
        seed=opts.seed,
    )
    if split not in data_obj.splits:
        raise EmolabelError(
            f"{data_obj.source} has no {split} split (it has {', '.join(data_obj.splits)}): "
            "pass --split validation"
        )
    texts = list(data_obj.splits[split]["text"])
    gold = [data_obj.labels[i] for i in data_obj.splits[split]["label"]]
    distribution = {
        name: label_counts([data_obj.labels[i] for i in data_obj.splits[name]["label"]])
        for name in dict.fromkeys(("train", split))
    }
    long = long_sample(texts, long_texts, seed=opts.seed)

    planned = [(spec, None) for spec in base_models] + [(None, f) for f in folders]
    names = unique_names([spec or folder.name for spec, folder in planned])  # type: ignore[union-attr]
    device = resolve_device(opts.device)
    threads = _threads()
    loaded: list[tuple[str, Path, str, str | None, float | None, EmotionClassifier]] = []
    for index, ((spec, folder), name) in enumerate(zip(planned, names, strict=True), start=1):
        _event(events, "model_begin", index, len(planned), name, "training" if spec else "loading")
        train_seconds: float | None
        if spec is not None:
            folder = out / MODELS_DIR / slug(name)
            result = train(data, folder, overwrite=True, events=events, base_model=spec, **options)
            if result.interrupted:
                raise KeyboardInterrupt
            train_seconds = round(result.seconds, 1)
            origin = "fine-tuned here"
        else:
            assert folder is not None
            info = _read_info(folder)
            train_seconds = (info.get("training") or {}).get("seconds")
            origin = describe_origin(info)
        base = spec or (_read_info(folder).get("base_model") or {}).get("name")
        if opts.threads:
            _set_threads(opts.threads)  # train() restores the caller's count when it returns
        classifier = EmotionClassifier.load(
            folder,
            device=device,
            precision=inference_precision,
            max_length=opts.max_length,
            head_tokens=opts.head_tokens,
        )
        loaded.append((name, folder, origin, base, train_seconds, classifier))

    scores: dict[str, dict[str, Any]] = {}
    for name, _, _, _, _, classifier in loaded:
        _event(events, "measuring", name)
        scores[name] = score(classifier, texts, gold, source=data_obj.source)
    _event(events, "timing", len(loaded), speed_repeats)
    speeds = time_models(
        {name: classifier for name, *_, classifier in loaded}, texts, long, repeats=speed_repeats
    )
    figures = [
        ModelFigures(
            name=name,
            path=str(folder),
            origin=origin,
            base_model=base,
            params=count_parameters(classifier.model)[1],
            size_bytes=folder_size(folder),
            train_seconds=train_seconds,
            texts_per_second=speeds[name],
            metrics=scores[name],
        )
        for name, folder, origin, base, train_seconds, classifier in loaded
    ]

    comparison = Comparison(
        data=data_obj.source,
        split=split,
        rows=len(texts),
        labels=list(data_obj.labels),
        label_distribution=distribution,
        models=figures,
        recommendations=recommend(figures, opts.metric, max_params, min_speed),
        metric=opts.metric,
        training={k: v for k, v in asdict(opts).items() if k != "base_model"},
        measurement={
            "device": device,
            "precision": "/".join(sorted({c.precision for *_, c in loaded})),
            "threads": opts.threads or threads,
            "short_texts": min(len(texts), SPEED_SAMPLE),
            "short_mean_words": round(float(np.mean([len(t.split()) for t in texts])), 1),
            "long_texts": len(long),
            "long_words": LONG_TEXT_WORDS,
            "long_tokens": sorted({c.max_length for *_, c in loaded}),
            "repeats": speed_repeats,
            "engine": "EmotionClassifier.predict_proba (tokenize, truncate, batch, forward)",
        },
        output_dir=out,
    )
    _set_threads(threads)
    comparison.files = write_outputs(comparison)
    return comparison


# ----------------------------------------------------------------------------- measuring
def score(
    classifier: EmotionClassifier, texts: list[str], gold: list[str], *, source: str
) -> dict[str, Any]:
    """Every figure of evaluation.metrics for one model on the split (it also warms it up)."""
    y = label_ids(gold, classifier.labels, source)
    proba, _ = classifier.predict_proba(texts)
    return classification_metrics(y, proba, classifier.labels)


def time_models(
    classifiers: dict[str, EmotionClassifier],
    texts: list[str],
    long: list[str],
    *,
    repeats: int,
) -> dict[str, dict[str, float]]:
    """texts/s of each model on short texts (the split's) and long (512-token) texts.

    The models take turns, round after round, and each keeps its fastest pass: on a shared
    machine that is the pass least disturbed by other work, and taking turns spreads any
    disturbance over all models instead of penalising the one that ran during it.
    """
    short = texts[:SPEED_SAMPLE]
    speeds = {name: {"short": 0.0, "long": 0.0} for name in classifiers}
    for classifier in classifiers.values():
        classifier.predict_proba(long[:2])  # warm-up at full length: allocator, thread pool
    for _ in range(repeats):
        for name, classifier in classifiers.items():
            for kind, batch in (("short", short), ("long", long)):
                started = time.perf_counter()
                classifier.predict_proba(batch)
                rate = len(batch) / (time.perf_counter() - started)
                speeds[name][kind] = max(speeds[name][kind], rate)
    return {name: {k: round(v, 1) for k, v in s.items()} for name, s in speeds.items()}


def long_sample(texts: list[str], n: int, *, seed: int) -> list[str]:
    """`n` texts of about LONG_TEXT_WORDS words, made by joining random texts of the split,
    so long-text speed is measured on the data's own vocabulary."""
    rng = np.random.default_rng(seed)
    out: list[str] = []
    for _ in range(n):
        words: list[str] = []
        while len(words) < LONG_TEXT_WORDS:
            words.extend(texts[int(rng.integers(len(texts)))].split())
        out.append(" ".join(words[:LONG_TEXT_WORDS]))
    return out


def folder_size(folder: Path) -> int:
    """Bytes of every file in a model folder (weights dominate)."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


# ----------------------------------------------------------------------------- recommending
def recommend(
    models: list[ModelFigures],
    metric: str,
    max_params: Sequence[int] = (),
    min_speed: Sequence[float] = (),
) -> list[str]:
    """One line per budget: the best model by `metric` under N params / at M+ texts/s.

    Without budgets, the medians of the compared models serve as one of each. Also names
    the smallest and the fastest model within WITHIN_POINTS of the best accuracy.
    """
    if not models:
        return []
    key = "accuracy" if metric not in ("accuracy", "macro_f1", "weighted_f1") else metric

    def score(m: ModelFigures) -> float:
        return float(m.metrics[key])

    def line(m: ModelFigures) -> str:
        return (
            f"{m.name} ({key} {score(m):.4f}, {format_params(m.params)} params, "
            f"{m.texts_per_second['short']:,.0f} short / {m.texts_per_second['long']:,.1f} "
            "long texts/s)"
        )

    best = max(models, key=score)
    lines = [f"best overall by {key}: {line(best)}"]
    params_budgets = list(max_params) or [int(statistics.median(m.params for m in models))]
    speed_budgets = list(min_speed) or [
        float(statistics.median(m.texts_per_second["short"] for m in models))
    ]
    for budget in params_budgets:
        fits = [m for m in models if m.params <= budget]
        choice = line(max(fits, key=score)) if fits else "none of the models"
        lines.append(f"at most {format_params(budget)} parameters: {choice}")
    for speed in speed_budgets:
        fits = [m for m in models if m.texts_per_second["short"] >= speed]
        choice = line(max(fits, key=score)) if fits else "none of the models"
        lines.append(f"at least {speed:,.0f} short texts/s: {choice}")
    close = [m for m in models if best.metrics["accuracy"] - m.metrics["accuracy"] <= 0.01]
    smallest = min(close, key=lambda m: (m.params, -score(m)))
    fastest = max(close, key=lambda m: (m.texts_per_second["long"], score(m)))
    lines.append(f"smallest within {WITHIN_POINTS:g} point of the best accuracy: {line(smallest)}")
    lines.append(f"fastest within {WITHIN_POINTS:g} point of the best accuracy: {line(fastest)}")
    return lines


# ----------------------------------------------------------------------------- outputs
def write_outputs(comparison: Comparison) -> list[Path]:
    """comparison.json, comparison.md and the PNG plots in the output folder."""
    out = comparison.output_dir
    files = [
        save_label_distribution_plot(comparison, out / "label_distribution.png"),
        save_tradeoff_plot(comparison, "params", out / "accuracy_vs_params.png"),
        save_tradeoff_plot(comparison, "speed", out / "accuracy_vs_speed.png"),
        save_per_class_heatmap(comparison, out / "per_class_f1.png"),
    ]
    for model in comparison.models:
        path = out / f"confusion_{slug(model.name)}.png"
        files.append(save_confusion_matrix_plot(model.metrics, comparison.labels, path))
    (out / RESULT_FILE).write_text(
        json.dumps(comparison.to_dict(), indent=2) + "\n", encoding="utf-8"
    )
    (out / REPORT_FILE).write_text(comparison_markdown(comparison, files), encoding="utf-8")
    return [out / RESULT_FILE, out / REPORT_FILE, *files]


def comparison_markdown(comparison: Comparison, plots: Sequence[Path] = ()) -> str:
    """The comparison as a Markdown report: headline table, per-class F1, recommendations."""
    c = comparison
    m = c.measurement
    lines = [
        f"# Model comparison on {c.data} ({c.split}, {c.rows:,} rows)",
        "",
        f"Labels: {', '.join(c.labels)}."
        + (
            f" Models fine-tuned here used the same data, hyper-parameters and seed "
            f"({_training_line(c.training)})."
            if any(f.origin == "fine-tuned here" for f in c.models)
            else ""
        ),
        f"Speed: {m['engine']} on {m['device']} ({m['precision']} precision, "
        f"threads: {m['threads']}), best of {m['repeats']} passes: short = {m['short_texts']:,} "
        f"texts of the split (mean {m['short_mean_words']} words), long = {m['long_texts']} "
        f"texts of {m['long_words']} words, cut head+tail to "
        f"{'/'.join(map(str, m['long_tokens']))} tokens.",
        "",
        "| model | origin | params | size | train time | texts/s short | texts/s long "
        "| accuracy | macro P | macro R | macro F1 | vs most accurate |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    top = max(c.models, key=lambda f: f.metrics["accuracy"]) if c.models else None
    for f in c.models:
        s = f.summary()
        versus = "-"
        if top is not None and f is not top:
            points = 100 * (s["accuracy"] - top.metrics["accuracy"])
            ratio = f.texts_per_second["long"] / max(top.texts_per_second["long"], 1e-9)
            versus = f"{points:+.2f} pts, {ratio:.2f}x long-text speed"
        lines.append(
            f"| {f.name} | {f.origin} | {format_params(f.params)} | {format_size(f.size_bytes)} | "
            f"{format_duration(f.train_seconds)} | {f.texts_per_second['short']:,.0f} | "
            f"{f.texts_per_second['long']:,.1f} | {s['accuracy']:.4f} | "
            f"{s['macro_precision']:.4f} | {s['macro_recall']:.4f} | {s['macro_f1']:.4f} | "
            f"{versus} |"
        )
    lines += ["", "## F1 per emotion", "", "| model | " + " | ".join(c.labels) + " |"]
    lines.append("| --- |" + " ---: |" * len(c.labels))
    for f in c.models:
        per = f.summary()["per_class_f1"]
        lines.append(
            f"| {f.name} | " + " | ".join(f"{per[label]:.3f}" for label in c.labels) + " |"
        )
    lines += ["", "## Recommendations", ""]
    lines += [f"- {r}" for r in c.recommendations]
    lines += ["", "## Label distribution", "", "| split | " + " | ".join(c.labels) + " |"]
    lines.append("| --- |" + " ---: |" * len(c.labels))
    for name, counts in c.label_distribution.items():
        lines.append(f"| {name} | " + " | ".join(f"{counts.get(x, 0):,}" for x in c.labels) + " |")
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"- [{p.name}]({p.name})" for p in plots]
    lines.append("")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- plots
def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_tradeoff_plot(comparison: Comparison, axis: str, path: Path) -> Path:
    """Accuracy and macro-F1 against parameters (axis="params") or short texts/s ("speed")."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    try:
        models = comparison.models
        if axis == "params":
            xs = [m.params / 1e6 for m in models]
            ax.set_xlabel("parameters (millions)")
        else:
            xs = [m.texts_per_second["short"] for m in models]
            ax.set_xlabel("texts/s (short texts; long-text figures in comparison.md)")
        for key, marker, label in (("accuracy", "o", "accuracy"), ("macro_f1", "s", "macro-F1")):
            ys = [m.metrics[key] for m in models]
            ax.scatter(xs, ys, marker=marker, label=label, s=45)
        for i, (m, x) in enumerate(zip(models, xs, strict=True)):
            ax.annotate(  # alternate above/below so models of one size stay readable
                m.name,
                (x, m.metrics["accuracy"]),
                textcoords="offset points",
                xytext=(5, 5 if i % 2 == 0 else -11),
                fontsize=8,
            )
        ax.margins(x=0.15, y=0.1)
        ax.set_ylabel("score")
        ax.set_title(
            f"{'Accuracy and macro-F1 vs ' + ('size' if axis == 'params' else 'speed')} "
            f"({comparison.split})"
        )
        ax.grid(alpha=0.3)
        ax.legend(loc="best")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path


def save_per_class_heatmap(comparison: Comparison, path: Path) -> Path:
    """Models x emotions F1 heatmap: which emotions suffer first as models shrink."""
    plt = _pyplot()
    labels = comparison.labels
    matrix = np.array(
        [[m.metrics["per_class"][label]["f1"] for label in labels] for m in comparison.models]
    )
    fig, ax = plt.subplots(
        figsize=(max(5.0, 1.0 * len(labels) + 3), max(2.5, 0.5 * len(comparison.models) + 1.5))
    )
    try:
        # colours span the data (from the nearest 0.05 below), so close models still differ
        low = max(0.0, float(np.floor(matrix.min() * 20) / 20) - 0.05) if matrix.size else 0.0
        image = ax.imshow(matrix, cmap="viridis", vmin=low, vmax=1.0, aspect="auto")
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_yticks(range(len(comparison.models)), [m.name for m in comparison.models])
        if matrix.size <= 400:
            for (i, j), value in np.ndenumerate(matrix):
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="black" if value > low + 0.6 * (1 - low) else "white",
                )
        fig.colorbar(image, ax=ax, label="F1")
        ax.set_title(f"F1 per emotion ({comparison.split})")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path


def save_label_distribution_plot(comparison: Comparison, path: Path) -> Path:
    """Rows per label in train and in the evaluated split (imbalance explains weak classes)."""
    plt = _pyplot()
    labels = comparison.labels
    splits = list(comparison.label_distribution)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(labels) + 2), 4))
    try:
        width = 0.8 / len(splits)
        x = np.arange(len(labels))
        for k, name in enumerate(splits):
            counts = comparison.label_distribution[name]
            total = max(sum(counts.values()), 1)
            shares = [counts.get(label, 0) / total for label in labels]
            ax.bar(x + k * width - 0.4 + width / 2, shares, width, label=f"{name} ({total:,})")
        ax.set_xticks(x, labels, rotation=30, ha="right")
        ax.set_ylabel("share of rows")
        ax.set_title("Label distribution")
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path


# ----------------------------------------------------------------------------- helpers
def slug(name: str) -> str:
    """A file-name-safe form of a model name: `minilm:layers=3` -> `minilm-layers-3`."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-.")
    return text or "model"


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


def _read_info(folder: Path) -> dict[str, Any]:
    try:
        info = json.loads((Path(folder) / MODEL_INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _event(events: Any, name: str, *args: Any) -> None:
    hook = getattr(events, name, None)
    if hook is not None:
        hook(*args)


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def _set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def _training_line(training: dict[str, Any]) -> str:
    lr = training.get("lr")
    return (
        f"epochs {training['epochs']:g}, lr {'per preset' if lr is None else f'{lr:g}'}, "
        f"batch size {training['batch_size']}, seed {training['seed']}"
    )


def format_size(n: int) -> str:
    """Bytes as MB (or KB), as the tables show them."""
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def format_params(n: float) -> str:
    """A parameter count in millions, with enough digits to tell small models apart."""
    return f"{n / 1e6:.1f}M" if n >= 1e7 else f"{n / 1e6:.2f}M"


def format_duration(seconds: float | None) -> str:
    """Seconds below two minutes, minutes above; `-` when unknown."""
    if seconds is None:
        return "-"
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.0f} s"
