"""`NTKDense`: a Dense layer in NTK parametrisation with RealMLP-TD's data-dependent init
(Holzmüller et al., "Better by Default", NeurIPS 2024, Sec. 3 and Table B.1: `weight_param='ntk'`,
`weight_init_mode='std'`, `bias_init_mode='he+5'`, `bias_lr_factor=0.1`, `bias_wd_factor=0.0`).

Ported from pytabkit `pytabkit/models/nn_models/nn.py`: `WeightFitter._fit` ('ntk': the forward
factor 1/√fan_in; 'std': the kernel init), `BiasFitter._fit` and `BiasFitter.heplus_bias` ('he+5');
the forward passes are `WeightLayer.forward_cont` and `BiasLayer.forward_cont` in
`pytabkit/models/nn_models/base.py`.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from kerasact._errors import invalid
from kerasact.layers._checks import last_axis, positive_int

HE_PLUS_POINTS = 5  # the 5 of 'he+5': training rows mixed into each unit's bias


def ntk_dense_numpy(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """The numpy twin of `NTKDense.call`, in float64: `x @ kernel / sqrt(fan_in) + bias`.

    Example:
        >>> ntk_dense_numpy(np.ones((1, 4)), np.ones((4, 2)), np.array([0.0, 1.0])).tolist()
        [[2.0, 3.0]]
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    out = np.asarray(x, dtype=np.float64) @ kernel / math.sqrt(kernel.shape[0])
    return out if bias is None else out + bias


def he_plus_bias(pre: np.ndarray, rng: np.random.Generator, n_points: int = HE_PLUS_POINTS) -> np.ndarray:
    """pytabkit's 'he+5' bias (`BiasFitter.heplus_bias`): for each unit j, minus a random convex
    combination of its pre-activations on `n_points` training rows drawn with replacement, the
    weights Exp(1) draws normalised to sum 1, so each unit's kink lands inside the data.

    Example:
        >>> he_plus_bias(np.full((10, 3), 2.0), np.random.default_rng(0)).tolist()
        [-2.0, -2.0, -2.0]
    """
    n, units = pre.shape
    rows = rng.integers(0, n, size=(units, n_points))
    weights = rng.exponential(1.0, size=(units, n_points))
    weights /= weights.sum(axis=1, keepdims=True)
    return -(pre[rows, np.arange(units)[:, None]] * weights).sum(axis=1)


@keras.saving.register_keras_serializable(package="kerasact")
class NTKDense(keras.layers.Layer):
    """Dense in NTK parametrisation: `y = x · W / √fan_in + b`, with `W ~ N(0, 1)`, `b = 0` at build.

    RealMLP-TD then initialises from the training rows (`initialize_from`): 'std' divides each
    column of W by the standard deviation (population, over the rows) of its unit's pre-activation,
    so every unit starts at unit variance; 'he+5' sets `b_j = −Σᵢ λᵢ·(x W / √fan_in)[rᵢ, j]` over 5
    random rows rᵢ with Dirichlet(1) weights λ. The weights are named `kernel` and `bias` like
    `keras.layers.Dense`'s. RealMLP-TD trains `bias` with learning-rate factor 0.1 and no weight decay.

    Input shape: (n, fan_in) float. Output shape: (n, units).

    Args:
        units: output width (RealMLP-TD: 256 per hidden layer).
        use_bias: add the bias `b`.
        seed: seeds the kernel's N(0, 1) draw (None: Keras's global seed).
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`).

    Example:
        >>> layer = NTKDense(2)
        >>> out = layer.initialize_from(np.random.default_rng(0).normal(size=(64, 3)), seed=0)
        >>> out.std(axis=0).round(6).tolist()  # 'std' init: unit variance per unit on these rows
        [1.0, 1.0]
    """

    def __init__(self, units: int, use_bias: bool = True, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed  # seeds the N(0, 1) kernel, for repeatable models
        self.units = positive_int("units", units, "use the layer's width, e.g. units=256")
        if not isinstance(use_bias, bool):
            raise invalid("use_bias", use_bias, "True or False", "RealMLP-TD uses use_bias=True")
        self.use_bias = use_bias

    def build(self, input_shape: Any) -> None:
        fan_in = last_axis("NTKDense", input_shape)
        self.kernel = self.add_weight(name="kernel", shape=(fan_in, self.units),
                                      initializer=keras.initializers.RandomNormal(stddev=1.0, seed=self.seed))
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros") if self.use_bias else None

    def call(self, x: Any) -> Any:
        out = keras.ops.matmul(keras.ops.cast(x, self.compute_dtype), self.kernel) / math.sqrt(self.kernel.shape[0])
        return out if self.bias is None else out + self.bias

    def initialize_from(self, x: np.ndarray, seed: int | None = None) -> np.ndarray:
        """RealMLP-TD's data-dependent init ('std' kernel, 'he+5' bias) on training rows; returns
        `self(x)` after it (numpy), ready to initialise the next layer from.

        Pass `x` as this layer sees it: the training rows through the layers before it (pytabkit
        initialises layer by layer on the whole training set, `Fitter.fit_transform_subsample`). A unit
        whose pre-activation is constant on `x` keeps its N(0, 1) column (pytabkit would divide by 0).

        Example:
            >>> layer = NTKDense(4)
            >>> layer.initialize_from(np.eye(3), seed=0).shape
            (3, 4)
        """
        rows = np.asarray(x, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[0] == 0 or not np.isfinite(rows).all():
            raise invalid("x", f"an array of shape {rows.shape}", "finite training rows of shape (n >= 1, fan_in)",
                          "pass the outputs of the layers before this one (RobustScale maps NaN to 0)")
        if not self.built:
            self.build((None, rows.shape[1]))
        if rows.shape[1] != self.kernel.shape[0]:
            raise invalid("x", f"{rows.shape[1]} columns", f"{self.kernel.shape[0]} columns (fan_in, as built)",
                          "pass the rows this layer takes")
        kernel = self.kernel.numpy().astype(np.float64)
        std = ntk_dense_numpy(rows, kernel).std(axis=0)
        kernel /= np.where(np.isfinite(std) & (std > 0), std, 1.0)
        self.kernel.assign(kernel)
        if self.bias is not None:
            self.bias.assign(he_plus_bias(ntk_dense_numpy(rows, kernel), np.random.default_rng(seed)))
        return self.numpy_call(rows)

    def numpy_call(self, x: np.ndarray) -> np.ndarray:
        """`self(x)` in numpy (float64), from this layer's weights.

        Example:
            >>> layer = NTKDense(2); layer.build((None, 3))
            >>> layer.numpy_call(np.zeros((1, 3))).tolist()
            [[0.0, 0.0]]
        """
        return ntk_dense_numpy(x, self.kernel.numpy(), None if self.bias is None else self.bias.numpy())

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias, "seed": self.seed}


# Layers that are a dense map with a `kernel` (and `units`): what readers of a model's stack count.
DENSE_TYPES = (keras.layers.Dense, NTKDense)
