"""`ClipRange`: a regression model's predictions clipped to the range of its training targets
(RealMLP-TD's `clamp_output=True`, pytabkit `pytabkit/models/nn_models/models.py`, the output
clamp to the training targets' min and max), so an extrapolating network cannot predict a value
no training row had."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from kerasact._errors import invalid
from kerasact.layers._checks import last_axis


def clip_range_numpy(y: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """`ClipRange` in numpy: each column of `y` clipped to `[low, high]`.

    Example:
        >>> clip_range_numpy(np.array([[5.0]]), np.array([0.0]), np.array([1.0])).tolist()
        [[1.0]]
    """
    return np.clip(np.asarray(y, np.float64), low, high)


@keras.saving.register_keras_serializable(package="kerasact")
class ClipRange(keras.layers.Layer):
    """`y = min(max(x, low), high)` per column at inference, `low`/`high` the training targets'
    range; training passes `x` through.

    Input shape: (n, k) float. Output shape: (n, k).

    Example:
        >>> layer = ClipRange(); layer.adapt(np.array([[1.0], [3.0]]))
        >>> keras.ops.convert_to_numpy(layer(np.array([[0.0], [5.0]], "float32"))).tolist()
        [[1.0], [3.0]]
    """

    def build(self, input_shape: Any) -> None:
        width = last_axis("ClipRange", input_shape)
        self.low = self.add_weight(name="low", shape=(width,), initializer=keras.initializers.Constant(-np.inf),
                                   trainable=False)
        self.high = self.add_weight(name="high", shape=(width,), initializer=keras.initializers.Constant(np.inf),
                                    trainable=False)

    def adapt(self, targets: Any) -> None:
        """Set the range from the training targets `(n, k)`; NaN is ignored."""
        y = np.asarray(targets, np.float64).reshape(len(targets), -1)
        if not np.isfinite(y).any(axis=0).all():
            raise invalid("targets", "a column with no finite value", "finite training targets",
                          "drop the rows whose target is missing before building the model")
        if not self.built:
            self.build((None, y.shape[1]))
        self.low.assign(np.nanmin(np.where(np.isfinite(y), y, np.nan), axis=0))
        self.high.assign(np.nanmax(np.where(np.isfinite(y), y, np.nan), axis=0))

    def call(self, x: Any, training: bool = False) -> Any:
        # Predictions only: a clipped output has no gradient, so clipping while training would
        # freeze a network whose outputs overshoot the range early on (pytabkit clamps at predict).
        x = keras.ops.cast(x, self.compute_dtype)
        return x if training else keras.ops.clip(x, self.low, self.high)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)

    def numpy_call(self, x: np.ndarray) -> np.ndarray:
        """`self(x)` in numpy (float64)."""
        return clip_range_numpy(x, self.low.numpy(), self.high.numpy())
