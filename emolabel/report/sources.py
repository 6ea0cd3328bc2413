"""Opening an annotate output lazily: file or Ray folder, its annotate columns, its summary.

Every format becomes one polars LazyFrame with the same normalised columns (confidence a
float, truncated a bool, emotions a list of strings or absent), so the aggregations never
ask which format they read and never load the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from emolabel.errors import EmolabelError
from emolabel.io import LIST_SEPARATOR, TEXT_COLUMN_NAMES, detect_format

T = TypeVar("T")
# Names a summary JSON is looked for under, beside the output ({name} = output file name,
# {stem} = it without its extensions); annotate's --summary-json path is the user's choice.
SUMMARY_NAMES = ("{name}.summary.json", "{stem}.summary.json", "{stem}-summary.json")
FOLDER_SUMMARY_NAMES = ("summary.json", "_summary.json")


@dataclass
class LabelledSource:
    """One annotate output, scanned: the lazy rows and which columns annotate added."""

    path: Path
    format: str
    frame: pl.LazyFrame
    emotion: str
    confidence: str | None
    emotions: str | None
    truncated: str | None
    labels: list[str]
    prefix: str = ""
    columns: list[str] = field(default_factory=list)

    def added_columns(self) -> set[str]:
        """The columns annotate appended (everything else came from the input)."""
        added = {self.emotion, self.confidence, self.emotions, self.truncated}
        added |= {c for c in self.columns if c.startswith(f"{self.prefix}score_")}
        return {c for c in added if c}


def scan_labelled(
    path: str | Path, *, prefix: str = "", spool_dir: Path | None = None
) -> LabelledSource:
    """The annotate output at `path` (parquet/CSV/TSV/JSONL file, or a folder of parquet).

    With `spool_dir`, a CSV/TSV/JSONL file is first copied there as parquet in one
    streaming pass: the report's queries then read it column by column instead of parsing
    the text file once per query (1M-row CSV: 69 s -> about 20 s).
    """
    path = Path(path)
    if not path.exists():
        raise EmolabelError(f"{path}: no such file or folder")
    frame, fmt = _scan(path)
    schema = read_errors_named(path, fmt, frame.collect_schema)
    names = schema.names()
    emotion = f"{prefix}emotion"
    if emotion not in names:
        hint = "" if prefix else "; if it was written with --prefix, pass the same --prefix"
        raise EmolabelError(
            f"{path}: not an annotate output (no {emotion!r} column; columns are: "
            f"{', '.join(names) or '(none)'}){hint}"
        )
    confidence = _present(f"{prefix}confidence", names)
    emotions = _present(f"{prefix}emotions", names)
    truncated = _present(f"{prefix}truncated", names)
    score_prefix = f"{prefix}score_"
    labels = [n[len(score_prefix) :] for n in names if n.startswith(score_prefix)]
    if spool_dir is not None and fmt != "parquet":
        spooled = spool_dir / f"{path.name}.parquet"
        read_errors_named(path, fmt, lambda: frame.sink_parquet(spooled, compression="lz4"))
        frame = pl.scan_parquet(spooled)
    frame = frame.with_columns(_normalised(schema, confidence, emotions, truncated))
    return LabelledSource(
        path=path,
        format=fmt,
        frame=frame,
        emotion=emotion,
        confidence=confidence,
        emotions=emotions,
        truncated=truncated,
        labels=labels,
        prefix=prefix,
        columns=names,
    )


def read_errors_named(path: Path, fmt: str, read: Callable[[], T]) -> T:
    """Run `read`, turning polars' and the OS's read errors into one line naming the file."""
    try:
        return read()
    except (pl.exceptions.ComputeError, pl.exceptions.SchemaError, OSError) as exc:
        raise EmolabelError(
            f"{path}: cannot read it as {fmt} ({_first_line(exc)}); is it a complete file "
            "that annotate wrote?"
        ) from exc


def _present(name: str, names: list[str]) -> str | None:
    return name if name in names else None


def _scan(path: Path) -> tuple[pl.LazyFrame, str]:
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*.parquet")
            if not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
        )
        if not files:
            raise EmolabelError(
                f"{path}: the folder holds no .parquet files; pass an annotate output file "
                "or a Ray output folder"
            )
        return pl.scan_parquet(files), "parquet"
    fmt, _gzipped = detect_format(path)
    try:
        if fmt == "parquet":
            return pl.scan_parquet(path), fmt
        if fmt in ("csv", "tsv"):
            # Every column as text: inference from the first rows can guess wrong further on.
            separator = "\t" if fmt == "tsv" else ","
            return pl.scan_csv(path, separator=separator, infer_schema=False), fmt
        if fmt == "jsonl":
            return pl.scan_ndjson(path, infer_schema_length=10_000), fmt
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise EmolabelError(f"{path}: cannot read it as {fmt}: {_first_line(exc)}") from exc
    raise EmolabelError(
        f"{path}: a {fmt} file is not an annotate output; pass .parquet, .csv, "
        ".tsv or .jsonl (or a Ray output folder)"
    )


def _normalised(
    schema: pl.Schema, confidence: str | None, emotions: str | None, truncated: str | None
) -> list[pl.Expr]:
    """CSV/TSV hold every column as text: make them the types parquet and JSONL carry."""
    exprs: list[pl.Expr] = []
    # A float column stays as it is: a cast would stop polars pushing filters on it down
    # into the parquet reader, which then decodes every text instead of the chosen ones.
    if confidence is not None and not schema[confidence].is_float():
        exprs.append(pl.col(confidence).cast(pl.Float64, strict=False))
    if truncated is not None and schema[truncated] != pl.Boolean:
        exprs.append(
            pl.col(truncated)
            .cast(pl.String)
            .str.to_lowercase()
            .is_in(["true", "1"])
            .alias(truncated)
        )
    if emotions is not None and schema[emotions] == pl.String:
        exprs.append(
            pl.when(pl.col(emotions).str.len_chars() > 0)
            .then(pl.col(emotions).str.split(LIST_SEPARATOR))
            .alias(emotions)
        )
    elif emotions is not None and not isinstance(schema[emotions], pl.List):
        exprs.append(pl.col(emotions).cast(pl.List(pl.String), strict=False))
    return exprs


def choose_report_text_column(source: LabelledSource, requested: str | None) -> str | None:
    """--text-column, else a well-known text name, else the only other string column."""
    names = source.columns
    if requested is not None:
        if requested not in names:
            raise EmolabelError(
                f"{source.path}: no column named {requested!r} for --text-column; columns "
                f"are: {', '.join(names)}"
            )
        return requested
    lowered = {name.lower(): name for name in names}
    known = [lowered[n] for n in TEXT_COLUMN_NAMES if n in lowered]
    if known:
        return known[0]
    schema = source.frame.collect_schema()
    added = source.added_columns() | {"source"}
    strings = [n for n in names if n not in added and schema[n] == pl.String]
    return strings[0] if len(strings) == 1 else None


def read_summary(
    labelled: Path, explicit: Path | None
) -> tuple[dict[str, Any] | None, Path | None]:
    """annotate's --summary-json for this output: the given path, else one found beside it."""
    if explicit is not None:
        return _load_summary(explicit), explicit
    for candidate in _summary_candidates(labelled):
        if candidate.is_file():
            try:
                summary = _load_summary(candidate)
            except EmolabelError:
                continue
            if Path(str(summary.get("output", ""))).name in ("", labelled.name):
                return summary, candidate
    return None, None


def _summary_candidates(labelled: Path) -> list[Path]:
    name = labelled.name
    stem = name.split(".")[0] if not labelled.is_dir() else name
    found = [labelled.parent / p.format(name=name, stem=stem) for p in SUMMARY_NAMES]
    if labelled.is_dir():
        found += [labelled / p for p in FOLDER_SUMMARY_NAMES]
    return found


def _load_summary(path: Path) -> dict[str, Any]:
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EmolabelError(f"{path}: no such summary file (--summary)") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EmolabelError(
            f"{path}: not a summary JSON ({_first_line(exc)}); pass the file annotate's "
            "--summary-json wrote"
        ) from exc
    if not isinstance(summary, dict) or "model" not in summary:
        raise EmolabelError(
            f"{path}: not an annotate summary (no 'model' key); pass the file annotate's "
            "--summary-json wrote"
        )
    return summary


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
