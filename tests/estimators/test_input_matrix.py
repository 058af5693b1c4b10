"""Every head × every input kind through the whole estimator life: fit, predict, score,
pickling and clone. A combination that cannot predict (a table regressor once could not: its
half-squared-error loss was unknown to the model reader) fails here, by name."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from kerasact.problems import HEADS
from kerasact.sklearn import MLPClassifier, MLPRegressor

N = 160


def _features(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    return rng.randn(N, 2), rng.choice(["red", "green", "blue"], N)


def _signal() -> np.ndarray:
    numbers, colour = _features()
    return numbers[:, 0] + np.select([colour == "red", colour == "blue"], [2.0, -2.0], 0.0)


# One row per head: the estimator that fits it and targets that depend on both the numbers
# and the colour (so the string column matters where it is present).
TARGETS = {
    "regression": (MLPRegressor, lambda s: s),
    "binary": (MLPClassifier, lambda s: np.where(s > 0, "yes", "no")),
    "multiclass": (MLPClassifier, lambda s: np.digitize(s, [-1.0, 1.0])),
    "multilabel": (MLPClassifier, lambda s: np.column_stack([s > 0, s > 1.5, s < -1.5]).astype(int)),
}


def _inputs(kind: str) -> object:
    numbers, colour = _features()
    code = np.select([colour == "red", colour == "blue"], [1.0, -1.0], 0.0)
    if kind == "array":
        return np.column_stack([numbers, code])
    if kind == "frame":
        return pd.DataFrame({"x1": numbers[:, 0], "x2": numbers[:, 1], "code": code})
    return pd.DataFrame({"x1": numbers[:, 0], "colour": colour, "x2": numbers[:, 1]})  # "frame_strings"


def test_every_head_has_a_row():
    assert set(TARGETS) == set(HEADS)


@pytest.mark.parametrize("kind", ["array", "frame", "frame_strings"])
@pytest.mark.parametrize("problem", sorted(TARGETS))
def test_fit_predict_score_pickle_and_clone(problem, kind):
    cls, make_y = TARGETS[problem]
    X, y = _inputs(kind), make_y(_signal())
    train, test = slice(0, 120), slice(120, None)
    X_train, X_test = (X.iloc[train], X.iloc[test]) if isinstance(X, pd.DataFrame) else (X[train], X[test])
    estimator = cls(hidden_layer_sizes=(16,), max_iter=60, learning_rate_init=0.01, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X_train, y[train])
    predicted = estimator.predict(X_test)
    assert predicted.shape == np.shape(y[test])
    score = estimator.score(X_test, y[test])
    # The target depends on the features: a fitted network beats a constant (R² 0 / chance).
    assert score > {"regression": 0.3, "binary": 0.7, "multiclass": 0.6, "multilabel": 0.3}[problem], score
    # scikit-learn's behaviour: the drop-ins learn the raw target unless normalize_target=True.
    assert not any(layer.name == "normalize_targets" for layer in estimator.model_.layers)
    restored = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(restored.predict(X_test), predicted)
    fresh = clone(estimator)
    assert fresh.get_params() == estimator.get_params() and not hasattr(fresh, "model_")
