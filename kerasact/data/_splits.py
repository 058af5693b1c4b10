"""Stratified train/validation/test splits.

Numpy and scikit-learn only — no TensorFlow, so data preparation stays cheap to import and test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split


@dataclass(frozen=True, eq=False)
class Split:
    X_train: np.ndarray
    X_val: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    y_test: np.ndarray


def _strata(y: np.ndarray) -> np.ndarray | None:
    """Labels to stratify on: the label itself, the one-hot argmax, or None for multilabel."""
    if y.ndim == 1 or y.shape[1] == 1:
        return y.reshape(len(y))
    one_hot = np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all()
    return y.argmax(axis=1) if one_hot else None


def split(X: Any, y: Any, *, test_size: float = 0.2, val_size: float = 0.2, stratify: bool,
          seed: int = 0, class_names: Any = None,
          fix: str = "Merge rare classes, add data, or pass stratify=False.") -> Split:
    """Shuffle into train/validation/test; both sizes are fractions of the whole data.

    `class_names` (the labels of class indices 0..k-1) and `fix` word the error a too-rare class
    gets, for a caller whose users know the labels and cannot pass `stratify`.

    Example:
        >>> parts = split(np.zeros((100, 3)), np.repeat([0, 1], 50), stratify=True)
        >>> len(parts.X_train), len(parts.X_val), len(parts.X_test)
        (60, 20, 20)
    """
    X, y = np.asarray(X), np.asarray(y)
    for arg, value in (("test_size", test_size), ("val_size", val_size)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"{arg} must be a fraction strictly between 0 and 1; got {value!r}.")
    if test_size + val_size >= 1.0:
        raise ValueError(f"test_size + val_size must be below 1 to leave training data; got "
                         f"test_size={test_size} + val_size={val_size} = {test_size + val_size}.")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows; got {len(X)} and {len(y)}.")
    strata = _strata(y) if stratify else None
    if strata is not None:
        # Enough members that each part expects at least one of every class.
        needed = math.ceil(1.0 / min(test_size, val_size, 1.0 - test_size - val_size) - 1e-9)
        classes, counts = np.unique(strata, return_counts=True)
        if counts.min() < needed:
            rare = classes.tolist()[counts.argmin()]  # plain value: reads 1, not np.int64(1)
            if class_names is not None:
                rare = np.asarray(class_names)[int(rare)].item()
            raise ValueError(
                f"stratify=True needs at least {needed} samples of every class for test_size="
                f"{test_size}, val_size={val_size}; class {rare!r} has only {counts.min()}. {fix}")
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, shuffle=True, stratify=strata)
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_size / (1.0 - test_size), random_state=seed, shuffle=True,
        stratify=None if strata is None else _strata(y_rest))
    return Split(X_train, X_val, X_test, y_train, y_val, y_test)
