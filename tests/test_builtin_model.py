"""The built-in models as emolabel ships them: fp16 weights on disk, fp32/bf16 compute,
loadable by plain transformers, and right answers on sentences nobody could argue about."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from click.testing import CliRunner
from safetensors import safe_open
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

from emolabel.cli import main
from emolabel.inference import EmotionClassifier, builtin_model_dir, cpu_supports_bf16

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"
EKMAN = ["anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"]
GOEMOTIONS = (
    "admiration amusement anger annoyance approval caring confusion curiosity desire "
    "disappointment disapproval disgust embarrassment excitement fear gratitude grief joy love "
    "nervousness optimism pride realization relief remorse sadness surprise neutral"
).split()

# Written for these tests, not taken from any dataset: one clear emotion each, in the
# registers the models are for (tweets, comments, messages), with and without punctuation.
EKMAN_SENTENCES = {
    "anger": [
        "I am furious that they lied to me again, I hate them for it",
        "this is outrageous, how dare you treat your staff like that",
    ],
    "disgust": [
        "that is disgusting, I nearly threw up when I saw it",
        "gross. there was a dead rat rotting in the kitchen",
    ],
    "fear": [
        "I'm terrified walking home alone in the dark",
        "i am so scared and nervous about the surgery tomorrow",
    ],
    "joy": [
        "I'm so happy, I passed all my exams today!",
        "i finally got the job offer and i cannot stop smiling",
    ],
    "sadness": [
        "I feel so lonely and sad since my grandmother passed away",
        "i cried all night, i miss him so much",
    ],
    "surprise": [
        "Wow, I did not expect that at all!",
        "wait what?? i had no idea that was even possible",
    ],
    "neutral": [
        "the meeting is moved to 3pm",
        "The train leaves from platform 4.",
        "Please send me the report by Friday.",
    ],
}
GOEMOTIONS_SENTENCES = {
    "gratitude": ["Thank you so much for your help!", "thanks for sharing this"],
    "amusement": ["lol that is hilarious", "haha this made me laugh so hard"],
    "admiration": ["This is a beautiful piece of work, truly impressive"],
    "curiosity": ["I wonder how they built this, does anyone know?"],
    "love": ["I love you so much"],
    "sadness": ["I feel so sad and lonely tonight"],
    "anger": ["I am so angry right now, this is infuriating"],
    "fear": ["I'm terrified of what might happen next"],
    "neutral": ["the meeting is moved to 3pm", "The train leaves from platform 4."],
}


def test_fp16_stored_weights_load_as_fp32(tmp_path: Path, tiny_model_dir: Path) -> None:
    half = tmp_path / "half"
    AutoModelForSequenceClassification.from_pretrained(tiny_model_dir).half().save_pretrained(half)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(half)
    stored = EmotionClassifier.load(half, precision="fp32")
    assert next(stored.model.parameters()).dtype == torch.float32
    full = EmotionClassifier.load(tiny_model_dir, precision="fp32")
    texts = ["i am so happy today", "this is awful and i hate it"]
    a, _ = stored.predict_proba(texts)
    b, _ = full.predict_proba(texts)
    np.testing.assert_allclose(a, b, atol=2e-3)


@pytest.fixture(scope="module")
def ekman() -> EmotionClassifier:
    """The default: what EmotionClassifier.load() gives with no model named."""
    return EmotionClassifier.load(device="cpu", precision="fp32")


@pytest.fixture(scope="module")
def goemotions() -> EmotionClassifier:
    return EmotionClassifier.load("goemotions", device="cpu", precision="fp32")


@pytest.mark.parametrize(("name", "labels"), [("ekman", EKMAN), ("goemotions", GOEMOTIONS)])
def test_builtin_model_folder(name: str, labels: list[str]) -> None:
    folder = builtin_model_dir(name)
    with safe_open(str(folder / "model.safetensors"), framework="pt") as f:
        assert {f.get_slice(k).get_dtype() for k in f.keys()} == {"F16"}  # noqa: SIM118
    info = json.loads((folder / "emolabel.json").read_text(encoding="utf-8"))
    assert info["multi_label"] is True and info["labels"] == labels
    assert sorted(info["thresholds"]) == sorted(labels)  # tuned per label on validation
    assert all(0 < t < 1 for t in info["thresholds"].values())
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "emolabel train" in card and "scripts/build_builtin_models.sh" in card
    # A plain transformers loader (e.g. pipeline on a CPU) gets fp32 too, not slow fp16.
    plain = AutoModelForSequenceClassification.from_pretrained(folder)
    assert next(plain.parameters()).dtype == torch.float32
    assert [plain.config.id2label[i] for i in range(len(labels))] == labels


def test_the_default_is_ekman(ekman: EmotionClassifier) -> None:
    assert ekman.labels == EKMAN and ekman.multi_label
    assert next(ekman.model.parameters()).dtype == torch.float32


def _wrong(classifier: EmotionClassifier, sentences: dict[str, list[str]]) -> list[tuple]:
    texts = [text for texts in sentences.values() for text in texts]
    expected = [label for label, texts in sentences.items() for _ in texts]
    got = [p.label for p in classifier.predict(texts)]
    return [(t, e, g) for t, e, g in zip(texts, expected, got, strict=True) if e != g]


def test_ekman_labels_unambiguous_sentences(ekman: EmotionClassifier) -> None:
    assert not _wrong(ekman, EKMAN_SENTENCES)


def test_goemotions_labels_unambiguous_sentences(goemotions: EmotionClassifier) -> None:
    assert not _wrong(goemotions, GOEMOTIONS_SENTENCES)


def test_a_text_with_two_emotions_gets_both(goemotions: EmotionClassifier) -> None:
    (prediction,) = goemotions.predict(["Thank you so much, I love it!"])
    assert {"gratitude", "love"} <= set(prediction.emotions), prediction


def test_pipeline_agrees_with_emolabel(goemotions: EmotionClassifier) -> None:
    folder = builtin_model_dir("goemotions")
    classify = pipeline("text-classification", model=str(folder), device="cpu")
    texts = [t for texts in GOEMOTIONS_SENTENCES.values() for t in texts]
    ours = [p.label for p in goemotions.predict(texts)]
    theirs = [r["label"] for r in classify(texts)]
    assert theirs == ours


def test_builtin_models_in_bf16_agree_with_fp32(ekman: EmotionClassifier) -> None:
    if not cpu_supports_bf16():
        pytest.skip("this CPU has no native bf16")
    texts = [text for texts in EKMAN_SENTENCES.values() for text in texts]
    bf16 = EmotionClassifier.load(device="cpu", precision="bf16")
    assert [p.label for p in bf16.predict(texts)] == [p.label for p in ekman.predict(texts)]


def test_annotate_sample_data_with_no_model_option(tmp_path: Path) -> None:
    """The README's first command: the built-in default, no other step."""
    out = tmp_path / "out.parquet"
    result = CliRunner().invoke(
        main, ["annotate", str(SAMPLE_DATA / "tweets.csv"), "-o", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    source = pq.read_table(SAMPLE_DATA / "tweets.parquet")
    assert table.num_rows == source.num_rows
    assert table.column_names[:4] == ["id", "user", "text", "likes"]
    assert {f"score_{label}" for label in EKMAN} <= set(table.column_names)
    first = table.slice(0, 2).to_pylist()
    assert first[0]["emotion"] == "joy"  # "i finally got the job offer and i cannot stop smiling"
    assert first[1]["emotion"] == "sadness"  # "my dog passed away this morning ..."
    assert first[0]["emotions"] == ["joy"]


def test_classify_with_model_goemotions() -> None:
    lines = "Thank you so much for your help!\nthe meeting is moved to 3pm\n"
    result = CliRunner().invoke(main, ["classify", "--model", "goemotions"], input=lines)
    assert result.exit_code == 0, result.output
    labels = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert labels == ["gratitude", "neutral"]


def test_a_builtin_name_wins_over_a_data_folder_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "goemotions").mkdir()  # e.g. the GoEmotions data, no model in it
    (tmp_path / "goemotions" / "train.tsv").write_text("hi\t27\tx\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["classify", "--model", "goemotions"], input="hi\n")
    assert result.exit_code == 0, result.output


def test_the_retired_default_says_what_to_use() -> None:
    result = CliRunner().invoke(main, ["classify", "--model", "emotion-minilm"], input="hi\n")
    assert result.exit_code == 2
    assert "--model ekman" in result.output and "build_emotion_minilm.sh" in result.output


def test_models_command_lists_the_builtin_models() -> None:
    result = CliRunner().invoke(main, ["models", "--json"])
    assert result.exit_code == 0, result.output
    listed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [m["name"] for m in listed] == ["ekman", "goemotions"]
    assert [m["default"] for m in listed] == [True, False]
    assert listed[0]["labels"] == EKMAN and listed[1]["labels"] == GOEMOTIONS
    for model in listed:
        assert model["multi_label"] and 40e6 < model["size_bytes"] < 60e6  # fp16, not fp32
        assert model["macro_f1"] > 0.4 and model["summary"]
    assert set(listed[0]["sources"]) == {
        "google-research-datasets/go_emotions",
        "cardiffnlp/tweet_eval (emotion)",
        "dair-ai/emotion",
    }
    table = CliRunner().invoke(main, ["models"], terminal_width=200)
    assert "ekman (default)" in table.output and "goemotions" in table.output
