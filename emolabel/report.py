"""Everything that draws: Rich progress bars, summary tables, error lines.

The only module that imports rich, so the library stays usable without a terminal and
progress never lands on stdout when stdout carries data.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

stderr_console = Console(stderr=True, highlight=False)


def print_error(message: str) -> None:
    """One red line on stderr: what went wrong and what to do."""
    stderr_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


# --- annotate and classify ---------------------------------------------------------------


# --- training and evaluation -------------------------------------------------------------
