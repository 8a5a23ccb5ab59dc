"""Trainer callbacks: metrics saved as JSON lines and shown as one readable log line.

Imports transformers at module level: import it only where training happens.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

log = logging.getLogger("callgym.trainers")

# The metrics worth a glance, in display order, with their short names.
SHOWN = (
    ("loss", "loss"),
    ("rewards/margins", "margin"),
    ("rewards/accuracies", "acc"),
    ("rewards/chosen", "r_chosen"),
    ("rewards/rejected", "r_rejected"),
    ("learning_rate", "lr"),
)


class MetricsCallback(TrainerCallback):
    """Append every log (loss, reward margins and accuracies, ...) to a JSONL file.

    Args:
        path: the ``metrics.jsonl`` file; appended to, so a resumed run continues it.
        phase: a label stored on every line (``"sft"`` or ``"dpo"``).
    """

    def __init__(self, path: str | Path, phase: str) -> None:
        self.path = Path(path)
        self.phase = phase

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if not logs or not state.is_world_process_zero:
            return
        record = {
            "phase": self.phase,
            "step": state.global_step,
            "epoch": state.epoch,
            **logs,
            "time": time.time(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, default=float) + "\n")
        shown = "  ".join(f"{short} {_fmt(logs[key])}" for key, short in SHOWN if key in logs)
        if shown:
            log.info("%s step %d/%d  %s", self.phase, state.global_step, state.max_steps, shown)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e-3 and value else f"{value:.4f}"
    return str(value)


class ProgressCallback(TrainerCallback):
    """A rich progress bar over the training steps, with the latest loss and reward margin.

    It draws on rich's global console, so under the pipeline it stays on the terminal while
    transformers' own tqdm bars go to the run's log file.
    """

    def __init__(self, phase: str) -> None:
        self.phase = phase
        self._progress: Any = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from callgym.library_log import bars_take_prints

        if not state.is_world_process_zero:
            return
        self._progress = Progress(
            TextColumn(f"[bold]{self.phase}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[stats]}"),
            redirect_stdout=bars_take_prints(), redirect_stderr=bars_take_prints(),
        )
        self._progress.start()
        self._task = self._progress.add_task(
            self.phase, total=state.max_steps, completed=state.global_step, stats=""
        )

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if self._progress is not None and logs:
            stats = "  ".join(f"{short} {_fmt(logs[key])}" for key, short in SHOWN[:3] if key in logs)
            self._progress.update(self._task, stats=stats)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=state.global_step)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
