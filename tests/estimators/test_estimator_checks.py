"""scikit-learn's own estimator checks, on both classes with their default parameters."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from kerasact.sklearn import MLPClassifier, MLPRegressor


@parametrize_with_checks([MLPClassifier(), MLPRegressor()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
