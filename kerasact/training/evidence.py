"""What a run's report needs from the model and its test rows, computed once when the run ends
(the report itself then reads files only, with no TensorFlow): the test rows' outputs and
targets (`test_outputs.npz`), the permutation importance of the raw columns, the worst test rows
and the model's layers.

Permutation importance is scikit-learn's `permutation_importance` on the model that takes raw
rows: each input column (a table's raw column, or a feature of an array) shuffled `REPEATS`
times on at most `MAX_ROWS` test rows, scored by the run's verdict metric (R² or accuracy, in
the outputs' layout), so "how much the test score falls without this column" reads in the units
of the verdict beside it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from kerasact import tabular
from kerasact.inputs import LABEL_FORMATS
from kerasact.problems import ModelHead
from kerasact.report import OUTPUTS_FILE
from kerasact.runtime import outputs
from kerasact.training.verdict import YARDSTICKS

REPEATS = 5  # shuffles per column: the spread shown beside each mean
MAX_CALLS = 300  # predictions the importance makes at most (columns × shuffles): a wide table shuffles fewer times
MAX_ROWS = 2000  # test rows the importance reads at most (a seeded sample above)
MAX_COLUMNS = 200  # columns ranked at most; wider inputs (pixels) are not a table to rank
WORST = 10  # the worst test rows listed
EPS = 1e-12


class _RawRows:
    """The trained model as scikit-learn's `permutation_importance` sees it: a fitted estimator
    whose rows are a DataFrame of raw columns (a table) or an array (features)."""

    def __init__(self, model: keras.Model, info: ModelHead, table: bool) -> None:
        self.model, self.info, self.table = model, info, table

    def fit(self, X: Any, y: Any) -> _RawRows:  # already trained; scikit-learn's API asks for it
        return self

    def predict(self, X: Any) -> np.ndarray:
        rows = {c: X[c].to_numpy() for c in X.columns} if self.table else np.asarray(X, np.float32)
        # The traced graph, not XLA: a few dozen calls of one size would not repay a compilation.
        return np.asarray(outputs(self.model, rows, self.info, xla=False), np.float64)


def _rows_frame(X: Any) -> pd.DataFrame:
    """The test inputs as a DataFrame of the model's input columns (`feature i` for an array's)."""
    if isinstance(X, Mapping):
        return pd.DataFrame({name: np.asarray(values).reshape(len(values)) for name, values in X.items()})
    X = np.asarray(X)
    return pd.DataFrame(X.reshape(len(X), -1), columns=[f"feature {j}" for j in range(int(np.prod(X.shape[1:])))])


def _shown_names(model: keras.Model, keys: list[str]) -> list[str]:
    """A table model's input keys as the table names its columns (Keras-safe names back to "Culmen
    Length (mm)"); an array's feature names as they are."""
    if not tabular.has_schema(model):
        return keys
    back = {safe: name for name, safe in tabular.layer_names(tabular.schema_of(model)).items()}
    return [back.get(key, key) for key in keys]


def importance(model: keras.Model, X: Any, T: np.ndarray, info: ModelHead, *, seed: int) -> dict[str, Any] | None:
    """Permutation importance of each input column on the test rows; None for an input that is
    not a table of columns (images, sequences) or wider than `MAX_COLUMNS`.

    The rows are sampled here (seeded, at most `MAX_ROWS`) rather than by `max_samples`:
    scikit-learn scores the unshuffled baseline on every row but the shuffles on the sample, which
    would shift every column's drop by the sample's own score difference.

    Example:
        >>> importance(model, result.split.X_test, T_test, head_of(model), seed=0)  # doctest: +SKIP
    """
    table = isinstance(X, Mapping)
    if not table and (np.asarray(X).ndim != 2 or np.asarray(X).shape[1] > MAX_COLUMNS):
        return None
    if table and len(X) > MAX_COLUMNS:
        return None
    stick = YARDSTICKS[LABEL_FORMATS[info.labels].family]
    frame = _rows_frame(X) if table else np.asarray(X, np.float32)
    names = _shown_names(model, list(frame.columns)) if table else [f"feature {j}" for j in range(frame.shape[1])]
    rows = np.arange(len(T))
    if len(rows) > MAX_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, MAX_ROWS, replace=False))
    sample = frame.iloc[rows] if table else frame[rows]
    repeats = max(1, min(REPEATS, MAX_CALLS // max(len(names), 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = permutation_importance(_RawRows(model, info, table), sample, T[rows],
                                       scoring=lambda est, part, truth: stick.score(truth, est.predict(part)),
                                       n_repeats=repeats, random_state=seed)
    order = np.argsort(-np.nan_to_num(found.importances_mean, nan=-np.inf), kind="stable")
    return {"metric": stick.metric, "repeats": repeats, "rows": len(rows),
            "columns": [{"column": str(names[j]), "mean": float(found.importances_mean[j]),
                         "std": float(found.importances_std[j])} for j in order]}


def row_losses(T: np.ndarray, P: np.ndarray, family: str) -> np.ndarray:
    """Each row's loss in the outputs' layout: squared error (values), summed binary cross-entropy
    (sigmoid units) or the negative log-probability of the true class (softmax).

    Example:
        >>> row_losses(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]]), "categorical").round(3)
        array([0.223])
    """
    P = np.asarray(P, np.float64)
    if family == "values":
        return ((T - P) ** 2).sum(axis=1)
    P = np.clip(P, EPS, 1 - EPS)
    if family == "binary":
        return -(T * np.log(P) + (1 - T) * np.log(1 - P)).sum(axis=1)
    return -(T * np.log(P)).sum(axis=1)


def _shown(value: Any) -> Any:
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("utf-8", "replace")
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    return value.item() if isinstance(value, np.generic) else value


def worst_rows(model: keras.Model, X: Any, T: np.ndarray, P: np.ndarray, family: str,
               classes: list[str] | None, rows: np.ndarray | None = None) -> list[dict[str, Any]]:
    """The `WORST` test rows by loss: their place in the data (`rows`: each test row's; else its
    place among the test rows), raw values (a table's columns by its own names, a missing category
    blank), the truth and the prediction as a user reads them."""
    losses = row_losses(T, P, family)
    frame = tabular.to_frame(X, tabular.schema_of(model)) if isinstance(X, Mapping) and tabular.has_schema(model) \
        else _rows_frame(X)
    if frame.shape[1] > MAX_COLUMNS:  # pixels or a sequence, not columns a person reads: the index is enough
        frame = frame.iloc[:, :0]
    found = []
    for i in np.argsort(-losses, kind="stable")[:WORST]:
        if family == "categorical":
            truth, guess = classes[int(T[i].argmax())], classes[int(P[i].argmax())]
            told = f"{guess} ({P[i].max():.2f})"
            told += f"; {truth} {P[i][int(T[i].argmax())]:.2f}" if guess != truth else ""
        elif family == "binary" and classes is not None and T.shape[1] == 1:
            truth, guess = classes[int(T[i, 0] > 0.5)], classes[int(P[i, 0] > 0.5)]
            told = f"{guess} (P({classes[1]}) = {P[i, 0]:.2f})"
        else:
            truth = ", ".join(f"{v:.6g}" for v in T[i])
            told = ", ".join(f"{v:.6g}" for v in P[i])
        found.append({"row": int(i if rows is None else rows[i]), "loss": float(losses[i]), "truth": str(truth),
                      "prediction": told, "values": {str(c): _shown(v) for c, v in frame.iloc[int(i)].items()}})
    return found


def layers(model: keras.Model) -> dict[str, Any]:
    """The model's layers (name, type, output shape, parameters) and its parameter counts."""
    rows = []
    for layer in model.layers:
        try:
            shape = tuple(layer.output.shape)
        except (AttributeError, ValueError):  # not called yet, or called more than once (a shared layer)
            shape = None
        rows.append({"name": layer.name, "type": type(layer).__name__, "output": str(shape) if shape else "",
                     "params": int(layer.count_params()) if layer.built else 0})
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    return {"layers": rows, "params": int(model.count_params()), "trainable": trainable}


def gather(run_dir: Path, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
    """`collect`, or None with a warning when it fails: what a report reads must never fail a run
    that has trained (its page then shows the metrics without the test rows' evidence)."""
    try:
        return collect(run_dir, *args, **kwargs)
    except Exception as err:
        warnings.warn(f"the report's test-row evidence was not gathered ({type(err).__name__}: {err}); the "
                      f"run and its metrics are unaffected.", UserWarning, stacklevel=2)
        return None


def collect(run_dir: Path, model: keras.Model, parts: Any, predicted: np.ndarray, info: ModelHead,
            codec: Any, *, seed: int, rows: np.ndarray | None = None) -> dict[str, Any]:
    """Write `test_outputs.npz` into `run_dir`; return metrics.json's `evidence` (importance,
    worst rows, layers, the label family).

    Example:
        >>> collect(run_dir, model, result.split, outputs, head_of(model), codec, seed=0)  # doctest: +SKIP
    """
    row = LABEL_FORMATS[info.labels]
    T = np.asarray(row.as_outputs(parts.y_test, info.units), np.float64)
    P = np.asarray(predicted, np.float64).reshape(T.shape)
    classes = [str(c) for c in codec.classes_] if codec is not None else None
    if classes is not None and len(classes) != T.shape[1] and not (T.shape[1] == 1 and len(classes) == 2):
        classes = [str(j) for j in range(T.shape[1])]  # the labels seen are fewer than the outputs: name by index
    np.savez_compressed(run_dir / OUTPUTS_FILE, truth=T, predicted=P)
    return {"family": row.family, "labels": info.labels, "classes": classes,
            "importance": importance(model, parts.X_test, T, info, seed=seed),
            "worst_rows": worst_rows(model, parts.X_test, T, P, row.family, classes, rows), "model": layers(model)}
