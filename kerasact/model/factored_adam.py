"""`FactoredAdam`: Adam with a learning-rate factor and a weight-decay factor per variable, and a
decoupled weight decay held in a variable a schedule can change between steps.

RealMLP-TD (Holzmüller et al., NeurIPS 2024) trains each parameter group at its own learning
rate: biases ×0.1, the parametric activation ×0.1, the front scale ×6, the PBLD numeric
embedding ×0.1, and biases get no weight decay. pytabkit gives every parameter its own torch
param group (`models/training/lightning_modules.py::configure_optimizers`) whose `lr` is the
scheduled rate times the parameter's `hyper_factors['lr']`, so for Adam a per-variable factor is
exactly a per-variable learning rate: here Keras's own `Adam.update_step` runs with
`learning_rate * lr_factor`.

Weight decay follows `models/optim/optimizers.py::OptimizerBase.step` for `opt='adam'`: before the
Adam step, `p *= 1 - wd * lr * p.hyper_factors['wd'] * p.hyper_factors['lr']`, where `wd` and `lr`
(`get_hyper_values`) already carry the same two factors; so the decay applied is
`weight_decay_now * learning_rate * (wd_factor * lr_factor) ** 2` — decoupled (AdamW-style),
with each factor counted twice, as in their code.

Which variable gets which factor: a layer may declare `kerasact_lr_factors` and
`kerasact_wd_factors`, `{variable name: factor}`; `layer_factors(model)` reads them into
`{"layer/variable": factor}` tables for the constructor (kept in `get_config`, matched as a suffix
of the variable's path, so they survive save and load). A variable named `bias` that no table
names gets `bias_lr_factor` / `bias_wd_factor`; every other variable 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
from keras import ops

from kerasact._errors import invalid

LR_ATTRIBUTE = "kerasact_lr_factors"  # a layer's {variable name: learning-rate factor}
WD_ATTRIBUTE = "kerasact_wd_factors"  # a layer's {variable name: weight-decay factor}


def _matches(path: str, key: str) -> bool:
    return path == key or path.endswith("/" + key)


def _key(layer: keras.layers.Layer, variable: keras.Variable) -> str:
    """`"layer/variable"`: the variable's path from its layer's name on (prefixes differ after loading)."""
    path = "/" + variable.path
    start = path.rfind("/" + layer.name + "/")
    return path[start + 1:] if start >= 0 else variable.path


def layer_factors(model: keras.Model) -> tuple[dict[str, float], dict[str, float]]:
    """The `(lr_factors, wd_factors)` tables the layers of `model` declare, keyed `"layer/variable"`.

    Example:
        >>> dense = keras.layers.Dense(2, name="out")
        >>> dense.kerasact_lr_factors = {"kernel": 0.5}
        >>> layer_factors(keras.Sequential([keras.Input((3,)), dense]))
        ({'out/kernel': 0.5}, {})
    """
    tables: tuple[dict[str, float], dict[str, float]] = ({}, {})
    for layer in model._flatten_layers(include_self=False):
        for attribute, table in zip((LR_ATTRIBUTE, WD_ATTRIBUTE), tables):
            declared = getattr(layer, attribute, None) or {}
            for variable in layer.weights:
                if variable.name in declared:
                    table[_key(layer, variable)] = float(declared[variable.name])
    return tables


@keras.saving.register_keras_serializable(package="kerasact")
class FactoredAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` with per-variable learning-rate and weight-decay factors.

    Keras's own `weight_decay` stays off (None); the decay is applied here, per variable, from the
    variable `weight_decay_now`, which starts at `weight_decay` and which
    `kerasact.training.schedules.FlatCosine` rescales each step without retracing.

    Args:
        learning_rate: a float or a `LearningRateSchedule` (RealMLP-TD: `CosLog`, 0.04 classes / 0.2
            regression).
        lr_factors: `{"layer/variable": factor}` (see `layer_factors`); matched as a path suffix.
        wd_factors: `{"layer/variable": factor}` for the weight decay, likewise.
        bias_lr_factor: for variables named `bias` not in `lr_factors` (RealMLP-TD: 0.1).
        bias_wd_factor: for variables named `bias` not in `wd_factors` (RealMLP-TD: 0.0).
        weight_decay: the base decoupled weight decay (RealMLP-TD: 0.02).
        **kwargs: `keras.optimizers.Adam` arguments (RealMLP-TD: `beta_2=0.95`, `epsilon=1e-8`).

    Example:
        >>> opt = FactoredAdam(0.04, beta_2=0.95, weight_decay=0.02, bias_lr_factor=0.1, bias_wd_factor=0.0)
        >>> opt.get_config()["bias_lr_factor"]
        0.1
    """

    def __init__(self, learning_rate: Any = 0.001, *, lr_factors: Mapping[str, float] | None = None,
                 wd_factors: Mapping[str, float] | None = None, bias_lr_factor: float = 1.0,
                 bias_wd_factor: float = 1.0, weight_decay: float | None = None, **kwargs: Any) -> None:
        numbers = {"bias_lr_factor": bias_lr_factor, "bias_wd_factor": bias_wd_factor,
                   "weight_decay": weight_decay or 0.0}
        for arg, table in (("lr_factors", lr_factors), ("wd_factors", wd_factors)):
            if table is not None and not isinstance(table, Mapping):
                raise invalid(arg, table, "a dict {'layer/variable': factor}", "build it with layer_factors(model)",
                              kind=TypeError)
            numbers.update({f"{arg}[{key!r}]": value for key, value in (table or {}).items()})
        for arg, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise invalid(arg, value, "a number >= 0", "pass a non-negative float")
        super().__init__(learning_rate=learning_rate, weight_decay=None, **kwargs)
        self.lr_factors = {str(k): float(v) for k, v in (lr_factors or {}).items()}
        self.wd_factors = {str(k): float(v) for k, v in (wd_factors or {}).items()}
        self.bias_lr_factor, self.bias_wd_factor = float(bias_lr_factor), float(bias_wd_factor)
        self.decoupled_weight_decay = float(weight_decay or 0.0)
        with keras.name_scope(self.name, caller=self):
            self.weight_decay_now = keras.Variable(self.decoupled_weight_decay, name="weight_decay_now",
                                                   trainable=False, dtype="float32", aggregation="only_first_replica")
        self._factors: list[tuple[float, float]] = []

    def _factor(self, table: dict[str, float], variable: Any, bias_factor: float) -> float:
        found = [value for key, value in table.items() if _matches(variable.path, key)]
        return found[-1] if found else bias_factor if variable.name == "bias" else 1.0

    def build(self, var_list: list) -> None:
        """Build Adam's slots and fix each variable's `(lr_factor, wd_factor)`; refuse unmatched keys."""
        if self.built:
            return
        super().build(var_list)
        for arg, table in (("lr_factors", self.lr_factors), ("wd_factors", self.wd_factors)):
            missed = [key for key in table if not any(_matches(v.path, key) for v in var_list)]
            if missed:
                raise invalid(arg, missed, f"keys matching the end of a trainable variable's path, e.g. "
                              f"{[v.path for v in var_list[:3]]}", "rebuild the tables with layer_factors(model)")
        self._factors = [(self._factor(self.lr_factors, v, self.bias_lr_factor),
                          self._factor(self.wd_factors, v, self.bias_wd_factor)) for v in var_list]

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        """Decay `variable` (pytabkit's order: before the step), then take Adam's step at `lr * lr_factor`."""
        lr_factor, wd_factor = self._factors[self._get_variable_index(variable)]
        lr = ops.cast(learning_rate, variable.dtype)
        scale = (wd_factor * lr_factor) ** 2
        if self.decoupled_weight_decay and scale:
            decay = ops.cast(self.weight_decay_now, variable.dtype) * lr * scale
            self.assign_sub(variable, variable * decay)
        super().update_step(gradient, variable, lr if lr_factor == 1.0 else lr * lr_factor)

    def get_config(self) -> dict[str, Any]:
        """Adam's config with the factor tables and the base weight decay."""
        config = super().get_config()
        config.update(lr_factors=dict(self.lr_factors), wd_factors=dict(self.wd_factors),
                      bias_lr_factor=self.bias_lr_factor, bias_wd_factor=self.bias_wd_factor,
                      weight_decay=self.decoupled_weight_decay)
        return config
