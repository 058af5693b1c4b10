"""`predict`: a model's outputs as probabilities (classifiers) or values (regression),
whether it was built with `logits=True` or not."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kerasact import activations, tabular
from kerasact.inputs import frames, validate
from kerasact.problems import ModelHead
from kerasact.runtime import serving

CHUNK = 4096  # rows per eager call for table models


def predict(model: keras.Model, X: Any) -> np.ndarray:
    """Probabilities (classifiers) or values (regression) for `X`.

    A model built with `logits=True` outputs raw scores; `predict` applies the head's
    link (sigmoid or softmax) so callers always get probabilities.

    Args:
        model: a compiled kerasact (or any Keras) model.
        X: features, shape `(n, input_dim)`.

    Returns:
        A float array of shape `(n, units)`.

    Example:
        >>> model = build_model("binary", 4, logits=True)
        >>> predict(model, np.zeros((2, 4))).shape
        (2, 1)
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model (e.g. from kerasact.build_model); got {type(model).__name__}.")
    if tabular.has_schema(model):  # raw table rows: the model reads the columns it was trained on
        if not _model_inputs(model, X):  # (the model's own (n, 1) input columns, e.g. a TrainResult's split, pass)
            X = tabular.to_inputs(tabular.read_table(X), tabular.schema_of(model))
        _report_unseen(model, X)
    checked = validate(X, model=model)  # float32; bad X is a clear ValueError/TypeError, never a TF error
    return outputs(model, checked.X, checked.model_head)  # the head validate read, not read again


def _model_inputs(model: keras.Model, X: Any) -> bool:
    keys = set(tabular.layer_names(tabular.schema_of(model)).values())
    return isinstance(X, Mapping) and set(X) == keys and all(np.ndim(v) == 2 for v in X.values())


def _report_unseen(model: keras.Model, inputs: Mapping[str, Any]) -> None:
    """Warn, per categorical column, about values the training rows never had (they go to the
    out-of-vocabulary bucket, which the model learned nothing about)."""
    schema = tabular.schema_of(model)
    names = tabular.layer_names(schema)
    for column in schema.features:
        if column.kind != "categorical":
            continue
        lookup = model.get_layer(tabular.lookup_layer(names[column.name]))
        known = set(lookup.get_vocabulary()[1:])  # [0] is the out-of-vocabulary token
        values = [v.decode() for v in np.asarray(inputs[names[column.name]]).reshape(-1)]
        # A missing value is handled, not unknown (the compact encoding maps it to zeros, as an unseen one).
        unseen = sorted({v for v in values if v not in known and v != tabular.MISSING})
        if unseen:
            count = sum(v in unseen for v in values)
            warnings.warn(f"column {column.name!r}: {count} value(s) never seen in training, e.g. {unseen[:3]}; "
                          "the model treats them as unknown.", UserWarning, stacklevel=3)


def outputs(model: keras.Model, X: np.ndarray, info: ModelHead, *, xla: bool = True) -> np.ndarray:
    """`predict` for inputs already validated and a head already read (what `train` carries);
    `xla` as in `serving.predict`.

    Example:
        >>> outputs(model, validate(X, model=model).X, head_of(model))  # doctest: +SKIP
    """
    if isinstance(X, Mapping):  # a table model: one eager call per chunk of rows (strings stay tf.string)
        out = np.concatenate([keras.ops.convert_to_numpy(model({k: tf.constant(v[i:i + CHUNK]) for k, v in X.items()},
                                                                training=False))
                              for i in range(0, frames.rows(X), CHUNK)])
    else:  # A cached compiled function: ~0.1 ms for one row where model.predict's loop costs ~45 ms.
        out = np.asarray(serving.predict(model, X, xla=xla))
    if info.from_logits:
        out = activations.get(info.head.activation).fn(out.astype(np.float64)).astype(np.float32)
    return out
