"""Optimizers by name: the table is read from `keras.optimizers` itself, so every optimizer
the installed Keras offers is usable and nothing is copied by hand."""

from __future__ import annotations

import inspect

import keras

from kerasact import _errors

# Wrappers that need another optimizer to wrap, not standalone choices.
_WRAPPERS = {"LossScaleOptimizer", "MultiOptimizer", "Optimizer"}

OPTIMIZERS: dict[str, type[keras.optimizers.Optimizer]] = {
    name.lower(): cls
    for name, cls in vars(keras.optimizers).items()
    if inspect.isclass(cls) and issubclass(cls, keras.optimizers.Optimizer) and name not in _WRAPPERS
}


def get(optimizer: str | keras.optimizers.Optimizer, learning_rate: float | None = None) -> keras.optimizers.Optimizer:
    """Build a fresh optimizer from its name (or pass an optimizer instance through).

    Args:
        optimizer: a name such as `"adam"` or `"AdamW"` (case-insensitive), or an instance.
        learning_rate: overrides the optimizer's default learning rate.

    Returns:
        A new `keras.optimizers.Optimizer`.

    Example:
        >>> get("sgd", learning_rate=0.1).learning_rate.numpy()
        0.1
    """
    if isinstance(optimizer, keras.optimizers.Optimizer):
        if learning_rate is not None:
            optimizer.learning_rate = float(learning_rate)
        return optimizer
    key = resolve(optimizer)
    if learning_rate is not None and (isinstance(learning_rate, bool) or not learning_rate > 0):
        raise ValueError(f"learning_rate must be a positive number; got {learning_rate!r}.")
    # Keras takes a float or a schedule only: learning_rate=10 (an int) would fail deep inside it.
    kwargs = {} if learning_rate is None else {"learning_rate": float(learning_rate)}
    return OPTIMIZERS[key](**kwargs)


def resolve(optimizer: str) -> str:
    """Normalise an optimizer name to its key in `OPTIMIZERS`, or say what is valid.

    Example:
        >>> resolve("AdamW")
        'adamw'
    """
    if not isinstance(optimizer, str):
        raise TypeError(f"optimizer must be a name or a keras optimizer; got {optimizer!r}. "
                        f"Valid names: {sorted(OPTIMIZERS)}.")
    key = optimizer.strip().lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer={optimizer!r}. Valid options: {sorted(OPTIMIZERS)}."
                         + _errors.did_you_mean(key, OPTIMIZERS))
    return key
