"""Argument checks shared by the layers: each bad value raises one `ValueError` in kerasact's
voice (`kerasact._errors.invalid`), naming the argument, the value, what is valid and the fix.

Example:
    >>> positive_int("units", 0, "use the layer's width, e.g. units=256")
    Traceback (most recent call last):
    ...
    ValueError: units=0 is not valid: expected an int >= 1. Use the layer's width, e.g. units=256.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from kerasact._errors import invalid


def positive_int(arg: str, value: Any, fix: str, *, minimum: int = 1) -> int:
    """`value` as an int >= `minimum` (bools and floats refused), else a `ValueError` with `fix`.

    Example:
        >>> positive_int("n_levels", 3, "count the column's levels")
        3
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise invalid(arg, value, f"an int >= {minimum}", fix)
    return int(value)


def positive_float(arg: str, value: Any, fix: str) -> float:
    """`value` as a finite float > 0, else a `ValueError` with `fix`.

    Example:
        >>> positive_float("sigma", 0.1, "RealMLP-TD uses sigma=0.1")
        0.1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise invalid(arg, value, "a finite number > 0", fix)
    return float(value)


def option(arg: str, value: Any, options: Iterable[str], fix: str) -> str:
    """`value` if it is one of `options` (listed in the message, with a did-you-mean).

    Example:
        >>> option("activation", "selu", ["mish", "selu"], "RealMLP-TD uses 'selu'")
        'selu'
    """
    options = sorted(options)
    if not isinstance(value, str) or value not in options:
        raise invalid(arg, value, f"one of {options}", fix, options=options)
    return value


def last_axis(layer: str, input_shape: Any) -> int:
    """The known size of the last axis of a layer's input, else a `ValueError` naming the layer.

    Example:
        >>> last_axis("FeatureScale", (None, 5))
        5
    """
    size = tuple(input_shape)[-1] if len(tuple(input_shape)) else None
    if size is None:
        raise invalid(f"{layer} input_shape", tuple(input_shape), "a known last axis (the feature count)",
                      "give the Input a fixed width, e.g. keras.Input(shape=(d,))")
    return int(size)
