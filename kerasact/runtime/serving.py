"""Fast prediction for single rows and small batches: one compiled function per model, reused.

`model.predict` sets up a data pipeline and a progress loop on every call (~45 ms for one
row); `predict_on_batch` still goes through Keras's dispatch (~0.3-0.5 ms). Here each model
gets, once, a traced concrete function with an input signature, called directly, and for
sizes that recur an XLA-compiled one (~0.15 ms for one row on the benchmark CPU, about
scikit-learn's `predict_proba`). XLA inputs are padded to a power-of-two number of rows, so
it compiles at most one program per bucket.

The function reads the model's variables, not copies of them, so it sees new weights after
`fit`, `set_weights` or `load_weights` without being rebuilt; the cache holds the model
weakly, so it never keeps a model alive.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

MAX_ROWS = 4096     # bigger inputs run in chunks of this many rows
XLA_MAX_ROWS = 256  # XLA for buckets up to this size; above it the per-call cost XLA saves is noise
XLA_AFTER = 2       # calls of one bucket size served by the plain graph before XLA compiles it


class _Server:
    """The compiled forward pass of one model (outputs exactly as `model.predict` gives them).

    Two tiers, because an XLA compilation (~0.15 s) only pays off when a small size recurs:
    the first `XLA_AFTER` calls of a bucket, and every bucket over `XLA_MAX_ROWS`, run the
    traced graph as is (~0.1 ms more a call, no compilation); later ones run XLA's program
    for that bucket.
    """

    def __init__(self, model: keras.Model) -> None:
        if len(model.inputs) != 1 or len(model.inputs[0].shape) != 2:
            raise TypeError("serving takes models with one (batch, features) input; "
                            f"{model.name!r} has inputs {model.inputs}.")
        self.width = int(model.inputs[0].shape[-1])
        self.dtype = np.dtype(str(model.inputs[0].dtype))  # float32, or float64 for a float64 model
        self._model = weakref.ref(model)  # the cache's value must not keep its key (the model) alive
        self._graph = self._trace(jit=False)
        self._xla: Callable | None = None
        self._calls: dict[int, int] = {}

    def _trace(self, jit: bool) -> Callable:
        ref = self._model
        spec = tf.TensorSpec([None, self.width], self.dtype)
        fn = tf.function(lambda x: ref()(x, training=False), input_signature=[spec],
                         jit_compile=jit).get_concrete_function()
        # The concrete function's flat call skips its argument binding (~40 µs, a third of a
        # one-row prediction); the public call is the fallback.
        flat = getattr(fn, "_call_flat", None)
        return ((lambda x: flat([tf.constant(x)], fn.captured_inputs).numpy()) if flat
                else (lambda x: fn(tf.constant(x)).numpy()))

    def __call__(self, X: Any, xla: bool = True) -> np.ndarray:
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim != 2 or X.shape[1] != self.width:
            raise ValueError(f"X must have shape (n, {self.width}); got shape {X.shape}.")
        if len(X) <= MAX_ROWS:
            return self._run(X, xla)
        return np.concatenate([self._run(X[i:i + MAX_ROWS], xla) for i in range(0, len(X), MAX_ROWS)])

    def _run(self, X: np.ndarray, xla: bool) -> np.ndarray:
        n = len(X)
        rows = 1 << max(0, n - 1).bit_length()  # bucket: next power of two >= n, one XLA program each
        self._calls[rows] = calls = self._calls.get(rows, 0) + 1
        if not xla or calls <= XLA_AFTER or rows > XLA_MAX_ROWS:
            return self._graph(X)
        if self._xla is None:
            self._xla = self._trace(jit=True)
        if rows != n:
            X = np.concatenate([X, np.zeros((rows - n, self.width), self.dtype)])
        return self._xla(X)[:n]


_CACHE: weakref.WeakKeyDictionary[keras.Model, _Server] = weakref.WeakKeyDictionary()


def predict_fn(model: keras.Model) -> Callable[[Any], np.ndarray]:
    """The model's serving function, compiled on first use and cached for the model's life.

    Args:
        model: a built single-input Keras model, e.g. from `kerasact.build_model`.

    Returns:
        A function `X -> outputs` (shape `(n, units)`, the model's dtype), equal to `model.predict(X)`.

    Example:
        >>> model = build_model("binary", 4)
        >>> predict_fn(model)(np.zeros((1, 4))).shape
        (1, 1)
    """
    server = _CACHE.get(model)
    if server is None:
        server = _CACHE[model] = _Server(model)
    return server


def predict(model: keras.Model, X: Any, *, xla: bool = True) -> np.ndarray:
    """`model.predict(X)` through the cached serving function; `xla=False` keeps to the traced
    graph, for a caller that repeats one size a few dozen times and then stops (permutation
    importance), where an XLA compilation (~0.15 s) would cost more than it saves (~0.1 ms a call).

    Example:
        >>> predict(build_model("regression", 3), np.ones((2, 3))).shape
        (2, 1)
    """
    return predict_fn(model)(X, xla)


def clear(model: keras.Model | None = None) -> None:
    """Forget one model's serving function (all, when None): needed only if its layers change.

    Example:
        >>> clear(model)  # doctest: +SKIP
    """
    if model is None:
        _CACHE.clear()
    else:
        _CACHE.pop(model, None)
