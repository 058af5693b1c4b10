"""Baselines for `kerasact train`: scikit-learn models fit on the same training rows as the
kerasact model and scored on the same test rows, by the metrics kerasact reports.

The rows are `result.split`, the model inputs `train` actually used: numeric columns with NaN
where missing, categorical columns as strings with `tabular.MISSING` for a missing value. The
linear baseline gets them imputed (with a missing indicator, as the kerasact model does),
scaled and one-hot encoded; histogram gradient boosting takes NaN and categories natively.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, log_loss, mean_absolute_error, mean_squared_error, r2_score, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OrdinalEncoder

from kerasact import report, tabular
from kerasact.problems import head_of
from kerasact.training import TrainResult, runs
from kerasact.training.verdict import frame, linear_pipeline

MAX_CATEGORIES = 255  # histogram gradient boosting takes at most this many categories per column


@dataclass(frozen=True)
class Baseline:
    """A reference model: its name in the table and how to make it for given columns."""

    name: str
    make: Callable[[list[str], list[str], int], Pipeline]  # (numeric, categorical, seed) -> unfitted pipeline


def _linear(estimator: Callable[[int], Any]) -> Callable[[list[str], list[str], int], Pipeline]:
    return lambda numeric, categorical, seed: linear_pipeline(estimator(seed), numeric, categorical)


def _boosted(estimator: type) -> Callable[[list[str], list[str], int], Pipeline]:
    def make(numeric: list[str], categorical: list[str], seed: int) -> Pipeline:
        codes = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, max_categories=MAX_CATEGORIES)
        columns = ColumnTransformer([("numbers", "passthrough", numeric), ("categories", codes, categorical)])
        mask = [False] * len(numeric) + [True] * len(categorical)  # the transformer's output order
        return make_pipeline(columns, estimator(categorical_features=mask if categorical else None, random_state=seed))
    return make


_CLASSIFIERS = (Baseline("LogisticRegression", _linear(lambda seed: LogisticRegression(max_iter=1000))),
                Baseline("HistGradientBoosting", _boosted(HistGradientBoostingClassifier)))
# problem -> its baselines; a problem without a row is reported without baselines
BASELINES: dict[str, tuple[Baseline, ...]] = {
    "binary": _CLASSIFIERS,
    "multiclass": _CLASSIFIERS,
    "regression": (Baseline("Ridge", _linear(lambda seed: Ridge())),
                   Baseline("HistGradientBoosting", _boosted(HistGradientBoostingRegressor))),
}


def _classes(scores: np.ndarray) -> np.ndarray:
    """Predicted class indices: one sigmoid column thresholded at 0.5, else the argmax."""
    return (scores[:, 0] > 0.5).astype(int) if scores.shape[1] == 1 else scores.argmax(axis=1)


def _log_loss(y: np.ndarray, scores: np.ndarray) -> float:
    k = max(scores.shape[1], 2)
    return float(log_loss(y, scores[:, 0] if scores.shape[1] == 1 else scores, labels=list(range(k))))


# kerasact metric name -> how scikit-learn scores it from (y, scores): scores in `kerasact.predict`'s form
SCORERS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "accuracy": lambda y, s: float(accuracy_score(y, _classes(s))),
    "roc_auc": lambda y, s: float(roc_auc_score(y, s[:, 0])),
    "auc": lambda y, s: float(roc_auc_score(y, s[:, 0])),  # Keras's AUC approximates ROC AUC
    "mae": lambda y, s: float(mean_absolute_error(y, s[:, 0])),
    "rmse": lambda y, s: float(np.sqrt(mean_squared_error(y, s[:, 0]))),
    "r2": lambda y, s: float(r2_score(y, s[:, 0])),
    "log_loss": lambda y, s: _log_loss(y, s),
}
# compiled loss (head-table name) -> its scikit-learn counterpart, for the `loss` row
LOSSES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "binary_crossentropy": _log_loss,
    "sparse_categorical_crossentropy": _log_loss,
    "mean_squared_error": lambda y, s: float(mean_squared_error(y, s[:, 0])),
}


def _scores(fitted: Pipeline, X: pd.DataFrame, problem: str, units: int) -> np.ndarray:
    """Outputs as `kerasact.predict` gives them: P(class 1), (n, k) probabilities, or values."""
    if problem == "regression":
        return np.asarray(fitted.predict(X), dtype=np.float64).reshape(len(X), -1)
    proba, scores = fitted.predict_proba(X), np.zeros((len(X), max(units, 2)))
    scores[:, fitted.classes_.astype(int)] = proba  # a class absent from the training rows keeps 0
    return scores[:, 1:] if units == 1 else scores


def compare(result: TrainResult, seed: int = 0) -> tuple[list[str], list[tuple[str, list[float | None]]]]:
    """The baselines' names and rows `(metric, [kerasact, baseline...])` on the run's test rows.

    A baseline that cannot be fit shows None (and a warning says why); a run without rows in
    memory (`result.split` None: a streamed CSV) has no baselines.

    Example:
        >>> names, rows = compare(kerasact.train_table("penguins.csv", "species"))  # doctest: +SKIP
    """
    info, split = head_of(result.model), result.split
    schema, baselines = tabular.schema_of(result.model), BASELINES.get(info.head.name, ())
    # With a held-out log-loss, the compiled loss (label-smoothed, weighted) is no yardstick: left out.
    rows = [(name, [value]) for name, value in result.metrics.items()
            if not (name == "loss" and "log_loss" in result.metrics)]
    if not baselines or split is None:
        return [], rows
    problem = info.head.name
    numeric, categorical = schema.names("numeric"), schema.names("categorical")
    X_train, X_test = frame(split.X_train, schema), frame(split.X_test, schema)
    y_train, y_test = (np.asarray(y).reshape(-1).astype(np.float64 if problem == "regression" else np.int64)
                       for y in (split.y_train, split.y_test))
    scorers = dict(SCORERS) | ({"loss": LOSSES[info.loss]} if info.loss in LOSSES else {})
    scored = []
    for baseline in baselines:
        try:
            with warnings.catch_warnings():  # convergence and unseen-category notes of a reference model
                warnings.simplefilter("ignore")
                fitted = baseline.make(numeric, categorical, seed).fit(X_train, y_train)
                scores = _scores(fitted, X_test, problem, info.units)
                scored.append({name: score(y_test, scores) for name, score in scorers.items()
                               if name in result.metrics})
        except ValueError as err:
            warnings.warn(f"baseline {baseline.name} could not be fit: {err}", UserWarning, stacklevel=2)
            scored.append({})
    return [b.name for b in baselines], [(name, [*values, *(s.get(name) for s in scored)]) for name, values in rows]


def table(result: TrainResult, seed: int = 0, compared: tuple[list[str], list] | None = None) -> str:
    """The printable comparison: metric, kerasact, then one column per baseline (`compared`:
    `compare`'s answer when the caller already has it)."""
    names, rows = compared if compared is not None else compare(result, seed)
    split, heads = result.split, ["kerasact", *names]
    width = max([len("metric"), *(len(metric) for metric, _ in rows)])
    if split is None:
        title = "test metrics (a streamed run: no baselines, its rows stay on disk)"
    else:
        title = f"test metrics on {len(split.y_test)} held-out rows"
        title += f" (baselines fit on the same {len(split.y_train)} training rows)" if names else ""
    lines = [f"\n{title}",
             f"{'metric':<{width}}  " + "  ".join(f"{h:>{max(len(h), 9)}}" for h in heads)]
    for metric, values in rows:
        cells = [f"{v:.4f}" if v is not None else "-" for v in values]
        lines.append(f"{metric:<{width}}  " + "  ".join(f"{c:>{max(len(h), 9)}}" for c, h in zip(cells, heads)))
    return "\n".join(lines)


def save(result: TrainResult, compared: tuple[list[str], list]) -> None:
    """Keep the comparison in the run directory (`baselines.json`) for its report page."""
    names, rows = compared
    if result.run_dir is None or result.split is None or not names:
        return
    runs.write_json(result.run_dir / report.BASELINES_FILE, {
        "names": names, "rows": [[metric, values] for metric, values in rows],
        "train_rows": len(result.split.y_train), "test_rows": len(result.split.y_test)})
