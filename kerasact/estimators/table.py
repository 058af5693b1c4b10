"""`TableClassifier` and `TableRegressor`: the table model (`kerasact.build_tabular_model`, the
default preset's recipe) as scikit-learn estimators that take a raw DataFrame — text, categories
and missing values included — so `cross_val_score`, `GridSearchCV` and `Pipeline` run it
(the shared `fit` is `kerasact.estimators._table`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from kerasact import _errors
from kerasact.estimators._table import TableEstimator


class TableClassifier(ClassifierMixin, TableEstimator):
    """The table model for class labels: `predict`, `predict_proba` and `score` (accuracy).

    Args:
        preset: the recipe (`kerasact.model.presets.PRESETS`); None is the default preset.
        hidden, activation, dropout, learning_rate, weight_decay: `ModelSpec` fields over the preset's.
        epochs: the epoch budget; None is the preset's.
        batch_size: rows per step; None is the preset's.
        val_size: the fraction of rows held out to choose the epoch kept.
        categorical, numeric, drop: columns to treat as categories, as numbers, or to leave out.
        options: any other `ModelSpec` fields, e.g. `{"label_smoothing": 0.0}`.
        class_weight: `"balanced"` or `{label: weight}`: each row's loss weighted by its class's.
        random_state: seeds the weights, the batches and the validation split.
        verbose: Keras's progress output (0: none).

    Example:
        >>> from sklearn.model_selection import cross_val_score
        >>> cross_val_score(TableClassifier(random_state=0), frame, labels, cv=5)  # doctest: +SKIP
    """

    def __init__(self, preset: str | None = None, *, hidden: Any = None, activation: str | None = None,
                 dropout: float | None = None, learning_rate: float | None = None, weight_decay: float | None = None,
                 epochs: int | None = None, batch_size: int | None = None, val_size: float = 0.2,
                 categorical: Any = (), numeric: Any = (), drop: Any = (), options: Mapping[str, Any] | None = None,
                 class_weight: str | Mapping[Any, float] | None = None, random_state: int | None = None,
                 verbose: int = 0) -> None:
        super().__init__(preset, hidden=hidden, activation=activation, dropout=dropout, learning_rate=learning_rate,
                         weight_decay=weight_decay, epochs=epochs, batch_size=batch_size, val_size=val_size,
                         categorical=categorical, numeric=numeric, drop=drop, options=options,
                         random_state=random_state, verbose=verbose)
        self.class_weight = class_weight

    def _weights(self, sample_weight: Any, y: Any, frame: pd.DataFrame) -> np.ndarray | None:
        weights = super()._weights(sample_weight, y, frame)
        if self.class_weight is None:
            return weights
        if not (self.class_weight == "balanced" or isinstance(self.class_weight, Mapping)):
            raise _errors.invalid("class_weight", self.class_weight, "'balanced', a {label: weight} dict or None")
        per_class = compute_sample_weight(self.class_weight, self.classes_[y])  # keyed by the labels as given
        return per_class if weights is None else weights * per_class

    def _targets(self, y: Any, n: int) -> tuple[np.ndarray, str, dict[str, int]]:
        y = column_or_1d(np.asarray(y) if not isinstance(y, pd.Series) else y.to_numpy(), warn=True)
        if len(y) != n:
            raise ValueError(f"X has {n} rows and y has {len(y)}; give one label per row.")
        check_classification_targets(y)
        if pd.isna(pd.Series(y)).any():
            raise ValueError("y has missing labels; drop those rows or give them a class.")
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"y has one class ({self.classes_[0]!r}); a classifier needs at least 2 classes.")
        codes = np.searchsorted(self.classes_, y)
        return codes, "binary" if len(self.classes_) == 2 else "multiclass", {"n_classes": len(self.classes_)}

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities, shape `(n_samples, n_classes)`, columns in the order of `classes_`.

        Example:
            >>> clf.predict_proba(frame.head(1)).sum()  # doctest: +SKIP
            1.0
        """
        out = self._outputs(X).astype(np.float64)
        return np.hstack([1.0 - out, out]) if len(self.classes_) == 2 else out / out.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """Class labels for `X`.

        Example:
            >>> clf.predict(frame.head(3))  # doctest: +SKIP
        """
        codes = self.predict_proba(X).argmax(axis=1)  # first: an unfitted estimator raises NotFittedError
        return self.classes_[codes]


class TableRegressor(RegressorMixin, TableEstimator):
    """The table model for values: `predict` and `score` (R²). Arguments as `TableClassifier`'s.

    Example:
        >>> from sklearn.model_selection import GridSearchCV
        >>> GridSearchCV(TableRegressor(), {"dropout": [0.0, 0.15]}, cv=3).fit(frame, prices)  # doctest: +SKIP
    """

    def _targets(self, y: Any, n: int) -> tuple[np.ndarray, str, dict[str, int]]:
        y = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y)
        try:  # numbers held as objects are numbers
            values = y.astype(np.float64) if not np.iscomplexobj(y) else None
        except (TypeError, ValueError):
            values = None
        if values is None or y.ndim not in (1, 2):
            raise _errors.invalid("y", y[:3] if y.ndim else y, "numbers, one or a row of them per sample",
                                  "for class labels use TableClassifier")
        y = values
        if len(y) != n:
            raise ValueError(f"X has {n} rows and y has {len(y)}; give one target per row.")
        if not np.isfinite(y).all():
            raise ValueError("y has NaN or infinite values; drop those rows.")
        self._one_column = y.ndim == 1
        y2 = y.reshape(len(y), -1)
        return y2, "regression", {"n_outputs": y2.shape[1]}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # a column per target, one output unit each
        return tags

    def predict(self, X: Any) -> np.ndarray:
        """Values for `X`: shape `(n_samples,)`, or `(n_samples, n_targets)` when fitted on several.

        Example:
            >>> reg.predict(frame.head(3))  # doctest: +SKIP
        """
        out = self._outputs(X).astype(np.float64)
        return out[:, 0] if self._one_column else out


