"""Hyperparameter values as TensorBoard's HParams plugin takes them.

The search's trials are runs like any other: `train` lists each in its log directory's one
HParams experiment config (`kerasact.training.experiment`).
"""

from __future__ import annotations

from typing import Any


def hparam_value(value: Any) -> bool | int | float | str:
    """A value the HParams plugin takes (bool, number or string); None and others as text.

    Example:
        >>> hparam_value(None)
        'None'
    """
    return value if isinstance(value, (bool, int, float, str)) else str(value)
