"""What `MLPClassifier` and `MLPRegressor` share: `fit`, `partial_fit`, the solvers, the
fitted attributes scikit-learn's MLPs have, and pickling through Keras's own `.keras` format.

The subclasses say what is predicted: `_targets` turns `y` into a problem type, a count and
the encoded labels; `_val_score` scores a validation split for early stopping.
"""

from __future__ import annotations

import warnings
from typing import Any

import keras
import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_array, check_is_fitted, validate_data

from kerasact import tabular
from kerasact.estimators import _lbfgs, _model, _params
from kerasact.estimators._convergence import Convergence
from kerasact.inputs import frames
from kerasact.model.spec import MAX_SEED
from kerasact.runtime import pipeline
from kerasact.training import runs, tensorboard
from kerasact.training.board import RunBoard

AUTO_BATCH = 200  # scikit-learn's batch_size="auto" is min(200, n_samples)
_OUT_ACTIVATION = {"sigmoid": "logistic", "softmax": "softmax", "linear": "identity"}  # scikit-learn's names
_FLOATS = (np.float64, np.float32)  # scikit-learn's MLPs keep float32 input in float32, the rest in float64
_SPARSE = ("csr", "csc", "coo")     # scipy sparse X (OneHotEncoder's default output) is accepted


class BaseMLP(BaseEstimator):
    """Shared machinery; use `MLPClassifier` or `MLPRegressor`."""

    _PARAMS: tuple[_params.Param, ...] = ()
    _y_numeric = False   # regression: y must be numbers
    _stratify = False    # classification: early stopping's validation split keeps the class mix

    # -- fitting ---------------------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BaseMLP:
        """Fit the network on `(X, y)`; with `warm_start=True` a fitted one trains on.

        Args:
            X: features, shape `(n_samples, n_features)`: an array, or a DataFrame (text,
                categorical and missing values are preprocessed inside the model).
            y: targets: class labels, a 0/1 label matrix, or values.
            sample_weight: per-sample weights, or None.

        Returns:
            self, fitted.

        Example:
            >>> MLPClassifier(max_iter=50).fit(X, y).score(X, y)  # doctest: +SKIP
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self, X: Any, y: Any, sample_weight: Any, *, incremental: bool, classes: Any = None) -> BaseMLP:
        p = _params.checked(self, self._PARAMS)
        warm = (incremental or p["warm_start"]) and hasattr(self, "model_")
        X, y, frame = self._rows(X, y, reset=not warm)
        problem, count, y_enc = self._targets(y, warm=warm, classes=classes, incremental=incremental)
        n = frames.rows(X) if frame is None else len(frame)
        weights = self._sample_weights(sample_weight, n, y)
        seeds = check_random_state(p["random_state"]).randint(MAX_SEED, size=3)  # weights+dropout, order, split
        if incremental and p["early_stopping"]:
            raise ValueError("partial_fit does not support early_stopping=True: pass the validation rows yourself, "
                             "or use fit.")
        if not warm:
            self._start(p, problem, count, X, y_enc, weights, frame, int(seeds[0]))
        elif not incremental:  # as scikit-learn: the weights carry on, the solver starts afresh from the parameters
            self._refresh(p, len(y_enc), weights)
        X = _model.inputs(self.model_, frame) if frame is not None else X
        if p["solver"] == "lbfgs":
            self._fit_lbfgs(p, X, y_enc, weights)
        else:
            self._fit_stochastic(p, X, y_enc, weights, seeds, incremental=incremental)
        return self

    def _rows(self, X: Any, y: Any, *, reset: bool) -> tuple[Any, Any, Any]:
        """`(X, y, frame)`: checked arrays, or for a table model/table the DataFrame as `frame`."""
        table = _model.needs_schema(X) if reset else tabular.has_schema(self.model_)
        if not table:
            X, y = validate_data(self, X, y, reset=reset, dtype=_FLOATS, multi_output=True, y_numeric=self._y_numeric,
                                 accept_sparse=_SPARSE)
            return _dense(X), y, None
        frame = tabular.read_table(X)
        y = check_array(y, ensure_2d=False, dtype="numeric" if self._y_numeric else None)
        if len(y) != len(frame):
            raise ValueError(f"X has {len(frame)} rows and y has {len(y)}; give one target per row.")
        if reset:  # what validate_data records for arrays
            self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
            self.n_features_in_ = len(frame.columns)
        return None, y, frame

    def _start(self, p: dict, problem: str, count: int, X: Any, y_enc: np.ndarray, weights: Any,
               frame: Any, seed: int) -> None:
        """Build a fresh model and reset the fitted attributes (scikit-learn's `_initialize`)."""
        if p["solver"] == "lbfgs" and p["dropout"]:
            raise ValueError(f"dropout={p['dropout']} makes the loss random, which L-BFGS cannot minimise: "
                             "use solver='adam' or 'sgd' with dropout, or dropout=0.")
        # A table's columns enter as float32 (its preprocessing is float32), so its model is float32 too.
        floats32 = frame is not None or X.dtype == np.float32
        dtype = p["dtype"] or ("float32" if floats32 else "float64")
        loss = self._loss_name(p["loss"])
        spec = _params.spec_for(p, problem=problem, input_dim=self.n_features_in_, count=count, dtype=dtype,
                                l2=self._l2(p, len(y_enc), weights), loss=loss, seed=seed, table=frame is not None)
        self._spec = spec
        self.model_ = _model.build(spec, lambda: _params.optimizer(p), X, y_enc, frame,
                                   metrics=p["log_dir"] is not None, half_squared_error=p["loss"] == "squared_error")
        self.n_layers_, self.n_outputs_ = len(spec.hidden) + 2, spec.output_units
        self.out_activation_ = _OUT_ACTIVATION[spec.head.activation]
        self.loss_curve_, self.history_, self.n_iter_, self.t_, self._epochs = [], {}, 0, 0, 0
        self._no_improvement_count = 0
        stopping = p["early_stopping"] and p["solver"] != "lbfgs"
        self.validation_scores_ = [] if stopping else None
        self.best_validation_score_ = -np.inf if stopping else None
        self.best_loss_ = None if stopping else np.inf

    def _l2(self, p: dict, n: int, weights: Any) -> float:
        """Keras's L2 coefficient for scikit-learn's `alpha`: scikit-learn adds
        0.5 * alpha * ||W||² / (the batch's weight sum) to its loss (kernels only)."""
        batch = n if p["solver"] == "lbfgs" else _batch_size(p["batch_size"], n)
        mean_weight = 1.0 if weights is None else float(np.mean(weights))
        return 0.5 * p["alpha"] / max(batch * mean_weight, 1e-12)

    def _refresh(self, p: dict, n: int, weights: Any) -> None:
        """A warm fit: the current `alpha` and a fresh optimizer from the current parameters."""
        l2 = self._l2(p, n, weights)
        for layer in self.model_.layers:
            if getattr(layer, "kernel_regularizer", None) is not None:
                layer.kernel.regularizer = layer.kernel_regularizer = keras.regularizers.L2(l2)
        self._spec = self._spec.replace(l2=l2, learning_rate=p["learning_rate_init"])
        _model.recompile(self.model_, self._spec, lambda: _params.optimizer(p), metrics=p["log_dir"] is not None,
                         half_squared_error=p["loss"] == "squared_error")

    def _fit_stochastic(self, p: dict, X: Any, y_enc: np.ndarray, weights: Any, seeds: np.ndarray, *,
                        incremental: bool) -> None:
        stopping = p["early_stopping"] and not incremental
        score, X_fit, y_fit, w_fit = None, X, y_enc, weights
        if stopping:
            train, val = self._split(y_enc, p, int(seeds[2]))
            X_fit, y_fit, w_fit = _model.take(X, train), y_enc[train], None if weights is None else weights[train]
            X_val, y_val, w_val = _model.take(X, val), y_enc[val], None if weights is None else weights[val]
            score = lambda model: self._val_score(_model.outputs(model, X_val), y_val, w_val)  # noqa: E731
        self._best_weights = None
        conv = Convergence(self, len(y_fit), score, p, check=not incremental)
        callbacks: list[keras.callbacks.Callback] = [conv]
        if p["log_dir"] is not None:
            run_dir = runs.new_run_dir(p["log_dir"], type(self).__name__)
            callbacks.append(RunBoard(run_dir, self._spec.problem))  # train's tags: grouped by problem type
        epochs, first = (1 if incremental else p["max_iter"]), self._epochs
        self.n_iter_ = 0  # scikit-learn's n_iter_ counts this call's epochs
        # Epoch k's batch order comes from (seed, k): a warm start goes on to new orders.
        inputs = pipeline.fit_inputs(self.model_, X_fit, y_fit, batch_size=_batch_size(p["batch_size"], len(y_fit)),
                                     seed=int(seeds[1]), sample_weight=w_fit, first_epoch=first, shuffle=p["shuffle"])
        self.model_.fit(**inputs, initial_epoch=first, epochs=first + epochs, callbacks=callbacks, verbose=0)
        self._epochs += self.n_iter_
        if stopping and self._best_weights is not None:  # scikit-learn keeps the best validation epoch
            self.model_.set_weights(self._best_weights)
        self._best_weights = None
        if not np.isfinite(self.loss_):
            raise ValueError(f"Training diverged: the loss became {self.loss_} at iteration {self.n_iter_}. "
                             "Scale the features (normalize=True or a StandardScaler) or lower learning_rate_init.")
        if not incremental and not conv.converged and self.n_iter_ == epochs:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({p['max_iter']}) reached and the "
                          "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=4)

    def _fit_lbfgs(self, p: dict, X: Any, y_enc: np.ndarray, weights: Any) -> None:
        curve, result = _lbfgs.minimize(self.model_, X, y_enc, weights, max_iter=p["max_iter"],
                                        max_fun=p["max_fun"], tol=p["tol"], verbose=bool(p["verbose"]))
        self.loss_curve_ += curve
        self.loss_, self.n_iter_ = float(result.fun), int(result.nit)
        self.t_ += len(y_enc) * self.n_iter_
        self.best_loss_ = min([self.loss_, *curve])
        self.history_.setdefault("loss", []).extend(curve)
        if p["log_dir"] is not None:  # a TensorBoard run per fit, as adam/sgd: the loss per L-BFGS iteration
            run_dir = runs.new_run_dir(p["log_dir"], type(self).__name__)
            tensorboard.log_curve(run_dir / "train", self._spec.problem, {"loss": curve})
        if not np.isfinite(self.loss_):
            raise ValueError(f"Training diverged: the L-BFGS loss became {self.loss_}. Scale the features "
                             "(normalize=True or a StandardScaler).")
        if result.status != 0:
            warnings.warn(f"lbfgs failed to converge after {self.n_iter_} iteration(s) (status={result.status}): "
                          f"{result.message}. Increase max_iter or max_fun, or scale the features.",
                          ConvergenceWarning, stacklevel=4)

    def _split(self, y_enc: np.ndarray, p: dict, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Training and validation rows for early stopping (stratified for classes, as scikit-learn)."""
        stratify = y_enc if self._stratify and y_enc.ndim == 1 else None
        rows = np.arange(len(y_enc))
        return tuple(train_test_split(rows, test_size=p["validation_fraction"], random_state=seed, stratify=stratify))

    def _sample_weights(self, sample_weight: Any, n: int, y: np.ndarray) -> np.ndarray | None:
        return checked_sample_weight(sample_weight, n)

    # -- predicting ------------------------------------------------------------------
    def _checked(self, X: Any) -> Any:
        check_is_fitted(self)
        if tabular.has_schema(self.model_):
            return _model.inputs(self.model_, X)
        return _dense(validate_data(self, X, reset=False, dtype=_FLOATS, accept_sparse=_SPARSE))

    def _outputs(self, X: Any) -> np.ndarray:
        """The head's outputs (probabilities or values) for `X`, in the model's precision."""
        rows = self._checked(X)  # first: an unfitted estimator raises NotFittedError
        return _model.outputs(self.model_, rows)

    def _pre_activation(self, X: Any) -> np.ndarray:
        """The head's outputs before its activation (what `decision_function` returns)."""
        rows = self._checked(X)
        return _model.pre_activation(self.model_, rows)

    @property
    def coefs_(self) -> list[np.ndarray]:
        """The Dense kernels, input layer first (scikit-learn's `coefs_`)."""
        check_is_fitted(self)
        return [layer.kernel.numpy() for layer in self.model_.layers if isinstance(layer, keras.layers.Dense)]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """The Dense biases (zeros where batch normalisation replaces them), as `intercepts_`."""
        check_is_fitted(self)
        return [layer.bias.numpy() if layer.use_bias else np.zeros(layer.units)
                for layer in self.model_.layers if isinstance(layer, keras.layers.Dense)]

    # -- pickling: the model travels as its `.keras` bytes ------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_best_weights", None)
        if "model_" in state:
            state = {**state, "model_": _KerasBytes(*_model.dumps(state["model_"]))}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("model_"), _KerasBytes):
            state = {**state, "model_": _model.loads(state["model_"].data, state["model_"].dtype)}
        super().__setstate__(state)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False  # a fixed random_state gives the same network every fit
        tags.input_tags.sparse = True   # as scikit-learn's MLPs (densified: see _dense)
        return tags


def checked_sample_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    """scikit-learn's check of per-row weights for `n` rows (>= 0), refusing weights that sum to 0."""
    if sample_weight is None:
        return None
    weights = _check_sample_weight(sample_weight, np.empty((n, 0)), ensure_non_negative=True)
    if not weights.sum() > 0:
        raise ValueError("sample_weight sums to 0: give at least one row a positive weight.")
    return weights


class _KerasBytes:
    """A fitted model as the bytes of its `.keras` archive (so no Keras object is pickled)."""

    def __init__(self, data: bytes, dtype: str) -> None:
        self.data, self.dtype = data, dtype


def _dense(X: Any) -> np.ndarray:
    """A scipy sparse matrix as a dense array: the first Dense layer reads every input anyway, and
    an MLP's inputs (a one-hot block of a ColumnTransformer) fit in memory dense."""
    return X.toarray() if scipy.sparse.issparse(X) else X


def _count(problem: str, count: int) -> dict[str, int]:
    return {"n_outputs" if problem in ("regression", "multilabel") else "n_classes": count}


def _batch_size(batch_size: Any, n: int) -> int:
    if batch_size == "auto":
        return min(AUTO_BATCH, n)
    if batch_size > n:
        warnings.warn(f"Got batch_size={batch_size} larger than the {n} sample(s); it is clipped to {n}.",
                      UserWarning, stacklevel=5)
    return min(batch_size, n)
