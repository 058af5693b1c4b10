"""`RobustScale`: RealMLP's numeric column encoding: median centring, robust scaling and smooth
clipping (Holzmüller et al., "Better by Default", NeurIPS 2024, Sec. 3 and Table B.1; pytabkit
`tfms=['median_center', 'robust_scale', 'smooth_clip']`).

Ported from pytabkit `pytabkit/models/nn_models/pipeline.py` (`MedianCenterFactory._fit`,
`RobustScaleFactory._fit`) and `pytabkit/models/nn_models/models.py` (`smooth_clip_func`).
"""

from __future__ import annotations

import warnings
from typing import Any

import keras
import numpy as np

from kerasact._errors import invalid
from kerasact.layers._checks import last_axis, positive_float

EPS = 1e-30  # pytabkit's robust_scale_eps: factor = 1 / (spread + EPS)
# |z| is capped here before the clip, so (z / 3)² cannot overflow float32 and an infinite input
# lands on ±max_abs_value; smooth_clip(1e6) differs from the uncapped value by < 1e-11.
Z_CAP = 1e6


def robust_statistics(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per-column median and robust scale factor of training rows, NaN and ±inf ignored.

    pytabkit's rule (`RobustScaleFactory._fit`): factor = 1 / (q75 − q25 + 1e-30); where the
    interquartile range is 0 the spread is half the range, 0.5·(max − min) (the paper's 2/(max − min));
    where that is 0 too (a constant column) the factor is 0, so the column encodes to 0. Quantiles are
    numpy's linear ones (`torch_np_quantile`). A column with no finite value gets median 0, factor 0.
    The rows are cast to float32 first, as the model will see them; statistics are taken in float64.

    Args:
        values: training rows, shape (n, d).

    Returns:
        `(median, factor)`, float32 arrays of shape (d,), always finite.

    Example:
        >>> median, factor = robust_statistics([[1.0], [2.0], [3.0], [4.0], [5.0]])
        >>> median.tolist(), factor.tolist()  # IQR = 4 - 2
        ([3.0], [0.5])
    """
    with np.errstate(over="ignore", invalid="ignore"):
        rows = np.asarray(values, dtype=np.float32).astype(np.float64)
    if rows.ndim != 2 or rows.shape[0] == 0:
        raise invalid("values", f"an array of shape {rows.shape}", "training rows of shape (n >= 1, d)",
                      "pass a 2-D array, one column per number")
    rows[~np.isfinite(rows)] = np.nan
    with warnings.catch_warnings():  # an all-missing column: nan statistics, replaced below
        warnings.simplefilter("ignore", RuntimeWarning)
        median, q25, q75 = np.nanquantile(rows, [0.5, 0.25, 0.75], axis=0)
        spread = np.where(q75 - q25 == 0.0, 0.5 * (np.nanmax(rows, axis=0) - np.nanmin(rows, axis=0)), q75 - q25)
    with np.errstate(divide="ignore", over="ignore"):
        factor = 1.0 / (spread + EPS)
    factor = np.where(np.isfinite(spread) & (spread != 0.0) & np.isfinite(factor), factor, 0.0)
    return np.nan_to_num(median).astype(np.float32), factor.astype(np.float32)


def robust_scale_numpy(x: np.ndarray, median: np.ndarray, factor: np.ndarray,
                       max_abs_value: float = 3.0) -> np.ndarray:
    """The numpy twin of `RobustScale.call`, in float64: `layer(x)` to float32 rounding.

    Example:
        >>> robust_scale_numpy(np.array([[9.0], [np.nan]]), np.array([3.0]), np.array([0.5])).round(4).tolist()
        [[2.1213], [0.0]]
    """
    with np.errstate(invalid="ignore"):  # 0 * inf is nan, mapped to 0 like a missing value
        z = (np.asarray(x, dtype=np.float64) - median) * factor
    z = np.clip(np.where(np.isnan(z), 0.0, z), -Z_CAP, Z_CAP)
    return z / np.sqrt(1.0 + np.square(z / max_abs_value))


@keras.saving.register_keras_serializable(package="kerasact")
class RobustScale(keras.layers.Layer):
    """Median centring, robust scaling and smooth clipping of numeric columns (RealMLP-TD).

    `z = (x − median) · factor`, then `z / sqrt(1 + (z / max_abs_value)²)` (paper Sec. 3: "smooth
    clipping"; `smooth_clip_func`). `median` and `factor` come from `adapt` on the training rows
    (`robust_statistics`) and are non-trainable weights, so they save and load with the model.
    Beyond pytabkit (which refuses NaN): a missing value (NaN) maps to the median (z = 0), and
    ±inf to ±max_abs_value; the output is always finite. Emit the 0/1 missing indicator outside.

    Input shape: (n, d) float, NaN allowed. Output shape: (n, d), values in (−max_abs_value, max_abs_value).

    Args:
        max_abs_value: the clip's asymptote (pytabkit's `smooth_clip_max_abs_value`, 3.0).
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`).

    Example:
        >>> layer = RobustScale()
        >>> layer.adapt(np.array([[1.0], [2.0], [3.0], [4.0], [5.0]]))
        >>> np.float64(keras.ops.convert_to_numpy(layer(np.array([[9.0], [np.nan]])))).round(4).tolist()
        [[2.1213], [0.0]]
    """

    def __init__(self, max_abs_value: float = 3.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_abs_value = positive_float("max_abs_value", max_abs_value, "RealMLP-TD uses max_abs_value=3.0")

    def build(self, input_shape: Any) -> None:
        width = last_axis("RobustScale", input_shape)
        self.median = self.add_weight(name="median", shape=(width,), initializer="zeros", trainable=False)
        self.factor = self.add_weight(name="factor", shape=(width,), initializer="ones", trainable=False)

    def adapt(self, values: Any) -> None:
        """Set `median` and `factor` from training rows (numpy, NaN ignored); builds the layer if needed.

        Example:
            >>> RobustScale().adapt(np.array([[1.0, 0.0], [3.0, 0.0]]))
        """
        median, factor = robust_statistics(values)
        if not self.built:
            self.build((None, median.shape[0]))
        if self.median.shape[0] != median.shape[0]:
            raise invalid("values", f"{median.shape[0]} columns", f"{self.median.shape[0]} columns, as built",
                          "adapt on the same columns the layer takes")
        self.median.assign(median)
        self.factor.assign(factor)

    def call(self, x: Any) -> Any:
        z = (keras.ops.cast(x, self.compute_dtype) - self.median) * self.factor
        z = keras.ops.clip(keras.ops.where(keras.ops.isnan(z), 0.0, z), -Z_CAP, Z_CAP)
        return z / keras.ops.sqrt(1.0 + keras.ops.square(z / self.max_abs_value))

    def numpy_call(self, x: np.ndarray) -> np.ndarray:
        """`self(x)` in numpy (float64), from this layer's weights.

        Example:
            >>> layer = RobustScale(); layer.adapt(np.array([[1.0], [5.0]]))
            >>> layer.numpy_call(np.array([[3.0]])).tolist()
            [[0.0]]
        """
        return robust_scale_numpy(x, self.median.numpy(), self.factor.numpy(), self.max_abs_value)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_abs_value": self.max_abs_value}
