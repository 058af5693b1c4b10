"""ParametricActivation: y = x + (f(x) - x) * alpha, alpha initialised to 1."""

import keras
import numpy as np
import pytest

from kerasact.layers import ParametricActivation
from kerasact.layers.parametric_activation import ACTIVATIONS

X = np.array([[-3.0, -0.5, 0.0, 0.7, 4.0]], "float32")


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_alpha_one_is_the_activation_zero_the_identity_and_half_the_midpoint(name):
    layer = ParametricActivation(name)
    f = keras.ops.convert_to_numpy(keras.activations.get(name)(X))
    # x + (f(x) - x) cancels in float32 where f(x) is near 0 (gelu(-4) = -0.004): an error up to eps·|x|.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(X)), f, rtol=1e-6, atol=4 * np.finfo("float32").eps)
    layer.set_weights([np.array([0.0, 0.0, 0.5, 0.5, 0.5])])
    expected = np.concatenate([X[:, :2], (X[:, 2:] + f[:, 2:]) / 2], axis=1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(X)), expected, rtol=1e-6, atol=1e-7)


def test_hand_values():
    selu = ParametricActivation("selu")(np.array([[1.0, -1.0]], "float32"))
    scale, alpha = 1.0507010, 1.6732632
    np.testing.assert_allclose(keras.ops.convert_to_numpy(selu), [[scale, scale * alpha * (np.exp(-1) - 1)]], rtol=1e-6)
    mish = ParametricActivation("mish")(np.array([[1.0]], "float32"))
    assert keras.ops.convert_to_numpy(mish)[0, 0] == pytest.approx(np.tanh(np.log1p(np.e)), rel=1e-6)
    layer = ParametricActivation()
    layer.build((None, 3))
    assert [w.name for w in layer.trainable_weights] == ["alpha"] and layer.get_weights()[0].tolist() == [1.0] * 3
