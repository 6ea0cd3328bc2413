"""annotate for a DataFrame in memory: polars, pandas or a pyarrow Table in, the same type out
with annotate's columns added (same names, types and nulls as a file run), no disk."""

from __future__ import annotations

import os
from typing import Any, TypeVar

import pyarrow as pa

from emolabel.annotation.labelling import label_batch, load_classifier
from emolabel.annotation.options import AnnotateOptions
from emolabel.annotation.schema import OutputColumns, output_schema
from emolabel.inference import EmotionClassifier
from emolabel.io import choose_text_column
from emolabel.io.columns import string_column_names

Frame = TypeVar("Frame")
FRAME = "the frame"


def annotate_frame(
    df: Frame,
    text_column: str | None = None,
    model: str | os.PathLike[str] | EmotionClassifier | None = None,
    **options: Any,
) -> Frame:
    """Label every row of `df`; return a frame of the same type with the prediction columns.

    `text_column` follows annotate's rule when None; `model` may be a loaded
    EmotionClassifier (reused as it is) or anything EmotionClassifier.load takes; `options`
    are AnnotateOptions fields (prefix, batch_tokens, chunk_rows, threshold, device, ...).

    A datasets.Dataset: `ds.with_format("arrow").map(lambda t: annotate_frame(t, model=clf),
    batched=True, batch_size=4096)`.
    """
    opts = AnnotateOptions().with_overrides(text_column=text_column, **options)
    table = _to_arrow(df)
    column = choose_text_column(
        FRAME, table.schema, opts.text_column, string_column_names(table.schema)
    )
    classifier = load_classifier(model, opts)
    columns = OutputColumns.for_labels(classifier.labels, opts.prefix)
    schema = output_schema(table.schema, columns, FRAME)
    budget = opts.batch_tokens or classifier.default_batch_tokens()
    texts = table.select([column])
    added = []
    for offset in range(0, table.num_rows, opts.chunk_rows):
        piece = texts.slice(offset, opts.chunk_rows).combine_chunks().to_batches()
        batch = piece[0] if piece else pa.RecordBatch.from_pylist([], schema=texts.schema)
        out = label_batch(classifier, batch, column, columns, source=FRAME, batch_tokens=budget)
        added.append(out.drop_columns([column]))
    predictions = pa.Table.from_batches(added, schema=pa.schema(columns.fields()))
    return _with_columns(df, table, predictions, schema)


def _to_arrow(df: Any) -> pa.Table:
    if isinstance(df, pa.Table):
        return df
    module = type(df).__module__.split(".")[0]
    if module == "polars":
        return df.to_arrow()
    if module == "pandas":
        return pa.Table.from_pandas(df, preserve_index=False)
    raise TypeError(
        f"annotate_frame takes a polars DataFrame, a pandas DataFrame or a pyarrow Table, "
        f"not {type(df).__name__}"
    )


def _with_columns(df: Any, table: pa.Table, predictions: pa.Table, schema: pa.Schema) -> Any:
    """The input frame, untouched, with the prediction columns added in annotate's order."""
    if isinstance(df, pa.Table):
        out = table
        for f, array in zip(predictions.schema, predictions.columns, strict=True):
            out = out.append_column(f, array)
        return out.cast(schema) if out.schema != schema else out
    module = type(df).__module__.split(".")[0]
    if module == "polars":
        import polars as pl

        return df.hstack(pl.from_arrow(predictions).get_columns())  # type: ignore[union-attr]
    import pandas as pd

    added = predictions.to_pandas(types_mapper=_pandas_types)
    added.index = df.index
    return pd.concat([df, added], axis=1)


def _pandas_types(kind: pa.DataType) -> Any:
    """Nullable pandas dtypes, so empty texts stay missing (not NaN-coerced False/0)."""
    import pandas as pd

    if kind == pa.bool_():
        return pd.BooleanDtype()
    if kind == pa.float32():
        return pd.Float32Dtype()
    if kind == pa.string():
        return pd.StringDtype()
    return None
