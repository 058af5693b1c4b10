"""Held-out evaluation of a trained model: Keras's compiled metrics, the problem's own
scikit-learn metrics (R², ROC AUC, F1) and its diagnostic figures, from one table."""

from __future__ import annotations

import keras
import numpy as np

from kerasact import plots
from kerasact.inference import head_of, predict


def class_indices(y: np.ndarray) -> np.ndarray:
    """Class indices from integer labels or one-hot rows."""
    return y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.ravel().astype(int)


def _regression_report(y, scores, codec):
    from sklearn.metrics import r2_score

    return {"r2": float(r2_score(y, scores))}, {"parity": plots.parity(y, scores)}


def _classifier_report(y, scores, codec):
    from sklearn.metrics import roc_auc_score

    binary = scores.shape[1] == 1  # one sigmoid unit: threshold 0.5, else argmax
    pred = (scores.ravel() > 0.5).astype(int) if binary else scores.argmax(axis=1)
    true = class_indices(y)
    figures = {"confusion_matrix": plots.confusion_matrix(codec.decode(true), codec.decode(pred), labels=codec.classes_)}
    if not binary:
        return {}, figures
    figures["roc_curve"] = plots.roc_curve(true, scores.ravel())
    return {"roc_auc": float(roc_auc_score(true, scores.ravel()))}, figures


def _multilabel_report(y, scores, codec):
    from sklearn.metrics import f1_score

    return {"f1_macro": float(f1_score(y, scores > 0.5, average="macro", zero_division=0))}, {}


# problem -> extra test metrics (scikit-learn) and diagnostic figures beyond Keras's metrics
_REPORTS = {"regression": _regression_report, "binary": _classifier_report,
            "multiclass": _classifier_report, "multilabel": _multilabel_report}


def evaluate(model: keras.Model, X: np.ndarray, y: np.ndarray, batch_size: int, codec) -> tuple[dict, dict]:
    """Keras's compiled metrics plus the problem's scikit-learn metrics, and its figures."""
    logs = model.evaluate(X, y, batch_size=batch_size, verbose=0, return_dict=True)
    extra, figures = _REPORTS[head_of(model).head.name](y, predict(model, X), codec)
    return {k: float(v) for k, v in logs.items()} | extra, figures
