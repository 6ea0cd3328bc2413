"""One progress protocol for every job: hooks declared here once, with no-op defaults.

Jobs (annotate, evaluate, train, compare, distill) call the hooks they have; a display
(cli/render.py draws them with Rich) subclasses `Events` and overrides what it shows. No hook
is looked up by name, so a renamed hook is a type error rather than a silent no-op.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emolabel.training.callbacks import EpochRecord
    from emolabel.training.data import TrainingData


class Events:
    """Every hook a job may call; each is a no-op here."""

    # ---- rows through a model (annotate, evaluate)
    def start(self, total: int | None, unit: str) -> None:
        """Work starts: `total` rows or bytes (`unit`), or None when unknown."""

    def advance(self, rows: int, position: int) -> None:
        """`rows` more are done; `position` is how far into `total` the job is."""

    def stop(self) -> None:
        """The job ended, finished or not."""

    # ---- training (train, distill, compare)
    def data_loaded(self, data: TrainingData) -> None:
        """The data is read and cleaned."""

    def model_ready(self, info: dict[str, Any]) -> None:
        """Base model loaded and frozen as asked: source, parameter counts, device, precision."""

    def train_begin(self, total_steps: int, epochs: int, start_step: int) -> None:
        """The Trainer starts (or resumes at start_step)."""

    def step(self, step: int, epoch: float, loss: float | None) -> None:
        """One optimizer step done; loss is the latest logged training loss (None before any)."""

    def evaluate_begin(self, epoch: int) -> None:
        """Validation of an epoch starts."""

    def epoch_end(self, record: EpochRecord) -> None:
        """An epoch is trained and validated."""

    def interrupted(self, checkpoint: Path | None) -> None:
        """Ctrl-C: the job stopped; `checkpoint` is what can be resumed from, if anything."""

    def saving(self, output_dir: Path) -> None:
        """The best model is being validated and written."""

    # ---- distill
    def teacher_labelling(self, rows: int, what: str) -> None:
        """The teacher starts labelling `rows` texts (`what` says which)."""

    # ---- compare
    def model_begin(self, index: int, total: int, name: str, action: str) -> None:
        """Model `index` of `total` starts: action is `training` or `loading`."""

    def measuring(self, name: str) -> None:
        """Scoring of a model on the split starts."""

    def timing(self, models: int, repeats: int) -> None:
        """The speed rounds start: every model, `repeats` times, taking turns."""
