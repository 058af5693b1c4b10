"""scikit-learn's own estimator checks (`sklearn.utils.estimator_checks`), on both classes with
their default parameters and no expected failures: input validation, fitted-attribute rules,
cloning, pickling, dtypes, sparse input, multilabel and multi-output formats, reproducibility
under `random_state`, and sample weights equal to repeated or removed rows."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from kerasact.sklearn import MLPClassifier, MLPRegressor


@parametrize_with_checks([MLPClassifier(), MLPRegressor()])  # no expected_failed_checks: every check must pass
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
