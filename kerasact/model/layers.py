"""Normalization layers that travel inside the model: inputs standardised on the way in and,
for regression, targets un-standardised on the way out — adapted on the training rows only.

`build_model(..., normalize=True, normalize_target=True)` adds the layers unadapted;
`kerasact.train` adapts them on the training split after splitting, so no statistic of the
validation or test rows leaks into the model. Passing arrays instead adapts them at build time.

The layers are plain `keras.layers.Normalization`, so a saved `model.keras` carries its own
preprocessing; only the statistics are computed here rather than by `Normalization.adapt`,
which works in float32 and has two silent failure modes:

- a feature constant on the training rows gets variance 0, and Keras then divides by its
  epsilon (1e-7), so an unseen row where that feature differs is multiplied by 1e7;
- features beyond about 1.8e19 overflow the float32 sum of squares to `inf`, so every
  standardised value becomes 0 and the model predicts a constant.

`statistics` computes in float64 and stores float32 values that are always finite and positive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

INPUT_NAME = "normalize_inputs"
TARGET_NAME = "normalize_targets"

_FLOAT32 = np.finfo(np.float32)
# The layer computes `x - mean` in float32, which resolves no finer than eps * |mean|: a spread
# below that is rounding, not signal, so the feature counts as constant.
CONSTANT_RTOL = float(_FLOAT32.eps)
# The largest variance float32 can store (std about 1.8e19). Wider features are divided by
# that std instead of their own, so they come out at std / 1.8e19 rather than unit scale:
# finite and still varying, where an `inf` variance would flatten them to 0.
MAX_VARIANCE = float(_FLOAT32.max)


def statistics(data: Any, *, axis: int | Sequence[int] | None = -1,
               arg: str = "X") -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance for a `Normalization` layer, computed in float64, stored in float32.

    Statistics are taken over every axis not in `axis`, as `Normalization.adapt` takes them.
    A feature constant on these rows (spread within float32 rounding of its mean) gets
    variance 1, so it maps to `x - mean`: 0 on every row seen, and an unseen value stays in
    its own units instead of being multiplied by 1e7. It carried no information to learn from,
    and this is scikit-learn's `StandardScaler` rule too. A variance beyond float32's range is
    capped at `MAX_VARIANCE` (see there).

    Args:
        data: the rows, array-like; cast to float32 first, as the model will see them.
        axis: the layer's `axis`: the axes that keep their own statistics (`None`: one scalar).
        arg: the argument's name, for the error message.

    Returns:
        `(mean, variance)`, float32 arrays shaped like the kept axes.

    Raises:
        ValueError: `data` has no rows, or holds NaN, inf or values beyond float32's range.

    Example:
        >>> mean, variance = statistics([[1.0, 5.0], [3.0, 5.0]])
        >>> mean.tolist(), variance.tolist()  # the constant second column gets variance 1
        ([2.0, 5.0], [1.0, 1.0])
    """
    with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, refused just below
        rows32 = np.asarray(data, dtype=np.float32)
    kept = _kept_axes(axis, rows32.ndim)
    reduced = tuple(d for d in range(rows32.ndim) if d not in kept)
    if rows32.size == 0:
        raise ValueError(f"{arg} has no rows (shape {rows32.shape}); Normalization needs data to adapt on.")
    bad = ~np.isfinite(rows32).all(axis=reduced)
    if np.any(bad):
        raise ValueError(f"{arg} holds NaN, inf or values beyond float32's range (about ±3.4e38) at "
                         f"feature index(es) {np.argwhere(np.atleast_1d(bad)).ravel()[:10].tolist()}; "
                         "impute or drop those rows, or rescale the feature, before normalising.")
    rows = rows32.astype(np.float64)  # float32 squares overflow from about 1.8e19
    mean, variance = rows.mean(axis=reduced), rows.var(axis=reduced)
    constant = np.sqrt(variance) <= CONSTANT_RTOL * np.abs(mean)
    variance = np.where(constant, 1.0, np.minimum(variance, MAX_VARIANCE))
    return mean.astype(np.float32), variance.astype(np.float32)


def _kept_axes(axis: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    axes = () if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(d % ndim for d in axes))


def input_layer(X: Any, input_dim: int, dtype: str = "float32") -> keras.layers.Normalization:
    """A Normalization layer for the features; adapted on `X` unless `X` is True (adapt later).

    Example:
        >>> input_layer([[0.0, 1.0], [2.0, 1.0]], input_dim=2).input_variance.tolist()
        [1.0, 1.0]
    """
    if X is True:
        return keras.layers.Normalization(axis=-1, name=INPUT_NAME, dtype=dtype)
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != input_dim:
        raise ValueError(f"normalize must be True or the training features with shape (n, {input_dim}); "
                         f"got shape {X.shape}.")
    # Statistics given to the constructor live in the layer's config, so they are saved with
    # the model and `adapt_on_training_rows` leaves them alone.
    mean, variance = statistics(X, arg="normalize")
    return keras.layers.Normalization(axis=-1, mean=mean, variance=variance, name=INPUT_NAME, dtype=dtype)


def target_layer(y: Any, units: int, dtype: str = "float32") -> keras.layers.Normalization:
    """The inverse Normalization after a regression head: the network learns standardised
    targets, the model outputs them in their own units. Adapted on `y` unless `y` is True.

    Example:
        >>> target_layer([10.0, 30.0], units=1).input_mean.tolist()
        [20.0]
    """
    if y is True:
        return keras.layers.Normalization(axis=-1, invert=True, name=TARGET_NAME, dtype=dtype)
    y = np.asarray(y, dtype=np.float32).reshape(len(y), -1)
    if y.shape[1] != units:
        raise ValueError(f"normalize_target must be True or the training targets with {units} column(s); "
                         f"got shape {y.shape}.")
    mean, variance = statistics(y, arg="normalize_target")
    return keras.layers.Normalization(axis=-1, mean=mean, variance=variance, invert=True, name=TARGET_NAME,
                                      dtype=dtype)


def _unadapted(layer: keras.layers.Normalization) -> bool:
    # Keras keeps no "adapted" flag. Statistics given to the constructor count as adapted;
    # otherwise an unadapted layer holds exactly mean 0 and variance 1. Data can give that too
    # (features constant at 0); adapting such a layer again on the same rows changes nothing.
    if layer.input_mean is not None or not layer.built:
        return False
    return not np.any(layer.adapt_mean.numpy()) and bool(np.all(layer.adapt_variance.numpy() == 1.0))


def set_statistics(layer: keras.layers.Normalization, data: Any, *, arg: str = "X") -> None:
    """Adapt a built `Normalization` layer on `data` with `statistics` instead of `layer.adapt`.

    The statistics go into the layer's own `mean`/`variance` weights, exactly where `adapt`
    puts them, so `model.save` writes them and `keras.models.load_model` restores them.

    Example:
        >>> layer = keras.layers.Normalization()
        >>> layer.build((None, 2))
        >>> set_statistics(layer, [[0.0, 1.0], [2.0, 1.0]])
        >>> layer.adapt_mean.numpy().tolist()
        [1.0, 1.0]
    """
    mean, variance = statistics(data, axis=layer.axis, arg=arg)
    layer.adapt_mean.assign(mean)
    layer.adapt_variance.assign(variance)
    layer.finalize_state()  # Normalization reads its weights into the tensors `call` uses


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
            # An inverted layer sits after the head: it un-standardises the targets.
            data, arg = ((np.asarray(y_train, np.float32).reshape(len(y_train), -1), "y_train")
                         if layer.invert else (X_train, "X_train"))
            set_statistics(layer, data, arg=arg)
            adapted.append(layer.name)
    return adapted
