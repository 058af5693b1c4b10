"""check_gradients: quiet on correct models for every head/loss pair, loud on wrong gradients."""

import doctest

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasact.diagnose import gradcheck
from kerasact.diagnose.gradcheck import check_gradients, relative_error

N, N_IN = 16, 5
RNG = np.random.default_rng(0)
X = RNG.normal(size=(N, N_IN))
LABELS = RNG.integers(0, 3, size=N)
TARGETS = {
    "regression": RNG.normal(size=(N, 1)),
    "binary": RNG.integers(0, 2, size=(N, 1)).astype(float),
    "sparse": LABELS,
    "onehot": np.eye(3)[LABELS],
    "multilabel": RNG.integers(0, 2, size=(N, 4)).astype(float),
}


class HalfGradientMSE(keras.losses.Loss):
    """MSE whose value is right but whose gradient is half the true one (stop_gradient)."""

    def call(self, y_true, y_pred):
        error = y_pred - y_true
        return keras.ops.mean(tf.stop_gradient(error) * error, axis=-1)


class StoppedSquare(keras.layers.Layer):
    """Computes x + x**2 but tells autodiff the square is a constant."""

    def call(self, x):
        return x + tf.stop_gradient(x * x)


def _model(head_units, head_activation, loss, *, hidden=(), regularizer=None):
    model = keras.Sequential([
        keras.Input((N_IN,)),
        keras.layers.Dense(6, activation="tanh", kernel_regularizer=regularizer),
        *hidden,
        keras.layers.Dense(head_units, activation=head_activation),
    ])
    model.compile(optimizer="sgd", loss=loss)
    return model


CORRECT = {
    "mse-linear": (lambda: _model(1, "linear", keras.losses.MeanSquaredError()), "regression"),
    "bce-sigmoid1": (lambda: _model(1, "sigmoid", keras.losses.BinaryCrossentropy()), "binary"),
    "sparse-cce-softmax3": (
        lambda: _model(3, "softmax", keras.losses.SparseCategoricalCrossentropy()), "sparse"),
    "cce-onehot-softmax3": (
        lambda: _model(3, "softmax", keras.losses.CategoricalCrossentropy()), "onehot"),
    "bce-multilabel-sigmoid4": (
        lambda: _model(4, "sigmoid", keras.losses.BinaryCrossentropy()), "multilabel"),
    "bce-from-logits-linear": (
        lambda: _model(1, "linear", keras.losses.BinaryCrossentropy(from_logits=True)), "binary"),
    "mse-l2-regularizer": (
        lambda: _model(1, "linear", "mse", regularizer=keras.regularizers.L2(0.1)), "regression"),
    "mse-string-bn-dropout": (
        lambda: _model(1, "linear", "mean_squared_error",
                       hidden=(keras.layers.BatchNormalization(), keras.layers.Dropout(0.5))),
        "regression"),
}

WRONG = {
    "stop-gradient-loss": (lambda: _model(1, "linear", HalfGradientMSE()), "regression"),
    "stop-gradient-layer": (
        lambda: _model(1, "linear", "mse", hidden=(StoppedSquare(),)), "regression"),
}


@pytest.mark.parametrize("case", sorted(CORRECT))
def test_correct_models_pass(case):
    build, target = CORRECT[case]
    model = build()
    before = model.get_weights()
    report = check_gradients(model, X, TARGETS[target])
    assert report.worst_relative_error < 1e-5, report
    assert list(report.per_weight) == [w.path for w in model.trainable_weights]
    assert report.n_checked == sum(min(int(np.prod(w.shape)), 20) for w in model.trainable_weights)
    for old, new in zip(before, model.get_weights()):  # the model itself is never perturbed
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize("case", sorted(WRONG))
def test_wrong_gradients_are_reported(case):
    build, target = WRONG[case]
    report = check_gradients(build(), X, TARGETS[target], max_per_weight=5)
    assert report.worst_relative_error > 0.1, report


def test_regularizer_gradient_is_included():
    """Checking against the loss without the L2 term would report a large error."""
    model = _model(1, "linear", "mse", regularizer=keras.regularizers.L2(10.0))
    report = check_gradients(model, X, TARGETS["regression"], max_per_weight=3)
    assert report.worst_relative_error < 1e-5


def test_seed_picks_coordinates_and_limits_their_number():
    model = _model(3, "softmax", keras.losses.CategoricalCrossentropy())
    first = check_gradients(model, X, TARGETS["onehot"], max_per_weight=2, seed=1)
    again = check_gradients(model, X, TARGETS["onehot"], max_per_weight=2, seed=1)
    assert first == again and first.n_checked == 2 * len(model.trainable_weights)


@pytest.mark.parametrize(
    "prepare, match",
    [
        (lambda m: None, r"must be compiled with a loss; got loss=None"),
        (lambda m: m.compile(loss=["mse", "mse"]), r"needs one loss.*\['mse', 'mse'\]"),
        (lambda m: m.compile(loss="crossentropy"), r"needs one loss.*'crossentropy'"),
    ],
)
def test_rejects_models_it_cannot_check(prepare, match):
    model = keras.Sequential([keras.Input((N_IN,)), keras.layers.Dense(1)])
    prepare(model)
    with pytest.raises(ValueError, match=match):
        check_gradients(model, X, TARGETS["regression"])


def test_rejects_unbuilt_models():
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile(loss="mse")
    with pytest.raises(ValueError, match="must be built"):
        check_gradients(model, X, TARGETS["regression"])


def test_relative_error_is_symmetric_bounded_and_floored():
    a, n = np.array([2.0, -1.0, 0.0, 1e-12]), np.array([1.0, 1.0, 3.0, -1e-12])
    np.testing.assert_allclose(relative_error(a, n), relative_error(n, a))
    np.testing.assert_allclose(relative_error(a, n), [1 / 3, 1.0, 1.0, 2e-6])


def test_docstring_examples_run():
    assert doctest.testmod(gradcheck).failed == 0
