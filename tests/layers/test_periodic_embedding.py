"""PeriodicEmbedding (PBLD) against hand-set weights, pytabkit's output order and its inits."""

import keras
import numpy as np

from kerasact.layers import PeriodicEmbedding


def test_hand_set_weights_give_the_pbld_formula():
    layer = PeriodicEmbedding(n_frequencies=1, embedding_dim=2)
    layer.build((None, 1))
    w, b, k, c = 0.3, 0.5, 2.0, -1.0
    layer.set_weights([np.array([[w]]), np.array([[b]]), np.array([[[k]]]), np.array([[c]])])
    x = np.array([[0.0], [1.5], [-2.0]], "float32")
    expected = np.concatenate([k * np.cos(2 * np.pi * w * x + b) + c, x], axis=1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected, rtol=1e-5, atol=1e-6)


def test_the_output_is_every_features_embedding_then_the_numbers():
    layer = PeriodicEmbedding(n_frequencies=2, embedding_dim=3)
    layer.build((None, 2))
    frequencies, phases, kernel, bias = (np.zeros(w.shape) for w in layer.get_weights())
    bias[:] = [[1.0, 2.0], [3.0, 4.0]]  # cos(0) = 1 times kernel 0, plus bias: the bias shows
    layer.set_weights([frequencies, phases, kernel, bias])
    out = keras.ops.convert_to_numpy(layer(np.array([[10.0, 20.0]], "float32")))
    assert out.tolist() == [[1.0, 2.0, 3.0, 4.0, 10.0, 20.0]]  # pytabkit: torch.cat([emb, x_orig])


def test_the_inits_follow_pytabkit():
    layer = PeriodicEmbedding()  # 16 frequencies, sigma 0.1, 3 learned outputs per feature
    layer.build((None, 200))
    frequencies, phases, kernel, bias = layer.get_weights()
    assert frequencies.shape == phases.shape == (200, 16) and kernel.shape == (200, 16, 3) and bias.shape == (200, 3)
    assert abs(frequencies.mean()) < 0.01 and 0.09 < frequencies.std() < 0.11  # N(0, 0.1²)
    assert -np.pi <= phases.min() < -3.0 and 3.0 < phases.max() <= np.pi  # U(-π, π)
    for weight in (kernel, bias):  # U(-1/√16, 1/√16), nn.Linear's
        assert -0.25 <= weight.min() < -0.24 and 0.24 < weight.max() <= 0.25


def test_relu_variant_clips_the_learned_outputs_only():
    layer = PeriodicEmbedding(n_frequencies=4, embedding_dim=2, activation="relu")
    layer.build((None, 1))
    frequencies, phases, kernel, _ = layer.get_weights()
    layer.set_weights([frequencies, phases, kernel, np.full((1, 1), -10.0)])
    out = keras.ops.convert_to_numpy(layer(np.array([[-4.0]], "float32")))
    assert out.tolist() == [[0.0, -4.0]]
