"""Model lint: mistakes that train without an error but cannot work, found by reading the model.

Each rule is a function in `RULES` (code -> rule). Rules reason with the activation
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

# The checks live in _lint_rules; its thresholds stay importable from here, where they always were.
from kerasact.diagnose._lint_rules import (
    INPUT_SCALE_LIMIT,
    SATURATING_DEPTH,
    SATURATION_SLOPE,
    SATURATION_X,
    SCALING_LAYERS,
    Facts,
    Problems,
    is_probability,
    linear_collapse,
    on_output,
    read_facts,
    unscaled_inputs,
    vanishing_gradient,
)

__all__ = [
    "INPUT_SCALE_LIMIT", "RULES", "SATURATING_DEPTH", "SATURATION_SLOPE",
    "SATURATION_X", "SCALING_LAYERS", "Finding", "LintWarning", "Rule", "lint", "warn",
]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # kerasact/


class LintWarning(UserWarning):
    """Issued by `build_model` for every lint finding; filter it with this class."""


@dataclass(frozen=True)
class Finding:
    """One problem `lint` found: which rule, where, what goes wrong, and how to fix it."""

    code: str  # a key of RULES
    layer: str | None  # the layer at fault, or None for the model as a whole
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.code} [{self.layer or 'model'}]: {self.message} Fix: {self.fix}"


@dataclass(frozen=True)
class Rule:
    """One row of `RULES`: a check over the model's facts and the advice for what it finds."""

    check: Callable[[Facts], Problems]
    fix: str


RULES: dict[str, Rule] = {
    "linear-collapse": Rule(
        linear_collapse,
        "Give the hidden layer a non-linear activation such as 'relu', or remove it."),
    "softmax-binary-loss": Rule(on_output(
        lambda f, row: f.family == "binary" and not row.elementwise and is_probability(row),
        "{row.name} output (rows sum to 1) trained with {f.loss}, which scores each unit as an "
        "independent yes/no."),
        "Use problem='multilabel' (sigmoid units) for independent labels, or a categorical "
        "cross-entropy for one label per sample."),
    "sigmoid-categorical-loss": Rule(on_output(
        lambda f, row: f.family == "categorical" and row.elementwise and is_probability(row),
        "{row.name} output ({f.units} independent units) trained with {f.loss}, which expects "
        "one distribution over the classes."),
        "Use a softmax output (problem='multiclass') with this loss, or a binary cross-entropy "
        "for independent labels."),
    "constant-output": Rule(on_output(
        lambda f, row: not row.elementwise and f.units == 1,
        "{row.name} over a single unit normalises it against itself: the output is the same "
        "constant for every input."),
        "Use one sigmoid unit (problem='binary') or one unit per class."),
    "missing-from-logits": Rule(on_output(
        lambda f, row: f.family in ("binary", "categorical") and not f.from_logits
        and not is_probability(row),
        "{f.loss} expects probabilities, but the {row.name} output ranges over "
        "{row.output_range}: Keras clips it into [0, 1] and the gradient vanishes outside."),
        "Pass logits=True to build_model (the loss gets from_logits=True), or use the head's "
        "probability activation."),
    "double-squashing": Rule(on_output(
        lambda f, row: f.from_logits and is_probability(row),
        "{f.loss} has from_logits=True but the {row.name} output is already a probability: the "
        "loss squashes it a second time, so predictions can never reach 0 or 1."),
        "Make the output layer linear (build_model(..., logits=True)) or drop from_logits."),
    "output-range": Rule(on_output(
        lambda f, row: f.family == "values" and f.y is not None
        and (f.y.min() < row.output_range[0] or f.y.max() > row.output_range[1]),
        "Targets span [{f.y_span[0]:.3g}, {f.y_span[1]:.3g}] but the {row.name} output can only "
        "reach {row.output_range}."),
        "Use a linear output for regression (the head table's default)."),
    "vanishing-gradient": Rule(
        vanishing_gradient,
        "Use 'relu' (or another non-saturating activation) in hidden layers, or fewer of them."),
    "unscaled-inputs": Rule(unscaled_inputs, "Pass normalize=X_train to build_model."),
}


def lint(model: keras.Model, X: Any = None, y: Any = None, *,
         select: Iterable[str] | None = None) -> list[Finding]:
    """Check a built model (and, optionally, its training data) against every rule in `RULES`.

    Args:
        model: a built Keras model; loss rules need it compiled.
        X: training features, for data rules (input scale).
        y: training targets, for data rules (targets outside the output's range).
        select: codes of the rules to run (default: all).

    Returns:
        The findings, rule by rule in `RULES` order; empty when nothing is wrong.

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
    facts = read_facts(model, X, y)
    if not facts.sites:
        return []  # no Dense or Activation layer: nothing these rules can read
    return [Finding(code, layer, message, RULES[code].fix)
            for code in codes for layer, message in RULES[code].check(facts)]


def warn(model: keras.Model) -> list[Finding]:
    """Issue a `LintWarning` for each finding of `lint(model)`; return the findings.

    The warning points at the first caller outside kerasact (the user's `build_model` line).

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
