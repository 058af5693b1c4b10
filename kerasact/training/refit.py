"""`train(refit=True)`: once the validation rows have chosen the epoch (and the temperature) and the
test rows have scored the model, it learns again from its starting weights on **every** row — the
training, validation and test rows together — for the epochs the first fit kept, on the same
schedules (learning rate, dropout, weight decay) laid over the whole budget, and is saved so. This
is RealMLP's refit (pytabkit `n_refit`: the model trained again on train + validation data and
stopped at the best validation epoch of the first fit, `StopAtEpochsCallback`); the temperature the
validation rows fitted stays. The run reports the first fit's test metrics: no row is left that the
refit model has not seen.

Why: a run holds 30% of the rows out (15% to choose the epoch and the temperature, 15% to report
its test metrics); on a small table the model learns from 70% of what it was given. Measured by
`benchmarks/tables_suite.py` (split seeds 0-2, error as 1 − accuracy or RMSE ÷ std, mean over the
seeds, refit against no refit), on the class tables of at most 5,000 training rows:
`leaf_id_flavia` 0.0044 → 0.0009 (log-loss 0.013 → 0.006), `cells` 0.178 → 0.150, `CreditCard`
0.033 → 0.029, `penguins` 0.015 → 0.010, `wine` 0.019 → 0.009, `breast_cancer` 0.029 → 0.032 (one
test row), `WVS` level; `Car` 0.609 → 0.631 and `stackoverflow` 0.104 → 0.117 (3,700 and 4,500
rows) worse. On the regression tables (refit then stopped at the kept epoch itself) it lost:
`acs12` 0.76 → 0.85, `Sacramento` 0.64 → 0.70, `diabetes` 0.79 → 0.87 (`concrete` 0.36 → 0.33).
So `train_table`'s realmlp preset refits class tables of up to 2,000 rows (`Preset.refit`): over
all 20 tables the default's error went from 1.054× HistGradientBoosting's to 0.954× and its log-loss
from 1.190× to 1.065× (the kerasact row rerun with the rule). Found on the way: a refit that
trained through the fitted temperature (T < 1 sharpening the training loss) taught the network
blunter logits (leaf's log-loss 0.10); it trains through T = 1, as the first fit did, and gets the
fitted T back afterwards.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np

from kerasact.inputs import class_sample_weights
from kerasact.layers.temperature import Temperature
from kerasact.model.lr_schedules import CosLog
from kerasact.runtime import pipeline
from kerasact.training import _run
from kerasact.training.best_epoch import RestoreBestEpoch


class StopAfterEpoch(keras.callbacks.Callback):
    """Stop a fit at the end of its `epoch`-th epoch (1-based): the schedules still see the whole budget."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = int(epoch)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch + 1 >= self.epoch:
            self.model.stop_training = True


def start(model: keras.Model) -> list[np.ndarray]:
    """The weights the refit starts from: the model's as `train` receives it (before any backup is restored)."""
    return [np.array(w) for w in model.get_weights()]


def _restart(model: keras.Model, weights: list[np.ndarray]) -> None:
    """The starting weights back, and the optimizer as new: step 0 (so every schedule restarts), no moments."""
    model.set_weights(weights)
    optimizer = model.optimizer
    keep = {id(getattr(optimizer, "_learning_rate", None))}  # a constant learning rate is a variable too
    for variable in optimizer.variables:
        if id(variable) not in keep:
            variable.assign(np.zeros(variable.shape, variable.dtype))


def _reschedule(optimizer: keras.optimizers.Optimizer, steps: int) -> None:
    """A step-count schedule (`CosLog`) set for the first fit's rows, stretched to the refit's steps:
    left as it was, it would run its cycles out early and hold the learning rate at 0 after them."""
    schedule = getattr(optimizer, "_learning_rate", None)
    if isinstance(schedule, CosLog):
        optimizer.learning_rate = CosLog(schedule.learning_rate, total_steps=max(steps, 1), cycles=schedule.cycles)


def stop_epoch(kept: int | None, epochs: int, schedule: Any = None) -> int:
    """The epoch a refit stops after: the first fit's kept epoch, moved on to the end of its
    learning-rate cycle under a cyclic schedule (`CosLog`), where the rate is back at 0. The kept
    epoch is the one the validation rows liked best among many; at a high rate the refit's own
    trajectory is somewhere else, so the refit stops where every cycle settles instead (pytabkit
    stops at the kept epoch itself). Under coslog₄ the last cycle is more than half the budget, so
    a late kept epoch means the whole budget.

    Example:
        >>> stop_epoch(100, 256), stop_epoch(100, 256, CosLog(0.04, total_steps=256)), stop_epoch(None, 256)
        (100, 120, 256)
    """
    if kept is None:
        return epochs
    kept = max(1, min(int(kept), epochs))
    if not isinstance(schedule, CosLog):
        return kept
    ends = [math.ceil(epochs * (2**j - 1) / (2**schedule.cycles - 1)) for j in range(1, schedule.cycles + 1)]
    return next(end for end in ends if end >= kept)


def _joined(*parts: Any) -> Any:
    if isinstance(parts[0], Mapping):
        return {k: np.concatenate([np.asarray(p[k]) for p in parts]) for k in parts[0]}
    return np.concatenate([np.asarray(p) for p in parts])


def refit(model: keras.Model, weights: list[np.ndarray], checked: Any, parts: Any, *, rows: Any, epochs: int,
          kept: int | None, batch_size: int, seed: int, class_weight: Any,
          callbacks: Sequence[keras.callbacks.Callback], verbose: int | str) -> dict[str, Any]:
    """Train `model` again from `weights` on all of `parts`' rows for the first fit's kept epochs; return
    what the run records.

    Args:
        model: the trained model; it is trained again in place (its fitted temperature kept).
        weights: its starting weights (`start`).
        checked: `train`'s validated rows (their sample weights and label format).
        parts: `train`'s split.
        rows: `_rows.split_rows`'s row indices of that split (for the sample weights).
        epochs: the first fit's epoch budget: the schedules are laid over it, as they were.
        kept: the 1-based epoch the first fit kept (`kept_epoch`); None: its last.
        batch_size, seed, class_weight, callbacks, verbose: as the first fit had them (the callbacks
            that keep a best epoch are left out: no rows are held out to choose one).

    Example:
        >>> refit(model, start(model), checked, parts, rows=rows, epochs=256, kept=180, batch_size=256,
        ...       seed=0, class_weight=None, callbacks=[], verbose=0)  # doctest: +SKIP
        {'rows': 1000, 'epochs': 180, 'seconds': 12.5}
    """
    X = _joined(parts.X_train, parts.X_val, parts.X_test)
    y = _joined(parts.y_train, parts.y_val, parts.y_test)
    w = checked.sample_weight
    w_fit = None if w is None else np.concatenate([w[rows.X_train], w[rows.X_val], w[rows.X_test]])
    if class_weight is not None:
        per_class = class_sample_weights(class_weight, y, checked.labels, checked.codec.n_classes if checked.codec
                                         else 0)
        w_fit = per_class if w_fit is None else w_fit * per_class
    stop = stop_epoch(kept, epochs, getattr(model.optimizer, "_learning_rate", None))
    if verbose not in (0, "0"):
        why = ("as the first fit ran" if kept is None else f"the first fit kept epoch {kept}" if stop == kept
               else f"the first fit kept epoch {kept}, whose learning-rate cycle ends at {stop}")
        print(f"refit: learning again from all {len(y)} rows for {stop} epochs ({why})", flush=True)
    temperatures = [(layer, layer.get_weights()) for layer in model._flatten_layers() if isinstance(layer, Temperature)]
    _restart(model, weights)  # the temperature too: the refit trains through T = 1, as the first fit did
    _reschedule(model.optimizer, steps=-(-len(y) // batch_size) * epochs)
    # No held-out rows: nothing to choose an epoch by, stop early on, or watch (a checkpoint, a plateau).
    own = [c for c in callbacks if not isinstance(c, (RestoreBestEpoch, keras.callbacks.EarlyStopping))
           and not str(getattr(c, "monitor", "")).startswith("val_")]
    started = time.perf_counter()
    history = model.fit(**pipeline.fit_inputs(model, X, y, batch_size=batch_size, seed=seed, sample_weight=w_fit),
                        epochs=epochs, verbose=_run.progress(verbose),
                        # under "auto" the line above says it all: one progress display a run, the first fit's
                        callbacks=[*_run.callbacks(None, None, own, None), StopAfterEpoch(stop)]).history
    for layer, fitted in temperatures:  # fitted on the validation rows, which the refit has now learned from
        layer.set_weights(fitted)
    return {"rows": int(len(y)), "epochs": len(history.get("loss", [])),
            "seconds": round(time.perf_counter() - started, 3)}
