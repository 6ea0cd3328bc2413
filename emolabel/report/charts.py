"""The report's pictures: matplotlib figures drawn to inline SVG strings.

matplotlib because it is already a dependency, draws offline with no JavaScript, and its
SVG output (text kept as text) is small, sharp at any zoom and searchable in the page.
Figures are built with the object API (no pyplot), so nothing global changes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

from emolabel.report.aggregate import ReportFigures

WIDTH_IN = 9.0
_STYLE: dict[str, Any] = {
    "svg.fonttype": "none",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
}


def label_colours(labels: list[str]) -> dict[str, str]:
    """One fixed colour per label (model order), the same in every picture."""
    cmap = mpl.colormaps["tab10" if len(labels) <= 10 else "tab20"]
    return {label: mpl.colors.to_hex(cmap(i % cmap.N)) for i, label in enumerate(labels)}


def plain(text: str, limit: int = 40) -> str:
    """A data value as literal chart text: no mathtext from '$', long names cut."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")


@contextmanager
def _figure(
    name: str, height_in: float, ncols: int = 1, width_in: float = WIDTH_IN
) -> Iterator[tuple[Figure, Any]]:
    style: Any = {**_STYLE, "svg.hashsalt": name}  # the salt keeps SVG ids unique per picture
    with mpl.rc_context(style):
        fig = Figure(figsize=(width_in, height_in), layout="constrained")
        axes = fig.subplots(1, ncols)
        yield fig, axes


def to_svg(fig: Figure) -> str:
    """The figure as an <svg> element to inline (no XML prolog, scales to its container)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", svg, count=1)


def distribution_chart(figures: ReportFigures) -> str:
    labels = sorted(figures.labels, key=lambda label: figures.counts[label])
    colours = label_colours(figures.labels)
    with _figure("distribution", 0.9 + 0.32 * len(labels)) as (fig, ax):
        counts = [figures.counts[label] for label in labels]
        bars = ax.barh([plain(x) for x in labels], counts, color=[colours[x] for x in labels])
        ax.bar_label(
            bars,
            labels=[f"{figures.shares[x]:.1%}  ({figures.counts[x]:,})" for x in labels],
            padding=4,
            fontsize=9,
        )
        ax.set_xlim(0, max(counts, default=1) * 1.25 or 1)
        ax.set_xlabel("rows")
        ax.set_title(f"Emotion distribution ({figures.labelled:,} labelled rows)")
        return to_svg(fig)


def confidence_chart(figures: ReportFigures) -> str:
    """Mean confidence per emotion beside the histogram of confidence, stacked by emotion."""
    colours = label_colours(figures.labels)
    hist = figures.histogram or {}
    with _figure("confidence", 3.4, ncols=2) as (fig, (left, right)):
        labels = figures.labels
        means = [figures.mean_confidence.get(x) or 0.0 for x in labels]
        left.barh([plain(x) for x in labels], means, color=[colours[x] for x in labels])
        left.set_xlim(0, 1)
        left.invert_yaxis()
        left.set_title("Mean confidence per emotion")
        left.set_xlabel("mean confidence")
        edges = hist.get("edges", [])
        bottom = [0] * (len(edges) - 1)
        for label in labels:
            heights = hist.get("counts", {}).get(label, [])
            if not any(heights):
                continue
            right.bar(
                edges[:-1],
                heights,
                width=edges[1] - edges[0],
                bottom=bottom,
                align="edge",
                color=colours[label],
                label=plain(label, 20),
                linewidth=0,
            )
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        right.set_xlim(0, 1)
        right.set_title("Confidence histogram")
        right.set_xlabel("confidence")
        right.set_ylabel("rows")
        if len(labels) <= 12:
            right.legend(fontsize=8, frameon=False, loc="upper left")
        return to_svg(fig)


def co_occurrence_chart(multi: dict[str, Any]) -> str:
    """Row i, column j: the share of rows predicted i that are also predicted j."""
    labels = multi["labels"]
    matrix = multi["matrix"]
    share = [
        [matrix[i][j] / matrix[i][i] if matrix[i][i] else 0.0 for j in range(len(labels))]
        for i in range(len(labels))
    ]
    side = min(max(3.2, 0.5 * len(labels) + 1.6), 11.0)
    with _figure("co-occurrence", side, width_in=min(side + 1.6, WIDTH_IN)) as (fig, ax):
        image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        names = [plain(x, 20) for x in labels]
        ax.set_xticks(range(len(labels)), names, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), names)
        if len(labels) <= 12:
            for i in range(len(labels)):
                for j in range(len(labels)):
                    ax.text(
                        j,
                        i,
                        f"{share[i][j]:.0%}",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="white" if share[i][j] > 0.6 else "black",
                    )
        ax.spines[:].set_visible(False)
        ax.set_title("Emotions predicted together")
        ax.set_xlabel("also predicted")
        ax.set_ylabel("rows predicted")
        fig.colorbar(image, ax=ax, shrink=0.7, format=mpl.ticker.PercentFormatter(1.0, decimals=0))
        return to_svg(fig)


def group_chart(figures: ReportFigures) -> str:
    """Stacked horizontal bars: each group's emotion shares, biggest group on top."""
    assert figures.groups is not None
    groups = figures.groups["groups"]
    colours = label_colours(figures.labels)
    with _figure("groups", 1.4 + 0.36 * len(groups)) as (fig, ax):
        names = [f"{plain(g['name'])}  (n={g['rows']:,})" for g in groups]
        left = [0.0] * len(groups)
        for label in figures.labels:
            widths = [g["shares"][label] for g in groups]
            ax.barh(names, widths, left=left, color=colours[label], label=plain(label, 20))
            left = [a + b for a, b in zip(left, widths, strict=True)]
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0, decimals=0))
        ax.set_title(f"Emotion share by {plain(figures.groups['column'])}")
        ax.legend(
            ncols=min(len(figures.labels), 7),
            fontsize=8,
            frameon=False,
            loc="upper left",
            bbox_to_anchor=(0, -0.08 if len(groups) > 3 else -0.2),
        )
        return to_svg(fig)


def period_chart(figures: ReportFigures) -> str:
    """One line per emotion: its share of each period's labelled rows."""
    assert figures.periods is not None
    periods = figures.periods["periods"]
    colours = label_colours(figures.labels)
    starts = [datetime.fromisoformat(p["start"]) for p in periods]
    with _figure("periods", 3.6) as (fig, ax):
        marker = "o" if len(periods) <= 40 else None
        for label in figures.labels:
            ax.plot(
                starts,
                [p["shares"][label] for p in periods],
                color=colours[label],
                label=plain(label, 20),
                marker=marker,
                markersize=3,
                linewidth=1.6,
            )
        ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0, decimals=0))
        ax.set_ylim(bottom=0)
        ax.set_title(
            f"Emotion share per {figures.periods['every']} of {plain(figures.periods['column'])}"
        )
        ax.legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
        fig.autofmt_xdate()
        return to_svg(fig)
