"""`ParametricActivation`: RealMLP's per-unit interpolation between the identity and an
activation (Holzmüller et al., "Better by Default", NeurIPS 2024, Sec. 3 "parametric activation";
pytabkit `use_parametric_act=True`, `act_lr_factor=0.1`; SELU for classification, Mish for regression).

Ported from pytabkit `pytabkit/models/nn_models/activations.py`: `ParametricActivationLayer.forward_cont`
(`x + (f(x) - x) * weight`) and `ParametricActivationFitter._fit` (`weight` initialised to ones).
"""

from __future__ import annotations

from typing import Any, Literal

import keras
import numpy as np

from kerasact import activations as catalog
from kerasact.layers._checks import last_axis, option

# The activations pytabkit's ActivationFactory offers that RealMLP uses, and the smooth ones a search
# samples (elu, gelu, tanh); the numpy twins are the rows of kerasact's activation catalog, the Keras
# side is keras.activations under the same name.
ACTIVATIONS = ("elu", "gelu", "mish", "relu", "selu", "silu", "tanh")


def parametric_activation_numpy(x: np.ndarray, alpha: np.ndarray, activation: str) -> np.ndarray:
    """The numpy twin of `ParametricActivation.call`, in float64.

    Example:
        >>> parametric_activation_numpy(np.array([[-2.0, -2.0]]), np.array([1.0, 0.5]), "relu").tolist()
        [[0.0, -1.0]]
    """
    x = np.asarray(x, dtype=np.float64)
    return x + (catalog.get(activation).fn(x) - x) * alpha


@keras.saving.register_keras_serializable(package="kerasact")
class ParametricActivation(keras.layers.Layer):
    """`y_j = x_j + (f(x_j) − x_j)·α_j`, a learnable α per unit initialised to 1 (so y = f(x) at init).

    α → 0 turns a unit linear; RealMLP-TD trains α with learning-rate factor 0.1 (`act_lr_factor`)
    and weight-decay factor 1 (`act_wd_factor`'s default).

    Input shape: (n, units) float. Output shape: (n, units).

    Args:
        activation: f, one of `ACTIVATIONS` (RealMLP-TD: 'selu' for classes, 'mish' for regression).
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`).

    Example:
        >>> layer = ParametricActivation("relu")
        >>> keras.ops.convert_to_numpy(layer(np.array([[-1.0, 2.0]], "float32"))).tolist()
        [[0.0, 2.0]]
    """

    def __init__(self, activation: Literal["elu", "gelu", "mish", "relu", "selu", "silu", "tanh"] = "selu",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = option("activation", activation, ACTIVATIONS,
                                 "RealMLP-TD uses 'selu' for classification and 'mish' for regression")
        self._fn = keras.activations.get(self.activation)

    def build(self, input_shape: Any) -> None:
        units = last_axis("ParametricActivation", input_shape)
        self.alpha = self.add_weight(name="alpha", shape=(units,), initializer="ones")

    def call(self, x: Any) -> Any:
        x = keras.ops.cast(x, self.compute_dtype)
        return x + (self._fn(x) - x) * self.alpha

    def numpy_call(self, x: np.ndarray) -> np.ndarray:
        """`self(x)` in numpy (float64), from this layer's weights.

        Example:
            >>> layer = ParametricActivation("relu"); layer.build((None, 1))
            >>> layer.numpy_call(np.array([[-3.0]])).tolist()
            [[0.0]]
        """
        return parametric_activation_numpy(x, self.alpha.numpy(), self.activation)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": self.activation}
