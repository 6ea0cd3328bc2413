"""EmotionClassifier on the tiny model: probabilities, order, truncation, precision, errors."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from emolabel.errors import EmolabelError
from emolabel.inference import EmotionClassifier, cpu_bf16_is_fast
from tests.conftest import EMOTIONS

TEXTS = [
    "i feel so happy today",
    "i am terrified of what comes next and i cannot sleep",
    "ok",
    "i love you more than words can say, more than anything in this world",
    "this makes me furious",
    "what a surprise! " * 3,
    "i feel lonely and sad",
    "x",
]


@pytest.fixture(scope="module")
def clf(tiny_model_dir: Path) -> EmotionClassifier:
    return EmotionClassifier.load(tiny_model_dir, device="cpu", precision="fp32")


def test_labels_and_settings(clf: EmotionClassifier) -> None:
    assert clf.labels == EMOTIONS
    assert clf.device == "cpu"
    assert clf.precision == "fp32"
    assert clf.max_length == 512
    assert clf.head_tokens == 128


def test_probabilities_sum_to_one(clf: EmotionClassifier) -> None:
    proba, truncated = clf.predict_proba(TEXTS)
    assert proba.shape == (len(TEXTS), len(EMOTIONS))
    assert proba.dtype == np.float32
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert not truncated.any()


def test_order_matches_one_by_one(clf: EmotionClassifier) -> None:
    batched, _ = clf.predict_proba(TEXTS)
    single = np.concatenate([clf.predict_proba([t])[0] for t in TEXTS])
    np.testing.assert_allclose(batched, single, atol=1e-5)


@pytest.mark.parametrize("batch_tokens", [1, 16, 64, 100_000])
def test_batch_tokens_does_not_change_results(clf: EmotionClassifier, batch_tokens: int) -> None:
    reference, _ = clf.predict_proba(TEXTS)
    got, _ = clf.predict_proba(TEXTS, batch_tokens=batch_tokens)
    np.testing.assert_allclose(got, reference, atol=1e-5)


@pytest.mark.parametrize("batch_tokens", [16, 64])
def test_queued_batches_land_in_their_rows(
    tiny_model_dir: Path, clf: EmotionClassifier, batch_tokens: int
) -> None:
    """With overlap (the GPU default) a batch's scores are collected after the next one is
    queued; every row must still get its own scores."""
    overlapped = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="fp32")
    overlapped.overlap_batches = True
    reference, _ = clf.predict_proba(TEXTS, batch_tokens=batch_tokens)
    got, _ = overlapped.predict_proba(TEXTS, batch_tokens=batch_tokens)
    np.testing.assert_array_equal(got, reference)


def test_gpu_out_of_memory_halves_the_batch(
    tiny_model_dir: Path, clf: EmotionClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    halving = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="fp32")
    forward = halving._forward
    sizes: list[int] = []

    def small_batches_only(rows):  # type: ignore[no-untyped-def]
        sizes.append(len(rows))
        if len(rows) > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return forward(rows)

    monkeypatch.setattr(halving, "_forward", small_batches_only)
    reference, _ = clf.predict_proba(TEXTS, batch_tokens=100_000)
    got, _ = halving.predict_proba(TEXTS, batch_tokens=100_000)
    np.testing.assert_allclose(got, reference, atol=1e-5)
    assert sizes[0] == len(TEXTS) and max(sizes[1:]) < len(TEXTS)

    def never_fits(rows):  # type: ignore[no-untyped-def]
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

    monkeypatch.setattr(halving, "_forward", never_fits)
    with pytest.raises(EmolabelError, match="out of memory on a single text"):
        halving.predict_proba(TEXTS[:3])


def test_predictions(clf: EmotionClassifier) -> None:
    predictions = clf.predict(TEXTS[:2])
    proba, _ = clf.predict_proba(TEXTS[:2])
    for p, row in zip(predictions, proba, strict=True):
        assert p.label == EMOTIONS[int(row.argmax())]
        assert p.confidence == pytest.approx(float(row.max()))
        assert list(p.scores) == EMOTIONS
        assert p.truncated is False


def test_predict_refuses_empty_text(clf: EmotionClassifier) -> None:
    with pytest.raises(EmolabelError, match="text 1 is empty"):
        clf.predict(["fine", "   "])


def test_empty_input(clf: EmotionClassifier) -> None:
    proba, truncated = clf.predict_proba([])
    assert proba.shape == (0, len(EMOTIONS))
    assert truncated.shape == (0,)


def test_truncated_flags(tiny_model_dir: Path) -> None:
    clf = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="fp32", max_length=16)
    long_text = " ".join(f"word{i}" for i in range(200))
    encoded = clf.encode(["short one", long_text, "x " * 14, "x " * 15])
    assert encoded.truncated.tolist() == [False, True, False, True]
    assert all(len(ids) <= 16 for ids in encoded.ids)
    cls_id, sep_id = clf.encoder.prefix[0], clf.encoder.suffix[-1]
    assert encoded.ids[1][0] == cls_id and encoded.ids[1][-1] == sep_id
    proba, truncated = clf.predict_proba(["short one", long_text])
    assert truncated.tolist() == [False, True]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert clf.predict([long_text])[0].truncated is True


def test_head_tokens_are_kept(tiny_model_dir: Path) -> None:
    clf = EmotionClassifier.load(
        tiny_model_dir, device="cpu", precision="fp32", max_length=12, head_tokens=4
    )
    words = " ".join(["alpha", "beta", "gamma", "delta"] + ["filler"] * 50 + ["end", "stop"])
    full = clf.encoder.tokenize([words])[0]
    ids = clf.encode([words]).ids[0]
    content = ids[len(clf.encoder.prefix) : len(ids) - len(clf.encoder.suffix)]
    assert content[:4] == full[:4]
    assert content[4:] == full[-(clf.content_tokens - 4) :]


def test_bf16_agrees_with_fp32(tiny_model_dir: Path, clf: EmotionClassifier) -> None:
    bf16 = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="bf16")
    assert bf16.precision == "bf16"
    reference, _ = clf.predict_proba(TEXTS)
    got, _ = bf16.predict_proba(TEXTS)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(got, reference, atol=2e-2)


def test_int8_agrees_roughly_with_fp32(tiny_model_dir: Path, clf: EmotionClassifier) -> None:
    int8 = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="int8")
    assert int8.precision == "int8"
    reference, _ = clf.predict_proba(TEXTS)
    got, _ = int8.predict_proba(TEXTS)
    np.testing.assert_allclose(got, reference, atol=5e-2)


def test_auto_precision_on_cpu(tiny_model_dir: Path) -> None:
    auto = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="auto")
    assert auto.precision == ("bf16" if cpu_bf16_is_fast() else "fp32")


# ------------------------------------------------------------------- errors
def test_folder_without_id2label(tmp_path: Path, tiny_model_dir: Path) -> None:
    folder = tmp_path / "no-labels"
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    config.pop("id2label")
    config.pop("label2id", None)
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(EmolabelError, match="id2label"):
        EmotionClassifier.load(folder, device="cpu")


def test_pickle_only_folder(tmp_path: Path, tiny_model_dir: Path) -> None:
    folder = tmp_path / "pickle"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(EmolabelError, match="pickle"):
        EmotionClassifier.load(folder, device="cpu")


def test_folder_without_weights(tmp_path: Path, tiny_model_dir: Path) -> None:
    folder = tmp_path / "no-weights"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(EmolabelError, match=r"model\.safetensors"):
        EmotionClassifier.load(folder, device="cpu")


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(EmolabelError, match="not found"):
        EmotionClassifier.load(tmp_path / "nowhere" / "model", device="cpu")


def test_file_instead_of_folder(tmp_path: Path) -> None:
    path = tmp_path / "model.txt"
    path.write_text("hi")
    with pytest.raises(EmolabelError, match="not a folder"):
        EmotionClassifier.load(path, device="cpu")


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "tpu"])
def test_bad_device(tiny_model_dir: Path, device: str) -> None:
    with pytest.raises(EmolabelError, match="--device"):
        EmotionClassifier.load(tiny_model_dir, device=device)


@pytest.mark.parametrize("precision", ["fp64", "half", "int4"])
def test_bad_precision(tiny_model_dir: Path, precision: str) -> None:
    with pytest.raises(EmolabelError, match="--precision"):
        EmotionClassifier.load(tiny_model_dir, device="cpu", precision=precision)


def test_fp16_on_cpu_is_refused(tiny_model_dir: Path) -> None:
    with pytest.raises(EmolabelError, match="fp16"):
        EmotionClassifier.load(tiny_model_dir, device="cpu", precision="fp16")


def test_too_small_max_length(tiny_model_dir: Path) -> None:
    with pytest.raises(EmolabelError, match="max-length"):
        EmotionClassifier.load(tiny_model_dir, device="cpu", max_length=4)


def test_fp32_agreement(tiny_model_dir: Path, clf: EmotionClassifier) -> None:
    assert clf.fp32_agreement(TEXTS) == 1.0
    int8 = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="int8")
    assert 0.0 <= int8.fp32_agreement(TEXTS) <= 1.0
    mine = int8.predict_proba(TEXTS)[0].argmax(axis=1)
    theirs = clf.predict_proba(TEXTS)[0].argmax(axis=1)
    assert int8.fp32_agreement(TEXTS) == pytest.approx(float((mine == theirs).mean()))


def test_fp32_agreement_counts_disagreements(
    tiny_model_dir: Path, clf: EmotionClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An int8 model that always says the least likely fp32 label agrees on nothing."""
    int8 = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="int8")
    reference, _ = clf.predict_proba(TEXTS)
    worst = np.eye(len(EMOTIONS), dtype=np.float32)[reference.argmin(axis=1)]
    monkeypatch.setattr(int8, "predict_proba_encoded", lambda ids, **_: worst[: len(ids)])
    assert int8.fp32_agreement(TEXTS) == 0.0


def test_cpu_attention_follows_batch_length(tiny_model_dir: Path) -> None:
    """fp32: eager attention for short CPU batches, SDPA for long ones, same probabilities."""
    from emolabel.inference import EAGER_ATTENTION_MAX_TOKENS
    from emolabel.inference.attention import INPLACE_EAGER

    switching = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="fp32")
    fixed = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="fp32")
    fixed._switch_attention = False
    assert fixed.model.config._attn_implementation == "sdpa"
    short, long = ["i am happy"], ["word " * (2 * EAGER_ATTENTION_MAX_TOKENS["fp32"])]
    got, _ = switching.predict_proba(short)
    assert switching.model.config._attn_implementation == INPLACE_EAGER
    np.testing.assert_allclose(got, fixed.predict_proba(short)[0], atol=1e-5)
    got, _ = switching.predict_proba(long)
    assert switching.model.config._attn_implementation == "sdpa"
    np.testing.assert_allclose(got, fixed.predict_proba(long)[0], atol=1e-5)


def test_bf16_uses_eager_attention_on_long_cpu_batches(
    tiny_model_dir: Path, clf: EmotionClassifier
) -> None:
    """bf16 keeps eager attention at 512 tokens (faster than SDPA there) with fp32's labels."""
    bf16 = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="bf16")
    texts = ["word " * 600, "i am so happy today " * 120, "i am happy"]  # one batch, padded
    got, truncated = bf16.predict_proba(texts)
    assert truncated.tolist() == [True, True, False]
    assert bf16.model.config._attn_implementation == "emolabel_eager"
    np.testing.assert_allclose(got, clf.predict_proba(texts)[0], atol=0.03)


@pytest.mark.parametrize(
    ("precision", "texts"),
    [
        ("fp32", ["i am happy", "why would anyone do this to me", "no"]),  # eager, padded
        ("bf16", ["i am happy", "why would anyone do this to me " * 6, "word " * 300]),
    ],
)
def test_inplace_eager_attention_matches_transformers_eager(
    tiny_model_dir: Path, precision: str, texts: list[str]
) -> None:
    """Same arithmetic as transformers' eager attention, padding mask included."""
    ours = EmotionClassifier.load(tiny_model_dir, device="cpu", precision=precision)
    theirs = EmotionClassifier.load(tiny_model_dir, device="cpu", precision=precision)
    theirs._switch_attention = False
    theirs.model.set_attn_implementation("eager")
    got, _ = ours.predict_proba(texts)
    assert ours.model.config._attn_implementation == "emolabel_eager"
    np.testing.assert_array_equal(got, theirs.predict_proba(texts)[0])


def test_short_bf16_rows_take_their_softmax_in_fp32(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch's fp32 kernel for rows of 22 (its bf16 one is slow there), bf16's for 32 and 64."""
    import torch

    from emolabel.inference.attention import _softmax

    kernels: list[torch.dtype] = []
    real_softmax = torch.softmax

    def spy(x: torch.Tensor, dim: int, dtype: torch.dtype | None = None) -> torch.Tensor:
        kernels.append(dtype or x.dtype)
        return real_softmax(x, dim, dtype=dtype)

    monkeypatch.setattr(torch, "softmax", spy)
    for length in (22, 32, 64):
        scores = torch.randn(3, 2, length, length).to(torch.bfloat16)
        probs = _softmax(scores)
        assert probs.dtype == torch.bfloat16
        expected = real_softmax(scores.float(), dim=-1)
        torch.testing.assert_close(probs.float(), expected, atol=4e-3, rtol=0)
    assert kernels == [torch.float32, torch.bfloat16, torch.bfloat16]


def test_architectures_without_registered_attention_fall_back_to_eager(
    tiny_model_dir: Path, clf: EmotionClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    bf16 = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="bf16")
    model_type = type(bf16.model)
    original = model_type.set_attn_implementation

    def refuse_custom(self: object, name: str) -> None:
        if name == "emolabel_eager":
            raise ValueError("this model does not support custom attention")
        original(self, name)

    monkeypatch.setattr(model_type, "set_attn_implementation", refuse_custom)
    got, _ = bf16.predict_proba(TEXTS)
    assert bf16.model.config._attn_implementation == "eager"
    np.testing.assert_allclose(got, clf.predict_proba(TEXTS)[0], atol=0.03)


def test_onednn_cache_caps_are_defaults_the_user_can_override() -> None:
    import subprocess
    import sys

    code = (
        "import os, emolabel; print(os.environ['ONEDNN_PRIMITIVE_CACHE_CAPACITY'], "
        "os.environ['LRU_CACHE_CAPACITY'])"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("CACHE_CAPACITY")}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.stdout.split() == ["16", "16"], run.stderr
    env["LRU_CACHE_CAPACITY"] = "1024"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.stdout.split() == ["16", "1024"], run.stderr


@pytest.mark.parametrize(
    ("flags", "vendor", "fast"),
    [
        ("avx512f avx512_bf16", "GenuineIntel", False),  # bf16 slower than fp32 without AMX
        ("avx512f avx512_bf16 amx_bf16 amx_tile", "GenuineIntel", True),
        ("avx512f avx512_bf16", "AuthenticAMD", True),  # Zen 4/5
        ("avx2 fma", "AuthenticAMD", False),
    ],
)
def test_auto_picks_bf16_only_where_it_is_fast(
    monkeypatch: pytest.MonkeyPatch, flags: str, vendor: str, fast: bool
) -> None:
    import emolabel.inference.devices as devices

    fields = {"flags": flags, "vendor_id": vendor}
    monkeypatch.setattr(devices, "_cpuinfo_field", lambda name: fields.get(name, ""))
    monkeypatch.setattr(devices, "cpu_supports_bf16", lambda: "avx512_bf16" in flags)
    assert devices.cpu_bf16_is_fast() is fast
    expected = "bf16" if fast else "fp32"
    assert devices.resolve_precision("auto", "cpu") == expected


def test_compile_with_int8_is_refused(tiny_model_dir: Path) -> None:
    with pytest.raises(EmolabelError, match="--compile"):
        EmotionClassifier.load(tiny_model_dir, device="cpu", precision="int8", compile=True)


@pytest.mark.slow
def test_compiled_model_matches_eager(tiny_model_dir: Path, clf: EmotionClassifier) -> None:
    compiled = EmotionClassifier.load(tiny_model_dir, device="cpu", precision="fp32", compile=True)
    assert compiled.compiled
    reference, _ = clf.predict_proba(TEXTS)
    got, _ = compiled.predict_proba(TEXTS, batch_tokens=64)
    np.testing.assert_allclose(got, reference, atol=1e-5)
