"""Model folders: where the built-in models live, what a --model value names, and the checks
that refuse a folder which would load wrongly, before any weights are read."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from emolabel.errors import EmolabelError

BUILTIN_MODELS_DIR = Path(__file__).parent.parent / "models"
DEFAULT_MODEL_NAME = "ekman"  # Ekman's six emotions + neutral, on tweets, Reddit and dair-ai
MODEL_INFO_FILE = "emolabel.json"  # emolabel's own record of a model: how made, thresholds
DEFAULT_THRESHOLD = 0.5  # a multi-label model's decision threshold where none is stored
# A hub id: `name` or `owner/name` (callers that need the owner check for the slash).
HUB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")
TOKENIZER_FILE = "tokenizer.json"
SLOW_VOCAB_FILES = ("vocab.json", "merges.txt", "spm.model", "sentencepiece.bpe.model")
TOKENIZER_FILES = "tokenizer.json, tokenizer_config.json, vocab files"
MODEL_FILES = "config.json, model.safetensors"
PICKLE_PATTERNS = ("*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl")


# Built-in names of earlier versions, with what to use now.
RETIRED_MODELS = {
    "emotion-minilm": (
        "the built-in model emotion-minilm (dair-ai/emotion's 6 labels) left the package in "
        "emolabel 0.3.0: use --model ekman (the default) or --model goemotions, or rebuild it "
        "with `bash scripts/build_emotion_minilm.sh` and pass --model runs/emotion-minilm"
    ),
}


def builtin_model_dir(name: str = DEFAULT_MODEL_NAME) -> Path:
    return BUILTIN_MODELS_DIR / name


def is_builtin_name(name: str) -> bool:
    """A bare name (no path separator) of a model folder shipped in emolabel/models/."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return False
    return (BUILTIN_MODELS_DIR / name / "config.json").is_file()


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
    builtin = BUILTIN_MODELS_DIR / text
    # a bare built-in name wins over a same-named folder that is no model (`goemotions/` data)
    if is_builtin_name(text) and not (path / "config.json").exists():
        return str(builtin)
    if path.exists():
        check_model_folder(path)
        return str(path)
    if text in RETIRED_MODELS:
        raise EmolabelError(RETIRED_MODELS[text])
    if not HUB_ID_PATTERN.match(text):
        raise EmolabelError(
            f"model folder not found: {text}: pass a folder written by `emolabel train` "
            "or a Hugging Face hub id like owner/name"
        )
    return text


def check_model_folder(path: Path) -> None:
    """Refuse folders that would load wrongly or fail half-way, one line each: no config or
    labels, pickle-only or damaged weights, no or malformed tokenizer files, or a tokenizer
    whose ids run past the model's embedding table."""
    if not path.is_dir():
        raise EmolabelError(f"model path is not a folder: {path}: pass a model folder")
    config_path = path / "config.json"
    if not config_path.exists():
        raise EmolabelError(
            f"{path} has no config.json: pass a Hugging Face model folder "
            "(one written by `emolabel train` or save_pretrained)"
        )
    config = _read_json_object(config_path)
    _check_labels(config, config_path)
    _check_weights(path)
    vocab_size = config.get("vocab_size")
    check_tokenizer_files(path, vocab_size if isinstance(vocab_size, int) else None)


def _check_labels(config: dict[str, Any], config_path: Path) -> None:
    id2label = config.get("id2label")
    if not id2label:
        raise EmolabelError(
            f"{config_path} has no id2label: this is not a fine-tuned classifier; "
            "train one with `emolabel train` or add id2label to its config"
        )
    fix = 'write it as {"0": "label", "1": "label", ...}'
    if not isinstance(id2label, dict):
        raise EmolabelError(f"{config_path}: id2label is not an object: {fix}")
    try:
        ids = sorted(int(k) for k in id2label)
    except (TypeError, ValueError):
        raise EmolabelError(
            f"{config_path}: id2label has a key that is not a number: {fix}"
        ) from None
    if ids != list(range(len(ids))):
        raise EmolabelError(f"{config_path}: id2label's ids are not 0..{len(ids) - 1}: {fix}")
    names = list(id2label.values())
    if not all(isinstance(n, str) and n.strip() for n in names):
        raise EmolabelError(f"{config_path}: id2label has an empty or non-text label: {fix}")
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise EmolabelError(
            f"{config_path}: id2label names {', '.join(twice)} more than once: give each id "
            "its own label"
        )


def _check_weights(path: Path) -> None:
    files = sorted(path.glob("*.safetensors"))
    if files or (path / "model.safetensors.index.json").exists():
        for file in files:
            check_safetensors_file(file)
        return
    pickles = sorted(p.name for pattern in PICKLE_PATTERNS for p in path.glob(pattern))
    if pickles:
        raise EmolabelError(
            f"{path} holds only pickle weights ({pickles[0]}): emolabel loads safetensors only, "
            "since unpickling can run code; if you trust where the file came from, convert it "
            'once with `python -c "import torch; from safetensors.torch import save_file; '
            f"sd = torch.load('{path / pickles[0]}', weights_only=True); "
            "save_file({k: v.contiguous().clone() for k, v in sd.items()}, "
            f"'{path / 'model.safetensors'}', metadata={{'format': 'pt'}})\"`"
        )
    raise EmolabelError(f"{path} has no model.safetensors: pass a complete model folder")


def check_safetensors_file(file: Path) -> None:
    """A safetensors file whose header parses and whose tensors fill the file exactly."""
    damaged = f"{file} is truncated or damaged"
    fix = "re-save the model (save_pretrained) or copy the file again"
    try:
        size = file.stat().st_size
        with file.open("rb") as f:
            prefix = f.read(8)
            header_len = int.from_bytes(prefix, "little") if len(prefix) == 8 else -1
            if not 0 < header_len <= size - 8:
                raise EmolabelError(f"{damaged} (no valid header): {fix}")
            header = json.loads(f.read(header_len))
    except OSError as exc:
        raise EmolabelError(f"cannot read {file}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise EmolabelError(f"{damaged} (its header is not valid JSON): {fix}") from None
    if not isinstance(header, dict):
        raise EmolabelError(f"{damaged} (its header is not an object): {fix}")
    ends = [_tensor_end(t) for name, t in header.items() if name != "__metadata__"]
    if any(e is None for e in ends):
        raise EmolabelError(f"{damaged} (its header has bad offsets): {fix}")
    needed = 8 + header_len + max((e for e in ends if e is not None), default=0)
    if needed != size:
        raise EmolabelError(
            f"{damaged}: its header promises {needed:,} bytes, the file holds {size:,}: {fix}"
        )


def _tensor_end(entry: Any) -> int | None:
    """Where a tensor's bytes end, from its header entry; None when the entry is malformed."""
    offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
    if not isinstance(offsets, list) or len(offsets) != 2:
        return None
    start, end = offsets
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end):
        return None
    return end


def check_tokenizer_files(path: Path, vocab_size: int | None) -> None:
    """The folder holds a tokenizer (tokenizer.json, or the vocab files a slow tokenizer
    reads) whose ids all fit an embedding table of `vocab_size` rows."""
    tokenizer_json = path / TOKENIZER_FILE
    if tokenizer_json.exists():
        largest = _largest_tokenizer_json_id(tokenizer_json)
        where = tokenizer_json
    elif (path / "vocab.txt").is_file():
        where = path / "vocab.txt"
        try:
            with where.open("rb") as f:
                largest = sum(1 for _ in f) - 1
        except OSError as exc:
            raise EmolabelError(f"cannot read {where}: {exc.strerror or exc}") from None
    elif any((path / name).is_file() for name in SLOW_VOCAB_FILES) or any(path.glob("*.model")):
        return  # BPE / sentencepiece vocab files: the loaded tokenizer is checked instead
    else:
        raise EmolabelError(
            f"{path} has no tokenizer files ({TOKENIZER_FILE}, or vocab.txt, vocab.json + "
            "merges.txt, a sentencepiece .model): copy them from the model it was trained "
            "from (`AutoTokenizer.from_pretrained(BASE).save_pretrained(DIR)`)"
        )
    if vocab_size is not None and largest >= vocab_size:
        raise EmolabelError(_vocab_too_large(where, largest + 1, vocab_size))


def _largest_tokenizer_json_id(file: Path) -> int:
    data = _read_json_object(file)
    fix = "re-save it with the tokenizer (`tokenizer.save_pretrained(DIR)`) or copy it again"
    model, added = data.get("model"), data.get("added_tokens")
    if not isinstance(model, dict) or not isinstance(added, list):
        raise EmolabelError(
            f'{file} is not a tokenizers file (needs "model" and "added_tokens"): {fix}'
        )
    vocab = model.get("vocab")
    ids: list[Any] = [t.get("id") for t in added if isinstance(t, dict)]
    if isinstance(vocab, dict):
        ids.extend(vocab.values())
    elif isinstance(vocab, list):  # Unigram: [[piece, score], ...], ids are positions
        ids.append(len(vocab) - 1)
    elif vocab is not None:
        raise EmolabelError(f"{file}: model.vocab is neither an object nor a list: {fix}")
    if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ids):
        raise EmolabelError(f"{file} has a token id that is not a whole number >= 0: {fix}")
    return max(ids, default=-1)


def check_vocab_fits(tokenizer: Any, embedding_rows: int, source: str) -> None:
    """A loaded tokenizer must be a real vocabulary whose ids all index the embedding table."""
    size = len(tokenizer)
    specials = len(set(getattr(tokenizer, "all_special_ids", []) or []))
    if size <= max(specials, 5):
        raise EmolabelError(
            f"the tokenizer of {source} has only {size} tokens (its vocab files are missing "
            "or empty): copy the tokenizer files from the model it was trained from"
        )
    if size > embedding_rows:
        raise EmolabelError(_vocab_too_large(Path(source), size, embedding_rows))


def _vocab_too_large(where: Path, tokens: int, rows: int) -> str:
    return (
        f"{where}: the tokenizer has {tokens:,} token ids but the model's embedding table only "
        f"{rows:,} rows: this tokenizer belongs to another model; copy the one it was trained with"
    )


def read_model_info(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """emolabel.json of a local folder as a dict; {} when the folder has none (hub models)."""
    path = Path(folder) / MODEL_INFO_FILE
    if not path.is_file():
        return {}
    return _read_json_object(path)


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EmolabelError(f"{path} is not valid JSON ({exc}): fix or re-save it") from None
    except OSError as exc:
        raise EmolabelError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", type(None): "null"}.get(type(data), "a number")
        raise EmolabelError(f"{path} holds {kind}, not a JSON object: re-save it")
    return data


def label_thresholds(
    info: dict[str, Any],
    labels: list[str],
    *,
    source: str,
    threshold: float | None = None,
) -> np.ndarray:
    """Per-label decision thresholds (float32, label order): `threshold` for every label when
    given, else emolabel.json's `"thresholds": {label: t}`, 0.5 for a label it does not name."""
    if threshold is not None:
        if not 0.0 <= threshold <= 1.0:
            raise EmolabelError(f"--threshold {threshold}: use a number from 0 to 1")
        return np.full(len(labels), threshold, dtype=np.float32)
    out = np.full(len(labels), DEFAULT_THRESHOLD, dtype=np.float32)
    stored = info.get("thresholds")
    if stored is None:
        return out
    where = f"{Path(source) / MODEL_INFO_FILE}"
    if not isinstance(stored, dict):
        raise EmolabelError(
            f'{where}: "thresholds" must map each label to a number from 0 to 1; fix or '
            "re-train the model, or pass --threshold"
        )
    position = {label: i for i, label in enumerate(labels)}
    for label, value in stored.items():
        if label not in position:
            raise EmolabelError(
                f'{where}: "thresholds" names {label!r}, which is not one of the model\'s labels '
                f"({', '.join(labels)}): fix the file or pass --threshold"
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise EmolabelError(
                f'{where}: "thresholds" gives {label!r} the value {value!r}: use a number from '
                "0 to 1, or pass --threshold"
            )
        out[position[label]] = value
    return out


@contextlib.contextmanager
def loading_errors(source: str, part: str) -> Iterator[None]:
    """Any failure while loading or first running a model becomes one EmolabelError line
    naming the files to look at: transformers, tokenizers and safetensors raise dozens of
    exception types (KeyError, SafetensorError, a Rust panic...) for damaged folders."""
    try:
        yield
    except EmolabelError:
        raise
    except BaseException as exc:
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise  # KeyboardInterrupt, SystemExit
        raise EmolabelError(_load_failure(source, part, exc)) from None


def _load_failure(source: str, part: str, exc: BaseException) -> str:
    text = str(exc).strip()
    reason = text.splitlines()[0] if text else type(exc).__name__
    if type(exc).__name__ == "KeyError":
        reason = f"missing key {reason}"
    if not Path(source).exists():
        return (
            f"could not load model hub id {source}: {reason}; pass a folder written by "
            "`emolabel train` (hub downloads need network access)"
        )
    files = TOKENIZER_FILES if part == "tokenizer" else MODEL_FILES
    return (
        f"could not load the {part} of {source} ({files}): {reason}; re-save the model "
        "(save_pretrained) or copy those files again"
    )
