"""The report's option values and defaults, in one light module the CLI can import for
`--help` without loading polars or matplotlib."""

from __future__ import annotations

from typing import Literal, get_args

Every = Literal["1h", "1d", "1w", "1mo", "1q", "1y"]
EVERY_CHOICES: tuple[str, ...] = get_args(Every)
DEFAULT_EVERY: Every = "1d"
DEFAULT_TOP = 5  # most and least confident texts per emotion
DEFAULT_GROUPS = 10  # --by groups drawn before the rest become "other"
