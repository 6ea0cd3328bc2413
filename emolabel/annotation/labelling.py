"""One record batch in, the same batch with the prediction columns appended out: the step
both engines run on every chunk (tokenize the non-empty texts, score them, build columns)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emolabel.annotation.options import AnnotateOptions
from emolabel.annotation.schema import OutputColumns
from emolabel.errors import EmolabelError
from emolabel.inference import EmotionClassifier
from emolabel.io import text_values


def load_classifier(
    model: str | os.PathLike[str] | EmotionClassifier | None, opts: AnnotateOptions
) -> EmotionClassifier:
    """The run's model: a loaded EmotionClassifier as it is, else loaded with the options."""
    if isinstance(model, EmotionClassifier):
        if opts.threshold is not None:
            raise EmolabelError(
                "threshold= cannot change a loaded EmotionClassifier: load it with "
                "EmotionClassifier.load(..., threshold=X) instead"
            )
        return model
    return EmotionClassifier.load(
        model,
        device=opts.device,
        precision=opts.precision,
        max_length=opts.max_length,
        head_tokens=opts.head_tokens,
        compile=opts.compile,
        threshold=opts.threshold,
    )


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
    """Score a prepared chunk and append emotion, confidence, emotions, score_*, truncated."""
    n = chunk.batch.num_rows
    proba = classifier.predict_proba_encoded(chunk.ids, batch_tokens=batch_tokens)
    scores = np.zeros((n, len(classifier.labels)), dtype=np.float32)
    scores[chunk.valid] = proba
    offsets, ids = classifier.emotion_indices(proba)
    best = np.zeros(n, dtype=np.int64)
    best[chunk.valid] = ids[offsets[:-1]]  # each row's first emotion is its top label
    confidence = scores[np.arange(n), best]
    truncated = np.zeros(n, dtype=bool)
    truncated[chunk.valid] = chunk.truncated
    mask = ~chunk.valid
    names = pa.array(classifier.labels, pa.string())
    arrays = [
        pc.take(names, pa.array(best, mask=mask)),
        pa.array(confidence, pa.float32(), mask=mask),
        emotions_column(offsets, ids, chunk.valid, names),
        *[pa.array(scores[:, j], pa.float32(), mask=mask) for j in range(scores.shape[1])],
        pa.array(truncated, pa.bool_(), mask=mask),
    ]
    out = chunk.batch
    for f, array in zip(columns.fields(), arrays, strict=True):
        out = out.append_column(f, array)
    return out


def emotions_column(
    offsets: np.ndarray, ids: np.ndarray, valid: np.ndarray, names: pa.Array
) -> pa.ListArray:
    """list<string> per row from the valid rows' emotions (EmotionClassifier.emotion_indices:
    offsets and label ids, the Arrow list layout, so no per-row Python); null where the text
    is empty."""
    lengths = np.zeros(len(valid), dtype=np.int32)
    lengths[valid] = np.diff(offsets)
    all_offsets = np.zeros(len(valid) + 1, dtype=np.int32)
    np.cumsum(lengths, out=all_offsets[1:])
    return pa.ListArray.from_arrays(
        pa.array(all_offsets), pc.take(names, pa.array(ids)), mask=pa.array(~valid)
    )


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
