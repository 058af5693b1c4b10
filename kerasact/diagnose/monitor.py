"""The diagnostics callback: probes the model during training and writes what it sees to
TensorBoard under `diagnostics/`, then turns the run's probes into warnings that teach.

Keras 3's TensorBoard callback logs weight histograms only (activation histograms and
`write_grads` went with tf.keras, tf-keras#118). Here, on a fixed probe batch of training rows,
each probed epoch writes to the run's `train/` events:

- `diagnostics/dead_units/<layer>` or `diagnostics/saturated_units/<layer>`: the fraction of the
  layer's units that are dead (ReLU family) or saturated (sigmoid/tanh family), see
  `kerasact.diagnose.health`;
- `diagnostics/gradient_norm/<layer>`: ||dL/dW|| of each Dense kernel on the probe rows, and
  `diagnostics/gradient_ratio`: the first Dense's over the head's;
- `diagnostics/update_ratio/<layer>`: ||W_after - W_before|| / ||W_before|| over the epoch;
- histograms `diagnostics/preactivation/<layer>` (z) and `diagnostics/activation/<layer>` (f(z)).

By default the epochs probed are 1, 2, 4, 8, ... (log-spaced: early epochs, where units die,
are seen closely, and a 100-epoch run costs 8 probes); `every=N` probes every N-th epoch. The
model is also probed before the first step (kept in the report, not in TensorBoard) and, after
early stopping restored its best weights, at the end.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kerasact._histogram import histogram
from kerasact.diagnose.advice import advise
from kerasact.diagnose.health import Probe, Prober
from kerasact.diagnose.linting import Finding

PROBE_ROWS = 256  # training rows probed each time: enough to call a unit dead, cheap to run


class TrainingWarning(UserWarning):
    """Issued by `train` for every diagnostics finding; filter it with this class."""


class Diagnostics(keras.callbacks.Callback):
    """Probe the model's units and gradients during `fit`; `findings` holds the warnings after.

    Args:
        X: training inputs (an array, or a dict of columns for a table model).
        y: their labels, encoded for the model's loss.
        every: probe every N-th epoch; None probes epochs 1, 2, 4, 8, ...
        log_dir: the run directory (events go to its `train/`); None writes nothing.
        rows: rows of `X` probed (a fixed random subset drawn with `seed`).
        seed: the subset's seed.

    Example:
        >>> diag = Diagnostics(X_train, y_train, log_dir="runs/binary/x")  # doctest: +SKIP
        >>> model.fit(X_train, y_train, epochs=20, callbacks=[diag])  # doctest: +SKIP
        >>> [f.code for f in diag.findings]  # doctest: +SKIP
        []
    """

    def __init__(self, X: Any, y: Any, *, every: int | None = None, log_dir: str | os.PathLike | None = None,
                 rows: int = PROBE_ROWS, seed: int = 0) -> None:
        super().__init__()
        n = len(y)
        keep = np.sort(np.random.default_rng(seed).choice(n, size=min(rows, n), replace=False))
        self.X = {k: np.asarray(v)[keep] for k, v in X.items()} if isinstance(X, Mapping) else np.asarray(X)[keep]
        self.y, self.every = np.asarray(y)[keep], every
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.timeline: list[tuple[int, Probe]] = []
        self.final: Probe | None = None
        self.findings: list[Finding] = []
        self.skipped: str | None = None
        self._prober: Prober | None = None
        self._before: dict[str, np.ndarray] = {}
        self._writer = None
        self._last_epoch, self._written = -1, -1

    def due(self, epoch: int) -> bool:
        """Whether epoch index `epoch` (0-based, as Keras counts) is probed."""
        done = epoch + 1
        return done % self.every == 0 if self.every else done & (done - 1) == 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        try:
            self._prober = Prober(self.model)
        except (ValueError, AttributeError, TypeError) as err:  # a subclassed model has no layer graph to read
            self.skipped = f"diagnostics skipped: the model's layers cannot be read as a graph ({err})"
            return
        if self.log_dir is not None:
            self._writer = tf.summary.create_file_writer(str(self.log_dir / "train"))
        # Before any step: where vanishing gradients are plainest (training then moves the head's).
        self.timeline.append((0, self._prober.probe(self.X, self.y)))

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self._prober is not None and self.due(epoch):
            self._before = {layer.name: keras.ops.convert_to_numpy(layer.kernel) for layer in self._prober.dense}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._last_epoch = epoch
        if self._prober is None or not self.due(epoch):
            return
        found = self._prober.probe(self.X, self.y)
        self.timeline.append((epoch + 1, found))
        self._write(epoch, found, self._update_ratios())

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._prober is None:
            return
        self.final = self._prober.probe(self.X, self.y)  # the weights the run keeps (best, after early stopping)
        if self._last_epoch > self._written:
            self._write(self._last_epoch, self.final, {})
        if self._writer is not None:
            self._writer.close()
        self.findings = advise(self.timeline, self.final)

    def _update_ratios(self) -> dict[str, float]:
        ratios = {}
        for layer in self._prober.dense:
            before = self._before.get(layer.name)
            if before is not None:
                scale = float(np.linalg.norm(before))
                after = keras.ops.convert_to_numpy(layer.kernel)
                ratios[layer.name] = float(np.linalg.norm(after - before)) / scale if scale else 0.0
        return ratios

    def _write(self, epoch: int, found: Probe, ratios: dict[str, float]) -> None:
        self._written = epoch
        if self._writer is None:
            return
        with self._writer.as_default(step=epoch):
            for site in found.sites:
                if site.kind is not None:
                    tf.summary.scalar(f"diagnostics/{site.kind}_units/{site.layer}", site.stalled)
                histogram(f"diagnostics/preactivation/{site.layer}", site.z, epoch)
                histogram(f"diagnostics/activation/{site.layer}", site.a, epoch)
            for layer, norm in found.gradients.items():
                tf.summary.scalar(f"diagnostics/gradient_norm/{layer}", norm)
            if found.gradient_ratio is not None:
                tf.summary.scalar("diagnostics/gradient_ratio", found.gradient_ratio)
            for layer, ratio in ratios.items():
                tf.summary.scalar(f"diagnostics/update_ratio/{layer}", ratio)

    def report(self) -> dict[str, Any]:
        """What metrics.json keeps: the schedule, the trained model's probe and the warnings."""
        if self.final is None:
            return {"skipped": self.skipped or "diagnostics did not run"}
        final = self.final
        return {
            "probed_epochs": [epoch for epoch, _ in self.timeline if epoch], "rows": final.rows,
            "gradient_ratios": {str(epoch): found.gradient_ratio for epoch, found in self.timeline},
            "every": self.every or "epochs 1, 2, 4, 8, ...",
            "layers": {s.layer: {"activation": s.activation, "kind": s.kind, "stalled_fraction": s.stalled}
                       for s in final.sites},
            "gradient_norms": final.gradients, "gradient_ratio": final.gradient_ratio,
            "warnings": [{"code": f.code, "layer": f.layer, "message": f.message, "fix": f.fix}
                         for f in self.findings],
        }

    def warn(self) -> None:
        """Issue every finding as a `TrainingWarning` (one line each, with its fix)."""
        for finding in self.findings:
            warnings.warn(f"{finding.message} Fix: {finding.fix}", TrainingWarning, stacklevel=3)
