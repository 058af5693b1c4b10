"""`build_tabular_model`: one Functional model that takes raw table rows (a dict of columns)
and carries its own preprocessing, the keras-io "structured data" shape without the second model.

The columns are encoded by the spec's encodings (`kerasact.model.encodings`): the plain preset
fills a missing number with the training median, adds a 0/1 missing indicator and z-scores it, and
one-hots a category with a missing level and an out-of-vocabulary bucket; the `realmlp` preset
robust-scales, smooth-clips and PBLD-embeds the numbers and one-hots or embeds the categories as
RealMLP-TD does. Every statistic comes from the rows given here: pass the training rows only
(`kerasact.train_table` does). Nothing is a Lambda, so the file loads in safe mode.
"""

from __future__ import annotations

import contextlib
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kerasact.diagnose.linting import warn
from kerasact.layers import ClipRange, NTKDense
from kerasact.model import encodings, presets
from kerasact.model.build import body_layers, compile_spec
from kerasact.model.presets import DEFAULT_PRESET
from kerasact.model.spec import ModelSpec
from kerasact.problems import get_head
from kerasact.runtime import distribute
from kerasact.tabular import (
    FEATURES_LAYER,
    SCHEMA_ATTRIBUTE,
    infer_schema,
    layer_names,
    read_table,
    split_target,
    target_plan,
    to_inputs,
)

INIT_ROWS = 20_000  # training rows the NTK layers' data-dependent init reads at most


def build_tabular_model(data: Any, y: Any = None, *, target: str | None = None, problem: str | None = None,
                        n_classes: int | None = None, n_outputs: int | None = None,
                        categorical: Any = (), numeric: Any = (), drop: Any = (), strategy: Any = None,
                        preset: str = DEFAULT_PRESET, **options: Any) -> keras.Model:
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
        preset: a `kerasact.model.presets.PRESETS` row whose `ModelSpec` defaults apply under
            `options` (`"realmlp"`, the default, or `"plain"`); both learn a regression target
            standardised.
        **options: any `ModelSpec` field (`hidden`, `activation`, `dropout`, `optimizer`, ...).

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
    # The preset's defaults under the caller's options. Both presets learn a regression target
    # standardised: Adam at 1e-3 walks an output bias from 0 to a log price near 12 too slowly.
    options = {**presets.get(preset).spec_defaults(get_head(problem).name), **options}
    spec = ModelSpec(problem, len(schema.features), n_classes=n_classes, n_outputs=n_outputs, **options)
    distribute.check_strategy(strategy)
    distribute.prepare(strategy)  # under several workers: the keras#20585 fixes, so model.fit works
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = _build(frame, y, schema, spec)
    setattr(model, SCHEMA_ATTRIBUTE, schema)
    model.kerasact_spec = spec  # what was built, the preset's defaults included (a search records it)
    warn(model)
    return model


def _build(frame: Any, y: Any, schema: Any, spec: ModelSpec) -> keras.Model:
    """The compiled Functional model: an input per column, its encodings, the body and the head."""
    raw = to_inputs(frame, schema)
    inputs, columns, names = {}, {"numeric": [], "categorical": []}, layer_names(schema)  # Keras refuses '/'...
    for column in schema.features:
        name = names[column.name]
        inputs[name] = keras.Input(shape=(1,), dtype="float32" if column.kind == "numeric" else "string", name=name)
        values = raw[name].numpy().reshape(-1)  # Keras matches dict keys to input names
        columns[column.kind].append((name, inputs[name], values if column.kind == "numeric" else values.astype(str)))
    features = encodings.features(columns["numeric"], columns["categorical"], spec)
    x = keras.layers.Concatenate(name=FEATURES_LAYER)(features) if len(features) > 1 else features[0]
    target_data = None if not spec.normalize_target else np.asarray(y, np.float32).reshape(len(y), -1)
    for layer in body_layers(spec, normalize_target=target_data):
        x = layer(x)
    if spec.clip_output:  # RealMLP-TD: no prediction outside the training targets' range
        clip = ClipRange(name="clip_output")
        clip.adapt(np.asarray(y, np.float64).reshape(len(y), -1))
        x = clip(x)
    model = keras.Model(inputs, x, name=f"kerasact_{spec.head.name}_table")
    _initialize(model, raw, spec.seed)
    compile_spec(model, spec)
    return model


def _initialize(model: keras.Model, raw: dict[str, Any], seed: int | None) -> None:
    """RealMLP-TD's data-dependent init of each NTK layer, input side first, on (at most
    `INIT_ROWS` of) the training rows as that layer sees them (pytabkit initialises layer by layer)."""
    ntk = [layer for layer in model.layers if isinstance(layer, NTKDense)]
    if not ntk:
        return
    n = len(next(iter(raw.values())))
    rows = np.sort(np.random.default_rng(seed).choice(n, min(n, INIT_ROWS), replace=False))
    sample = {k: tf.gather(v, rows) for k, v in raw.items()}
    for i, layer in enumerate(ntk):
        before = keras.Model(model.inputs, layer.input)
        layer.initialize_from(keras.ops.convert_to_numpy(before(sample, training=False)),
                              seed=None if seed is None else seed + i)
