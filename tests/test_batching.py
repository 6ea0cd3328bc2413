"""Length-sorted token-budget batch planning."""

from __future__ import annotations

import numpy as np
import pytest

from emolabel.inference.batching import pad_batch, plan_batches


def _check_plan(lengths: list[int], budget: int, max_batch_size: int) -> list[np.ndarray]:
    batches = plan_batches(lengths, budget, max_batch_size=max_batch_size)
    seen = np.concatenate(batches) if batches else np.array([], dtype=np.int64)
    # every index exactly once
    assert sorted(seen.tolist()) == list(range(len(lengths)))
    previous_longest = None
    for batch in batches:
        assert 1 <= len(batch) <= max_batch_size
        longest = max(lengths[i] for i in batch)
        # budget respected, except a single over-long row which gets a batch of its own
        assert len(batch) * longest <= budget or len(batch) == 1
        # longest first, within and across batches
        batch_lengths = [lengths[i] for i in batch]
        assert batch_lengths == sorted(batch_lengths, reverse=True)
        if previous_longest is not None:
            assert longest <= previous_longest
        previous_longest = min(batch_lengths)
    return batches


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("budget", "max_batch_size"), [(64, 512), (1000, 7), (8192, 256)])
def test_random_lengths(seed: int, budget: int, max_batch_size: int) -> None:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 130, size=int(rng.integers(1, 2000))).tolist()
    _check_plan(lengths, budget, max_batch_size)


def test_empty() -> None:
    assert plan_batches([], 100) == []


def test_row_longer_than_budget_gets_its_own_batch() -> None:
    batches = _check_plan([10, 500, 20, 600], 100, 512)
    assert batches[0].tolist() == [3]
    assert batches[1].tolist() == [1]
    assert sorted(np.concatenate(batches[2:]).tolist()) == [0, 2]


def test_equal_lengths_keep_input_order() -> None:
    """A stable sort: ties stay in input order, so output order never depends on chance."""
    batches = plan_batches([5] * 10, 20)
    assert np.concatenate(batches).tolist() == list(range(10))
    assert [len(b) for b in batches] == [4, 4, 2]


def test_zero_length_rows_are_planned() -> None:
    _check_plan([0, 0, 3], 4, 512)


@pytest.mark.parametrize(("budget", "size"), [(0, 10), (10, 0), (-1, 5)])
def test_bad_arguments(budget: int, size: int) -> None:
    with pytest.raises(ValueError):
        plan_batches([1, 2], budget, max_batch_size=size)


@pytest.mark.parametrize(("multiple", "width"), [(1, 3), (4, 4), (8, 8)])
def test_pad_batch(multiple: int, width: int) -> None:
    ids, mask = pad_batch([[5, 6, 7], [8]], pad_id=0, multiple=multiple)
    assert ids.shape == mask.shape == (2, width)
    assert ids[0, :3].tolist() == [5, 6, 7] and ids[1, 0] == 8
    assert mask.sum(axis=1).tolist() == [3, 1]
    assert not ids[1, 1:].any()
