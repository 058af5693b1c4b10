"""scikit-learn's own estimator checks (`sklearn.utils.estimator_checks`), on both classes with
their default parameters but `max_iter`, and no expected failures: input validation, fitted-attribute
rules, cloning, pickling, dtypes, sparse input, multilabel and multi-output formats, reproducibility
under `random_state`, and sample weights equal to repeated or removed rows."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from kerasact.sklearn import MLPClassifier, MLPRegressor

# scikit-learn checks its own MLPs with max_iter=100 (sklearn/utils/_test_common/instance_generator.py);
# 50 passes every check with room (the regressor's score check fails at 20, passes at 30; the
# classifier's pass at 10) at a quarter of the default's 200 epochs per fit.
MAX_ITER = 50


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # max_iter cut for speed
@parametrize_with_checks([MLPClassifier(max_iter=MAX_ITER), MLPRegressor(max_iter=MAX_ITER)])  # every check must pass
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
