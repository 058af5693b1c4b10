"""Training-behaviour checks behind `kerasact.testing`: the loss at initialisation, overfitting
a tiny batch, and every weight moving in one step. Training always happens on a clone with
copied weights and a fresh optimizer, so the user's model is never changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kerasact import _errors, activations
from kerasact.problems import ModelHead, compiled_loss, functional_view
from kerasact.testing._expect import (
    activation_mismatch,
    chance_loss,
    check_model,
    checked,
    constant_loss,
    expectation,
    label_format,
    output_activation,
    probabilities,
    probability_loss,
    read_head,
)

# assert_can_overfit's default bar: the loss must fall below this share of the best constant's.
OVERFIT_SHARE = 0.05
# assert_can_overfit trains with this multiple of the model's own learning rate: a tiny batch
# tolerates a larger step, and a zero learning rate stays zero (so it is still caught).
OVERFIT_LR_SCALE = 10.0


def _layers(model: keras.Model) -> Iterator[keras.layers.Layer]:
    for layer in model.layers:  # parents before their children, so flags restore in order
        yield layer
        yield from _layers(layer) if hasattr(layer, "layers") else ()


def _clone(model: keras.Model) -> tuple[keras.Model, set[int]]:
    """An uncompiled copy with the same weights, and the indices in `weights` of the weights
    built to train (frozen ones included; BatchNormalization statistics not)."""
    compiled_loss(model)  # refuses uncompiled models with a clear message
    clone = keras.models.clone_model(functional_view(model))
    clone.set_weights(model.get_weights())
    layers = list(_layers(clone))
    flags = [layer.trainable for layer in layers]
    for layer in layers:
        layer.trainable = True
    built = {i for i, w in enumerate(clone.weights) if w.trainable}
    for layer, flag in zip(layers, flags):
        layer.trainable = flag
    return clone, built


def _optimizer(model: keras.Model, learning_rate: float | None) -> tuple[keras.optimizers.Optimizer, float]:
    """A fresh optimizer of the model's class and config, and its learning rate."""
    config = model.optimizer.get_config()
    if learning_rate is None:
        learning_rate = float(model.optimizer.learning_rate)
    return type(model.optimizer).from_config({**config, "learning_rate": learning_rate}), learning_rate


def assert_initial_loss(model: keras.Model, X: Any, y: Any, factor: float | None = None, *,
                        problem: str | None = None) -> None:
    """A freshly initialised model's loss is near the loss of its head's uninformative output.

    The expected value is the compiled loss of the head's activation applied to zero logits:
    ln 2 for binary, ln K for K classes, ln 2 per label, mean(y**2) for MSE regression. A fresh
    network's outputs are not exactly 0, so the band is a factor (`EXPECTATIONS`): 3 for
    classifiers, 50 for regression (MSE grows with the square of the outputs' spread).

    Args:
        model: a compiled, untrained model.
        X: inputs.
        y: labels in the format the loss expects.
        factor: pass when `loss / expected` lies in `[1 / factor, factor]`.
        problem: the problem type, when `kerasact.head_of` cannot tell it.

    Example:
        >>> assert_initial_loss(kerasact.build_model("binary", 4), X, y)  # doctest: +SKIP
    """
    __tracebackhide__ = True
    check_model(model)
    _errors.check_number("factor", factor, minimum=1, open_low=True, none=True)
    info = read_head(model, problem)
    X, y = checked(model, info, X, y)
    factor = expectation(info.head).initial_factor if factor is None else factor
    expected = chance_loss(model, info, y)
    out = probabilities(model, X, info)
    found = probability_loss(model)(y, out)
    ratio = found / expected if expected > 0 else np.inf
    if not 1 / factor <= ratio <= factor:
        mismatch = activation_mismatch(model, info)
        cause = mismatch or ("the untrained outputs are too large: a large kernel initializer, or "
                             "unscaled inputs (pass normalize=X_train)" if ratio > 1 else
                             "the model is already trained (use a fresh one), or the labels leak into X")
        raise AssertionError(
            f"initial loss {found:.4g} is {ratio:.3g}x the expected {expected:.4g} "
            f"({expectation(info.head).chance}), allowed factor {factor:g}; the untrained outputs "
            f"have mean {np.mean(out):.3g} and std {np.std(out):.3g} — {cause}")


def _fit_hints(model: keras.Model, info: ModelHead, y: Any, rate: float,
               frozen: list[str]) -> list[str]:
    hints = [h for h in [activation_mismatch(model, info)] if h]
    row = activations.get("linear") if info.from_logits else output_activation(model)
    lo, hi = row.output_range if row else (-np.inf, np.inf)
    target = np.asarray(y, np.float64)
    if label_format(info, y) == "values" and (target.min() < lo or target.max() > hi):
        hints.append(f"targets span [{target.min():.3g}, {target.max():.3g}] but the output layer "
                     f"only reaches [{lo:g}, {hi:g}]")
    if rate == 0:
        hints.append("the learning rate is 0")
    if frozen:
        hints.append(f"frozen weights {frozen}")
    return hints + ["labels in the wrong format for the loss, or a learning rate too small "
                    "(pass learning_rate=)"]


def assert_can_overfit(model: keras.Model, X_small: Any, y_small: Any, epochs: int = 200,
                       max_loss: float | None = None, *, learning_rate: float | None = None,
                       problem: str | None = None) -> None:
    """A clone trained on one tiny batch drives its loss close to zero.

    The clone keeps the weights, loss and optimizer class; its learning rate is
    `OVERFIT_LR_SCALE` times the model's unless `learning_rate` is given. `epochs`
    full-batch steps are taken, stopping early once the loss is below `max_loss` (default:
    `OVERFIT_SHARE` of the loss of the best constant prediction).

    Example:
        >>> assert_can_overfit(kerasact.build_model("binary", 4), X[:16], y[:16])  # doctest: +SKIP
    """
    __tracebackhide__ = True
    check_model(model)
    _errors.check_int("epochs", epochs, minimum=1)
    _errors.check_number("max_loss", max_loss, minimum=0, none=True)
    _errors.check_number("learning_rate", learning_rate, minimum=0, none=True)
    info = read_head(model, problem)
    X_small, y_small = checked(model, info, X_small, y_small)
    clone, built = _clone(model)
    if learning_rate is None:
        learning_rate = float(model.optimizer.learning_rate) * OVERFIT_LR_SCALE
    optimizer, rate = _optimizer(model, learning_rate)
    # No XLA: compiling it costs more than the few small steps taken here.
    clone.compile(optimizer=optimizer, loss=model.loss, jit_compile=False)
    loss_of = probability_loss(model)
    baseline = constant_loss(model, info, y_small)
    limit = OVERFIT_SHARE * baseline if max_loss is None else max_loss
    seen = [loss_of(y_small, probabilities(clone, X_small, info))]
    for step in range(1, epochs + 1):
        clone.train_on_batch(X_small, y_small)
        if step % 10 == 0 or step == epochs:
            seen.append(loss_of(y_small, probabilities(clone, X_small, info)))
            if seen[-1] <= limit:
                return
    frozen = [model.weights[i].path for i in sorted(built) if not clone.weights[i].trainable]
    raise AssertionError(
        f"cannot overfit {len(X_small)} samples: after {epochs} steps at learning rate {rate:g} the "
        f"loss is {seen[-1]:.4g} (start {seen[0]:.4g}, best {min(seen):.4g}), expected <= {limit:.4g} "
        f"({OVERFIT_SHARE:g} x {baseline:.4g}, the loss of the best constant prediction) — "
        + "; or ".join(_fit_hints(model, info, y_small, rate, frozen)))


def assert_weights_update(model: keras.Model, X: Any, y: Any, *, skip: Iterable[str] = ()) -> None:
    """Every weight built to train changes in one optimisation step (on a clone).

    Weights Keras creates as non-trainable (BatchNormalization statistics, Normalization mean
    and variance) are not expected to change; frozen ones are reported. `skip` names weight
    paths or layer names that are frozen on purpose.

    Example:
        >>> assert_weights_update(kerasact.build_model("binary", 4), X[:32], y[:32])  # doctest: +SKIP
    """
    __tracebackhide__ = True
    check_model(model)
    if isinstance(skip, str):
        raise _errors.invalid("skip", skip, "a list of weight paths or layer names", f"pass skip=[{skip!r}]",
                              kind=TypeError)
    skip = set(skip)
    clone, built = _clone(model)
    try:
        info = read_head(model, None)
    except ValueError:  # a loss outside the head table: y is taken as the loss wants it
        info = None
    X, y = checked(model, info, X, y)
    optimizer, rate = _optimizer(model, None)
    names = [w.path for w in model.weights]
    before = [np.asarray(w).copy() for w in clone.weights]  # np.array(w) warns under NumPy 2
    # One eager step (what train_on_batch does, without tracing a function for a single use).
    loss = compiled_loss(model)
    with tf.GradientTape() as tape:
        value = keras.ops.mean(loss(y, clone(np.asarray(X, np.float32), training=True)))
        value = value + tf.add_n(clone.losses) if clone.losses else value
    variables = clone.trainable_variables
    gradients = tape.gradient(value, variables)
    optimizer.apply([tf.zeros_like(v) if g is None else g for g, v in zip(gradients, variables)], variables)
    # A path is "model/layer/weight"; skip matches it whole or any of its layer names.
    stuck = [i for i in sorted(built) if not skip & {names[i], *names[i].split("/")[:-1]}
             and np.array_equal(before[i], np.asarray(clone.weights[i]))]
    if not stuck:
        return
    frozen = [names[i] for i in stuck if not clone.weights[i].trainable]
    causes = [f"frozen layers (trainable=False): {frozen} (pass skip= if on purpose)"] if frozen else []
    if len(frozen) < len(stuck):
        causes += ["the learning rate is 0"] if rate == 0 else []
        causes += ["no gradient reaches them: a disconnected layer, dead ReLUs (all-zero or "
                   "negative pre-activations), a softmax over one unit, or tf.stop_gradient"]
    raise AssertionError(f"{len(stuck)} of {len(built)} trainable weights did not change in one step: "
                         f"{[names[i] for i in stuck]}, expected every one to move — "
                         + "; or ".join(causes))
