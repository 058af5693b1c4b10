"""The factory functions: `dense_stack` (the hidden part) and `build_model` (a compiled MLP
whose output layer, loss and metrics come from one row of the head table)."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Sequence
from typing import Any

import keras

from kerasact import _errors
from kerasact.diagnose.linting import warn
from kerasact.layers import Temperature
from kerasact.model import blocks, optimizers
from kerasact.model import layers as preprocessing
from kerasact.model.factored_adam import FactoredAdam, layer_factors
from kerasact.model.losses import SmoothedSparseCategoricalCrossentropy
from kerasact.model.spec import HiddenLayer, ModelSpec
from kerasact.runtime import distribute, execution


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
    return blocks.hidden_layers(spec)


def build_model(
    problem: str,
    input_dim: int,
    *,
    n_classes: int | None = None,
    n_outputs: int | None = None,
    hidden: Sequence[HiddenLayer] = (64, 32),
    activation: str = "relu",
    normalize: Any = None,
    normalize_target: Any = None,
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
        normalize: `True` or the training features: the first layer is a
            `keras.layers.Normalization`, so the saved model carries its own preprocessing.
            With `True`, `kerasact.train` adapts it on its training split only.
        normalize_target: regression only, `True` or the training targets: an inverted
            Normalization after the head, so the network fits standardised targets and
            the model still outputs them in their own units.
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
    # Each may be the spec's flag (True/False) or the training data to adapt on now.
    spec = ModelSpec(problem, input_dim, n_classes=n_classes, n_outputs=n_outputs, hidden=hidden,
                     activation=activation, normalize=_wanted("normalize", normalize, "features"),
                     normalize_target=_wanted("normalize_target", normalize_target, "targets"), **options)
    return build_from_spec(spec, normalize=normalize, normalize_target=normalize_target, strategy=strategy)


def _wanted(arg: str, flag_or_data: Any, data: str) -> bool:
    """Whether the layer is wanted; a scalar such as `1` or `"yes"` is refused (it hides a typo)."""
    if flag_or_data is None or isinstance(flag_or_data, bool):
        return bool(flag_or_data)
    if isinstance(flag_or_data, (str, bytes, int, float)):
        raise _errors.invalid(arg, flag_or_data, f"True, False, None or the training {data} (an array)",
                              kind=TypeError)
    return True


def build_from_spec(spec: ModelSpec, *, normalize: Any = None, normalize_target: Any = None,
                    strategy: Any = None) -> keras.Sequential:
    """Build and compile the model a `ModelSpec` describes (see `build_model`).

    Example:
        >>> build_from_spec(ModelSpec.load("model.toml"))  # doctest: +SKIP
    """
    distribute.check_strategy(strategy)
    distribute.prepare(strategy)  # under several workers: the keras#20585 fixes, so model.fit works
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        layers: list[keras.layers.Layer] = [keras.Input(shape=(spec.input_dim,), dtype=spec.dtype)]
        if spec.normalize:  # data given now is adapted on now; else train() adapts it
            layers.append(preprocessing.input_layer(_data_or_true(normalize), spec.input_dim, dtype=spec.dtype))
        layers += body_layers(spec, normalize_target=normalize_target)
        model = keras.Sequential(layers, name=f"kerasact_{spec.head.name}")
        compile_spec(model, spec)
    # Valid options can still make a model that cannot learn (a linear hidden layer, a
    # saturating stack): say so now, as a LintWarning, rather than after training.
    warn(model)
    return model


def body_layers(spec: ModelSpec, *, normalize_target: Any = None) -> list[keras.layers.Layer]:
    """The layers after the input (and its preprocessing): the hidden stack, the head row's
    output layer and, with `normalize_target`, the target de-normalisation.

    Example:
        >>> [type(layer).__name__ for layer in body_layers(ModelSpec("binary", 4, hidden=[8]))]
        ['Dense', 'Dense']
    """
    layers = blocks.hidden_layers(spec) + blocks.output_layers(spec)
    if spec.temperature_scaling:  # T = 1 until training ends (kerasact.training.calibration)
        layers.append(Temperature("softmax" if spec.head.activation == "softmax" else "sigmoid", name="temperature"))
    if spec.normalize_target:
        layers.append(preprocessing.target_layer(_data_or_true(normalize_target), spec.output_units, dtype=spec.dtype))
    return layers


def compile_spec(model: keras.Model, spec: ModelSpec) -> None:
    """Compile `model` with the spec's optimizer and its head row's loss and metrics, plus the
    measured execution settings.

    Example:
        >>> compile_spec(model, ModelSpec("binary", 4))  # doctest: +SKIP
    """
    _, option = spec.head.loss_option(spec.loss)
    execution.compile_model(  # model.compile plus the measured execution settings
        model, spec,
        optimizer=_optimizer(spec, model),
        loss=_loss(spec, option),
        metrics=spec.head.metrics(spec.logits, option.labels) + list(spec.metrics),
    )


def _loss(spec: ModelSpec, option: Any) -> keras.losses.Loss:
    """The head row's loss; with label smoothing, the sparse loss's smoothed twin (Keras 3.15's
    sparse cross-entropy has no `label_smoothing`)."""
    if not spec.label_smoothing:
        return option.make(spec.logits)
    cls = _SMOOTHED.get(option.cls, option.cls)
    return cls(from_logits=spec.logits, label_smoothing=spec.label_smoothing)


_SMOOTHED = {keras.losses.SparseCategoricalCrossentropy: SmoothedSparseCategoricalCrossentropy}


def _optimizer(spec: ModelSpec, model: keras.Model) -> keras.optimizers.Optimizer:
    """The spec's optimizer. Adam under RealMLP-TD's options is `FactoredAdam`: per-weight
    learning-rate factors, decoupled weight decay a schedule can scale, and `beta_2`."""
    factored = spec.parametrization != "standard" or spec.weight_decay or any(
        isinstance(layer, tuple(blocks.FACTORS)) for layer in model._flatten_layers())
    if spec.optimizer == "adam" and factored:
        blocks.declare_factors(model)
        lr, wd = layer_factors(model)
        bias_lr, bias_wd = blocks.BIAS_FACTORS[spec.parametrization]
        return FactoredAdam(spec.learning_rate or 1e-3, lr_factors=lr, wd_factors=wd, bias_lr_factor=bias_lr,
                            bias_wd_factor=bias_wd, weight_decay=spec.weight_decay, beta_2=spec.beta_2 or 0.999,
                            epsilon=1e-8)
    extra = {"weight_decay": spec.weight_decay} if spec.weight_decay else {}
    if spec.beta_2 is not None:
        if "beta_2" not in inspect.signature(optimizers.OPTIMIZERS[spec.optimizer]).parameters:
            raise ValueError(f"beta_2={spec.beta_2} does not apply to optimizer={spec.optimizer!r} (it has no "
                             "second-moment decay): drop beta_2, or use an Adam-family optimizer.")
        extra["beta_2"] = spec.beta_2
    if not extra:
        return optimizers.get(spec.optimizer, spec.learning_rate)
    rate = {} if spec.learning_rate is None else {"learning_rate": float(spec.learning_rate)}
    return optimizers.OPTIMIZERS[spec.optimizer](**rate, **extra)


def _data_or_true(value: Any) -> Any:
    return True if value is None or isinstance(value, bool) else value
