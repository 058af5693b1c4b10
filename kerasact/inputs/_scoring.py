"""Held-out scores of each label format: the scikit-learn metrics and diagnostic figures that
`kerasact.train` adds to Keras's compiled metrics. `LABEL_FORMATS[format].score` points here.

Figures come back undrawn, as zero-argument callables: drawing one costs ~0.05-0.1 s, and
only a run that keeps a run directory draws them (a validation split's or a run with
`log_dir=None` never does)."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, log_loss, r2_score, roc_auc_score

from kerasact import plots

Scores = tuple[dict[str, float], dict[str, Any]]  # (extra metrics, figure makers by file stem)


def _confusion(true: np.ndarray, pred: np.ndarray, codec: Any) -> dict[str, Any]:
    return {"confusion_matrix": partial(plots.confusion_matrix, codec.decode(true), codec.decode(pred),
                                        labels=codec.classes_)}


def _log_loss(true: np.ndarray, probabilities: np.ndarray, k: int) -> dict[str, float]:
    """The held-out cross-entropy of the predicted probabilities: what a label-smoothed or weighted
    training loss is not, and what scikit-learn's `log_loss` gives any other model."""
    p = np.clip(np.asarray(probabilities, np.float64), 1e-15, 1.0)
    if p.ndim == 2 and p.shape[1] > 1:  # float32 softmax rows sum to 1 only within float32's rounding
        p = p / p.sum(axis=1, keepdims=True)
    return {"log_loss": float(log_loss(true, p, labels=list(range(k))))}


def values(y: np.ndarray, scores: np.ndarray, codec: Any) -> Scores:
    return {"r2": float(r2_score(y, scores))}, {"parity": partial(plots.parity, y, scores)}


def binary(y: np.ndarray, scores: np.ndarray, codec: Any) -> Scores:
    """One sigmoid unit: threshold 0.5; ROC AUC and the ROC curve on top of the confusion matrix."""
    true, p = y.ravel().astype(int), scores.ravel()
    figures = _confusion(true, (p > 0.5).astype(int), codec) | {"roc_curve": partial(plots.roc_curve, true, p)}
    return {"roc_auc": float(roc_auc_score(true, p))} | _log_loss(true, p, 2), figures


def one_of_k(classes: Any) -> Any:
    """The scorer of a one-class-per-sample format whose class indices `classes(y)` gives."""
    def score(y: np.ndarray, scores: np.ndarray, codec: Any) -> Scores:
        true = classes(y)
        return _log_loss(true, scores, scores.shape[1]), _confusion(true, scores.argmax(axis=1), codec)
    return score


def multi_hot(y: np.ndarray, scores: np.ndarray, codec: Any) -> Scores:
    return {"f1_macro": float(f1_score(y, scores > 0.5, average="macro", zero_division=0))}, {}
