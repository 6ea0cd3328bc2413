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
    table.add_column("rows", justify="right")
    table.add_column("share", justify="right")
    table.add_column("mean confidence", justify="right")
    for label in summary.labels:
        n = summary.counts.get(label, 0)
        share = n / summary.labelled if summary.labelled else 0.0
        mean = summary.mean_confidence.get(label)
        table.add_row(label, f"{n:,}", f"{share:.1%}", "-" if mean is None else f"{mean:.3f}")
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
    facts.add_row("device", f"{summary.device} ({summary.precision})")
    if summary.fp32_agreement is not None:
        facts.add_row(
            f"{summary.precision} vs fp32",
            f"same top label on {summary.fp32_agreement:.1%} of {summary.agreement_rows:,} "
            "sampled rows",
        )
    console.print(facts)


# --- training and evaluation -------------------------------------------------------------
if TYPE_CHECKING:
    from emolabel.evaluation.evaluate import EvaluationReport, ModelInfo
    from emolabel.training.data import TrainingData
    from emolabel.training.trainer import EpochRecord, TrainingResult


class TrainingProgress:
    """Rich view of a training run (an emolabel.training.TrainingEvents listener).

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
        threads = f", {info['threads']} threads" if info.get("threads") else ""
        self._line(
            f"[bold]model[/] {escape(str(info['base_model']))}: "
            f"{info['trainable_params']:,} of {info['total_params']:,} parameters trainable "
            f"({share:.0%}); {info['device']} {info['precision']}{threads}; "
            f"max length {info['max_length']} (head {info['head_tokens']}); "
            f"lr {info['lr']:g}"
        )

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
        loss = f"loss {record.train_loss:.4f}, " if record.train_loss is not None else ""
        self._line(
            f"epoch {record.epoch}: {loss}val loss {m.get('loss', float('nan')):.4f}, "
            f"accuracy {m.get('accuracy', float('nan')):.4f}, "
            f"macro-F1 {m.get('macro_f1', float('nan')):.4f} "
            f"[dim]({record.train_seconds:.0f} s train + {record.eval_seconds:.0f} s val)[/]"
        )
        if self._progress is not None:
            self._progress.update(self._epoch_task, completed=record.epoch)

    def interrupted(self, checkpoint: Any) -> None:
        self.stop()
        self._line(
            f"[yellow]interrupted:[/] checkpoint saved in {escape(str(checkpoint))}; "
            "run the same command with --resume to continue"
        )

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
    for name, justify in (
        ("label", "left"),
        ("precision", "right"),
        ("recall", "right"),
        ("F1", "right"),
        ("support", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for label, row in m["per_class"].items():
        table.add_row(
            escape(label),
            f"{row['precision']:.3f}",
            f"{row['recall']:.3f}",
            f"{row['f1']:.3f}",
            f"{row['support']:,}",
        )
    console.print(table)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("accuracy", f"{m['accuracy']:.4f}")
    facts.add_row("macro F1", f"{m['macro_f1']:.4f}")
    facts.add_row("weighted F1", f"{m['weighted_f1']:.4f}")
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

    def fmt(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.4f}"

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("accuracy", fmt(m["accuracy"]))
    facts.add_row(
        "precision", f"macro {fmt(m['macro_precision'])}, weighted {fmt(m['weighted_precision'])}"
    )
    facts.add_row("recall", f"macro {fmt(m['macro_recall'])}, weighted {fmt(m['weighted_recall'])}")
    facts.add_row("F1", f"macro {fmt(m['macro_f1'])}, weighted {fmt(m['weighted_f1'])}")
    facts.add_row(
        "ROC-AUC (OvR)", f"macro {fmt(m['roc_auc_macro'])}, weighted {fmt(m['roc_auc_weighted'])}"
    )
    facts.add_row("log loss", fmt(m["log_loss"]))
    facts.add_row("ECE (15 bins)", fmt(m["ece"]))
    dropped = report.stats.dropped_empty_text + report.stats.dropped_missing_label
    if dropped:
        facts.add_row("dropped", f"{dropped:,} rows with an empty text or no label")
    facts.add_row("elapsed", f"{report.seconds:.1f} s on {report.device} ({report.precision})")
    console.print(facts)


def evaluation_progress(console: Console = stderr_console) -> Progress:
    """A transient bar for `evaluate`; use as a context manager and call .update via a task."""
    return Progress(
        TextColumn("[bold]predicting"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def render_models(models: list[ModelInfo], console: Console | None = None) -> None:
    """The built-in model folders with labels, size and validation figures."""
    console = console or Console(highlight=False)
    if not models:
        console.print(
            "no built-in models yet: train one with "
            "`emolabel train --data DATA -o emolabel/models/NAME`, or pass any model folder "
            "with --model"
        )
        return
    table = Table(title="built-in models", title_justify="left")
    for name in ("name", "labels", "size", "accuracy", "macro F1", "base model"):
        table.add_column(
            name, justify="right" if name in ("size", "accuracy", "macro F1") else "left"
        )
    for info in models:
        table.add_row(
            escape(info.name),
            escape(", ".join(info.labels)),
            _size(info.size_bytes),
            "-" if info.accuracy is None else f"{info.accuracy:.4f}",
            "-" if info.macro_f1 is None else f"{info.macro_f1:.4f}",
            escape(info.base_model or "-"),
        )
    console.print(table)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


# --- compare and distill -----------------------------------------------------------------
if TYPE_CHECKING:
    from emolabel.evaluation.compare import Comparison


class CompareProgress(TrainingProgress):
    """TrainingProgress plus a line as each compared model starts and is measured."""

    def model_begin(self, index: int, total: int, name: str, action: str) -> None:
        self._line(f"[bold]model {index}/{total}[/] {escape(name)}: {action}")

    def measuring(self, name: str) -> None:
        self._line(f"scoring {escape(name)}")

    def timing(self, models: int, repeats: int) -> None:
        self._line(f"timing {models} models, {repeats} rounds of short and 512-token texts")

    def interrupted(self, checkpoint: Any) -> None:
        self.stop()  # compare has no --resume: say so rather than suggest one
        self._line("[yellow]interrupted:[/] the comparison stopped; run it again to start over")


class DistillProgress(TrainingProgress):
    """TrainingProgress plus a line while the teacher labels the training texts."""

    def teacher_labelling(self, rows: int, what: str) -> None:
        self._line(f"[bold]teacher[/] labelling {rows:,} {escape(what)}")


def render_comparison(comparison: Comparison, console: Console = stderr_console) -> None:
    """The comparison table (one row per model), then one recommendation per budget."""
    table = Table(
        title=f"{comparison.data} ({comparison.split}, {comparison.rows:,} rows)",
        title_justify="left",
    )
    from emolabel.evaluation.compare import format_duration, format_params, format_size

    table.add_column("model", overflow="fold")
    for name in ("params", "size", "train", "texts/s short", "texts/s long", "accuracy"):
        table.add_column(name, justify="right")
    table.add_column("macro F1", justify="right")
    for m in comparison.models:
        table.add_row(
            escape(m.name),
            format_params(m.params),
            format_size(m.size_bytes),
            format_duration(m.train_seconds),
            f"{m.texts_per_second['short']:,.0f}",
            f"{m.texts_per_second['long']:,.1f}",
            f"{m.metrics['accuracy']:.4f}",
            f"{m.metrics['macro_f1']:.4f}",
        )
    console.print(table)
    for line in comparison.recommendations:
        console.print(f"[bold]>[/] {escape(line)}", soft_wrap=True)
    console.print(f"written to {escape(str(comparison.output_dir))}: comparison.md, .json, plots")
