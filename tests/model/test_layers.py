"""kerasact.model.layers: Normalization statistics in float64 against a numpy oracle, constant
features mapped to `x - mean` (not multiplied by 1e7), float32-overflowing features kept finite,
and the statistics saved with the model."""

import keras
import numpy as np
import pytest

import kerasact
from kerasact.model.layers import MAX_VARIANCE, adapt_on_training_rows, input_layer, statistics, target_layer

F32 = np.finfo(np.float32)
RNG = np.random.default_rng(0)
BASE = RNG.normal(size=(300, 4))


def _float32_close(actual, expected, rtol=8 * F32.eps):
    # Two float32 roundings (data, then stored statistic) plus float64 summation.
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=rtol, atol=0)


# Scales from tiny to near float32's limit; the oracle is numpy in float64 on the same float32 rows.
@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6, 1e18, 1e20])
def test_statistics_match_numpy_float64(scale):
    X = (scale * (3.0 + 0.1 * BASE)).astype(np.float32)
    mean, variance = statistics(X)
    assert mean.dtype == variance.dtype == np.float32
    _float32_close(mean, X.astype(np.float64).mean(axis=0))
    _float32_close(variance, X.astype(np.float64).var(axis=0))


@pytest.mark.parametrize("value", [0.0, 5.0, -3e10])
def test_constant_feature_maps_unseen_values_to_x_minus_mean(value):
    X = BASE.astype(np.float32).copy()
    X[:, 2] = value
    layer = input_layer(X, 4)
    assert layer.input_variance[2] == 1.0
    unseen = X[:5].copy()
    unseen[:, 2] = value + 16.0 + abs(value) * 1e-4  # a step float32 resolves at this magnitude
    z = keras.ops.convert_to_numpy(layer(unseen))
    # x - mean exactly (float32 subtraction of close values is exact), not (x - mean) * 1e7.
    np.testing.assert_array_equal(z[:, 2], unseen[:, 2] - np.float32(layer.input_mean[2]))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(X))[:, 2], 0.0)


def test_spread_within_float32_rounding_counts_as_constant():
    X = np.ones((10, 1), np.float32)
    X[::2] = np.nextafter(np.float32(1), np.float32(2))  # one ulp apart: rounding, not signal
    assert statistics(X)[1].tolist() == [1.0]


def test_constant_feature_in_training_split_keeps_predictions_bounded():
    X = BASE.astype(np.float32).copy()
    X[:, 3] = 0.0
    y = X[:, 0] - X[:, 1]
    model = kerasact.build_model("regression", 4, hidden=[8], normalize=True, seed=0)
    result = kerasact.train(model, X, y, epochs=3, log_dir=None, seed=0, verbose=0)
    assert model.layers[0].variance.numpy().ravel()[3] == 1.0
    unseen = result.split.X_test.copy()
    unseen[:, 3] = 16.0
    seen = model.predict(result.split.X_test, verbose=0)
    shifted = model.predict(unseen, verbose=0)
    # The shift is 16 in standardised units, not 1.6e8: bounded by the weights times 16.
    assert np.all(np.isfinite(shifted)) and np.max(np.abs(shifted - seen)) < 1e3


def test_overflowing_variance_is_capped_so_features_stay_finite_and_varying():
    X = (1e20 * BASE).astype(np.float32)  # variance about 1e40: beyond float32
    mean, variance = statistics(X)
    _float32_close(mean, X.astype(np.float64).mean(axis=0), rtol=1e-5)  # mean near 0: cancellation
    assert np.all(variance == np.float32(MAX_VARIANCE))
    z = keras.ops.convert_to_numpy(input_layer(X, 4)(X))
    assert np.all(np.isfinite(z))
    # Scaled by std / sqrt(MAX_VARIANCE), about 5.4, instead of to unit variance.
    np.testing.assert_allclose(z.std(axis=0), X.astype(np.float64).std(axis=0) / np.sqrt(MAX_VARIANCE), rtol=1e-5)


@pytest.mark.parametrize("spread", [0.1, 1.0], ids=["var-fits-float32", "var-beyond-float32"])
def test_features_near_1e20_train_to_varying_predictions(spread):
    X = (1e20 * (1 + spread * BASE)).astype(np.float32)
    y = (BASE[:, 0] > 0).astype(np.float32)
    model = kerasact.build_model("binary", 4, hidden=[8], normalize=True, seed=0)
    kerasact.train(model, X, y, epochs=3, log_dir=None, seed=0, verbose=0)
    assert np.all(np.isfinite(model.layers[0].variance.numpy()))
    predictions = model.predict(X, verbose=0)
    assert np.all(np.isfinite(predictions)) and predictions.std() > 1e-3


def test_target_layer_uses_the_same_statistics():
    y = (1e20 * BASE[:, :1]).astype(np.float32)
    layer = target_layer(y, 1)
    assert layer.invert and layer.input_variance.tolist() == [np.float32(MAX_VARIANCE)]
    constant = target_layer(np.full(50, 7.0, np.float32), 1)
    out = keras.ops.convert_to_numpy(constant(np.array([[0.0], [0.5]], np.float32)))
    np.testing.assert_allclose(out.ravel(), [7.0, 7.5])  # mean + z: a unit step stays a unit step


BAD_DATA = {
    "nan": (np.array([[1.0, np.nan], [2.0, 3.0]]), r"X holds NaN, inf .* feature index\(es\) \[1\]"),
    "inf": (np.array([[np.inf], [2.0]]), r"X holds NaN, inf"),
    "beyond float32": (np.array([[1e39], [2.0]]), r"beyond float32's range"),
    "no rows": (np.zeros((0, 3)), r"X has no rows"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_data_is_refused_with_the_argument_named(case):
    data, match = BAD_DATA[case]
    with pytest.raises(ValueError, match=match):
        statistics(data)


def test_training_rows_statistics_are_float64_numpy_ones():
    X = (1e6 * (2 + BASE)).astype(np.float32)
    y = BASE[:, 0].astype(np.float32)
    model = kerasact.build_model("regression", 4, hidden=[4], normalize=True, normalize_target=True, seed=0)
    assert adapt_on_training_rows(model, X, y) == ["normalize_inputs", "normalize_targets"]
    _float32_close(model.layers[0].adapt_variance.numpy(), X.astype(np.float64).var(axis=0))
    _float32_close(model.layers[-1].adapt_mean.numpy(), [y.astype(np.float64).mean()], rtol=1e-5)
    assert adapt_on_training_rows(model, X, y) == []  # adapted once only


@pytest.mark.parametrize("how", ["adapted by train", "given at build"])
def test_statistics_survive_save_and_load(tmp_path, how):
    X = BASE.astype(np.float32).copy()
    X[:, 1] = 4.0  # constant: variance 1 must be what is saved
    y = X[:, 0] * 3 + 10
    data = how == "given at build"
    model = kerasact.build_model("regression", 4, hidden=[4], seed=0,
                                 normalize=X if data else True, normalize_target=y if data else True)
    if not data:
        adapt_on_training_rows(model, X, y)
    loaded = kerasact.load_model(kerasact.save_model(model, tmp_path / "model.keras"), compile=False)
    for index in (0, -1):
        np.testing.assert_array_equal(np.ravel(loaded.layers[index].mean), np.ravel(model.layers[index].mean))
        np.testing.assert_array_equal(np.ravel(loaded.layers[index].variance),
                                      np.ravel(model.layers[index].variance))
    assert np.ravel(loaded.layers[0].variance)[1] == 1.0
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_digits_test_loss_stays_near_validation_loss():
    # Some pixels are 0 on every training row but not on every test row; Keras's own adapt
    # multiplied those by 1e7 and the test loss came out about 1e4 times the validation loss.
    ds = kerasact.data.load_dataset("digits")
    model = kerasact.build_model("multiclass", 64, n_classes=10, normalize=True, hidden=[64])
    result = kerasact.train(model, ds.X, ds.y, epochs=5, log_dir=None, seed=0, verbose=0)
    train_rows, test_rows = result.split.X_train, result.split.X_test
    assert np.any((np.ptp(train_rows, axis=0) == 0) & (np.ptp(test_rows, axis=0) > 0))  # the case is present
    assert result.metrics["loss"] < 5 * result.val_metrics["loss"]
