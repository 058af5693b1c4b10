"""The run's verdict: its test score beside a constant predictor's and a linear model's, fit on
the same training rows and scored on the same test rows, so a network that learned less than
the mean (or than least squares) says so instead of passing silently.

Everything is compared in the outputs' layout (`LabelFormatRow.as_outputs`): the constant
predictor is the training rows' column means (the target mean; the class frequencies), the
linear model is ridge regression or logistic regression on the same inputs (a table's columns
imputed with a missing indicator, scaled and one-hot encoded, as the network sees them), and
one scorer per loss family (R² for values, accuracy for probabilities) scores all three.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import r2_score
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from kerasact import tabular
from kerasact.inputs import LABEL_FORMATS
from kerasact.model.layers import TARGET_NAME
from kerasact.problems import ModelHead

MAX_LINEAR_ROWS = 50_000  # the linear model's training rows at most (a sample above): it is a yardstick


def linear_pipeline(estimator: Any, numeric: list[str], categorical: list[str]) -> Pipeline:
    """A linear model on a table's columns: numbers median-imputed with a missing indicator and
    standardised, categories one-hot (unseen ones ignored), as the kerasact model encodes them.

    Example:
        >>> linear_pipeline(Ridge(), ["x"], ["colour"]).steps[-1][0]
        'ridge'
    """
    numbers = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())
    columns = ColumnTransformer([("numbers", numbers, numeric),
                                 ("categories", OneHotEncoder(handle_unknown="ignore"), categorical)])
    return make_pipeline(columns, estimator)


def frame(X: Mapping[str, np.ndarray], schema: tabular.Schema) -> pd.DataFrame:
    """A table model's input columns (`result.split.X_*`) as a DataFrame: floats, and categories as
    str (a missing category stays the category `tabular.MISSING`, as the model sees it).

    Example:
        >>> frame(result.split.X_test, tabular.schema_of(result.model))  # doctest: +SKIP
    """
    table = tabular.to_frame(X, schema)
    categorical = schema.names("categorical")
    table[categorical] = table[categorical].fillna(tabular.MISSING)
    return table


def _r2(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float(r2_score(truth, predicted))


def _binary_accuracy(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean((predicted > 0.5) == (truth > 0.5)))


def _categorical_accuracy(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(predicted.argmax(axis=1) == truth.argmax(axis=1)))


def _ridge(T: np.ndarray) -> tuple[Any, Callable[[Any, Any], np.ndarray]]:
    return Ridge(), lambda fitted, X: np.asarray(fitted.predict(X), np.float64).reshape(-1, T.shape[1])


def _per_label(T: np.ndarray) -> tuple[Any, Callable[[Any, Any], np.ndarray]]:
    """One logistic regression per sigmoid unit: P(1) per column, as the network outputs."""
    model = MultiOutputClassifier(LogisticRegression(max_iter=1000))
    return model, lambda fitted, X: np.column_stack([p[:, -1] for p in fitted.predict_proba(X)])


def _softmax(T: np.ndarray) -> tuple[Any, Callable[[Any, Any], np.ndarray]]:
    def scores(fitted: Any, X: Any) -> np.ndarray:
        out = np.zeros((len(X), T.shape[1]))
        out[:, fitted.classes_.astype(int)] = fitted.predict_proba(X)  # a class absent from training keeps 0
        return out
    return LogisticRegression(max_iter=1000), scores


@dataclass(frozen=True)
class Yardstick:
    """How one loss family is judged: the metric (higher is better), its scorer on outputs-layout
    arrays, the linear model (with how its predictions take the outputs' layout) and how the
    targets are given to it."""

    metric: str
    score: Callable[[np.ndarray, np.ndarray], float]
    linear: Callable[[np.ndarray], tuple[Any, Callable[[Any, Any], np.ndarray]]]
    fit_targets: Callable[[np.ndarray], np.ndarray]


YARDSTICKS: dict[str, Yardstick] = {
    "values": Yardstick("r2", _r2, _ridge, lambda T: T),
    "binary": Yardstick("accuracy", _binary_accuracy, _per_label, lambda T: (T > 0.5).astype(int)),
    "categorical": Yardstick("accuracy", _categorical_accuracy, _softmax, lambda T: T.argmax(axis=1)),
}


@dataclass(frozen=True)
class Verdict:
    """A run's test score beside the references', on the same split (metrics.json's `verdict`).

    Attributes:
        metric: what is compared (`r2`, `accuracy`), computed the same way for all three.
        model: the trained model's test score.
        constant: the constant predictor's (training means / class frequencies).
        linear: the linear model's (ridge / logistic regression); None when it could not be fit.
        linear_model: its name.
        warning: the one line a run prints when the model scores below either; None otherwise.
    """

    metric: str
    model: float
    constant: float
    linear: float | None
    linear_model: str
    warning: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _line(metric: str, model: float, references: dict[str, float | None], fix: str) -> str | None:
    below = {name: value for name, value in references.items() if value is not None and model < value}
    if not below:
        return None
    beaten = " and ".join(f"{name} ({value:.4f})" for name, value in below.items())
    return f"kerasact: test {metric} {model:.4f} is below the {beaten} on the same split: {fix}"


def _fix(model: Any, info: ModelHead) -> str:
    """What to try, by what the model lacks: an unscaled regression target first."""
    scaled = any(layer.name == TARGET_NAME for layer in model.layers)
    if info.head.name == "regression" and not scaled:
        return "learn the target standardised (normalize_target=True), then train longer or compare settings."
    return "train longer (epochs, patience) or compare settings (kerasact search)."


def judge(model: Any, parts: Any, info: ModelHead, predicted: np.ndarray, seed: int = 0) -> Verdict:
    """Score the model, a constant predictor and a linear model on the run's test rows.

    Args:
        model: the trained model.
        parts: the run's split (`TrainResult.split`): inputs and encoded labels.
        info: the model's head as `train` read it.
        predicted: the model's outputs on the test rows (`evaluate` computed them).
        seed: the seed of the linear model's row sample (above `MAX_LINEAR_ROWS`).

    Example:
        >>> judge(result.model, result.split, head_of(result.model), outputs).warning  # doctest: +SKIP
    """
    row = LABEL_FORMATS[info.labels]
    stick = YARDSTICKS[row.family]
    T_train = np.asarray(row.as_outputs(parts.y_train, info.units), np.float64)
    T_test = np.asarray(row.as_outputs(parts.y_test, info.units), np.float64)
    mine = stick.score(T_test, np.asarray(predicted, np.float64))
    constant = stick.score(T_test, np.repeat(T_train.mean(axis=0, keepdims=True), len(T_test), axis=0))
    estimator, predict = stick.linear(T_train)
    name = type(estimator.estimator if isinstance(estimator, MultiOutputClassifier) else estimator).__name__
    linear = _linear_score(model, estimator, predict, stick, parts, T_train, T_test, seed)
    return Verdict(stick.metric, mine, constant, linear, name,
                   _line(stick.metric, mine, {"constant predictor": constant, name: linear}, _fix(model, info)))


def _linear_score(model: Any, estimator: Any, predict: Callable, stick: Yardstick, parts: Any, T_train: np.ndarray,
                  T_test: np.ndarray, seed: int) -> float | None:
    rows = np.arange(len(T_train))
    if len(rows) > MAX_LINEAR_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, MAX_LINEAR_ROWS, replace=False))
    if isinstance(parts.X_train, Mapping):  # a table model's raw columns
        schema = tabular.schema_of(model)
        pipe = linear_pipeline(estimator, schema.names("numeric"), schema.names("categorical"))
        X_train, X_test = frame(parts.X_train, schema).iloc[rows], frame(parts.X_test, schema)
    else:
        pipe, X_train, X_test = make_pipeline(StandardScaler(), estimator), parts.X_train[rows], parts.X_test
    try:
        with warnings.catch_warnings():  # a yardstick's convergence notes are not the run's
            warnings.simplefilter("ignore")
            fitted = pipe.fit(X_train, stick.fit_targets(T_train[rows]))
            return stick.score(T_test, predict(fitted, X_test))
    except ValueError:  # e.g. a label column with one class in the training rows: no linear yardstick
        return None
