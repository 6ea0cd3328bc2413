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
import matplotlib.dates
import matplotlib.ticker
import numpy as np
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
    """Mean confidence per emotion beside the confidence histogram, one outline per emotion.

    Outlines rather than stacked bars, and a log scale when one bin dwarfs the rest (a
    confident model puts most rows above 0.95), so every emotion's shape stays readable.
    """
    colours = label_colours(figures.labels)
    labels = figures.labels
    hist = figures.histogram or {}
    with _figure("confidence", max(3.4, 0.9 + 0.22 * len(labels)), ncols=2) as (fig, axes):
        left, right = axes
        means = [figures.mean_confidence.get(x) or 0.0 for x in labels]
        bars = left.barh([plain(x) for x in labels], means, color=[colours[x] for x in labels])
        left.bar_label(bars, labels=[f"{m:.2f}" for m in means], padding=3, fontsize=8)
        left.set_xlim(0, 1.12)
        left.invert_yaxis()
        left.set_title("Mean confidence per emotion")
        left.set_xlabel("mean confidence")
        edges = hist.get("edges", [])
        total = hist.get("total", [])
        if edges and any(total):
            right.stairs(total, edges, fill=True, color="#d0d7de", label="all")
            for label in labels:
                heights = hist.get("counts", {}).get(label, [])
                if any(heights):
                    right.stairs(heights, edges, color=colours[label], label=plain(label, 20))
            filled = [n for n in total if n]
            if max(filled) > 30 * sorted(filled)[len(filled) // 2]:
                right.set_yscale("log")
                right.set_ylabel("rows (log scale)")
            else:
                right.set_ylabel("rows")
        right.set_xlim(0, 1)
        right.set_title("Confidence histogram")
        right.set_xlabel("confidence (bins of 0.05)")
        if len(labels) <= 12 and any(total):
            right.legend(fontsize=8, frameon=False, loc="upper left")
        return to_svg(fig)


def co_occurrence_chart(multi: dict[str, Any]) -> str:
    """Row a, column b: the share of rows predicted a that are also predicted b.

    The diagonal (always 100%) shows each label's row count instead and is left out of
    the colour scale, which then spans the pairs that actually occur.
    """
    labels = multi["labels"]
    matrix = multi["matrix"]
    k = len(labels)
    share = np.full((k, k), np.nan)
    for i in range(k):
        for j in range(k):
            if i != j and matrix[i][i]:
                share[i, j] = matrix[i][j] / matrix[i][i]
    top = float(np.nanmax(share)) if k > 1 and not np.isnan(share).all() else 1.0
    side = min(max(3.2, 0.5 * k + 1.6), 11.0)
    with _figure("co-occurrence", side, width_in=min(side + 1.6, WIDTH_IN)) as (fig, ax):
        cmap = mpl.colormaps["Blues"].with_extremes(bad="#eaeef2")
        image = ax.imshow(np.ma.masked_invalid(share), cmap=cmap, vmin=0, vmax=max(top, 0.05))
        names = [plain(x, 20) for x in labels]
        ax.set_xticks(range(k), names, rotation=45, ha="right")
        ax.set_yticks(range(k), names)
        if k <= 12:
            for i in range(k):
                for j in range(k):
                    diagonal = i == j
                    value = share[i, j]
                    text = f"n={matrix[i][i]:,}" if diagonal else f"{value:.0%}"
                    dark = not diagonal and value > 0.6 * top
                    ax.text(
                        j,
                        i,
                        text,
                        ha="center",
                        va="center",
                        fontsize=7 if diagonal else 8,
                        color="white" if dark else "black",
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
        locator = mpl.dates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mpl.dates.ConciseDateFormatter(locator))
        return to_svg(fig)
