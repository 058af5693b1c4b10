"""The activation catalog checked against Keras itself: values, derivatives, ranges and lookup."""

import doctest
import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasact import activations
from kerasact.activations import ALIASES, CATALOG, KERAS_DEVIATIONS
from kerasact.reference import numerical_diff

KERAS_NAMES = sorted(
    n for n in dir(keras.activations)
    if not n.startswith("_") and n not in {"get", "serialize", "deserialize"}
)
ELEMENTWISE = sorted(name for name, row in CATALOG.items() if row.elementwise)
# 96 points so rows of 12 suit glu; the step 12/95 keeps every kink off the grid.
BATCH = np.linspace(-6.0, 6.0, 96).reshape(8, 12)
# Step 0.125: hits every kink exactly (0, +-0.5, +-1, +-3, 6), where TF's choice is tested.
KINK_GRID = np.linspace(-6.0, 6.0, 97)
# TF's float64 kernels are not exact everywhere: leaky_relu's slope is a float32 attribute
# (0.2000000029...) and gelu is off by ~5e-9, hence float64 tolerances looser than 1e-12.
TOLERANCE = {"float32": {"rtol": 1e-5, "atol": 1e-6}, "float64": {"rtol": 1e-7, "atol": 1e-8}}


def _with_deviations(names):
    """Keras rows known to compute something else are expected (strictly) to fail parity."""
    return [
        pytest.param(n, marks=pytest.mark.xfail(
            strict=True, raises=AssertionError, reason=KERAS_DEVIATIONS[n]))
        if n in KERAS_DEVIATIONS else n
        for n in names
    ]


def _keras(name, x, dtype="float64"):
    fn = getattr(keras.activations, name)
    return np.asarray(fn(tf.constant(x, dtype=dtype), **dict(CATALOG[name].params)))


def _tape_derivative(name, x):
    x = tf.constant(x, dtype="float64")
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = getattr(keras.activations, name)(x, **dict(CATALOG[name].params))
    return tape.gradient(y, x).numpy()


def _away_from_kinks(row, x, margin=1e-3):
    return x[np.all([np.abs(x - k) > margin for k in row.kinks], axis=0)] if row.kinks else x


def test_catalog_covers_every_keras_activation():
    keras_aliases = {a for a in ALIASES if a in KERAS_NAMES}
    assert set(CATALOG) | keras_aliases == set(KERAS_NAMES)
    assert set(KERAS_DEVIATIONS) <= set(CATALOG)
    for alias in keras_aliases:  # Keras itself treats these as the same function
        assert keras.activations.get(alias) is keras.activations.get(ALIASES[alias])


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_params_are_keras_defaults(name):
    row = CATALOG[name]
    signature = list(inspect.signature(getattr(keras.activations, name)).parameters.values())[1:]
    defaults = {p.name: p.default for p in signature if p.default is not p.empty}
    required = {p.name for p in signature if p.default is p.empty}
    if row.by_name:
        assert not required and defaults == dict(row.params)
    else:  # Keras has no defaults to follow; the row must pin every required argument
        assert required and required <= set(dict(row.params)) and "NOT usable" in row.use


@pytest.mark.parametrize("dtype", sorted(TOLERANCE))
@pytest.mark.parametrize("name", _with_deviations(sorted(CATALOG)))
def test_numpy_matches_keras(name, dtype):
    x = BATCH.astype(dtype)
    np.testing.assert_allclose(CATALOG[name].fn(x), _keras(name, x, dtype), **TOLERANCE[dtype])


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_no_overflow_at_extremes(name):
    x = np.array([[-1000.0, -50.0, 50.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = CATALOG[name].fn(x)
    assert not np.any(np.isnan(y))
    assert np.all(np.isfinite(y) | (name == "exponential"))  # exp(1000) really is inf


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_gradient_tape_including_kinks(name):
    np.testing.assert_allclose(
        CATALOG[name].derivative(KINK_GRID), _tape_derivative(name, KINK_GRID),
        **TOLERANCE["float64"],
    )


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_central_differences(name):
    row = CATALOG[name]
    x = _away_from_kinks(row, BATCH.ravel())
    np.testing.assert_allclose(row.derivative(x), numerical_diff(row.fn, x), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_derivative_present_exactly_for_elementwise_rows(name):
    row = CATALOG[name]
    assert (row.derivative is not None) == row.elementwise
    assert row.width_divisor == 1 or not row.elementwise


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_outputs_lie_in_output_range(name):
    low, high = CATALOG[name].output_range
    y = CATALOG[name].fn(np.linspace(-50.0, 50.0, 1000).reshape(100, 10))
    assert np.all((y >= low) & (y <= high))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_finite_bounds_are_tight(name):
    """Hand-typed bounds (gelu's -0.17, mish's -0.3089, ...) are close to the real extremes."""
    low, high = CATALOG[name].output_range
    y = CATALOG[name].fn(np.linspace(-50.0, 50.0, 100_001))
    assert np.isinf(low) or y.min() - low < 0.05
    assert np.isinf(high) or high - y.max() < 0.05


def test_sparsemax_is_the_simplex_projection():
    y = CATALOG["sparsemax"].fn(BATCH * 0.3)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0)
    assert np.all(y >= 0)
    np.testing.assert_allclose(CATALOG["sparsemax"].fn(np.array([0.0, 0.5, 1.0])), [0, 0.25, 0.75])


@pytest.mark.parametrize("name", _with_deviations(sorted(CATALOG)))
def test_row_works_by_name_in_dense(name):
    row = CATALOG[name]
    layer = keras.layers.Dense(4, activation=name)
    x = BATCH[:3, :6].astype("float32")
    if not row.by_name:
        with pytest.raises(TypeError):
            layer(x)
        return
    out = np.asarray(layer(x))
    assert out.shape == (3, 4 // row.width_divisor)
    assert layer.get_config()["activation"] == name
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(out, row.fn(x @ kernel + bias), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", [n for n, row in CATALOG.items() if not row.hidden_ok])
def test_last_layer_only_rows_really_break_the_next_layer(name):
    """When Keras fixes the shape bug this fails: then set hidden_ok=True in the row."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation=name),
                              keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="incompatible"):
        model(np.ones((2, 3), dtype="float32"))


def test_get_resolves_none_aliases_case_rows_and_configs():
    assert activations.get(None) is CATALOG["linear"]
    assert activations.get(" ReLU ") is CATALOG["relu"]
    assert activations.get(CATALOG["tanh"]) is CATALOG["tanh"]
    assert activations.get({"class_name": "function", "config": "gelu"}) is CATALOG["gelu"]
    for alias, target in ALIASES.items():
        assert activations.get(alias.upper()) is CATALOG[target]
    assert activations.names() == sorted(CATALOG)


@pytest.mark.parametrize(
    "identifier, error, match",
    [
        ("foo", ValueError,
         r"Unknown activation 'foo' for argument 'activation'\. Valid options: \[.*\(34 in all: kerasact"),
        ("swish2", ValueError, r"Did you mean 'swish'\?"),
        (42, TypeError, r"Argument 'activation' must be a str.*got int 42"),
        ({"config": 3}, TypeError, r"got int 3"),
    ],
)
def test_get_rejects_bad_identifiers(identifier, error, match):
    with pytest.raises(error, match=match) as info:
        activations.get(identifier)
    if error is ValueError:  # the closest options come from the table, with where all of them are
        assert len(str(info.value)) <= 300 and "kerasact.activations.names()" in str(info.value)


def test_docstring_examples_run():
    assert doctest.testmod(activations).failed == 0
