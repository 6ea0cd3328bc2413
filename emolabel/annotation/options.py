"""The options of one annotate job, with their defaults: the single record shared by the local
engine, the Ray engine and the CLI (click reads its defaults and choices from here)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any, get_args

from emolabel.errors import EmolabelError
from emolabel.inference.devices import DEFAULT_HEAD_TOKENS, Precision
from emolabel.io.formats import EncodingErrors, InputFormat, OnError, OutputFormat

DEFAULT_CHUNK_ROWS = 4096
DEFAULT_SOURCE_COLUMN = "source"


@dataclass(frozen=True)
class AnnotateOptions:
    """Every option of `annotate` that is not the input, the output or the model."""

    text_column: str | None = None
    input_format: InputFormat | None = None
    output_format: OutputFormat | None = None
    prefix: str = ""
    device: str = "auto"
    precision: Precision = "auto"
    max_length: int | None = None
    head_tokens: int = DEFAULT_HEAD_TOKENS
    batch_tokens: int | None = None
    compile: bool = False
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    threshold: float | None = None
    overwrite: bool = False
    resume: bool = False
    encoding_errors: EncodingErrors = "strict"
    on_error: OnError = "fail"
    rejects: str | os.PathLike[str] | None = None
    delimiter: str | None = None
    source_column: str = DEFAULT_SOURCE_COLUMN

    def with_overrides(self, **overrides: Any) -> AnnotateOptions:
        """A copy with `overrides` applied; an unknown name is a TypeError naming it."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(
                f"annotate() got unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        return dataclasses.replace(self, **overrides).checked()

    def checked(self) -> AnnotateOptions:
        """Refuse values no run could use, with the CLI's option names."""
        _check_choice("--format", self.input_format, InputFormat, optional=True)
        _check_choice("--output-format", self.output_format, OutputFormat, optional=True)
        _check_choice("--precision", self.precision, Precision)
        _check_choice("--encoding-errors", self.encoding_errors, EncodingErrors)
        _check_choice("--on-error", self.on_error, OnError)
        if self.chunk_rows <= 0:
            raise EmolabelError("--chunk-rows must be positive")
        if self.head_tokens < 0:
            raise EmolabelError("--head-tokens must be 0 or more")
        if self.batch_tokens is not None and self.batch_tokens <= 0:
            raise EmolabelError("--batch-tokens must be positive")
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise EmolabelError(f"--threshold {self.threshold} must be between 0 and 1")
        if not self.source_column:
            raise EmolabelError("--source-column must be a non-empty column name")
        return self


DEFAULTS = AnnotateOptions()


def choices(alias: Any) -> list[str]:
    """The values of a Literal alias, for click.Choice."""
    return list(get_args(alias))


def _check_choice(option: str, value: object, alias: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    allowed = get_args(alias)
    if value not in allowed:
        raise EmolabelError(f"{option} {value!r} is not one of {', '.join(allowed)}")
