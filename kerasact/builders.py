"""The factory functions: `dense_stack` (the hidden part) and `build_model` (a compiled MLP
whose output layer, loss and metrics come from one row of the head table)."""

from __future__ import annotations

import contextlib
from typing import Any, Sequence

import keras
import numpy as np

from kerasact import activations, optimizers
from kerasact.spec import HiddenLayer, ModelSpec

# Initializers an activation needs to behave as designed; everything else uses Keras's
# default (Glorot uniform). SELU only self-normalises with LeCun-normal weights.
_INITIALIZER = {"selu": keras.initializers.LecunNormal}


def _initializer(activation: str, seed: int | None) -> keras.initializers.Initializer:
    return _INITIALIZER.get(activation, keras.initializers.GlorotUniform)(seed=seed)


def _seed(seed: int | None, offset: int) -> int | None:
    # Each layer gets its own seed so that two layers of equal shape differ.
    return None if seed is None else seed + offset


def dense_stack(
    hidden: Sequence[HiddenLayer] = (64, 32),
    activation: str = "relu",
    *,
    dropout: float = 0.0,
    l2: float = 0.0,
    batch_norm: bool = False,
    seed: int | None = None,
) -> list[keras.layers.Layer]:
    """The hidden part of an MLP as a list of layers, to compose into any model.

    Each entry of `hidden` becomes `Dense(width, activation)`; with `batch_norm` it is
    `Dense(width, no bias) → BatchNormalization → Activation`, and with `dropout > 0`
    a `Dropout` follows.

    Args:
        hidden: widths, or `(width, activation)` pairs for per-layer activations.
        activation: activation for bare widths (any name of `kerasact.activations`).
        dropout: dropout rate after every hidden layer, in [0, 1).
        l2: L2 penalty on every kernel.
        batch_norm: insert BatchNormalization before each activation.
        seed: seeds initializers and dropout.

    Returns:
        A list of Keras layers.

    Example:
        >>> layers = dense_stack([(25, "linear"), (15, "relu")])
        >>> model = keras.Sequential([keras.Input((4,)), *layers, keras.layers.Dense(1)])
    """
    spec = ModelSpec("regression", 1, hidden=tuple(hidden), activation=activation,
                     dropout=dropout, l2=l2, batch_norm=batch_norm, seed=seed)
    return _stack(spec)


def _stack(spec: ModelSpec) -> list[keras.layers.Layer]:
    regularizer = keras.regularizers.L2(spec.l2) if spec.l2 else None
    layers: list[keras.layers.Layer] = []
    for i, (width, act) in enumerate(spec.hidden):
        dense = keras.layers.Dense(
            width,
            activation=None if spec.batch_norm else act,
            use_bias=not spec.batch_norm,  # BatchNormalization's beta replaces the bias
            kernel_initializer=_initializer(act, _seed(spec.seed, i)),
            kernel_regularizer=regularizer,
        )
        layers.append(dense)
        if spec.batch_norm:
            layers += [keras.layers.BatchNormalization(), keras.layers.Activation(act)]
        if spec.dropout:
            layers.append(keras.layers.Dropout(spec.dropout, seed=_seed(spec.seed, 1000 + i)))
    return layers


def build_model(
    problem: str,
    input_dim: int,
    *,
    n_classes: int | None = None,
    n_outputs: int | None = None,
    hidden: Sequence[HiddenLayer] = (64, 32),
    activation: str = "relu",
    normalize: Any = None,
    strategy: Any = None,
    **options: Any,
) -> keras.Sequential:
    """Build a compiled MLP for a problem type, ready for `fit`.

    The output layer, the loss and the metrics come from `kerasact.HEADS[problem]`.

    Args:
        problem: `"regression"`, `"binary"`, `"multiclass"` or `"multilabel"`.
        input_dim: number of input features.
        n_classes: number of classes (multiclass; binary implies 2).
        n_outputs: regression targets (default 1) or multilabel labels.
        hidden: widths, or `(width, activation)` pairs.
        activation: hidden activation for bare widths.
        normalize: training features; when given, a `keras.layers.Normalization`
            adapted on them is the first layer, so the saved model carries its own
            preprocessing.
        strategy: a `tf.distribute.Strategy`; the model is built and compiled in its scope.
        **options: any other `ModelSpec` field: `dropout`, `l2`, `batch_norm`,
            `optimizer`, `learning_rate`, `loss`, `logits`, `metrics`, `seed`.

    Returns:
        A compiled `keras.Sequential`.

    Example:
        >>> model = build_model("binary", input_dim=30, hidden=[25, 15], activation="sigmoid")
        >>> [layer.units for layer in model.layers]
        [25, 15, 1]
    """
    # normalize may be the spec's flag (from ModelSpec.to_dict()) or the training features.
    data = None if isinstance(normalize, bool) or normalize is None else normalize
    spec = ModelSpec(problem, input_dim, n_classes=n_classes, n_outputs=n_outputs, hidden=hidden,
                     activation=activation, normalize=bool(normalize is True or data is not None), **options)
    return build_from_spec(spec, normalize=data, strategy=strategy)


def build_from_spec(spec: ModelSpec, *, normalize: Any = None, strategy: Any = None) -> keras.Sequential:
    """Build and compile the model a `ModelSpec` describes (see `build_model`).

    Example:
        >>> build_from_spec(ModelSpec.load("model.toml"))  # doctest: +SKIP
    """
    if spec.normalize and normalize is None:
        raise ValueError("The spec has normalize=true: pass the training features as normalize=X_train.")
    head = spec.head
    loss_name, option = head.loss_option(spec.loss)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        layers: list[keras.layers.Layer] = [keras.Input(shape=(spec.input_dim,))]
        if normalize is not None:
            layers.append(_normalization(normalize, spec.input_dim))
        layers += _stack(spec)
        out_activation = "linear" if spec.logits else head.activation
        layers.append(keras.layers.Dense(
            spec.output_units,
            activation=out_activation,
            kernel_initializer=_initializer(out_activation, _seed(spec.seed, len(spec.hidden))),
            kernel_regularizer=keras.regularizers.L2(spec.l2) if spec.l2 else None,
            name=f"{head.name}_head",
        ))
        model = keras.Sequential(layers, name=f"kerasact_{head.name}")
        model.compile(
            optimizer=optimizers.get(spec.optimizer, spec.learning_rate),
            loss=option.make(spec.logits),
            metrics=head.metrics(spec.logits, option.labels) + list(spec.metrics),
        )
    return model


def _normalization(X: Any, input_dim: int) -> keras.layers.Normalization:
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != input_dim:
        raise ValueError(f"normalize must be the training features with shape (n, {input_dim}); got shape {X.shape}.")
    layer = keras.layers.Normalization(axis=-1)
    layer.adapt(X)
    return layer
