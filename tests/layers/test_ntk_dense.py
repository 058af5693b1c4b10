"""NTKDense: the NTK forward pass on hand-set weights and RealMLP-TD's 'std' + 'he+5' init."""

import keras
import numpy as np

from kerasact.layers import NTKDense, he_plus_bias


def test_forward_divides_by_the_square_root_of_fan_in():
    layer = NTKDense(2)
    layer.build((None, 4))
    layer.set_weights([np.arange(8.0).reshape(4, 2), np.array([1.0, -1.0])])
    x = np.array([[1.0, 0.0, 2.0, 1.0]], "float32")
    expected = x @ np.arange(8.0).reshape(4, 2) / 2.0 + [1.0, -1.0]  # sqrt(4) = 2
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected)
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    no_bias = NTKDense(3, use_bias=False)
    no_bias.build((None, 2))
    assert [w.name for w in no_bias.weights] == ["kernel"]


def test_before_data_the_kernel_is_standard_normal_and_the_bias_zero():
    layer = NTKDense(64)
    layer.build((None, 50))
    kernel, bias = layer.get_weights()
    assert abs(kernel.mean()) < 0.05 and 0.95 < kernel.std() < 1.05 and not bias.any()


def test_initialize_from_gives_unit_variance_units_with_their_kink_inside_the_data():
    x = np.random.default_rng(0).normal(size=(200, 6)) * [1, 10, 0.1, 1, 1, 1] + 5.0
    layer = NTKDense(32)
    out = layer.initialize_from(x, seed=0)
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=1e-5)  # 'std': population std 1 per unit
    assert ((out.min(axis=0) <= 0) & (out.max(axis=0) >= 0)).all()  # 'he+5': -b is a convex mix of rows
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x.astype("float32"))), out, rtol=1e-4, atol=1e-4)
    twin = NTKDense(32)
    twin.build((None, 6))
    twin.set_weights([np.ones((6, 32)), np.zeros(32)])
    first = twin.initialize_from(x, seed=0)
    twin.set_weights([np.ones((6, 32)), np.zeros(32)])
    np.testing.assert_array_equal(twin.initialize_from(x, seed=0), first)  # a seed makes it reproducible


def test_a_constant_input_keeps_the_normal_kernel_instead_of_dividing_by_zero():
    layer = NTKDense(3)
    layer.build((None, 2))
    before = layer.get_weights()[0]
    out = layer.initialize_from(np.zeros((5, 2)), seed=0)
    np.testing.assert_array_equal(layer.get_weights()[0], before)
    assert np.isfinite(out).all() and not out.any()


def test_he_plus_bias_is_minus_a_convex_combination_of_five_rows_per_unit():
    pre = np.arange(12.0).reshape(4, 3)  # unit j takes values pre[:, j]
    rng = np.random.default_rng(3)
    rows, weights = rng.integers(0, 4, size=(3, 5)), rng.exponential(1.0, size=(3, 5))
    expected = -(pre[rows, np.arange(3)[:, None]] * weights / weights.sum(1, keepdims=True)).sum(1)
    np.testing.assert_allclose(he_plus_bias(pre, np.random.default_rng(3)), expected)
