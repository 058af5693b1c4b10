"""`ScheduledDropout`: a Dropout whose rate a callback changes between steps without retracing.

Keras's `Dropout.rate` is a Python float read while the train step is traced, so changing it
later does nothing until the step is traced again. RealMLP-TD (Holzmüller et al., NeurIPS 2024)
lowers its dropout rate on the flat-then-cosine schedule every step (pytabkit
`models/training/coord.py::HyperparamManager.register_hyper` with `p_drop_sched='flat_cos'`), so
here the rate in force lives in a non-trainable variable the traced step reads, and
`kerasact.training.schedules.FlatCosine` assigns it. The config keeps the base rate.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kerasact._errors import invalid


@keras.saving.register_keras_serializable(package="kerasact")
class ScheduledDropout(keras.layers.Dropout):
    """Inverted dropout at the rate held in the variable `rate_now` (starts at `rate`).

    Training: `y = x * m / (1 - r)` with `m ~ Bernoulli(1 - r)` drawn per element (or per
    `noise_shape` slice) and `r = rate_now`; inference: `y = x`. Input and output shapes are equal.
    `rate_now` is a layer weight, so it saves and loads with the model; at inference it is unused.

    Args:
        rate: the base rate in [0, 1), the value a schedule scales (RealMLP-TD: 0.15).
        noise_shape: as `keras.layers.Dropout`.
        seed: as `keras.layers.Dropout`.
        **kwargs: other `keras.layers.Layer` arguments (`name`, `dtype`).

    Example:
        >>> layer = ScheduledDropout(0.15)
        >>> _ = layer(ops.ones((2, 3)))
        >>> layer.rate_now.assign(0.0)  # what FlatCosine does each step  # doctest: +SKIP
        >>> float(layer.rate_now.numpy())  # doctest: +SKIP
        0.0
    """

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any) -> None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise invalid("rate", rate, "a number in [0, 1)", "pass the base dropout rate, e.g. rate=0.15")
        super().__init__(float(rate), noise_shape=noise_shape, seed=seed, **kwargs)
        if not hasattr(self, "seed_generator"):  # Dropout makes one only for rate > 0; a schedule may raise it
            self.seed_generator = keras.random.SeedGenerator(seed)
        self.rate_now: keras.Variable | None = None

    def build(self, input_shape: Any) -> None:
        """Create `rate_now`, the rate in force, at the base rate."""
        self.rate_now = self.add_weight(name="rate_now", shape=(), initializer=keras.initializers.Constant(self.rate),
                                        trainable=False, dtype="float32")

    def call(self, inputs: Any, training: bool = False) -> Any:
        """Drop and rescale while training; pass `inputs` through otherwise."""
        if not training:
            return inputs
        shape = ops.shape(inputs)
        if self.noise_shape is not None:
            shape = tuple(shape[i] if dim is None else dim for i, dim in enumerate(self.noise_shape))
        rate = ops.cast(self.rate_now, inputs.dtype)
        keep = ops.cast(keras.random.uniform(shape, seed=self.seed_generator) >= ops.cast(rate, "float32"),
                        inputs.dtype)
        return inputs * keep / (1 - rate)
