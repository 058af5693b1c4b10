"""The estimators' Keras model: built from a `ModelSpec` for arrays, or with the table's own
preprocessing (`kerasact.build_tabular_model`) for a DataFrame with text, categorical or
missing values; run for outputs and pre-activations; carried through pickling as `.keras` bytes.
"""

from __future__ import annotations

import contextlib
import tempfile
import weakref
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from kerasact import tabular
from kerasact.diagnose.linting import warn
from kerasact.inputs import frames
from kerasact.model import build_tabular_model, load_model, save_model
from kerasact.model import layers as preprocessing
from kerasact.model.build import body_layers
from kerasact.model.spec import ModelSpec
from kerasact.problems import head_of
from kerasact.runtime import execution, prediction, serving


@contextlib.contextmanager
def floatx(dtype: str) -> Iterator[None]:
    """Keras's default float type set to the model's while it is built, compiled or loaded.

    `compile` makes its loss wrapper (and the metrics) in `keras.config.floatx()`; in a float64
    model the L2 penalty is float64, and `Trainer.compute_loss` (Keras 3.15) sums the two
    without a cast, which fails. Building in a float64 default keeps every part float64.
    The global dtype policy is set and put back too: Keras caches it from floatx on first use, so
    restoring floatx alone left every later model of the process float64.
    """
    before, policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(before)
        keras.config.set_dtype_policy(policy)


def needs_schema(X: Any) -> bool:
    """A DataFrame with a non-numeric column or a missing value: its preprocessing goes in the model.

    Example:
        >>> needs_schema(pd.DataFrame({"a": [1.0, None]})), needs_schema(pd.DataFrame({"a": [1.0]}))
        (True, False)
    """
    if not isinstance(X, pd.DataFrame):
        return False
    numeric = all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in X.dtypes)
    return not numeric or bool(X.isna().to_numpy().any())


@keras.saving.register_keras_serializable(package="kerasact")
class HalfSquaredError(keras.losses.MeanSquaredError):
    """scikit-learn's `squared_error`: half the mean squared error, so the gradient, `tol` and
    `loss_curve_` mean what they mean in scikit-learn's MLPRegressor."""

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return 0.5 * super().call(y_true, y_pred)


CUSTOM_OBJECTS = {"kerasact>HalfSquaredError": HalfSquaredError}


def build(spec: ModelSpec, optimizer: Callable[[], keras.optimizers.Optimizer], X: Any, y_enc: np.ndarray,
          frame: pd.DataFrame | None, metrics: bool, half_squared_error: bool = False) -> keras.Model:
    """The compiled model: array input (`X`) or the table's raw columns (`frame`)."""
    with floatx(spec.dtype):
        if frame is not None:
            options = {f: getattr(spec, f) for f in ("hidden", "dropout", "l2", "batch_norm", "optimizer", "loss",
                                                     "learning_rate", "seed", "dtype", "normalize_target")}
            count = 2 if spec.problem == "binary" else spec.output_units  # binary: 2 classes, 1 unit
            counted = {"n_outputs" if spec.problem in ("regression", "multilabel") else "n_classes": count}
            model = build_tabular_model(frame, y_enc, problem=spec.problem, **counted, **options)
        else:
            layers = [keras.Input((spec.input_dim,), dtype=spec.dtype)]
            if spec.normalize:
                layers.append(preprocessing.input_layer(X, spec.input_dim, dtype=spec.dtype))
            layers += body_layers(spec, normalize_target=y_enc if spec.normalize_target else None)
            model = keras.Sequential(layers, name=f"kerasact_{spec.problem}")
    recompile(model, spec, optimizer, metrics=metrics, half_squared_error=half_squared_error)
    if frame is None:
        warn(model)  # a network that cannot learn (a collapsing linear stack, ...) is a LintWarning now
    return model


def recompile(model: keras.Model, spec: ModelSpec, optimizer: Callable[[], keras.optimizers.Optimizer], *,
              metrics: bool, half_squared_error: bool) -> None:
    """Compile with the estimator's optimizer and loss (again for a warm start: a fresh optimizer).

    `optimizer` makes the optimizer: it must be created in the model's float type, or its
    learning rate and step count are float32 and a float64 model's updates lose precision.
    """
    _, option = spec.head.loss_option(spec.loss)
    # The weighted mean (divided by the weights' sum) is scikit-learn's loss, so integer weights
    # are the same as repeated rows and zero weights the same as removed rows.
    reduction = "mean_with_sample_weight"
    with floatx(spec.dtype):  # the loss, the optimizer and compile's wrappers in the model's float type
        loss = HalfSquaredError(reduction=reduction) if half_squared_error else option.make(reduction=reduction)
        execution.compile_model(model, spec, optimizer=optimizer(), loss=loss,
                                metrics=spec.head.metrics(False, option.labels) if metrics else [])


def inputs(model: keras.Model, X: Any) -> Any:
    """A table model's raw input columns for the DataFrame `X` (arrays pass through)."""
    return tabular.to_inputs(tabular.read_table(X), tabular.schema_of(model)) if tabular.has_schema(model) else X


def outputs(model: keras.Model, X: Any) -> np.ndarray:
    """The head's outputs (probabilities or values) for rows already checked."""
    if isinstance(X, Mapping):
        return prediction.outputs(model, X, head_of(model))
    return serving.predict(model, X)


def pre_activation(model: keras.Model, X: Any) -> np.ndarray:
    """The head's outputs before its activation, for rows already checked."""
    head = model.get_layer(f"{head_of(model).head.name}_head")
    if model not in _BEFORE_HEAD:
        _BEFORE_HEAD[model] = keras.Model(model.inputs, head.input)  # shares the model's layers and weights
    before = _BEFORE_HEAD[model]
    if isinstance(X, Mapping):
        hidden = np.concatenate([np.asarray(before({k: v[i:i + prediction.CHUNK] for k, v in X.items()},
                                                   training=False))
                                 for i in range(0, frames.rows(X), prediction.CHUNK)])
    else:
        hidden = serving.predict(before, X)
    return hidden @ head.kernel.numpy() + (head.bias.numpy() if head.use_bias else 0.0)


_BEFORE_HEAD: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def take(X: Any, rows: np.ndarray) -> Any:
    """Rows of an array or of a table model's input columns."""
    return {k: tf.gather(v, rows) for k, v in X.items()} if isinstance(X, Mapping) else X[rows]


def dumps(model: keras.Model) -> tuple[bytes, str]:
    """The model's `.keras` bytes (schema included) and its precision."""
    with tempfile.TemporaryDirectory() as folder:
        path = save_model(model, Path(folder) / "model.keras")
        return path.read_bytes(), execution.model_dtype(model)


def loads(data: bytes, dtype: str) -> keras.Model:
    """The model `dumps` wrote, loaded in Keras's safe mode."""
    with tempfile.TemporaryDirectory() as folder, floatx(dtype):
        path = Path(folder) / "model.keras"
        path.write_bytes(data)
        return load_model(path, custom_objects=CUSTOM_OBJECTS)
