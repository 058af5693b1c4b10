"""Read a target array `y` and say which problem type it is, the way scikit-learn's
`type_of_target` does, plus what the builder needs (number of classes/labels/targets).

The rule, in order:

1. `y` with 2-D shape `(n, k)`, `k > 1`:
   - only 0/1 values and exactly one 1 per row → `multiclass` (one-hot, `k` classes);
   - only 0/1 values otherwise → `multilabel` (`k` labels);
   - anything else → `regression` with `k` outputs.
2. 1-D `y` (or shape `(n, 1)`):
   - strings, booleans or integers are class labels: 2 distinct values → `binary`,
     more → `multiclass`;
   - floats that are all whole numbers with at most `max_float_classes` distinct values
     are class labels too (`0.`/`1.` from a data frame is binary); other floats →
     `regression`. This is where scikit-learn and kerasact differ: scikit-learn calls
     any whole-number float `multiclass`, so a count or price target like scikit-learn's
     own diabetes data would be read as 214 classes.
3. Fewer than two distinct values cannot be learned and raise `ValueError`.

Pass `problem=` to `build_model` explicitly whenever this rule guesses wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kerasact import _errors

MAX_FLOAT_CLASSES = 20


@dataclass(frozen=True)
class Target:
    """What `infer_problem` found in `y`.

    Attributes:
        problem: a key of `kerasact.HEADS`.
        n_classes: classes for binary/multiclass, else None.
        n_outputs: targets for regression, labels for multilabel, else None.
        one_hot: True when multiclass labels arrive as one-hot rows.
        classes: the sorted distinct labels for binary/multiclass 1-D y, else None.
    """

    problem: str
    n_classes: int | None = None
    n_outputs: int | None = None
    one_hot: bool = False
    classes: tuple[Any, ...] | None = None

    def build_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `build_model` that match this target.

        Example:
            >>> infer_problem(np.eye(3)[[0, 1, 2, 1]]).build_kwargs()
            {'problem': 'multiclass', 'n_classes': 3, 'loss': 'categorical_crossentropy'}
        """
        kwargs: dict[str, Any] = {"problem": self.problem}
        if self.n_classes is not None:
            kwargs["n_classes"] = self.n_classes
        if self.n_outputs is not None:
            kwargs["n_outputs"] = self.n_outputs
        if self.one_hot:
            kwargs["loss"] = "categorical_crossentropy"
        return kwargs


def _is_label_dtype(y: np.ndarray) -> bool:
    return y.dtype.kind in "biuUSO"


def _whole(y: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(y)) and np.all(np.mod(y, 1) == 0))


def infer_problem(y: Any, *, max_float_classes: int = MAX_FLOAT_CLASSES) -> Target:
    """Infer the problem type of target `y` (see the module docstring for the rule).

    Args:
        y: targets, 1-D or 2-D array-like.
        max_float_classes: whole-number floats with at most this many distinct
            values are read as class labels.

    Returns:
        A `Target` naming the problem and its class/label/output count.

    Example:
        >>> infer_problem([0, 1, 1, 0]).problem
        'binary'
        >>> infer_problem([0.5, 1.7, 3.2]).problem
        'regression'
    """
    _errors.check_int("max_float_classes", max_float_classes, minimum=2)
    y = _labels(y)
    if y.ndim == 0 or y.ndim > 2 or y.size == 0:
        raise ValueError(f"y must be a non-empty 1-D or 2-D array; got shape {y.shape}.")
    if y.ndim == 2 and y.shape[1] > 1:
        return _infer_matrix(y)
    y = y.reshape(-1)
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or inf; drop or impute those rows before training.")
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(f"y has a single distinct value {classes[:1].tolist()}; nothing to learn.")
    is_labels = _is_label_dtype(y) or (_whole(y) and len(classes) <= max_float_classes)
    if not is_labels:
        return Target("regression", n_outputs=1)
    problem = "binary" if len(classes) == 2 else "multiclass"
    return Target(problem, n_classes=len(classes), classes=tuple(classes.tolist()))


def _labels(y: Any) -> np.ndarray:
    """`y` as an array; an object array (pandas, lists with None) as numbers or text, missing
    labels refused (`np.unique` cannot even sort `['a', nan]`, and `'nan'` is no class)."""
    if isinstance(y, (pd.Series, pd.DataFrame)):
        y = y.to_numpy(dtype=object)
    try:
        y = np.asarray(y)
    except ValueError:
        raise ValueError("y is ragged: its rows have different lengths; give every row the same number of values.") \
            from None
    if y.dtype.kind != "O":
        return y
    missing = np.asarray(pd.isna(y))
    if missing.any():
        raise ValueError(f"y has {int(missing.sum())} missing label(s) (None/NaN/pd.NA), the first at row "
                         f"{int(np.argwhere(missing)[0][0])}; drop those rows or fill them in.")
    try:
        return y.astype(np.float64)
    except (TypeError, ValueError):
        return y.astype(str)


def _infer_matrix(y: np.ndarray) -> Target:
    k = y.shape[1]
    if y.dtype.kind in "US O":
        raise ValueError(f"2-D y must be numeric (one-hot, multi-hot or regression targets); got dtype {y.dtype}.")
    y = y.astype(np.float64)
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or inf; drop or impute those rows before training.")
    if np.isin(y, (0.0, 1.0)).all():
        if np.all(y.sum(axis=1) == 1):
            return Target("multiclass", n_classes=k, one_hot=True)
        return Target("multilabel", n_outputs=k)
    return Target("regression", n_outputs=k)
