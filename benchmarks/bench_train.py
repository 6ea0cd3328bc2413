"""Training speed: seconds per MiniLM-L6 epoch on dair-ai/emotion, by precision and optimizer.

Each precision fine-tunes the bundled MiniLM-L6 with `emolabel.train` (the trainer the CLI
runs: length-grouped batches of 32, dynamic padding) for --steps optimizer steps. The first
--warmup steps are not timed; the rest give seconds per step, and an epoch is projected as
ceil(train rows / batch size) steps. Runs alternate (fp32, bf16, fp32, ...) for --rounds
rounds and each precision keeps its best round, so a burst of load elsewhere skews neither.
--optimizers adds a second axis: each precision runs with each optimizer (the trainer's
choice is optimizer_name: fused AdamW where torch has it; adamw_torch is the per-tensor loop
emolabel used before 0.3.1).

    python benchmarks/bench_train.py                       # 150 steps per run, 1 round
    python benchmarks/bench_train.py --steps 500 --rounds 2
    python benchmarks/bench_train.py --data my_split_folder/
    python benchmarks/bench_train.py --device cuda --precisions fp32,fp16,bf16
    python benchmarks/bench_train.py --precisions bf16 --optimizers adamw_torch,adamw_torch_fused

The default data is ../shared/data/emotion (16,000 training texts).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_annotate import gpu_line, load_average, machine_line  # noqa: E402

from emolabel.events import Events  # noqa: E402
from emolabel.training import trainer as trainer_module  # noqa: E402
from emolabel.training.trainer import train  # noqa: E402


class StepClock(Events):
    """Timestamps every optimizer step."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.train_rows = 0

    def data_loaded(self, data) -> None:  # type: ignore[no-untyped-def]
        self.train_rows = len(data.splits["train"])

    def step(self, step: int, epoch: float, loss: float | None) -> None:
        self.times.append(time.perf_counter())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "emotion"))
    p.add_argument("--base-model", default="minilm")
    p.add_argument("--steps", type=int, default=150, help="optimizer steps per run")
    p.add_argument("--warmup", type=int, default=10, help="untimed first steps")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--precisions", default="fp32,bf16")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    p.add_argument(
        "--optimizers",
        default="",
        help="comma-separated transformers optim names (default: the trainer's own choice)",
    )
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.steps <= args.warmup + 1:
        sys.exit("error: --steps must exceed --warmup by at least 2")
    if not Path(args.data).exists():
        sys.exit(f"error: --data {args.data} does not exist: pass a labelled file or folder")
    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    optimizers = [o.strip() for o in args.optimizers.split(",") if o.strip()] or [""]
    runs = [(p, o) for p in precisions for o in optimizers]
    own = trainer_module.optimizer_name
    print(f"machine: {machine_line()}")
    if args.device.startswith("cuda"):
        print(f"gpu: {gpu_line(args.device)}")
    print(f"load average at start: {load_average()}")
    best: dict[str, float] = {}
    rows = 0
    for round_no in range(args.rounds):
        for precision, optimizer in runs:
            name = f"{precision} {optimizer or own(args.device)}"
            trainer_module.optimizer_name = (lambda _d, o=optimizer: o) if optimizer else own
            clock = StepClock()
            with tempfile.TemporaryDirectory() as tmp:
                train(
                    args.data,
                    Path(tmp) / "model",
                    events=clock,
                    base_model=args.base_model,
                    batch_size=args.batch_size,
                    max_steps=args.steps,
                    precision=precision,
                    device=args.device,
                    threads=args.threads,
                )
            rows = clock.train_rows
            timed = clock.times[args.warmup :]
            per_step = (timed[-1] - timed[0]) / (len(timed) - 1)
            best[name] = min(best.get(name, math.inf), per_step)
            print(
                f"round {round_no + 1}: {name} {per_step:.3f} s/step (load {load_average()})",
                flush=True,
            )
    trainer_module.optimizer_name = own
    steps_per_epoch = math.ceil(rows / args.batch_size)
    baseline = next(iter(best.values()))
    print()
    print(f"{rows:,} training rows, batch {args.batch_size}: {steps_per_epoch} steps per epoch")
    print(f"{'precision and optimizer':30s} {'s/step':>8s} {'s/epoch':>9s} {'speed-up':>9s}")
    for name, per_step in best.items():
        print(
            f"{name:30s} {per_step:8.3f} {per_step * steps_per_epoch:9.0f} "
            f"{baseline / per_step:8.2f}x"
        )
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    main()
