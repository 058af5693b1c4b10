"""`MLPRegressor`: scikit-learn's `MLPRegressor` on Keras: a linear head per target
(`kerasact.HEADS["regression"]`), one or many targets."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import MultiOutputMixin, RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if

from kerasact import _errors
from kerasact.estimators import _params
from kerasact.estimators._base import BaseMLP
from kerasact.problems import HEADS


def _stochastic(estimator: Any) -> bool:
    return estimator.solver != "lbfgs"


class MLPRegressor(RegressorMixin, MultiOutputMixin, BaseMLP):
    """A multi-layer perceptron regressor with scikit-learn's interface, trained by Keras.

    Drop-in for `sklearn.neural_network.MLPRegressor` (same parameters, same meaning; its
    `loss="squared_error"` is the default), plus kerasact's: per-layer activations, `dropout`,
    `optimizer`, the regression head's losses (`"huber"`, `"mean_absolute_error"`,
    `"log_cosh"`), `batch_norm`, `normalize`, `normalize_target` (the network learns
    standardised targets and still predicts in their units), `dtype` and `log_dir`.

    `optimizer` names any Keras optimizer (`"adamw"`, `"lion"`, ... `kerasact.OPTIMIZERS`) to train
    with; None (the default) trains with `solver`'s, and a set `optimizer` replaces the default
    `solver="adam"` but is refused beside another solver.

    Attributes:
        model_: the fitted Keras model.
        loss_curve_: training loss per epoch (L-BFGS: per iteration), L2 penalty included.
        validation_scores_: validation R² per epoch with `early_stopping`, else None.
        n_iter_: epochs (L-BFGS: iterations) run.

    Example:
        >>> from kerasact.sklearn import MLPRegressor
        >>> reg = MLPRegressor(random_state=1, max_iter=2000, tol=0.1).fit(X, y)  # doctest: +SKIP
        >>> reg.score(X, y)  # doctest: +SKIP
    """

    _PARAMS = _params.SKLEARN + _params.KERASACT + _params.REGRESSOR_ONLY
    _y_numeric = True

    def __init__(self, loss: str = "squared_error", hidden_layer_sizes: Any = (100,), activation: Any = "relu", *,
                 solver: str = "adam", alpha: float = 0.0001, batch_size: Any = "auto",
                 learning_rate: str = "constant", learning_rate_init: float = 0.001, power_t: float = 0.5,
                 max_iter: int = 200, shuffle: bool = True, random_state: Any = None, tol: float = 1e-4,
                 verbose: Any = False, warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False, validation_fraction: float = 0.1,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8, n_iter_no_change: int = 10,
                 max_fun: int = 15000, optimizer: str | None = None, dropout: float = 0.0,
                 batch_norm: bool = False, normalize: bool = False,
                 dtype: str | None = None, log_dir: Any = None, normalize_target: bool = False) -> None:
        self.loss = loss
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
        self.normalize_target = normalize_target

    @available_if(_stochastic)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over `(X, y)`, continuing the fitted network (the first call builds it).

        Example:
            >>> reg.partial_fit(X_batch, y_batch)  # doctest: +SKIP
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _loss_name(self, loss: str) -> str:
        options = [*_params.REGRESSION_LOSSES, *HEADS["regression"].losses]
        if loss == "poisson":
            raise ValueError("loss='poisson' needs an exponential output; the regression head is linear. "
                             f"Valid options: {options}.")
        if not isinstance(loss, str):
            raise _errors.invalid("loss", loss, f"one of {options}", kind=TypeError)
        return _params.REGRESSION_LOSSES.get(loss, loss)

    def _targets(self, y: np.ndarray, *, warm: bool, classes: Any, incremental: bool) -> tuple[str, int, np.ndarray]:
        values = y.reshape(len(y), -1)
        if warm and values.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {values.shape[1]} target(s); the fitted network predicts {self.n_outputs_}.")
        return "regression", values.shape[1], values.astype(np.float64)

    def _val_score(self, outputs: np.ndarray, y_enc: np.ndarray, weights: Any) -> float:
        return r2_score(y_enc, outputs, sample_weight=weights)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values: shape `(n,)` for one target, `(n, n_targets)` for several.

        Example:
            >>> reg.predict(X[:3])  # doctest: +SKIP
        """
        out = self._outputs(X)
        return out[:, 0] if out.shape[1] == 1 else out
