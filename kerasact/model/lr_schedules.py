"""The learning-rate schedules a saved optimizer may name, registered for `.keras` loading:
RealMLP-TD's coslog₄ (`CosLog`; pytabkit `models/training/scheduling.py::get_schedule`, `CoslogFunc`).
The training-time schedules that act through callbacks are in `kerasact.training.schedules`.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from kerasact._errors import invalid


def count(arg: str, value: Any, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise invalid(arg, value, f"an integer >= {least}", f"pass e.g. {arg}={max(least, 4)}")
    return value


@keras.saving.register_keras_serializable(package="kerasact")
class CosLog(keras.optimizers.schedules.LearningRateSchedule):
    """coslog_k: `lr(t) = learning_rate * (1 - cos(2π log2(1 + (2^k - 1) t))) / 2`, `t = step / total_steps`.

    k cycles that start and end at 0 and grow geometrically longer (each twice the one before),
    pytabkit's `CoslogFunc(n_cycles)` (`models/training/scheduling.py`, `lr_sched='coslog4'`).
    `t` is clipped to 1, so steps past `total_steps` train at 0.

    Args:
        learning_rate: the peak rate (RealMLP-TD: 0.04 classes, 0.2 regression).
        total_steps: epochs × steps per epoch of the whole fit.
        cycles: k (RealMLP-TD: 4).

    Example:
        >>> schedule = CosLog(0.04, total_steps=1000)
        >>> round(float(schedule(15)), 5)  # t = 0.015: log2(1.225) = 0.29 of the first cycle
        0.02531
    """

    def __init__(self, learning_rate: float, total_steps: int, cycles: int = 4) -> None:
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or not learning_rate > 0:
            raise invalid("learning_rate", learning_rate, "a number > 0", "pass the peak rate, e.g. 0.04")
        self.learning_rate = float(learning_rate)
        self.total_steps = count("total_steps", total_steps, 1)
        self.cycles = count("cycles", cycles, 1)

    def __call__(self, step: Any) -> Any:
        """The learning rate at optimizer step `step` (0 for the first step, as in pytabkit)."""
        t = ops.minimum(ops.cast(step, "float32") / float(self.total_steps), 1.0)
        phase = ops.log2(1.0 + float(2**self.cycles - 1) * t)
        return self.learning_rate * 0.5 * (1.0 - ops.cos(2.0 * math.pi * phase))

    def get_config(self) -> dict[str, Any]:
        """The `__init__` arguments."""
        return {"learning_rate": self.learning_rate, "total_steps": self.total_steps, "cycles": self.cycles}
