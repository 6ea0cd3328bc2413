"""Length-sorted, token-budget batch planning.

Sorting a window of texts by length and cutting it into batches whose padded size
(rows x longest row) stays under a token budget removes almost all padding work: on short
tweets that alone doubles throughput over a fixed-size batch of unsorted texts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def plan_batches(
    lengths: Sequence[int], batch_tokens: int, max_batch_size: int = 512
) -> list[np.ndarray]:
    """Return index arrays, longest first, each padded batch within `batch_tokens`.

    A single row longer than the budget still gets a batch of its own. Longest first so the
    largest allocation happens at once (an out-of-memory error surfaces on the first batch).
    """
    if batch_tokens <= 0 or max_batch_size <= 0:
        raise ValueError("batch_tokens and max_batch_size must be positive")
    lengths_arr = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-lengths_arr, kind="stable")
    batches: list[np.ndarray] = []
    start = 0
    n = len(order)
    while start < n:
        longest = max(int(lengths_arr[order[start]]), 1)
        size = max(1, min(max_batch_size, batch_tokens // longest, n - start))
        batches.append(order[start : start + size])
        start += size
    return batches


def pad_batch(
    rows: Sequence[Sequence[int]], pad_id: int, multiple: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(input ids, attention mask) as int64 arrays, padded to the longest row rounded up to
    `multiple` (8 on GPUs, for tensor-core tiles)."""
    longest = -(-max(len(r) for r in rows) // multiple) * multiple
    input_ids = np.full((len(rows), longest), pad_id, dtype=np.int64)
    attention = np.zeros((len(rows), longest), dtype=np.int64)
    for i, row in enumerate(rows):
        input_ids[i, : len(row)] = row
        attention[i, : len(row)] = 1
    return input_ids, attention
