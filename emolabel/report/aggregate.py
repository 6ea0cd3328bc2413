"""The report's figures, computed as polars lazy aggregations over an annotate output.

Each figure is one streaming query that keeps only its result (counts per emotion, per
group, per period; the top texts) so memory follows the number of labels, groups and
periods, never the number of rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from emolabel.errors import EmolabelError
from emolabel.report.options import DEFAULT_EVERY, DEFAULT_GROUPS, DEFAULT_TOP, Every
from emolabel.report.sources import LabelledSource
from emolabel.report.times import check_times_parse, parsed_time

HISTOGRAM_BINS = 20
TEXT_PREVIEW_CHARS = 400
NULL_GROUP = "(null)"
_SET_SEPARATOR = "\x1f"  # ASCII unit separator: joins a row's labels into one group key
_UNKNOWN_BIT = 1 << 63  # a label outside the known ones: count by names instead


@dataclass
class ReportFigures:
    """Everything the HTML, the terminal tables and --json show; plain JSON-able values."""

    input: str
    format: str
    labels: list[str]
    rows: int
    labelled: int
    skipped: int
    truncated: int | None
    counts: dict[str, int]
    shares: dict[str, float]
    mean_confidence: dict[str, float | None]
    histogram: dict[str, Any] | None
    multi_label: dict[str, Any] | None = None
    groups: dict[str, Any] | None = None
    periods: dict[str, Any] | None = None
    texts: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    summary_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def aggregate_labelled(
    source: LabelledSource,
    *,
    by: str | None = None,
    time: str | None = None,
    every: Every = DEFAULT_EVERY,
    top: int = DEFAULT_TOP,
    groups: int = DEFAULT_GROUPS,
    text_column: str | None = None,
) -> ReportFigures:
    """All figures for one annotate output; `by`/`time`/`text_column` must be its columns."""
    for option, column in (("--by", by), ("--time", time)):
        if column is not None and column not in source.columns:
            raise EmolabelError(
                f"{source.path}: no column named {column!r} for {option}; columns are: "
                f"{', '.join(source.columns)}"
            )
    rows, truncated, counts, means = _distribution(source)
    labels = _label_order(source, counts)
    labelled = sum(counts.values())
    figures = ReportFigures(
        input=str(source.path),
        format=source.format,
        labels=labels,
        rows=rows,
        labelled=labelled,
        skipped=rows - labelled,
        truncated=truncated,
        counts={label: counts.get(label, 0) for label in labels},
        shares={label: counts.get(label, 0) / labelled if labelled else 0.0 for label in labels},
        mean_confidence={label: means.get(label) for label in labels},
        histogram=_histogram(source, labels),
    )
    if source.emotions is not None:
        figures.multi_label = _co_occurrence(source, labels)
    if by is not None:
        figures.groups = _group_shares(source, by, labels, groups)
    if time is not None:
        figures.periods = _period_shares(source, time, every, labels)
    if text_column is not None and source.confidence is not None and top > 0:
        figures.texts = _extreme_texts(source, text_column, labels, top)
    return figures


def _labelled_rows(source: LabelledSource) -> pl.LazyFrame:
    return source.frame.filter(pl.col(source.emotion).is_not_null())


def _distribution(
    source: LabelledSource,
) -> tuple[int, int | None, dict[str, int], dict[str, float | None]]:
    aggs = [pl.len().alias("n")]
    if source.confidence is not None:
        aggs.append(pl.col(source.confidence).mean().alias("mean"))
    if source.truncated is not None:
        aggs.append(pl.col(source.truncated).sum().alias("truncated"))
    table = source.frame.group_by(source.emotion).agg(aggs).collect(engine="streaming")
    rows = int(table["n"].sum())
    truncated = int(table["truncated"].sum()) if source.truncated is not None else None
    labelled = table.filter(pl.col(source.emotion).is_not_null())
    counts = dict(zip(labelled[source.emotion].to_list(), labelled["n"].to_list(), strict=True))
    means: dict[str, float | None] = {}
    if source.confidence is not None:
        means = dict(zip(labelled[source.emotion], labelled["mean"], strict=True))
    return rows, truncated, counts, means


def _label_order(source: LabelledSource, counts: dict[str, int]) -> list[str]:
    """The model's label order (from its score_ columns), then any other label seen."""
    extra = [label for label in counts if label not in source.labels]
    return [*source.labels, *sorted(extra, key=lambda x: -counts[x])]


def _histogram(source: LabelledSource, labels: list[str]) -> dict[str, Any] | None:
    if source.confidence is None:
        return None
    conf = pl.col(source.confidence)
    bin_index = (conf * HISTOGRAM_BINS).floor().clip(0, HISTOGRAM_BINS - 1).cast(pl.Int32)
    table = (
        _labelled_rows(source)
        .filter(conf.is_not_null())
        .group_by(source.emotion, bin_index.alias("bin"))
        .len()
        .collect(engine="streaming")
    )
    per_label = {label: [0] * HISTOGRAM_BINS for label in labels}
    for label, index, n in table.iter_rows():
        per_label[label][index] = n
    return {
        "edges": [i / HISTOGRAM_BINS for i in range(HISTOGRAM_BINS + 1)],
        "counts": per_label,
        "total": [sum(column) for column in zip(*per_label.values(), strict=True)]
        if per_label
        else [0] * HISTOGRAM_BINS,
    }


def _co_occurrence(source: LabelledSource, labels: list[str]) -> dict[str, Any]:
    """How often labels are predicted together: a k x k matrix of rows holding both.

    One streaming pass counts each distinct label set (a model with k labels predicts few
    of the 2^k possible sets); the pairs are counted from those sets here.
    """
    assert source.emotions is not None
    rows = source.frame.filter(pl.col(source.emotions).is_not_null())
    combos = _label_sets_by_bits(rows, source.emotions, labels)
    if combos is None:  # a label outside `labels`, or too many for 63 bits
        combos = _label_sets_by_name(rows, source.emotions)
    seen = {label for members, _ in combos for label in members}
    labels = [*labels, *sorted(seen - set(labels))]
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    size_counts: dict[int, int] = {}
    for members, n in combos:
        size_counts[len(members)] = size_counts.get(len(members), 0) + n
        for a in members:
            for b in members:
                matrix[index[a]][index[b]] += n
    total = sum(size_counts.values())
    several = sum(n for size, n in size_counts.items() if size > 1)
    return {
        "labels": labels,
        "matrix": matrix,
        "label_rows": {label: matrix[i][i] for i, label in enumerate(labels)},
        "sizes": dict(sorted(size_counts.items())),
        "rows": total,
        "rows_with_several": several,
        "mean_emotions": sum(s * n for s, n in size_counts.items()) / total if total else 0.0,
    }


def _label_sets_by_bits(
    rows: pl.LazyFrame, column: str, labels: list[str]
) -> list[tuple[list[str], int]] | None:
    """Rows per distinct label set, each set an OR of one bit per label (the fast path)."""
    if len(labels) > 63:
        return None
    bits = pl.element().replace_strict(
        labels, [1 << i for i in range(len(labels))], default=_UNKNOWN_BIT, return_dtype=pl.UInt64
    )
    mask = pl.col(column).list.eval(bits.bitwise_or()).list.first().fill_null(0).alias("mask")
    table = rows.group_by(mask).len().collect(engine="streaming")
    sets = []
    for value, n in table.iter_rows():
        if value & _UNKNOWN_BIT:
            return None
        sets.append(([label for i, label in enumerate(labels) if value >> i & 1], n))
    return sets


def _label_sets_by_name(rows: pl.LazyFrame, column: str) -> list[tuple[list[str], int]]:
    """Rows per distinct label set, keyed by the set's sorted names joined (any labels)."""
    lists = pl.col(column)
    key = lists.list.unique().list.sort().list.join(_SET_SEPARATOR).alias("set")
    table = rows.group_by(key).len().collect(engine="streaming")
    return [(s.split(_SET_SEPARATOR) if s else [], n) for s, n in table.iter_rows()]


def _shares(counts: dict[str, int], labels: list[str]) -> dict[str, float]:
    total = sum(counts.values())
    return {label: counts.get(label, 0) / total if total else 0.0 for label in labels}


def _group_shares(
    source: LabelledSource, by: str, labels: list[str], top_groups: int
) -> dict[str, Any]:
    """Emotion share per value of `by`: the biggest groups, the rest folded into one."""
    group = pl.col(by).cast(pl.String).fill_null(NULL_GROUP).alias("group")
    table = _labelled_rows(source).group_by(group, source.emotion).len().collect(engine="streaming")
    per_group: dict[str, dict[str, int]] = {}
    for name, label, n in table.iter_rows():
        per_group.setdefault(name, {})[label] = n
    ranked = sorted(per_group, key=lambda g: (-sum(per_group[g].values()), g))
    kept, folded = ranked[:top_groups], ranked[top_groups:]
    entries: list[dict[str, Any]] = [
        {"name": g, "rows": sum(per_group[g].values()), "counts": per_group[g]} for g in kept
    ]
    if folded:
        other: dict[str, int] = {}
        for g in folded:
            for label, n in per_group[g].items():
                other[label] = other.get(label, 0) + n
        entries.append(
            {
                "name": f"other ({len(folded):,} groups)",
                "rows": sum(other.values()),
                "counts": other,
            }
        )
    for entry in entries:
        entry["counts"] = {label: entry["counts"].get(label, 0) for label in labels}
        entry["shares"] = _shares(entry["counts"], labels)
        entry["other"] = entry is entries[-1] and bool(folded)
    return {
        "column": by,
        "total_groups": len(ranked),
        "folded_groups": len(folded),
        "groups": entries,
    }


def _period_shares(
    source: LabelledSource, time: str, every: Every, labels: list[str]
) -> dict[str, Any]:
    """Emotion share per period of `time` (calendar-aligned: days, Monday weeks, months)."""
    dtype = source.frame.collect_schema()[time]
    parsed = parsed_time(time, dtype, source.path)
    frame = _labelled_rows(source)
    missing = check_times_parse(frame, time, parsed, source.path)
    table = (
        frame.select(parsed.alias("period"), pl.col(source.emotion))
        .filter(pl.col("period").is_not_null())
        .group_by(pl.col("period").dt.truncate(every), source.emotion)
        .len()
        .sort("period")
        .collect(engine="streaming")
    )
    per_period: dict[str, dict[str, int]] = {}
    for period, label, n in table.iter_rows():
        start = period.date().isoformat() if every != "1h" else period.isoformat(timespec="minutes")
        per_period.setdefault(start, {})[label] = n
    entries = []
    for start, counts in per_period.items():
        full = {label: counts.get(label, 0) for label in labels}
        entries.append(
            {
                "start": start,
                "rows": sum(full.values()),
                "counts": full,
                "shares": _shares(full, labels),
            }
        )
    return {"column": time, "every": every, "rows_without_time": missing, "periods": entries}


def _extreme_texts(
    source: LabelledSource, text_column: str, labels: list[str], top: int
) -> dict[str, Any]:
    """The `top` most and least confident texts per emotion.

    Per emotion and end, one streaming top-k over the confidences alone finds the cut-off,
    then a second top-k reads the texts at or past it: parquet decodes only those rows'
    texts, so a long text column is not read whole for every emotion. The queries run
    one at a time: collect_all runs them side by side, each with its own buffers.
    """
    assert source.confidence is not None
    confidence = pl.col(source.confidence).alias("confidence")
    text = pl.col(text_column).cast(pl.String).str.slice(0, TEXT_PREVIEW_CHARS + 1)
    found: dict[str, dict[str, list[dict[str, Any]]]] = {"most": {}, "least": {}}
    for label in labels:
        rows = source.frame.filter(
            (pl.col(source.emotion) == label) & pl.col(source.confidence).is_not_null()
        )
        for end, most in (("most", True), ("least", False)):
            found[end][label] = _confidence_end(rows, confidence, text, top, most=most)
    return {
        "column": text_column,
        "top": top,
        "preview_chars": TEXT_PREVIEW_CHARS,
        "most": found["most"],
        "least": found["least"],
    }


def _confidence_end(
    rows: pl.LazyFrame, confidence: pl.Expr, text: pl.Expr, top: int, *, most: bool
) -> list[dict[str, Any]]:
    def extreme(frame: pl.LazyFrame) -> pl.LazyFrame:
        if most:
            return frame.top_k(top, by="confidence")
        return frame.bottom_k(top, by="confidence")

    scores = extreme(rows.select(confidence)).collect(engine="streaming")["confidence"]
    if scores.is_empty():
        return []
    cut = scores.min() if most else scores.max()
    past = pl.col("confidence") >= cut if most else pl.col("confidence") <= cut
    chosen = extreme(rows.select(text.alias("text"), confidence).filter(past))
    return chosen.collect(engine="streaming").sort("confidence", descending=most).to_dicts()
