"""scikit-learn's stopping and learning-rate rules for the stochastic solvers, as a Keras callback.

The rules are those of `sklearn/neural_network/_multilayer_perceptron.py`
(`_update_no_improvement_count`, `_fit_stochastic`, `SGDOptimizer` in `_stochastic_optimizers.py`):

- Without early stopping, an epoch whose training loss is not below the best so far minus
  `tol` counts as no improvement; more than `n_iter_no_change` in a row ends training.
- With `early_stopping`, the same count runs on the validation score (accuracy or R²), and
  the weights of the best validation epoch are restored at the end.
- `learning_rate="adaptive"` (sgd) divides the learning rate by 5 instead of stopping, and
  stops once it falls to 1e-6; `"invscaling"` sets it to `learning_rate_init / (t + 1) ** power_t`
  after each epoch, `t` the samples seen.

The counters live on the estimator, so `warm_start` and `partial_fit` continue them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

MIN_ADAPTIVE_RATE = 1e-6  # scikit-learn's SGDOptimizer stops an adaptive run below this rate


class Convergence(keras.callbacks.Callback):
    """Records `loss_curve_` (and `validation_scores_`) and applies scikit-learn's rules.

    Args:
        estimator: the estimator whose fitted attributes are updated.
        n_samples: training rows per epoch (for `t_`).
        score: `score(model) -> float` on the validation rows, or None without early stopping.
        params: the estimator's checked parameters.
        check: apply the stopping rule (False in `partial_fit`, which runs one epoch).
    """

    def __init__(self, estimator: Any, n_samples: float, score: Callable[[keras.Model], float] | None,
                 params: dict[str, Any], check: bool = True) -> None:
        super().__init__()
        self.estimator, self.n_samples, self.score, self.check = estimator, n_samples, score, check
        self.p = params  # the checked parameters (normalised), not the raw attributes
        self.converged = False

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        est, logs, p = self.estimator, logs or {}, self.p
        loss = float(logs["loss"])
        est.loss_curve_.append(loss)
        est.loss_ = loss
        est.t_ += self.n_samples
        est.n_iter_ += 1
        if p["verbose"]:  # scikit-learn's wording
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        for key, value in logs.items():
            est.history_.setdefault(key, []).append(float(value))
        if not np.isfinite(loss):  # a diverged run is not "no improvement": stop and say so at the end
            self.model.stop_training = True
            return
        if self.score is not None:
            value = float(self.score(self.model))
            est.validation_scores_.append(value)
            if p["verbose"]:
                print(f"Validation score: {value:f}")
            improved = value >= est.best_validation_score_ + p["tol"]
            if value > est.best_validation_score_:
                est.best_validation_score_ = value
                est._best_weights = self.model.get_weights()
        else:
            improved = loss <= est.best_loss_ - p["tol"]
            est.best_loss_ = min(est.best_loss_, loss)
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        self._learning_rate(est)
        if self.check and est._no_improvement_count > p["n_iter_no_change"]:
            rate = float(self.model.optimizer.learning_rate.numpy())
            if p["optimizer"] == "sgd" and p["learning_rate"] == "adaptive" and rate > MIN_ADAPTIVE_RATE:
                self.model.optimizer.learning_rate.assign(rate / 5.0)
                est._no_improvement_count = 0
                return
            if p["verbose"]:
                what = "Validation score" if self.score is not None else "Training loss"
                print(f"{what} did not improve more than tol={p['tol']} for {p['n_iter_no_change']} "
                      "consecutive epochs. Stopping.")
            self.converged = True
            self.model.stop_training = True

    def _learning_rate(self, est: Any) -> None:
        p = self.p
        if p["optimizer"] == "sgd" and p["learning_rate"] == "invscaling":
            self.model.optimizer.learning_rate.assign(p["learning_rate_init"] / (est.t_ + 1) ** p["power_t"])
