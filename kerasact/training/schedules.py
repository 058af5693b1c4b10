"""RealMLP-TD's training schedules as Keras machinery: the coslog₄ learning rate (`CosLog`, a
`LearningRateSchedule`) and flat-then-cosine dropout and weight decay (`flat_cos`, applied each
step by the `FlatCosine` callback).

Both are functions of training progress `t` in [0, 1]. pytabkit updates its hyperparameters at the
start of every batch from `t = samples seen / (epochs * samples per epoch)`
(`models/training/lightning_callbacks.py::HyperparamCallback.on_train_batch_start`,
`models/training/lightning_modules.py::training_step`); here `t = step / total_steps`, the same
value when every batch has the same size. Formulas: `models/training/scheduling.py::get_schedule`.
`CosLog` lives in `kerasact.model.lr_schedules` (a saved optimizer names it, and loading a model
must not need `kerasact.training`); it is re-exported here.
"""

from __future__ import annotations

import math

import keras

from kerasact._errors import invalid
from kerasact.model.factored_adam import FactoredAdam
from kerasact.model.lr_schedules import CosLog, count

__all__ = ["CosLog", "FlatCosine", "flat_cos"]
from kerasact.model.scheduled_dropout import ScheduledDropout


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
        self.total_steps = None if total_steps is None else count("total_steps", total_steps, 1)
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
