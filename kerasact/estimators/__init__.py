"""scikit-learn estimators on Keras: `MLPClassifier` and `MLPRegressor`, drop-in for
`sklearn.neural_network`'s, their heads from `kerasact.HEADS` (faced by `kerasact.sklearn`)."""

from kerasact.estimators._params import SPEC_FIELDS
from kerasact.estimators.classifier import MLPClassifier
from kerasact.estimators.regressor import MLPRegressor

__all__ = ["SPEC_FIELDS", "MLPClassifier", "MLPRegressor"]
