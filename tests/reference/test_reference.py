"""The numpy reference against Keras: dense, forward vs predict, losses, numerical calculus."""

import doctest
import functools
import subprocess
import sys

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kerasact import reference
from kerasact.activations import CATALOG, KERAS_DEVIATIONS
from kerasact.reference import (
    binary_cross_entropy,
    cross_entropy_error,
    dense,
    dense_loop,
    forward,
    gradient_descent,
    mean_squared_error,
    numerical_diff,
    numerical_gradient,
    softmax,
)

BY_NAME = sorted(name for name, row in CATALOG.items() if row.by_name)
# predict runs in float32, so outputs are compared to float32 precision, relative for large ones.
PREDICT_TOL = {"rtol": 1e-5, "atol": 1e-5}


def _random_weights(model, rng):
    """Fixed random weights, scaled 1/sqrt(fan_in) so every activation stays in a sane range."""
    return [rng.normal(size=w.shape) / np.sqrt(w.shape[0] if w.ndim == 2 else 1) for w in
            model.get_weights()]


@functools.cache
def _mlp(activation, n_in=5, hidden=7, n_out=3, head=None):
    """Input(n_in) -> Dense(hidden, activation) -> Dense(n_out, head or activation), cached.

    Rows that Keras cannot feed to a next layer (glu) are tested as the head only.
    """
    head = head or activation
    if not CATALOG[activation].hidden_ok:
        activation = "relu"
    return keras.Sequential([
        keras.Input((n_in,)),
        keras.layers.Dense(hidden, activation=activation),
        keras.layers.Dense(n_out * CATALOG[head].width_divisor, activation=head),  # glu halves
    ])


def _assert_forward_matches_predict(model, X):
    np.testing.assert_allclose(forward(model, X), model.predict(X, verbose=0), **PREDICT_TOL)


# --- dense ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CATALOG))
def test_dense_equals_dense_loop_and_single_rows_equal_the_batch(name):
    rng = np.random.default_rng(1)
    A, W, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 6)), rng.normal(size=6)
    batch = dense(A, W, b, name)
    np.testing.assert_allclose(dense_loop(A, W, b, name), batch, rtol=1e-12)
    for i, row in enumerate(A):
        np.testing.assert_allclose(dense(row, W, b, name), batch[i], rtol=1e-12)
        np.testing.assert_allclose(dense_loop(row, W, b, name), batch[i], rtol=1e-12)


def test_dense_accepts_callables_rows_and_none():
    a, W, b = np.array([1.0, -2.0]), np.eye(2), np.zeros(2)
    np.testing.assert_array_equal(dense(a, W, b, np.abs), [1.0, 2.0])
    np.testing.assert_array_equal(dense(a, W, b, CATALOG["relu"]), [1.0, 0.0])
    np.testing.assert_array_equal(dense(a, W, b, None), [1.0, -2.0])


@pytest.mark.parametrize(
    "a_shape, W_shape, b_shape, match",
    [
        ((3,), (4, 2), (2,), r"Argument 'a_in' of shape \(3,\).*'W' of shape \(4, 2\)"),
        ((2, 2, 4), (4, 2), (2,), r"Argument 'a_in' of shape \(2, 2, 4\)"),
        ((4,), (4, 2), (3,), r"Argument 'b' must have shape \(2,\) or \(1, 2\).*got \(3,\)"),
        ((1, 4), (4, 2), (2, 2), r"Argument 'b' must have shape \(2,\) or \(1, 2\).*got \(2, 2\)"),
        ((1, 4), (4, 2), (2, 1), r"Argument 'b' .*got \(2, 1\)"),  # a column, not the tutorials' row
    ],
)
@pytest.mark.parametrize("layer", [dense, dense_loop])
def test_dense_rejects_mismatched_shapes(layer, a_shape, W_shape, b_shape, match):
    with pytest.raises(ValueError, match=match):
        layer(np.ones(a_shape), np.ones(W_shape), np.ones(b_shape), "relu")


@settings(max_examples=25, deadline=None)
@given(n_in=st.integers(1, 6), half_units=st.integers(1, 4), batch=st.integers(0, 4),
       name=st.sampled_from(sorted(CATALOG)), seed=st.integers(0, 2**32 - 1))
def test_dense_equals_dense_loop_property(n_in, half_units, batch, name, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(batch, n_in) if batch else (n_in,))  # batch 0 means a single 1-D row
    W, b = rng.normal(size=(n_in, 2 * half_units)), rng.normal(size=2 * half_units)
    np.testing.assert_allclose(dense_loop(a, W, b, name), dense(a, W, b, name), rtol=1e-12)


# --- the tutorials' dense layers, verbatim -----------------------------------------------------
# The two forms of the course this project grew from, copied as written (the loop form is
# renamed; both are `dense` there). Their `g` is passed to kerasact too, so both sides apply
# the same sigmoid and only the layer arithmetic is compared.

def tutorial_dense(A_in, W, B, g):
    Z = np.matmul(A_in, W) + B
    A_out = g(Z)
    return A_out


def tutorial_dense_loop(a_in, W, b, g):
    units = W.shape[1]
    a_out = np.zeros(units)
    for j in range(units):
        w = W[:, j]
        z = np.dot(w, a_in) + b[j]
        a_out[j] = g(z)
    return a_out


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


A_IN = np.array([[200, 17]])  # shape (1, 2)
W_TUTORIAL = np.array([[1, -3, 5], [-2, 4, -6]])
B_TUTORIAL = np.array([[-1, 1, 2]])  # shape (1, 3)
Z_TUTORIAL = [[165, -531, 900]]  # 200*1 + 17*(-2) - 1, 200*(-3) + 17*4 + 1, 200*5 + 17*(-6) + 2
# Loop forms sum each unit's products with np.dot, the vectorised ones with matmul; both are
# float64 sums of the same terms, which may round apart by a few ulps.
FLOAT64_ROUNDING = {"rtol": 4 * np.finfo(np.float64).eps, "atol": 0}


def test_tutorial_example_has_the_hand_computed_pre_activations():
    identity = lambda z: z
    np.testing.assert_array_equal(tutorial_dense(A_IN, W_TUTORIAL, B_TUTORIAL, identity), Z_TUTORIAL)
    for layer in (dense, dense_loop):
        np.testing.assert_array_equal(layer(A_IN, W_TUTORIAL, B_TUTORIAL, None), Z_TUTORIAL)
        np.testing.assert_array_equal(layer(A_IN[0], W_TUTORIAL, B_TUTORIAL[0], None), Z_TUTORIAL[0])


@pytest.mark.parametrize("g", [sigmoid, "sigmoid"], ids=["tutorial-sigmoid", "catalog-sigmoid"])
@pytest.mark.parametrize("bias", ["row (1, k)", "flat (k,)"])
def test_dense_equals_the_tutorials_vectorised_layer(g, bias):
    B = B_TUTORIAL if bias == "row (1, k)" else B_TUTORIAL[0]
    expected = tutorial_dense(A_IN, W_TUTORIAL, B_TUTORIAL, sigmoid)
    np.testing.assert_allclose(expected, sigmoid(np.array(Z_TUTORIAL, dtype=float)), rtol=0)
    assert dense(A_IN, W_TUTORIAL, B, g).shape == dense_loop(A_IN, W_TUTORIAL, B, g).shape == (1, 3)
    if g is sigmoid:  # the same function on the same float64 sums: bit for bit
        np.testing.assert_array_equal(dense(A_IN, W_TUTORIAL, B, g), expected)
        np.testing.assert_array_equal(dense_loop(A_IN, W_TUTORIAL, B, g), expected)
    else:  # kerasact's numerically stable sigmoid may round differently from 1 / (1 + e^-z)
        np.testing.assert_allclose(dense(A_IN, W_TUTORIAL, B, g), expected, **FLOAT64_ROUNDING)
        np.testing.assert_allclose(dense_loop(A_IN, W_TUTORIAL, B, g), expected, **FLOAT64_ROUNDING)


@pytest.mark.parametrize("layer", [dense, dense_loop])
def test_dense_equals_the_tutorials_loop_layer(layer):
    a_in, b = A_IN[0], B_TUTORIAL[0]  # the loop form takes a (d,) row and a (k,) bias
    expected = tutorial_dense_loop(a_in, W_TUTORIAL, b, sigmoid)
    assert expected.shape == (3,)
    for bias in (b, B_TUTORIAL):  # a (1, k) bias still gives a (k,) output for a (d,) row
        np.testing.assert_array_equal(layer(a_in, W_TUTORIAL, bias, sigmoid), expected)


# Coffee-roasting-style network: (temperature, duration), normalised, -> 3 sigmoid units -> 1.
COFFEE_X = np.array([[-0.47, 0.42], [0.5, -0.4]])  # a good roast (~0.97), a bad one (~1e-7)
COFFEE_W1 = np.array([[-8.93, 0.29, 12.9], [-0.1, -7.32, 10.81]])
COFFEE_B1 = np.array([[-9.82, -9.28, 0.96]])
COFFEE_W2 = np.array([[-31.18], [-27.59], [-32.56]])
COFFEE_B2 = np.array([[15.41]])


def test_two_sigmoid_layers_chained_equal_the_tutorials_network():
    def tutorial_sequential(x):
        a1 = tutorial_dense(x, COFFEE_W1, COFFEE_B1, sigmoid)
        return tutorial_dense(a1, COFFEE_W2, COFFEE_B2, sigmoid)

    for x in (COFFEE_X[:1], COFFEE_X):  # the tutorial's one (1, 2) row, and a batch
        expected = tutorial_sequential(x)
        assert expected.shape == (len(x), 1)
        ours = dense(dense(x, COFFEE_W1, COFFEE_B1, sigmoid), COFFEE_W2, COFFEE_B2, sigmoid)
        np.testing.assert_array_equal(ours, expected)
        loop = dense_loop(dense_loop(x, COFFEE_W1, COFFEE_B1[0], "sigmoid"), COFFEE_W2, COFFEE_B2[0], "sigmoid")
        np.testing.assert_allclose(loop, expected, **FLOAT64_ROUNDING)
    for row in COFFEE_X:  # the loop form, one (d,) row at a time, as the tutorial runs it
        a1 = tutorial_dense_loop(row, COFFEE_W1, COFFEE_B1[0], sigmoid)
        expected = tutorial_dense_loop(a1, COFFEE_W2, COFFEE_B2[0], sigmoid)
        ours = dense_loop(dense_loop(row, COFFEE_W1, COFFEE_B1, sigmoid), COFFEE_W2, COFFEE_B2, sigmoid)
        np.testing.assert_array_equal(ours, expected)


# --- forward vs predict -----------------------------------------------------------------------

def _by_name_with_deviations():
    return [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, raises=AssertionError,
                                                reason=KERAS_DEVIATIONS[n]))
        if n in KERAS_DEVIATIONS else n
        for n in BY_NAME
    ]


@pytest.mark.parametrize("name", _by_name_with_deviations())
def test_forward_matches_predict_for_every_activation(name):
    rng = np.random.default_rng(2)
    model = _mlp(name)
    model.set_weights(_random_weights(model, rng))
    _assert_forward_matches_predict(model, rng.normal(size=(16, 5)))


@pytest.mark.parametrize("head, units", [("sigmoid", 1), ("softmax", 4), ("linear", 2)])
def test_forward_matches_predict_for_heads(head, units):
    rng = np.random.default_rng(3)
    model = _mlp("relu", n_out=units, head=head)
    model.set_weights(_random_weights(model, rng))
    _assert_forward_matches_predict(model, rng.normal(size=(16, 5)))


@pytest.mark.parametrize("center, scale", [(True, True), (False, False)])
def test_forward_matches_predict_with_batch_norm_and_dropout(center, scale):
    rng = np.random.default_rng(4)
    model = keras.Sequential([
        keras.Input((5,)),
        keras.layers.Dense(6, activation="relu"),
        keras.layers.BatchNormalization(center=center, scale=scale, epsilon=0.01),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(3, activation="softmax"),
    ])
    weights = _random_weights(model, rng)
    # Non-trivial moving statistics; variances must stay positive.
    weights[-3] = rng.uniform(0.2, 3.0, size=weights[-3].shape)
    model.set_weights(weights)
    _assert_forward_matches_predict(model, rng.normal(size=(16, 5)))


def test_forward_matches_predict_with_adapted_normalization():
    rng = np.random.default_rng(5)
    X = rng.normal(loc=3.0, scale=[0.1, 1.0, 10.0, 100.0, 1.0], size=(64, 5))
    norm = keras.layers.Normalization()
    norm.adapt(X)
    model = keras.Sequential([keras.Input((5,)), norm, keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(1, activation="sigmoid")])
    _assert_forward_matches_predict(model, X[:16])


@pytest.mark.parametrize("invert", [False, True])
def test_normalization_clamps_std_at_keras_epsilon(invert):
    # sqrt(1e-16) = 1e-8 < eps: Keras divides by eps = 1e-7, not by sqrt(var + eps) ~ 3e-4.
    layer = keras.layers.Normalization(mean=[0.0, 1.0, 2.0], variance=[1.0, 4.0, 1e-16],
                                       invert=invert)
    model = keras.Sequential([keras.Input((3,)), layer])
    _assert_forward_matches_predict(model, np.random.default_rng(6).normal(size=(8, 3)))


def test_keras_epsilon_matches_keras():
    assert reference.KERAS_EPSILON == keras.backend.epsilon()


def test_forward_runs_nested_models_and_shape_layers():
    rng = np.random.default_rng(7)
    inner_in = keras.Input((6,))
    inner = keras.Model(inner_in, keras.layers.Dense(4, activation="elu")(inner_in))
    model = keras.Sequential([
        keras.Input((2, 3)),
        keras.layers.Rescaling(0.5, offset=-1.0),
        keras.layers.Flatten(),
        inner,
        keras.Sequential([keras.layers.Dense(5, use_bias=False),
                          keras.layers.Activation("swish")]),
        keras.layers.GaussianNoise(1.0),
        keras.layers.Dense(2, activation="softmax"),
    ])
    model.set_weights(_random_weights(model, rng))
    _assert_forward_matches_predict(model, rng.normal(size=(8, 2, 3)))


def test_forward_names_unsupported_layers():
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4),
                              keras.layers.LayerNormalization(name="ln")])
    match = (r"layer 1 'ln' of type LayerNormalization.*"
             r"Supported layer types: Activation, ActivityRegularization")
    with pytest.raises(ValueError, match=match):
        forward(model, np.ones((2, 5)))


def test_forward_refuses_lora_dense_layers():
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, name="adapted")])
    model.layers[0].enable_lora(2)
    with pytest.raises(ValueError, match=r"layer 'adapted' has 4 weight arrays"):
        forward(model, np.ones((2, 5)))


@functools.cache
def _shape_cached_mlp(n_in, hidden, n_out, activation):
    return _mlp(activation, n_in=n_in, hidden=hidden, n_out=n_out)


@settings(max_examples=20, deadline=None)
@given(n_in=st.sampled_from([2, 5]), hidden=st.sampled_from([4, 8]), n_out=st.sampled_from([1, 3]),
       name=st.sampled_from([n for n in BY_NAME if n not in KERAS_DEVIATIONS]),
       seed=st.integers(0, 2**32 - 1))
def test_forward_matches_predict_property(n_in, hidden, n_out, name, seed):
    rng = np.random.default_rng(seed)
    model = _shape_cached_mlp(n_in, hidden, n_out, name)  # new weights, not a new model
    model.set_weights(_random_weights(model, rng))
    X = rng.normal(size=(8, n_in))
    # Random stacks of `exponential` reach 1e22, where float32 Keras carries the float32
    # rounding of every pre-activation through exp(); 1e-5 relative is below that floor.
    tol = dict(PREDICT_TOL, rtol=5e-5) if name == "exponential" else PREDICT_TOL
    np.testing.assert_allclose(forward(model, X), model.predict(X, verbose=0), **tol)


# --- losses -----------------------------------------------------------------------------------

def _probabilities(rng, shape):
    return softmax(rng.normal(size=shape) * 2)


def test_losses_match_keras():
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 4, size=32)
    onehot = np.eye(4)[labels]
    probs = _probabilities(rng, (32, 4))
    sig = 1 / (1 + np.exp(-rng.normal(size=(32, 3)) * 3))
    bits = rng.integers(0, 2, size=(32, 3)).astype(float)
    y, t = rng.normal(size=(32, 3)), rng.normal(size=(32, 3))
    pairs = [
        (cross_entropy_error(probs, onehot), keras.losses.CategoricalCrossentropy()(onehot, probs)),
        (cross_entropy_error(probs, labels),
         keras.losses.SparseCategoricalCrossentropy()(labels, probs)),
        (binary_cross_entropy(sig, bits), keras.losses.BinaryCrossentropy()(bits, sig)),
        (mean_squared_error(y, t), keras.losses.MeanSquaredError()(t, y)),
        (mean_squared_error(y[:, :1], t[:, 0]), keras.losses.MeanSquaredError()(t[:, 0], y[:, :1])),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours, float(theirs), rtol=1e-5)


def test_losses_clip_like_keras_and_accept_single_rows():
    assert np.isfinite(binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0])))
    np.testing.assert_allclose(cross_entropy_error(np.array([0.0, 1.0]), np.array([1.0, 0.0])),
                               -np.log(1e-7))
    np.testing.assert_allclose(cross_entropy_error(np.array([0.2, 0.8]), 1), -np.log(0.8))


@pytest.mark.parametrize(
    "loss, y, t, match",
    [
        (mean_squared_error, np.ones((4, 1)), np.ones(3), r"Argument 't' of shape \(3,\)"),
        (binary_cross_entropy, np.ones((4, 2)), np.ones(8), r"must match argument 'y'"),
        (cross_entropy_error, np.ones((4, 3)), np.array([0.5, 1, 2, 0]), r"Integer class labels"),
        (cross_entropy_error, np.ones((4, 3)), np.ones((4, 2)), r"must match argument 'y'"),
    ],
)
def test_losses_reject_mismatched_targets(loss, y, t, match):
    with pytest.raises(ValueError, match=match):
        loss(y, t)


def test_softmax_rows_sum_to_one_without_overflow():
    x = np.array([[1000.0, 1000.0, 999.0], [-1000.0, 0.0, 1000.0], [1.0, 2.0, 3.0]])
    with np.errstate(over="raise", invalid="raise"):
        y = softmax(x)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0)
    np.testing.assert_allclose(y[0], np.exp([0, 0, -1]) / np.exp([0, 0, -1]).sum())
    np.testing.assert_allclose(softmax(x[2]), y[2])


# --- numerical calculus -----------------------------------------------------------------------

def test_numerical_diff_matches_cos():
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(numerical_diff(np.sin, x), np.cos(x), atol=1e-8)


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 4)])
def test_numerical_gradient_of_sum_of_squares(shape):
    x = np.random.default_rng(9).normal(size=shape)
    before = x.copy()
    grad = numerical_gradient(lambda v: float(np.sum(v ** 2)), x)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(x, before)  # the caller's array is untouched


def test_numerical_gradient_sees_one_perturbed_element_and_accepts_ints():
    seen = []
    numerical_gradient(lambda v: seen.append(np.count_nonzero(v != [1, 2])) or 0.0, [1, 2])
    assert seen == [1, 1, 1, 1]


def test_gradient_descent_reaches_the_minimum():
    x, path = gradient_descent(lambda v: v[0] ** 2 + v[1] ** 2, np.array([-3.0, 4.0]), lr=0.1,
                               step_num=100, return_path=True)
    np.testing.assert_allclose(x, [0.0, 0.0], atol=1e-6)
    assert path.shape == (101, 2)
    np.testing.assert_array_equal(path[0], [-3.0, 4.0])
    np.testing.assert_array_equal(path[-1], x)


# --- independence -----------------------------------------------------------------------------

def test_importing_reference_does_not_import_tensorflow_or_keras():
    code = ("import kerasact.reference, kerasact.activations, sys; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_docstring_examples_run():
    assert doctest.testmod(reference).failed == 0
