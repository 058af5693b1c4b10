"""Numpy reference implementations: the independent oracle that Keras models are checked against.

Nothing here imports TensorFlow or Keras (a test enforces it): ``forward`` reads a model only
through duck typing (layer class names, ``get_config()``, ``get_weights()``), so a bug in Keras
cannot hide in the oracle too. Everything is computed in float64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from kerasact import activations

# keras.backend.epsilon(); hard-coded so this module stays TF-free (a test checks the value).
KERAS_EPSILON = 1e-7

ArrayFn = Callable[[np.ndarray], np.ndarray]
ActivationLike = str | activations.Activation | ArrayFn | None


def _activation_fn(g: ActivationLike) -> ArrayFn:
    if callable(g) and not isinstance(g, activations.Activation):
        return g
    return activations.get(g).fn


def _check_dense_shapes(a: np.ndarray, W: np.ndarray, b: np.ndarray) -> None:
    if a.ndim not in (1, 2) or W.ndim != 2 or a.shape[-1] != W.shape[0]:
        raise ValueError(f"Argument 'a_in' of shape {a.shape} does not fit argument 'W' of shape "
                         f"{W.shape}: need a 1-D row or 2-D batch whose last axis is W.shape[0].")
    if b.shape != (W.shape[1],):
        raise ValueError(f"Argument 'b' must have shape ({W.shape[1]},) to match 'W' of shape "
                         f"{W.shape}; got {b.shape}.")


def dense(a_in: np.ndarray, W: np.ndarray, b: np.ndarray, g: ActivationLike) -> np.ndarray:
    """Vectorised dense layer ``g(a_in @ W + b)`` for one row (1-D) or a batch (2-D).

    Args:
        a_in: Input activations, shape ``(n_in,)`` or ``(batch, n_in)``.
        W: Kernel, shape ``(n_in, units)`` (Keras's layout).
        b: Bias, shape ``(units,)``.
        g: Activation: a numpy callable, a catalog name or row, or ``None`` for linear.

    Returns:
        Output activations, shape ``(units,)`` or ``(batch, units)``.

    Example:
        >>> dense(np.array([1.0, -2.0]), np.eye(2), np.zeros(2), "relu")
        array([1., 0.])
    """
    a, W, b = (np.asarray(v, dtype=np.float64) for v in (a_in, W, b))
    _check_dense_shapes(a, W, b)
    return _activation_fn(g)(a @ W + b)


def dense_loop(a_in: np.ndarray, W: np.ndarray, b: np.ndarray, g: ActivationLike) -> np.ndarray:
    """Dense layer written one unit at a time, the textbook form; agrees with ``dense``.

    Each unit j computes ``z_j = a_in . W[:, j] + b[j]``; ``g`` is applied to the collected
    ``z`` so that non-elementwise activations (softmax, glu) also agree with ``dense``.

    Example:
        >>> dense_loop(np.array([1.0, -2.0]), np.eye(2), np.zeros(2), "relu")
        array([1., 0.])
    """
    a, W, b = (np.asarray(v, dtype=np.float64) for v in (a_in, W, b))
    _check_dense_shapes(a, W, b)
    z = np.empty(a.shape[:-1] + (W.shape[1],))
    for j in range(W.shape[1]):
        z[..., j] = np.dot(a, W[:, j]) + b[j]
    return _activation_fn(g)(z)


def _param_shape(x: np.ndarray, axes: int | tuple[int, ...] | None) -> list[int]:
    # Keras stores statistics for the kept axes only; reshape them to broadcast against x.
    keep = set() if axes is None else {a % x.ndim for a in np.atleast_1d(axes)}
    return [x.shape[d] if d in keep else 1 for d in range(x.ndim)]


def _dense_layer(layer: Any, x: np.ndarray) -> np.ndarray:
    config, weights = layer.get_config(), layer.get_weights()
    use_bias = config.get("use_bias", True)
    if len(weights) != 1 + use_bias:  # LoRA adapters or quantised kernels change the maths
        raise ValueError(f"forward() supports plain float Dense layers; layer {layer.name!r} "
                         f"has {len(weights)} weight arrays (LoRA or quantisation?).")
    bias = weights[1] if use_bias else np.zeros(weights[0].shape[1])
    return dense(x, weights[0], bias, config.get("activation"))


def _activation_layer(layer: Any, x: np.ndarray) -> np.ndarray:
    return activations.get(layer.get_config()["activation"]).fn(x)


def _batch_norm(layer: Any, x: np.ndarray) -> np.ndarray:
    config, weights = layer.get_config(), [np.asarray(w, np.float64) for w in layer.get_weights()]
    # Keras creates gamma, beta, moving_mean, moving_variance in that order, skipping the absent.
    mean, var = weights[-2:]
    gamma = weights.pop(0) if config.get("scale", True) else np.ones_like(mean)
    beta = weights.pop(0) if config.get("center", True) else np.zeros_like(mean)
    shape = _param_shape(x, config.get("axis", -1))
    scale = np.reshape(gamma / np.sqrt(var + config["epsilon"]), shape)
    return (x - np.reshape(mean, shape)) * scale + np.reshape(beta, shape)


def _normalization(layer: Any, x: np.ndarray) -> np.ndarray:
    config = layer.get_config()
    if config.get("mean") is not None:  # statistics passed to the constructor live in the config
        mean, var = config["mean"], config["variance"]
    else:
        mean, var = layer.get_weights()[:2]
    shape = _param_shape(x, config.get("axis", -1))
    mean, var = (np.broadcast_to(np.asarray(v, np.float64), np.prod(shape)).reshape(shape)
                 for v in (mean, var))
    # Keras divides by max(sqrt(var), eps), not sqrt(var + eps) as BatchNormalization does.
    std = np.maximum(np.sqrt(var), KERAS_EPSILON)
    return mean + x * std if config.get("invert", False) else (x - mean) / std


def _rescaling(layer: Any, x: np.ndarray) -> np.ndarray:
    config = layer.get_config()
    return x * np.asarray(config["scale"], np.float64) + np.asarray(config["offset"], np.float64)


def _identity(layer: Any, x: np.ndarray) -> np.ndarray:
    return x  # InputLayer, and noise/dropout layers, which are identities at inference


_LAYERS: dict[str, Callable[[Any, np.ndarray], np.ndarray]] = {
    "InputLayer": _identity,
    "Dropout": _identity,
    "AlphaDropout": _identity,
    "GaussianDropout": _identity,
    "GaussianNoise": _identity,
    "ActivityRegularization": _identity,
    "Dense": _dense_layer,
    "Activation": _activation_layer,
    "BatchNormalization": _batch_norm,
    "Normalization": _normalization,
    "Rescaling": _rescaling,
    "Flatten": lambda layer, x: x.reshape(len(x), -1),
    "Sequential": lambda layer, x: forward(layer, x),
    "Functional": lambda layer, x: forward(layer, x),
}


def forward(model: Any, X: np.ndarray) -> np.ndarray:
    """Run a Keras MLP's weights through numpy, in inference mode and float64.

    The model must be a chain: a ``Sequential`` or a branch-free functional model, possibly
    nested. Supported layers are the keys of ``_LAYERS``; anything else raises ``ValueError``.

    Args:
        model: A built Keras model (read only through ``layers``, ``get_config``, ``get_weights``).
        X: Input batch.

    Returns:
        The model's output for ``X``; matches ``model.predict(X)`` to float32 precision.

    Example:
        >>> forward(model, X_test).shape == model.predict(X_test).shape  # doctest: +SKIP
        True
    """
    x = np.asarray(X, dtype=np.float64)
    for position, layer in enumerate(model.layers):
        kind = type(layer).__name__
        if kind not in _LAYERS:
            raise ValueError(
                f"forward() cannot run layer {position} {layer.name!r} of type {kind} in "
                f"argument 'model'. Supported layer types: {', '.join(sorted(_LAYERS))}."
            )
        x = _LAYERS[kind](layer, x)
    return x


def numerical_diff(f: ArrayFn, x: np.ndarray | float, h: float = 1e-4) -> np.ndarray:
    """Central difference ``(f(x + h) - f(x - h)) / 2h``, elementwise for array ``x``.

    Its error is O(h**2) instead of the forward difference's O(h).

    Example:
        >>> round(float(numerical_diff(lambda x: x ** 2, 3.0)), 6)
        6.0
    """
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray,
                       h: float = 1e-4) -> np.ndarray:
    """Gradient of a scalar function of an array of any shape, by central differences.

    Works on a float64 copy, perturbing one element at a time and restoring it before the next,
    so ``f`` always sees a single perturbed element and the caller's array is never touched.

    Example:
        >>> numerical_gradient(lambda v: float(np.sum(v ** 2)), np.array([1.0, -2.0])).round(6)
        array([ 2., -4.])
    """
    x = np.array(x, dtype=np.float64)  # private copy; also makes integer inputs differentiable
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        plus = f(x)
        x[index] = original - h
        minus = f(x)
        x[index] = original
        grad[index] = (plus - minus) / (2 * h)
    return grad


def gradient_descent(f: Callable[[np.ndarray], float], init_x: np.ndarray, lr: float = 0.01,
                     step_num: int = 100, *, return_path: bool = False
                     ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Plain gradient descent ``x <- x - lr * grad f(x)`` with numerical gradients.

    Returns:
        The final ``x``; with ``return_path=True`` also every iterate, shape
        ``(step_num + 1, *x.shape)``, starting with ``init_x`` and ending with the final ``x``.

    Example:
        >>> x = gradient_descent(lambda v: float(np.sum(v ** 2)), np.array([-3.0, 4.0]), lr=0.1)
        >>> x.round(6)
        array([-0.,  0.])
    """
    x = np.array(init_x, dtype=np.float64)
    path = [x.copy()]
    for _ in range(step_num):
        x = x - lr * numerical_gradient(f, x)
        path.append(x)
    return (x, np.stack(path)) if return_path else x


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
        y: Predicted probabilities, shape ``(k,)`` or ``(batch, k)``; clipped to
            ``[eps, 1 - eps]`` with Keras's ``eps = 1e-7`` before the log.
        t: Either one-hot / probability targets shaped like ``y`` or integer class labels
            shaped like ``y.shape[:-1]`` (Keras's SparseCategoricalCrossentropy).

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

    ``y`` is clipped to ``[eps, 1 - eps]`` with Keras's ``eps = 1e-7`` before the logs.

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
    elements; textbooks that use ``0.5 * sum`` give a different scale.

    Example:
        >>> mean_squared_error(np.array([1.0, 3.0]), np.array([0.0, 0.0]))
        5.0
    """
    y = np.asarray(y, dtype=np.float64)
    t = _matched(y, np.asarray(t, dtype=np.float64))
    return float(np.mean((y - t) ** 2))
