"""`kerasact.serve`: the frozen numpy forward pass against `kerasact.predict` (the compiled path
on the live model) for every head and every activation a Dense layer runs by name, on both
sides of the numpy/compiled crossover; its snapshot semantics; and its refusals."""

import functools

import keras
import numpy as np
import pytest

import kerasact
from kerasact import HEADS, build_model
from kerasact.activations import CATALOG, DENSE_NAMES, KERAS_DEVIATIONS
from kerasact.model import layers as preprocessing
from kerasact.model.spec import TEMPERATURE_HEADS
from kerasact.runtime import frozen

# numpy and TensorFlow run the same float32 arithmetic through different kernels (summation
# order, exp/tanh approximations): O(1) outputs agree to a few float32 ulps; the bar is 1e-5.
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}
# normalize=True: statistics adapted into the layer's variables (as train does); "stats": passed in.
HEAD_OPTIONS = [{}, {"logits": True}, {"normalize": "stats", "dropout": 0.2}, {"normalize": True},
                {"batch_norm": True}]


def _rows(n, d=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def _sizes(predictor):
    """One row, the largest numpy batch, and one row past it (the compiled path)."""
    return (1, predictor._numpy_rows, predictor._numpy_rows + 1)


def _assert_serves_as_predict(model, d=5, tolerance=None):
    predictor = kerasact.serve(model)
    for n in _sizes(predictor):
        X = _rows(n, d, seed=n)
        np.testing.assert_allclose(predictor(X), kerasact.predict(model, X), **(tolerance or TOLERANCE))


@functools.cache
def _fitted_stats():
    return _rows(200, seed=9) * 3 + 1


@pytest.mark.parametrize(("problem", "options"), [
    pytest.param(problem, options, id=f"{problem}-{'-'.join(f'{k}={v}' for k, v in options.items()) or 'plain'}")
    for problem in sorted(HEADS) for options in HEAD_OPTIONS
    if not (options.get("logits") and not HEADS[problem].probabilistic)])  # regression has no logits
def test_every_head_serves_as_predict(problem, options):
    shape = {"n_classes": 4} if problem == "multiclass" else {"n_outputs": 3} if problem == "multilabel" else {}
    model = build_model(problem, 5, hidden=[16, 8], seed=1, **shape,
                        **{k: (_fitted_stats() if v == "stats" else v) for k, v in options.items()})
    if options.get("normalize") is True:
        preprocessing.adapt_on_training_rows(model, _fitted_stats(), np.zeros(200, np.float32))
    rng = np.random.default_rng(4)
    for layer in model.layers:  # moving statistics away from their (0, 1) start
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(size=layer.moving_mean.shape))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, size=layer.moving_variance.shape))
    _assert_serves_as_predict(model)


RECIPE = {"parametrization": "ntk", "parametric_activation": True, "front_scale": True, "dropout": 0.15,
          "regularization_schedule": "flat_cos", "weight_decay": 0.02, "activation": "selu"}


@pytest.mark.parametrize("problem", sorted(HEADS))
def test_the_realmlp_stack_serves_as_predict(problem):
    shape = {"n_classes": 4} if problem == "multiclass" else {"n_outputs": 3} if problem == "multilabel" else {}
    calibrated = problem in TEMPERATURE_HEADS  # the classes' temperature after the head
    model = build_model(problem, 5, hidden=[16, 8], seed=1, temperature_scaling=calibrated, **shape, **RECIPE)
    rng = np.random.default_rng(5)
    for weight in model.trainable_weights:  # off their init (ones, zeros), so every twin is really tested
        weight.assign(weight.numpy() + rng.normal(0.0, 0.3, weight.shape).astype("float32"))
    if calibrated:
        model.get_layer("temperature").temperature.assign(0.7)
        model.get_layer("temperature").mix.assign(0.05)
    _assert_serves_as_predict(model)


@pytest.mark.parametrize("name", DENSE_NAMES)
def test_every_dense_activation_serves_as_predict(name):
    rng = np.random.default_rng(3)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(7, activation=name),
                              keras.layers.Activation(name), keras.layers.Dense(3)])
    model.set_weights([rng.normal(size=w.shape) / np.sqrt(w.shape[0] if w.ndim == 2 else 1)
                       for w in model.get_weights()])
    # exp(exp(z)) reaches 1e20 here: float32's relative error of exp grows with its argument (~z·2^-24,
    # z up to ~46), and each CPU's exp kernel rounds differently, so 1e-5 holds on some CPUs only.
    _assert_serves_as_predict(model, tolerance={"rtol": 1e-4, "atol": 1e-5} if name == "exponential" else None)


def test_a_float64_model_serves_in_float64():
    model = build_model("regression", 5, hidden=[8], dtype="float64", seed=0)
    predictor = kerasact.serve(model)
    X = _rows(3)
    assert predictor(X).dtype == np.float64
    np.testing.assert_allclose(predictor(X), kerasact.predict(model, X), rtol=1e-12, atol=1e-12)


def test_the_crossover_follows_the_work_per_row():
    small = kerasact.serve(build_model("multiclass", 64, n_classes=10, hidden=[128, 64]))
    wide = kerasact.serve(build_model("multiclass", 256, n_classes=10, hidden=[512, 512]))
    flops = 2 * (256 * 512 + 512 * 512 + 512 * 10)
    assert small._numpy_rows == frozen.NUMPY_MAX_ROWS
    assert wide._numpy_rows == int(frozen.NUMPY_MAX_FLOPS // flops) < frozen.NUMPY_MAX_ROWS


def test_it_is_a_snapshot_and_serving_again_follows_the_new_weights():
    model = build_model("binary", 5, hidden=[8], seed=0)
    X = _rows(4)
    before = kerasact.predict(model, X)
    predictor = kerasact.serve(model)
    model.set_weights([w * 0.5 for w in model.get_weights()])
    after = kerasact.predict(model, X)
    assert np.abs(after - before).max() > 1e-3, "halving the weights must move the outputs"
    for n in _sizes(predictor):  # both paths keep the weights it was made with
        rows = _rows(n, seed=n)
        np.testing.assert_allclose(predictor(rows), kerasact.predict(build_model("binary", 5, hidden=[8], seed=0),
                                                                     rows), **TOLERANCE)
    np.testing.assert_allclose(kerasact.serve(model)(X), after, **TOLERANCE)


@pytest.mark.parametrize(("X", "error", "match"), [
    pytest.param(np.zeros(5), ValueError, r"X must be 2-D \(n_samples, n_features\)", id="1-d"),
    pytest.param(np.zeros((1, 4)), ValueError, "X has 4 features .* the model expects 5", id="width"),
    pytest.param(np.array([[np.nan, 0, 0, 0, 0]]), ValueError, "NaN/inf value", id="nan"),
    pytest.param(np.array([["a"] * 5]), TypeError, "X must be numeric", id="text"),
])
def test_bad_rows_get_predicts_errors(X, error, match):
    with pytest.raises(error, match=match):
        kerasact.serve(build_model("binary", 5, hidden=[4]))(X)


def test_models_it_cannot_run_are_refused_with_what_it_can_run():
    conv = keras.Sequential([keras.Input((6, 1)), keras.layers.Conv1D(2, 3)])
    with pytest.raises(ValueError, match=r"one \(batch, features\) input"):
        kerasact.serve(conv)
    custom = keras.Sequential([keras.Input((4,)), keras.layers.LayerNormalization(), keras.layers.Dense(1)])
    refusal = "cannot run layer 'layer_normalization' of type LayerNormalization; it runs .*Dense.*Use kerasact"
    with pytest.raises(ValueError, match=refusal):
        kerasact.serve(custom)
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        kerasact.serve("model.keras")


@pytest.mark.parametrize("name", sorted(KERAS_DEVIATIONS))
def test_activations_keras_computes_differently_are_refused(name):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation=name)])
    with pytest.raises(ValueError, match=f"{name}.*keras-team/keras#"):
        kerasact.serve(model)
    assert CATALOG[name].name == name
