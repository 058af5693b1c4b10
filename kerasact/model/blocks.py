"""The hidden stack and the output layer, built by the spec's template options: one row per
parametrisation (Glorot `Dense`, or RealMLP-TD's `NTKDense`), the activation inline or as its own
(parametric) layer, and dropout fixed or scheduled. The plain stack is the first row of each.

RealMLP-TD's learning-rate and weight-decay factors (pytabkit `default_params.py`:
`act_lr_factor=0.1`, `scale_lr_factor=6.0`, `plr_lr_factor=0.1`, `bias_lr_factor=0.1`,
`bias_wd_factor=0`) are declared here, by layer class, for `FactoredAdam`.
"""

from __future__ import annotations

from typing import Any

import keras

from kerasact.layers import FeatureScale, NTKDense, ParametricActivation, PeriodicEmbedding
from kerasact.model.factored_adam import LR_ATTRIBUTE, WD_ATTRIBUTE
from kerasact.model.scheduled_dropout import ScheduledDropout
from kerasact.model.spec import ModelSpec

# Initializers an activation needs to behave as designed; everything else uses Keras's
# default (Glorot uniform). SELU only self-normalises with LeCun-normal weights.
_INITIALIZER = {"selu": keras.initializers.LecunNormal}

# layer class -> ({weight: learning-rate factor}, {weight: weight-decay factor}); others train at 1.
FACTORS: dict[type, tuple[dict[str, float], dict[str, float]]] = {
    ParametricActivation: ({"alpha": 0.1}, {}),
    FeatureScale: ({"scale": 6.0}, {}),
    # Its `bias` is an embedding weight, not a Dense bias: the bias rule (no decay) must not reach it.
    PeriodicEmbedding: (dict.fromkeys(("frequencies", "phases", "kernel", "bias"), 0.1), {"bias": 1.0}),
}
BIAS_FACTORS = {"standard": (1.0, 1.0), "ntk": (0.1, 0.0)}  # parametrization -> (bias lr, bias wd) factor

DROPOUT = {"constant": keras.layers.Dropout, "flat_cos": ScheduledDropout}  # by regularization_schedule


def initializer(activation: str, seed: int | None) -> keras.initializers.Initializer:
    return _INITIALIZER.get(activation, keras.initializers.GlorotUniform)(seed=seed)


def seed_at(seed: int | None, offset: int) -> int | None:
    # Each layer gets its own seed so that two layers of equal shape differ.
    return None if seed is None else seed + offset


def _glorot(spec: ModelSpec, width: int, act: str, i: int, inline: bool, **kwargs: Any) -> keras.layers.Layer:
    return keras.layers.Dense(width, activation=act if inline else None,
                              kernel_initializer=initializer(act, seed_at(spec.seed, i)),
                              kernel_regularizer=keras.regularizers.L2(spec.l2) if spec.l2 else None,
                              dtype=spec.dtype, **kwargs)


def _ntk(spec: ModelSpec, width: int, act: str, i: int, inline: bool, **kwargs: Any) -> keras.layers.Layer:
    # The activation always follows as its own layer (inline=False below); the weight penalty is
    # the optimizer's decoupled decay, so l2 does not apply.
    return NTKDense(width, seed=seed_at(spec.seed, i), dtype=spec.dtype, **kwargs)


DENSE = {"standard": _glorot, "ntk": _ntk}  # by parametrization


def _activation(spec: ModelSpec, act: str) -> keras.layers.Layer:
    if spec.parametric_activation:
        return ParametricActivation(act, dtype=spec.dtype)
    return keras.layers.Activation(act, dtype=spec.dtype)


def hidden_layers(spec: ModelSpec) -> list[keras.layers.Layer]:
    """The front scale, then per hidden layer: Dense (or NTKDense), [BatchNormalization], the
    activation (inline, plain or parametric) and dropout (fixed or scheduled).

    Example:
        >>> [type(l).__name__ for l in hidden_layers(ModelSpec("binary", 4, hidden=[8], dropout=0.1))]
        ['Dense', 'Dropout']
    """
    layers: list[keras.layers.Layer] = [FeatureScale(dtype=spec.dtype)] if spec.front_scale else []
    inline = spec.parametrization == "standard" and not (spec.batch_norm or spec.parametric_activation)
    for i, (width, act) in enumerate(spec.hidden):
        # BatchNormalization's beta replaces the bias
        layers.append(DENSE[spec.parametrization](spec, width, act, i, inline, use_bias=not spec.batch_norm))
        if spec.batch_norm:
            layers.append(keras.layers.BatchNormalization(dtype=spec.dtype))
        if not inline:
            layers.append(_activation(spec, act))
        if spec.dropout:
            layers.append(DROPOUT[spec.regularization_schedule](spec.dropout, seed=seed_at(spec.seed, 1000 + i),
                                                                 dtype=spec.dtype))
    return layers


def output_layers(spec: ModelSpec) -> list[keras.layers.Layer]:
    """The head row's output layer, named `<problem>_head`; under NTK its activation follows it.

    Example:
        >>> [l.name for l in output_layers(ModelSpec("binary", 4, parametrization="ntk"))]
        ['binary_head', 'binary_output']
    """
    act = "linear" if spec.logits else spec.head.activation
    name = f"{spec.head.name}_head"
    if spec.parametrization == "standard":
        return [_glorot(spec, spec.output_units, act, len(spec.hidden), True, name=name)]
    layers = [_ntk(spec, spec.output_units, act, len(spec.hidden), False, name=name)]
    return layers + ([keras.layers.Activation(act, name=f"{spec.head.name}_output", dtype=spec.dtype)]
                     if act != "linear" else [])


def declare_factors(model: keras.Model) -> None:
    """Mark each layer's weights with RealMLP-TD's factors (`FACTORS`), for `layer_factors`."""
    for layer in model._flatten_layers():
        lr, wd = FACTORS.get(type(layer), ({}, {}))
        if lr or wd:
            setattr(layer, LR_ATTRIBUTE, lr)
            setattr(layer, WD_ATTRIBUTE, wd)
