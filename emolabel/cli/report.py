"""`emolabel report`: an annotate output as one offline HTML page, and its tables on stderr."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from emolabel.errors import EmolabelError
from emolabel.report.options import DEFAULT_EVERY, DEFAULT_GROUPS, DEFAULT_TOP, EVERY_CHOICES

if TYPE_CHECKING:
    from rich.console import Console

    from emolabel.report.aggregate import ReportFigures

TERMINAL_PERIODS = 24
TERMINAL_TEXT_CHARS = 70


@click.command("report")
@click.argument("labelled", metavar="LABELLED", type=click.Path(path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    required=True,
    help="The HTML file to write (one self-contained page: pictures inline, no scripts, "
    "opens offline).",
)
@click.option(
    "--by",
    "by",
    metavar="COLUMN",
    default=None,
    help="Also show each emotion's share per value of this column (stacked bars).",
)
@click.option(
    "--groups",
    type=click.IntRange(min=1),
    default=DEFAULT_GROUPS,
    show_default=True,
    help="With --by: the biggest groups shown; the rest are one 'other' bar.",
)
@click.option(
    "--time",
    "time_column",
    metavar="COLUMN",
    default=None,
    help="Also show each emotion's share per period of this column (lines): dates, "
    "datetimes, ISO or Twitter created_at text, or unix time (s, ms or us).",
)
@click.option(
    "--every",
    type=click.Choice(EVERY_CHOICES),
    default=DEFAULT_EVERY,
    show_default=True,
    help="With --time: the period (calendar days, Monday weeks, months, quarters, years).",
)
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=DEFAULT_TOP,
    show_default=True,
    help="The N most and N least confident texts shown per emotion (0: none).",
)
@click.option(
    "--text-column",
    "-c",
    default=None,
    help="Column of the texts to quote. Default: text, content, body, tweet, sentence or "
    "message, else the only input string column.",
)
@click.option(
    "--prefix",
    default="",
    show_default=True,
    help="The --prefix annotate was run with (its columns are <prefix>emotion, ...).",
)
@click.option(
    "--summary",
    type=click.Path(path_type=Path),
    default=None,
    help="annotate's --summary-json file, for the model and run figures. Default: "
    "LABELLED.summary.json or <stem>.summary.json beside it, if there.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(),
    default=None,
    help="Also write every figure to this JSON file ('-': stdout).",
)
@click.option("--quiet", "-q", is_flag=True, help="No tables on stderr.")
def command(
    labelled: Path,
    output: Path,
    by: str | None,
    groups: int,
    time_column: str | None,
    every: str,
    top: int,
    text_column: str | None,
    prefix: str,
    summary: Path | None,
    json_path: str | None,
    quiet: bool,
) -> None:
    """Report what an annotate output says: one HTML page, and its tables on stderr.

    \b
    LABELLED is a file annotate wrote (parquet, CSV, TSV or JSONL, optionally gzipped)
    or a folder of parquet files from --engine ray. It is read with streaming queries,
    so memory follows the number of emotions, groups and periods, not the rows.
    The page shows the emotion distribution, confidence, emotions predicted together
    (multi-label outputs), --by groups, --time periods and the most and least confident
    texts per emotion.

    \b
    emolabel report labelled.parquet -o report.html
    emolabel report labelled.parquet -o report.html --by channel --time created --every 1w
    """
    from emolabel.report.build import build_report, figures_json

    source = click.get_current_context().get_parameter_source("every")
    if source == click.core.ParameterSource.COMMANDLINE and time_column is None:
        raise EmolabelError("--every needs --time COLUMN (the column of dates to group by)")
    figures = build_report(
        labelled,
        output,
        by=by,
        time=time_column,
        every=every,  # type: ignore[arg-type]  # click.Choice checked it
        top=top,
        groups=groups,
        text_column=text_column,
        prefix=prefix,
        summary=summary,
        json_path=None if json_path == "-" else json_path,
    )
    if json_path == "-":
        click.echo(figures_json(figures), nl=False)
    if not quiet:
        render_report(figures, output)


def render_report(
    figures: ReportFigures, output: Path | None = None, console: Console | None = None
) -> None:
    """The report's tables on stderr: distribution, rows, groups, periods, texts."""
    from rich.table import Table

    from emolabel.cli.render import stderr_console

    console = console or stderr_console
    table = Table(title="emolabel report", title_justify="left")
    for name, justify in (
        ("emotion", "left"),
        ("rows", "right"),
        ("share", "right"),
        ("mean confidence", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for label in sorted(figures.labels, key=lambda x: -figures.counts[x]):
        mean = figures.mean_confidence.get(label)
        table.add_row(
            _plain(label),
            f"{figures.counts[label]:,}",
            f"{figures.shares[label]:.1%}",
            "-" if mean is None else f"{mean:.3f}",
        )
    console.print(table)
    console.print(_facts(figures, output))
    if figures.groups is not None:
        console.print(
            _share_table(
                f"share by {figures.groups['column']}",
                figures.labels,
                [(g["name"], g["rows"], g["shares"]) for g in figures.groups["groups"]],
            )
        )
    if figures.periods is not None:
        periods = figures.periods["periods"]
        shown = periods[-TERMINAL_PERIODS:]
        title = f"share per {figures.periods['every']} of {figures.periods['column']}"
        if len(periods) > len(shown):
            title += f" (last {len(shown)} of {len(periods)} periods; all in the HTML)"
        console.print(
            _share_table(
                title, figures.labels, [(p["start"], p["rows"], p["shares"]) for p in shown]
            )
        )
    if figures.texts is not None:
        console.print(_texts_table(figures))


def _plain(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _facts(figures: ReportFigures, output: Path | None) -> Any:
    from rich.table import Table

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("file", _plain(f"{figures.input} ({figures.format})"))
    facts.add_row("rows", f"{figures.rows:,}")
    facts.add_row("labelled", f"{figures.labelled:,}")
    facts.add_row("skipped (no emotion)", f"{figures.skipped:,}")
    facts.add_row(
        "truncated", "not recorded" if figures.truncated is None else f"{figures.truncated:,}"
    )
    multi = figures.multi_label
    if multi is not None:
        facts.add_row("rows with several emotions", f"{multi['rows_with_several']:,}")
    if figures.summary is not None:
        facts.add_row("model", _plain(str(figures.summary.get("model", "?"))))
    else:
        facts.add_row("model", "unknown (no summary JSON beside it; pass --summary)")
    if output is not None:
        facts.add_row("report", _plain(str(output)))
    return facts


def _share_table(
    title: str, labels: list[str], rows: list[tuple[str, int, dict[str, float]]]
) -> Any:
    from rich.table import Table

    table = Table(title=_plain(title), title_justify="left")
    table.add_column("")
    table.add_column("rows", justify="right")
    for label in labels:
        table.add_column(_plain(label), justify="right")
    for name, n, shares in rows:
        table.add_row(_plain(name), f"{n:,}", *(f"{shares[x]:.1%}" for x in labels))
    return table


def _texts_table(figures: ReportFigures) -> Any:
    from rich.table import Table

    assert figures.texts is not None
    table = Table(title="most and least confident text per emotion", title_justify="left")
    for name in ("emotion", "", "confidence", "text"):
        table.add_column(name, justify="right" if name == "confidence" else "left")
    for label in figures.labels:
        for kind in ("most", "least"):
            rows = figures.texts[kind][label]
            if rows:
                text = " ".join(str(rows[0]["text"] or "").split())
                if len(text) > TERMINAL_TEXT_CHARS:
                    text = text[: TERMINAL_TEXT_CHARS - 1] + "…"
                table.add_row(_plain(label), kind, f"{rows[0]['confidence']:.3f}", _plain(text))
    return table
