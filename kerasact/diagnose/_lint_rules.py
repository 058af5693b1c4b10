"""The lint rules' checks: what they read from a model (`Facts`) and each check over it.

A check returns the problems it finds as (layer at fault, message); `linting.RULES` pairs each
with its fix. Checks reason with the activation catalog's rows (output range, derivative,
elementwise) and the head table's loss label formats, never with hand-typed lists of names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from kerasact import activations
from kerasact.diagnose import collapse
from kerasact.inputs import LABEL_FORMATS
from kerasact.problems import HEADS, activation_of, loss_config, loss_key, output_units, require_built

SATURATING_DEPTH = 4  # this many saturating hidden layers in one stack earn a warning
SATURATION_X = 10.0  # an activation saturates if its slope at +-SATURATION_X is below ...
SATURATION_SLOPE = 1e-2  # ... this on both sides (sigmoid: 4.5e-5; relu: 1 on the right)
INPUT_SCALE_LIMIT = 10.0  # a feature whose |mean| or std exceeds this wants normalize=X
SCALING_LAYERS = {"Normalization", "Rescaling", "BatchNormalization", "LayerNormalization"}


@dataclass(frozen=True, eq=False)
class Facts:
    """What the rules need to know about a model, read once."""

    model: keras.Model
    sites: list[tuple[str, activations.Activation]]  # (layer, activation) of Dense/Activation
    units: int  # output width
    loss: str | None  # the loss's Keras name, None when uncompiled or not a head-table loss
    family: str | None  # the loss family of its label format (LABEL_FORMATS[...].family)
    from_logits: bool
    X: np.ndarray | None
    y: np.ndarray | None

    @property
    def y_span(self) -> tuple[float, float]:
        return float(np.min(self.y)), float(np.max(self.y))


Problems = list[tuple[str | None, str]]  # (layer at fault, message) for each problem found


def _loss(model: keras.Model) -> tuple[str | None, str | None, bool]:
    """The compiled loss's head-table name, its label format's loss family, and from_logits."""
    info_key = loss_key(model)
    if info_key is None:
        return None, None, False
    labels = next(row.losses[info_key].labels for row in HEADS.values() if info_key in row.losses)
    return info_key, LABEL_FORMATS[labels].family, bool(loss_config(model).get("from_logits", False))


def read_facts(model: keras.Model, X: Any, y: Any) -> Facts:
    require_built(model)
    sites = [(layer.name, activation_of(layer)) for layer in model.layers
             if type(layer).__name__ in ("Dense", "Activation")]
    sites = [(name, row) for name, row in sites if row is not None]
    loss, family, from_logits = _loss(model)
    arrays = [None if v is None else np.asarray(v, np.float64) for v in (X, y)]
    return Facts(model, sites, output_units(model), loss, family, from_logits, *arrays)


def is_probability(row: activations.Activation) -> bool:
    return row.output_range[0] >= 0.0 and row.output_range[1] <= 1.0


def linear_collapse(f: Facts) -> Problems:
    plan = collapse.plan_fold(f.model)
    return [(run.layers[0], f"Dense layers {list(run.layers)} have no non-linearity between "
             "them: they compute one linear map, so the stack collapses to a single layer. "
             f"fold_linear merges them into one Dense ({run.params_before} -> "
             f"{run.params_after} parameters).") for run in plan.runs
            ] + [(dense, f"Dense {dense!r} is linear and only affine layers (from {between!r} "
                  "on) separate it from the next Dense: at inference they are one linear map "
                  "(fold_linear refuses to merge across them).") for dense, between in plan.blocked]


def on_output(applies: Callable[[Facts, activations.Activation], bool], message: str
               ) -> Callable[[Facts], Problems]:
    """A check of the output layer; `message` is formatted with `f` (Facts) and `row`."""
    def check(f: Facts) -> Problems:
        name, row = f.sites[-1]
        return [(name, message.format(f=f, row=row))] if applies(f, row) else []
    return check


def _saturates(row: activations.Activation) -> bool:
    if row.derivative is None:  # softmax-like rows: not elementwise, never hidden activations
        return False
    slopes = row.derivative(np.array([-SATURATION_X, SATURATION_X]))
    return bool(np.all(np.abs(slopes) < SATURATION_SLOPE))


def vanishing_gradient(f: Facts) -> Problems:
    hidden = [(name, row) for name, row in f.sites[:-1] if _saturates(row)]
    if len(hidden) < SATURATING_DEPTH:
        return []
    grid = np.linspace(-SATURATION_X, SATURATION_X, 2001)
    gain = float(np.prod([row.derivative(grid).max() for _, row in hidden]))
    return [(hidden[0][0], f"{len(hidden)} hidden layers use saturating activations "
             f"({sorted({row.name for _, row in hidden})}): their slopes vanish for large inputs "
             f"and multiply to at most {gain:.3g}, so early layers barely learn.")]


def unscaled_inputs(f: Facts) -> Problems:
    kinds = [type(layer).__name__ for layer in f.model.layers]
    before_dense = kinds[:kinds.index("Dense")] if "Dense" in kinds else kinds
    if f.X is None or f.X.ndim != 2 or set(before_dense) & SCALING_LAYERS:
        return []
    scale = np.maximum(np.abs(f.X.mean(axis=0)), f.X.std(axis=0))
    return [] if scale.max() <= INPUT_SCALE_LIMIT else [
        (None, f"Feature {int(scale.argmax())} has mean/spread {scale.max():.3g} and no "
         "normalisation layer precedes the first Dense: it starts saturated or with huge "
         "gradients.")]
