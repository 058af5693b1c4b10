"""Rows of what `train` trains on, arrays or a table model's dict of columns: reading a table
into the model's inputs, taking rows by index, and handing them to Keras as tensors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import tensorflow as tf

from kerasact import _errors, data, tabular
from kerasact.inputs import Validated


def from_table(model: Any, X: Any, y: Any, target: str | None) -> tuple[Any, Any]:
    """`(X, y)` as `validate` takes them: a table becomes the model's raw input columns.

    Example:
        >>> from_table(model, "penguins.csv", None, "species")  # doctest: +SKIP
    """
    if not tabular.has_schema(model):  # an array model: a DataFrame of numbers is an array to it
        if target is not None:
            raise _errors.invalid("target", target, "None for a model built on arrays (it names a table's column)",
                                  "pass y, or build the model from the table (kerasact.build_tabular_model)")
        if isinstance(X, Mapping) or (tabular.is_table(X) and not isinstance(X, pd.DataFrame)):
            raise _errors.invalid("X", X, "an array or a DataFrame of numbers for a model built on arrays",
                                  "for a table, use kerasact.train_table or kerasact.build_tabular_model",
                                  kind=TypeError)
        return X, y
    schema = tabular.schema_of(model)
    frame = tabular.read_table(X)
    if (y is None) == (target is None):
        raise ValueError("target: pass the targets once, as y=... or as target='column' of the table.")
    if target is not None:
        frame, y = tabular.split_target(frame, target)
    return tabular.to_inputs(frame, schema), y


def take(X: Any, rows: np.ndarray) -> Any:
    """`X[rows]` for arrays and for dicts of columns."""
    return {k: np.asarray(v)[rows] for k, v in X.items()} if isinstance(X, Mapping) else X[rows]


def tensors(X: Any) -> Any:
    """What Keras's `fit`/`evaluate` accept: numpy string columns become `tf.string` tensors."""
    return {k: tf.constant(v) for k, v in X.items()} if isinstance(X, Mapping) else X


def split_rows(checked: Validated, *, test_size: float, val_size: float, seed: int) -> data.Split:
    """The row indices of `split`'s parts (its `X_*` fields; `y_*` are the labels).

    Example:
        >>> split_rows(validate(X, y, model=model, encode=True), test_size=0.15, val_size=0.15,
        ...            seed=0).X_test  # doctest: +SKIP
    """
    codec = checked.codec
    return data.split(np.arange(len(checked.y)), checked.y, test_size=test_size, val_size=val_size,
                      stratify=codec is not None, seed=seed, class_names=None if codec is None else codec.classes_,
                      fix="Add rows of that class or merge it into another: a run keeps every class in its "
                          "training, validation and test rows.")


def split(checked: Validated, *, test_size: float, val_size: float,
          seed: int) -> tuple[data.Split, np.ndarray | None, np.ndarray | None]:
    """Train/validation/test parts of the validated rows, sample weights split alongside.

    Example:
        >>> parts, w_train, w_val = split(validate(X, y, model=model, encode=True), test_size=0.15,
        ...                               val_size=0.15, seed=0)  # doctest: +SKIP
    """
    rows = split_rows(checked, test_size=test_size, val_size=val_size, seed=seed)
    order = (rows.X_train, rows.X_val, rows.X_test)
    parts = data.Split(*(take(checked.X, i) for i in order), *(checked.y[i] for i in order))
    w = checked.sample_weight
    return parts, None if w is None else w[rows.X_train], None if w is None else w[rows.X_val]
