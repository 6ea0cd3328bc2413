"""The report as one self-contained HTML document: inline SVG pictures, inline CSS, no
scripts and no links out, so it opens offline and a text from the corpus can never run.

Every value from the data goes through `html.escape`; the pictures come from charts.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from emolabel import __version__
from emolabel.report import charts
from emolabel.report.aggregate import ReportFigures

_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --band: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif;
       color: var(--ink); max-width: 1040px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; padding-bottom: 4px;
     border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
.meta, .note, figcaption { color: var(--muted); font-size: 13px; }
figure { margin: 8px 0 12px; }
figure svg { width: 100%; height: auto; display: block; }
figure.narrow svg { max-width: 640px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 10px; }
th, td { padding: 3px 10px; border-bottom: 1px solid var(--line); text-align: left;
         vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 18px; font-size: 14px; }
.facts dt { font-weight: 600; } .facts dd { margin: 0; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
          margin-right: 6px; vertical-align: baseline; }
.texts { display: grid; grid-template-columns: 1fr 1fr; gap: 0 24px; }
.texts td.text { white-space: pre-wrap; word-break: break-word; }
details summary { cursor: pointer; color: var(--muted); font-size: 13px; }
nav a { margin-right: 12px; font-size: 13px; }
"""


def render_html(figures: ReportFigures) -> str:
    """The whole document for one set of figures."""
    sections = [
        ("run", "Rows and run", _run_section),
        ("distribution", "Emotion distribution", _distribution_section),
        ("confidence", "Confidence", _confidence_section),
        ("co-occurrence", "Multi-label co-occurrence", _co_occurrence_section),
        ("groups", "By group", _group_section),
        ("periods", "Over time", _period_section),
        ("texts", "Most and least confident texts", _texts_section),
    ]
    body = []
    nav = []
    for anchor, title, build in sections:
        content = build(figures)
        if content is None:
            continue
        nav.append(f'<a href="#{anchor}">{escape(title)}</a>')
        body.append(f'<section id="{anchor}">\n<h2>{escape(title)}</h2>\n{content}\n</section>')
    name = escape(figures.input)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>emolabel report: {name}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            f"<header><h1>Emotions in {name}</h1>",
            f'<p class="meta">{figures.rows:,} rows, {figures.labelled:,} labelled, '
            f"{len(figures.labels)} emotions &middot; {escape(_model_line(figures))}"
            f" &middot; emolabel {escape(__version__)}</p>",
            f"<nav>{''.join(nav)}</nav></header>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


def _model_line(figures: ReportFigures) -> str:
    if figures.summary is None:
        return "model unknown (no annotate summary JSON found; pass --summary)"
    return f"model {figures.summary.get('model', '?')}"


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _table(head: list[str], rows: Iterable[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    cls = [' class="num"' if i in numeric else "" for i in range(len(head))]
    out = [
        "<table>",
        "<tr>" + "".join(f"<th{cls[i]}>{h}</th>" for i, h in enumerate(head)) + "</tr>",
    ]
    for row in rows:
        out.append("<tr>" + "".join(f"<td{cls[i]}>{v}</td>" for i, v in enumerate(row)) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _facts(items: list[tuple[str, str]]) -> str:
    inner = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items)
    return f'<dl class="facts">{inner}</dl>'


def _run_section(figures: ReportFigures) -> str:
    def share(n: int) -> str:
        return f"{n:,} ({n / figures.rows:.1%})" if figures.rows else f"{n:,}"

    items = [
        ("file", f"{figures.input} ({figures.format})"),
        ("rows", f"{figures.rows:,}"),
        ("labelled", share(figures.labelled)),
        ("skipped (no emotion: empty or null text)", share(figures.skipped)),
        (
            "truncated (longer than the model's window)",
            "not recorded" if figures.truncated is None else share(figures.truncated),
        ),
    ]
    summary = figures.summary
    if summary is not None:
        items += _summary_items(summary)
        items.append(("summary file", str(figures.summary_path)))
        if summary.get("rows") not in (None, figures.rows):
            items.append(
                (
                    "note",
                    f"the summary counts {summary['rows']:,} rows but the file holds "
                    f"{figures.rows:,}: it may describe another run",
                )
            )
    return _facts(items)


def _summary_items(summary: dict[str, Any]) -> list[tuple[str, str]]:
    items = [("model", str(summary.get("model", "?")))]
    if "device" in summary:
        items.append(("device", f"{summary['device']} ({summary.get('precision', '?')})"))
    if "input" in summary:
        items.append(("labelled from", str(summary["input"])))
    if summary.get("rejected"):
        items.append(("rejected (malformed input rows)", f"{summary['rejected']:,}"))
    if summary.get("elapsed_s"):
        rate = summary.get("rows_per_s") or 0
        items.append(("elapsed", f"{summary['elapsed_s']:.1f} s ({rate:,.0f} rows/s)"))
    if summary.get("fp32_agreement") is not None:
        items.append(
            (
                f"{summary.get('precision')} vs fp32",
                f"same top label on {summary['fp32_agreement']:.1%} of sampled rows",
            )
        )
    return items


def _swatch(label: str, colours: dict[str, str]) -> str:
    return f'<span class="swatch" style="background:{colours[label]}"></span>{escape(label)}'


def _distribution_section(figures: ReportFigures) -> str:
    colours = charts.label_colours(figures.labels)
    order = sorted(figures.labels, key=lambda x: -figures.counts[x])
    rows = [
        [
            _swatch(label, colours),
            f"{figures.counts[label]:,}",
            _pct(figures.shares[label]),
            "-"
            if figures.mean_confidence.get(label) is None
            else f"{figures.mean_confidence[label]:.3f}",
        ]
        for label in order
    ]
    table = _table(["emotion", "rows", "share", "mean confidence"], rows, numeric={1, 2, 3})
    return f"<figure>{charts.distribution_chart(figures)}</figure>\n{table}"


def _confidence_section(figures: ReportFigures) -> str | None:
    if figures.histogram is None:
        return '<p class="note">The output has no confidence column.</p>'
    caption = (
        "<figcaption>Left: mean confidence of the rows each emotion won. Right: how "
        "confident the model was (grey: all rows; one outline per emotion it chose)."
        "</figcaption>"
    )
    return f"<figure>{charts.confidence_chart(figures)}{caption}</figure>"


def _co_occurrence_section(figures: ReportFigures) -> str | None:
    multi = figures.multi_label
    if multi is None:
        return None
    several, rows = multi["rows_with_several"], multi["rows"]
    summary = (
        f'<p class="note">{several:,} of {rows:,} rows ({several / rows if rows else 0:.1%}) '
        f"have more than one emotion; {multi['mean_emotions']:.2f} emotions per row on average.</p>"
    )
    if not several:
        return (
            summary + '<p class="note">Every row has exactly one emotion (a single-label '
            "model, or no second label reached its threshold), so there is nothing to pair.</p>"
        )
    sizes = _table(
        ["emotions per row", "rows"],
        ([str(s), f"{n:,}"] for s, n in multi["sizes"].items()),
        numeric={0, 1},
    )
    caption = (
        "<figcaption>Row <i>a</i>, column <i>b</i>: of the rows predicted <i>a</i>, the share "
        "also predicted <i>b</i>; the diagonal gives each emotion's rows.</figcaption>"
    )
    return (
        f'{summary}<figure class="narrow">{charts.co_occurrence_chart(multi)}{caption}'
        f"</figure>\n{sizes}"
    )


def _group_section(figures: ReportFigures) -> str | None:
    groups = figures.groups
    if groups is None:
        return None
    note = (
        f'<p class="note">{groups["total_groups"]:,} values of '
        f"<code>{escape(groups['column'])}</code>"
        + (
            f"; the {len(groups['groups']) - 1} biggest are shown, the other "
            f"{groups['folded_groups']:,} together as one bar.</p>"
            if groups["folded_groups"]
            else ".</p>"
        )
    )
    head = [escape(groups["column"]), "rows", *(escape(x) for x in figures.labels)]
    rows = [
        [escape(g["name"]), f"{g['rows']:,}", *(_pct(g["shares"][x]) for x in figures.labels)]
        for g in groups["groups"]
    ]
    table = _table(head, rows, numeric=set(range(1, len(head))))
    return f"{note}<figure>{charts.group_chart(figures)}</figure>\n{table}"


def _period_section(figures: ReportFigures) -> str | None:
    periods = figures.periods
    if periods is None:
        return None
    entries = periods["periods"]
    note = (
        f'<p class="note">{len(entries):,} periods of {escape(periods["every"])} by '
        f"<code>{escape(periods['column'])}</code>"
        + (
            f"; {periods['rows_without_time']:,} labelled rows have no time and are left out"
            if periods["rows_without_time"]
            else ""
        )
        + ".</p>"
    )
    if not entries:
        return note
    head = ["period", "rows", *(escape(x) for x in figures.labels)]
    rows = [
        [escape(p["start"]), f"{p['rows']:,}", *(_pct(p["shares"][x]) for x in figures.labels)]
        for p in entries
    ]
    table = _table(head, rows, numeric=set(range(1, len(head))))
    return (
        f"{note}<figure>{charts.period_chart(figures)}<figcaption>Each point is one period's "
        "share of its labelled rows; a period with few rows (often the first or last, cut by "
        "the data) moves more: the table gives each period's rows.</figcaption></figure>\n"
        f"<details><summary>The share table, one row per period</summary>\n{table}</details>"
    )


def _texts_section(figures: ReportFigures) -> str | None:
    texts = figures.texts
    if texts is None:
        return None
    preview = texts["preview_chars"]
    colours = charts.label_colours(figures.labels)

    def listing(rows: list[dict[str, Any]]) -> str:
        if not rows:
            return '<p class="note">none</p>'
        return _table(
            ["confidence", "text"],
            ([f"{r['confidence']:.3f}", _text_cell(r["text"], preview)] for r in rows),
            numeric={0},
        ).replace("<td>", '<td class="text">')

    parts = [
        f'<p class="note">From column <code>{escape(texts["column"])}</code>; texts longer '
        f"than {preview} characters are cut.</p>"
    ]
    for label in figures.labels:
        if not figures.counts.get(label):
            continue
        parts.append(f"<h3>{_swatch(label, colours)}</h3>")
        parts.append(
            '<div class="texts"><div><b>most confident</b>'
            f"{listing(texts['most'][label])}</div><div><b>least confident</b>"
            f"{listing(texts['least'][label])}</div></div>"
        )
    return "\n".join(parts)


def _text_cell(text: str | None, preview: int) -> str:
    if text is None:
        return '<span class="note">(null)</span>'
    cut = text if len(text) <= preview else text[:preview] + "…"
    return escape(cut)
