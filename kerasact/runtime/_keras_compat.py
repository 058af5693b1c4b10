"""Workarounds for Keras 3's `model.fit` under `tf.distribute.MultiWorkerMirroredStrategy`.

Upstream: https://github.com/keras-team/keras/issues/20585 (open as of Keras 3.15.1; the TF
multi-worker tutorial fails the same way since TF 2.16, tensorflow/tensorflow#72388). Stock
`fit` fails at two places of `keras/src/backend/tensorflow/trainer.py` once there are two
workers:

1. `_maybe_symbolic_build` reduces the first distributed batch with `strategy.reduce("MEAN",
   ...)` just to learn its shapes; eagerly across workers that is "unsupported type PerReplica".
   Fixed here by taking the first local replica's batch: only its shapes are used.
2. `reduce_per_replica` reduces the logs with `strategy.reduce("MEAN", v, axis=0)`: axis 0 of a
   scalar metric is "Invalid reduction dimension 0". Fixed here by reducing across replicas only
   (`axis=None`), which is what the single-worker branch of the same function does.

Each fix is installed only while Keras's own source still holds the line it replaces (checked
at install), so the layer switches itself off in a Keras release that fixes the bug; without
source to read (a stripped install) it applies up to `LAST_CHECKED`. `install` is idempotent
and only called for a model under a multi-worker strategy.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf
from keras.src import tree
from keras.src.backend.tensorflow import trainer as _trainer

ISSUE = "https://github.com/keras-team/keras/issues/20585"
LAST_CHECKED = (3, 15, 1)   # the newest Keras this layer was checked against
# fix name -> (the function, the line of its body that the bug is)
_BUGGY = {
    "symbolic_build": (_trainer.TensorFlowTrainer._maybe_symbolic_build, "self.distribute_strategy.reduce("),
    "reduce_per_replica": (_trainer.reduce_per_replica, 'strategy.reduce("MEAN", v, axis=0)'),
}
_ORIGINAL: dict[str, Callable] = {}


def _version() -> tuple[int, ...]:
    return tuple(int(part) for part in keras.version().split(".")[:3] if part.isdigit())


def needed(fix: str) -> bool:
    """Whether Keras still has the bug `fix` works around (`"symbolic_build"`, `"reduce_per_replica"`)."""
    function, line = _BUGGY[fix]
    try:
        return line in inspect.getsource(_ORIGINAL.get(fix, function))
    except (OSError, TypeError):  # no source shipped: trust the versions checked
        return _version() <= LAST_CHECKED


def _first_local(strategy: tf.distribute.Strategy, value: Any) -> Any:
    if isinstance(value, tf.distribute.DistributedValues):
        return strategy.experimental_local_results(value)[0]
    return value


def _maybe_symbolic_build(self: Any, iterator: Any = None, data_batch: Any = None) -> None:
    if self._distribute_strategy is None:
        return
    if iterator is not None:
        for _, _, batches in iterator:  # the first batch's shapes; fit resets the iterator after
            data_batch = tree.map_structure(lambda v: _first_local(self.distribute_strategy, v), next(batches))
            break
    with self.distribute_strategy.scope():
        self._symbolic_build(data_batch=data_batch)


def _reduce_per_replica(values: Any, strategy: tf.distribute.Strategy, reduction: str) -> Any:
    if reduction in ("auto", "mean") and _trainer._collective_all_reduce_multi_worker(strategy):
        return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
    return _ORIGINAL["reduce_per_replica"](values, strategy, reduction)


_FIXES = {
    "symbolic_build": (lambda f: setattr(_trainer.TensorFlowTrainer, "_maybe_symbolic_build", f),
                       _maybe_symbolic_build),
    "reduce_per_replica": (lambda f: setattr(_trainer, "reduce_per_replica", f), _reduce_per_replica),
}


def install() -> list[str]:
    """Install the fixes Keras still needs; returns their names (none once Keras is fixed).

    Example:
        >>> install()  # doctest: +SKIP
        ['symbolic_build', 'reduce_per_replica']
    """
    for fix, (put, replacement) in _FIXES.items():
        if fix not in _ORIGINAL and needed(fix):
            _ORIGINAL[fix] = _BUGGY[fix][0]
            put(replacement)
    return sorted(_ORIGINAL)


def uninstall() -> None:
    """Put Keras's own functions back (for the test that the bug is still there)."""
    for fix, original in list(_ORIGINAL.items()):
        _FIXES[fix][0](original)
        del _ORIGINAL[fix]
