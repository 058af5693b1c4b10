"""The problem-type table: one row per problem, giving the output layer, the loss and the metrics.

The output activation, the loss and the metrics of a model are all read from the same
`Head` row, so they cannot disagree: a sigmoid unit is always trained with binary
cross-entropy, a softmax with categorical cross-entropy, a linear output with a
regression loss. Adding a problem type means adding a row to `HEADS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import keras

from kerasact import _errors

LabelFormat = Literal["values", "binary", "sparse", "one_hot", "multi_hot"]


@dataclass(frozen=True)
class LossOption:
    """One loss a head may be trained with.

    Attributes:
        cls: the Keras loss class.
        labels: the label format it expects (`"sparse"` integer indices, `"one_hot"`
            rows, `"binary"` 0/1, `"multi_hot"` 0/1 rows, `"values"`).
    """

    cls: type
    labels: LabelFormat

    def make(self, from_logits: bool = False, **kwargs: Any) -> keras.losses.Loss:
        """A fresh loss; probability losses take `from_logits`, regression losses have none.

        `kwargs` go to the loss class, e.g. `reduction="mean_with_sample_weight"`.
        """
        return self.cls(**kwargs) if self.labels == "values" else self.cls(from_logits=from_logits, **kwargs)


@dataclass(frozen=True)
class Head:
    """A problem type: output units, output activation, loss and metrics.

    Attributes:
        name: the problem type, e.g. `"binary"`.
        activation: output activation when the model outputs probabilities/values.
        count: what the output count means for this problem (for messages).
        min_count: the smallest valid count (classes, labels or targets).
        default_count: the count used when none is given (None: must be given).
        fixed_units: output units regardless of the count (binary: one sigmoid unit
            for two classes); None means one unit per counted class/label/target.
        losses: valid losses by Keras name; the first is the default.
        metrics: builds fresh metrics, called as `metrics(from_logits, labels)`.
    """

    name: str
    activation: str
    count: str
    min_count: int
    default_count: int | None
    fixed_units: int | None
    losses: dict[str, LossOption]
    metrics: Callable[[bool, LabelFormat], list] = field(repr=False)
    description: str = ""

    @property
    def default_loss(self) -> str:
        return next(iter(self.losses))

    @property
    def probabilistic(self) -> bool:
        """True when the head outputs probabilities, so `logits=True` applies."""
        return self.activation != "linear"

    def units(self, count: int | None, arg: str = "n_classes") -> int:
        """Output units for `count` classes/labels/targets, validated against this row.

        Args:
            count: classes, labels or targets (None: the row's default).
            arg: the argument `count` came from, for messages (`n_classes` or `n_outputs`).

        Example:
            >>> HEADS["binary"].units(2)
            1
        """
        count = self.default_count if count is None else count
        if count is None:
            raise ValueError(
                f"problem={self.name!r} needs n_classes (the number of {self.count}); got None."
            )
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError(f"{arg}={count!r} ({type(count).__name__}) is not valid: expected an int.")
        if count < self.min_count or (self.fixed_units and count != self.min_count):
            valid = f"exactly {self.min_count}" if self.fixed_units else f">= {self.min_count}"
            hint = " Use problem='multiclass' for more than 2 classes." if self.fixed_units else ""
            raise ValueError(
                f"{arg}={count} is not valid: problem={self.name!r} needs {valid} {self.count}.{hint}"
            )
        return self.fixed_units or count

    def loss_option(self, loss: str | None) -> tuple[str, LossOption]:
        """Normalise a loss identifier for this head; refuse losses that do not pair with it."""
        name = self.default_loss if loss is None else LOSS_ALIASES.get(str(loss).lower(), loss)
        if name not in self.losses:
            raise ValueError(
                f"loss={loss!r} does not pair with problem={self.name!r} "
                f"({self.activation} output). Valid options: {sorted(self.losses)}."
                + _errors.did_you_mean(loss, self.losses)
            )
        return name, self.losses[name]


def _regression_metrics(from_logits: bool, labels: LabelFormat) -> list:
    return [keras.metrics.MeanAbsoluteError(name="mae"), keras.metrics.RootMeanSquaredError(name="rmse")]


def _binary_metrics(from_logits: bool, labels: LabelFormat) -> list:
    # With logits the decision boundary is 0, not 0.5.
    return [
        keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0 if from_logits else 0.5),
        keras.metrics.AUC(name="auc", from_logits=from_logits),
    ]


def _multiclass_metrics(from_logits: bool, labels: LabelFormat) -> list:
    # argmax of logits equals argmax of softmax, so accuracy needs no from_logits flag.
    cls = keras.metrics.SparseCategoricalAccuracy if labels == "sparse" else keras.metrics.CategoricalAccuracy
    return [cls(name="accuracy")]


def _multilabel_metrics(from_logits: bool, labels: LabelFormat) -> list:
    return [
        keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0 if from_logits else 0.5),
        keras.metrics.AUC(name="auc", multi_label=True, from_logits=from_logits),
    ]


HEADS: dict[str, Head] = {
    "regression": Head(
        name="regression", activation="linear", count="targets", min_count=1, default_count=1,
        fixed_units=None,
        losses={
            "mean_squared_error": LossOption(keras.losses.MeanSquaredError, "values"),
            "mean_absolute_error": LossOption(keras.losses.MeanAbsoluteError, "values"),
            "huber": LossOption(keras.losses.Huber, "values"),
            "log_cosh": LossOption(keras.losses.LogCosh, "values"),
        },
        metrics=_regression_metrics,
        description="continuous targets: linear output, mean squared error",
    ),
    "binary": Head(
        name="binary", activation="sigmoid", count="classes", min_count=2, default_count=2,
        fixed_units=1,
        losses={
            "binary_crossentropy": LossOption(keras.losses.BinaryCrossentropy, "binary"),
            "binary_focal_crossentropy": LossOption(keras.losses.BinaryFocalCrossentropy, "binary"),
        },
        metrics=_binary_metrics,
        description="two classes: one sigmoid unit, binary cross-entropy",
    ),
    "multiclass": Head(
        name="multiclass", activation="softmax", count="classes", min_count=2, default_count=None,
        fixed_units=None,
        losses={
            "sparse_categorical_crossentropy": LossOption(keras.losses.SparseCategoricalCrossentropy, "sparse"),
            "categorical_crossentropy": LossOption(keras.losses.CategoricalCrossentropy, "one_hot"),
            "categorical_focal_crossentropy": LossOption(keras.losses.CategoricalFocalCrossentropy, "one_hot"),
        },
        metrics=_multiclass_metrics,
        description="one of k classes: k softmax units, categorical cross-entropy",
    ),
    "multilabel": Head(
        name="multilabel", activation="sigmoid", count="labels", min_count=1, default_count=None,
        fixed_units=None,
        losses={
            "binary_crossentropy": LossOption(keras.losses.BinaryCrossentropy, "multi_hot"),
            "binary_focal_crossentropy": LossOption(keras.losses.BinaryFocalCrossentropy, "multi_hot"),
        },
        metrics=_multilabel_metrics,
        description="any number of k labels per sample: k sigmoid units, binary cross-entropy per label",
    ),
}

PROBLEM_ALIASES: dict[str, str] = {
    "regressor": "regression", "continuous": "regression",
    "binary_classification": "binary", "classification": "multiclass",
    "multi_class": "multiclass", "multi-class": "multiclass",
    "multi_label": "multilabel", "multi-label": "multilabel",
}

LOSS_ALIASES: dict[str, str] = {
    "mse": "mean_squared_error", "mae": "mean_absolute_error", "logcosh": "log_cosh",
    "bce": "binary_crossentropy", "cce": "categorical_crossentropy",
    "sparse_cce": "sparse_categorical_crossentropy",
}


def get(problem: str | Head) -> Head:
    """Normalise a problem-type identifier to its `Head` row.

    Example:
        >>> get("Multi-Class").activation
        'softmax'
    """
    if isinstance(problem, Head):
        return problem
    if not isinstance(problem, str):
        raise TypeError(f"problem must be a str; got {problem!r}. Valid options: {sorted(HEADS)}.")
    key = problem.strip().lower()
    key = PROBLEM_ALIASES.get(key, key)
    if key not in HEADS:
        raise ValueError(f"Unknown problem={problem!r}. Valid options: {sorted(HEADS)}."
                         + _errors.did_you_mean(key, HEADS))
    return HEADS[key]

