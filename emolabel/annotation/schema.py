"""The columns annotate appends to every row, their names for a label set, and the output
schema (input columns unchanged, then these); shared by the local and Ray engines."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from emolabel.errors import EmolabelError


@dataclass
class OutputColumns:
    """Names of the columns annotate appends, in order, for one label set and prefix."""

    emotion: str
    confidence: str
    emotions: str
    scores: list[str]
    truncated: str

    @classmethod
    def for_labels(cls, labels: list[str], prefix: str = "") -> OutputColumns:
        return cls(
            emotion=f"{prefix}emotion",
            confidence=f"{prefix}confidence",
            emotions=f"{prefix}emotions",
            scores=[f"{prefix}score_{label}" for label in labels],
            truncated=f"{prefix}truncated",
        )

    def names(self) -> list[str]:
        return [self.emotion, self.confidence, self.emotions, *self.scores, self.truncated]

    def fields(self) -> list[pa.Field]:
        return [
            pa.field(self.emotion, pa.string()),
            pa.field(self.confidence, pa.float32()),
            pa.field(self.emotions, pa.list_(pa.string())),
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
