"""Gradient check: TensorFlow's gradients of a compiled model's loss against central differences.

Everything runs on a float64 clone of the model, so finite differences are accurate to ~1e-10
and any disagreement bigger than that is a real bug in the differentiated computation (a custom
layer or loss with a wrong or stopped gradient), not float32 noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from kerasact.problems import functional_view, require_built, require_compiled

# Below this |autodiff| + |numeric| a pair counts as agreeing zeros: float64 central differences
# of an O(1) loss carry ~1e-10 of rounding, so smaller gradients cannot be told apart from 0.
RELATIVE_ERROR_FLOOR = 1e-6


@dataclass(frozen=True)
class GradientReport:
    """Result of `check_gradients`."""

    worst_relative_error: float  # max over every checked coordinate
    per_weight: dict[str, float]  # weight path (e.g. "sequential/dense/kernel") -> its worst error
    n_checked: int  # number of coordinates compared


def relative_error(autodiff: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    """Symmetric relative error `|a - n| / max(|a| + |n|, RELATIVE_ERROR_FLOOR)`.

    It lies in [0, 1]: 1 means opposite signs or one side zero, 1/3 a factor-2 disagreement.
    Summing the magnitudes (rather than taking the max) keeps it symmetric; the floor stops
    two rounding-noise values near zero from reporting a large error.

    Example:
        >>> float(relative_error(np.array(2.0), np.array(1.0)))
        0.3333333333333333
    """
    a, n = np.abs(autodiff), np.abs(numeric)
    return np.abs(autodiff - numeric) / np.maximum(a + n, RELATIVE_ERROR_FLOOR)


def _float64_clone(model: keras.Model) -> keras.Model:
    def to_float64(layer: keras.layers.Layer) -> keras.layers.Layer:
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float64"})

    view = functional_view(model)
    # A float64 Input too: the default one is float32 and would round X before the first layer.
    inputs = [keras.Input(batch_shape=t.shape, dtype="float64") for t in model.inputs]
    clone = keras.models.clone_model(view, input_tensors=inputs[0] if len(inputs) == 1 else inputs,
                                     clone_function=to_float64)
    clone.set_weights([np.asarray(w, np.float64) if np.issubdtype(np.asarray(w).dtype, np.floating)
                       else w for w in model.get_weights()])
    return clone


class _FunctionLoss(keras.losses.Loss):
    """A plain loss function (what compile() makes of "mse") as a float64 Loss object."""

    def __init__(self, fn: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]) -> None:
        super().__init__(name=getattr(fn, "__name__", None), dtype="float64")
        self.fn = fn

    def call(self, y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        return self.fn(y_true, y_pred)


def _float64_loss(identifier: object) -> keras.losses.Loss:
    try:
        loss = None if isinstance(identifier, (list, tuple, dict)) else keras.losses.get(identifier)
    except ValueError:
        loss = None
    if not callable(loss):  # several outputs, or names compile() resolves by shape ("ce")
        raise ValueError(f"check_gradients needs one loss that keras.losses.get() resolves; "
                         f"got model.loss={identifier!r}. Compile with an explicit keras.losses "
                         "object.")
    if not isinstance(loss, keras.losses.Loss):
        return _FunctionLoss(loss)
    try:  # Loss objects cast their inputs to their own dtype, float32 unless rebuilt
        return loss.__class__.from_config({**loss.get_config(), "dtype": "float64"})
    except TypeError as error:
        raise TypeError(f"Cannot rebuild loss {type(loss).__name__} in float64; let its __init__ "
                        "accept and pass on **kwargs (dtype) to keras.losses.Loss.") from error


def _central_difference(variable: tf.Variable, index: int, eps: float,
                        objective: Callable[[], tf.Tensor]) -> float:
    base = variable.numpy()
    bumped = base.copy()
    values = []
    for step in (eps, -eps):
        bumped.flat[index] = base.flat[index] + step
        variable.assign(bumped)
        values.append(float(objective()))
    variable.assign(base)
    # Divide by the step actually taken: x + eps and x - eps are rounded in float64.
    return (values[0] - values[1]) / ((base.flat[index] + eps) - (base.flat[index] - eps))


def check_gradients(model: keras.Model, X: np.ndarray, y: np.ndarray, *, eps: float = 1e-6,
                    max_per_weight: int = 20, seed: int = 0) -> GradientReport:
    """Compare autodiff and finite-difference gradients of a compiled model's training loss.

    The loss is the compiled loss (`model.loss`) plus regularisation losses (`model.losses`),
    evaluated in float64 on a clone, in inference mode (`training=False`) so dropout is off and
    BatchNormalization uses its moving statistics. For every trainable weight, up to
    `max_per_weight` coordinates chosen with `seed` are perturbed by `+-eps`.

    Args:
        model: A compiled, built Keras model with one output.
        X: Inputs.
        y: Targets in the form the compiled loss expects.
        eps: Finite-difference step.
        max_per_weight: Coordinates checked per weight tensor (all of them if it is smaller).
        seed: Seed for choosing the coordinates.

    Returns:
        A `GradientReport`; errors are `relative_error` values, so below ~1e-6 is healthy
        and above ~1e-2 means the gradient is wrong.

    Raises:
        ValueError: If the model is not compiled, not built, or has several losses.

    Example:
        >>> report = check_gradients(model, X[:32], y[:32])  # doctest: +SKIP
        >>> report.worst_relative_error < 1e-5  # doctest: +SKIP
        True
    """
    identifier = require_compiled(model)
    require_built(model)
    clone, loss = _float64_clone(model), _float64_loss(identifier)
    X64, y64 = tf.constant(np.asarray(X, np.float64)), tf.constant(np.asarray(y, np.float64))

    def objective() -> tf.Tensor:
        value = loss(y64, clone(X64, training=False))
        return value + tf.add_n(clone.losses) if clone.losses else value

    with tf.GradientTape() as tape:
        value = objective()
    gradients = tape.gradient(value, clone.trainable_variables)
    rng = np.random.default_rng(seed)
    per_weight, n_checked = {}, 0
    for original, variable, gradient in zip(model.trainable_weights, clone.trainable_variables,
                                            gradients):
        autodiff = np.zeros(variable.shape) if gradient is None else gradient.numpy()
        chosen = rng.choice(autodiff.size, size=min(autodiff.size, max_per_weight), replace=False)
        numeric = np.array([_central_difference(variable, i, eps, objective) for i in chosen])
        per_weight[original.path] = float(np.max(relative_error(autodiff.flat[chosen], numeric)))
        n_checked += len(chosen)
    return GradientReport(max(per_weight.values(), default=0.0), per_weight, n_checked)
