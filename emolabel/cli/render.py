"""Everything that draws: Rich progress bars, summary tables, error lines.

The only module that imports rich, so the library stays usable without a terminal and
progress never lands on stdout when stdout carries data.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from emolabel.events import Events

if TYPE_CHECKING:
    from emolabel.annotation.summary import AnnotationSummary
    from emolabel.evaluation.threshold_tuning import ThresholdTuning

stderr_console = Console(stderr=True, highlight=False)


def print_error(message: str) -> None:
    """One red line on stderr: what went wrong and what to do."""
    stderr_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


# --- annotate and classify ---------------------------------------------------------------
class AnnotateProgress(Events):
    """Rich progress bar on stderr: rows, rows/s and, when the size is known, an ETA."""

    def __init__(self, description: str = "labelling") -> None:
        self._description = description
        self._progress: Progress | None = None
        self._task: Any = None
        self._rows = 0
        self._started = 0.0

    def start(self, total: int | None, unit: str) -> None:
        self._unit = unit
        self._started = time.perf_counter()
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]:,} rows"),
            TextColumn("{task.fields[rate]:,.0f} rows/s"),
            TimeRemainingColumn(),
            console=stderr_console,
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(self._description, total=total, rows=0, rate=0.0)

    def advance(self, rows: int, position: int) -> None:
        if self._progress is None:
            return
        self._rows += rows
        elapsed = max(time.perf_counter() - self._started, 1e-9)
        completed = self._rows if self._unit == "rows" else position
        self._progress.update(
            self._task, completed=completed, rows=self._rows, rate=self._rows / elapsed
        )

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def render_annotation_summary(
    summary: AnnotationSummary, console: Console = stderr_console
) -> None:
    """The end-of-run table: share and mean confidence per emotion, then run figures."""
    table = Table(title=f"emolabel: {summary.output}", title_justify="left")
    table.add_column("emotion")
    table.add_column("top label", justify="right")
    table.add_column("share", justify="right")
    table.add_column("mean confidence", justify="right")
    if summary.multi_label:  # rows can hold several: the second count says how many do
        table.add_column("in emotions", justify="right")
        table.add_column("share", justify="right")
    for label in summary.labels:
        n = summary.counts.get(label, 0)
        mean = summary.mean_confidence.get(label)
        cells = [label, f"{n:,}", _share(n, summary.labelled)]
        cells.append("-" if mean is None else f"{mean:.3f}")
        if summary.multi_label:
            present = summary.present.get(label, 0)
            cells += [f"{present:,}", _share(present, summary.labelled)]
        table.add_row(*cells)
    console.print(table)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("rows", f"{summary.rows:,}")
    facts.add_row("labelled", f"{summary.labelled:,}")
    facts.add_row("skipped (empty)", f"{summary.skipped_empty:,}")
    if summary.rejected:
        facts.add_row("rejected (malformed)", f"{summary.rejected:,}")
    facts.add_row("truncated", f"{summary.truncated:,}")
    if summary.resumed_chunks:
        facts.add_row(
            "resumed",
            f"{summary.resumed_rows:,} rows ({summary.resumed_chunks} chunks) from the "
            "interrupted run; rows/s counts only the rows labelled now",
        )
    facts.add_row("elapsed", f"{summary.elapsed_s:.1f} s ({summary.rows_per_s:,.0f} rows/s)")
    facts.add_row("model", summary.model)
    plural = "" if summary.threads == 1 else "s"
    threads = f", {summary.threads} thread{plural}" if summary.threads else ""
    facts.add_row("device", f"{summary.device} ({summary.precision}{threads})")
    if summary.fp32_agreement is not None:
        facts.add_row(
            f"{summary.precision} vs fp32",
            f"same top label on {summary.fp32_agreement:.1%} of {summary.agreement_rows:,} "
            "sampled rows",
        )
    console.print(facts)


def _share(n: int, of: int) -> str:
    return f"{n / of:.1%}" if of else "0.0%"


# --- training and evaluation -------------------------------------------------------------
if TYPE_CHECKING:
    from emolabel.evaluation.evaluate import EvaluationReport
    from emolabel.evaluation.model_listing import ModelInfo
    from emolabel.training.data import TrainingData
    from emolabel.training.trainer import EpochRecord, TrainingResult


class TrainingProgress(Events):
    """Rich view of a training run (an emolabel.events.Events listener).

    Facts about the data and model print as lines; epochs and steps show as two bars with
    the latest training loss; each finished epoch leaves one line with its validation figures.
    """

    def __init__(self, console: Console = stderr_console, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self._progress: Progress | None = None
        self._epoch_task: Any = None
        self._step_task: Any = None
        self._steps_per_epoch = 1
        self._total_steps = 0
        self._started = 0.0
        self._start_step = 0
        self._next_line_step = 0

    def __enter__(self) -> TrainingProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _line(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text, soft_wrap=True, highlight=False)

    def data_loaded(self, data: TrainingData) -> None:
        sizes = data.sizes()
        parts = [f"{name} {n:,}" for name, n in sizes.items()]
        self._line(
            f"[bold]data[/] {escape(data.source)}: {', '.join(parts)} rows; "
            f"{len(data.labels)} labels ({escape(', '.join(data.labels))}); "
            f"validation: {escape(data.validation_from)}"
        )
        for line in data.detected:  # layout and label kind, as detected
            self._line(f"  detected: {escape(line)}")
        for name, stats in data.stats.items():
            dropped = {
                "empty texts": stats.dropped_empty_text,
                "missing labels": stats.dropped_missing_label,
                "unreadable labels": stats.dropped_bad_label,
                "duplicate rows": stats.dropped_duplicates,
            }
            dropped_text = ", ".join(f"{n:,} {what}" for what, n in dropped.items() if n)
            if dropped_text:
                self._line(f"  {name}: dropped {dropped_text}")
            if stats.merged_duplicates:
                self._line(
                    f"  {name}: {stats.merged_duplicates:,} repeated text(s) with different "
                    "label sets merged into one row (union of the labels)"
                )
            if stats.conflicting_texts:
                examples = "; ".join(stats.conflict_examples[:2])
                self._line(
                    f"  [yellow]{name}: {stats.conflicting_texts:,} text(s) carry different "
                    f"labels[/] (kept), e.g. {escape(examples)}"
                )
        for warning in data.warnings:
            self._line(f"  [yellow]warning:[/] {escape(warning)}")

    def model_ready(self, info: dict[str, Any]) -> None:
        share = info["trainable_params"] / max(info["total_params"], 1)
        n = info.get("threads")
        threads = f", {n} thread{'' if n == 1 else 's'}" if n else ""
        head_lr = f", head lr {info['head_lr']:g}" if info.get("head_lr") else ""
        kind = "; multi-label (sigmoid, BCE)" if info.get("multi_label") else ""
        self._line(
            f"[bold]model[/] {escape(str(info['base_model']))}: "
            f"{info['trainable_params']:,} of {info['total_params']:,} parameters trainable "
            f"({share:.0%}); {info['device']} {info['precision']}{threads}; "
            f"max length {info['max_length']} (head {info['head_tokens']}); "
            f"lr {info['lr']:g}{head_lr}{kind}"
        )
        if info.get("class_weights"):
            loss = "BCE pos_weight" if info.get("multi_label") else "cross-entropy weight"
            weights = ", ".join(f"{k} {v:.3g}" for k, v in info["class_weights"].items())
            self._line(f"  class weights ({loss}): {escape(weights)}")
        if info.get("partial_labels") is not None:
            left = "; ".join(
                f"{name}: {', '.join(labels)}"
                for name, labels in info["partial_labels"].items()
                if labels
            )
            self._line(f"  left out of each source's loss: {escape(left or 'no label')}")

    def train_begin(self, total_steps: int, epochs: int, start_step: int) -> None:
        if self.quiet:
            return
        self._steps_per_epoch = max(1, total_steps // max(epochs, 1))
        if start_step:
            self._line(f"resuming at step {start_step:,} of {total_steps:,}")
        self._total_steps = total_steps
        self._started = time.perf_counter()
        self._start_step = start_step
        if not self.console.is_terminal:  # a log file: plain lines every 10% instead of bars
            self._next_line_step = start_step + max(1, total_steps // 10)
            return
        self._progress = Progress(
            TextColumn("[bold]{task.description:<8}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
            TextColumn("{task.fields[note]}"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self._progress.start()
        self._epoch_task = self._progress.add_task(
            "epochs", total=epochs, completed=start_step // self._steps_per_epoch, note=""
        )
        self._step_task = self._progress.add_task(
            "steps", total=total_steps, completed=start_step, note=""
        )

    def step(self, step: int, epoch: float, loss: float | None) -> None:
        if self._progress is None:
            if not self.quiet and self._next_line_step and step >= self._next_line_step:
                self._next_line_step += max(1, self._total_steps // 10)
                rate = (time.perf_counter() - self._started) / max(step - self._start_step, 1)
                note = f", loss {loss:.4f}" if loss is not None else ""
                self._line(
                    f"step {step:,}/{self._total_steps:,} (epoch {epoch:.2f}){note}, "
                    f"{rate:.2f} s/step"
                )
            return
        note = f"loss {loss:.4f}" if loss is not None else ""
        self._progress.update(self._step_task, completed=step, note=note)
        self._progress.update(self._epoch_task, completed=int(epoch))

    def evaluate_begin(self, epoch: int) -> None:
        if self._progress is not None:
            self._progress.update(self._step_task, note="validating...")

    def epoch_end(self, record: EpochRecord) -> None:
        m = record.metrics
        nan = float("nan")
        loss = f"loss {record.train_loss:.4f}, " if record.train_loss is not None else ""
        if "micro_f1" in m:  # multi-label: F1 at tuned thresholds, and at 0.5
            figures = (
                f"macro-F1 {m.get('macro_f1', nan):.4f} (at 0.5: "
                f"{m.get('macro_f1_at_0.5', nan):.4f}), micro-F1 {m['micro_f1']:.4f}"
            )
        else:
            figures = (
                f"accuracy {m.get('accuracy', nan):.4f}, macro-F1 {m.get('macro_f1', nan):.4f}"
            )
        self._line(
            f"epoch {record.epoch}: {loss}val loss {m.get('loss', nan):.4f}, {figures} "
            f"[dim]({record.train_seconds:.0f} s train + {record.eval_seconds:.0f} s val)[/]"
        )
        if self._progress is not None:
            self._progress.update(self._epoch_task, completed=record.epoch)

    def interrupted(self, checkpoint: Any) -> None:
        self.stop()  # the Interrupted error that follows says where and how to resume

    def saving(self, output_dir: Any) -> None:
        self.stop()
        self._line(f"validating the best model and writing {escape(str(output_dir))}")


def render_training_result(result: TrainingResult, console: Console = stderr_console) -> None:
    """Per-class validation table of the saved model, then the run's headline figures."""
    m = result.metrics
    table = Table(
        title=f"validation of {result.output_dir} (best epoch {result.best_epoch})",
        title_justify="left",
    )
    columns = ["label", *(["threshold"] if result.multi_label else []), "precision", "recall"]
    for name in (*columns, "F1", "support"):
        table.add_column(name, justify="left" if name == "label" else "right")
    for label, row in m["per_class"].items():
        threshold = [f"{row['threshold']:.2f}"] if result.multi_label else []
        table.add_row(
            escape(label),
            *threshold,
            f"{row['precision']:.3f}",
            f"{row['recall']:.3f}",
            f"{row['f1']:.3f}",
            f"{row['support']:,}",
        )
    console.print(table)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    if result.multi_label:
        plain = m["at_0.5"]
        facts.add_row("macro F1", f"{m['macro_f1']:.4f} tuned, {plain['macro_f1']:.4f} at 0.5")
        facts.add_row("micro F1", f"{m['micro_f1']:.4f} tuned, {plain['micro_f1']:.4f} at 0.5")
        facts.add_row("subset accuracy", f"{m['accuracy']:.4f} tuned")
        facts.add_row("thresholds", "tuned per label on validation, saved in emolabel.json")
    else:
        facts.add_row("accuracy", f"{m['accuracy']:.4f}")
        facts.add_row("macro F1", f"{m['macro_f1']:.4f}")
        facts.add_row("weighted F1", f"{m['weighted_f1']:.4f}")
    for source, figures in (m.get("sources") or {}).items():
        facts.add_row(
            escape(source), f"{figures['rows']:,} rows, macro F1 {figures['macro_f1']:.4f}"
        )
    facts.add_row("parameters", f"{result.trainable_params:,} trained of {result.total_params:,}")
    per_epoch = ", ".join(
        f"{r.train_seconds + r.eval_seconds:.0f} s"
        for r in result.epochs
        if r.train_seconds is not None and r.eval_seconds is not None
    )
    facts.add_row("time", f"{result.seconds:.0f} s (per epoch: {per_epoch or '-'})")
    facts.add_row("model", str(result.output_dir))
    console.print(facts)


def render_evaluation(report: EvaluationReport, console: Console = stderr_console) -> None:
    """Per-class table, confusion matrix and the headline figures of an evaluation."""
    if report.multi_label:
        _render_multilabel_evaluation(report, console)
        return
    m = report.metrics
    table = Table(
        title=f"{report.model} on {report.data} ({m['rows']:,} rows)", title_justify="left"
    )
    table.add_column("label")
    for name in ("precision", "recall", "F1", "support"):
        table.add_column(name, justify="right")
    for label, row in m["per_class"].items():
        table.add_row(
            escape(label),
            f"{row['precision']:.3f}",
            f"{row['recall']:.3f}",
            f"{row['f1']:.3f}",
            f"{row['support']:,}",
        )
    console.print(table)
    labels = report.labels
    if len(labels) <= 20:
        matrix = Table(
            title="confusion matrix (rows: true, columns: predicted)", title_justify="left"
        )
        matrix.add_column("")
        for label in labels:
            matrix.add_column(escape(label[:10]), justify="right")
        for label, row in zip(labels, m["confusion_matrix"], strict=True):
            matrix.add_row(escape(label), *(f"{n:,}" for n in row))
        console.print(matrix)

    facts = _facts_grid()
    facts.add_row("accuracy", _fmt(m["accuracy"]))
    facts.add_row(
        "precision",
        f"macro {_fmt(m['macro_precision'])}, weighted {_fmt(m['weighted_precision'])}",
    )
    facts.add_row(
        "recall", f"macro {_fmt(m['macro_recall'])}, weighted {_fmt(m['weighted_recall'])}"
    )
    facts.add_row("F1", f"macro {_fmt(m['macro_f1'])}, weighted {_fmt(m['weighted_f1'])}")
    facts.add_row(
        "ROC-AUC (OvR)",
        f"macro {_fmt(m['roc_auc_macro'])}, weighted {_fmt(m['roc_auc_weighted'])}",
    )
    facts.add_row("log loss", _fmt(m["log_loss"]))
    facts.add_row("ECE (15 bins)", _fmt(m["ece"]))
    _run_facts(report, facts)
    console.print(facts)


def _render_multilabel_evaluation(report: EvaluationReport, console: Console) -> None:
    """Per-label table (threshold, P, R, F1, support), then the multi-label figures."""
    m = report.metrics
    table = Table(
        title=f"{report.model} on {report.data} ({m['rows']:,} rows, multi-label)",
        title_justify="left",
    )
    table.add_column("label")
    for name in ("threshold", "precision", "recall", "F1", "support", "predicted"):
        table.add_column(name, justify="right")
    for label, row in m["per_label"].items():
        threshold = row["threshold"]
        table.add_row(
            escape(label),
            "-" if threshold is None else f"{threshold:.2f}",
            f"{row['precision']:.3f}",
            f"{row['recall']:.3f}",
            f"{row['f1']:.3f}",
            f"{row['support']:,}",
            f"{row['predicted']:,}",
        )
    console.print(table)
    facts = _facts_grid()
    for what, key in (("precision", "precision"), ("recall", "recall"), ("F1", "f1")):
        facts.add_row(
            what,
            ", ".join(
                f"{average} {_fmt(m[f'{average}_{key}'])}"
                for average in ("micro", "macro", "weighted", "samples")
            ),
        )
    facts.add_row("subset accuracy", _fmt(m["subset_accuracy"]))
    facts.add_row("Hamming loss", _fmt(m["hamming_loss"]))
    facts.add_row("ROC-AUC", f"macro {_fmt(m['roc_auc_macro'])}, micro {_fmt(m['roc_auc_micro'])}")
    facts.add_row(
        "average precision",
        f"macro {_fmt(m['average_precision_macro'])}, micro {_fmt(m['average_precision_micro'])}",
    )
    facts.add_row(
        "labels per row",
        f"{m['mean_true_labels']:.2f} true, {m['mean_predicted_labels']:.2f} predicted",
    )
    _run_facts(report, facts)
    console.print(facts)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def _facts_grid() -> Table:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    return facts


def _run_facts(report: EvaluationReport, facts: Table) -> None:
    """The lines every evaluation ends with: label map, dropped rows, time and device."""
    if report.label_map is not None:
        facts.add_row(
            "label map",
            f"{escape(report.label_map)}: the model's {len(report.model_labels)} labels "
            f"scored as {len(report.labels)} groups",
        )
    dropped = report.stats.dropped_empty_text + report.stats.dropped_missing_label
    if dropped:
        facts.add_row("dropped", f"{dropped:,} rows with an empty text or no label")
    facts.add_row("elapsed", f"{report.seconds:.1f} s on {report.device} ({report.precision})")


class EvaluationProgress(Events):
    """A transient bar on stderr while `evaluate` predicts the rows."""

    def __init__(self, console: Console = stderr_console) -> None:
        self._console = console
        self._progress: Progress | None = None
        self._task: Any = None

    def start(self, total: int | None, unit: str) -> None:
        self._progress = Progress(
            TextColumn("[bold]predicting"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.completed:,.0f} " + unit),
            TimeRemainingColumn(),
            console=self._console,
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task("predicting", total=total)

    def advance(self, rows: int, position: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=position)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def render_models(models: list[ModelInfo], console: Console | None = None) -> None:
    """The built-in model folders with labels, size and validation figures."""
    from emolabel.evaluation.sizes import format_size

    console = console or Console(highlight=False)
    if not models:
        console.print(
            "no built-in models yet: train one with "
            "`emolabel train --data DATA -o emolabel/models/NAME`, or pass any model folder "
            "with --model"
        )
        return
    table = Table(title="built-in models", title_justify="left")
    for name in ("name", "labels", "size", "validation"):
        table.add_column(name, justify="right" if name == "size" else "left")
    for info in models:
        name = escape(info.name) + (" [bold](default)[/]" if info.default else "")
        if info.multi_label:
            name += "\nmulti-label"
        if info.summary:
            name += f"\n[dim]{escape(info.summary)}[/]"
        table.add_row(
            name,
            escape(", ".join(info.labels)),
            format_size(info.size_bytes),
            _validation_cell(info),
        )
    console.print(table)


def _validation_cell(info: ModelInfo) -> str:
    """Macro-F1 (and accuracy of a single-label model), then each training source's macro-F1."""
    lines = []
    if info.macro_f1 is not None:
        lines.append(f"macro F1 {info.macro_f1:.4f}" + (" (tuned)" if info.multi_label else ""))
    if info.accuracy is not None and not info.multi_label:
        lines.append(f"accuracy {info.accuracy:.4f}")
    lines += [f"{escape(source)}: {f1:.3f}" for source, f1 in info.sources.items()]
    return "\n".join(lines) or "-"


# --- compare and distill -----------------------------------------------------------------
if TYPE_CHECKING:
    from emolabel.evaluation.comparison import Comparison


class CompareProgress(TrainingProgress, Events):
    """TrainingProgress plus a line as each compared model starts and is measured."""

    def model_begin(self, index: int, total: int, name: str, action: str) -> None:
        self._line(f"[bold]model {index}/{total}[/] {escape(name)}: {action}")

    def measuring(self, name: str) -> None:
        self._line(f"scoring {escape(name)}")

    def timing(self, models: int, repeats: int) -> None:
        self._line(f"timing {models} models, {repeats} rounds of short and 512-token texts")

    def interrupted(self, checkpoint: Any) -> None:
        self.stop()  # the Interrupted error that follows says how to start over (no --resume)


class DistillProgress(TrainingProgress):
    """TrainingProgress plus a line while the teacher labels the training texts."""

    def teacher_labelling(self, rows: int, what: str) -> None:
        self._line(f"[bold]teacher[/] labelling {rows:,} {escape(what)}")


def render_comparison(comparison: Comparison, console: Console = stderr_console) -> None:
    """The comparison table (one row per model), then one recommendation per budget."""
    from emolabel.evaluation.comparison_report import format_duration
    from emolabel.evaluation.sizes import format_params, format_size

    kind = ", multi-label" if comparison.multi_label else ""
    table = Table(
        title=f"{comparison.data} ({comparison.split}, {comparison.rows:,} rows{kind})",
        title_justify="left",
    )
    table.add_column("model", overflow="fold")
    for name in ("params", "size", "train", "texts/s short", "texts/s long"):
        table.add_column(name, justify="right")
    table.add_column("subset acc." if comparison.multi_label else "accuracy", justify="right")
    table.add_column("macro F1", justify="right")
    for m in comparison.models:
        s = m.summary()
        table.add_row(
            escape(m.name) + (" (multi-label)" if m.model_multi_label else ""),
            format_params(m.params),
            format_size(m.size_bytes),
            format_duration(m.train_seconds),
            f"{m.texts_per_second['short']:,.0f}",
            f"{m.texts_per_second['long']:,.1f}",
            f"{s['accuracy']:.4f}",
            f"{s['macro_f1']:.4f}",
        )
    console.print(table)
    if comparison.multi_label:
        console.print("multi-label: F1 at each model's thresholds; accuracy = subset accuracy")
    for line in comparison.recommendations:
        console.print(f"[bold]>[/] {escape(line)}", soft_wrap=True)
    console.print(f"written to {escape(str(comparison.output_dir))}: comparison.md, .json, plots")


def render_threshold_tuning(result: ThresholdTuning, console: Console = stderr_console) -> None:
    """Each label's threshold before and after, its F1 after, and macro/micro F1 both ways."""
    table = Table(title=f"thresholds tuned on {result.rows:,} rows ({result.split})")
    for name in ("label", "before", "after", "F1", "support"):
        table.add_column(name, justify="left" if name == "label" else "right")
    for i, label in enumerate(result.labels):
        row = result.metrics_after["per_label"][label]
        table.add_row(
            escape(label),
            f"{result.before[i]:.2f}",
            f"{result.after[i]:.2f}",
            f"{row['f1']:.3f}",
            f"{row['support']:,}",
        )
    console.print(table)
    b, a = result.metrics_before, result.metrics_after
    console.print(
        f"macro F1 {b['macro_f1']:.4f} -> {a['macro_f1']:.4f}, micro F1 {b['micro_f1']:.4f} -> "
        f"{a['micro_f1']:.4f} (annotate's rule, {result.precision}); written to {result.out}"
    )
