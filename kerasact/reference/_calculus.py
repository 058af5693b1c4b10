"""Numerical calculus: central differences and plain gradient descent (part of
`kerasact.reference`; import from there). Numpy only, float64.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

ArrayFn = Callable[[np.ndarray], np.ndarray]


def numerical_diff(f: ArrayFn, x: np.ndarray | float, h: float = 1e-4) -> np.ndarray:
    """Central difference `(f(x + h) - f(x - h)) / 2h`, elementwise for array `x`.

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
    so `f` always sees a single perturbed element and the caller's array is never touched.

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
    """Plain gradient descent `x <- x - lr * grad f(x)` with numerical gradients.

    Returns:
        The final `x`; with `return_path=True` also every iterate, shape
        `(step_num + 1, *x.shape)`, starting with `init_x` and ending with the final `x`.

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
