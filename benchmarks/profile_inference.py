"""Where emolabel's inference time goes: tokenizing, batching, the bare forward pass, and
`annotate` end to end, on tweets and on 512-token texts.

bench_annotate.py says how fast emolabel is against the pipeline; this says which part to
work on next. Each figure is the best of --rounds, with the device synchronised around it.

    python benchmarks/profile_inference.py --device cuda               # what the GPU notes use
    python benchmarks/profile_inference.py --device cuda --compile     # + torch.compile
    python benchmarks/profile_inference.py --device cpu -n 2000 --annotate-rows 5000

Texts come from ../shared/data/emotion like bench_annotate.py's (or --texts FILE).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emolabel.inference import EmotionClassifier

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_annotate import long_texts, machine_line, read_texts  # noqa: E402
from bench_memory import write_corpus  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto", help="auto (default), cuda, cuda:N or cpu")
    p.add_argument("--precision", default="auto")
    p.add_argument("--texts", type=Path, help="one text per line (default: the emotion data)")
    p.add_argument("-n", type=int, default=20_000, help="tweets (long texts: n / 10)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--compile", action="store_true", help="also time the torch.compile path")
    p.add_argument(
        "--annotate-rows", type=int, default=200_000, help="CSV rows for annotate (0: skip)"
    )
    p.add_argument("--chunk-rows", default="4096,32768", help="annotate chunk sizes to time")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    import torch

    from emolabel.annotation.pipeline import annotate
    from emolabel.errors import EmolabelError
    from emolabel.inference import EmotionClassifier, builtin_model_dir, resolve_device

    try:
        device = resolve_device(args.device)
    except EmolabelError as exc:
        sys.exit(f"error: {exc}")
    on_gpu = device.startswith("cuda")

    def synchronize() -> None:
        if on_gpu:
            torch.cuda.synchronize()

    def best(fn: Callable[[], object]) -> float:
        seconds = float("inf")
        for _ in range(args.rounds):
            synchronize()
            start = time.perf_counter()
            fn()
            synchronize()
            seconds = min(seconds, time.perf_counter() - start)
        return seconds

    model = str(builtin_model_dir())
    texts, _ = read_texts(args.texts)
    started = time.perf_counter()
    clf = EmotionClassifier.load(model, device=device, precision=args.precision)
    clf.predict_proba(["warm up"] * 64)
    print(f"machine: {machine_line()}")
    print(
        f"device {device}, precision {clf.precision}, load + warm-up "
        f"{time.perf_counter() - started:.1f} s, "
        f"TOKENIZERS_PARALLELISM={os.environ.get('TOKENIZERS_PARALLELISM')}"
    )
    sets = {
        "tweets": (texts * (args.n // len(texts) + 1))[: args.n],
        "512-token texts": long_texts(texts, max(1, args.n // 10), clf.tokenizer),
    }
    compiled = None
    if args.compile:
        compiled = EmotionClassifier.load(
            model, device=device, precision=args.precision, compile=True
        )
    for name, batch in sets.items():
        ids = clf.encode(batch).ids
        clf.predict_proba_encoded(ids[:256])
        encode_s = best(lambda batch=batch: clf.encode(batch))
        batches_s = best(lambda ids=ids: clf.predict_proba_encoded(ids))
        big_s = best(lambda ids=ids: clf.predict_proba_encoded(ids, batch_tokens=1 << 18))
        forward_s = best(bare_forward(clf, ids))
        print(
            f"{name}: {len(batch):,} texts: tokenizing {encode_s:.3f} s, batches {batches_s:.3f} s "
            f"(262,144-token batches {big_s:.3f} s; bare forward {forward_s:.3f} s) "
            f"-> {len(batch) / (encode_s + batches_s):,.0f} texts/s"
        )
        if compiled is not None:
            start = time.perf_counter()
            compiled.predict_proba_encoded(ids)
            synchronize()
            first = time.perf_counter() - start
            print(
                f"  compiled: first pass {first:.1f} s, then batches "
                f"{best(lambda ids=ids: compiled.predict_proba_encoded(ids)):.3f} s"
            )

    if args.annotate_rows:
        with tempfile.TemporaryDirectory() as tmp:
            source, target = Path(tmp) / "corpus.csv", Path(tmp) / "out.parquet"
            write_corpus(source, args.annotate_rows, texts)
            for chunk_rows in (int(c) for c in args.chunk_rows.split(",")):
                start = time.perf_counter()
                summary = annotate(source, target, model=clf, overwrite=True, chunk_rows=chunk_rows)
                seconds = time.perf_counter() - start
                print(
                    f"annotate {summary.rows:,} rows, --chunk-rows {chunk_rows}: {seconds:.2f} s "
                    f"= {summary.rows / seconds:,.0f} rows/s (model already loaded)"
                )


def bare_forward(clf: EmotionClassifier, ids: Sequence[Sequence[int]]) -> Callable[[], None]:
    """The model alone on the same batches, inputs already on the device."""
    import torch

    from emolabel.inference.batching import pad_batch, plan_batches

    lengths = [len(x) for x in ids]
    tensors = []
    for batch in plan_batches(lengths, clf.default_batch_tokens(), clf.max_batch_size()):
        input_ids, mask = pad_batch([ids[i] for i in batch], clf.pad_id, multiple=8)
        device = clf.model.device
        tensors.append((torch.from_numpy(input_ids).to(device), torch.from_numpy(mask).to(device)))

    def run() -> None:
        with torch.inference_mode():
            for input_ids, mask in tensors:
                clf.model(input_ids=input_ids, attention_mask=mask)

    return run


if __name__ == "__main__":
    main()
