"""Throughput of emolabel's classifier against `transformers.pipeline`, in one run.

Same model, same texts, same process, same thread count. The pipeline runs at each batch
size in --pipeline-batch-sizes and its best counts as the baseline. Then every emolabel
precision mode runs on the same texts, in interleaved rounds (baseline, fp32, bf16, ...,
then again) so that a burst of load from elsewhere hits all of them alike; each figure is
the best round. Timings include tokenization (`predict_proba` on raw strings), as the
pipeline's do. Agreement is the share of texts whose top label matches emolabel's fp32.
Loading an emolabel model raises glibc's malloc thresholds for the whole process (see
emolabel/allocator.py), so the pipeline, timed in the same process, gets them too. The
pipeline's first call sets TOKENIZERS_PARALLELISM=false for the whole process, which
would also stop the tokenizer threads emolabel encodes with (on a 16-core GPU host this
made emolabel 3-5x slower); each emolabel run starts with the variable as it was at start.

    python benchmarks/bench_annotate.py                      # 4,000 short real texts
    python benchmarks/bench_annotate.py --long               # 512-token texts
    python benchmarks/bench_annotate.py --compile            # add the torch.compile path
    python benchmarks/bench_annotate.py --device cuda        # on a GPU (+ GPU utilisation)
    python benchmarks/bench_annotate.py --texts FILE --model DIR

Texts come from ../shared/data/emotion/{val,train}.txt (val first, `text;label` lines)
unless --texts FILE (one text per line) is given. The model is the built-in
emolabel/models/ekman (the default) unless --model DIR is given.

On a GPU the baseline is the fp32 pipeline (what `pipeline(..., device=0)` gives); an fp16
pipeline is timed too and its ratio printed, since a GPU user may well ask for it. GPU
utilisation is the mean of NVML's reading sampled every 20 ms during the timed runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARED_EMOTION = ROOT.parent / "shared" / "data" / "emotion"
PRECISION_MODES = ("fp32", "bf16", "int8", "auto")
GPU_PRECISION_MODES = ("fp32", "fp16", "bf16", "auto")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--texts", type=Path, help="one text per line (default: the emotion data)")
    p.add_argument("--model", help="model folder (default: the built-in model)")
    p.add_argument(
        "-n", type=int, help="number of texts (default 4000, 256 with --long; x10 on a GPU)"
    )
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    p.add_argument("--long", action="store_true", help="512-token texts built from real ones")
    p.add_argument(
        "--modes",
        help="emolabel precisions (default: fp32,bf16,int8,auto on the "
        "CPU, fp32,fp16,bf16,auto on a GPU)",
    )
    p.add_argument("--compile", action="store_true", help="also time precision auto + compile")
    p.add_argument("--pipeline-batch-sizes", help="default 1,8,32,64 (GPU: 8,32,64,128,256)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    p.add_argument("--batch-tokens", type=int, help="emolabel token budget (default: its own)")
    p.add_argument("--threads", type=int, help="torch threads (default: torch's, = cores)")
    return p.parse_args(argv)


# ------------------------------------------------------------------------ inputs
def read_texts(path: Path | None) -> tuple[list[str], int]:
    """Texts, and how many leading ones come from the validation split (0 if unknown)."""
    if path is not None:
        if not path.is_file():
            sys.exit(f"error: --texts {path}: no such file")
        texts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        texts = [t for t in texts if t]
        if not texts:
            sys.exit(f"error: --texts {path} holds no non-empty lines")
        return texts, 0
    val, train = SHARED_EMOTION / "val.txt", SHARED_EMOTION / "train.txt"
    if not (val.exists() and train.exists()):
        sys.exit(
            f"error: no default texts: {SHARED_EMOTION} is missing. Pass --texts FILE "
            "(one text per line), e.g. --texts sample_data/... or any corpus you have."
        )

    def split(file: Path) -> list[str]:
        lines = file.read_text(encoding="utf-8").splitlines()
        return [line.rsplit(";", 1)[0] for line in lines if ";" in line]

    val_texts = split(val)
    return val_texts + split(train), len(val_texts)


def long_texts(texts: list[str], n: int, tokenizer, min_tokens: int = 600) -> list[str]:  # type: ignore[no-untyped-def]
    """Join random real texts until each has at least `min_tokens` tokens."""
    rng = random.Random(0)
    out: list[str] = []
    for _ in range(n):
        parts: list[str] = []
        chars = 0
        while chars < min_tokens * 5:
            parts.append(rng.choice(texts))
            chars += len(parts[-1]) + 1
        text = " ".join(parts)
        while len(tokenizer(text, add_special_tokens=False)["input_ids"]) < min_tokens:
            text += " " + rng.choice(texts)
        out.append(text)
    return out


# ------------------------------------------------------------------------ runners
def machine_line() -> str:
    import torch

    name = platform.processor() or platform.machine()
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and name in ("", "x86_64"):
                name = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    isa = [f for f in ("avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16") if f in flags]
    return (
        f"{name}, {os.cpu_count()} logical CPUs, torch threads {torch.get_num_threads()}, "
        f"{' '.join(isa) or 'no AVX-512'}"
    )


def gpu_line(device: str) -> str:
    import torch

    props = torch.cuda.get_device_properties(torch.device(device))
    return (
        f"{props.name}, {props.total_memory / 2**30:.0f} GiB, {props.multi_processor_count} SMs, "
        f"CUDA {torch.version.cuda}"
    )


class GpuUtilisation:
    """Mean GPU utilisation (NVML, %) over the `with` blocks it is used in."""

    def __init__(self, device: str) -> None:
        import threading

        self._device = device
        self._samples: list[int] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> GpuUtilisation:
        import threading

        import torch

        def sample() -> None:
            while not self._stop.wait(0.02):
                self._samples.append(torch.cuda.utilization(self._device))

        self._stop.clear()
        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def mean(self) -> float | None:
        return sum(self._samples) / len(self._samples) if self._samples else None


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


TOKENIZERS_PARALLELISM_AT_START = os.environ.get("TOKENIZERS_PARALLELISM")


def as_in_its_own_process(fn: Callable[[], object]) -> Callable[[], object]:
    """Undo the pipeline's TOKENIZERS_PARALLELISM=false before an emolabel run."""

    def run() -> object:
        if TOKENIZERS_PARALLELISM_AT_START is None:
            os.environ.pop("TOKENIZERS_PARALLELISM", None)
        else:
            os.environ["TOKENIZERS_PARALLELISM"] = TOKENIZERS_PARALLELISM_AT_START
        return fn()

    return run


def time_call(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def make_pipeline(model: str, device: str, dtype: str = "fp32"):  # type: ignore[no-untyped-def]
    """The baseline a user would write: fp32 (the built-in model's stored fp16 upcast)."""
    import torch
    from transformers import pipeline

    torch_dtype = {"fp32": torch.float32, "fp16": torch.float16}[dtype]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline(
            "text-classification",
            model=model,
            device=torch.device(device) if device != "cpu" else -1,
            dtype=torch_dtype,
        )


def pipeline_labels(pipe, texts: list[str], batch_size: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["label"] for r in pipe(texts, batch_size=batch_size, truncation=True)]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    import torch
    import transformers

    from emolabel.errors import EmolabelError
    from emolabel.inference import EmotionClassifier, builtin_model_dir, resolve_device
    from emolabel.inference.allocator import keep_freed_memory

    warnings.filterwarnings("ignore")
    transformers.logging.set_verbosity_error()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        device = resolve_device(args.device)
    except EmolabelError as exc:
        sys.exit(f"error: {exc}")
    gpu = device.startswith("cuda")
    default_modes = GPU_PRECISION_MODES if gpu else PRECISION_MODES
    modes = [m.strip() for m in (args.modes or ",".join(default_modes)).split(",") if m.strip()]
    default_sizes = "8,32,64,128,256" if gpu else "1,8,32,64"
    batch_sizes = [int(b) for b in (args.pipeline_batch_sizes or default_sizes).split(",")]
    all_texts, n_val = read_texts(args.texts)

    if args.model:
        model, model_note = args.model, "given with --model"
    else:
        model, model_note = str(builtin_model_dir()), "the built-in model"
    reference = EmotionClassifier.load(model, device=device, precision="fp32")
    n = args.n or (256 if args.long else 4000) * (10 if gpu else 1)
    if args.long:
        texts = long_texts(all_texts, n, reference.tokenizer)
        n_val = 0
    else:
        texts = (all_texts * (n // len(all_texts) + 1))[:n]
        n_val = min(n_val, n)
    tokens = [len(x) for x in reference.encode(texts).ids]

    print(f"machine: {machine_line()}")
    if gpu:
        print(f"gpu: {gpu_line(device)}")
    print(
        f"versions: python {platform.python_version()}, torch {torch.__version__}, "
        f"transformers {transformers.__version__}"
    )
    print(f"model: {model} ({model_note})")
    if not gpu:
        print(f"glibc malloc thresholds raised (pipeline included): {keep_freed_memory()}")
    print(
        f"texts: {len(texts)} {'long ' if args.long else ''}texts, mean "
        f"{np.mean(tokens):.1f} tokens (max {max(tokens)}) with special tokens"
        + (f", first {n_val} from the validation split" if n_val else "")
    )
    print(f"load average at start: {load_average()}")
    print()

    # ---------------------------------------------------------------- baseline sweeps
    runners: dict[str, Callable[[], object]] = {}
    for dtype in ("fp32", "fp16") if gpu else ("fp32",):
        pipe = make_pipeline(model, device, dtype)
        pipeline_labels(pipe, texts[:16], 8)  # warm-up
        sweep: dict[int, float] = {}
        for bs in batch_sizes:
            seconds, _ = time_call(lambda bs=bs, pipe=pipe: pipeline_labels(pipe, texts, bs))
            sweep[bs] = len(texts) / seconds
            print(f"pipeline {dtype} batch_size={bs:<4d} {sweep[bs]:9.1f} texts/s", flush=True)
        best_bs = max(sweep, key=lambda b: sweep[b])
        print(f"pipeline {dtype} best batch size: {best_bs}")
        runners[f"pipeline {dtype} (batch_size={best_bs})"] = lambda pipe=pipe, bs=best_bs: (
            pipeline_labels(pipe, texts, bs)
        )
    print()

    # ---------------------------------------------------------------- emolabel modes
    compile_s: dict[str, float] = {}
    classifiers: dict[str, EmotionClassifier] = {}
    for mode in modes:
        clf = EmotionClassifier.load(model, device=device, precision=mode)
        name = f"emolabel {mode}" + (f" (= {clf.precision})" if mode == "auto" else "")
        classifiers[name] = clf
    if gpu:
        clf = EmotionClassifier.load(model, device=device, precision="auto")
        clf.overlap_batches = False
        classifiers[f"emolabel auto (= {clf.precision}), no overlap"] = clf
    if args.compile:
        clf = EmotionClassifier.load(model, device=device, precision="auto", compile=True)
        name = f"emolabel auto + compile (= {clf.precision})"
        # Every batch shape class compiles once: time a full first pass as the warm-up.
        compile_s[name], _ = time_call(
            as_in_its_own_process(
                lambda clf=clf: clf.predict_proba(texts, batch_tokens=args.batch_tokens)
            )
        )
        classifiers[name] = clf
    for name, clf in classifiers.items():
        clf.predict_proba(texts[:64], batch_tokens=args.batch_tokens)  # warm-up
        runners[name] = as_in_its_own_process(
            lambda clf=clf: clf.predict_proba(texts, batch_tokens=args.batch_tokens)[0]
        )

    best: dict[str, float] = {name: float("inf") for name in runners}
    results: dict[str, object] = {}
    utilisation = {name: GpuUtilisation(device) for name in runners} if gpu else {}
    for round_no in range(args.rounds):
        for name, run in runners.items():
            with utilisation.get(name) or contextlib.nullcontext():
                seconds, results[name] = time_call(run)
            best[name] = min(best[name], seconds)
        print(f"round {round_no + 1}/{args.rounds} done (load {load_average()})", flush=True)
    print()

    ref_proba = as_in_its_own_process(lambda: reference.predict_proba(texts)[0])()
    ref_top = ref_proba.argmax(axis=1)
    ref_labels = np.array(reference.labels)[ref_top]
    base_name = next(iter(runners))
    base_rate = len(texts) / best[base_name]
    header = f"{'engine':42s} {'texts/s':>9s} {'vs pipeline':>11s} {'agree fp32':>10s}"
    if n_val:
        header += f" {'agree (val)':>11s}"
    if gpu:
        fp16_name = next(k for k in runners if k.startswith("pipeline fp16"))
        fp16_rate = len(texts) / best[fp16_name]
        header += f" {'vs fp16 pipeline':>16s} {'GPU util':>8s}"
    print(header)
    for name in runners:
        rate = len(texts) / best[name]
        out = results[name]
        if isinstance(out, np.ndarray):
            top = np.array(classifiers[name].labels)[out.argmax(axis=1)]
        else:
            top = np.array(out)
        same = top == ref_labels
        line = f"{name:42s} {rate:9.1f} {rate / base_rate:10.2f}x {100 * same.mean():9.2f}%"
        if n_val:
            line += f" {100 * same[:n_val].mean():10.2f}%"
        if gpu:
            used = utilisation[name].mean()
            line += f" {rate / fp16_rate:15.2f}x"
            line += f" {used:7.0f}%" if used is not None else f" {'n/a':>8s}"
        if name in compile_s:
            line += f"   [first pass, compiling: {compile_s[name]:.1f} s]"
        print(line)
    if args.long:
        print("(the pipeline keeps the first 512 tokens, emolabel the first 128 + last 382,")
        print(" so their labels differ on long texts by design)")
    auto = next((k for k in runners if k.startswith("emolabel auto (") and k.endswith(")")), None)
    compiled = next((k for k in runners if "compile" in k), None)
    if auto and compiled:
        eager_s, compiled_s = best[auto] / len(texts), best[compiled] / len(texts)
        overhead = compile_s[compiled] - best[compiled]
        if compiled_s < eager_s:
            rows = overhead / (eager_s - compiled_s)
            print(f"compile pays off from about {rows:,.0f} rows on ({overhead:.0f} s warm-up)")
        else:
            print("compile did not beat the eager path here")
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    main()
