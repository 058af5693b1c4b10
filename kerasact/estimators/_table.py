"""What `TableClassifier` and `TableRegressor` share: `fit`, the parameters, the validation split,
prediction and pickling. The table model (`kerasact.build_tabular_model`, the
default preset's recipe) as scikit-learn estimators that take a raw DataFrame — text, categories
and missing values included — so `cross_val_score`, `GridSearchCV` and `Pipeline` run it.

`fit` holds out `val_size` of the rows (stratified for classes) to pick the epoch the preset keeps
(the best validation epoch over a fixed budget for `realmlp`, early stopping for `plain`), builds
the model on the other rows' statistics, and trains. Arrays are tables of numbers named x0, x1, ...
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted

from kerasact import _errors, tabular
from kerasact.estimators import _model
from kerasact.estimators._base import checked_sample_weight
from kerasact.model import ModelSpec, build_tabular_model, presets
from kerasact.model.spec import MAX_SEED
from kerasact.runtime import execution, pipeline, prediction
from kerasact.training import _recipe, _run
from kerasact.training.calibration import calibrate
from kerasact.training.fit import train

_RUN = {name: p.default for name, p in inspect.signature(train).parameters.items() if name in ("epochs", "batch_size",
                                                                                             "patience")}
_SPEC = {f.name for f in fields(ModelSpec) if f.init} - {"problem", "input_dim", "n_classes", "n_outputs", "normalize",
                                                         "seed"}
_NAMED = ("hidden", "activation", "dropout", "learning_rate", "weight_decay")  # the parameters tuned most


class TableEstimator(BaseEstimator):
    """Shared machinery; use `TableClassifier` or `TableRegressor`."""

    def __init__(self, preset: str | None = None, *, hidden: Any = None, activation: str | None = None,
                 dropout: float | None = None, learning_rate: float | None = None, weight_decay: float | None = None,
                 epochs: int | None = None, batch_size: int | None = None, val_size: float = 0.2,
                 categorical: Any = (), numeric: Any = (), drop: Any = (), options: Mapping[str, Any] | None = None,
                 random_state: int | None = None, verbose: int = 0) -> None:
        self.preset, self.hidden, self.activation, self.dropout = preset, hidden, activation, dropout
        self.learning_rate, self.weight_decay = learning_rate, weight_decay
        self.epochs, self.batch_size = epochs, batch_size
        self.val_size, self.categorical, self.numeric, self.drop = val_size, categorical, numeric, drop
        self.options, self.random_state, self.verbose = options, random_state, verbose

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> TableEstimator:
        """Build the table model on `X`'s training rows and train it.

        Args:
            X: a DataFrame (numbers, text, categories, missing values) or an array of numbers.
            y: one target per row: class labels, or values (a column per target for regression).
            sample_weight: per-row loss weights, or None.

        Returns:
            self, fitted: `model_` is the Keras model that takes raw rows.

        Example:
            >>> TableClassifier(epochs=20).fit(frame, labels).score(frame, labels)  # doctest: +SKIP
        """
        row = presets.get(self.preset or presets.DEFAULT_PRESET)
        spec, run = self._settings(row)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        frame = self._frame(X, reset=True)
        y_enc, problem, counts = self._targets(y, len(frame))
        weights = self._weights(sample_weight, y_enc, frame)
        seed = int(check_random_state(self.random_state).randint(MAX_SEED))
        fit_rows, val_rows = self._split(y_enc, problem, seed)
        columns = {"categorical": self.categorical, "numeric": self.numeric, "drop": self.drop}
        model = build_tabular_model(frame.iloc[fit_rows], y_enc[fit_rows], problem=problem, preset=row, seed=seed,
                                    **columns, **counts, **spec)
        inputs = tabular.to_inputs(frame, tabular.schema_of(model))
        part = {"fit": fit_rows, "val": val_rows}
        X_ = {k: _model.take(inputs, rows) for k, rows in part.items()}
        y_ = {k: y_enc[rows] for k, rows in part.items()}
        w_ = {k: None if weights is None else weights[rows] for k, rows in part.items()}
        extra = _recipe.callbacks(model, {**row.spec_defaults(problem), **spec}, problem, rows=len(fit_rows),
                                  epochs=run["epochs"], batch_size=run["batch_size"],
                                  restore_best=not run["patience"])
        model.fit(**pipeline.fit_inputs(model, X_["fit"], y_["fit"], batch_size=run["batch_size"], seed=seed,
                                        sample_weight=w_["fit"]),
                  validation_data=pipeline.in_order(X_["val"], y_["val"], w_["val"], dtype=execution.model_dtype(model),
                                                    batch_size=execution.eval_batch_size(run["batch_size"]),
                                                    every_epoch=True),
                  epochs=run["epochs"],
                  callbacks=_run.callbacks(None, run["patience"], extra, None, verbose=self.verbose),
                  verbose=_run.progress(self.verbose))
        calibrate(model, X_["val"], y_["val"], w_["val"])  # a preset's temperature, from the validation rows
        self.model_, self.preset_ = model, row.name
        return self

    def _weights(self, sample_weight: Any, y: Any, frame: pd.DataFrame) -> np.ndarray | None:
        return checked_sample_weight(sample_weight, len(frame))

    def _settings(self, row: presets.Preset) -> tuple[dict[str, Any], dict[str, Any]]:
        """The `ModelSpec` options and the run (`epochs`, `batch_size`, `patience`) this fit uses."""
        options = dict(self.options or {})
        unknown = sorted(set(options) - _SPEC)
        if unknown:
            raise ValueError(f"options has {unknown[0]!r}, not a ModelSpec field: use one of "
                             f"{_errors.listed(sorted(_SPEC), unknown[0])} (epochs, batch_size and random_state are "
                             f"parameters).{_errors.did_you_mean(unknown[0], _SPEC)}")
        named = {name: getattr(self, name) for name in _NAMED if getattr(self, name) is not None}
        run = {**_RUN, **row.run, **{k: getattr(self, k) for k in ("epochs", "batch_size") if getattr(self, k)}}
        _errors.check_int("epochs", run["epochs"], minimum=1)
        _errors.check_int("batch_size", run["batch_size"], minimum=1)
        _errors.check_number("val_size", self.val_size, minimum=0, maximum=1, open_low=True, open_high=True)
        return {**options, **named}, run

    def _frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        """`X` as a DataFrame with string column names (an array's columns are x0, x1, ...)."""
        if isinstance(X, pd.DataFrame):
            frame = X.rename(columns=str) if not all(isinstance(c, str) for c in X.columns) else X
            if frame.shape[1] == 0 or len(frame) == 0:
                raise ValueError(f"X has {len(frame)} sample(s) and {frame.shape[1]} feature(s) (shape={frame.shape}) "
                                 "while a minimum of 1 is required of each.")
        else:  # scikit-learn's own checks and messages (1-D, empty, complex); text in an object array stays text
            values = check_array(X, dtype=None, ensure_all_finite="allow-nan")
            frame = pd.DataFrame(values, columns=[f"x{i}" for i in range(values.shape[1])])
        if reset:
            self.n_features_in_ = frame.shape[1]
            if isinstance(X, pd.DataFrame):
                self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif frame.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {frame.shape[1]} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input.")
        return frame

    def _split(self, y_enc: np.ndarray, problem: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(len(y_enc))
        if len(rows) < 2:
            raise ValueError(f"{type(self).__name__} got 1 sample: fit needs at least 2 (n_samples = 1), one to "
                             "train on and one to validate.")
        n_val = min(max(1, round(self.val_size * len(rows))), len(rows) - 1)
        stratify = None
        if problem != "regression":  # the class mix kept where every class can be on both sides
            counts = np.bincount(y_enc)
            if counts.min() >= 2 and min(n_val, len(rows) - n_val) >= len(counts):
                stratify = y_enc
        fit_rows, val_rows = train_test_split(rows, test_size=n_val, random_state=seed, stratify=stratify)
        return np.sort(fit_rows), np.sort(val_rows)

    def _outputs(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        frame = self._frame(X, reset=False)
        return prediction.predict(self.model_, frame)  # warns of categories the training rows never had

    # -- pickling: the model travels as its `.keras` bytes
    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        if "model_" in state:
            state = {**state, "model_": _model.dumps(state["model_"])}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("model_"), tuple):
            state = {**state, "model_": _model.loads(*state["model_"])}
        super().__setstate__(state)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True     # a missing number is imputed inside the model
        tags.input_tags.string = True        # text columns are categories
        tags.input_tags.categorical = True
        tags.non_deterministic = False       # a fixed random_state gives the same network every fit
        return tags
