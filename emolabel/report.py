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

if TYPE_CHECKING:
    from emolabel.annotate import AnnotationSummary

stderr_console = Console(stderr=True, highlight=False)


def print_error(message: str) -> None:
    """One red line on stderr: what went wrong and what to do."""
    stderr_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


# --- annotate and classify ---------------------------------------------------------------
class AnnotateProgress:
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
    facts.add_row("elapsed", f"{summary.elapsed_s:.1f} s ({summary.rows_per_s:,.0f} rows/s)")
    facts.add_row("model", summary.model)
    facts.add_row("device", f"{summary.device} ({summary.precision})")
    console.print(facts)




# --- training and evaluation -------------------------------------------------------------
