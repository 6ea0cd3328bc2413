"""One call from an annotate output to its report: scan, aggregate, draw, write.

A CSV/TSV/JSONL output is spooled to a temporary parquet file (in $TMPDIR, removed at
the end) so the queries do not parse the text once each. The report files are written to
a temporary name beside the target and renamed into place, so a failed or interrupted
report never leaves half a page behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from emolabel.errors import EmolabelError
from emolabel.report.aggregate import ReportFigures, aggregate_labelled
from emolabel.report.html import render_html
from emolabel.report.options import DEFAULT_EVERY, DEFAULT_GROUPS, DEFAULT_TOP, Every
from emolabel.report.sources import (
    choose_report_text_column,
    read_errors_named,
    read_summary,
    scan_labelled,
)


def build_report(
    labelled: str | Path,
    output: str | Path | None,
    *,
    by: str | None = None,
    time: str | None = None,
    every: Every = DEFAULT_EVERY,
    top: int = DEFAULT_TOP,
    groups: int = DEFAULT_GROUPS,
    text_column: str | None = None,
    prefix: str = "",
    summary: str | Path | None = None,
    json_path: str | Path | None = None,
) -> ReportFigures:
    """Write the HTML report of `labelled` to `output` (and the figures to `json_path`)."""
    summary_data, summary_file = read_summary(
        Path(labelled), Path(summary) if summary is not None else None
    )
    with tempfile.TemporaryDirectory(prefix="emolabel-report-") as spool:
        source = scan_labelled(labelled, prefix=prefix, spool_dir=Path(spool))
        chosen_text = choose_report_text_column(source, text_column)
        figures = read_errors_named(
            source.path,
            source.format,
            lambda: aggregate_labelled(
                source,
                by=by,
                time=time,
                every=every,
                top=top,
                groups=groups,
                text_column=chosen_text,
            ),
        )
    figures.summary = summary_data
    figures.summary_path = None if summary_file is None else str(summary_file)
    if output is not None:
        write_atomically(Path(output), render_html(figures))
    if json_path is not None:
        write_atomically(Path(json_path), figures_json(figures))
    return figures


def figures_json(figures: ReportFigures) -> str:
    """The figures as the JSON document --json writes."""
    return json.dumps(figures.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder, then rename."""
    folder = path.parent
    if not folder.is_dir():
        raise EmolabelError(f"{path}: the folder {folder} does not exist; create it first")
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
