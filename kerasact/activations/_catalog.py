"""Activation catalog: every Keras 3 activation with a numpy twin, derivative, range and advice.

This module is numpy-only on purpose: `kerasact.reference` builds its independent oracle on
these rows, so importing it must never pull in TensorFlow or Keras.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from kerasact import _errors
from kerasact.activations import _functions as _f
from kerasact.activations._functions import SELU_ALPHA, SELU_SCALE  # re-exported

_x = _f.as_float64  # short: the table's lambdas use it on every input

INF = math.inf
ArrayFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Activation:
    """One row of the catalog: a Keras activation and everything kerasact knows about it."""

    name: str  # canonical Keras name, usable as Dense(activation=name) when by_name is True
    fn: ArrayFn  # numpy forward pass, computed in float64 without overflow warnings
    derivative: ArrayFn | None  # elementwise d fn/dx, TF's value at kinks; None if not elementwise
    output_range: tuple[float, float]  # closed bounds on the output; math.inf when unbounded
    use: str  # one line: where it belongs (hidden layers, output head) and why
    elementwise: bool = True  # False when each output depends on the whole last axis
    width_divisor: int = 1  # glu gates one half of the units with the other, halving the width
    kinks: tuple[float, ...] = ()  # inputs where the derivative jumps; finite differences skip them
    params: tuple[tuple[str, Any], ...] = ()  # keyword arguments fn bakes in (Keras's defaults)
    by_name: bool = True  # False when Keras cannot call it by name alone (no defaults)
    hidden_ok: bool = True  # False when a Keras layer after it is built for the wrong width


_ROWS = [
    Activation("linear", _x, lambda x: np.ones_like(_x(x)), (-INF, INF),
               "Regression heads and logits; never between hidden layers (they collapse)."),
    Activation("relu", lambda x: np.maximum(_x(x), 0.0), lambda x: (_x(x) > 0) * 1.0, (0.0, INF),
               "Default hidden activation: cheap, sparse, no saturation for x > 0.", kinks=(0.0,),
               params=(("negative_slope", 0.0), ("max_value", None), ("threshold", 0.0))),
    Activation("relu6", lambda x: np.clip(_x(x), 0.0, 6.0),
               lambda x: ((_x(x) > 0) & (_x(x) < 6)) * 1.0, (0.0, 6.0),
               "Hidden layers of quantisation-friendly nets; bounded ReLU.", kinks=(0.0, 6.0)),
    Activation("leaky_relu", lambda x: np.where(_x(x) > 0, _x(x), 0.2 * _x(x)),
               lambda x: np.where(_x(x) > 0, 1.0, 0.2), (-INF, INF),
               "Hidden layers when ReLU units die; Keras slope 0.2.", kinks=(0.0,),
               params=(("negative_slope", 0.2),)),
    Activation("elu", lambda x: np.where(_x(x) > 0, _x(x), np.expm1(np.minimum(_x(x), 0.0))),
               lambda x: np.where(_x(x) > 0, 1.0, np.exp(np.minimum(_x(x), 0.0))), (-1.0, INF),
               "Hidden layers: smooth ReLU with near-zero mean outputs.", kinks=(0.0,),
               params=(("alpha", 1.0),)),
    Activation("selu",
               lambda x: SELU_SCALE * np.where(_x(x) > 0, _x(x),
                                               SELU_ALPHA * np.expm1(np.minimum(_x(x), 0.0))),
               lambda x: SELU_SCALE * np.where(_x(x) < 0,  # TF takes the x > 0 slope at 0
                                               SELU_ALPHA * np.exp(np.minimum(_x(x), 0.0)), 1.0),
               (-SELU_SCALE * SELU_ALPHA, INF),
               "Self-normalising hidden layers; pair with lecun_normal init and AlphaDropout.",
               kinks=(0.0,)),
    Activation("celu", lambda x: np.maximum(_x(x), 0.0) + np.expm1(np.minimum(_x(x), 0.0)),
               _f.d_celu, (-1.0, INF),
               "Hidden layers: ELU made continuously differentiable for any alpha.",
               kinks=(0.0,), params=(("alpha", 1.0),)),
    Activation("gelu", _f.gelu, _f.d_gelu, (-0.17, INF),
               "Hidden layers of transformer-style MLPs; Keras default is the exact erf form.",
               params=(("approximate", False),)),
    Activation("silu", lambda x: _x(x) * _f.sigmoid(x),
               lambda x: _f.sigmoid(x) * (1.0 + _x(x) * (1.0 - _f.sigmoid(x))), (-0.2785, INF),
               "Hidden layers: smooth, non-monotonic ReLU alternative (a.k.a. swish)."),
    Activation("hard_silu", lambda x: _x(x) * _f.hard_sigmoid(x),
               lambda x: _f.hard_sigmoid(x) + _x(x) * _f.d_hard_sigmoid(x), (-0.375, INF),
               "Hidden layers on mobile/edge: piecewise-quadratic silu (a.k.a. hard_swish).",
               kinks=(-3.0, 3.0)),
    Activation("mish", _f.mish, _f.d_mish, (-0.3089, INF),
               "Hidden layers: smooth self-gated ReLU alternative, a little costlier than silu."),
    Activation("softplus", _f.softplus, _f.sigmoid, (0.0, INF),
               "Heads for positive quantities (scales, rates); smooth ReLU for hidden layers."),
    Activation("softsign", lambda x: _x(x) / (1.0 + np.abs(_x(x))),
               lambda x: 1.0 / (1.0 + np.abs(_x(x))) ** 2, (-1.0, 1.0),
               "Hidden layers: tanh-like with polynomial (slower) saturation."),
    Activation("squareplus", lambda x: (_x(x) + np.sqrt(_x(x) ** 2 + 4.0)) / 2.0,
               lambda x: 0.5 * (1.0 + _x(x) / np.sqrt(_x(x) ** 2 + 4.0)), (0.0, INF),
               "Hidden layers: algebraic softplus without exp/log.", params=(("b", 4),)),
    Activation("sigmoid", _f.sigmoid, lambda x: _f.sigmoid(x) * (1.0 - _f.sigmoid(x)), (0.0, 1.0),
               "Output head for binary and multilabel problems; saturates in hidden layers."),
    Activation("hard_sigmoid", _f.hard_sigmoid, _f.d_hard_sigmoid, (0.0, 1.0),
               "Cheap piecewise-linear sigmoid for gates; zero gradient outside (-3, 3).",
               kinks=(-3.0, 3.0)),
    Activation("sparse_sigmoid",
               lambda x: np.clip((_x(x) + 1.0) / 2.0, 0.0, 1.0),
               lambda x: ((_x(x) > -1) & (_x(x) < 1)) * 0.5, (0.0, 1.0),
               "Probability head that can output exact 0 and 1.", kinks=(-1.0, 1.0)),
    Activation("log_sigmoid", lambda x: -_f.softplus(-_x(x)), lambda x: _f.sigmoid(-_x(x)),
               (-INF, 0.0), "Head giving log-probabilities of a binary event."),
    Activation("tanh", lambda x: np.tanh(_x(x)), lambda x: 1.0 - np.tanh(_x(x)) ** 2, (-1.0, 1.0),
               "Hidden layers needing zero-centred bounded outputs; heads for targets in [-1, 1]."),
    Activation("hard_tanh", lambda x: np.clip(_x(x), -1.0, 1.0),
               lambda x: ((_x(x) >= -1) & (_x(x) <= 1)) * 1.0, (-1.0, 1.0),
               "Cheap bounded activation; gradient is 1 on [-1, 1] (edges included, as in TF).",
               kinks=(-1.0, 1.0)),
    Activation("tanh_shrink", lambda x: _x(x) - np.tanh(_x(x)), lambda x: np.tanh(_x(x)) ** 2,
               (-INF, INF), "Hidden layers that should suppress small inputs smoothly."),
    Activation("hard_shrink", lambda x: np.where(np.abs(_x(x)) > 0.5, _x(x), 0.0),
               lambda x: (np.abs(_x(x)) > 0.5) * 1.0, (-INF, INF),
               "Sparse codes: zeroes |x| <= 0.5, passes the rest.", kinks=(-0.5, 0.5),
               params=(("threshold", 0.5),)),
    Activation("soft_shrink", lambda x: np.sign(_x(x)) * np.maximum(np.abs(_x(x)) - 0.5, 0.0),
               lambda x: (np.abs(_x(x)) > 0.5) * 1.0, (-INF, INF),
               "Sparse codes: shrinks towards 0 by 0.5 (the lasso proximal step).",
               kinks=(-0.5, 0.5), params=(("threshold", 0.5),)),
    Activation("sparse_plus",
               lambda x: np.where(_x(x) <= -1, 0.0,
                                  np.where(_x(x) < 1, (_x(x) + 1) ** 2 / 4, _x(x))),
               lambda x: np.where(_x(x) <= -1, 0.0, np.where(_x(x) < 1, (_x(x) + 1) / 2, 1.0)),
               (0.0, INF), "Softplus that reaches exact zero; positive heads.", kinks=(-1.0, 1.0)),
    Activation("threshold", lambda x: np.where(_x(x) > 0.0, _x(x), 0.0),
               lambda x: (_x(x) > 0) * 1.0, (0.0, INF),
               "NOT usable by name: Keras gives no defaults; here threshold=0, default_value=0.",
               kinks=(0.0,), params=(("threshold", 0.0), ("default_value", 0.0)), by_name=False),
    Activation("exponential", _f.exp, _f.exp, (0.0, INF),
               "Head for positive rates (e.g. Poisson); overflows easily in hidden layers."),
    Activation("softmax", _f.softmax, None, (0.0, 1.0),
               "Output head for single-label multi-class problems (rows sum to 1).",
               elementwise=False, params=(("axis", -1),)),
    Activation("log_softmax", _f.log_softmax, None, (-INF, 0.0),
               "Head giving class log-probabilities (pair with a negative log-likelihood loss).",
               elementwise=False, params=(("axis", -1),)),
    Activation("sparsemax", _f.sparsemax, None, (0.0, 1.0),
               "Multi-class head with exact zeros for unlikely classes (see KERAS_DEVIATIONS).",
               elementwise=False, params=(("axis", -1),)),
    Activation("glu", _f.glu, None, (-INF, INF),
               "Gated output: half the units gate the other half. LAST LAYER ONLY in Keras "
               "3.15.1: Dense/Activation report the unhalved width, so a next layer breaks.",
               elementwise=False, width_divisor=2, params=(("axis", -1),), hidden_ok=False),
]

CATALOG: dict[str, Activation] = {row.name: row for row in _ROWS}
# Keras's own aliases (swish, hard_swish) plus scikit-learn's names for the same functions.
ALIASES: dict[str, str] = {
    "swish": "silu",
    "hard_swish": "hard_silu",
    "identity": "linear",
    "logistic": "sigmoid",
}

# Rows whose numpy twin is the textbook function while the installed Keras computes something
# else. Parity tests expect these to differ, so a fixed Keras release is noticed.
KERAS_DEVIATIONS: dict[str, str] = {
    "sparsemax": "keras-team/keras#23425: Keras <= 3.15.1 sums every cumulative sum in the "
    "support to get the threshold, so outputs do not sum to 1 when 2+ classes survive.",
}

# The rows a Dense layer can apply by name inside a stack: threshold needs arguments, glu
# breaks the next layer's shape, and Keras computes the KERAS_DEVIATIONS rows wrongly.
DENSE_NAMES: list[str] = sorted(row.name for row in _ROWS
                                if row.by_name and row.hidden_ok and row.name not in KERAS_DEVIATIONS)


def names() -> list[str]:
    """Return the canonical activation names, sorted.

    Example:
        >>> names()[:3]
        ['celu', 'elu', 'exponential']
    """
    return sorted(CATALOG)


def get(identifier: str | Activation | Mapping[str, Any] | None) -> Activation:
    """Resolve an activation identifier to its catalog row, once, at the edge.

    Args:
        identifier: A name (any case, aliases allowed), an `Activation` (returned as is), a Keras
            serialised config dict (its `"config"` entry is the name), or `None` for linear.

    Returns:
        The catalog row.

    Raises:
        ValueError: If the name is not in the catalog; the message lists the valid options.
        TypeError: If the identifier is of another type.

    Example:
        >>> get("Swish").name
        'silu'
    """
    if identifier is None:
        return CATALOG["linear"]
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, Mapping):  # Keras serialises activations as {"config": name, ...}
        identifier = identifier.get("config")
    if not isinstance(identifier, str):
        raise TypeError(
            "Argument 'activation' must be a str, an Activation, a Keras config dict or None; "
            f"got {type(identifier).__name__} {identifier!r}."
        )
    key = identifier.strip().lower()
    key = ALIASES.get(key, key)
    if key not in CATALOG:
        valid = _errors.listed([*CATALOG, *ALIASES], identifier, where="kerasact.activations.names()")
        raise ValueError(f"Unknown activation {identifier!r} for argument 'activation'. Valid options: {valid}."
                         + _errors.did_you_mean(identifier, [*CATALOG, *ALIASES]))
    return CATALOG[key]
