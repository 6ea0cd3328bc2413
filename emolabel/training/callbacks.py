"""What the Hugging Face Trainer tells a run as it goes: progress for the `Events` listener,
one timed record per validated epoch, and Ctrl-C turned into "checkpoint, then stop"."""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from transformers import TrainerCallback

from emolabel.events import Events


@dataclass
class EpochRecord:
    """One epoch: wall time for training and validation, mean training loss, validation figures."""

    epoch: int
    step: int
    train_seconds: float | None  # None: validated before a --resume, not timed here
    eval_seconds: float | None
    train_loss: float | None
    metrics: dict[str, float]
    is_best: bool = False


class InterruptFlag:
    """First Ctrl-C asks the Trainer to checkpoint and stop; a second one aborts at once."""

    def __init__(self) -> None:
        self.is_set = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self.is_set:
            raise KeyboardInterrupt
        self.is_set = True

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


class EventsCallback(TrainerCallback):
    """Turns Trainer events into Events calls, times epochs, and obeys Ctrl-C."""

    def __init__(self, events: Events, interrupt: InterruptFlag) -> None:
        self.events = events
        self.interrupt = interrupt
        self.records: list[EpochRecord] = []
        self._epoch_start = time.perf_counter()
        self._eval_start: float | None = None
        self._train_seconds = 0.0
        self._losses: list[float] = []
        self._last_loss: float | None = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        epochs = math.ceil(args.num_train_epochs) if args.max_steps <= 0 else None
        self.events.train_begin(state.max_steps, epochs or 1, state.global_step)

    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._epoch_start = time.perf_counter()
        self._losses = []

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        if logs and "loss" in logs:
            self._last_loss = float(logs["loss"])
            self._losses.append(self._last_loss)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        self.events.step(state.global_step, float(state.epoch or 0.0), self._last_loss)
        if self.interrupt.is_set:
            control.should_save = True
            control.should_training_stop = True
        return control

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        self._train_seconds = time.perf_counter() - self._epoch_start
        if self.interrupt.is_set:
            control.should_evaluate = False  # the checkpoint is already saved; stop quickly
            control.should_save = False
        elif control.should_evaluate:
            self._eval_start = time.perf_counter()
            self.events.evaluate_begin(round(state.epoch or 0))
        return control

    def on_evaluate(
        self, args: Any, state: Any, control: Any, metrics: Any = None, **kwargs: Any
    ) -> None:
        if self._eval_start is None:
            return
        eval_seconds = time.perf_counter() - self._eval_start
        self._eval_start = None
        figures = {
            k.removeprefix("eval_"): float(v)
            for k, v in (metrics or {}).items()
            if isinstance(v, (int, float)) and not k.endswith(("runtime", "per_second"))
        }
        figures.pop("epoch", None)
        record = EpochRecord(
            epoch=round(state.epoch or 0),
            step=state.global_step,
            train_seconds=round(self._train_seconds, 2),
            eval_seconds=round(eval_seconds, 2),
            train_loss=float(np.mean(self._losses)) if self._losses else None,
            metrics=figures,
        )
        self.records.append(record)
        self.events.epoch_end(record)


def epoch_history(
    log_history: list[dict[str, Any]], timed: list[EpochRecord], best_step: int | None
) -> list[EpochRecord]:
    """Every validated epoch, from the Trainer's log (which survives --resume), with the wall
    times measured in this process where there are any."""
    by_step = {record.step: record for record in timed}
    records: list[EpochRecord] = []
    for entry in log_history:
        if "eval_loss" not in entry:
            continue
        step = int(entry["step"])
        record = by_step.get(step)
        if record is None:
            figures = {
                k.removeprefix("eval_"): float(v)
                for k, v in entry.items()
                if k.startswith("eval_") and not k.endswith(("runtime", "per_second"))
            }
            record = EpochRecord(round(entry.get("epoch", 0)), step, None, None, None, figures)
        record.is_best = step == best_step
        records.append(record)
    return records
