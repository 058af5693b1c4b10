"""The numpy functions behind the activation catalog (`kerasact.activations`).

Private: the catalog rows are the public face. Numpy only, like the catalog, so the
`kerasact.reference` oracle stays free of TensorFlow. Everything computes in float64.
"""

from __future__ import annotations

import math

import numpy as np

# The constants of tf.nn.selu (Klambauer et al., 2017), to full double precision.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
# numpy has no erf; math.erf is correctly rounded, and activation grids are small.
_erf = np.vectorize(math.erf, otypes=[np.float64])


def as_float64(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def sigmoid(x: np.ndarray) -> np.ndarray:
    x = as_float64(x)
    e = np.exp(-np.abs(x))  # exp of a non-positive number never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, as_float64(x))


def exp(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(1000) is inf, which is the honest float answer
        return np.exp(as_float64(x))


def hard_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.clip(as_float64(x) + 3.0, 0.0, 6.0) / 6.0


def d_hard_sigmoid(x: np.ndarray) -> np.ndarray:
    x = as_float64(x)
    return ((x > -3.0) & (x < 3.0)) / 6.0


def gelu(x: np.ndarray) -> np.ndarray:
    x = as_float64(x)
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def d_gelu(x: np.ndarray) -> np.ndarray:
    x = as_float64(x)
    density = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return 0.5 * (1.0 + _erf(x / math.sqrt(2.0))) + x * density


def mish(x: np.ndarray) -> np.ndarray:
    return as_float64(x) * np.tanh(softplus(x))


def d_mish(x: np.ndarray) -> np.ndarray:
    t = np.tanh(softplus(x))
    return t + as_float64(x) * (1.0 - t * t) * sigmoid(x)


def d_celu(x: np.ndarray) -> np.ndarray:
    x = as_float64(x)
    # Keras computes max(x, 0) + expm1(min(x, 0)); TF sends the gradient through both branches
    # at the tie x == 0, so its derivative there is 2, not the mathematical 1. We match TF.
    return (x >= 0) + np.exp(np.minimum(x, 0.0)) * (x <= 0)


def softmax(x: np.ndarray) -> np.ndarray:
    # Shift so the largest exponent is 0: exp cannot overflow.
    e = np.exp(as_float64(x) - np.max(x, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x: np.ndarray) -> np.ndarray:
    z = as_float64(x) - np.max(x, axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def sparsemax(x: np.ndarray) -> np.ndarray:
    x = as_float64(x)
    z = -np.sort(-x, axis=-1)  # descending
    cumsum = np.cumsum(z, axis=-1)
    k = np.arange(1, x.shape[-1] + 1)
    support = np.sum(z - (cumsum - 1.0) / k > 0, axis=-1, keepdims=True)
    tau = (np.take_along_axis(cumsum, support - 1, axis=-1) - 1.0) / support
    return np.maximum(x - tau, 0.0)


def glu(x: np.ndarray) -> np.ndarray:
    x = as_float64(x)
    if x.shape[-1] % 2:
        raise ValueError(f"glu needs an even last axis for argument 'x'; got shape {x.shape}.")
    a, b = np.split(x, 2, axis=-1)
    return a * sigmoid(b)
