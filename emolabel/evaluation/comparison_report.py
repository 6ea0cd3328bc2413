"""What `compare` writes: comparison.json, the comparison.md report and its plots."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emolabel.evaluation.comparison import Comparison
from emolabel.evaluation.plots import (
    save_confusion_matrix_plot,
    save_label_distribution_plot,
    save_per_class_heatmap,
    save_tradeoff_plot,
)
from emolabel.evaluation.sizes import format_params, format_size

RESULT_FILE = "comparison.json"
REPORT_FILE = "comparison.md"


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
        if "confusion_matrix" in model.metrics:  # single-label only
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
    lines = [
        f"# Model comparison on {c.data} ({c.split}, {c.rows:,} rows"
        + (", multi-label)" if c.multi_label else ")"),
        "",
        f"Labels: {', '.join(c.labels)}."
        + (
            f" Models fine-tuned here used the same data, hyper-parameters and seed "
            f"({_training_line(c.training)})."
            if any(f.origin == "fine-tuned here" for f in c.models)
            else ""
        ),
    ]
    if c.multi_label:
        lines.append(
            "Multi-label: every model is scored with the multi-label figures; a label counts "
            "as predicted where its score reaches the model's threshold for it (the top label "
            "when none does, as annotate's `emotions`); accuracy is subset accuracy (every "
            "label of a row right)."
        )
    lines += [_speed_line(c.measurement), "", *_headline_table(c)]
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


def _speed_line(m: dict[str, Any]) -> str:
    return (
        f"Speed: {m['engine']} on {m['device']} ({m['precision']} precision, "
        f"threads: {m['threads']}), best of {m['repeats']} passes: short = {m['short_texts']:,} "
        f"texts of the split (mean {m['short_mean_words']} words), long = {m['long_texts']} "
        f"texts of {m['long_words']} words, cut head+tail to "
        f"{'/'.join(map(str, m['long_tokens']))} tokens."
    )


def _headline_table(c: Comparison) -> list[str]:
    accuracy = c.accuracy_name
    lines = [
        "| model | origin | params | size | train time | texts/s short | texts/s long "
        f"| {accuracy} | macro P | macro R | macro F1 | vs most accurate |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    top = max(c.models, key=lambda f: f.summary()["accuracy"]) if c.models else None
    for f in c.models:
        s = f.summary()
        versus = "-"
        if top is not None and f is not top:
            points = 100 * (s["accuracy"] - top.summary()["accuracy"])
            ratio = f.texts_per_second["long"] / max(top.texts_per_second["long"], 1e-9)
            versus = f"{points:+.2f} pts, {ratio:.2f}x long-text speed"
        name = f"{f.name} (multi-label)" if f.model_multi_label else f.name
        lines.append(
            f"| {name} | {f.origin} | {format_params(f.params)} | {format_size(f.size_bytes)} | "
            f"{format_duration(f.train_seconds)} | {f.texts_per_second['short']:,.0f} | "
            f"{f.texts_per_second['long']:,.1f} | {s['accuracy']:.4f} | "
            f"{s['macro_precision']:.4f} | {s['macro_recall']:.4f} | {s['macro_f1']:.4f} | "
            f"{versus} |"
        )
    return lines


def _training_line(training: dict[str, Any]) -> str:
    lr = training.get("lr")
    return (
        f"epochs {training['epochs']:g}, lr {'per preset' if lr is None else f'{lr:g}'}, "
        f"batch size {training['batch_size']}, seed {training['seed']}"
    )


def slug(name: str) -> str:
    """A file-name-safe form of a model name: `minilm:layers=3` -> `minilm-layers-3`."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-.")
    return text or "model"


def format_duration(seconds: float | None) -> str:
    """Seconds below two minutes, minutes above; `-` when unknown."""
    if seconds is None:
        return "-"
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.0f} s"
