"""`RestoreBestEpoch`: train the whole epoch budget, then restore the weights of the last epoch
that reached the best validation score ("last best").

RealMLP-TD (Holzmüller et al., NeurIPS 2024) trains a fixed 256 epochs and keeps the best
validation epoch (`use_best_epoch=True`), comparing with `<=` on purpose so the latest of tied
epochs wins (`use_last_best_epoch=True`; pytabkit
`models/training/lightning_modules.py::on_validation_epoch_end`); it scores classification by
`class_error` and regression by `rmse` (`models/training/metrics.py::Metrics.default_val_metric_name`)
and restores through `models/training/lightning_callbacks.py::ModelCheckpointCallback`, which also
saves the weights at the start of the fit. In Keras: monitor `val_accuracy` with `mode="max"`
(1 - class_error) or `val_root_mean_squared_error` / `val_loss` (mean squared error: the same
order as rmse) with `mode="min"`.

`keras.callbacks.EarlyStopping(restore_best_weights=True)` is not this: it improves only on a
strict `<` (the first of tied epochs), and a small accuracy sample ties often.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import keras

from kerasact._errors import invalid

_MODES = ("min", "max")


class RestoreBestEpoch(keras.callbacks.Callback):
    """Keep the weights of the last epoch whose `monitor` is at least as good as every earlier one,
    and load them when training ends. A NaN score never counts as best; if no epoch counts, the
    weights from the start of the fit come back (as pytabkit's checkpoint does).

    Attributes:
        best: the best score seen (None before the first).
        best_epoch: the 0-based epoch restored (None: the starting weights).

    Args:
        monitor: the logged value to select on, e.g. `"val_accuracy"` or `"val_loss"`.
        mode: `"max"` for scores, `"min"` for errors.

    Example:
        >>> model.fit(X, y, validation_data=(X_val, y_val), epochs=256,  # doctest: +SKIP
        ...           callbacks=[RestoreBestEpoch("val_accuracy", mode="max")])
    """

    def __init__(self, monitor: str = "val_loss", mode: Literal["min", "max"] = "min") -> None:
        super().__init__()
        if not isinstance(monitor, str) or not monitor:
            raise invalid("monitor", monitor, "the name of a logged value", "pass e.g. monitor='val_accuracy'",
                          kind=TypeError)
        if mode not in _MODES:
            raise invalid("mode", mode, f"one of {list(_MODES)}", "'max' for accuracy-like, 'min' for losses",
                          options=_MODES)
        self.monitor, self.mode = monitor, mode
        self.best: float | None = None
        self.best_epoch: int | None = None
        self._weights: list | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Start afresh and keep the starting weights."""
        self.best, self.best_epoch = None, None
        self._weights = self.model.get_weights()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Keep this epoch's weights when its score ties or beats the best so far."""
        logs = logs or {}
        if self.monitor not in logs:
            raise invalid("monitor", self.monitor, f"one of the logged values {sorted(logs)}",
                          "pass validation data to fit and monitor a name it logs, e.g. 'val_loss'",
                          options=logs)
        current = float(logs[self.monitor])
        if math.isnan(current):
            return
        if self.best is None or (current <= self.best if self.mode == "min" else current >= self.best):
            self.best, self.best_epoch = current, epoch
            self._weights = self.model.get_weights()

    def on_train_end(self, logs: dict | None = None) -> None:
        """Load the kept weights."""
        if self._weights is not None:
            self.model.set_weights(self._weights)


def keeper(steps: Sequence[keras.callbacks.Callback]) -> keras.callbacks.Callback | None:
    """The callback among a fit's `steps` whose epoch the fit ends with: a `RestoreBestEpoch`, or an
    `EarlyStopping` that restores its best weights (Keras 3 restores them when training ends,
    stopped early or not: `keras/src/callbacks/early_stopping.py::on_train_end`); None: the last.

    Example:
        >>> keeper([RestoreBestEpoch()]).monitor
        'val_loss'
    """
    return next((step for step in steps if isinstance(step, RestoreBestEpoch) or (
        isinstance(step, keras.callbacks.EarlyStopping) and step.restore_best_weights)), None)


def kept_epoch(steps: Sequence[keras.callbacks.Callback]) -> int | None:
    """The 1-based epoch whose weights a finished fit kept; None: its last epoch (no keeper, or a
    `RestoreBestEpoch` that kept the starting weights, which `best_epoch` None says).

    Example:
        >>> kept_epoch([]) is None
        True
    """
    found = keeper(steps)
    if found is None or getattr(found, "best_epoch", None) is None:
        return None
    if isinstance(found, keras.callbacks.EarlyStopping) and found.best_weights is None:
        return None  # no epoch logged its monitor: nothing was kept, nothing restored
    return int(found.best_epoch) + 1
