"""The figures of one annotate run (rows, empties, rejects, per-emotion counts and mean
confidence, speed), counted from the written rows by either engine.

Two counts per emotion: `counts`, rows whose top label (`emotion`) it is, and `present`,
rows whose `emotions` list holds it. For a multi-label model they differ (a row can hold
several emotions, or neutral on top and another above its threshold); for a single-label
model `emotions` is the top label, so they are equal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from emolabel.annotation.schema import OutputColumns


@dataclass
class AnnotationSummary:
    """The figures the summary table and --summary-json show.

    Engines count written rows with `count` (or add figures counted elsewhere with
    `add_counts`, e.g. per Ray block), then call `finish` once.
    """

    input: str
    output: str
    model: str
    device: str
    precision: str
    labels: list[str]
    inputs: list[str] = field(default_factory=list)
    rows: int = 0
    labelled: int = 0
    skipped_empty: int = 0
    rejected: int = 0
    truncated: int = 0
    resumed_chunks: int = 0
    resumed_rows: int = 0
    fp32_agreement: float | None = None
    agreement_rows: int = 0
    multi_label: bool = False
    threads: int | None = None  # torch's CPU threads (local engine on a CPU); None otherwise
    counts: dict[str, int] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)
    mean_confidence: dict[str, float] = field(default_factory=dict)
    elapsed_s: float = 0.0
    _confidence_sums: dict[str, float] = field(default_factory=dict, repr=False)

    @property
    def rows_per_s(self) -> float:
        """Rows labelled by this run per second (rows finished by an earlier run not counted)."""
        rows_now = self.rows - self.resumed_rows
        return rows_now / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def add_counts(
        self,
        *,
        rows: int,
        skipped_empty: int,
        truncated: int,
        counts: Mapping[str, int],
        confidence_sums: Mapping[str, float],
        present: Mapping[str, int] | None = None,
    ) -> None:
        """Add figures counted over some written rows (the public way to merge partial counts).

        `present` (rows whose `emotions` holds each label) defaults to `counts`: a run
        whose rows each carry one emotion."""
        self.rows += rows
        self.skipped_empty += skipped_empty
        self.labelled += rows - skipped_empty
        self.truncated += truncated
        for label, n in counts.items():
            self.counts[label] = self.counts.get(label, 0) + n
        for label, total in confidence_sums.items():
            self._confidence_sums[label] = self._confidence_sums.get(label, 0.0) + total
        for label, n in (counts if present is None else present).items():
            self.present[label] = self.present.get(label, 0) + n

    def count(self, rows: pa.RecordBatch | pa.Table, columns: OutputColumns) -> None:
        """Count written rows: one Arrow group-by, no per-row Python."""
        table = rows if isinstance(rows, pa.Table) else pa.Table.from_batches([rows])
        emotion = table.column(columns.emotion)
        grouped = (
            pa.table({"e": emotion, "c": table.column(columns.confidence).cast(pa.float64())})
            .filter(pc.is_valid(emotion))
            .group_by("e")
            .aggregate([("c", "sum"), ("c", "count")])
        )
        labels = grouped.column("e").to_pylist()
        truncated = pc.sum(table.column(columns.truncated).fill_null(False).cast(pa.int64()))
        self.add_counts(
            rows=table.num_rows,
            skipped_empty=emotion.null_count,
            truncated=truncated.as_py() or 0,
            counts=dict(zip(labels, grouped.column("c_count").to_pylist(), strict=True)),
            confidence_sums=dict(zip(labels, grouped.column("c_sum").to_pylist(), strict=True)),
            present=_present(table, columns.emotions),
        )

    def merge(self, other: AnnotationSummary) -> None:
        """Add another summary's counted rows (e.g. one per worker) to this one."""
        self.add_counts(
            rows=other.rows,
            skipped_empty=other.skipped_empty,
            truncated=other.truncated,
            counts=other.counts,
            confidence_sums=other._confidence_sums,
            present=other.present,
        )
        self.rejected += other.rejected

    def finish(self, elapsed_s: float) -> None:
        self.elapsed_s = elapsed_s
        self.counts = {label: self.counts.get(label, 0) for label in self.labels}
        self.present = {label: self.present.get(label, 0) for label in self.labels}
        self.mean_confidence = {
            label: self._confidence_sums[label] / self.counts[label]
            for label in self.labels
            if self.counts[label]
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_confidence_sums")
        data["rows_per_s"] = self.rows_per_s
        data["shares"] = {
            label: (n / self.labelled if self.labelled else 0.0) for label, n in self.counts.items()
        }
        data["present_shares"] = {
            label: (n / self.labelled if self.labelled else 0.0)
            for label, n in self.present.items()
        }
        return data


def _present(table: pa.Table, column: str) -> dict[str, int] | None:
    """Rows whose `emotions` list holds each label; None when the rows have no such column.
    A label repeated within one row's list counts once (annotate never writes repeats)."""
    if column not in table.column_names:
        return None
    values = pc.list_flatten(table.column(column))
    counted = pc.value_counts(values.filter(pc.is_valid(values)))
    return {str(item["values"]): int(item["counts"]) for item in counted.to_pylist()}
