"""annotate_frame: polars, pandas and pyarrow in, the same type out, with the same columns and
values as a file run of annotate; a loaded classifier is reused."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from emolabel.annotation.frames import annotate_frame
from emolabel.annotation.pipeline import annotate
from emolabel.errors import EmolabelError
from emolabel.inference import EmotionClassifier
from tests.conftest import EMOTIONS

TEXTS = ["i am so happy", "", "this is terrible and i am angry", None, "i love it", "   "]
ADDED = ["emotion", "confidence", "emotions", *[f"score_{e}" for e in EMOTIONS], "truncated"]


@pytest.fixture(scope="module")
def classifier(tiny_model_dir: Path) -> EmotionClassifier:
    return EmotionClassifier.load(tiny_model_dir, precision="fp32")


@pytest.fixture(scope="module")
def file_run(tmp_path_factory: pytest.TempPathFactory, classifier: EmotionClassifier) -> pa.Table:
    """The reference: annotate on the same rows written to parquet."""
    folder = tmp_path_factory.mktemp("frame-ref")
    src = folder / "in.parquet"
    pq.write_table(pa.table({"id": list(range(len(TEXTS))), "text": TEXTS}), src)
    annotate(src, folder / "out.parquet", model=classifier)
    return pq.read_table(folder / "out.parquet")


def test_polars_in_polars_out(classifier: EmotionClassifier, file_run: pa.Table) -> None:
    df = pl.DataFrame({"id": list(range(len(TEXTS))), "text": TEXTS})
    out = annotate_frame(df, model=classifier)
    assert isinstance(out, pl.DataFrame)
    assert out.columns == ["id", "text", *ADDED]
    assert out.to_arrow().to_pylist() == file_run.to_pylist()
    assert df.columns == ["id", "text"]  # the input is left as it was


def test_pandas_in_pandas_out_keeps_index_and_nulls(
    classifier: EmotionClassifier, file_run: pa.Table
) -> None:
    df = pd.DataFrame({"id": range(len(TEXTS)), "body": TEXTS}, index=[10, 11, 12, 13, 14, 15])
    out = annotate_frame(df, model=classifier)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["id", "body", *ADDED]
    assert list(out.index) == [10, 11, 12, 13, 14, 15]
    assert out["emotion"].tolist()[0] == file_run.column("emotion")[0].as_py()
    assert out["emotion"].isna().tolist() == [False, True, False, True, False, True]
    assert out["truncated"].isna().tolist() == out["emotion"].isna().tolist()
    expected = file_run.column("score_joy").to_pylist()
    got = [None if pd.isna(v) else float(v) for v in out["score_joy"]]
    assert got == expected


def test_pyarrow_in_pyarrow_out(classifier: EmotionClassifier, file_run: pa.Table) -> None:
    table = pa.table({"id": list(range(len(TEXTS))), "text": TEXTS})
    out = annotate_frame(table, "text", model=classifier)
    assert isinstance(out, pa.Table)
    assert out.to_pylist() == file_run.to_pylist()
    assert out.schema.field("emotions").type == pa.list_(pa.string())
    # In small chunks: other batches, so padding differs (last-bit noise), same labels.
    chunked = annotate_frame(table, "text", model=classifier, chunk_rows=2)
    assert chunked.column("emotion").to_pylist() == file_run.column("emotion").to_pylist()
    joy = [v for v in chunked.column("score_joy").to_pylist() if v is not None]
    ref = [v for v in file_run.column("score_joy").to_pylist() if v is not None]
    assert joy == pytest.approx(ref, abs=1e-5)


def test_clashing_column_and_unknown_option_are_refused(classifier: EmotionClassifier) -> None:
    df = pl.DataFrame({"text": ["hi"], "emotion": ["x"]})
    with pytest.raises(EmolabelError, match="prefix"):
        annotate_frame(df, model=classifier)
    assert annotate_frame(df, model=classifier, prefix="emo_").columns[2] == "emo_emotion"
    with pytest.raises(TypeError, match="chunk_size"):
        annotate_frame(df, model=classifier, chunk_size=3)
