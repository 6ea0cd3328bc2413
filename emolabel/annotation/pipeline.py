"""The annotate job: reader -> classifier -> writer, in bounded memory, order kept.

A background thread reads, parses and tokenizes the next chunk while the model runs on the
current one. With file inputs and a file output every labelled chunk is kept as a part file
(resumable) and the output is assembled from them at the end; from stdin or to stdout the
chunks stream straight to the writer. A file output is only ever renamed into place whole.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from emolabel.annotation.checkpoints import (
    ChunkStore,
    check_resumable,
    file_fingerprint,
    model_fingerprint,
    parts_dir_for,
)
from emolabel.annotation.labelling import (
    PreparedChunk,
    label_batch,
    load_classifier,
    predict_chunk,
    prepare_chunk,
)
from emolabel.annotation.options import DEFAULT_CHUNK_ROWS, AnnotateOptions
from emolabel.annotation.outputs import (
    STDIO,
    OutputTarget,
    check_output_path,
    output_target,
    refuse_input_as_output,
    temporary_path,
)
from emolabel.annotation.run_lock import RunLock
from emolabel.annotation.schema import OutputColumns, output_schema
from emolabel.annotation.summary import AnnotationSummary
from emolabel.errors import EmolabelError, Interrupted
from emolabel.events import Events
from emolabel.inference import AGREEMENT_SAMPLE_ROWS, EmotionClassifier
from emolabel.inference.allocator import release_free_memory
from emolabel.io import CorpusReader, CorpusWriter, RowError, open_corpus, rechunk

Inputs = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
ModelArg = str | os.PathLike[str] | EmotionClassifier | None

__all__ = [  # the names other packages import from here
    "DEFAULT_CHUNK_ROWS",
    "AnnotationSummary",
    "OutputColumns",
    "annotate",
    "check_output_path",
    "label_batch",
    "output_schema",
    "temporary_path",
    "write_rejects",
]


@dataclass
class _Run:
    """Everything one run needs once its input is open and its model loaded."""

    reader: CorpusReader
    classifier: EmotionClassifier
    columns: OutputColumns
    schema: pa.Schema
    batch_tokens: int
    options: AnnotateOptions
    inputs: list[str]
    target: OutputTarget
    agreement: tuple[float, int] | None = None

    def new_summary(self, resumed_chunks: int = 0, resumed_rows: int = 0) -> AnnotationSummary:
        import torch

        summary = AnnotationSummary(
            input=", ".join(self.inputs),
            output=str(self.target),
            model=self.classifier.name,
            device=self.classifier.device,
            precision=self.classifier.precision,
            labels=list(self.classifier.labels),
            multi_label=bool(self.classifier.multi_label),
            inputs=list(self.inputs),
            rejected=len(self.reader.rejected),
            resumed_chunks=resumed_chunks,
            resumed_rows=resumed_rows,
            threads=torch.get_num_threads() if self.classifier.device == "cpu" else None,
        )
        if self.agreement is not None:
            summary.fp32_agreement, summary.agreement_rows = self.agreement
        return summary


def annotate(
    inputs: Inputs,
    output: str | os.PathLike[str],
    *,
    model: ModelArg = None,
    options: AnnotateOptions | None = None,
    events: Events | None = None,
    **option_overrides: Any,
) -> AnnotationSummary:
    """Label every row of `inputs` and write it, with prediction columns, to `output`.

    `inputs`: a file, several files, a folder or glob, or "-" for stdin; `output`: a file, or
    "-" for stdout. `options` (default AnnotateOptions()) with `option_overrides` applied, by
    field name, say how. From files to a file, finished chunks are kept beside the output
    until it is complete, so an interrupted run continues with `resume=True`. Raises
    EmolabelError for anything the user can fix; a file output is only ever written whole.
    With int8 weights the summary also says how often the top label matches fp32 on the
    first AGREEMENT_SAMPLE_ROWS texts labelled.
    """
    started = time.perf_counter()
    opts = (options or AnnotateOptions()).with_overrides(**option_overrides)
    events = events if events is not None else Events()
    from_stdin = _is_stdin(inputs)
    if opts.resume and (from_stdin or str(output) == STDIO):
        why = "stdin cannot be read again" if from_stdin else "stdout keeps nothing to resume"
        raise EmolabelError(f"--resume needs file input and output: {why}; drop --resume")
    target = output_target(output, opts.output_format, opts.overwrite)
    # The lock comes first: a second run on a live output is refused before it opens any
    # input (no reader threads left running while the process exits).
    lock = run_lock_for(target.path) if target.path is not None else contextlib.nullcontext()
    with lock:
        reader = open_inputs(inputs, opts)
        try:
            refuse_input_as_output(reader.files, target)
            if from_stdin or target.path is None:
                summary = _annotate_streamed(reader, target, model, opts, events)
            else:
                summary = _annotate_durably(reader, target, target.path, model, opts, events)
        finally:
            reader.close()
    summary.finish(time.perf_counter() - started)
    return summary


def run_lock_for(path: Path) -> RunLock:
    """The lock every run writing `path` holds (in its parts folder, released by the kernel)."""
    return RunLock(parts_dir_for(path), path)


def open_inputs(inputs: Inputs, opts: AnnotateOptions) -> CorpusReader:
    """Open the input(s) through io; several files, a folder or a glob get a source column."""
    items = _as_list(inputs)
    extra: dict[str, Any] = {}
    if opts.delimiter is not None:
        extra["delimiter"] = opts.delimiter
    single = items[0] if len(items) == 1 and _is_one_file(items[0]) else None
    if single is None:
        extra["source_column"] = opts.source_column
    return open_corpus(
        single if single is not None else [str(p) for p in items],
        format=opts.input_format,
        text_column=opts.text_column,
        batch_rows=opts.chunk_rows,
        encoding_errors=opts.encoding_errors,
        on_error=opts.on_error,
        **extra,
    )


def _as_list(inputs: Inputs) -> list[str | os.PathLike[str]]:
    return [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)


def _is_one_file(item: str | os.PathLike[str]) -> bool:
    """A plain file or "-": read as before, with no source column (a folder or glob gets one)."""
    if str(item) == STDIO:
        return True
    path = Path(item)
    return path.is_file() or not (path.is_dir() or any(ch in str(item) for ch in "*?["))


def _is_stdin(inputs: Inputs) -> bool:
    return any(str(item) == STDIO for item in _as_list(inputs))


def _load_run(
    reader: CorpusReader, target: OutputTarget, model: ModelArg, opts: AnnotateOptions
) -> _Run:
    """Load the model (or reuse a loaded one) and fix the output schema."""
    classifier = load_classifier(model, opts)
    columns = OutputColumns.for_labels(classifier.labels, opts.prefix)
    schema = output_schema(reader.schema, columns, ", ".join(reader.files))
    budget = opts.batch_tokens or classifier.default_batch_tokens()
    return _Run(reader, classifier, columns, schema, budget, opts, list(reader.files), target)


def _manifest(run: _Run) -> dict[str, Any]:
    """What a resume must match: every input file, the model, every option that changes rows."""
    opts, clf = run.options, run.classifier
    return {
        "input": [file_fingerprint(Path(name)) for name in run.reader.files],
        "model": model_fingerprint(clf.source),
        "options": {
            "text_column": run.reader.text_column,
            "format": run.reader.format,
            "prefix": opts.prefix,
            "device": clf.device.split(":")[0],
            "precision": clf.precision,
            "max_length": clf.max_length,
            "head_tokens": clf.head_tokens,
            "batch_tokens": run.batch_tokens,
            "chunk_rows": opts.chunk_rows,
            "encoding_errors": opts.encoding_errors,
            "on_error": opts.on_error,
            "delimiter": opts.delimiter,
            "source_column": opts.source_column,
            "thresholds": [round(float(t), 6) for t in clf.thresholds],
        },
    }


def _annotate_durably(
    reader: CorpusReader,
    target: OutputTarget,
    path: Path,
    model: ModelArg,
    opts: AnnotateOptions,
    events: Events,
) -> AnnotationSummary:
    """Files to a file: chunks kept as parts under a run lock, then assembled."""
    store = ChunkStore(parts_dir_for(path))
    labelling = False
    try:
        run = _load_run(reader, target, model, opts)
        manifest = _manifest(run)
        skip = (
            check_resumable(store, manifest, opts.resume)
            if opts.resume or not opts.overwrite
            else 0
        )
        if skip == 0:
            _start_store(store, manifest, path)
        labelling = True
        for index, out in _labelled_chunks(run, skip, events):
            _write_part(store, index, out)
        summary = run.new_summary(skip, store.rows(skip))
        _assemble(store, target, path, run, summary)
        if opts.rejects is not None:
            write_rejects(Path(opts.rejects), reader.rejected)
    except BaseException as exc:
        raise _after_failure(exc, store, labelling) from None
    store.remove()
    return summary


def _start_store(store: ChunkStore, manifest: dict[str, Any], path: Path) -> None:
    try:
        store.start(manifest)
    except OSError as exc:
        raise EmolabelError(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_part(store: ChunkStore, index: int, out: pa.RecordBatch) -> None:
    try:
        store.write(index, out)
    except OSError as exc:
        raise EmolabelError(
            f"cannot write a chunk to {store.directory}: {exc.strerror or exc}"
        ) from None


def _after_failure(exc: BaseException, store: ChunkStore, labelling: bool) -> BaseException:
    """Leave nothing behind when no chunk is finished; otherwise keep them and say so."""
    done = store.finished() if store.directory.exists() else 0
    if done == 0:
        store.remove()
    if isinstance(exc, KeyboardInterrupt | Interrupted):
        if done == 0:
            return Interrupted("interrupted before the first chunk was finished; nothing was kept")
        return Interrupted(
            f"interrupted: {done} finished chunk(s) are kept in {store.directory}; "
            "rerun the same command with --resume to continue"
        )
    if isinstance(exc, EmolabelError) and labelling and done:
        return EmolabelError(
            f"{exc}; {done} finished chunk(s) are kept in {store.directory}: fix the cause and "
            "rerun the same command with --resume, or pass --overwrite to start over"
        )
    return exc


def _annotate_streamed(
    reader: CorpusReader,
    target: OutputTarget,
    model: ModelArg,
    opts: AnnotateOptions,
    events: Events,
) -> AnnotationSummary:
    """From stdin or to stdout: each chunk goes straight to the writer (nothing to resume)."""
    path = target.path
    run = _load_run(reader, target, model, opts)
    summary = run.new_summary()
    tmp = temporary_path(path) if path is not None else None
    try:
        with CorpusWriter(
            tmp if tmp is not None else STDIO,
            target.format,
            run.schema,
            gzipped=target.gzipped,
        ) as writer:
            for _, out in _labelled_chunks(run, 0, events):
                writer.write(out)
                summary.count(out, run.columns)
        if tmp is not None and path is not None:
            os.replace(tmp, path)
    except KeyboardInterrupt:
        raise Interrupted(
            "interrupted: nothing is kept (a run from stdin or to stdout cannot be resumed)"
        ) from None
    except OSError as exc:
        raise EmolabelError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    if opts.rejects is not None:
        write_rejects(Path(opts.rejects), reader.rejected)
    summary.rejected = len(reader.rejected)
    return summary


def _labelled_chunks(run: _Run, skip: int, events: Events) -> Iterator[tuple[int, pa.RecordBatch]]:
    """(index, labelled batch) for every chunk after the first `skip`, with progress events."""
    reader, clf = run.reader, run.classifier
    total, unit = (
        (reader.total_rows, "rows")
        if reader.total_rows is not None
        else (reader.total_bytes, "bytes")
    )
    events.start(total, unit)
    stop = threading.Event()
    try:
        for index, chunk in enumerate(_prefetch(reader, clf, run.options.chunk_rows, stop, skip)):
            if chunk is None:
                continue
            if run.agreement is None and clf.precision == "int8" and chunk.ids:
                sample = chunk.ids[:AGREEMENT_SAMPLE_ROWS]
                run.agreement = (clf.fp32_agreement_encoded(sample), len(sample))
            out = predict_chunk(clf, chunk, run.columns, run.batch_tokens)
            if out.schema != run.schema:
                out = out.cast(run.schema)
            yield index, out
            events.advance(out.num_rows, chunk.position)
            release_free_memory()
    finally:
        stop.set()
        events.stop()


def _prefetch(
    reader: CorpusReader,
    classifier: EmotionClassifier,
    chunk_rows: int,
    stop: threading.Event,
    skip: int = 0,
    depth: int = 2,
) -> Iterator[PreparedChunk | None]:
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
                    chunk = prepare_chunk(classifier, batch, reader.text_column, reader.path)
                    chunk.position = reader.position()
                while not stop.is_set():
                    try:
                        slots.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except (OSError, pa.ArrowException, UnicodeDecodeError) as exc:  # unnamed by io
            slots.put(_unreadable(reader, exc))
            return
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


def _unreadable(reader: CorpusReader, exc: BaseException) -> EmolabelError:
    """A parser failure deep in a file (e.g. a corrupt parquet page) as one line."""
    name = reader.files[0] if len(reader.files) == 1 else "one of the inputs"
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return EmolabelError(
        f"{name}: cannot read it ({detail}); the file is damaged or truncated: export it again"
    )


def _assemble(
    store: ChunkStore, target: OutputTarget, path: Path, run: _Run, summary: AnnotationSummary
) -> None:
    """Stream the part files into the output format, counting the summary on the way."""
    tmp = temporary_path(path)
    try:
        with CorpusWriter(tmp, target.format, run.schema, gzipped=target.gzipped) as writer:
            for batch in store.read():
                writer.write(batch)
                summary.count(batch, run.columns)
        os.replace(tmp, path)
    except OSError as exc:
        raise EmolabelError(f"cannot write {path}: {exc.strerror or exc}") from None
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
