"""Held-out scores of each label format: the scikit-learn metrics and diagnostic figures that
`kerasact.train` adds to Keras's compiled metrics. `LABEL_FORMATS[format].score` points here."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import f1_score, r2_score, roc_auc_score

from kerasact import plots

Scores = tuple[dict[str, float], dict[str, Any]]  # (extra metrics, figures by file stem)


def _confusion(true: np.ndarray, pred: np.ndarray, codec: Any) -> dict[str, Any]:
    return {"confusion_matrix": plots.confusion_matrix(codec.decode(true), codec.decode(pred),
                                                       labels=codec.classes_)}


def values(y: np.ndarray, scores: np.ndarray, codec: Any) -> Scores:
    return {"r2": float(r2_score(y, scores))}, {"parity": plots.parity(y, scores)}


def binary(y: np.ndarray, scores: np.ndarray, codec: Any) -> Scores:
    """One sigmoid unit: threshold 0.5; ROC AUC and the ROC curve on top of the confusion matrix."""
    true, p = y.ravel().astype(int), scores.ravel()
    figures = _confusion(true, (p > 0.5).astype(int), codec) | {"roc_curve": plots.roc_curve(true, p)}
    return {"roc_auc": float(roc_auc_score(true, p))}, figures


def one_of_k(classes: Any) -> Any:
    """The scorer of a one-class-per-sample format whose class indices `classes(y)` gives."""
    def score(y: np.ndarray, scores: np.ndarray, codec: Any) -> Scores:
        return {}, _confusion(classes(y), scores.argmax(axis=1), codec)
    return score


def multi_hot(y: np.ndarray, scores: np.ndarray, codec: Any) -> Scores:
    return {"f1_macro": float(f1_score(y, scores > 0.5, average="macro", zero_division=0))}, {}
