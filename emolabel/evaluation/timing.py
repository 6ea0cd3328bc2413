"""Speed measurement for `compare`: texts/s of each model on short and on 512-token texts.

Timed with EmotionClassifier.predict_proba, the annotate engine (tokenize, truncate, batch,
forward), so the figures say what annotate will do with each model.
"""

from __future__ import annotations

import time

import numpy as np

from emolabel.inference.classifier import EmotionClassifier

LONG_TEXT_WORDS = 600  # > 512 WordPiece tokens for English, so every long text is cut to 512
SPEED_SAMPLE = 2000  # short texts timed (the evaluation split, up to this many)


def time_models(
    classifiers: dict[str, EmotionClassifier],
    texts: list[str],
    long: list[str],
    *,
    repeats: int,
) -> dict[str, dict[str, float]]:
    """texts/s of each model on short texts (the split's) and long (512-token) texts.

    The models take turns, round after round, and each keeps its fastest pass: on a shared
    machine that is the pass least disturbed by other work, and taking turns spreads any
    disturbance over all models instead of penalising the one that ran during it.
    """
    short = texts[:SPEED_SAMPLE]
    speeds = {name: {"short": 0.0, "long": 0.0} for name in classifiers}
    for classifier in classifiers.values():
        classifier.predict_proba(long[:2])  # warm-up at full length: allocator, thread pool
    for _ in range(repeats):
        for name, classifier in classifiers.items():
            for kind, batch in (("short", short), ("long", long)):
                started = time.perf_counter()
                classifier.predict_proba(batch)
                rate = len(batch) / (time.perf_counter() - started)
                speeds[name][kind] = max(speeds[name][kind], rate)
    return {name: {k: round(v, 1) for k, v in s.items()} for name, s in speeds.items()}


def long_sample(texts: list[str], n: int, *, seed: int) -> list[str]:
    """`n` texts of about LONG_TEXT_WORDS words, made by joining random texts of the split,
    so long-text speed is measured on the data's own vocabulary."""
    rng = np.random.default_rng(seed)
    out: list[str] = []
    for _ in range(n):
        words: list[str] = []
        while len(words) < LONG_TEXT_WORDS:
            words.extend(texts[int(rng.integers(len(texts)))].split())
        out.append(" ".join(words[:LONG_TEXT_WORDS]))
    return out


def torch_threads() -> int:
    """The intra-op thread count torch uses now."""
    import torch

    return torch.get_num_threads()


def set_torch_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)
