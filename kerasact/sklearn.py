"""`from kerasact.sklearn import MLPClassifier, MLPRegressor`: swap the import of
`sklearn.neural_network`'s classes for these and the code keeps working, trained by Keras.
`TableClassifier` and `TableRegressor` take a raw DataFrame (text, categories, missing values)
and train the table model's default recipe on it, inside `cross_val_score`, `GridSearchCV`, `Pipeline`.

Example:
    >>> from kerasact.sklearn import MLPClassifier
    >>> clf = MLPClassifier(random_state=1, max_iter=300)
"""

from kerasact.estimators import MLPClassifier, MLPRegressor, TableClassifier, TableRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "TableClassifier", "TableRegressor"]
