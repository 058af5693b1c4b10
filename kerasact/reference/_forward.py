"""Numpy forward pass of Keras MLPs (part of `kerasact.reference`; import from there).

Nothing here imports TensorFlow or Keras: `forward` reads a model only through duck typing
(layer class names, `get_config()`, `get_weights()`), so a bug in Keras cannot hide in the
oracle too. Everything is computed in float64.
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


def _dense_arrays(a_in: Any, W: Any, b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three arguments as float64, shapes checked; a `(1, units)` bias comes back `(units,)`."""
    a, W, b = (np.asarray(v, dtype=np.float64) for v in (a_in, W, b))
    if a.ndim not in (1, 2) or W.ndim != 2 or a.shape[-1] != W.shape[0]:
        raise ValueError(f"Argument 'a_in' of shape {a.shape} does not fit argument 'W' of shape "
                         f"{W.shape}: need a 1-D row or 2-D batch whose last axis is W.shape[0].")
    # The tutorials' vectorised layer keeps the bias as a (1, units) row; the output's shape
    # follows a_in alone, so a 1-D row stays 1-D whichever form the bias has.
    if b.shape not in ((W.shape[1],), (1, W.shape[1])):
        raise ValueError(f"Argument 'b' must have shape ({W.shape[1]},) or (1, {W.shape[1]}) to match "
                         f"'W' of shape {W.shape}; got {b.shape}.")
    return a, W, b.reshape(-1)


def dense(a_in: np.ndarray, W: np.ndarray, b: np.ndarray, g: ActivationLike) -> np.ndarray:
    """Vectorised dense layer `g(a_in @ W + b)` for one row (1-D) or a batch (2-D).

    Args:
        a_in: Input activations, shape `(n_in,)` or `(batch, n_in)`.
        W: Kernel, shape `(n_in, units)` (Keras's layout).
        b: Bias, shape `(units,)` or `(1, units)` (the tutorials' row form).
        g: Activation: a numpy callable, a catalog name or row, or `None` for linear.

    Returns:
        Output activations, shape `(units,)` for a 1-D `a_in`, `(batch, units)` for a batch.

    Raises:
        ValueError: `a_in`, `W` or `b` has a shape that does not fit the others.

    Example:
        >>> dense(np.array([1.0, -2.0]), np.eye(2), np.zeros(2), "relu")
        array([1., 0.])
        >>> W = np.array([[1, -3, 5], [-2, 4, -6]])
        >>> dense(np.array([[200, 17]]), W, np.array([[-1, 1, 2]]), None)  # z of one (1, 2) row
        array([[ 165., -531.,  900.]])
    """
    a, W, b = _dense_arrays(a_in, W, b)
    return _activation_fn(g)(a @ W + b)


def dense_loop(a_in: np.ndarray, W: np.ndarray, b: np.ndarray, g: ActivationLike) -> np.ndarray:
    """Dense layer written one unit at a time, the textbook form; agrees with `dense`.

    Each unit j computes `z_j = a_in . W[:, j] + b[j]`; `g` is applied to the collected
    `z` so that non-elementwise activations (softmax, glu) also agree with `dense`. Takes
    the same arguments and shapes as `dense`.

    Example:
        >>> dense_loop(np.array([1.0, -2.0]), np.eye(2), np.zeros(2), "relu")
        array([1., 0.])
        >>> dense_loop(np.array([[1.0, -2.0]]), np.eye(2), np.zeros((1, 2)), "relu")
        array([[1., 0.]])
    """
    a, W, b = _dense_arrays(a_in, W, b)
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

    The model must be a chain: a `Sequential` or a branch-free functional model, possibly
    nested. Supported layers are the keys of `_LAYERS`; anything else raises `ValueError`.

    Args:
        model: A built Keras model (read only through `layers`, `get_config`, `get_weights`).
        X: Input batch.

    Returns:
        The model's output for `X`; matches `model.predict(X)` to float32 precision.

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
