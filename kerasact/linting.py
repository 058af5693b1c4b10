"""Model lint: mistakes that train without an error but cannot work, found by reading the model.

Each rule is a function in ``RULES`` (code -> rule). Rules reason with the activation
catalog's rows (output range, derivative, elementwise) and the head table's loss label
formats, never with hand-typed lists of names, so a new catalog or head row is covered.

Example:
    >>> import kerasact
    >>> model = kerasact.build_model("binary", 4, hidden=[(25, "linear"), (15, "relu")])
    >>> [f.code for f in kerasact.lint(model)]
    ['linear-collapse']
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from kerasact import activations, collapse, heads

SATURATING_DEPTH = 4  # this many saturating hidden layers in one stack earn a warning
SATURATION_X = 10.0  # an activation saturates if its slope at +-SATURATION_X is below ...
SATURATION_SLOPE = 1e-2  # ... this on both sides (sigmoid: 4.5e-5; relu: 1 on the right)
INPUT_SCALE_LIMIT = 10.0  # a feature whose |mean| or std exceeds this wants normalize=X
SCALING_LAYERS = {"Normalization", "Rescaling", "BatchNormalization", "LayerNormalization"}
# The head table's label formats, grouped by what the loss expects of the output.
LOSS_FAMILY = {"values": "values", "binary": "binary", "multi_hot": "binary",
               "sparse": "categorical", "one_hot": "categorical"}
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_LOSSES = {name: (option.cls, LOSS_FAMILY[option.labels])
           for head in heads.HEADS.values() for name, option in head.losses.items()}


class LintWarning(UserWarning):
    """Issued by ``build_model`` for every lint finding; filter it with this class."""


@dataclass(frozen=True)
class Finding:
    """One problem ``lint`` found: which rule, where, what goes wrong, and how to fix it."""

    code: str  # a key of RULES
    layer: str | None  # the layer at fault, or None for the model as a whole
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.code} [{self.layer or 'model'}]: {self.message} Fix: {self.fix}"


@dataclass(frozen=True, eq=False)
class Facts:
    """What the rules need to know about a model, read once."""

    model: keras.Model
    sites: list[tuple[str, activations.Activation]]  # (layer, activation) of Dense/Activation
    units: int  # output width
    loss: str | None  # the loss's Keras name, None when uncompiled or not a head-table loss
    family: str | None  # LOSS_FAMILY value of the loss
    from_logits: bool
    X: np.ndarray | None
    y: np.ndarray | None

    @property
    def y_span(self) -> tuple[float, float]:
        return float(np.min(self.y)), float(np.max(self.y))


Problems = list[tuple[str | None, str]]  # (layer at fault, message) for each problem found


@dataclass(frozen=True)
class Rule:
    """One row of ``RULES``: a check over the model's facts and the advice for what it finds."""

    check: Callable[[Facts], Problems]
    fix: str


def _row(layer: Any) -> activations.Activation | None:
    try:
        return activations.get(layer.get_config().get("activation"))
    except (ValueError, TypeError):  # custom callables are outside the catalog
        return None


def _loss(model: keras.Model) -> tuple[str | None, str | None, bool]:
    loss = model.loss if getattr(model, "compiled", False) else None
    # Keras accepts a Loss object, a name or a loss function; the last two go by name.
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", None)
    name = heads.LOSS_ALIASES.get(name, name)
    for key, (cls, family) in _LOSSES.items():
        if key == name or type(loss) is cls:
            config = loss.get_config() if isinstance(loss, keras.losses.Loss) else {}
            return key, family, bool(config.get("from_logits", False))
    return None, None, False


def _facts(model: keras.Model, X: Any, y: Any) -> Facts:
    if not getattr(model, "built", False):
        raise ValueError(f"Argument 'model' ({model.name!r}) must be built (start it with "
                         "keras.Input) before lint can read its layers.")
    sites = [(layer.name, _row(layer)) for layer in model.layers
             if type(layer).__name__ in ("Dense", "Activation")]
    sites = [(name, row) for name, row in sites if row is not None]
    loss, family, from_logits = _loss(model)
    arrays = [None if v is None else np.asarray(v, np.float64) for v in (X, y)]
    return Facts(model, sites, int(model.outputs[0].shape[-1]), loss, family, from_logits, *arrays)


def _is_probability(row: activations.Activation) -> bool:
    return row.output_range[0] >= 0.0 and row.output_range[1] <= 1.0


def _linear_collapse(f: Facts) -> Problems:
    plan = collapse.plan_fold(f.model)
    return [(run.layers[0], f"Dense layers {list(run.layers)} have no non-linearity between "
             "them: they compute one linear map, so the stack collapses to a single layer. "
             f"fold_linear merges them into one Dense ({run.params_before} -> "
             f"{run.params_after} parameters).") for run in plan.runs
            ] + [(dense, f"Dense {dense!r} is linear and only affine layers (from {between!r} "
                  "on) separate it from the next Dense: at inference they are one linear map "
                  "(fold_linear refuses to merge across them).") for dense, between in plan.blocked]


def _on_output(applies: Callable[[Facts, activations.Activation], bool], message: str
               ) -> Callable[[Facts], Problems]:
    """A check of the output layer; ``message`` is formatted with ``f`` (Facts) and ``row``."""
    def check(f: Facts) -> Problems:
        name, row = f.sites[-1]
        return [(name, message.format(f=f, row=row))] if applies(f, row) else []
    return check


def _saturates(row: activations.Activation) -> bool:
    if row.derivative is None:  # softmax-like rows: not elementwise, never hidden activations
        return False
    slopes = row.derivative(np.array([-SATURATION_X, SATURATION_X]))
    return bool(np.all(np.abs(slopes) < SATURATION_SLOPE))


def _vanishing_gradient(f: Facts) -> Problems:
    hidden = [(name, row) for name, row in f.sites[:-1] if _saturates(row)]
    if len(hidden) < SATURATING_DEPTH:
        return []
    grid = np.linspace(-SATURATION_X, SATURATION_X, 2001)
    gain = float(np.prod([row.derivative(grid).max() for _, row in hidden]))
    return [(hidden[0][0], f"{len(hidden)} hidden layers use saturating activations "
             f"({sorted({row.name for _, row in hidden})}): their slopes vanish for large inputs "
             f"and multiply to at most {gain:.3g}, so early layers barely learn.")]


def _unscaled_inputs(f: Facts) -> Problems:
    kinds = [type(layer).__name__ for layer in f.model.layers]
    before_dense = kinds[:kinds.index("Dense")] if "Dense" in kinds else kinds
    if f.X is None or f.X.ndim != 2 or set(before_dense) & SCALING_LAYERS:
        return []
    scale = np.maximum(np.abs(f.X.mean(axis=0)), f.X.std(axis=0))
    return [] if scale.max() <= INPUT_SCALE_LIMIT else [
        (None, f"Feature {int(scale.argmax())} has mean/spread {scale.max():.3g} and no "
         "normalisation layer precedes the first Dense: it starts saturated or with huge "
         "gradients.")]


RULES: dict[str, Rule] = {
    "linear-collapse": Rule(
        _linear_collapse,
        "Give the hidden layer a non-linear activation such as 'relu', or remove it."),
    "softmax-binary-loss": Rule(_on_output(
        lambda f, row: f.family == "binary" and not row.elementwise and _is_probability(row),
        "{row.name} output (rows sum to 1) trained with {f.loss}, which scores each unit as an "
        "independent yes/no."),
        "Use problem='multilabel' (sigmoid units) for independent labels, or a categorical "
        "cross-entropy for one label per sample."),
    "sigmoid-categorical-loss": Rule(_on_output(
        lambda f, row: f.family == "categorical" and row.elementwise and _is_probability(row),
        "{row.name} output ({f.units} independent units) trained with {f.loss}, which expects "
        "one distribution over the classes."),
        "Use a softmax output (problem='multiclass') with this loss, or a binary cross-entropy "
        "for independent labels."),
    "constant-output": Rule(_on_output(
        lambda f, row: not row.elementwise and f.units == 1,
        "{row.name} over a single unit normalises it against itself: the output is the same "
        "constant for every input."),
        "Use one sigmoid unit (problem='binary') or one unit per class."),
    "missing-from-logits": Rule(_on_output(
        lambda f, row: f.family in ("binary", "categorical") and not f.from_logits
        and not _is_probability(row),
        "{f.loss} expects probabilities, but the {row.name} output ranges over "
        "{row.output_range}: Keras clips it into [0, 1] and the gradient vanishes outside."),
        "Pass logits=True to build_model (the loss gets from_logits=True), or use the head's "
        "probability activation."),
    "double-squashing": Rule(_on_output(
        lambda f, row: f.from_logits and _is_probability(row),
        "{f.loss} has from_logits=True but the {row.name} output is already a probability: the "
        "loss squashes it a second time, so predictions can never reach 0 or 1."),
        "Make the output layer linear (build_model(..., logits=True)) or drop from_logits."),
    "output-range": Rule(_on_output(
        lambda f, row: f.family == "values" and f.y is not None
        and (f.y.min() < row.output_range[0] or f.y.max() > row.output_range[1]),
        "Targets span [{f.y_span[0]:.3g}, {f.y_span[1]:.3g}] but the {row.name} output can only "
        "reach {row.output_range}."),
        "Use a linear output for regression (the head table's default)."),
    "vanishing-gradient": Rule(
        _vanishing_gradient,
        "Use 'relu' (or another non-saturating activation) in hidden layers, or fewer of them."),
    "unscaled-inputs": Rule(_unscaled_inputs, "Pass normalize=X_train to build_model."),
}


def lint(model: keras.Model, X: Any = None, y: Any = None, *,
         select: Iterable[str] | None = None) -> list[Finding]:
    """Check a built model (and, optionally, its training data) against every rule in ``RULES``.

    Args:
        model: a built Keras model; loss rules need it compiled.
        X: training features, for data rules (input scale).
        y: training targets, for data rules (targets outside the output's range).
        select: codes of the rules to run (default: all).

    Returns:
        The findings, rule by rule in ``RULES`` order; empty when nothing is wrong.

    Example:
        >>> import kerasact
        >>> kerasact.lint(kerasact.build_model("multiclass", 4, n_classes=3))
        []
    """
    codes = list(RULES) if select is None else list(select)
    unknown = sorted(set(codes) - set(RULES))
    if unknown:
        raise ValueError(f"Unknown rule code(s) {unknown} in argument 'select'. "
                         f"Valid options: {sorted(RULES)}.")
    facts = _facts(model, X, y)
    if not facts.sites:
        return []  # no Dense or Activation layer: nothing these rules can read
    return [Finding(code, layer, message, RULES[code].fix)
            for code in codes for layer, message in RULES[code].check(facts)]


def warn(model: keras.Model) -> list[Finding]:
    """Issue a ``LintWarning`` for each finding of ``lint(model)``; return the findings.

    The warning points at the first caller outside kerasact (the user's ``build_model`` line).

    Example:
        >>> import kerasact
        >>> warn(kerasact.build_model("regression", 3))
        []
    """
    findings = lint(model)
    frame, level = sys._getframe(), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    for finding in findings:
        warnings.warn(str(finding), LintWarning, stacklevel=level)
    return findings

