"""Text to token ids: the tokenizer, special tokens and head+tail truncation, without a model.

Training tokenizes its splits with the same TextEncoder that inference uses, so a model sees
the same ids at training and at prediction time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emolabel.errors import EmolabelError
from emolabel.inference.model_folders import check_vocab_fits, loading_errors
from emolabel.inference.truncation import DEFAULT_HEAD_TOKENS, head_tail_truncate, precut_text

__all__ = ["DEFAULT_HEAD_TOKENS", "EncodedTexts", "TextEncoder", "default_max_length"]
MAX_LENGTH_CAP = 512


@dataclass(frozen=True)
class EncodedTexts:
    """Token ids with special tokens added and truncation applied, one list per text."""

    ids: list[list[int]]
    truncated: np.ndarray


class TextEncoder:
    """A tokenizer plus the max length and head+tail split every text is cut to."""

    def __init__(
        self,
        tokenizer: Any,
        *,
        source: str = "",
        config: Any = None,
        max_length: int | None = None,
        head_tokens: int = DEFAULT_HEAD_TOKENS,
    ) -> None:
        self.tokenizer = tokenizer
        self.source = source
        self.max_length = max_length or default_max_length(tokenizer, config)
        if self.max_length < 8:
            raise EmolabelError(f"--max-length {self.max_length} is too small: use 8 or more")
        limit = position_limit(config)
        if limit is not None and self.max_length > limit:
            raise EmolabelError(
                f"--max-length {self.max_length} is more than the model's {limit} positions: "
                f"use {limit} or less"
            )
        self.prefix, self.suffix = special_token_layout(tokenizer)
        self.content_tokens = self.max_length - len(self.prefix) - len(self.suffix)
        self.head_tokens = max(0, min(head_tokens, self.content_tokens))
        pad_id = tokenizer.pad_token_id
        self.pad_id = 0 if pad_id is None else int(pad_id)
        self._backend = _plain_backend(tokenizer)

    @classmethod
    def from_folder(
        cls,
        path: str | os.PathLike[str],
        max_length: int | None = None,
        head_tokens: int = DEFAULT_HEAD_TOKENS,
    ) -> TextEncoder:
        """The tokenizer of a model folder (or hub id), with that model's default max length."""
        from transformers import AutoConfig, AutoTokenizer

        source = os.fspath(path)
        local = Path(source).exists()
        with loading_errors(source, "tokenizer"):
            tokenizer = AutoTokenizer.from_pretrained(
                source, trust_remote_code=False, local_files_only=local
            )
        with loading_errors(source, "model"):
            config = AutoConfig.from_pretrained(
                source, trust_remote_code=False, local_files_only=local
            )
        rows = getattr(config, "vocab_size", None)
        if isinstance(rows, int) and rows > 0:
            check_vocab_fits(tokenizer, rows, source)
        return cls(
            tokenizer, source=source, config=config, max_length=max_length, head_tokens=head_tokens
        )

    def encode(self, texts: Sequence[str]) -> EncodedTexts:
        """Tokenize and head+tail truncate; texts must be non-empty strings."""
        budget = self.content_tokens
        prepared: list[str] = []
        precut = np.zeros(len(texts), dtype=bool)
        for i, text in enumerate(texts):
            short, cut = precut_text(text, budget)
            prepared.append(short)
            precut[i] = cut
        raw_ids = self.tokenize(prepared)
        truncated = precut.copy()
        ids: list[list[int]] = []
        prefix, suffix, head = self.prefix, self.suffix, self.head_tokens
        for i, row in enumerate(raw_ids):
            kept, cut = head_tail_truncate(row, budget, head)
            truncated[i] |= cut
            ids.append(prefix + kept + suffix)
        return EncodedTexts(ids=ids, truncated=truncated)

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text, no special tokens, no truncation."""
        if not texts:
            return []
        if self._backend is not None:
            encode = getattr(self._backend, "encode_batch_fast", self._backend.encode_batch)
            return [enc.ids for enc in encode(texts, add_special_tokens=False)]
        out = self.tokenizer(texts, add_special_tokens=False, truncation=False)
        return [list(x) for x in out["input_ids"]]


def default_max_length(tokenizer: Any, config: Any) -> int:
    """The model's own limit, capped at 512 (tokenizers often report a huge sentinel)."""
    candidates = [MAX_LENGTH_CAP]
    tok_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_max, int) and 0 < tok_max < 1_000_000:
        candidates.append(tok_max)
    limit = position_limit(config)
    if limit is not None:
        candidates.append(limit)
    return min(candidates)


def position_limit(config: Any) -> int | None:
    """Tokens the model's position embeddings cover; None when the config does not say."""
    positions = getattr(config, "max_position_embeddings", None)
    if not isinstance(positions, int) or positions <= 0:
        return None
    # RoBERTa-style models reserve padding_idx + 1 positions.
    if "roberta" in str(getattr(config, "model_type", "")):
        return positions - ((getattr(config, "pad_token_id", 0) or 0) + 1)
    return positions


def special_token_layout(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The ids the tokenizer puts before and after a single sequence ([CLS] ... [SEP])."""
    with_special = list(tokenizer("a")["input_ids"])
    plain = list(tokenizer("a", add_special_tokens=False)["input_ids"])
    n = len(plain)
    for start in range(len(with_special) - n + 1):
        if with_special[start : start + n] == plain:
            return with_special[:start], with_special[start + n :]
    return [], []


def _plain_backend(tokenizer: Any) -> Any:
    """A copy of the fast tokenizer's Rust backend with truncation and padding off."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    from tokenizers import Tokenizer

    plain = Tokenizer.from_str(backend.to_str())
    plain.no_truncation()
    plain.no_padding()
    return plain
