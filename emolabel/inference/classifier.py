"""EmotionClassifier: a fine-tuned sequence classifier with fast, exact batched inference.

Owns the tokenizer, the head+tail truncation, device and precision choice, and the
length-sorted batching, so every caller (annotate, classify, evaluate, the Ray engine,
benchmarks) gets the same predictions from the same code.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emolabel.errors import EmolabelError
from emolabel.inference.allocator import keep_freed_memory
from emolabel.inference.attention import INPLACE_EAGER, register_inplace_eager
from emolabel.inference.batching import pad_batch, plan_batches
from emolabel.inference.truncation import head_tail_truncate, precut_text

BUILTIN_MODELS_DIR = Path(__file__).parent.parent / "models"
DEFAULT_MODEL_NAME = "emotion-minilm"
DEFAULT_HEAD_TOKENS = 128
MAX_LENGTH_CAP = 512
AGREEMENT_SAMPLE_ROWS = 1000  # int8 runs report top-label agreement with fp32 on this many texts
# CPU batches up to this padded length use eager attention, longer ones SDPA. Measured on
# MiniLM-L6 with 2k-token batches: in bf16 eager wins at every length (+8% on tweets, +20%
# at 512 tokens, where SDPA's CPU flash kernel is slow at head size 32); in fp32 and int8
# SDPA wins from about 32 tokens on.
EAGER_ATTENTION_MAX_TOKENS = {"bf16": 1 << 20, "fp32": 32, "int8": 32}
PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")
HUB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")


@dataclass(frozen=True)
class Prediction:
    """One text's label, its probability, and every class's probability."""

    label: str
    confidence: float
    scores: dict[str, float]
    truncated: bool


@dataclass(frozen=True)
class EncodedTexts:
    """Token ids with special tokens added and truncation applied, one list per text."""

    ids: list[list[int]]
    truncated: np.ndarray


def builtin_model_dir(name: str = DEFAULT_MODEL_NAME) -> Path:
    return BUILTIN_MODELS_DIR / name


def resolve_model_source(model: str | os.PathLike[str] | None) -> str:
    """Turn a --model value into a checked local folder or a hub id.

    None means the built-in model. A value that names an existing path must be a usable
    folder; anything else that looks like `owner/name` or a bare name is a hub id.
    """
    if model is None:
        folder = builtin_model_dir()
        if not (folder / "config.json").exists():
            raise EmolabelError(
                f"no built-in model at {folder}: pass --model MODEL_DIR (a folder written by "
                "`emolabel train`) or reinstall emolabel"
            )
        return str(folder)
    text = os.fspath(model)
    path = Path(text).expanduser()
    if path.exists():
        check_model_folder(path)
        return str(path)
    if (BUILTIN_MODELS_DIR / text / "config.json").exists():
        return str(BUILTIN_MODELS_DIR / text)
    if not HUB_ID_PATTERN.match(text):
        raise EmolabelError(
            f"model folder not found: {text}: pass a folder written by `emolabel train` "
            "or a Hugging Face hub id like owner/name"
        )
    return text


def check_model_folder(path: Path) -> None:
    """Refuse folders that would load wrongly: no config, no labels, or pickle-only weights."""
    if not path.is_dir():
        raise EmolabelError(f"model path is not a folder: {path}: pass a model folder")
    config_path = path / "config.json"
    if not config_path.exists():
        raise EmolabelError(
            f"{path} has no config.json: pass a Hugging Face model folder "
            "(one written by `emolabel train` or save_pretrained)"
        )
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EmolabelError(f"{config_path} is not valid JSON ({exc}): fix or re-save it") from None
    if not config.get("id2label"):
        raise EmolabelError(
            f"{config_path} has no id2label: this is not a fine-tuned classifier; "
            "train one with `emolabel train` or add id2label to its config"
        )
    has_safetensors = (
        any(path.glob("*.safetensors")) or (path / "model.safetensors.index.json").exists()
    )
    if not has_safetensors:
        if any(path.glob("*.bin")) or any(path.glob("*.pt")) or any(path.glob("*.ckpt")):
            raise EmolabelError(
                f"{path} holds only pickle weights (*.bin): emolabel loads safetensors only, "
                "since pickle can run code; convert with "
                "`AutoModelForSequenceClassification.from_pretrained(dir).save_pretrained(dir)`"
            )
        raise EmolabelError(f"{path} has no model.safetensors: pass a complete model folder")


def cpu_supports_bf16() -> bool:
    """True on CPUs with native bf16 math (AVX512-BF16 or AMX): bf16 runs there at all."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()) and _cpu_flag("avx512_bf16")
    except (AttributeError, RuntimeError):
        return False


def _cpu_flag(flag: str) -> bool:
    """Whether /proc/cpuinfo lists `flag` or the AMX bf16 unit (which implies bf16 math)."""
    flags = _cpuinfo_field("flags").split()
    return flag in flags or "amx_bf16" in flags


def _cpu_vendor() -> str:
    return _cpuinfo_field("vendor_id").strip()


def _cpuinfo_field(name: str) -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == name:
                    return value
    except OSError:
        pass
    return ""


def resolve_device(device: str) -> str:
    """auto -> cuda, then mps, then cpu; anything else is checked and passed through."""
    import torch

    device = device.strip().lower()
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise EmolabelError(
                f"--device {device}: no CUDA GPU is visible to torch; use --device cpu or auto"
            )
        if ":" in device:
            try:
                index = int(device.split(":", 1)[1])
            except ValueError:
                raise EmolabelError(f"--device {device}: write cuda or cuda:N") from None
            if index >= torch.cuda.device_count():
                raise EmolabelError(
                    f"--device {device}: only {torch.cuda.device_count()} GPU(s) visible"
                )
        return device
    if device == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise EmolabelError("--device mps: MPS is not available here; use --device cpu")
        return device
    if device == "cpu":
        return device
    raise EmolabelError(f"--device {device}: choose auto, cpu, cuda, cuda:N or mps")


def cpu_bf16_is_fast() -> bool:
    """True where bf16 matrix products beat fp32 on this CPU, so auto picks bf16.

    That takes more than the AVX512-BF16 flag: AMX (Intel Sapphire Rapids and later) or an
    AMD core (Zen 4/5, where VDPBF16PS runs at twice the fp32 FMA rate). Intel cores with
    AVX512-BF16 but no AMX (Cooper Lake, or a VM that hides AMX) emulate much of a bf16
    GEMM and can run it slower than fp32: there auto stays at fp32.
    """
    if not cpu_supports_bf16():
        return False
    return _cpu_flag("amx_bf16") or _cpu_vendor() == "AuthenticAMD"


def resolve_precision(precision: str, device: str) -> str:
    """auto -> bf16/fp16 on GPU, bf16 on CPUs where bf16 is fast, fp32 otherwise."""
    import torch

    precision = precision.strip().lower()
    if precision not in PRECISIONS:
        raise EmolabelError(f"--precision {precision}: choose one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        if device.startswith("cuda"):
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        if device == "cpu" and cpu_bf16_is_fast():
            return "bf16"
        return "fp32"
    if precision == "int8" and device != "cpu":
        raise EmolabelError("--precision int8 runs on the CPU only; use --device cpu")
    if precision == "fp16" and device == "cpu":
        raise EmolabelError("--precision fp16 is slow or unsupported on CPU; use bf16 or fp32")
    return precision


class EmotionClassifier:
    """Load a model folder or hub id once; predict probabilities for any list of texts."""

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
    ) -> None:
        import torch

        self.model = model
        self.tokenizer = tokenizer
        self.source = source
        self.device = device
        self.precision = precision
        config = model.config
        self.labels: list[str] = [
            str(config.id2label[i]) for i in sorted(int(k) for k in config.id2label)
        ]
        self.max_length = max_length or default_max_length(tokenizer, config)
        if self.max_length < 8:
            raise EmolabelError(f"--max-length {self.max_length} is too small: use 8 or more")
        self._prefix, self._suffix = _special_token_layout(tokenizer)
        self.content_tokens = self.max_length - len(self._prefix) - len(self._suffix)
        self.head_tokens = max(0, min(head_tokens, self.content_tokens))
        pad_id = tokenizer.pad_token_id
        self.pad_id = 0 if pad_id is None else int(pad_id)
        self._backend = _plain_backend(tokenizer)
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
        device: str = "auto",
        precision: str = "auto",
        max_length: int | None = None,
        head_tokens: int = DEFAULT_HEAD_TOKENS,
        compile: bool = False,
    ) -> EmotionClassifier:
        """Load from a folder (checked first), a built-in name, or a hub id.

        Weights load from safetensors only and remote code never runs. `compile=True` runs
        the model through torch.compile (inductor, weights frozen into the graph on the
        CPU): the first batches take tens of seconds to compile, so it pays on large corpora
        only (benchmarks/README.md says from how many rows).
        """
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
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
        try:
            tokenizer = AutoTokenizer.from_pretrained(
                source, trust_remote_code=False, local_files_only=local
            )
            # Weights may be stored in fp16 (the built-in model is); compute wants fp32 here,
            # cast below to the precision the device runs best.
            hf_model = AutoModelForSequenceClassification.from_pretrained(
                source,
                use_safetensors=True,
                trust_remote_code=False,
                local_files_only=local,
                dtype=torch.float32,
            )
        except EmolabelError:
            raise
        except (OSError, ValueError) as exc:
            where = "folder" if local else "hub id"
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise EmolabelError(
                f"could not load model {where} {source}: {first_line}; pass a folder written "
                "by `emolabel train` (hub downloads need network access)"
            ) from None
        if not getattr(hf_model.config, "id2label", None):
            raise EmolabelError(f"model {source} has no id2label: it is not a classifier")
        hf_model.eval()
        if resolved_precision == "int8":
            hf_model = _quantize_int8(hf_model)
        elif resolved_precision in ("fp16", "bf16"):
            # Weights in bf16/fp16, not autocast: on the CPU, autocast's per-op casts cost
            # 10-15% of a MiniLM forward pass for the same top labels (99.9% agreement).
            hf_model = hf_model.to(_torch_dtype(resolved_precision))
        hf_model.to(resolved_device)
        return cls(
            hf_model,
            tokenizer,
            source=source,
            device=resolved_device,
            precision=resolved_precision,
            max_length=max_length,
            head_tokens=head_tokens,
            compile=compile,
        )

    @property
    def name(self) -> str:
        path = Path(self.source)
        return path.name if path.exists() else self.source

    # ----------------------------------------------------------------- encoding
    def encode(self, texts: Sequence[str]) -> EncodedTexts:
        """Tokenize and head+tail truncate; texts must be non-empty strings."""
        budget = self.content_tokens
        prepared: list[str] = []
        precut = np.zeros(len(texts), dtype=bool)
        for i, text in enumerate(texts):
            short, cut = precut_text(text, budget)
            prepared.append(short)
            precut[i] = cut
        raw_ids = self._tokenize(prepared)
        truncated = precut.copy()
        ids: list[list[int]] = []
        for i, row in enumerate(raw_ids):
            kept, cut = head_tail_truncate(row, budget, self.head_tokens)
            truncated[i] |= cut
            ids.append(self._prefix + kept + self._suffix)
        return EncodedTexts(ids=ids, truncated=truncated)

    def _tokenize(self, texts: list[str]) -> list[list[int]]:
        if not texts:
            return []
        if self._backend is not None:
            encode = getattr(self._backend, "encode_batch_fast", self._backend.encode_batch)
            return [enc.ids for enc in encode(texts, add_special_tokens=False)]
        out = self.tokenizer(texts, add_special_tokens=False, truncation=False)
        return [list(x) for x in out["input_ids"]]

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
        return [self._prediction(row, bool(cut)) for row, cut in zip(proba, truncated, strict=True)]

    def _prediction(self, row: np.ndarray, truncated: bool) -> Prediction:
        best = int(row.argmax())
        return Prediction(
            label=self.labels[best],
            confidence=float(row[best]),
            scores={label: float(p) for label, p in zip(self.labels, row, strict=True)},
            truncated=truncated,
        )

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
        mine = self.predict_proba_encoded(ids).argmax(axis=1)
        theirs = reference.predict_proba_encoded(ids).argmax(axis=1)
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
            logits = self._runner(input_ids=ids_t, attention_mask=mask_t).logits
            proba = torch.softmax(logits.float(), dim=-1)
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

    options = {"freezing": True} if device == "cpu" else None
    return torch.compile(model, dynamic=True, options=options)


def default_max_length(tokenizer: Any, config: Any) -> int:
    """The model's own limit, capped at 512 (tokenizers often report a huge sentinel)."""
    candidates = [MAX_LENGTH_CAP]
    tok_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_max, int) and 0 < tok_max < 1_000_000:
        candidates.append(tok_max)
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        # RoBERTa-style models reserve padding_idx + 1 positions.
        offset = (
            (getattr(config, "pad_token_id", 0) or 0) + 1
            if "roberta" in str(getattr(config, "model_type", ""))
            else 0
        )
        candidates.append(positions - offset)
    return min(candidates)


def _special_token_layout(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The ids the tokenizer puts before and after a single sequence ([CLS] ... [SEP])."""
    with_special = list(tokenizer("a")["input_ids"])
    plain = list(tokenizer("a", add_special_tokens=False)["input_ids"])
    n = len(plain)
    for start in range(len(with_special) - n + 1):
        if with_special[start : start + n] == plain:
            return with_special[:start], with_special[start + n :]
    return [], []


def _plain_backend(tokenizer: Any) -> Any:
    """A copy of the fast tokenizer's Rust backend with truncation and padding off."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    from tokenizers import Tokenizer

    plain = Tokenizer.from_str(backend.to_str())
    plain.no_truncation()
    plain.no_padding()
    return plain


def _torch_dtype(precision: str) -> Any:
    import torch

    return {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[precision]
