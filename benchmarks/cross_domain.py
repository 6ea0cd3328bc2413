"""Every built-in model on every validation split, in one label space: Ekman's six + neutral.

A model trained on one kind of text can look excellent there and be misleading elsewhere;
this prints each model on each source side by side. Labels on both sides go through the
built-in `ekman` map (GoEmotions' official Ekman groups + neutral; dair-ai's love and
TweetEval's optimism count as joy): the data's when it is read, the model's when its
scores are rolled up (a group's score is the max of its members' for a multi-label model,
the sum for a single-label one; a group is predicted when any member is, as annotate's
`emotions` column).

Figures, per model and split:
- accuracy: the top label (annotate's `emotion`: for a multi-label model the highest score
  among the labels at or above their thresholds), on rows with one gold label the model
  can name (GoEmotions: comments whose Ekman groups are one emotion, neutral-only comments
  excluded)
- Ekman macro-F1 (GoEmotions): multi-label, 7 groups, at the model's stored thresholds
  (tuned on this same validation split by `emolabel train`, so slightly optimistic)
- neutral -> neutral (GoEmotions): share of neutral-only comments whose top label is
  neutral; a model without neutral scores 0 and its most common answer is shown
- GoEmotions-28 macro-F1: a 28-label model in its own labels, at its stored thresholds

    python benchmarks/cross_domain.py                         # built-in models
    python benchmarks/cross_domain.py --model runs/emotion-minilm   # add a folder
    python benchmarks/cross_domain.py --json benchmarks/cross_domain.json

The old default (dair-ai's 6 labels, emolabel 0.2) is rebuilt by
scripts/build_emotion_minilm.sh into runs/emotion-minilm, which is added when present.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emolabel.evaluation.evaluate import (  # noqa: E402
    model_decision_rule,
    model_decisions,
    predict_scores,
)
from emolabel.evaluation.label_maps import LabelGroups, group_labels  # noqa: E402
from emolabel.inference import BUILTIN_MODELS_DIR, EmotionClassifier  # noqa: E402
from emolabel.metrics import multilabel_metrics  # noqa: E402
from emolabel.training.data import load_labelled_split  # noqa: E402
from emolabel.training.labels import read_label_map  # noqa: E402

SPLITS = {  # name -> folder under --data-root
    "goemotions": "goemotions",
    "tweeteval": "tweeteval_emotion",
    "dair-ai": "emotion",
}
OLD_DEFAULT = ROOT / "runs" / "emotion-minilm"
NEUTRAL = "neutral"


@dataclass
class Split:
    name: str
    texts: list[str]
    ekman: list[list[str]]  # gold labels in Ekman groups, a list a row
    native: list[list[str]]  # gold labels as the data names them (GoEmotions: 28)


def load_splits(root: Path) -> list[Split]:
    """Each validation split read once; its labels mapped to Ekman groups in memory."""
    to_group = read_label_map("ekman")
    out = []
    for name, folder in SPLITS.items():
        native = load_labelled_split(root / folder, split="validation")
        rows: list[list[str]] = [r if isinstance(r, list) else [r] for r in native.labels]
        ekman = [list(dict.fromkeys(to_group.get(x, x) for x in row)) for row in rows]
        out.append(Split(name, native.texts, ekman, rows))
    return out


def score_model(classifier: EmotionClassifier, splits: list[Split]) -> dict[str, Any]:
    groups = group_labels(classifier.labels, "ekman")
    multi, thresholds = model_decision_rule(classifier)
    row: dict[str, Any] = {"labels": list(classifier.labels), "multi_label": multi}
    for split in splits:
        started = time.perf_counter()
        proba = predict_scores(classifier, split.texts)
        seconds = time.perf_counter() - started
        decided = model_decisions(proba, multi, thresholds)
        rolled = groups.roll_up_scores(proba, sigmoid=multi)
        top = top_groups(classifier, groups, proba, rolled)
        figures = split_figures(split, groups, rolled, groups.roll_up_decisions(decided), top)
        if split.name == "goemotions" and len(classifier.labels) == 28:
            figures["goemotions28_macro_f1"] = native_macro_f1(
                split, classifier.labels, proba, thresholds, decided
            )
        figures["texts_per_s"] = round(len(split.texts) / seconds, 1)
        row[split.name] = figures
    return row


def top_groups(
    classifier: EmotionClassifier, groups: LabelGroups, proba: np.ndarray, rolled: np.ndarray
) -> np.ndarray:
    """The group of annotate's top label (a multi-label model's: the highest-scoring label
    at or above its threshold); a single-label model's most probable group (its members'
    summed probability)."""
    if not classifier.multi_label:
        return rolled.argmax(axis=1)
    return groups.member[classifier.top_indices(proba)].argmax(axis=1)


def split_figures(
    split: Split,
    groups: LabelGroups,
    rolled: np.ndarray,
    decided: np.ndarray,
    top_ids: np.ndarray,
) -> dict[str, Any]:
    names = groups.names
    top = [names[i] for i in top_ids]
    single = [
        i
        for i, gold in enumerate(split.ekman)
        if len(gold) == 1 and gold[0] != NEUTRAL and gold[0] in names
    ]
    out: dict[str, Any] = {
        "accuracy": _share(top[i] == split.ekman[i][0] for i in single),
        "accuracy_rows": len(single),
    }
    if split.name != "goemotions":
        return out
    neutral_rows = [i for i, gold in enumerate(split.ekman) if gold == [NEUTRAL]]
    answers = Counter(top[i] for i in neutral_rows)
    out["neutral_rows"] = len(neutral_rows)
    out["neutral_to_neutral"] = answers.get(NEUTRAL, 0) / len(neutral_rows)
    out["neutral_answers"] = dict(answers.most_common(3))
    if all(g in names for gold in split.ekman for g in gold):
        y = np.array([[name in gold for name in names] for gold in split.ekman])
        nan = np.full(len(names), np.nan)
        metrics = multilabel_metrics(y, rolled, nan, names, predicted=decided)
        out["ekman_macro_f1"] = metrics["macro_f1"]
        out["ekman_per_label_f1"] = {k: v["f1"] for k, v in metrics["per_label"].items()}
    return out


def native_macro_f1(
    split: Split,
    labels: list[str],
    proba: np.ndarray,
    thresholds: np.ndarray,
    decided: np.ndarray,
) -> float:
    y = np.array([[name in row for name in labels] for row in split.native])
    metrics = multilabel_metrics(y, proba, thresholds, labels, predicted=decided)
    return float(metrics["macro_f1"])


def _share(hits: Any) -> float:
    values = list(hits)
    return sum(values) / len(values) if values else float("nan")


def print_table(results: dict[str, dict[str, Any]]) -> None:
    head = (
        "| model | labels | GoEmotions Ekman macro-F1 | GoEmotions accuracy | "
        "neutral -> neutral | TweetEval accuracy | dair-ai accuracy | GoEmotions-28 macro-F1 |"
    )
    print(head)
    print("| --- " * 8 + "|")
    for name, row in results.items():
        go, tw, da = row["goemotions"], row["tweeteval"], row["dair-ai"]
        neutral = f"{go['neutral_to_neutral']:.3f}"
        if go["neutral_to_neutral"] == 0:
            neutral += " (" + ", ".join(f"{k} {v}" for k, v in go["neutral_answers"].items()) + ")"
        print(
            f"| {name} | {len(row['labels'])} | {_fmt(go.get('ekman_macro_f1'))} | "
            f"{_fmt(go['accuracy'])} | {neutral} | {_fmt(tw['accuracy'])} | "
            f"{_fmt(da['accuracy'])} | {_fmt(go.get('goemotions28_macro_f1'))} |"
        )
    print()
    for name, row in results.items():
        per_label = row["goemotions"].get("ekman_per_label_f1")
        if per_label:
            print(
                f"{name}, GoEmotions Ekman F1 per label: "
                + ", ".join(f"{k} {v:.3f}" for k, v in per_label.items())
            )


def _fmt(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.3f}"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--model", action="append", default=[], help="a model folder to add")
    p.add_argument("--precision", default="auto", help="as annotate's --precision")
    p.add_argument("--json", type=Path, help="write every figure here too")
    args = p.parse_args(argv)
    builtin = sorted(BUILTIN_MODELS_DIR.glob("*/config.json"))
    models = {config.parent.name: str(config.parent) for config in builtin}
    extra = [*args.model, *([str(OLD_DEFAULT)] if OLD_DEFAULT.is_dir() else [])]
    models.update({Path(m).name: m for m in dict.fromkeys(extra)})
    splits = load_splits(args.data_root)
    print(", ".join(f"{s.name} validation: {len(s.texts):,} texts" for s in splits))
    results = {}
    for name, source in models.items():
        classifier = EmotionClassifier.load(source, device="cpu", precision=args.precision)
        shown = Path(source).resolve()
        shown_source = str(shown.relative_to(ROOT)) if shown.is_relative_to(ROOT) else source
        results[name] = {"source": shown_source, **score_model(classifier, splits)}
        print(f"scored {name} ({classifier.precision})", file=sys.stderr)
    print()
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
