"""EmotionClassifier: a fine-tuned sequence classifier with fast, exact batched inference.

Owns the model, precision casting and the length-sorted batching, so every caller
(annotate, classify, evaluate, the Ray engine, benchmarks) gets the same predictions from
the same code. Tokenizing is TextEncoder's (encoding.py), device and precision choice
devices.py's, folder checks model_folders.py's, sigmoid-or-softmax and thresholds
emotions.py's.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emolabel.errors import EmolabelError
from emolabel.inference.allocator import keep_freed_memory
from emolabel.inference.attention import INPLACE_EAGER, register_inplace_eager
from emolabel.inference.batching import pad_batch, plan_batches
from emolabel.inference.devices import (
    Device,
    Precision,
    resolve_device,
    resolve_precision,
    torch_dtype,
)
from emolabel.inference.emotions import check_info_agrees, emotion_indices, is_multi_label
from emolabel.inference.encoding import DEFAULT_HEAD_TOKENS, EncodedTexts, TextEncoder
from emolabel.inference.model_folders import (
    DEFAULT_THRESHOLD,
    check_vocab_fits,
    label_thresholds,
    loading_errors,
    read_model_info,
    resolve_model_source,
)

AGREEMENT_SAMPLE_ROWS = 1000  # int8 runs report top-label agreement with fp32 on this many texts
# CPU batches up to this padded length use eager attention, longer ones SDPA. Measured on
# MiniLM-L6 with 2k-token batches: in bf16 eager wins at every length (+8% on tweets, +20%
# at 512 tokens, where SDPA's CPU flash kernel is slow at head size 32); in fp32 and int8
# SDPA wins from about 32 tokens on.
EAGER_ATTENTION_MAX_TOKENS = {"bf16": 1 << 20, "fp32": 32, "int8": 32}


@dataclass(frozen=True)
class Prediction:
    """One text's top label and its score, every class's score, and the labels whose score
    reaches their threshold (`emotions`, highest first; `[label]` for a single-label model).
    A multi-label model's top label is the highest-scoring of its `emotions`."""

    label: str
    confidence: float
    scores: dict[str, float]
    truncated: bool
    emotions: list[str]


class EmotionClassifier:
    """Load a model folder or hub id once; score any list of texts.

    Scores are what `transformers.pipeline("text-classification", top_k=None)` gives for the
    same model: a sigmoid per label for a multi-label model (config `problem_type ==
    "multi_label_classification"`, or a single label), else a softmax over the labels.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        source: str,
        device: str = "cpu",
        precision: str = "fp32",
        max_length: int | None = None,
        head_tokens: int = DEFAULT_HEAD_TOKENS,
        compile: bool = False,
        thresholds: np.ndarray | None = None,
    ) -> None:
        import torch

        self.model = model
        self.encoder = TextEncoder(
            tokenizer,
            source=source,
            config=model.config,
            max_length=max_length,
            head_tokens=head_tokens,
        )
        self.source = source
        self.device = device
        self.precision = precision
        config = model.config
        self.labels = model_labels(config)
        self.pad_id = self.encoder.pad_id
        self.multi_label = is_multi_label(config, source)
        self.thresholds = _one_per_label(thresholds, len(self.labels))
        self._label_array = np.array(self.labels, dtype=object)
        self._torch_device = torch.device(device)
        # Lengths padded to a multiple of 8 on GPU (tensor-core tiles); on the CPU every
        # padded token costs time (8% on tweets), so none.
        self._pad_multiple = 8 if device.startswith("cuda") else 1
        # Fetch a batch's scores once the next one is queued (GPU: +5-7% on an H200); on
        # the CPU every call is synchronous anyway.
        self.overlap_batches = device.startswith("cuda")
        self.compiled = compile
        self._runner = _compile_model(model, device) if compile else model
        # On the CPU each batch gets the faster attention for its length and precision.
        self._eager_max_tokens = EAGER_ATTENTION_MAX_TOKENS.get(precision, 0)
        self._switch_attention = (
            device == "cpu"
            and not compile
            and getattr(model.config, "_attn_implementation", None) == "sdpa"
            and hasattr(model, "set_attn_implementation")
        )
        self._eager = register_inplace_eager() if self._switch_attention else "eager"
        if device == "cpu":
            keep_freed_memory()

    # ----------------------------------------------------------------- loading
    @classmethod
    def load(
        cls,
        model: str | os.PathLike[str] | None = None,
        *,
        device: Device | str = "auto",
        precision: Precision | str = "auto",
        max_length: int | None = None,
        head_tokens: int = DEFAULT_HEAD_TOKENS,
        compile: bool = False,
        threshold: float | None = None,
    ) -> EmotionClassifier:
        """Load from a folder (checked first), a built-in name, or a hub id.

        Weights load from safetensors only and remote code never runs. `compile=True` runs
        the model through torch.compile (inductor, weights frozen into the graph on the
        CPU): the first batches take tens of seconds to compile, so it pays on large corpora
        only (benchmarks/README.md says from how many rows). A multi-label model's per-label
        thresholds come from the folder's emolabel.json (0.5 where it names none);
        `threshold` replaces them all.
        """
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        source = resolve_model_source(model)
        resolved_device = resolve_device(device)
        resolved_precision = resolve_precision(precision, resolved_device)
        if compile and resolved_precision == "int8":
            raise EmolabelError(
                "--compile does not combine with --precision int8: use auto, bf16 or fp32"
            )
        local = Path(source).exists()
        info = read_model_info(source) if local else {}
        tokenizer = _load_tokenizer(source, local)
        hf_model = _load_weights(source, local)
        check_vocab_fits(tokenizer, hf_model.get_input_embeddings().num_embeddings, source)
        labels = model_labels(hf_model.config)
        check_info_agrees(info, hf_model.config, source)
        thresholds = label_thresholds(info, labels, source=source, threshold=threshold)
        hf_model = _cast(hf_model, resolved_precision, resolved_device)
        with loading_errors(source, "model"):
            clf = cls(
                hf_model,
                tokenizer,
                source=source,
                device=resolved_device,
                precision=resolved_precision,
                max_length=max_length,
                head_tokens=head_tokens,
                compile=compile,
                thresholds=thresholds,
            )
            clf.check_runs()
        return clf

    def check_runs(self) -> None:
        """One forward pass of a short row: a model whose config and weights do not fit
        together fails here, at load, rather than on some row of a corpus. (Lengths and token
        ids were checked against the config already; NaN scores are checked on every call.)"""
        import torch

        row = self.encoder.prefix + [self.pad_id] * 4 + self.encoder.suffix
        ids = torch.tensor([row], device=self._torch_device)
        with torch.inference_mode():
            logits = self.model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
        if tuple(logits.shape) != (1, len(self.labels)):
            raise EmolabelError(
                f"model {self.source} gives {tuple(logits.shape)[-1]} scores for "
                f"{len(self.labels)} labels: fix id2label in its config.json"
            )
        if not bool(torch.isfinite(logits).all()):
            raise EmolabelError(_non_finite(self.source))

    @property
    def name(self) -> str:
        path = Path(self.source)
        return path.name if path.exists() else self.source

    # ----------------------------------------------------------------- encoding
    @property
    def tokenizer(self) -> Any:
        return self.encoder.tokenizer

    @property
    def max_length(self) -> int:
        return self.encoder.max_length

    @property
    def head_tokens(self) -> int:
        return self.encoder.head_tokens

    @property
    def content_tokens(self) -> int:
        """Tokens per text left for content once the special tokens are added."""
        return self.encoder.content_tokens

    def encode(self, texts: Sequence[str]) -> EncodedTexts:
        """Tokenize and head+tail truncate (TextEncoder.encode); texts must be non-empty."""
        return self.encoder.encode(texts)

    # ----------------------------------------------------------------- inference
    def predict_proba_encoded(
        self, ids: Sequence[Sequence[int]], *, batch_tokens: int | None = None
    ) -> np.ndarray:
        """Class probabilities (float32, rows in input order) for already-encoded texts."""
        out = np.empty((len(ids), len(self.labels)), dtype=np.float32)
        if not ids:
            return out
        budget = batch_tokens or self.default_batch_tokens()
        lengths = [len(x) for x in ids]
        # On a GPU each batch's scores are fetched only after the next batch is queued, so
        # the GPU computes while the CPU pads and copies the next one.
        pending: tuple[np.ndarray, Callable[[], np.ndarray]] | None = None
        for batch in plan_batches(lengths, budget, max_batch_size=self.max_batch_size()):
            queued = self._run_batch([ids[i] for i in batch])
            if pending is not None:
                out[pending[0]] = pending[1]()
                pending = None
            if self.overlap_batches:
                pending = (batch, queued)
            else:
                out[batch] = queued()
        if pending is not None:
            out[pending[0]] = pending[1]()
        if not np.isfinite(out).all():
            raise EmolabelError(_non_finite(self.source))
        return out

    def predict_proba(
        self, texts: Sequence[str], *, batch_tokens: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and truncated flags for non-empty texts, in input order."""
        encoded = self.encode(texts)
        return self.predict_proba_encoded(encoded.ids, batch_tokens=batch_tokens), encoded.truncated

    def predict(self, texts: Sequence[str], *, batch_tokens: int | None = None) -> list[Prediction]:
        """Label each text; empty texts are refused here (annotate maps them to nulls)."""
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise EmolabelError(f"text {i} is empty or not a string: pass non-empty texts")
        proba, truncated = self.predict_proba(texts, batch_tokens=batch_tokens)
        offsets, ids = self.emotion_indices(proba)
        tops = ids[offsets[:-1]].tolist()  # each row's first emotion is its top label
        emotions = self._label_lists(offsets, ids)
        return [
            self._prediction(row, best, bool(cut), labels)
            for row, best, cut, labels in zip(proba, tops, truncated, emotions, strict=True)
        ]

    def _prediction(
        self, row: np.ndarray, best: int, truncated: bool, emotions: list[str]
    ) -> Prediction:
        return Prediction(
            label=self.labels[best],
            confidence=float(row[best]),
            scores={label: float(p) for label, p in zip(self.labels, row, strict=True)},
            truncated=truncated,
            emotions=emotions,
        )

    # ----------------------------------------------------------------- emotions
    def top_indices(self, scores: np.ndarray) -> np.ndarray:
        """Each row's top label id: its first emotion, i.e. the highest-scoring label at or
        above its threshold (multi-label; the highest overall when none is), else the most
        probable."""
        offsets, ids = self.emotion_indices(scores)
        return ids[offsets[:-1]]

    def emotion_indices(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's `emotions` as label ids in Arrow list layout (offsets, ids); see
        emolabel.inference.emotions.emotion_indices."""
        return emotion_indices(scores, self.thresholds, multi_label=self.multi_label)

    def emotions(self, scores: np.ndarray) -> list[list[str]]:
        """Per row of `scores`, the labels whose score reaches their threshold, highest first;
        the top label when none does; exactly `[top label]` for a single-label model."""
        return self._label_lists(*self.emotion_indices(scores))

    def _label_lists(self, offsets: np.ndarray, ids: np.ndarray) -> list[list[str]]:
        flat = self._label_array[ids].tolist()
        return [flat[a:b] for a, b in itertools.pairwise(offsets.tolist())]

    def emotions_array(self, scores: np.ndarray) -> Any:
        """`emotions` as a pyarrow list<string> array, built in C (no per-row Python): the
        column annotate writes."""
        import pyarrow as pa

        offsets, ids = self.emotion_indices(scores)
        values = pa.array(self.labels, type=pa.string()).take(pa.array(ids))
        return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), values)

    def fp32_agreement(self, texts: Sequence[str]) -> float:
        """Share of `texts` whose top label matches the same model in fp32 (1.0 for fp32).

        Loads a second, fp32 copy of the model for the comparison; meant for a sample
        (a few thousand texts) to print next to an int8 or bf16 run.
        """
        return self.fp32_agreement_encoded(self.encode(texts).ids)

    def fp32_agreement_encoded(self, ids: Sequence[Sequence[int]]) -> float:
        """fp32_agreement on texts already encoded by this classifier."""
        if self.precision == "fp32" or not ids:
            return 1.0
        reference = EmotionClassifier.load(
            self.source,
            device=self.device,
            precision="fp32",
            max_length=self.max_length,
            head_tokens=self.head_tokens,
        )
        mine = self.top_indices(self.predict_proba_encoded(ids))
        theirs = self.top_indices(reference.predict_proba_encoded(ids))  # same thresholds
        return float((mine == theirs).mean())

    def default_batch_tokens(self) -> int:
        """Padded tokens per forward pass. On the CPU, small batches keep the activations in
        cache: for tweets (~22 tokens) 2k tokens ran 10-25% faster than 8k-16k on MiniLM-L6,
        and for 512-token texts the budget made no difference."""
        return 65536 if self.device.startswith("cuda") else 2048

    def max_batch_size(self) -> int:
        return 1024

    def _run_batch(self, rows: list[Sequence[int]]) -> Callable[[], np.ndarray]:
        """Queue one batch; the returned function waits for its probabilities."""
        import torch

        try:
            return self._forward(rows)
        except torch.cuda.OutOfMemoryError:
            if len(rows) == 1:
                raise EmolabelError(
                    "the GPU ran out of memory on a single text: lower --max-length or use "
                    "--device cpu"
                ) from None
            torch.cuda.empty_cache()
            half = len(rows) // 2
            first, second = self._run_batch(rows[:half]), self._run_batch(rows[half:])
            return lambda: np.concatenate([first(), second()])

    def _forward(self, rows: list[Sequence[int]]) -> Callable[[], np.ndarray]:
        import torch

        input_ids, attention = pad_batch(rows, self.pad_id, self._pad_multiple)
        longest = input_ids.shape[1]
        non_blocking = self.device.startswith("cuda")
        ids_t = torch.from_numpy(input_ids)
        mask_t = torch.from_numpy(attention)
        if non_blocking:
            ids_t, mask_t = ids_t.pin_memory(), mask_t.pin_memory()
        ids_t = ids_t.to(self._torch_device, non_blocking=non_blocking)
        mask_t = mask_t.to(self._torch_device, non_blocking=non_blocking)
        if self._switch_attention:
            self._use_attention(self._eager if longest <= self._eager_max_tokens else "sdpa")
        with torch.inference_mode():
            logits = self._runner(input_ids=ids_t, attention_mask=mask_t).logits.float()
            # Sigmoid in place: as cheap as the softmax (no extra tensor per batch).
            proba = logits.sigmoid_() if self.multi_label else torch.softmax(logits, dim=-1)
        if not non_blocking:
            scores = proba.cpu().numpy()
            return lambda: scores
        host = torch.empty(proba.shape, dtype=torch.float32, pin_memory=True)
        host.copy_(proba, non_blocking=True)
        copied = torch.cuda.Event()
        copied.record()

        def wait() -> np.ndarray:
            copied.synchronize()
            return host.numpy()

        return wait

    def _use_attention(self, implementation: str) -> None:
        if self.model.config._attn_implementation == implementation:
            return
        try:
            self.model.set_attn_implementation(implementation)
        except (ValueError, KeyError):
            if implementation != INPLACE_EAGER:
                raise
            self._eager = "eager"  # an architecture that ignores registered attention
            self.model.set_attn_implementation("eager")


def _one_per_label(thresholds: np.ndarray | None, k: int) -> np.ndarray:
    if thresholds is None:
        return np.full(k, DEFAULT_THRESHOLD, dtype=np.float32)
    out = np.asarray(thresholds, dtype=np.float32)
    if out.shape != (k,):
        raise EmolabelError(f"{out.size} thresholds for {k} labels: pass one per label")
    return out


def _load_tokenizer(source: str, local: bool) -> Any:
    from transformers import AutoTokenizer

    with loading_errors(source, "tokenizer"):
        return AutoTokenizer.from_pretrained(
            source, trust_remote_code=False, local_files_only=local
        )


def _load_weights(source: str, local: bool) -> Any:
    """The model in fp32 (stored fp16 weights, as the built-in model's, are cast up)."""
    import torch
    from transformers import AutoModelForSequenceClassification

    with loading_errors(source, "model"):
        model = AutoModelForSequenceClassification.from_pretrained(
            source,
            use_safetensors=True,
            trust_remote_code=False,
            local_files_only=local,
            dtype=torch.float32,
        )
    if not getattr(model.config, "id2label", None):
        raise EmolabelError(f"model {source} has no id2label: it is not a classifier")
    return model.eval()


def _cast(model: Any, precision: str, device: str) -> Any:
    if precision == "int8":
        model = _quantize_int8(model)
    elif precision in ("fp16", "bf16"):
        # Weights in bf16/fp16, not autocast: on the CPU, autocast's per-op casts cost
        # 10-15% of a MiniLM forward pass for the same top labels (99.9% agreement).
        model = model.to(torch_dtype(precision))
    return model.to(device)


def _non_finite(source: str) -> str:
    return (
        f"model {source} gives NaN or infinite scores: its weights are damaged; re-save the "
        "model or copy model.safetensors again"
    )


def _quantize_int8(model: Any) -> Any:
    """Dynamic int8 for every Linear: per-channel weight scales, activations quantized per
    batch at run time (fbgemm, AVX512-VNNI). Per-channel scales track fp32 more closely than
    one per tensor at the same speed (an earlier build of the built-in model: 97.4% against
    96.3% top-label agreement on the emotion validation split; the shipped one: 99.05%)."""
    import warnings

    import torch

    quantization = getattr(torch.ao, "quantization", None)
    if quantization is None or not hasattr(quantization, "quantize_dynamic"):
        raise EmolabelError(
            f"--precision int8 needs torch.ao.quantization, gone in torch {torch.__version__}: "
            "use auto, bf16 or fp32"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization deprecation notices
        return quantization.quantize_dynamic(
            model, {torch.nn.Linear: quantization.per_channel_dynamic_qconfig}
        )


def _compile_model(model: Any, device: str) -> Any:
    """torch.compile for inference: dynamic shapes (every batch has its own rows x length);
    on the CPU, inductor freezing folds the weights in and prepacks them for oneDNN."""
    import torch

    options: dict[str, str | int | bool | Callable[..., Any]] | None = (
        {"freezing": True} if device == "cpu" else None
    )
    return torch.compile(model, dynamic=True, options=options)


def model_labels(config: Any) -> list[str]:
    """Label names in id order, from a transformers config's id2label."""
    return [str(config.id2label[i]) for i in sorted(int(k) for k in config.id2label)]
