"""Linear collapse: Dense layers with no non-linearity between them are one linear map.

`x @ W1 + b1` fed into `g(. @ W2 + b2)` equals `g(x @ (W1 @ W2) + (b1 @ W2 + b2))`, so a
linear hidden layer adds parameters but no expressive power. `plan_fold` finds such runs
(analysis only); `fold_linear` builds the equivalent model with each run merged into one Dense.

Layers that are affine at inference (Dropout, BatchNormalization, a linear Activation, ...)
between a linear Dense and the next Dense still make the pair one linear map, but the merged
model would train differently, so `fold_linear` refuses them by name instead of folding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from kerasact.problems import activation_of, require_built


def _is_linear(layer: Any) -> bool:
    row = activation_of(layer)  # None for a custom callable: not something we can reason about
    return row is not None and row.name == "linear"


def _always(layer: Any) -> bool:
    return True


# Layer types that keep the map affine at inference: a linear Dense feeding the next Dense
# through them still collapses, but fold_linear will not merge across them.
AFFINE_AT_INFERENCE: dict[str, Callable[[Any], bool]] = {
    "Dropout": _always, "AlphaDropout": _always, "GaussianDropout": _always,
    "GaussianNoise": _always, "SpatialDropout1D": _always, "ActivityRegularization": _always,
    "BatchNormalization": _always, "Normalization": _always, "Rescaling": _always,
    "Activation": _is_linear,
}


def _is_dense(layer: Any) -> bool:
    return type(layer).__name__ == "Dense"


def _dense_params(layer: Any) -> int:
    n_in, units = layer.kernel.shape
    return int(n_in) * int(units) + (int(units) if layer.use_bias else 0)


@dataclass(frozen=True)
class LinearRun:
    """Consecutive Dense layers, all linear but the last, that fold into one Dense."""

    layers: tuple[str, ...]  # layer names, first to last; the merged layer keeps the last name
    indices: tuple[int, ...]  # positions in the model's layer list (InputLayer excluded)
    params_before: int  # parameters of these layers now
    params_after: int  # parameters of the single merged Dense (more, if a layer was a bottleneck)


@dataclass(frozen=True)
class FoldPlan:
    """What `fold_linear` would do to a model, without building anything."""

    runs: tuple[LinearRun, ...]  # every foldable run
    blocked: tuple[tuple[str, str], ...]  # (linear Dense, affine layer before the next Dense)
    params_before: int  # parameters of the whole model
    params_after: int  # parameters after folding every run

    @property
    def params_removed(self) -> int:
        return self.params_before - self.params_after


def _layers(model: Any) -> list[Any]:
    require_built(model)
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def plan_fold(model: keras.Model) -> FoldPlan:
    """Find every run of Dense layers that `fold_linear` would merge, and the parameter counts.

    Example:
        >>> import kerasact
        >>> model = kerasact.build_model("binary", 4, hidden=[(25, "linear"), (15, "relu")])
        >>> plan = plan_fold(model)
        >>> len(plan.runs[0].layers), plan.params_before, plan.params_after
        (2, 531, 91)
    """
    layers = _layers(model)
    runs, blocked, i = [], [], 0
    while i < len(layers):
        run = [i]
        while _is_dense(layers[run[-1]]) and _is_linear(layers[run[-1]]):
            k = run[-1] + 1
            while k < len(layers) and AFFINE_AT_INFERENCE.get(type(layers[k]).__name__,
                                                                lambda _: False)(layers[k]):
                k += 1
            if k == len(layers) or not _is_dense(layers[k]):
                break
            if k > run[-1] + 1:
                blocked.append((layers[run[-1]].name, layers[run[-1] + 1].name))
                break
            run.append(k)
        if len(run) > 1:
            first, last = layers[run[0]], layers[run[-1]]
            after = (int(first.kernel.shape[0]) + 1) * int(last.units)
            runs.append(LinearRun(tuple(layers[j].name for j in run), tuple(run),
                                  sum(_dense_params(layers[j]) for j in run), after))
        i = run[-1] + 1
    before = int(model.count_params())
    after = before - sum(r.params_before - r.params_after for r in runs)
    return FoldPlan(tuple(runs), tuple(blocked), before, after)


def _merged_weights(dense_layers: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    # Compose in float64: W = W1 @ W2 @ ..., b = (b1 @ W2 + b2) @ W3 + b3 ...
    kernels = [np.asarray(layer.kernel, np.float64) for layer in dense_layers]
    biases = [np.asarray(layer.bias, np.float64) if layer.use_bias else np.zeros(k.shape[1])
              for layer, k in zip(dense_layers, kernels)]
    W, b = kernels[0], biases[0]
    for kernel, bias in zip(kernels[1:], biases[1:]):
        W, b = W @ kernel, b @ kernel + bias
    return W, b


def fold_linear(model: keras.Model) -> keras.Sequential:
    """An equivalent new `Sequential` with every linear run merged into one Dense.

    The merged Dense keeps the last layer's name, activation and config (so a head stays the
    head) and always has a bias; every other layer is rebuilt from its config and weights. A
    compiled model's compile settings (loss, optimizer class and hyperparameters, metrics)
    are copied with `get_compile_config`. Use `plan_fold` for the parameter counts.

    Args:
        model: a built `Sequential` or branch-free functional model.

    Returns:
        A new model whose predictions equal `model`'s to float32 rounding.

    Raises:
        ValueError: if an affine layer (Dropout, BatchNormalization, ...) sits between a
            linear Dense and the next Dense; the message names both layers.

    Example:
        >>> import kerasact
        >>> model = kerasact.build_model("binary", 4, hidden=[(25, "linear"), (15, "relu")])
        >>> [layer.units for layer in fold_linear(model).layers]
        [15, 1]
    """
    plan, layers = plan_fold(model), _layers(model)
    if plan.blocked:
        dense, between = plan.blocked[0]
        raise ValueError(f"fold_linear cannot merge linear Dense {dense!r} across {between!r} in "
                         f"argument 'model': layers of types {sorted(AFFINE_AT_INFERENCE)} between "
                         "two Dense layers change training. Remove that layer or make the Dense "
                         "non-linear.")
    starts = {run.indices[0]: run for run in plan.runs}
    new_layers, weights, i = [], [], 0
    while i < len(layers):
        if i in starts:
            run_layers = [layers[j] for j in starts[i].indices]
            W, b = _merged_weights(run_layers)
            config = {**run_layers[-1].get_config(), "units": W.shape[1], "use_bias": True}
            new_layers.append(keras.layers.Dense.from_config(config))
            dtype = np.asarray(run_layers[-1].kernel).dtype
            weights.append([W.astype(dtype), b.astype(dtype)])
            i = starts[i].indices[-1] + 1
        else:
            new_layers.append(type(layers[i]).from_config(layers[i].get_config()))
            weights.append(layers[i].get_weights())
            i += 1
    inputs = keras.Input(shape=tuple(model.inputs[0].shape[1:]), dtype=model.inputs[0].dtype)
    folded = keras.Sequential([inputs, *new_layers], name=f"{model.name}_folded")
    for layer, values in zip(new_layers, weights):
        layer.set_weights(values)
        getattr(layer, "finalize_state", lambda: None)()  # Normalization derives mean from weights
    compile_config = model.get_compile_config() if getattr(model, "compiled", False) else None
    if compile_config:
        folded.compile_from_config(compile_config)
    return folded
