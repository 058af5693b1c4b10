"""Normalization layers that travel inside the model: inputs standardised on the way in and,
for regression, targets un-standardised on the way out — adapted on the training rows only.

`build_model(..., normalize=True, normalize_target=True)` adds the layers unadapted;
`kerasact.train` adapts them on the training split after splitting, so no statistic of the
validation or test rows leaks into the model. Passing arrays instead adapts them at build time.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

INPUT_NAME = "normalize_inputs"
TARGET_NAME = "normalize_targets"


def input_layer(X: Any, input_dim: int) -> keras.layers.Normalization:
    """A Normalization layer for the features; adapted on `X` unless `X` is True (adapt later)."""
    layer = keras.layers.Normalization(axis=-1, name=INPUT_NAME)
    if X is not True:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != input_dim:
            raise ValueError(f"normalize must be True or the training features with shape (n, {input_dim}); "
                             f"got shape {X.shape}.")
        layer.adapt(X)
    return layer


def target_layer(y: Any, units: int) -> keras.layers.Normalization:
    """The inverse Normalization after a regression head: the network learns standardised
    targets, the model outputs them in their own units. Adapted on `y` unless `y` is True."""
    layer = keras.layers.Normalization(axis=-1, invert=True, name=TARGET_NAME)
    if y is not True:
        y = np.asarray(y, dtype=np.float32).reshape(len(y), -1)
        if y.shape[1] != units:
            raise ValueError(f"normalize_target must be True or the training targets with {units} column(s); "
                             f"got shape {y.shape}.")
        layer.adapt(y)
    return layer


def _unadapted(layer: keras.layers.Normalization) -> bool:
    # Keras keeps no "adapted" flag. Statistics given to the constructor count as adapted;
    # otherwise an unadapted layer holds exactly mean 0 and variance 1, which data never gives.
    if layer.input_mean is not None or not layer.built:
        return False
    return not np.any(layer.adapt_mean.numpy()) and bool(np.all(layer.adapt_variance.numpy() == 1.0))


def adapt_on_training_rows(model: keras.Model, X_train: np.ndarray, y_train: np.ndarray) -> list[str]:
    """Adapt every still-unadapted Normalization layer: inputs on `X_train`, an inverted
    (target) one on `y_train`. Returns the names of the layers adapted.

    Example:
        >>> adapt_on_training_rows(model, parts.X_train, parts.y_train)  # doctest: +SKIP
        ['normalize_inputs', 'normalize_targets']
    """
    adapted = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Normalization) and _unadapted(layer):
            data = np.asarray(y_train, np.float32).reshape(len(y_train), -1) if layer.invert else X_train
            layer.adapt(data)
            adapted.append(layer.name)
    return adapted
