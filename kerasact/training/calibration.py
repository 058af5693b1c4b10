"""After training: a model's `Temperature` layer (`ModelSpec(temperature_scaling=True)`) set from
the validation rows, so the probabilities a user gets are calibrated (temperature scaling, Guo et
al. 2017). The test rows stay untouched: `train` calibrates before it scores them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kerasact.layers import Temperature

CHUNK = 8192  # validation rows per call


def calibrate(model: keras.Model, X_val: Any, y_val: Any, sample_weight: Any = None) -> float | None:
    """Fit the model's `Temperature` on its validation rows; returns T (None without the layer).

    Args:
        model: a trained model.
        X_val: the validation inputs as the model takes them (an array or a dict of columns).
        y_val: their encoded labels: 0/1 (a column per label for multilabel), class indices or one-hot rows.
        sample_weight: their weights, or None.

    Example:
        >>> calibrate(model, parts.X_val, parts.y_val)  # doctest: +SKIP
        0.62
    """
    found = [layer for layer in model.layers if isinstance(layer, Temperature)]
    if not found:
        return None
    layer = found[-1]
    before = keras.Model(model.inputs, layer.input)  # the probabilities the temperature rescales
    n = len(y_val)
    chunks = [before({k: tf.gather(v, np.arange(i, min(i + CHUNK, n))) for k, v in X_val.items()}
                     if isinstance(X_val, Mapping) else X_val[i:i + CHUNK], training=False) for i in range(0, n, CHUNK)]
    p = np.concatenate([keras.ops.convert_to_numpy(c) for c in chunks]).astype(np.float64)
    y = np.asarray(y_val)
    one_hot = layer.link == "softmax" and y.ndim == 2 and y.shape[1] > 1  # a categorical loss's one-hot rows
    labels = y.argmax(axis=1) if one_hot else y
    layer.fit(p, labels, sample_weight)
    return float(keras.ops.convert_to_numpy(layer.temperature))
