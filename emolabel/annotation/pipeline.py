"""The annotate pipeline: reader -> classifier -> writer, in bounded memory, order kept.

A background thread reads, parses and tokenizes the next chunk while the model runs on the
current one; results are appended to each chunk's record batch and written at once, into a
temporary file that is renamed over the output only when every row is done.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from emolabel.annotation.checkpoints import (
    ChunkStore,
    check_resumable,
    file_fingerprint,
    model_fingerprint,
    parts_dir_for,
)
from emolabel.annotation.options import DEFAULT_CHUNK_ROWS as DEFAULT_CHUNK_ROWS  # re-exported
from emolabel.annotation.options import AnnotateOptions
from emolabel.errors import EmolabelError, Interrupted
from emolabel.events import Events
from emolabel.inference.allocator import release_free_memory
from emolabel.inference.classifier import AGREEMENT_SAMPLE_ROWS, EmotionClassifier
from emolabel.io import (
    CorpusReader,
    CorpusWriter,
    RowError,
    open_corpus,
    output_format,
    rechunk,
    text_values,
)


@dataclass
class AnnotationSummary:
    """The figures the summary table and --summary-json show."""

    input: str
    output: str
    model: str
    device: str
    precision: str
    labels: list[str]
    rows: int = 0
    labelled: int = 0
    skipped_empty: int = 0
    rejected: int = 0
    truncated: int = 0
    resumed_chunks: int = 0
    fp32_agreement: float | None = None
    agreement_rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    mean_confidence: dict[str, float] = field(default_factory=dict)
    elapsed_s: float = 0.0
    _confidence_sums: dict[str, float] = field(default_factory=dict, repr=False)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def add(self, labels: list[str | None], confidence: np.ndarray, truncated: np.ndarray) -> None:
        self.rows += len(labels)
        for label, conf in zip(labels, confidence, strict=True):
            if label is None:
                self.skipped_empty += 1
                continue
            self.labelled += 1
            self.counts[label] = self.counts.get(label, 0) + 1
            self._confidence_sums[label] = self._confidence_sums.get(label, 0.0) + float(conf)
        self.truncated += int(truncated.sum())

    def finish(self, elapsed_s: float) -> None:
        self.elapsed_s = elapsed_s
        self.counts = {label: self.counts.get(label, 0) for label in self.labels}
        self.mean_confidence = {
            label: self._confidence_sums[label] / self.counts[label]
            for label in self.labels
            if self.counts[label]
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_confidence_sums")
        data["rows_per_s"] = self.rows_per_s
        data["shares"] = {
            label: (n / self.labelled if self.labelled else 0.0) for label, n in self.counts.items()
        }
        return data


@dataclass
class OutputColumns:
    """Names of the columns annotate appends, in order, for one label set and prefix."""

    emotion: str
    confidence: str
    scores: list[str]
    truncated: str

    @classmethod
    def for_labels(cls, labels: list[str], prefix: str = "") -> OutputColumns:
        return cls(
            emotion=f"{prefix}emotion",
            confidence=f"{prefix}confidence",
            scores=[f"{prefix}score_{label}" for label in labels],
            truncated=f"{prefix}truncated",
        )

    def names(self) -> list[str]:
        return [self.emotion, self.confidence, *self.scores, self.truncated]

    def fields(self) -> list[pa.Field]:
        return [
            pa.field(self.emotion, pa.string()),
            pa.field(self.confidence, pa.float32()),
            *[pa.field(name, pa.float32()) for name in self.scores],
            pa.field(self.truncated, pa.bool_()),
        ]


def output_schema(input_schema: pa.Schema, columns: OutputColumns, source: str) -> pa.Schema:
    """Input columns unchanged, then the prediction columns; a clash is a user error."""
    if len(set(columns.names())) != len(columns.names()):
        raise EmolabelError(
            f"the model's labels give duplicate column names ({', '.join(columns.names())}); "
            "rename its labels"
        )
    clash = [name for name in columns.names() if name in input_schema.names]
    if clash:
        raise EmolabelError(
            f"{source} already has column {clash[0]!r}; pass --prefix (e.g. --prefix emo_) "
            "so the new columns get other names"
        )
    return pa.schema(list(input_schema) + columns.fields())


@dataclass
class _PreparedChunk:
    batch: pa.RecordBatch
    valid: np.ndarray
    ids: list[list[int]]
    truncated: np.ndarray
    position: int


def label_batch(
    classifier: EmotionClassifier,
    batch: pa.RecordBatch,
    text_column: str,
    columns: OutputColumns,
    *,
    source: Path | str = "input",
    batch_tokens: int | None = None,
) -> pa.RecordBatch:
    """Append prediction columns to one record batch (used by the Ray engine too)."""
    chunk = _prepare(classifier, batch, text_column, Path(source), position=0)
    out, _, _, _ = _predict_chunk(classifier, chunk, columns, batch_tokens)
    return out


def _prepare(
    classifier: EmotionClassifier,
    batch: pa.RecordBatch,
    text_column: str,
    source: Path,
    position: int,
) -> _PreparedChunk:
    texts = text_values(batch, text_column, source)
    valid = np.fromiter(
        (isinstance(t, str) and bool(t.strip()) for t in texts), dtype=bool, count=len(texts)
    )
    encoded = classifier.encode([t for t, ok in zip(texts, valid, strict=True) if ok])  # type: ignore[misc]
    return _PreparedChunk(batch, valid, encoded.ids, encoded.truncated, position)


def _predict_chunk(
    classifier: EmotionClassifier,
    chunk: _PreparedChunk,
    columns: OutputColumns,
    batch_tokens: int | None,
) -> tuple[pa.RecordBatch, list[str | None], np.ndarray, np.ndarray]:
    n = chunk.batch.num_rows
    proba = classifier.predict_proba_encoded(chunk.ids, batch_tokens=batch_tokens)
    scores = np.zeros((n, len(classifier.labels)), dtype=np.float32)
    scores[chunk.valid] = proba
    best = scores.argmax(axis=1)
    confidence = scores[np.arange(n), best]
    truncated = np.zeros(n, dtype=bool)
    truncated[chunk.valid] = chunk.truncated
    labels: list[str | None] = [
        classifier.labels[b] if ok else None for b, ok in zip(best, chunk.valid, strict=True)
    ]
    mask = ~chunk.valid
    arrays = [
        pa.array(labels, pa.string()),
        pa.array(confidence, pa.float32(), mask=mask),
        *[pa.array(scores[:, j], pa.float32(), mask=mask) for j in range(scores.shape[1])],
        pa.array(truncated, pa.bool_(), mask=mask),
    ]
    out = chunk.batch
    for f, array in zip(columns.fields(), arrays, strict=True):
        out = out.append_column(f, array)
    return out, labels, confidence, truncated[chunk.valid]


def _prefetch(
    reader: CorpusReader,
    classifier: EmotionClassifier,
    chunk_rows: int,
    stop: threading.Event,
    skip: int = 0,
    depth: int = 2,
) -> Iterator[_PreparedChunk | None]:
    """Read and tokenize ahead in a thread; errors re-raise in the consumer, in order.

    The first `skip` chunks (already finished by an interrupted run) are read but not
    tokenized, and come out as None.
    """
    slots: queue.Queue[Any] = queue.Queue(maxsize=depth)
    done = object()

    def produce() -> None:
        try:
            for index, batch in enumerate(rechunk(iter(reader), chunk_rows)):
                if stop.is_set():
                    return
                chunk = None
                if index >= skip:
                    chunk = _prepare(classifier, batch, reader.text_column, reader.path, 0)
                    chunk.position = reader.position()
                while not stop.is_set():
                    try:
                        slots.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except BaseException as exc:  # handed to the consumer, which re-raises it
            slots.put(exc)
            return
        slots.put(done)

    worker = threading.Thread(target=produce, name="emolabel-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def check_output_path(input_path: Path, output_path: Path, overwrite: bool) -> None:
    """Refuse to clobber the input, an existing output, or write into a missing/locked dir."""
    if output_path.exists() and input_path.exists() and output_path.samefile(input_path):
        raise EmolabelError(f"-o {output_path} is the input file: choose another output path")
    if output_path.is_dir():
        raise EmolabelError(f"-o {output_path} is a folder: give a file name like out.parquet")
    if output_path.exists() and not overwrite:
        raise EmolabelError(f"{output_path} exists: pass --overwrite or choose another -o")
    parent = output_path.parent
    if not parent.exists():
        raise EmolabelError(f"cannot write {output_path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise EmolabelError(f"cannot write {output_path}: folder {parent} is not writable")


def temporary_path(output_path: Path) -> Path:
    return output_path.with_name(f".{output_path.name}.emolabel-{os.getpid()}.tmp")


def annotate(
    inputs: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    model: str | os.PathLike[str] | EmotionClassifier | None = None,
    options: AnnotateOptions | None = None,
    events: Events | None = None,
    **option_overrides: Any,
) -> AnnotationSummary:
    """Label every row of `inputs` and write it, with prediction columns, to `output`.

    `options` (default AnnotateOptions()) with `option_overrides` applied, by field name,
    say how. Finished chunks are kept as part files beside the output until the whole
    output is assembled, so an interrupted run continues with `resume=True`. Returns the
    summary figures. Raises EmolabelError for anything the user can fix; the output path
    itself is only ever written complete. With int8 weights the summary also says how often
    the top label matches fp32 on the first AGREEMENT_SAMPLE_ROWS texts labelled.
    """
    opts = (options or AnnotateOptions()).with_overrides(**option_overrides)
    progress = events if events is not None else Events()
    input_path, output_path = inputs, output
    text_column, input_format, output_format_name = (
        opts.text_column,
        opts.input_format,
        opts.output_format,
    )
    prefix, device, precision = opts.prefix, opts.device, opts.precision
    max_length, head_tokens, batch_tokens = opts.max_length, opts.head_tokens, opts.batch_tokens
    compile, chunk_rows = opts.compile, opts.chunk_rows
    overwrite, resume = opts.overwrite, opts.resume
    encoding_errors, on_error, rejects_path = opts.encoding_errors, opts.on_error, opts.rejects
    started = time.perf_counter()
    source = Path(input_path)
    target = Path(output_path)
    out_fmt, out_gz = output_format(target, output_format_name)
    check_output_path(source, target, overwrite)
    reader = open_corpus(
        source,
        format=input_format,
        text_column=text_column,
        batch_rows=chunk_rows,
        encoding_errors=encoding_errors,
        on_error=on_error,
    )
    classifier = (
        model
        if isinstance(model, EmotionClassifier)
        else EmotionClassifier.load(
            model,
            device=device,
            precision=precision,
            max_length=max_length,
            head_tokens=head_tokens,
            compile=compile,
        )
    )
    columns = OutputColumns.for_labels(classifier.labels, prefix)
    schema = output_schema(reader.schema, columns, str(source))
    budget = batch_tokens or classifier.default_batch_tokens()
    manifest = {
        "input": file_fingerprint(source),
        "model": model_fingerprint(classifier.source),
        "options": {
            "text_column": reader.text_column,
            "format": reader.format,
            "prefix": prefix,
            "device": classifier.device.split(":")[0],
            "precision": classifier.precision,
            "max_length": classifier.max_length,
            "head_tokens": classifier.head_tokens,
            "batch_tokens": budget,
            "chunk_rows": chunk_rows,
            "encoding_errors": encoding_errors,
            "on_error": on_error,
        },
    }
    store = ChunkStore(parts_dir_for(target))
    skip = check_resumable(store, manifest, resume) if resume or not overwrite else 0
    if skip == 0:
        try:
            store.start(manifest)
        except OSError as exc:
            raise EmolabelError(f"cannot write {target}: {exc.strerror or exc}") from None
    total, unit = (
        (reader.total_rows, "rows")
        if reader.total_rows is not None
        else (reader.total_bytes, "bytes")
    )
    progress.start(total, unit)
    stop = threading.Event()
    index = 0
    agreement: tuple[float, int] | None = None
    try:
        for index, chunk in enumerate(_prefetch(reader, classifier, chunk_rows, stop, skip)):
            if chunk is None:
                continue
            if agreement is None and classifier.precision == "int8" and chunk.ids:
                sample = chunk.ids[:AGREEMENT_SAMPLE_ROWS]
                agreement = (classifier.fp32_agreement_encoded(sample), len(sample))
            out, _, _, _ = _predict_chunk(classifier, chunk, columns, budget)
            if out.schema != schema:
                out = out.cast(schema)
            try:
                store.write(index, out)
            except OSError as exc:
                raise EmolabelError(
                    f"cannot write a chunk to {store.directory}: {exc.strerror or exc}; "
                    f"{index} finished chunk(s) are kept: free space or fix permissions, "
                    "then rerun with --resume"
                ) from None
            progress.advance(out.num_rows, chunk.position)
            release_free_memory()
    except KeyboardInterrupt:
        stop.set()
        raise Interrupted(
            f"interrupted: {store.finished()} finished chunk(s) of {chunk_rows} rows are kept "
            f"in {store.directory}; rerun the same command with --resume to continue"
        ) from None
    finally:
        stop.set()
        progress.stop()
    summary = AnnotationSummary(
        input=str(source),
        output=str(target),
        model=classifier.name,
        device=classifier.device,
        precision=classifier.precision,
        labels=list(classifier.labels),
        rejected=len(reader.rejected),
        resumed_chunks=skip,
    )
    if agreement is not None:
        summary.fp32_agreement, summary.agreement_rows = agreement
    _assemble(store, target, out_fmt, out_gz, schema, columns, summary)
    if rejects_path is not None:
        write_rejects(Path(rejects_path), reader.rejected)
    store.remove()
    summary.finish(time.perf_counter() - started)
    return summary


def _assemble(
    store: ChunkStore,
    target: Path,
    fmt: str,
    gzipped: bool,
    schema: pa.Schema,
    columns: OutputColumns,
    summary: AnnotationSummary,
) -> None:
    """Stream the part files into the output format, counting the summary on the way."""
    tmp = temporary_path(target)
    try:
        with CorpusWriter(tmp, fmt, schema, gzipped=gzipped) as writer:
            for batch in store.read():
                writer.write(batch)
                labels = batch.column(columns.emotion).to_pylist()
                confidence = batch.column(columns.confidence).to_numpy(zero_copy_only=False)
                truncated = (
                    batch.column(columns.truncated).fill_null(False).to_numpy(zero_copy_only=False)
                )
                summary.add(labels, confidence, truncated)
        os.replace(tmp, target)
    except OSError as exc:
        raise EmolabelError(
            f"cannot write {target}: {exc.strerror or exc}; the finished chunks are kept in "
            f"{store.directory}: free space or fix permissions, then rerun with --resume"
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_rejects(path: Path, rejected: list[RowError]) -> None:
    """Malformed rows that --on-error skip set aside, as JSONL: line, reason, raw text."""
    try:
        with open(path, "w", encoding="utf-8") as f:
            for row in rejected:
                f.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
    except OSError as exc:
        raise EmolabelError(f"cannot write --rejects {path}: {exc.strerror or exc}") from None
