"""`MLPClassifier`: scikit-learn's `MLPClassifier` on Keras, its head from the problem table.

Two classes get one sigmoid unit and binary cross-entropy, more get a softmax and categorical
cross-entropy, a 0/1 label matrix gets one sigmoid per label (multilabel), exactly as
`kerasact.HEADS` says; `predict_proba` always has one column per class.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, MultiOutputMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from kerasact.estimators import _params
from kerasact.estimators._base import BaseMLP
from kerasact.problems import HEADS, head_of

# type_of_target → problem type (a kerasact.HEADS key) for label vectors and label matrices.
_PROBLEMS = {"binary": "binary", "multiclass": "multiclass", "multilabel-indicator": "multilabel"}


def _stochastic(estimator: Any) -> bool:
    return estimator.solver != "lbfgs"  # scikit-learn offers partial_fit only for sgd and adam


class MLPClassifier(ClassifierMixin, MultiOutputMixin, BaseMLP):
    """A multi-layer perceptron classifier with scikit-learn's interface, trained by Keras.

    Drop-in for `sklearn.neural_network.MLPClassifier`: the same parameters with the same
    meaning (`alpha` is the same L2 penalty, `max_iter` counts epochs, `solver="lbfgs"` runs
    scipy's L-BFGS), plus kerasact's: one activation per hidden layer (a tuple), `dropout`,
    `optimizer`, `loss`, `batch_norm`, `normalize` (standardisation inside the model),
    `class_weight`, `dtype` (default: float32 input trains in float32, any other in float64, as
    scikit-learn does) and `log_dir` (a TensorBoard run per fit).

    `optimizer` names any Keras optimizer (`"adamw"`, `"lion"`, ... `kerasact.OPTIMIZERS`) to train
    with; None (the default) trains with `solver`'s, and a set `optimizer` replaces the default
    `solver="adam"` but is refused beside another solver.

    Attributes:
        classes_: the class labels (multilabel: `0 .. n_labels - 1`).
        model_: the fitted Keras model (probabilities out).
        loss_curve_: training loss per epoch (L-BFGS: per iteration), L2 penalty included.
        validation_scores_: validation accuracy per epoch with `early_stopping`, else None.
        n_iter_: epochs (L-BFGS: iterations) run.

    Example:
        >>> from kerasact.sklearn import MLPClassifier
        >>> clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0).fit(X, y)  # doctest: +SKIP
        >>> clf.predict_proba(X[:2]).shape  # doctest: +SKIP
        (2, 2)
    """

    _PARAMS = _params.SKLEARN + _params.KERASACT + _params.CLASSIFIER_ONLY
    _stratify = True

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: Any = "relu", *, solver: str = "adam",
                 alpha: float = 0.0001, batch_size: Any = "auto", learning_rate: str = "constant",
                 learning_rate_init: float = 0.001, power_t: float = 0.5, max_iter: int = 200, shuffle: bool = True,
                 random_state: Any = None, tol: float = 1e-4, verbose: Any = False, warm_start: bool = False,
                 momentum: float = 0.9, nesterovs_momentum: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, n_iter_no_change: int = 10, max_fun: int = 15000,
                 optimizer: str | None = None, dropout: float = 0.0, batch_norm: bool = False,
                 normalize: bool = False, dtype: str | None = None,
                 log_dir: Any = None, loss: str | None = None, class_weight: Any = None) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.optimizer = optimizer
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.normalize = normalize
        self.dtype = dtype
        self.log_dir = log_dir
        self.loss = loss
        self.class_weight = class_weight

    @available_if(_stochastic)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None) -> MLPClassifier:
        """One epoch over `(X, y)`, continuing the fitted network (the first call builds it).

        Args:
            X: features.
            y: labels of these rows.
            sample_weight: per-sample weights, or None.
            classes: all the classes; required on the first call, as in scikit-learn.

        Returns:
            self.

        Example:
            >>> clf.partial_fit(X_batch, y_batch, classes=[0, 1, 2])  # doctest: +SKIP
        """
        if self.class_weight == "balanced":  # as scikit-learn's SGDClassifier: a batch's class mix is not the data's
            raise ValueError("class_weight='balanced' is not supported for partial_fit: each call sees one batch. "
                             "Pass a dict, e.g. dict(zip(classes, compute_class_weight('balanced', ...))).")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _loss_name(self, loss: str | None) -> str | None:
        return None if loss == "log_loss" else loss  # scikit-learn's only classification loss is the default

    def _targets(self, y: np.ndarray, *, warm: bool, classes: Any, incremental: bool) -> tuple[str, int, np.ndarray]:
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in _PROBLEMS:
            raise ValueError(f"y is {kind} ({y.shape[1]} columns of classes); MLPClassifier takes one label per "
                             "row or a 0/1 label matrix (multilabel). Fit one classifier per output column.")
        if kind == "multilabel-indicator":
            if warm and len(self.classes_) != y.shape[1]:
                raise ValueError(f"y has {y.shape[1]} labels; the fitted network has {len(self.classes_)}.")
            self.classes_ = np.arange(y.shape[1])
            return "multilabel", y.shape[1], y.astype(np.float64)
        if warm:
            known = self.classes_
        elif classes is not None:
            known = unique_labels(classes)
        elif incremental:
            raise ValueError("classes must be passed on the first call to partial_fit: every label y can take.")
        else:
            known = np.unique(y)
        unseen = np.setdiff1d(np.unique(y), known)
        if unseen.size:
            raise ValueError(f"y has classes {unseen.tolist()[:5]} not in classes_ {known.tolist()[:10]}; "
                             "refit without warm_start, or pass every class in classes= on the first partial_fit.")
        if len(known) < 2:
            raise ValueError(f"y has one class ({known[0]!r}); a classifier needs at least 2 classes.")
        self.classes_ = known
        codes = np.searchsorted(known, y)
        problem = "binary" if len(known) == 2 else "multiclass"
        _, option = HEADS[problem].loss_option(self._loss_name(self.loss))
        if option.labels == "one_hot":  # categorical (focal) cross-entropy takes one-hot rows
            return problem, len(known), np.eye(len(known))[codes]
        return problem, len(known), codes.astype(np.float64 if problem == "binary" else np.int64)

    def _sample_weights(self, sample_weight: Any, n: int, y: np.ndarray) -> np.ndarray | None:
        weights = super()._sample_weights(sample_weight, n, y)
        if self.class_weight is None:
            return weights
        per_class = compute_sample_weight(_params.checked(self, _params.CLASSIFIER_ONLY)["class_weight"], y)
        return per_class if weights is None else weights * per_class

    def _val_score(self, outputs: np.ndarray, y_enc: np.ndarray, weights: Any) -> float:
        truth = y_enc.argmax(axis=1) if self._problem() == "multiclass" and y_enc.ndim == 2 else y_enc
        return accuracy_score(truth, self._codes(outputs), sample_weight=weights)

    # -- predicting ------------------------------------------------------------------
    def _problem(self) -> str:
        return head_of(self.model_).head.name

    def _codes(self, outputs: np.ndarray) -> np.ndarray:
        """Class indices (a 0/1 matrix for multilabel) from the head's probabilities."""
        if self._problem() == "multiclass":
            return outputs.argmax(axis=1)
        codes = (outputs > 0.5).astype(np.int64)
        return codes if self._problem() == "multilabel" else codes[:, 0]

    def predict(self, X: Any) -> np.ndarray:
        """Class labels for `X` (a 0/1 matrix for multilabel).

        Example:
            >>> clf.predict(X[:3])  # doctest: +SKIP
            array([0, 1, 1])
        """
        codes = self._codes(self._outputs(X))
        return codes if self._problem() == "multilabel" else self.classes_[codes]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities, shape `(n_samples, n_classes)`, columns in the order of `classes_`.

        Example:
            >>> clf.predict_proba(X[:1]).sum()  # doctest: +SKIP
            1.0
        """
        out = self._outputs(X)
        return np.hstack([1.0 - out, out]) if self._problem() == "binary" else out

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The log of `predict_proba`.

        Example:
            >>> clf.predict_log_proba(X[:1])  # doctest: +SKIP
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def decision_function(self, X: Any) -> np.ndarray:
        """The output layer's pre-activation: shape `(n,)` for two classes, else `(n, n_classes)`.

        Example:
            >>> clf.decision_function(X[:2])  # doctest: +SKIP
        """
        z = self._pre_activation(X)
        return z[:, 0] if self._problem() == "binary" else z

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

