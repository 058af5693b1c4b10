"""Numpy reference implementations: the independent oracle that Keras models are checked against.

Nothing here imports TensorFlow or Keras (a test enforces it): `forward` reads a model only
through duck typing (layer class names, `get_config()`, `get_weights()`), so a bug in Keras
cannot hide in the oracle too. Everything is computed in float64.

This is the public face; the code lives in three private modules, one job each: `_forward`
(dense layers and `forward`), `_calculus` (central differences, gradient descent) and
`_losses` (softmax and Keras-convention losses).

Example:
    >>> from kerasact.reference import dense
    >>> dense(np.array([1.0, -2.0]), np.eye(2), np.zeros(2), "relu")
    array([1., 0.])
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (the docstring examples, run by doctest here, use np)

from kerasact.reference._calculus import gradient_descent, numerical_diff, numerical_gradient
from kerasact.reference._forward import (
    KERAS_EPSILON,
    ActivationLike,
    ArrayFn,
    dense,
    dense_loop,
    forward,
)
from kerasact.reference._losses import (
    binary_cross_entropy,
    cross_entropy_error,
    mean_squared_error,
    softmax,
)

__all__ = [
    "KERAS_EPSILON", "ActivationLike", "ArrayFn",
    "dense", "dense_loop", "forward",
    "numerical_diff", "numerical_gradient", "gradient_descent",
    "softmax", "cross_entropy_error", "binary_cross_entropy", "mean_squared_error",
]

# doctest.testmod(reference) only looks at functions defined in this module; list the
# re-exported ones here so their docstring examples keep running as part of this module.
_FUNCTIONS = (dense, dense_loop, forward, numerical_diff, numerical_gradient, gradient_descent,
              softmax, cross_entropy_error, binary_cross_entropy, mean_squared_error)
__test__ = {fn.__name__: fn for fn in _FUNCTIONS}
