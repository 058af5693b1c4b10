"""RobustScale against hand-computed values and scikit-learn's RobustScaler (an independent oracle
for the median and the interquartile range), and pytabkit's fallbacks for a zero IQR."""

import keras
import numpy as np
import pytest
from sklearn.preprocessing import RobustScaler

from kerasact.layers import RobustScale, robust_statistics


def _encode(train, x):
    layer = RobustScale()
    layer.adapt(np.asarray(train, dtype="float32"))
    return keras.ops.convert_to_numpy(layer(np.asarray(x, dtype="float32")))


def test_a_known_column_gives_the_quantile_values_and_the_smooth_clip():
    median, factor = robust_statistics([[1.0], [2.0], [3.0], [4.0], [5.0]])  # q25 = 2, q75 = 4
    assert median.tolist() == [3.0] and factor.tolist() == [0.5]
    out = _encode([[1.0], [2.0], [3.0], [4.0], [5.0]], [[3.0], [5.0], [9.0], [-3.0]])[:, 0]
    z = np.array([0.0, 1.0, 3.0, -3.0])
    np.testing.assert_allclose(out, z / np.sqrt(1 + (z / 3) ** 2), rtol=1e-6)
    assert out[2] == pytest.approx(3 / np.sqrt(2), rel=1e-6)  # smooth clip of 3 is 3/sqrt(2)


def test_median_and_iqr_agree_with_scikit_learn_robust_scaler():
    train = np.random.default_rng(0).lognormal(size=(101, 3)).astype("float32")
    x = np.random.default_rng(1).lognormal(size=(7, 3)).astype("float32")
    z = RobustScaler().fit(train.astype(np.float64)).transform(x.astype(np.float64))
    np.testing.assert_allclose(_encode(train, x), z / np.sqrt(1 + (z / 3) ** 2), rtol=1e-5, atol=1e-6)


def test_a_zero_iqr_falls_back_to_half_the_range_and_a_constant_column_to_zero():
    train = [[0.0, 7.0]] * 7 + [[10.0, 7.0]]  # first column: q25 = q75 = 0, range 10
    median, factor = robust_statistics(train)
    assert median.tolist() == [0.0, 7.0]
    np.testing.assert_allclose(factor, [1 / 5, 0.0])  # 1 / (0.5 * (max - min)); constant: 0
    out = _encode(train, [[5.0, 1e30], [-5.0, -np.inf]])
    np.testing.assert_allclose(out[:, 0], [1 / np.sqrt(1 + 1 / 9), -1 / np.sqrt(1 + 1 / 9)], rtol=1e-6)
    assert out[:, 1].tolist() == [0.0, 0.0]  # a constant column encodes to 0, whatever comes later


def test_missing_values_are_ignored_when_adapting_and_map_to_the_median():
    median, factor = robust_statistics([[1.0, np.nan], [np.nan, np.nan], [3.0, np.nan], [np.inf, np.nan]])
    assert median.tolist() == [2.0, 0.0] and factor.tolist() == [1.0, 0.0]  # an all-missing column: 0, 0
    out = _encode([[1.0], [3.0]], [[np.nan], [np.inf], [-np.inf], [2.0]])
    assert out[0, 0] == 0.0 and out[3, 0] == 0.0
    np.testing.assert_allclose(out[1:3, 0], [3.0, -3.0], rtol=1e-6)  # ±inf lands on ±max_abs_value
    assert np.isfinite(out).all()


def test_the_statistics_are_saved_as_non_trainable_weights():
    layer = RobustScale(max_abs_value=2.0)
    layer.adapt(np.array([[1.0, 4.0], [3.0, 8.0]]))
    assert [w.name for w in layer.non_trainable_weights] == ["median", "factor"] and not layer.trainable_weights
    assert layer.get_config()["max_abs_value"] == 2.0
