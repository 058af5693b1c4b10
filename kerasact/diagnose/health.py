"""What a model's units and gradients do on real rows: the probe behind the diagnostics callback
(`kerasact.diagnose.Diagnostics`) and the pytest assertions `assert_no_dead_units` and
`assert_gradients_flow`.

A *site* is a hidden layer that applies a non-linear elementwise activation (a Dense with one, or
an Activation layer after Dense → BatchNormalization). On a probe batch, each site's
pre-activations `z` and the activation catalog's derivative `f'(z)` (one source of truth with
lint) say:

- **dead** units, for activations whose derivative is exactly 0 on a flat region (the ReLU
  family: relu, relu6, hard_sigmoid, ...): `f'(z) == 0` on every probe row, so the unit passes
  no gradient for any input and never recovers;
- **saturated** units, for activations lint calls saturating (slope below `SATURATION_SLOPE` at
  ±`SATURATION_X`: sigmoid, tanh, softsign, ...): `|f'(z)| < SATURATION_SLOPE` (sigmoid: |z| > 4.6;
  tanh: |z| > 3.0) on at least `SATURATED_ROWS` of the probe rows. Not on every row, as for dead
  units: with large weights a unit still meets the odd row where z is near 0.

The probe also takes each Dense kernel's gradient norm of the compiled loss on the probe rows,
so the ratio first-hidden / head says whether gradients reach the first layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kerasact import activations
from kerasact.diagnose._lint_rules import SATURATION_SLOPE, SATURATION_X, _saturates
from kerasact.layers import DENSE_TYPES
from kerasact.problems import activation_of, compiled_loss, require_built

_GRID = np.linspace(-SATURATION_X, SATURATION_X, 401)
SATURATED_ROWS = 0.9  # a unit saturated on this share of the probe rows is a saturated unit


def can_die(row: activations.Activation) -> bool:
    """True when the activation's derivative is exactly 0 on a stretch of ±`SATURATION_X` (ReLU family;
    not tanh_shrink, whose slope is 0 at the single point z = 0).

    Example:
        >>> can_die(activations.get("relu")), can_die(activations.get("leaky_relu"))
        (True, False)
    """
    return row.derivative is not None and int(np.sum(row.derivative(_GRID) == 0.0)) > 1


def saturation_point(row: activations.Activation) -> float | None:
    """The smallest |z| beyond which the slope stays below `SATURATION_SLOPE` on both sides;
    None for activations that do not saturate.

    Example:
        >>> round(saturation_point(activations.get("tanh")), 1)
        3.0
    """
    if not _saturates(row):
        return None
    grid = np.linspace(0.0, SATURATION_X, 10001)
    low = np.abs(row.derivative(grid)) < SATURATION_SLOPE
    low &= np.abs(row.derivative(-grid)) < SATURATION_SLOPE
    inside = np.nonzero(~low)[0]  # the last |z| that still has slope
    return float(grid[inside[-1] + 1]) if len(inside) and inside[-1] + 1 < len(grid) else 0.0


@dataclass(frozen=True)
class Site:
    """A hidden layer whose activation the probe watches."""

    layer: keras.layers.Layer
    activation: activations.Activation

    @property
    def kind(self) -> str | None:
        """`"dead"` (ReLU family), `"saturated"` (sigmoid/tanh family) or None (neither can stall)."""
        return "dead" if can_die(self.activation) else "saturated" if _saturates(self.activation) else None


@dataclass(frozen=True)
class LayerHealth:
    """One site's units on the probe batch."""

    layer: str
    activation: str
    kind: str | None  # "dead", "saturated" or None, as `Site.kind`
    stalled: float | None  # fraction of units dead (or saturated); None when kind is None
    z: np.ndarray = field(repr=False)  # pre-activations, (rows, units)
    fn: Any = field(repr=False, default=None)  # the catalog's numpy activation

    @property
    def a(self) -> np.ndarray:
        """The activations f(z), computed when asked (only TensorBoard's histograms use them)."""
        return self.fn(self.z)


@dataclass(frozen=True)
class Probe:
    """What one probe found: each site's units and each Dense kernel's gradient norm."""

    sites: list[LayerHealth]
    gradients: dict[str, float]  # Dense layer -> ||dL/dkernel||, input side first, the head last
    rows: int

    @property
    def gradient_ratio(self) -> float | None:
        """||dL/dW|| of the first Dense over the head's (0 when no gradient reaches the first layer,
        even if none reaches the head either); None with fewer than 2 Dense layers."""
        norms = list(self.gradients.values())
        if len(norms) < 2:
            return None
        return norms[0] / norms[-1] if norms[-1] > 0 else float("inf") if norms[0] > 0 else 0.0


def hidden_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers before the head, the last Dense (a regression head may be followed by the layer
    that rescales its target; the head's activation is the problem's link, not a choice).

    Example:
        >>> [type(l).__name__ for l in hidden_layers(kerasact.build_model("binary", 4, hidden=[8]))]  # doctest: +SKIP
        ['Dense']
    """
    dense = [i for i, layer in enumerate(model.layers) if isinstance(layer, DENSE_TYPES)]
    return model.layers[: dense[-1]] if dense else model.layers[:-1]


def sites(model: keras.Model) -> list[Site]:
    """The hidden layers with a non-linear elementwise catalog activation, input side first.

    Example:
        >>> model = kerasact.build_model("binary", 4, hidden=[(8, "relu"), (4, "tanh")])  # doctest: +SKIP
        >>> [s.layer.name for s in sites(model)]  # doctest: +SKIP
        ['dense', 'dense_1']
    """
    require_built(model)
    found = []
    for layer in hidden_layers(model):
        row = activation_of(layer)
        if row is not None and row.derivative is not None and row.name != "linear":
            found.append(Site(layer, row))
    return found


def dense_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The Dense layers (hidden ones, then the head) whose kernels the probe differentiates."""
    return [layer for layer in model.layers if isinstance(layer, DENSE_TYPES)]


class Prober:
    """Probes one model again and again: the view of its sites is built once.

    Example:
        >>> probe = Prober(model).probe(X[:256], y[:256])  # doctest: +SKIP
        >>> probe.sites[0].stalled, probe.gradient_ratio  # doctest: +SKIP
        (0.0, 0.31)
    """

    def __init__(self, model: keras.Model) -> None:
        self.model, self.sites, self.dense = model, sites(model), dense_layers(model)
        ins = model.inputs
        # One forward pass gives every site's input and the prediction, sharing the model's weights.
        self.view = keras.Model(ins[0] if len(ins) == 1 else ins,
                                [site.layer.input for site in self.sites] + [model.outputs[0]])

    def probe(self, X: Any, y: Any = None) -> Probe:
        """Pre-activations of every site on `X`, and (with `y`, encoded for the loss) gradient norms."""
        kernels = [layer.kernel for layer in self.dense]
        with tf.GradientTape() as tape:
            outs = self.view(X, training=False)
            # One output (a model without sites) comes back as a tensor, not a list of one.
            *site_inputs, pred = outs if isinstance(outs, (list, tuple)) else [outs]
            loss = compiled_loss(self.model)(y, pred) if y is not None else None
        grads = tape.gradient(loss, kernels) if loss is not None else [None] * len(kernels)
        norms = {layer.name: float(np.linalg.norm(np.asarray(g, np.float64))) for layer, g in zip(self.dense, grads)
                 if g is not None}
        found = [_health(site, x) for site, x in zip(self.sites, site_inputs)]
        return Probe(found, norms, int(np.shape(pred)[0]))


def _health(site: Site, x: Any) -> LayerHealth:
    layer = site.layer
    if isinstance(layer, keras.layers.Dense):  # z = x W + b: the activation's input inside the layer
        z = keras.ops.matmul(keras.ops.cast(x, layer.kernel.dtype), layer.kernel)
        z = z + layer.bias if layer.bias is not None else z
    else:
        z = x
    z = np.asarray(keras.ops.convert_to_numpy(z), np.float64)
    z = z.reshape(-1, z.shape[-1])
    kind, share = site.kind, None
    if kind is not None:
        slope = np.abs(site.activation.derivative(z))
        stalled = (np.all(slope == 0.0, axis=0) if kind == "dead"
                   else np.mean(slope < SATURATION_SLOPE, axis=0) >= SATURATED_ROWS)
        share = float(stalled.mean())
    return LayerHealth(layer.name, site.activation.name, kind, share, z, site.activation.fn)


def probe(model: keras.Model, X: Any, y: Any = None) -> Probe:
    """Probe `model` once on `X` (and `y`, encoded for its loss, for gradient norms).

    Example:
        >>> probe(model, X[:256]).sites[0].stalled  # doctest: +SKIP
        0.0
    """
    return Prober(model).probe(X, y)
