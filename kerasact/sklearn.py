"""`from kerasact.sklearn import MLPClassifier, MLPRegressor`: swap the import of
`sklearn.neural_network`'s classes for these and the code keeps working, trained by Keras.

Example:
    >>> from kerasact.sklearn import MLPClassifier
    >>> clf = MLPClassifier(random_state=1, max_iter=300)
"""

from kerasact.estimators import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
