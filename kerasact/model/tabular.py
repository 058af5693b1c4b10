"""`build_tabular_model`: one Functional model that takes raw table rows (a dict of columns)
and carries its own preprocessing, the keras-io "structured data" shape without the second model.

Per numeric column: the training rows' median fills a missing value (`ops.where(isnan)`, which
safe-mode loading accepts where a Lambda is refused), a 0/1 missing indicator is added when the
training rows had gaps, and a `Normalization` with float64 statistics standardises it. Per
categorical column: a `StringLookup` one-hot over the training rows' values, with a missing
category and one out-of-vocabulary bucket for values never seen. The statistics come from the
rows given here: pass the training rows only (`kerasact.tabular.train_table` does).
"""

from __future__ import annotations

import contextlib
from typing import Any

import keras
import numpy as np

from kerasact.diagnose.linting import warn
from kerasact.model import layers as preprocessing
from kerasact.model.build import body_layers, compile_spec
from kerasact.model.spec import ModelSpec
from kerasact.problems import get_head
from kerasact.runtime import distribute
from kerasact.tabular import (
    FEATURES_LAYER,
    MISSING,
    SCHEMA_ATTRIBUTE,
    infer_schema,
    layer_names,
    lookup_layer,
    read_table,
    scale_layer,
    split_target,
    target_plan,
    to_inputs,
)


def _numeric_features(name: str, x: Any, values: np.ndarray) -> list[Any]:
    finite = values[~np.isnan(values)]
    median = float(np.median(finite))
    missing = keras.ops.isnan(x)
    filled = keras.ops.where(missing, median, x)
    mean, variance = preprocessing.statistics(finite.reshape(-1, 1), arg=f"column {name!r}")
    scaled = keras.layers.Normalization(mean=mean, variance=variance, name=scale_layer(name))(filled)
    return [scaled, keras.ops.cast(missing, "float32")] if np.isnan(values).any() else [scaled]


def _categorical_features(name: str, x: Any, values: np.ndarray) -> list[Any]:
    vocabulary = sorted(set(values.tolist()) - {MISSING}) + ([MISSING] if MISSING in values else [])
    return [keras.layers.StringLookup(vocabulary=vocabulary, num_oov_indices=1, output_mode="one_hot",
                                      name=lookup_layer(name))(x)]


def build_tabular_model(data: Any, y: Any = None, *, target: str | None = None, problem: str | None = None,
                        n_classes: int | None = None, n_outputs: int | None = None,
                        categorical: Any = (), numeric: Any = (), drop: Any = (), strategy: Any = None,
                        **options: Any) -> keras.Model:
    """Build and compile a model on raw table rows, its preprocessing adapted on `data`.

    Args:
        data: the training rows: a DataFrame, a dict of columns or a `.csv` path.
        y: the targets of those rows, or None with `target`.
        target: the name of the target column in `data` (instead of `y`).
        problem: the problem type; None reads it off the targets (`kerasact.infer_problem`).
        n_classes: classes, when `problem` is given.
        n_outputs: targets or labels, when `problem` is given.
        categorical: columns to treat as categories (overrides the schema rules).
        numeric: columns to treat as numbers.
        drop: columns to leave out.
        strategy: a `tf.distribute.Strategy`; the model is built and compiled in its scope.
        **options: any `ModelSpec` field (`hidden`, `activation`, `dropout`, `optimizer`, ...);
            `normalize_target` defaults to True for regression (the target is learned standardised
            and the model still outputs its units).

    Returns:
        A compiled Functional model taking `{column: (n, 1) tensor}`; `model.kerasact_schema`
        holds the `Schema`.

    Example:
        >>> model = build_tabular_model(penguins_train, target="species", hidden=[32])  # doctest: +SKIP
    """
    frame = read_table(data)
    if (y is None) == (target is None):
        raise ValueError("build_tabular_model needs the targets once: pass y=... or target='column', not both.")
    if target is not None:
        frame, y = split_target(frame, target)
    if problem is None or (n_classes is None and n_outputs is None):  # the printed target rule decides what is missing
        problem, counts, _ = target_plan(y, problem)
        n_classes, n_outputs = counts["n_classes"], counts["n_outputs"]
    schema = infer_schema(frame, categorical=categorical, numeric=numeric, drop=drop)
    # A regression target far from 0 (a log price near 12) is learned standardised and scaled back
    # inside the model: Adam at 1e-3 walks an output bias from 0 too slowly for early stopping.
    options.setdefault("normalize_target", get_head(problem).name == "regression")
    spec = ModelSpec(problem, len(schema.features), n_classes=n_classes, n_outputs=n_outputs, **options)
    distribute.check_strategy(strategy)
    distribute.prepare(strategy)  # under several workers: the keras#20585 fixes, so model.fit works
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = _build(frame, y, schema, spec)
    setattr(model, SCHEMA_ATTRIBUTE, schema)
    warn(model)
    return model


def _build(frame: Any, y: Any, schema: Any, spec: ModelSpec) -> keras.Model:
    """The compiled Functional model: an input per column, its preprocessing, the body and the head."""
    raw = to_inputs(frame, schema)
    inputs, features, names = {}, [], layer_names(schema)  # Keras refuses '/' and more in input names
    for column in schema.features:
        dtype = "float32" if column.kind == "numeric" else "string"
        inputs[column.name] = keras.Input(shape=(1,), dtype=dtype, name=names[column.name])
        values = raw[names[column.name]].numpy().reshape(-1)
        if column.kind == "numeric":
            features += _numeric_features(names[column.name], inputs[column.name], values)
        else:
            features += _categorical_features(names[column.name], inputs[column.name], values.astype(str))
    inputs = {names[name]: tensor for name, tensor in inputs.items()}  # Keras matches dict keys to input names
    x = keras.layers.Concatenate(name=FEATURES_LAYER)(features) if len(features) > 1 else features[0]
    target_data = None if not spec.normalize_target else np.asarray(y, np.float32).reshape(len(y), -1)
    for layer in body_layers(spec, normalize_target=target_data):
        x = layer(x)
    model = keras.Model(inputs, x, name=f"kerasact_{spec.head.name}_table")
    compile_spec(model, spec)
    return model

