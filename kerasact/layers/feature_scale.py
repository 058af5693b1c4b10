"""`FeatureScale`: RealMLP's learnable per-feature scaling in front of the first layer
(Holzmüller et al., "Better by Default", NeurIPS 2024, Sec. 3 "scaling layer"; pytabkit
`add_front_scale=True`, `scale_lr_factor=6.0`).

Ported from pytabkit `pytabkit/models/nn_models/nn.py` (`ScaleFitter._fit`: the init) and
`pytabkit/models/nn_models/base.py` (`ScaleLayer.forward_cont`: `x * scale`);
`pytabkit/models/nn_models/models.py` `NNFactory._create_transform` puts it first in the first
block (`block_str = 's-' + 'w-b-a-d'`), after the encodings and embeddings are concatenated.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from kerasact.layers._checks import last_axis


def feature_scale_numpy(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The numpy twin of `FeatureScale.call`, in float64.

    Example:
        >>> feature_scale_numpy(np.array([[1.0, 2.0]]), np.array([3.0, 0.5])).tolist()
        [[3.0, 1.0]]
    """
    return np.asarray(x, dtype=np.float64) * scale


@keras.saving.register_keras_serializable(package="kerasact")
class FeatureScale(keras.layers.Layer):
    """A learnable scale per feature: `y_j = s_j · x_j`, `s` initialised to 1.

    RealMLP-TD trains `scale` with learning-rate factor 6 (`scale_lr_factor`) and weight-decay
    factor 1 (`ScaleFitter`'s default `scale_wd_factor`), so features can be switched off or up
    early in training (the paper's soft feature selection).

    Input shape: (n, k) float. Output shape: (n, k).

    Args:
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`).

    Example:
        >>> layer = FeatureScale()
        >>> keras.ops.convert_to_numpy(layer(np.array([[1.0, -2.0]], "float32"))).tolist()
        [[1.0, -2.0]]
    """

    def build(self, input_shape: Any) -> None:
        width = last_axis("FeatureScale", input_shape)
        self.scale = self.add_weight(name="scale", shape=(width,), initializer="ones")

    def call(self, x: Any) -> Any:
        return keras.ops.cast(x, self.compute_dtype) * self.scale

    def numpy_call(self, x: np.ndarray) -> np.ndarray:
        """`self(x)` in numpy (float64), from this layer's weights.

        Example:
            >>> layer = FeatureScale(); layer.build((None, 2))
            >>> layer.numpy_call(np.array([[1.0, 2.0]])).tolist()
            [[1.0, 2.0]]
        """
        return feature_scale_numpy(x, self.scale.numpy())

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)
