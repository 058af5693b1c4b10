"""RealMLP-TD's training schedules as Keras machinery: the coslog₄ learning rate (`CosLog`, a
`LearningRateSchedule`) and flat-then-cosine dropout and weight decay (`flat_cos`, applied each
step by the `FlatCosine` callback).

Both are functions of training progress `t` in [0, 1]. pytabkit updates its hyperparameters at the
start of every batch from `t = samples seen / (epochs * samples per epoch)`
(`models/training/lightning_callbacks.py::HyperparamCallback.on_train_batch_start`,
`models/training/lightning_modules.py::training_step`); here `t = step / total_steps`, the same
value when every batch has the same size. Formulas: `models/training/scheduling.py::get_schedule`.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from kerasact._errors import invalid
from kerasact.model.factored_adam import FactoredAdam
from kerasact.model.scheduled_dropout import ScheduledDropout


def _count(arg: str, value: Any, least: int) -> int:
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
        self.total_steps = _count("total_steps", total_steps, 1)
        self.cycles = _count("cycles", cycles, 1)

    def __call__(self, step: Any) -> Any:
        """The learning rate at optimizer step `step` (0 for the first step, as in pytabkit)."""
        t = ops.minimum(ops.cast(step, "float32") / float(self.total_steps), 1.0)
        phase = ops.log2(1.0 + float(2**self.cycles - 1) * t)
        return self.learning_rate * 0.5 * (1.0 - ops.cos(2.0 * math.pi * phase))

    def get_config(self) -> dict[str, Any]:
        """The `__init__` arguments."""
        return {"learning_rate": self.learning_rate, "total_steps": self.total_steps, "cycles": self.cycles}


def flat_cos(t: float) -> float:
    """RealMLP's `flat_cos`: 1 for the first half of training, then a half cosine down to 0.

    pytabkit `get_schedule('flat_cos')` = `combine_scheds([0.5, 0.5], [ConstantSchedule(1.0),
    cos_sched.scaled(1., 0.)])`, i.e. `1` for `t < 1/2`, else `(1 + cos(π (2t - 1))) / 2`; `t` is
    clipped to [0, 1].

    Example:
        >>> flat_cos(0.25), flat_cos(0.75), flat_cos(1.0)
        (1.0, 0.5, 0.0)
    """
    t = min(max(float(t), 0.0), 1.0)
    return 1.0 if t < 0.5 else 0.5 * (1.0 + math.cos(math.pi * (2.0 * t - 1.0)))


class FlatCosine(keras.callbacks.Callback):
    """Sets every `ScheduledDropout`'s rate and a `FactoredAdam`'s weight decay to their base value
    × `flat_cos(t)` before each training step (pytabkit `p_drop_sched='flat_cos'`,
    `wd_sched='flat_cos'`).

    The values live in variables the traced step reads, so nothing is retraced. `t` is
    `step / total_steps`, the step counted from this fit's first batch; `total_steps` defaults to
    `epochs × steps` from `fit`. When `fit` does not know its steps per epoch, `t` moves once per
    epoch (`epoch / epochs`). With `steps_per_execution > 1` a value holds for a whole execution.

    Args:
        total_steps: the fit's total steps; None reads them from `fit`'s parameters.

    Example:
        >>> model.fit(X, y, epochs=256, batch_size=256, callbacks=[FlatCosine()])  # doctest: +SKIP
    """

    def __init__(self, total_steps: int | None = None) -> None:
        super().__init__()
        self.total_steps = None if total_steps is None else _count("total_steps", total_steps, 1)
        self.value = 1.0  # the factor last applied
        self._targets: list[tuple[keras.Variable, float]] = []
        self._total: int | None = None
        self._per_epoch = False
        self._steps = self._offset = self._last = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Find what to schedule and the fit's length; refuse a model with nothing to schedule."""
        layers = [layer for layer in self.model._flatten_layers() if isinstance(layer, ScheduledDropout)]
        self._targets = [(layer.rate_now, layer.rate) for layer in layers if layer.rate_now is not None]
        optimizer = self.model.optimizer
        if isinstance(optimizer, FactoredAdam) and optimizer.decoupled_weight_decay:
            self._targets.append((optimizer.weight_decay_now, optimizer.decoupled_weight_decay))
        if not self._targets:
            raise invalid("model", self.model.name, "a built model with ScheduledDropout layers or compiled with "
                          "FactoredAdam(weight_decay>0)", "drop FlatCosine from the callbacks, or use those pieces")
        steps, epochs = self.params.get("steps"), self.params.get("epochs") or 1
        self._per_epoch = self.total_steps is None and not steps
        self._total = self.total_steps or (epochs if self._per_epoch else steps * epochs)
        self._steps, self._offset, self._last = steps or 0, 0, 0

    def _apply(self, t: float) -> None:
        self.value = flat_cos(t)
        for variable, base in self._targets:
            variable.assign(base * self.value)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Per-epoch mode: `t = epoch / epochs`; per-step mode: count the steps before this epoch."""
        if self._per_epoch:
            self._apply(epoch / self._total)
        self._offset, self._last = (epoch * self._steps if self._steps else self._offset + self._last), 0

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Per-step mode: `t = step / total_steps` before the step, as pytabkit."""
        if not self._per_epoch:
            self._apply((self._offset + batch) / self._total)
            self._last = batch + 1
