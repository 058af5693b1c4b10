"""`solver="lbfgs"`: full-batch L-BFGS over the Keras model's weights, as scikit-learn does it.

Keras has no quasi-Newton optimizer, so, like scikit-learn's `_fit_lbfgs`, scipy's L-BFGS-B
minimises the loss: each evaluation is one compiled Keras forward and backward pass over all
rows (`model.compute_loss`, so the compiled loss, its sample weights and the L2 penalty are
exactly those the stochastic solvers minimise), with `maxiter=max_iter`, `maxfun=max_fun`
and `gtol=tol`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
import scipy.optimize
import tensorflow as tf


def minimize(model: keras.Model, X: Any, y: np.ndarray, sample_weight: np.ndarray | None, *,
             max_iter: int, max_fun: int, tol: float, verbose: bool) -> tuple[list[float], Any]:
    """Fit `model` in place; returns the loss after each iteration and scipy's result.

    Example:
        >>> curve, result = minimize(model, X, y, None, max_iter=200, max_fun=15000, tol=1e-4,
        ...                          verbose=False)  # doctest: +SKIP
    """
    variables = model.trainable_variables
    shapes = [tuple(v.shape) for v in variables]
    sizes = [int(np.prod(s)) for s in shapes]
    dtype = variables[0].dtype
    # A table model takes a dict of its input columns (already tensors); arrays take the model's dtype.
    x = dict(X) if isinstance(X, Mapping) else tf.constant(X, dtype)
    t = tf.constant(y)
    w = None if sample_weight is None else tf.constant(sample_weight, dtype)

    @tf.function(reduce_retracing=True)
    def loss_and_grads() -> tuple[tf.Tensor, list[tf.Tensor]]:
        with tf.GradientTape() as tape:
            out = model(x, training=True)
            loss = model.compute_loss(x=x, y=t, y_pred=out, sample_weight=w, training=True)
        return loss, tape.gradient(loss, variables)

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        for var, part in zip(variables, np.split(theta, np.cumsum(sizes)[:-1]), strict=True):
            var.assign(part.reshape(var.shape).astype(dtype))
        loss, grads = loss_and_grads()
        flat = np.concatenate([np.asarray(g, np.float64).ravel() for g in grads])
        return float(loss), flat

    curve: list[float] = []
    theta0 = np.concatenate([np.asarray(v, np.float64).ravel() for v in variables])
    result = scipy.optimize.minimize(
        fun, theta0, jac=True, method="L-BFGS-B",
        options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
        callback=lambda intermediate_result: _record(curve, intermediate_result.fun, verbose),
    )
    fun(result.x)  # leave the model at the optimum (the last evaluation may be a rejected trial)
    return curve, result


def _record(curve: list[float], loss: float, verbose: bool) -> None:
    curve.append(float(loss))
    if verbose:  # scikit-learn's wording, one line per iteration
        print(f"Iteration {len(curve)}, loss = {loss:.8f}")
