"""scikit-learn estimators on Keras: `MLPClassifier` and `MLPRegressor`, drop-in for
`sklearn.neural_network`'s, their heads from `kerasact.HEADS`; `TableClassifier` and
`TableRegressor`, the table model's preset recipe on a raw DataFrame (faced by `kerasact.sklearn`)."""

from kerasact.estimators._params import SPEC_FIELDS
from kerasact.estimators.classifier import MLPClassifier
from kerasact.estimators.regressor import MLPRegressor
from kerasact.estimators.table import TableClassifier, TableRegressor

__all__ = ["SPEC_FIELDS", "MLPClassifier", "MLPRegressor", "TableClassifier", "TableRegressor"]
