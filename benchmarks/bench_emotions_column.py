"""Cost of annotate's emotions column per 4096-row chunk (single- and multi-label rule on
random scores with the built-in model's labels): python benchmarks/bench_emotions_column.py"""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa

from emolabel.annotation.labelling import emotions_column
from emolabel.inference import EmotionClassifier
from emolabel.inference.model_folders import builtin_model_dir

clf = EmotionClassifier.load(builtin_model_dir(), device="cpu", precision="fp32")
rng = np.random.default_rng(0)
n = 4096
for multi in (False, True):
    clf.multi_label = multi
    k = len(clf.labels)
    clf.thresholds = np.full(k, 0.3, dtype=np.float32)
    proba = rng.random((n, k), dtype=np.float32)
    valid = rng.random(n) > 0.05
    names = pa.array(clf.labels, pa.string())
    p = proba[valid]
    emotions_column(*clf.emotion_indices(p), valid, names)
    t = time.perf_counter()
    for _ in range(50):
        col = emotions_column(*clf.emotion_indices(p), valid, names)
    dt = (time.perf_counter() - t) / 50
    print(
        f"multi_label={multi}: {dt * 1e3:.2f} ms per {n}-row chunk ({dt / n * 1e6:.2f} us/row); "
        f"mean {np.mean([len(x) for x in col.to_pylist() if x]):.2f} labels/row"
    )
