"""The callbacks `train` adds to Keras's own: a NaN/inf stop that says where, and an atomic
per-epoch backup that a killed run resumes from."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import keras
import numpy as np

from kerasact.training import runs


class StopOnNaN(keras.callbacks.TerminateOnNaN):
    """`TerminateOnNaN(raise_error=True)`, raising `FloatingPointError` that says where, and also
    checking each epoch's validation loss: the last step of an epoch can leave NaN weights
    behind a finite training loss, and those must not be backed up as a good epoch."""

    def __init__(self) -> None:
        super().__init__(raise_error=True)
        self.epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        try:
            super().on_batch_end(batch, logs)
        except RuntimeError:
            raise FloatingPointError(f"Training loss became {(logs or {}).get('loss')} in epoch {self.epoch + 1}, "
                                     f"batch {batch + 1}.") from None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        bad = {k: v for k, v in (logs or {}).items() if k.endswith("loss") and not math.isfinite(v)}
        if bad:
            raise FloatingPointError(f"{', '.join(bad)} became NaN/inf at the end of epoch {epoch + 1}.")


class Backup(keras.callbacks.Callback):
    """What `keras.callbacks.BackupAndRestore` keeps (weights, optimizer state, epoch), plus the
    dropout RNG state and the history so far, committed by one atomic rename of state.json.

    Keras writes the weights and then the epoch number as two files, so a kill between the
    two resumes the wrong epoch; here every epoch's weights get a new file, and state.json,
    replaced atomically, names the one to use.
    """

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory, self.epoch, self.history = Path(directory), 0, {}
        self.state = self.directory / "state.json"

    def restore(self, model: keras.Model) -> tuple[int, bool]:
        """Load the last committed epoch into `model`; return (epochs done, training finished)."""
        if not self.state.is_file():
            return 0, False
        state = json.loads(self.state.read_text())
        if not model.optimizer.built:  # load_weights restores Adam's moments into built slots only
            model.optimizer.build(model.trainable_variables)
        model.load_weights(self.directory / state["weights"])
        for variable, value in zip(rng_state(model), state["rng"]):
            variable.assign(np.asarray(value, dtype=variable.dtype))
        self.epoch, self.history = state["epoch"], state["history"]
        return self.epoch, state["finished"]

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.epoch = epoch + 1
        self._commit(finished=False)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._commit(finished=True)  # after EarlyStopping has put the best weights back

    def _commit(self, finished: bool) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{self.epoch:05d}{'-final' if finished else ''}.weights.h5"
        self.model.save_weights(self.directory / name, overwrite=True)
        with open(self.directory / name, "rb") as f:
            os.fsync(f.fileno())
        runs.write_json(self.state, {"epoch": self.epoch, "weights": name, "finished": finished,
                                     "rng": [np.asarray(v).tolist() for v in rng_state(self.model)],
                                     "history": self.history})
        for old in self.directory.glob("*.weights.h5"):
            if old.name != name:
                old.unlink(missing_ok=True)

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def rng_state(model: keras.Model) -> list:
    """Variables `save_weights` leaves out: the dropout layers' seed-generator states."""
    saved = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in saved]
