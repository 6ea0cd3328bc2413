"""One record batch in, the same batch with the prediction columns appended out: the step
both engines run on every chunk (tokenize the non-empty texts, score them, build columns)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emolabel.annotation.schema import OutputColumns
from emolabel.inference.classifier import EmotionClassifier
from emolabel.io import text_values


@dataclass
class PreparedChunk:
    """A batch with its non-empty texts tokenized, ready for the model."""

    batch: pa.RecordBatch
    valid: np.ndarray
    ids: list[list[int]]
    truncated: np.ndarray
    position: int = 0


def prepare_chunk(
    classifier: EmotionClassifier,
    batch: pa.RecordBatch,
    text_column: str,
    source: Path | str,
    position: int = 0,
) -> PreparedChunk:
    """Tokenize the batch's non-empty texts (empty and whitespace-only ones get null columns)."""
    texts = text_values(batch, text_column, Path(source))
    valid = np.fromiter(
        (isinstance(t, str) and bool(t.strip()) for t in texts), dtype=bool, count=len(texts)
    )
    encoded = classifier.encode([t for t, ok in zip(texts, valid, strict=True) if ok and t])
    return PreparedChunk(batch, valid, encoded.ids, encoded.truncated, position)


def predict_chunk(
    classifier: EmotionClassifier,
    chunk: PreparedChunk,
    columns: OutputColumns,
    batch_tokens: int | None,
) -> pa.RecordBatch:
    """Score a prepared chunk and append emotion, confidence, score_* and truncated."""
    n = chunk.batch.num_rows
    proba = classifier.predict_proba_encoded(chunk.ids, batch_tokens=batch_tokens)
    scores = np.zeros((n, len(classifier.labels)), dtype=np.float32)
    scores[chunk.valid] = proba
    best = scores.argmax(axis=1)
    confidence = scores[np.arange(n), best]
    truncated = np.zeros(n, dtype=bool)
    truncated[chunk.valid] = chunk.truncated
    mask = ~chunk.valid
    emotion = pc.take(pa.array(classifier.labels, pa.string()), pa.array(best, mask=mask))
    arrays = [
        emotion,
        pa.array(confidence, pa.float32(), mask=mask),
        *[pa.array(scores[:, j], pa.float32(), mask=mask) for j in range(scores.shape[1])],
        pa.array(truncated, pa.bool_(), mask=mask),
    ]
    out = chunk.batch
    for f, array in zip(columns.fields(), arrays, strict=True):
        out = out.append_column(f, array)
    return out


def label_batch(
    classifier: EmotionClassifier,
    batch: pa.RecordBatch,
    text_column: str,
    columns: OutputColumns,
    *,
    source: Path | str = "input",
    batch_tokens: int | None = None,
) -> pa.RecordBatch:
    """Append prediction columns to one record batch (the Ray workers call this too)."""
    chunk = prepare_chunk(classifier, batch, text_column, source)
    return predict_chunk(classifier, chunk, columns, batch_tokens)
