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

from kerasact._errors import shown
from kerasact.runtime.frozen import finalize_states
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


# Epoch-end snapshots (backup commits, weight histograms) a run writes at most about this many of:
# a 256-epoch table run spent 12 s of its ~130 committing every epoch and 8 s on histograms.
SNAPSHOTS = 64


def snapshot_every(epochs: int | None) -> int:
    """Epochs between a run's snapshots: every epoch up to `SNAPSHOTS` epochs, then evenly spaced.
    The interval depends on the epoch budget only, so every worker of a cluster commits the same epochs.

    Example:
        >>> snapshot_every(100), snapshot_every(256)
        (2, 4)
    """
    return max(1, -(-int(epochs or 1) // SNAPSHOTS))


class Backup(keras.callbacks.Callback):
    """What `keras.callbacks.BackupAndRestore` keeps (weights, optimizer state, epoch), plus the
    dropout RNG state and the history so far, committed by one atomic rename of state.json.

    Keras writes the weights and then the epoch number as two files, so a kill between the
    two resumes the wrong epoch; here every epoch's weights get a new file, and state.json,
    replaced atomically, names the one to use. state.json also records the shapes of what it
    saved, so a backup from another model is refused in words before anything is loaded.

    It commits every `snapshot_every(epochs)` epochs (every epoch up to 64) and when training
    ends, so a resumed run repeats at most that many epochs less one.

    With `keep=2` the commit before the last stays restorable too: a worker of a multi-worker
    run killed while saving epoch k leaves k-1, and every worker resumes from the newest
    epoch all of them have (`available`).
    """

    def __init__(self, directory: Path, keep: int = 1) -> None:
        super().__init__()
        self.directory, self.epoch, self.history, self.keep = Path(directory), 0, {}, keep
        self.every = 1
        self.state = self.directory / "state.json"

    def available(self) -> dict[int, bool]:
        """The epochs this backup can restore, each with whether training had finished there."""
        if not self.state.is_file():
            return {}
        state = self._read_state()
        return {state["epoch"]: state["finished"]} | (
            {state["previous"]["epoch"]: False} if "previous" in state else {})

    def restore(self, model: keras.Model, epoch: int | None = None) -> tuple[int, bool]:
        """Load the last committed epoch (or `epoch`, one `available`) into `model`; return
        (epochs done, training finished).

        Raises:
            ValueError: state.json is damaged, or the backup was written by a different model;
                `model` is left as it was.
        """
        if not self.state.is_file():
            return 0, False
        state = self._read_state()
        if epoch is not None and epoch != state["epoch"]:  # the previous epoch: its files, the history up to it
            history = {k: v[:epoch] for k, v in state["history"].items()}
            state = {**state, **state["previous"], "finished": False, "history": history}
        self._check_same_model(state, model, optimizer=False)  # before any work on the model
        if not model.optimizer.built:  # load_weights restores Adam's moments into built slots only
            with model.distribute_strategy.scope():  # a distributed model's slots are mirrored too
                model.optimizer.build(model.trainable_variables)
        self._check_same_model(state, model, optimizer=True)
        variables = [*model.weights, *model.optimizer.variables]
        before = [np.array(v) for v in variables]
        try:
            _load(model, self.directory / state["weights"], variables)
        except Exception as err:  # Keras raises ValueError, KeyError, OSError… for one bad file
            for variable, value in zip(variables, before):  # a failed load may have assigned some
                variable.assign(value)
            raise self._refusal("load", f"its weights would not load: {_first_line(err)}") from None
        for variable, value in zip(rng_state(model), state["rng"]):
            variable.assign(np.asarray(value, dtype=variable.dtype))
        self.epoch, self.history = state["epoch"], state["history"]
        return self.epoch, state["finished"]

    def _read_state(self) -> dict:
        """state.json, refused in words unless it has the shape `_commit` writes."""
        try:
            state = json.loads(self.state.read_text(encoding="utf-8"))
        except (ValueError, RecursionError) as err:  # JSON and UTF-8 errors are ValueErrors
            raise self._refusal("corrupt", f"not valid JSON: {_first_line(err)}") from None
        if not isinstance(state, dict):
            raise self._refusal("corrupt", f"a JSON {type(state).__name__}, not an object")
        for key, (kind, valid, words) in _STATE.items():
            if key in state or key not in _OPTIONAL:
                value = state.get(key)
                wrong_type = not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool)
                if wrong_type or not valid(value):
                    raise self._refusal("corrupt", f"{key!r} is {shown(value, 24)}, not {words}")
        if not (self.directory / state["weights"]).is_file():
            raise self._refusal("corrupt", f"the weights file it names, {shown(state['weights'], 40)}, is missing")
        return state

    def _check_same_model(self, state: dict, model: keras.Model, *, optimizer: bool) -> None:
        """Refuse a backup whose saved shapes are not `model`'s; an old backup records only the RNG's."""
        saved = {**state.get("model", {}), "rng": [list(np.shape(v)) for v in state["rng"]]}
        here = _fingerprint(model)
        for kind in ("optimizer",) if optimizer else ("weights", "rng"):
            there = saved.get(kind)
            if there is None or there == here[kind]:
                continue
            if len(there) != len(here[kind]):
                raise self._refusal("other", f"{len(there)} {_WHAT[kind]}s there, {len(here[kind])} in this model")
            at = next(i for i, (a, b) in enumerate(zip(there, here[kind])) if a != b)
            name = "/".join(_variables(model)[kind][at].path.split("/")[-2:])  # layer/variable
            raise self._refusal("other", f"{_WHAT[kind]} {name!r} is {tuple(there[at])} there, "
                                         f"{tuple(here[kind][at])} in this model")

    def _refusal(self, why: str, detail: str) -> ValueError:
        run_dir = str(self.directory.parent)  # the folder's own name is the end worth keeping
        run_dir = repr(run_dir if len(run_dir) <= 90 else "..." + run_dir[-87:])
        return ValueError(_REFUSALS[why].format(run_dir=run_dir, detail=_cut(detail, 80)))

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.every = snapshot_every(self.params.get("epochs"))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.epoch = epoch + 1
        if self.epoch % self.every == 0:
            self._commit(finished=False)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._commit(finished=True)  # after EarlyStopping has put the best weights back

    def _commit(self, finished: bool) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{self.epoch:05d}{'-final' if finished else ''}{_SUFFIX}"
        # One .npz of every weight and optimizer variable in `_variables` order: 2-8 ms an epoch
        # on benchmarks (a) and (b), where Keras's save_weights (HDF5) took 11-15 ms, a tenth of
        # a small model's epoch. state.json's shapes say which model it fits, checked on restore.
        arrays = _variables(self.model)
        with open(self.directory / name, "wb") as f:
            np.savez(f, **{f"{kind}_{i}": np.asarray(v) for kind in ("weights", "optimizer")
                           for i, v in enumerate(arrays[kind])})
            f.flush()
            os.fsync(f.fileno())
        shapes = _fingerprint(self.model)
        state = {"epoch": self.epoch, "weights": name, "finished": finished,
                 "rng": [np.asarray(v).tolist() for v in rng_state(self.model)], "history": self.history,
                 "model": {k: shapes[k] for k in ("weights", "optimizer")}}
        last = json.loads(self.state.read_text(encoding="utf-8")) if self.keep > 1 and self.state.is_file() else None
        if last is not None and last["epoch"] < self.epoch:
            state["previous"] = {k: last[k] for k in ("epoch", "weights", "rng")}
        elif last is not None and "previous" in last:  # the final commit of the same epoch keeps the one before
            state["previous"] = last["previous"]
        runs.write_json(self.state, state)
        kept = {name, state.get("previous", {}).get("weights")}
        for old in self.directory.glob("epoch-*"):
            if old.name not in kept and old.name.endswith(_SUFFIXES):
                old.unlink(missing_ok=True)

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


_SUFFIX = ".npz"
_SUFFIXES = (_SUFFIX, ".weights.h5")  # .weights.h5: Keras's save_weights, as backups were written before


def _load(model: keras.Model, path: Path, variables: list) -> None:
    """Put a backup's weights and optimizer state into `model` (whose shapes were checked)."""
    if path.name.endswith(".weights.h5"):
        model.load_weights(path)
        return
    with np.load(path, allow_pickle=False) as saved:
        if len(saved.files) != len(variables):
            raise ValueError(f"{len(saved.files)} arrays there, {len(variables)} variables in this model")
        names = [f"{kind}_{i}" for kind in ("weights", "optimizer") for i in range(len(_variables(model)[kind]))]
        for variable, name in zip(variables, names):
            variable.assign(saved[name])
    finalize_states(model)  # an adapted Normalization's statistics follow its restored variables


def _shapes(value: object) -> bool:
    return all(isinstance(shape, list) and all(isinstance(n, int) and n >= 0 for n in shape) for shape in value)


def _numbers(history: dict) -> bool:
    return all(isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
               for v in history.values())


# What `_commit` writes to state.json: key -> (type, check of the value, the same in words).
_STATE = {
    "epoch": (int, lambda n: n >= 0, "an int >= 0"),
    "weights": (str, lambda name: Path(name).name == name and name.endswith(_SUFFIXES),
                "a file name '*.npz' (or '*.weights.h5')"),
    "finished": (bool, lambda flag: True, "a bool"),
    "rng": (list, lambda states: all(isinstance(s, list) and all(isinstance(n, int) for n in s) for s in states),
            "a list of seed states"),
    "history": (dict, _numbers, "{name: [numbers]}"),
    "model": (dict, lambda shapes: set(shapes) <= {"weights", "optimizer"}
              and all(isinstance(v, list) and _shapes(v) for v in shapes.values()), "{kind: [shapes]}"),
    "previous": (dict, lambda p: isinstance(p.get("epoch"), int) and isinstance(p.get("weights"), str)
                 and Path(p["weights"]).name == p["weights"] and isinstance(p.get("rng"), list),
                 "{epoch, weights, rng}"),
}
_OPTIONAL = ("model", "previous")  # absent from backups written before them / with keep=1
_WHAT = {"weights": "weight", "optimizer": "optimizer variable", "rng": "dropout seed state"}
_FIX = "pass a fresh run_dir, or delete its backup/ folder to start over."
_REFUSALS = {  # why a backup is refused: one row per reason, so each reads the same way
    "corrupt": "run_dir={run_dir}: its backup/state.json is damaged ({detail}); " + _FIX,
    "other": "run_dir={run_dir}: its backup/ was written by a different model ({detail}); " + _FIX,
    "load": "run_dir={run_dir}: its backup/ is damaged or from a different model ({detail}); " + _FIX,
}


def _variables(model: keras.Model) -> dict[str, list]:
    """What a backup holds: the weights, the optimizer's variables, the dropout seed states."""
    optimizer = model.optimizer.variables if model.optimizer is not None and model.optimizer.built else []
    return {"weights": model.weights, "optimizer": optimizer, "rng": rng_state(model)}


def _fingerprint(model: keras.Model) -> dict[str, list]:
    """The shapes of `_variables(model)`: cheap to store, and enough to tell two models apart."""
    return {kind: [list(v.shape) for v in variables] for kind, variables in _variables(model).items()}


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def rng_state(model: keras.Model) -> list:
    """Variables `save_weights` leaves out: the dropout layers' seed-generator states."""
    saved = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in saved]
