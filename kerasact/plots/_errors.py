"""Figures of a run's report: where the model errs (ROC and precision–recall per class, the
reliability (calibration) curve, residuals) and how training went (gradient flow, dead units).
Plain arrays in, a pyplot-free `Figure` out;
numpy, scikit-learn and matplotlib only — no TensorFlow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from kerasact.plots._figures import new_figure

MAX_CURVES = 10  # classes drawn one by one at most; above this, the micro average alone
BINS = 10  # reliability bins (quantile bins: each holds about the same rows)


def _indicator(truth: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(0/1 truth, scores) as (n, k) columns: a binary run's single column stays one."""
    truth, scores = np.asarray(truth, float), np.asarray(scores, float)
    return truth.reshape(len(truth), -1), scores.reshape(len(scores), -1)


def roc_pr(truth: Any, scores: Any, *, names: Sequence[str] | None = None) -> Figure:
    """ROC (left) and precision–recall (right) curves, one per class or label (one-vs-rest), with
    AUC and average precision in the legend; many classes: the micro average only.

    Args:
        truth: (n, k) 0/1 indicators, or (n,) 0/1 for one positive class.
        scores: the predicted probabilities in the same layout.
        names: the class (or label) of each column.

    Example:
        >>> fig = roc_pr([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    """
    truth, scores = _indicator(truth, scores)
    names = list(names) if names is not None else [f"class {j}" for j in range(truth.shape[1])]
    fig, (roc, pr) = new_figure(1, 2)
    drawn = [j for j in range(truth.shape[1]) if 0 < truth[:, j].sum() < len(truth)]  # both kinds of rows present
    curves = [(names[j], truth[:, j], scores[:, j]) for j in drawn] if len(drawn) <= MAX_CURVES else []
    if truth.shape[1] > 1:
        curves.append(("micro average", truth.ravel(), scores.ravel()))
    for name, t, s in curves:
        fpr, tpr, _ = skm.roc_curve(t, s)
        roc.plot(fpr, tpr, label=f"{name} (AUC {skm.auc(fpr, tpr):.3f})")
        precision, recall, _ = skm.precision_recall_curve(t, s)
        pr.plot(recall, precision, drawstyle="steps-post", label=f"{name} (AP {skm.average_precision_score(t, s):.3f})")
    roc.plot([0, 1], [0, 1], "--", color="grey", label="chance")
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    pr.set(xlabel="recall", ylabel="precision", title="Precision–recall", ylim=(0, 1.02))
    for ax in (roc, pr):
        ax.legend(loc="lower right" if ax is roc else "lower left", fontsize="small")
    return fig


def reliability(truth: Any, scores: Any, *, top_label: bool = False) -> Figure:
    """The reliability curve: predicted probability against the observed frequency in quantile
    bins; the diagonal is perfect calibration. `top_label`: a multiclass run's confidence in its
    chosen class against how often that class is right.

    Example:
        >>> fig = reliability([0, 0, 1, 1, 1, 0], [0.1, 0.3, 0.6, 0.9, 0.7, 0.4])
    """
    truth, scores = _indicator(truth, scores)
    if top_label:
        chosen = scores.argmax(axis=1)
        t, s, what = truth[np.arange(len(truth)), chosen], scores.max(axis=1), "confidence in the chosen class"
    else:
        t, s, what = truth.ravel(), scores.ravel(), "predicted probability"
    observed, predicted = calibration_curve(t, s, n_bins=min(BINS, max(2, len(t) // 10)), strategy="quantile")
    fig, (ax,) = new_figure()
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfectly calibrated")
    ax.plot(predicted, observed, "o-", label=f"model (Brier {np.mean((s - t) ** 2):.3f})")
    ax.set(xlabel=what, ylabel="observed frequency", title="Reliability", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper left", fontsize="small")
    return fig


def residuals(y_true: Any, y_pred: Any, *, names: Sequence[str] | None = None) -> Figure:
    """Residual (true − predicted) against the prediction, one panel per output, zero line drawn.

    Example:
        >>> fig = residuals([1.0, 2.0, 3.0], [1.1, 1.9, 3.2])
    """
    y_true, y_pred = (np.asarray(v, float).reshape(len(v), -1) for v in (y_true, y_pred))
    names = list(names) if names is not None else [f"output {j}" for j in range(y_true.shape[1])]
    fig, axes = new_figure(1, y_true.shape[1])
    for j, ax in enumerate(axes):
        ax.scatter(y_pred[:, j], y_true[:, j] - y_pred[:, j], s=12, alpha=0.6)
        ax.axhline(0.0, linestyle="--", color="grey")
        ax.set(title=f"{names[j]}: residuals", xlabel="predicted", ylabel="true − predicted")
    return fig


def training_health(norms: Mapping[str, float], stalled: Mapping[str, float | None]) -> Figure:
    """Left: each layer's gradient norm at the last probe (log scale, input side first); right:
    the share of each hidden layer's units that are dead (ReLU-like) or saturated (sigmoid-like).

    Example:
        >>> fig = training_health({"dense": 0.3, "output": 0.5}, {"dense": 0.1})
    """
    fig, (flow, dead) = new_figure(1, 2)
    names = list(norms)
    flow.barh(np.arange(len(names)), np.maximum(np.asarray([norms[n] for n in names], float), np.finfo(float).tiny))
    spread = max(norms.values(), default=1.0) / max(min(norms.values(), default=1.0), np.finfo(float).tiny)
    # A log axis only when the norms span two decades: inside one, its minor labels pile up unreadably.
    flow.set(xscale="log" if spread > 100 else "linear", yticks=np.arange(len(names)), yticklabels=names,
             xlabel="‖dL/dW‖", title="Gradient flow (input side on top)")
    flow.invert_yaxis()
    shown = [n for n, share in stalled.items() if share is not None]
    dead.barh(np.arange(len(shown)), [stalled[n] for n in shown], color="#c0504d")
    dead.set(yticks=np.arange(len(shown)), yticklabels=shown, xlim=(0, 1), xlabel="share of units",
             title="Dead or saturated units")
    if not shown:  # a parametric or linear activation has no dead or saturated state to count
        dead.text(0.5, 0.5, "no layer whose units can die\nor saturate (ReLU- or sigmoid-like)", ha="center",
                  va="center", transform=dead.transAxes, color="grey")
    dead.invert_yaxis()
    return fig
