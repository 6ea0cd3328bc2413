"""What averaging buys before anything is trained: ensembles and weight soups of ekman runs.

For each combination of the given model folders (all with the ekman labels) this prints
the cross_domain figures of

- the ensemble: the mean of the models' validation probabilities, and
- with --soups, the soup: one model whose weights are the mean of the models' (same
  architecture and initialisation, e.g. students from the same base), scored as a model,

with per-label thresholds re-tuned on the union of the validation splits, as `emolabel
train` tunes them. An ensemble is an upper bound for a student distilled from it; a soup
is one MiniLM-sized model that could ship. Validation splits only; selection on them is
as optimistic as `train`'s own threshold tuning.

    python benchmarks/ensembles.py --model runs/teacher-mpnet --model runs/ekman-cw ...
    python benchmarks/ensembles.py --soups --model runs/ekman-student-2ep --model runs/...
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cross_domain

from emolabel.evaluation.evaluate import decide_labels
from emolabel.evaluation.label_maps import group_labels
from emolabel.inference import EmotionClassifier
from emolabel.inference.emotions import emotion_indices
from emolabel.training.thresholds import tune_thresholds

LABELS = ["anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"]
GROUPS = group_labels(LABELS, "ekman")


def scores(folder: str, splits: list[cross_domain.Split]) -> dict[str, np.ndarray]:
    classifier = EmotionClassifier.load(folder, device="cpu", precision="auto")
    if list(classifier.labels) != LABELS:
        raise SystemExit(f"{folder}: labels {classifier.labels}, not the ekman seven in order")
    return {s.name: cross_domain.predict_scores(classifier, s.texts) for s in splits}


def figures(proba: dict[str, np.ndarray], splits: list[cross_domain.Split]) -> dict[str, float]:
    """cross_domain's figures at thresholds tuned on the union of the validation splits."""
    truth = {s.name: np.array([[x in g for x in LABELS] for g in s.ekman]) for s in splits}
    cut = tune_thresholds(
        np.concatenate([truth[s.name] for s in splits]),
        np.concatenate([proba[s.name] for s in splits]),
    )
    out: dict[str, float] = {}
    for s in splits:
        p = proba[s.name]
        offsets, ids = emotion_indices(p, cut, multi_label=True)
        top = GROUPS.member[ids[offsets[:-1]]].argmax(axis=1)
        rolled = GROUPS.roll_up_scores(p, sigmoid=True)
        decided = GROUPS.roll_up_decisions(decide_labels(p, cut))
        split = cross_domain.split_figures(s, GROUPS, rolled, decided, top)
        out[s.name] = split["accuracy"]
        if s.name == "goemotions":
            out["neutral"] = split["neutral_to_neutral"]
            out["f1"] = split["ekman_macro_f1"]
    return out


def soup(folders: tuple[str, ...], out: Path) -> str:
    """A copy of the first folder with the mean of all the folders' weights."""
    import shutil

    from safetensors.torch import load_file, save_file

    shutil.copytree(folders[0], out, ignore=shutil.ignore_patterns("checkpoints"))
    states = [load_file(str(Path(f) / "model.safetensors")) for f in folders]
    for folder, state in zip(folders[1:], states[1:], strict=True):
        if state.keys() != states[0].keys():
            raise SystemExit(f"{folder}: other weights than {folders[0]}; soups need one model")
    mean = {k: sum(s[k].float() for s in states) / len(states) for k in states[0]}
    weights = {k: v.to(states[0][k].dtype) for k, v in mean.items()}
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    return str(out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", type=Path, default=cross_domain.ROOT.parent / "shared" / "data")
    p.add_argument("--model", action="append", required=True, help="an ekman model folder")
    p.add_argument("--soups", action="store_true", help="also score weight averages")
    p.add_argument("--top", type=int, default=15, help="rows to print per kind")
    args = p.parse_args(argv)
    splits = cross_domain.load_splits(args.data_root)
    single = {m: scores(m, splits) for m in args.model}
    rows: list[tuple[str, tuple[str, ...], dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(1, len(args.model) + 1):
            for combo in itertools.combinations(args.model, r):
                mean = {s.name: np.mean([single[m][s.name] for m in combo], 0) for s in splits}
                rows.append(("model" if r == 1 else "ensemble", combo, figures(mean, splits)))
                if args.soups and r > 1:
                    folder = soup(combo, Path(tmp) / f"soup{len(rows)}")
                    rows.append(("soup", combo, figures(scores(folder, splits), splits)))
    print("| kind | models | Ekman macro-F1 | GoEmotions acc. | neutral | TweetEval | dair-ai |")
    print("| --- " * 7 + "|")
    for kind in ("model", "ensemble", "soup"):
        ranked = sorted((r for r in rows if r[0] == kind), key=lambda r: -r[2]["f1"])
        for _, combo, f in ranked[: args.top]:
            print(
                f"| {kind} | {' + '.join(Path(m).name for m in combo)} | {f['f1']:.3f} | "
                f"{f['goemotions']:.3f} | {f['neutral']:.3f} | {f['tweeteval']:.3f} | "
                f"{f['dair-ai']:.3f} |"
            )


if __name__ == "__main__":
    main()
