"""FeatureScale: a per-feature learnable scale, initialised to 1."""

import keras
import numpy as np

from kerasact.layers import FeatureScale


def test_starts_as_the_identity_and_multiplies_each_feature_by_its_scale():
    layer = FeatureScale()
    x = np.array([[1.0, -2.0, 3.0]], "float32")
    assert keras.ops.convert_to_numpy(layer(x)).tolist() == x.tolist()
    assert [w.name for w in layer.trainable_weights] == ["scale"]
    layer.set_weights([np.array([2.0, 0.0, -1.0])])
    assert keras.ops.convert_to_numpy(layer(x)).tolist() == [[2.0, 0.0, -3.0]]
