"""What the `kerasact.testing` assertions expect of a model, and how they read one.

Expectations come from the model's `kerasact.HEADS` row (units, output activation, the label
format of its loss), the activation catalog (output ranges, the head's output at zero logits)
and `EXPECTATIONS` below, never from branches on problem names; the model is read through
`kerasact.problems` (the one reader of built models) and labels through `LABEL_FORMATS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from kerasact import _errors, activations, problems
from kerasact.inputs import LABEL_FORMATS, validate
from kerasact.problems import ModelHead, compiled_loss


@dataclass(frozen=True)
class Expectation:
    """What a correct model of one problem type satisfies, beyond its head row."""

    row_sum: float | None  # every output row sums to this (one-of-k probabilities), or None
    chance: str  # closed form of the loss of a fresh head's output, for messages
    initial_factor: float  # assert_initial_loss band: loss within this factor of the chance loss


# initial_factor was measured on fresh kerasact models (8 hidden activations x 4/30 features x
# 32/64 rows x 8 seeds): classifiers stayed within 0.56-2.3x of chance (SELU widest), regressors
# 0.23-24x (MSE grows with the square of the outputs' spread). Mis-scaled models (N(0, 1)
# kernels, inputs x100) measured >= 24x for classifiers and >= 2000x for regression.
EXPECTATIONS: dict[str, Expectation] = {
    "regression": Expectation(None, "mean(y**2) for MSE: the loss of predicting 0", 50.0),
    "binary": Expectation(None, "ln 2 = 0.693 for cross-entropy: predicting 0.5", 3.0),
    "multiclass": Expectation(1.0, "ln K for cross-entropy: predicting 1/K per class", 3.0),
    "multilabel": Expectation(None, "ln 2 = 0.693 per label for cross-entropy: predicting 0.5", 3.0),
}

def expectation(head: problems.Head) -> Expectation:
    """The `EXPECTATIONS` row of a head, or a message saying the table lacks it."""
    if head.name not in EXPECTATIONS:
        raise ValueError(f"kerasact.testing has no expectations for problem {head.name!r}; add a "
                         f"row to kerasact.testing._expect.EXPECTATIONS (rows: {sorted(EXPECTATIONS)}).")
    return EXPECTATIONS[head.name]


def read_head(model: keras.Model, problem: str | None) -> ModelHead:
    """The model's head as `kerasact.head_of` reads it, or the row `problem` names."""
    if problem is None:
        try:
            return problems.head_of(model)
        except ValueError as error:
            raise ValueError(f"{error} Pass problem= (one of {sorted(problems.HEADS)}) to the assertion, or "
                             "compile with a keras.losses object (not a string).") from error
    head = problems.get_head(problem)
    try:
        info = problems.head_of(model)
    except ValueError:  # a loss kerasact does not know: trust `problem`, outputs as they are
        return ModelHead(head, problems.output_units(model), None, False)
    return ModelHead(head, info.units, info.loss if info.head is head else None, info.from_logits)


def check_model(model: Any) -> None:
    """Refuse a `model` argument that is not a Keras model, in kerasact's one voice."""
    if not isinstance(model, keras.Model):
        raise _errors.invalid("model", model, "a keras.Model", "build one with kerasact.build_model(...)",
                              kind=TypeError)


def checked(model: keras.Model, info: ModelHead | None, X: Any, y: Any) -> tuple[Any, Any]:
    """`X` and `y` as `kerasact.validate` checks and converts them for the model's loss.

    Labels that cannot fit the head (a binary model given {0, 1, 2}, 1-based labels) are a
    `ValueError` saying the fix, not a passing check or a TensorFlow error. Models whose loss is
    outside the head table (`info.loss` None) are checked as they are.
    """
    if info is None or info.loss is None:
        return X, y
    found = validate(X, y, model=model)
    return found.X, found.y


def label_format(info: ModelHead, y: Any) -> str:
    """The label format of the model's loss (guessed from y's shape for losses kerasact lacks)."""
    if info.loss:
        return info.head.losses[info.loss].labels
    return "sparse" if np.ndim(y) == 1 and info.units > 1 else "values"


def probabilities(model: keras.Model, X: Any, info: ModelHead) -> np.ndarray:
    """Outputs as probabilities or values: the head's link applied when the model gives logits.

    An eager call, as `kerasact.predict` computes it: `predict_on_batch` would trace a
    function for a model the checks call a few times.
    """
    out = keras.ops.convert_to_numpy(model(np.asarray(X, np.float32), training=False))
    return activations.get(info.head.activation).fn(out) if info.from_logits else out


def output_activation(model: keras.Model) -> activations.Activation | None:
    """The catalog row of the activation the last layer applies; None for custom layers."""
    return problems.activation_of(model.layers[-1])


def activation_mismatch(model: keras.Model, info: ModelHead) -> str | None:
    """Why the output layer's activation does not pair with the head, or None when it does."""
    expected = "linear" if info.from_logits else info.head.activation
    row = output_activation(model)
    if row is None or row.name == expected:
        return None
    loss = f"loss {info.loss!r} of " if info.loss else ""
    return (f"the output layer {model.layers[-1].name!r} applies {row.name}, but the {loss}problem "
            f"{info.head.name!r} pairs with a {expected} output"
            f"{' (logits=True)' if info.from_logits else ''}")


def probability_loss(model: keras.Model) -> Callable[[Any, np.ndarray], float]:
    """The compiled loss as a function of (labels, probabilities or values)."""
    loss = compiled_loss(model)
    config = loss.get_config() if isinstance(loss, keras.losses.Loss) else {}
    if config.get("from_logits"):  # compare in probability space, where the chance loss lives
        loss = type(loss).from_config({**config, "from_logits": False})
    return lambda y, p: float(np.mean(keras.ops.convert_to_numpy(loss(y, np.asarray(p, np.float32)))))


def chance_loss(model: keras.Model, info: ModelHead, y: Any) -> float:
    """The loss of a fresh head's output: its activation (from the catalog) of all-zero logits."""
    zeros = np.zeros((len(y), info.units))
    return probability_loss(model)(y, activations.get(info.head.activation).fn(zeros))


def constant_loss(model: keras.Model, info: ModelHead, y: Any) -> float:
    """The loss of the best constant prediction: each output column's mean label."""
    dense = LABEL_FORMATS[label_format(info, y)].as_outputs(np.asarray(y), info.units)
    return probability_loss(model)(y, np.broadcast_to(dense.mean(axis=0), dense.shape))
