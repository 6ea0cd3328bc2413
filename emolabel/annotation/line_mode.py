"""Line-in, line-out labelling for shell pipelines.

Lines are batched only as far as they are already waiting on the input, so an interactive
or slow producer gets each answer at once while `cat big.txt | emolabel classify` still
runs in full batches.
"""

from __future__ import annotations

import io
import json
import os
import select
from collections.abc import Iterable, Iterator
from typing import IO

from emolabel.inference import EmotionClassifier
from emolabel.io.formats import LIST_SEPARATOR

MAX_LINES_PER_BATCH = 256


def iter_line_batches(
    stream: IO[bytes], max_lines: int = MAX_LINES_PER_BATCH
) -> Iterator[list[str]]:
    """Yield lists of decoded lines: whatever is available now, at most `max_lines`."""
    try:
        fd = stream.fileno()
        select.select([fd], [], [], 0)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        yield from _batched(_plain_lines(stream), max_lines)
        return
    pending = b""
    lines: list[str] = []
    eof = False
    while not eof:
        ready, _, _ = select.select([fd], [], [], None if not lines else 0)
        if ready:
            data = os.read(fd, 1 << 16)
            if not data:
                eof = True
            else:
                pending += data
                *complete, pending = pending.split(b"\n")
                lines.extend(_decode(line) for line in complete)
        if lines and (not ready or len(lines) >= max_lines or eof):
            while lines:
                yield lines[:max_lines]
                lines = lines[max_lines:]
    if pending:
        yield [_decode(pending)]


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").rstrip("\r")


def _plain_lines(stream: IO[bytes]) -> Iterator[str]:
    for raw in stream:
        yield _decode(raw.rstrip(b"\n"))


def _batched(items: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def format_lines(
    classifier: EmotionClassifier,
    texts: list[str],
    output_format: str = "tsv",
    batch_tokens: int | None = None,
) -> list[str]:
    """One output line per input text; empty texts keep their line with empty fields.

    tsv: label, confidence, emotions (joined by LIST_SEPARATOR, as in annotate's CSV/TSV
    output), then the text last, so a text holding tabs cannot shift the other fields.
    """
    keep = [i for i, t in enumerate(texts) if t.strip()]
    predictions = dict(
        zip(
            keep,
            classifier.predict([texts[i] for i in keep], batch_tokens=batch_tokens),
            strict=True,
        )
    )
    lines = []
    for i, text in enumerate(texts):
        p = predictions.get(i)
        if output_format == "jsonl":
            record = {
                "text": text,
                "label": p.label if p else None,
                "confidence": round(p.confidence, 6) if p else None,
                "emotions": p.emotions if p else None,
                "scores": {k: round(v, 6) for k, v in p.scores.items()} if p else None,
                "truncated": p.truncated if p else None,
            }
            lines.append(json.dumps(record, ensure_ascii=False))
        else:
            lines.append(
                f"{p.label}\t{p.confidence:.4f}\t{LIST_SEPARATOR.join(p.emotions)}\t{text}"
                if p
                else f"\t\t\t{text}"
            )
    return lines
