"""The contract every layer in `kerasact.layers` keeps, checked over one registry of cases:
its numpy twin equals `layer(x)`, its config round-trips, a model holding it saves and loads
under safe mode with the same predictions, gradients reach every trainable weight, and a bad
argument gets one `ValueError` naming the argument, the value, what is valid and the fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasact.layers import (
    ClipRange,
    FeatureScale,
    NTKDense,
    ParametricActivation,
    PeriodicEmbedding,
    RobustScale,
    SmallOneHot,
    Temperature,
    category_encoder,
)
from kerasact.layers.parametric_activation import ACTIVATIONS


def _numbers(rng: np.random.Generator) -> np.ndarray:
    """Rows with a NaN, an inf, a constant column and a column whose IQR is 0."""
    x = rng.normal(size=(12, 4)) * [1.0, 50.0, 1.0, 1.0] + [0.0, 100.0, 0.0, 0.0]
    x[:, 2] = 7.0
    x[:9, 3] = 0.0
    x[1, 0], x[2, 1], x[3, 3] = np.nan, np.inf, -np.inf
    return x.astype("float32")


def _codes(n_levels: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.integers(-1, n_levels + 2, size=(10, 1)).astype("int32")


def _adapted(layer: RobustScale, rng: np.random.Generator) -> RobustScale:
    layer.adapt(_numbers(rng))
    return layer


def _clip(rng: np.random.Generator) -> ClipRange:
    layer = ClipRange()
    layer.adapt(np.array([[0.0, -1.0], [2.0, np.nan], [1.0, 4.0]]))  # a NaN target is ignored
    return layer


def _probabilities(k: int) -> Callable[[np.random.Generator], np.ndarray]:
    def rows(rng: np.random.Generator) -> np.ndarray:
        p = rng.dirichlet(np.ones(max(k, 2)), size=8)
        return (p[:, 1:] if k == 1 else p).astype("float32")  # one sigmoid unit: P(class 1)
    return rows


def _calibrated(link: str, k: int, rng: np.random.Generator) -> Temperature:
    layer = Temperature(link)
    p = _probabilities(k)(rng)
    layer.fit(p, rng.integers(0, max(k, 2), size=len(p)))  # a temperature and a mix away from the identity
    return layer


def _initialized(layer: NTKDense, rng: np.random.Generator) -> NTKDense:
    layer.initialize_from(rng.normal(size=(30, 4)), seed=0)
    return layer


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[np.random.Generator], keras.layers.Layer]  # a built layer, statistics set
    data: Callable[[np.random.Generator], np.ndarray]  # the rows it is called on
    trainable: bool = True  # has weights the optimizer trains


def _built(layer: keras.layers.Layer, shape: tuple) -> keras.layers.Layer:
    layer.build(shape)
    return layer


CASES = [
    Case("robust_scale", lambda rng: _adapted(RobustScale(), rng), _numbers, trainable=False),
    Case("periodic_embedding", lambda rng: _built(PeriodicEmbedding(), (None, 3)),
         lambda rng: rng.normal(size=(6, 3)).astype("float32")),
    Case("periodic_embedding_relu", lambda rng: _built(PeriodicEmbedding(8, 1.0, 3, "relu"), (None, 2)),
         lambda rng: rng.normal(size=(6, 2)).astype("float32")),
    Case("feature_scale", lambda rng: _built(FeatureScale(), (None, 5)),
         lambda rng: rng.normal(size=(6, 5)).astype("float32")),
    Case("ntk_dense", lambda rng: _initialized(NTKDense(5), rng),
         lambda rng: rng.normal(size=(6, 4)).astype("float32")),
    *[Case(f"parametric_{name}", lambda rng, name=name: _built(ParametricActivation(name), (None, 4)),
           lambda rng: 3 * rng.normal(size=(6, 4)).astype("float32")) for name in ACTIVATIONS],
    *[Case(f"small_one_hot_{n}", lambda rng, n=n: _built(SmallOneHot(n), (None, 1)), _codes(n), trainable=False)
      for n in (1, 2, 5)],
    Case("clip_range", _clip, lambda rng: 3 * rng.normal(size=(6, 2)).astype("float32"), trainable=False),
    Case("category_embedding", lambda rng: _built(category_encoder(12), (None, 1)), _codes(12)),
    Case("temperature_softmax", lambda rng: _calibrated("softmax", 4, rng), _probabilities(4), trainable=False),
    Case("temperature_sigmoid", lambda rng: _calibrated("sigmoid", 1, rng), _probabilities(1), trainable=False),
]
IDS = [case.name for case in CASES]


def _prepared(case: Case) -> tuple[keras.layers.Layer, np.ndarray]:
    rng = np.random.default_rng(0)
    layer = case.make(rng)
    for weight in layer.trainable_weights:  # move off the init (ones, zeros) so the twin is really tested
        weight.assign(weight.numpy() + rng.normal(0.0, 0.3, weight.shape).astype("float32"))
    return layer, case.data(rng)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_numpy_twin_equals_the_layer(case):
    layer, x = _prepared(case)
    expected = keras.ops.convert_to_numpy(layer(x))
    twin = layer.numpy_call(x)
    assert twin.shape == expected.shape == tuple(layer.compute_output_shape(x.shape))
    assert np.isfinite(twin).all()
    np.testing.assert_allclose(twin, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_config_round_trips_and_a_saved_model_loads_in_safe_mode(case, tmp_path):
    layer, x = _prepared(case)
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    inputs = keras.Input(shape=x.shape[1:], dtype=str(x.dtype))
    model = keras.Model(inputs, layer(inputs))
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert type(loaded.layers[-1]) is type(layer)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradients_reach_every_trainable_weight(case):
    layer, x = _prepared(case)
    assert bool(layer.trainable_weights) == case.trainable
    if not case.trainable:
        return
    upstream = np.random.default_rng(1).normal(size=layer.compute_output_shape(x.shape)).astype("float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) * upstream)
    for weight, grad in zip(layer.trainable_weights, tape.gradient(loss, layer.trainable_weights)):
        grad = tf.convert_to_tensor(grad).numpy()  # an Embedding's gradient comes as IndexedSlices
        assert np.isfinite(grad).all() and np.abs(grad).max() > 0, f"no gradient reaches {weight.path}"


BAD = [  # (the call, words its message must hold: argument=value, what is valid, the fix)
    (lambda: RobustScale(max_abs_value=0), ["max_abs_value=0", "number > 0", "max_abs_value=3.0"]),
    (lambda: RobustScale().adapt(np.zeros(3)), ["values=", "shape (3,)", "(n >= 1, d)", "2-D array"]),
    (lambda: PeriodicEmbedding(n_frequencies=0), ["n_frequencies=0", "int >= 1", "n_frequencies=16"]),
    (lambda: PeriodicEmbedding(sigma=-1.0), ["sigma=-1.0", "number > 0", "sigma=0.1"]),
    (lambda: PeriodicEmbedding(embedding_dim=1), ["embedding_dim=1", "int >= 2", "embedding_dim=4"]),
    (lambda: PeriodicEmbedding(activation="tanh"), ["activation='tanh'", "['linear', 'relu']", "'linear'"]),
    (lambda: NTKDense(0), ["units=0", "int >= 1", "units=256"]),
    (lambda: NTKDense("256"), ["units='256'", "int >= 1", "units=256"]),
    (lambda: NTKDense(4, use_bias="yes"), ["use_bias='yes'", "True or False", "use_bias=True"]),
    (lambda: NTKDense(2).initialize_from(np.array([[np.nan]])), ["x=", "finite training rows", "RobustScale"]),
    (lambda: _built(NTKDense(2), (None, 3)).initialize_from(np.ones((4, 5))), ["x='5 columns'", "3 columns",
                                                                               "rows this layer takes"]),
    (lambda: ParametricActivation("exponential"), ["activation='exponential'", "'mish', 'relu', 'selu'", "'selu'"]),
    (lambda: ParametricActivation("Selu"), ["activation='Selu'", "Did you mean 'selu'?"]),
    (lambda: SmallOneHot(0), ["n_levels=0", "int >= 1", "drop a column"]),
    (lambda: SmallOneHot(3)(np.zeros((2, 2), "int32")), ["input_shape=(2, 2)", "(n, 1)", "own encoder"]),
    (lambda: category_encoder(3, embedding_dim=0), ["embedding_dim=0", "int >= 1", "embedding_dim=8"]),
    (lambda: FeatureScale().build((None, None)), ["input_shape=(None, None)", "known last axis", "keras.Input"]),
    (lambda: Temperature("softmx"), ["link='softmx'", "sigmoid", "Did you mean 'softmax'?"]),
]


@pytest.mark.parametrize(("call", "words"), BAD, ids=[words[0] for _, words in BAD])
def test_a_bad_argument_gets_one_error_that_names_it_and_the_fix(call, words):
    with pytest.raises(ValueError) as error:
        call()
    message = str(error.value)
    assert "is not valid: expected" in message
    missing = [word for word in words if word not in message]
    assert missing == [], f"{missing} not in: {message}"
