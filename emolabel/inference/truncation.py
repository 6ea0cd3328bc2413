"""Head+tail truncation of token ids.

Long reviews and posts put their verdict at the end ("... anyway, I loved it"), so keeping
the first and the last tokens beats keeping only the first (Sun et al. 2019, "How to
Fine-Tune BERT for Text Classification?": head 128 + tail 382 was best at 512).
"""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_HEAD_TOKENS = 128  # the one default: first 128 tokens + the rest from the end

# Characters kept from each end of a very long text before tokenizing. No tokenizer we know
# packs more than this many characters into one token, so a cut at whitespace this far in
# keeps the head and tail tokens exact while a 10 MB text tokenizes in milliseconds.
CHARS_PER_TOKEN_BOUND = 24


def head_tail_truncate(ids: Sequence[int], max_tokens: int, head: int) -> tuple[list[int], bool]:
    """Keep the first `head` and last `max_tokens - head` ids; return them and whether cut."""
    if max_tokens <= 0:
        raise ValueError("max_tokens must be positive")
    head = max(0, min(head, max_tokens))
    if len(ids) <= max_tokens:
        return list(ids), False
    tail = max_tokens - head
    kept = list(ids[:head])
    if tail:
        kept.extend(ids[len(ids) - tail :])
    return kept, True


def precut_text(text: str, max_tokens: int) -> tuple[str, bool]:
    """Drop the middle of a text far longer than `max_tokens` could cover, at whitespace.

    Returns the (possibly) shortened text and whether anything was dropped. The kept ends are
    each long enough to hold `max_tokens` tokens, so head+tail truncation of the shortened
    text gives the same ids as truncating the full text.
    """
    window = max_tokens * CHARS_PER_TOKEN_BOUND
    if len(text) <= 2 * window + 1:
        return text, False
    head_end = text.rfind(" ", window // 2, window)
    head_end = window if head_end < 0 else head_end
    tail_start = text.find(" ", len(text) - window, len(text) - window // 2)
    tail_start = len(text) - window if tail_start < 0 else tail_start + 1
    return text[:head_end] + " " + text[tail_start:], True
