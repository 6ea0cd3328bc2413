"""Multi-label evaluation: the figures against scikit-learn on a hand-made example, the
decision rule annotate uses, label-map roll-ups, and `evaluate` on a multi-label model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    hamming_loss,
    precision_recall_fscore_support,
    roc_auc_score,
)

from emolabel.cli import main
from emolabel.errors import EmolabelError
from emolabel.evaluation.evaluate import decide_labels, evaluate
from emolabel.evaluation.label_maps import group_labels
from emolabel.inference.classifier import EmotionClassifier
from emolabel.metrics import multilabel_metrics
from tests.conftest import EMOTIONS, build_tiny_model

LABELS = ["joy", "anger", "fear", "rare"]
# 6 rows x 4 labels; `rare` never occurs (no AUC/AP for it); row 5 gets no label predicted.
Y = np.array(
    [
        [1, 0, 0, 0],
        [1, 1, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
        [1, 0, 1, 0],
        [0, 1, 1, 0],
    ],
    dtype=bool,
)
SCORES = np.array(
    [
        [0.9, 0.2, 0.1, 0.05],
        [0.6, 0.3, 0.2, 0.10],
        [0.7, 0.8, 0.1, 0.00],
        [0.1, 0.1, 0.4, 0.70],
        [0.8, 0.1, 0.2, 0.20],
        [0.2, 0.3, 0.25, 0.10],
    ]
)
THRESHOLDS = np.array([0.5, 0.35, 0.3, 0.6])


def test_multilabel_figures_match_sklearn() -> None:
    m = multilabel_metrics(Y, SCORES, THRESHOLDS, LABELS)
    pred = SCORES >= THRESHOLDS
    assert not pred[5].any()  # the hand-made case has a row with no label predicted
    for average in ("micro", "macro", "weighted", "samples"):
        p, r, f, _ = precision_recall_fscore_support(Y, pred, average=average, zero_division=0)
        assert m[f"{average}_precision"] == pytest.approx(p)
        assert m[f"{average}_recall"] == pytest.approx(r)
        assert m[f"{average}_f1"] == pytest.approx(f)
    p, r, f, s = precision_recall_fscore_support(Y, pred, average=None, zero_division=0)
    for i, label in enumerate(LABELS):
        row = m["per_label"][label]
        assert (row["precision"], row["recall"], row["f1"]) == pytest.approx((p[i], r[i], f[i]))
        assert row["support"] == s[i] and row["threshold"] == pytest.approx(THRESHOLDS[i])
    # by hand: joy is predicted on rows 0, 1, 2, 4 and true on 0, 1, 4 -> P 3/4, R 1, F1 6/7
    assert m["per_label"]["joy"]["f1"] == pytest.approx(6 / 7)
    assert m["subset_accuracy"] == pytest.approx(accuracy_score(Y, pred)) == pytest.approx(1 / 6)
    assert m["hamming_loss"] == pytest.approx(hamming_loss(Y, pred))
    usable = [0, 1, 2]  # `rare` has no positive row
    assert m["ranking_labels"] == 3
    assert m["roc_auc_macro"] == pytest.approx(
        np.mean([roc_auc_score(Y[:, i], SCORES[:, i]) for i in usable])
    )
    assert m["average_precision_macro"] == pytest.approx(
        np.mean([average_precision_score(Y[:, i], SCORES[:, i]) for i in usable])
    )
    assert m["roc_auc_micro"] == pytest.approx(roc_auc_score(Y.ravel(), SCORES.ravel()))
    assert m["average_precision_micro"] == pytest.approx(
        average_precision_score(Y.ravel(), SCORES.ravel())
    )
    json.dumps(m)  # plain JSON types


def test_given_decisions_and_bad_shapes() -> None:
    decided = decide_labels(SCORES, THRESHOLDS)
    assert decided[5].tolist() == [False, True, False, False]  # the top label (anger, 0.3)
    assert (decided[:5] == (SCORES >= THRESHOLDS)[:5]).all()
    m = multilabel_metrics(Y, SCORES, THRESHOLDS, LABELS, predicted=decided)
    *_, f, _ = precision_recall_fscore_support(Y, decided, average="samples", zero_division=0)
    assert m["samples_f1"] == pytest.approx(f) and m["mean_predicted_labels"] > 1
    with pytest.raises(ValueError, match="thresholds"):
        multilabel_metrics(Y, SCORES, THRESHOLDS[:3], LABELS)
    with pytest.raises(ValueError, match="no rows"):
        multilabel_metrics(Y[:0], SCORES[:0], THRESHOLDS, LABELS)


def test_label_groups_roll_up() -> None:
    groups = group_labels(LABELS, {"anger": "negative", "fear": "negative"})
    assert groups.names == ["negative", "joy", "rare"]  # the map's groups first
    rows = [groups.roll_up_scores(SCORES, sigmoid=s)[2].tolist() for s in (True, False)]
    assert rows[0] == pytest.approx([0.8, 0.7, 0.0])  # max of anger 0.8, fear 0.1
    assert rows[1] == pytest.approx([0.9, 0.7, 0.0])  # their sum
    decided = np.array([[False, False, True, False], [True, False, False, False]])
    rolled = groups.roll_up_decisions(decided).tolist()
    assert rolled == [[True, False, False], [False, True, False]]
    t = groups.roll_up_thresholds(THRESHOLDS)
    assert np.isnan(t[0]) and t[1] == 0.5 and t[2] == 0.6  # anger 0.35 vs fear 0.3: none
    assert groups.map_gold(["fear", "joy", "negative"]) == ["negative", "joy", "negative"]
    assert groups.map_gold([["fear", "anger"], ["joy"]]) == [["negative"], ["joy"]]
    with pytest.raises(EmolabelError, match="names none of the model's labels"):
        group_labels(LABELS, {"amusement": "joy"})


# ----------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def multilabel_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT saved as a multi-label model, with stored per-label thresholds."""
    folder = build_tiny_model(tmp_path_factory.mktemp("ml-model"), seed=3)
    config = json.loads((folder / "config.json").read_text())
    config["problem_type"] = "multi_label_classification"
    (folder / "config.json").write_text(json.dumps(config))
    thresholds = {"sadness": 0.1, "joy": 0.2, "love": 0.15, "anger": 0.9, "fear": 0.3}
    (folder / "emolabel.json").write_text(json.dumps({"thresholds": thresholds}))
    return folder


ROWS = [
    ("i am so happy today", "joy"),
    ("i miss you so much", "sadness"),
    ("how dare you", "anger"),
    ("i adore you", "love"),
    ("that is terrifying", "fear"),
    ("wow i did not expect that", "surprise"),
]


@pytest.fixture
def labelled_csv(tmp_path: Path) -> Path:
    path = tmp_path / "val.csv"
    pl.DataFrame({"text": [t for t, _ in ROWS], "label": [y for _, y in ROWS]}).write_csv(path)
    return path


def test_evaluate_a_multilabel_model(multilabel_model: Path, labelled_csv: Path) -> None:
    report = evaluate(multilabel_model, labelled_csv, device="cpu", precision="fp32")
    assert report.multi_label and report.labels == EMOTIONS
    assert report.y_true.dtype == bool and report.y_true.sum(axis=1).tolist() == [1] * 6
    stored = np.array([0.1, 0.2, 0.15, 0.9, 0.3, 0.5])  # surprise has none stored: 0.5
    m = report.metrics
    assert [m["per_label"][x]["threshold"] for x in EMOTIONS] == pytest.approx(stored)
    decided = decide_labels(report.proba, stored.astype(np.float32))
    assert report.predicted is not None and (report.predicted == decided).all()
    expected = multilabel_metrics(report.y_true, report.proba, stored, EMOTIONS, predicted=decided)
    assert m == expected
    as_dict = report.to_dict()
    assert as_dict["multi_label"] is True and "decision" in as_dict
    json.dumps(as_dict)

    one = evaluate(multilabel_model, labelled_csv, device="cpu", precision="fp32", threshold=0.0)
    assert one.predicted is not None and one.predicted.all()  # every label at threshold 0
    assert {r["threshold"] for r in one.metrics["per_label"].values()} == {0.0}


def test_evaluate_cli_multilabel_table_json_plots(
    multilabel_model: Path, labelled_csv: Path, tmp_path: Path
) -> None:
    args = ["evaluate", str(multilabel_model), "--data", str(labelled_csv), "--device", "cpu"]
    args += ["--json", str(tmp_path / "f.json"), "--plots", str(tmp_path / "plots")]
    result = CliRunner().invoke(main, [*args, "--threshold", "0.4"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for text in ("multi-label", "subset accuracy", "Hamming loss", "samples", "average precision"):
        assert text in result.output
    figures = json.loads((tmp_path / "f.json").read_text())
    assert figures["multi_label"] and figures["metrics"]["per_label"]["joy"]["threshold"] == 0.4
    for key in ("micro_f1", "macro_f1", "weighted_f1", "samples_f1", "roc_auc_macro"):
        assert key in figures["metrics"]
    for name in ("per_label_f1.png", "label_confusion.png"):
        assert (tmp_path / "plots" / name).read_bytes()[:4] == b"\x89PNG"
    bad = CliRunner().invoke(main, [*args, "--threshold", "1.5"])
    assert bad.exit_code == 2


def test_evaluate_with_a_label_map(tiny_model_dir: Path, tmp_path: Path) -> None:
    """A single-label model scored on coarser data: group probability = sum of members."""
    mapping = {"joy": "positive", "love": "positive", "sadness": "negative"}
    mapping |= {"anger": "negative", "fear": "negative"}
    coarse = ["positive", "negative", "negative", "positive", "negative", "surprise"]
    path = tmp_path / "coarse.csv"
    pl.DataFrame({"text": [t for t, _ in ROWS], "label": coarse}).write_csv(path)
    with pytest.raises(EmolabelError, match="--label-map"):
        evaluate(tiny_model_dir, path, device="cpu")  # the data's labels are not the model's
    report = evaluate(tiny_model_dir, path, device="cpu", precision="fp32", label_map=mapping)
    assert report.labels == ["positive", "negative", "surprise"] and not report.multi_label
    clf = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="fp32")
    fine, _ = clf.predict_proba([t for t, _ in ROWS])
    by_hand = np.stack([fine[:, [1, 2]].sum(1), fine[:, [0, 3, 4]].sum(1), fine[:, 5]], axis=1)
    np.testing.assert_allclose(report.proba, by_hand, rtol=1e-5)
    assert report.y_true.tolist() == [0, 1, 1, 0, 1, 2]
    assert report.to_dict()["label_map"]["model_labels"] == EMOTIONS


def test_multilabel_model_with_a_label_map(multilabel_model: Path, labelled_csv: Path) -> None:
    """Multi-label: a group's score is its members' max; it is given when any member is."""
    mapping = {"joy": "positive", "love": "positive"}
    report = evaluate(
        multilabel_model, labelled_csv, device="cpu", precision="fp32", label_map=mapping
    )
    assert report.labels == ["positive", "sadness", "anger", "fear", "surprise"]
    clf = EmotionClassifier.load(multilabel_model, device="cpu", precision="fp32")
    fine, _ = clf.predict_proba([t for t, _ in ROWS])
    np.testing.assert_allclose(report.proba[:, 0], fine[:, [1, 2]].max(axis=1), rtol=1e-6)
    stored = np.array([0.1, 0.2, 0.15, 0.9, 0.3, 0.5], dtype=np.float32)
    fine_decided = decide_labels(fine, stored)
    assert report.predicted is not None
    assert (report.predicted[:, 0] == fine_decided[:, [1, 2]].any(axis=1)).all()
    assert report.metrics["per_label"]["positive"]["threshold"] is None  # 0.2 vs 0.15
    assert report.y_true[:, 0].tolist() == [True, False, False, True, False, False]


def test_compare_with_a_multilabel_model(
    multilabel_model: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    """A multi-label model in a comparison: every model scored multi-label, and said so."""
    from tests.test_training import write_data

    data = write_data(tmp_path / "data")  # anger, joy, sadness: a subset of the models'
    args = ["compare", "--data", str(data), "-o", str(tmp_path / "cmp"), "--threads", "1"]
    args += ["--model", str(multilabel_model), "--model", str(tiny_model_dir)]
    args += ["--inference-precision", "fp32", "--long-texts", "1", "--speed-repeats", "1"]
    result = CliRunner().invoke(main, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "multi-label" in result.output and "accuracy = subset accuracy" in result.output
    report = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert report["multi_label"] is True
    first, second = report["models"]
    assert first["multi_label_model"] is True and second["multi_label_model"] is False
    for model in report["models"]:
        assert model["accuracy"] == model["metrics"]["subset_accuracy"]
        assert model["confusion_matrix"] is None
        assert set(model["per_class_f1"]) == set(EMOTIONS)
    thresholds = first["metrics"]["per_label"]
    assert thresholds["anger"]["threshold"] == 0.9  # the model's own thresholds
    assert report["recommendations"][0].startswith("best overall by macro_f1")
    markdown = (tmp_path / "cmp" / "comparison.md").read_text()
    assert "multi-label)" in markdown and "| subset accuracy |" in markdown
    assert not list((tmp_path / "cmp").glob("confusion_*.png"))


# ----------------------------------------------------------------------------- real layouts
GOEMOTIONS = (
    "admiration amusement anger annoyance approval caring confusion curiosity desire "
    "disappointment disapproval disgust embarrassment excitement fear gratitude grief joy "
    "love nervousness optimism pride realization relief remorse sadness surprise neutral"
).split()


def write_jsonl(path: Path, rows: list[tuple[str, list[str]]]) -> Path:
    path.write_text("".join(json.dumps({"text": t, "labels": y}) + "\n" for t, y in rows))
    return path


def test_multilabel_data_from_jsonl(
    multilabel_model: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    rows = [(text, [label]) for text, label in ROWS]
    rows[0] = (rows[0][0], ["joy", "surprise"])
    rows[3] = (rows[3][0], ["love", "joy", "fear"])
    path = write_jsonl(tmp_path / "ml.jsonl", rows)
    report = evaluate(multilabel_model, path, device="cpu", precision="fp32")
    assert report.multi_label and report.y_true.sum(axis=1).tolist() == [2, 1, 1, 3, 1, 1]
    assert report.y_true[0].tolist() == [False, True, False, False, False, True]
    # a single-label model on multi-label data: multi-label figures, one label per row
    single = evaluate(tiny_model_dir, path, device="cpu", precision="fp32")
    assert single.multi_label and single.metrics["mean_predicted_labels"] == 1.0
    assert single.metrics["mean_true_labels"] == pytest.approx(9 / 6)
    assert {r["threshold"] for r in single.metrics["per_label"].values()} == {None}


def test_cli_label_map_file_and_builtin_ekman(tmp_path: Path) -> None:
    """The 28-label GoEmotions taxonomy scored on Ekman groups, by file and by `ekman`."""
    model = build_tiny_model(tmp_path / "goemotions-tiny", labels=GOEMOTIONS, seed=5)
    config = json.loads((model / "config.json").read_text())
    config["problem_type"] = "multi_label_classification"
    (model / "config.json").write_text(json.dumps(config))
    rows = [
        ("thank you so much, this is wonderful", ["joy"]),
        ("this is disgusting and i am annoyed", ["disgust", "anger"]),
        ("i am scared of what comes next", ["fear"]),
        ("ok", ["neutral"]),
        ("wait what, i did not see that coming", ["surprise"]),
        ("i miss her every day", ["sadness"]),
    ]
    data = write_jsonl(tmp_path / "ekman.jsonl", rows)
    args = ["evaluate", str(model), "--data", str(data), "--device", "cpu", "--precision", "fp32"]
    result = CliRunner().invoke(
        main, [*args, "--label-map", "ekman", "--json", str(tmp_path / "e.json")]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads((tmp_path / "e.json").read_text())
    groups = ["anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"]
    assert figures["labels"] == groups  # the map's order, then neutral (not in the map)
    assert (
        figures["label_map"]["source"] == "ekman"
        and len(figures["label_map"]["model_labels"]) == 28
    )
    assert figures["metrics"]["per_label"]["anger"]["support"] == 1
    assert "scored as 7 groups" in result.output
    # the same map as a file in the official ekman_mapping.json format
    from emolabel.training.labels import EKMAN_GROUPS

    mapping = {group: list(members) for group, members in EKMAN_GROUPS.items()}
    (tmp_path / "ekman_mapping.json").write_text(json.dumps(mapping))
    by_file = CliRunner().invoke(
        main,
        [
            *args,
            "--label-map",
            str(tmp_path / "ekman_mapping.json"),
            "--json",
            str(tmp_path / "f.json"),
        ],
    )
    assert by_file.exit_code == 0, by_file.output
    again = json.loads((tmp_path / "f.json").read_text())
    assert again["metrics"] == figures["metrics"]
    # without the map the Ekman names are read as the model's own 28 labels
    plain = CliRunner().invoke(main, [*args, "--json", str(tmp_path / "p.json")])
    assert plain.exit_code == 0, plain.output
    assert len(json.loads((tmp_path / "p.json").read_text())["labels"]) == 28


def test_compare_on_multilabel_data(multilabel_model: Path, tmp_path: Path) -> None:
    """compare reads label lists as train does; each label counts once per row it is on."""
    folder = tmp_path / "ml-data"
    folder.mkdir()
    train_rows = [(f"{text} {i}", [label]) for i in range(3) for text, label in ROWS]
    write_jsonl(folder / "train.jsonl", train_rows)
    val_rows = [(text, [label]) for text, label in ROWS]
    val_rows[0] = (val_rows[0][0], ["joy", "surprise"])
    write_jsonl(folder / "val.jsonl", val_rows)
    args = ["compare", "--data", str(folder), "-o", str(tmp_path / "cmp"), "--threads", "1"]
    args += ["--model", str(multilabel_model), "--long-texts", "1", "--speed-repeats", "1"]
    result = CliRunner().invoke(main, [*args, "--inference-precision", "fp32"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert report["multi_label"] is True and report["rows"] == 6
    assert report["label_distribution"]["validation"]["surprise"] == 2
    assert report["label_distribution"]["validation"]["joy"] == 1
    metrics = report["models"][0]["metrics"]
    assert metrics["mean_true_labels"] == pytest.approx(7 / 6)
