"""Sizes as people read them: bytes on disk and parameter counts, in decimal units.

The one formatter for sizes, so `emolabel models`, `compare` and the reports print the same
figure for the same folder (MB = 10**6 bytes, as disk and hub pages count).
"""

from __future__ import annotations


def format_size(n_bytes: float) -> str:
    """Bytes as B, KB, MB or GB (powers of 1000): 12_345_678 -> `12.3 MB`."""
    n = float(n_bytes)
    if n < 1e3:
        return f"{n:.0f} B"
    if n < 1e6:
        return f"{n / 1e3:.0f} KB"
    if n < 1e9:
        return f"{n / 1e6:.1f} MB"
    return f"{n / 1e9:.2f} GB"


def format_params(n: float) -> str:
    """A parameter count in millions, with enough digits to tell small models apart."""
    return f"{n / 1e6:.1f}M" if n >= 1e7 else f"{n / 1e6:.2f}M"
