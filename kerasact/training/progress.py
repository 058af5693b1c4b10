"""`Progress`: what `train(verbose="auto")` shows while a model learns. On a terminal, one line
rewritten in place (epoch, loss, the validation metric, the best epoch so far, time left); in a
log (CI, a file) a line at the first epoch, every tenth of the run and the last, instead of
Keras's line per epoch (256 of them for the table recipe). `verbose=1` or `2` keeps Keras's own."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

import keras

from kerasact.training.best_epoch import keeper

LINES = 10  # lines a run writes to a log (not a terminal), plus its first and last epoch


def _watched(steps: Sequence[keras.callbacks.Callback]) -> tuple[str, str]:
    """(metric, mode) of the progress line's "best": the kept epoch's keeper's (`best_epoch.keeper`),
    else the first validation metric a callback monitors, else the validation loss (lower is better)."""
    found = keeper(steps)
    candidates = [found] if found is not None else list(steps)
    for step in candidates:
        monitor, mode = getattr(step, "monitor", None), getattr(step, "mode", None)
        if isinstance(monitor, str) and monitor.startswith("val_"):
            if mode not in ("min", "max"):  # EarlyStopping's "auto" and Keras's own inference
                mode = "max" if any(w in monitor for w in ("acc", "auc", "r2")) else "min"
            return monitor, mode
    return "val_loss", "min"


def _clock(seconds: float) -> str:
    seconds = max(int(round(seconds)), 0)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


class Progress(keras.callbacks.Callback):
    """One progress line per run: rewritten in place on a terminal, a few lines in a log.

    Args:
        steps: the run's other callbacks, to show the metric its kept epoch is chosen by.
        stream: where to write (default: standard output).

    Example:
        >>> model.fit(X, y, epochs=50, verbose=0, callbacks=[Progress([])])  # doctest: +SKIP
    """

    def __init__(self, steps: Sequence[keras.callbacks.Callback] = (), stream: TextIO | None = None) -> None:
        super().__init__()
        self.metric, self.mode = _watched(steps)
        self.keeper = keeper(steps)  # its own best is shown when it has one: the line never disagrees with it
        self.stream = stream
        self.best: tuple[float, int] | None = None
        self.started = 0.0
        self.first = 0
        self.first_done = 0.0  # when the first epoch ended: the later ones time the rest
        self.width = 0
        self.last: tuple[int, dict[str, Any]] | None = None  # the latest epoch and its logs
        self.said = True  # whether the latest epoch's line is out (a log skips most epochs)

    @property
    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    def _terminal(self) -> bool:
        try:
            return bool(self._out.isatty())
        except (AttributeError, ValueError):  # no stdout (pythonw), a closed stream, a stream without isatty
            return False

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.started, self.best, self.first, self.last = time.perf_counter(), None, -1, None

    def line(self, epoch: int, logs: dict[str, Any], final: bool = False, now: float | None = None) -> str:
        """The progress text after `epoch` (0-based) with its logs; `final`: the run ended there
        (early stopping included), so the time shown is the time taken, not the time left."""
        total = self.params.get("epochs") or epoch + 1
        value = logs.get(self.metric)
        kept = getattr(self.keeper, "best_epoch", None)
        if isinstance(kept, int) and isinstance(getattr(self.keeper, "best", None), (int, float)):
            self.best = (float(self.keeper.best), kept + 1)  # its tie rule: RestoreBestEpoch's last, Keras's first
        elif isinstance(value, (int, float)) and math.isfinite(value):
            better = self.best is None or (value <= self.best[0] if self.mode == "min" else value >= self.best[0])
            if better:  # the latest of tied epochs, as RestoreBestEpoch keeps
                self.best = (float(value), epoch + 1)
        now = time.perf_counter() if now is None else now
        # Timed from the first epoch's end: the first one also builds and traces the steps.
        left = (now - self.first_done) / max(epoch - self.first, 1) * (total - epoch - 1)
        parts = [f"epoch {epoch + 1}/{total}"]
        if "loss" in logs:
            parts.append(f"loss {logs['loss']:.4f}")
        if isinstance(value, (int, float)):
            parts.append(f"{self.metric} {value:.4f}")
        if self.best is not None:
            parts.append(f"best {self.best[0]:.4f} at epoch {self.best[1]}")
        ended = final or epoch + 1 >= total
        if ended:
            parts.append(f"{_clock(now - self.started)} in all")
        elif epoch > self.first:
            parts.append(f"{_clock(left)} left")
        return " · ".join(parts)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        now = time.perf_counter()
        if self.first < 0:
            self.first, self.first_done = epoch, now  # a resumed run starts mid-way
        self.last = (epoch, dict(logs or {}))
        text = self.line(*self.last, now=now)
        total = self.params.get("epochs") or epoch + 1
        out = self._out
        if out is None:  # no standard output at all (pythonw): nothing to show
            return
        if self._terminal():
            out.write("\r" + text.ljust(self.width))
            self.width = len(text)
        elif epoch == self.first or epoch + 1 == total or (epoch + 1) % max(1, total // LINES) == 0:
            out.write(text + "\n")
            self.said = True
        else:
            self.said = False
        out.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        out = self._out
        if self.last is None or out is None:
            return
        epoch, logs = self.last
        text = self.line(epoch, logs, final=True)  # stopped early: the time it took, not the time it had left
        if self._terminal():
            out.write("\r" + text.ljust(self.width) + "\n")
        elif not self.said or epoch + 1 < (self.params.get("epochs") or 0):  # an early stop: the last line says so
            out.write(text + "\n")
        out.flush()
