"""Numpy losses with Keras's conventions (part of `kerasact.reference`; import from there).

Probabilities are clipped with Keras's epsilon before the logs, and means are taken the way
Keras takes them, so these agree with `keras.losses` to float precision.
"""

from __future__ import annotations

import numpy as np

from kerasact import activations
from kerasact.reference._forward import KERAS_EPSILON


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the row maximum so it cannot overflow.

    Example:
        >>> softmax(np.array([1000.0, 1000.0]))
        array([0.5, 0.5])
    """
    return activations.get("softmax").fn(x)


def _matched(y: np.ndarray, t: np.ndarray) -> np.ndarray:
    # Reshape t to y's shape when they differ only by size-1 axes, e.g. (n,) vs (n, 1):
    # broadcasting those would silently build an (n, n) matrix.
    if t.shape != y.shape and t.size == y.size and np.squeeze(t).shape == np.squeeze(y).shape:
        return t.reshape(y.shape)
    if t.shape != y.shape:
        raise ValueError(f"Argument 't' of shape {t.shape} must match argument 'y' of shape "
                         f"{y.shape}.")
    return t


def cross_entropy_error(y: np.ndarray, t: np.ndarray) -> float:
    """Categorical cross-entropy, averaged over the batch (Keras's CategoricalCrossentropy).

    Args:
        y: Predicted probabilities, shape `(k,)` or `(batch, k)`; clipped to
            `[eps, 1 - eps]` with Keras's `eps = 1e-7` before the log.
        t: Either one-hot / probability targets shaped like `y` or integer class labels
            shaped like `y.shape[:-1]` (Keras's SparseCategoricalCrossentropy).

    Example:
        >>> round(cross_entropy_error(np.array([[0.5, 0.5]]), np.array([0])), 6)
        0.693147
    """
    y, t = np.asarray(y, dtype=np.float64), np.asarray(t)
    log_y = np.log(np.clip(y, KERAS_EPSILON, 1 - KERAS_EPSILON))
    if t.shape == y.shape[:-1]:
        if not np.all(np.equal(np.mod(t, 1), 0)):
            raise ValueError(f"Integer class labels expected in argument 't'; got {t!r}.")
        return float(-np.mean(np.take_along_axis(log_y, t.astype(int)[..., None], axis=-1)))
    return float(-np.mean(np.sum(_matched(y, t) * log_y, axis=-1)))


def binary_cross_entropy(y: np.ndarray, t: np.ndarray) -> float:
    """Binary cross-entropy averaged over every element (Keras's BinaryCrossentropy).

    `y` is clipped to `[eps, 1 - eps]` with Keras's `eps = 1e-7` before the logs.

    Example:
        >>> round(binary_cross_entropy(np.array([0.5]), np.array([1.0])), 6)
        0.693147
    """
    y = np.clip(np.asarray(y, dtype=np.float64), KERAS_EPSILON, 1 - KERAS_EPSILON)
    t = _matched(y, np.asarray(t, dtype=np.float64))
    return float(-np.mean(t * np.log(y) + (1 - t) * np.log(1 - y)))


def mean_squared_error(y: np.ndarray, t: np.ndarray) -> float:
    """Mean of the squared errors over every element (Keras's convention, no factor 1/2).

    Keras averages over the last axis and then over the batch, which equals the mean over all
    elements; textbooks that use `0.5 * sum` give a different scale.

    Example:
        >>> mean_squared_error(np.array([1.0, 3.0]), np.array([0.0, 0.0]))
        5.0
    """
    y = np.asarray(y, dtype=np.float64)
    t = _matched(y, np.asarray(t, dtype=np.float64))
    return float(np.mean((y - t) ** 2))
