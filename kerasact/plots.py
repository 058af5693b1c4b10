"""Matplotlib figures for kerasact runs and concept demos.

Every function takes plain arrays/dicts and returns a ``matplotlib.figure.Figure`` built without
pyplot, so nothing is registered globally, nothing pops up, and an unreferenced figure is simply
garbage-collected. Numpy, scikit-learn and matplotlib only — no TensorFlow.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn import metrics as skm
from sklearn.utils.multiclass import unique_labels

DPI = 100
PANEL_SIZE = (4.0, 3.2)  # inches per subplot; figures grow with their panel count
NON_METRIC_KEYS = ("loss", "learning_rate", "lr")  # history keys that are never "the metric"
GRID_RESOLUTION = 200  # points per side for decision-boundary and descent contours


def _figure(nrows: int = 1, ncols: int = 1) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(PANEL_SIZE[0] * ncols, PANEL_SIZE[1] * nrows), dpi=DPI,
                 layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False).ravel()


def _pick_metric(history: Mapping[str, Sequence[float]], metric: str | None) -> str | None:
    options = [k for k in history if not k.startswith("val_") and k not in NON_METRIC_KEYS]
    if metric is None:
        return options[0] if options else None
    if metric not in options:
        raise ValueError(f"metric must be one of the history's metrics {options}; got {metric!r}.")
    return metric


def learning_curves(history: Mapping[str, Sequence[float]], *, metric: str | None = None) -> Figure:
    """Loss and the main metric per epoch, training vs validation.

    Example:
        >>> fig = learning_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
    """
    if not isinstance(history, Mapping):
        raise TypeError(f"history must be a dict like keras History.history; got "
                        f"{type(history).__name__} (pass history.history).")
    if "loss" not in history:
        raise ValueError(f"history must have a 'loss' key; got keys {sorted(history)}.")
    panels = ["loss"] + [m for m in [_pick_metric(history, metric)] if m is not None]
    fig, axes = _figure(1, len(panels))
    for ax, key in zip(axes, panels):
        for prefix, label in (("", "train"), ("val_", "validation")):
            if prefix + key in history:
                values = np.asarray(history[prefix + key], dtype=float)
                ax.plot(np.arange(1, len(values) + 1), values, label=label)
        ax.set(title=key, xlabel="epoch")
        ax.legend()
    return fig


def confusion_matrix(y_true: Any, y_pred: Any, *, labels: Sequence[Any] | None = None) -> Figure:
    """Confusion-matrix counts, true labels on rows, every cell annotated.

    Example:
        >>> fig = confusion_matrix([0, 1, 1], [0, 1, 0])
    """
    labels = unique_labels(y_true, y_pred) if labels is None else np.asarray(labels)
    counts = skm.confusion_matrix(y_true, y_pred, labels=labels)
    fig, (ax,) = _figure()
    skm.ConfusionMatrixDisplay(counts, display_labels=labels).plot(
        ax=ax, colorbar=False, values_format="d")
    return fig


def roc_curve(y_true: Any, scores: Any) -> Figure:
    """ROC curve of binary scores, AUC in the legend, chance diagonal for reference.

    Example:
        >>> fig = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    """
    fpr, tpr, _ = skm.roc_curve(np.ravel(y_true), np.ravel(scores))
    fig, (ax,) = _figure()
    ax.plot(fpr, tpr, label=f"ROC (AUC = {skm.auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", aspect="equal")
    ax.legend(loc="lower right")
    return fig


def parity(y_true: Any, y_pred: Any, *, names: Sequence[str] | None = None) -> Figure:
    """Predicted vs true with the y = x line; one panel per output, R² in each title.

    Example:
        >>> fig = parity([1.0, 2.0, 3.0], [1.1, 1.9, 3.2])
    """
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if y_true.size != y_pred.size:
        raise ValueError(f"y_pred must match y_true's shape {y_true.shape}; got {y_pred.shape}.")
    y_true = y_true.reshape(len(y_true), -1)
    y_pred = y_pred.reshape(y_true.shape)  # (n,) vs (n, 1) predictions are the same thing
    names = names or [f"output {j}" for j in range(y_true.shape[1])]
    fig, axes = _figure(1, y_true.shape[1])
    for j, ax in enumerate(axes):
        both = np.concatenate([y_true[:, j], y_pred[:, j]])
        lo, hi = both.min(), both.max()
        ax.scatter(y_true[:, j], y_pred[:, j], s=12, alpha=0.6)
        ax.plot([lo, hi], [lo, hi], "--", color="grey")
        r2 = skm.r2_score(y_true[:, j], y_pred[:, j])
        ax.set(title=f"{names[j]}: R² = {r2:.3f}", xlabel="true", ylabel="predicted")
    return fig


def activation_grid(activations: Mapping[str, tuple[Callable, Callable | None]], *,
                    x: np.ndarray | None = None) -> Figure:
    """One panel per activation: the function and, dashed, its derivative.

    Example:
        >>> fig = activation_grid({"tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2)})
    """
    if not activations:
        raise ValueError("activations must map at least one name to (function, derivative).")
    x = np.linspace(-5.0, 5.0, 401) if x is None else np.asarray(x, dtype=float)
    ncols = min(4, len(activations))
    fig, axes = _figure(math.ceil(len(activations) / ncols), ncols)
    for ax in axes[len(activations):]:
        fig.delaxes(ax)  # the last row may not be full
    for ax, (name, (function, derivative)) in zip(axes, activations.items()):
        ax.plot(x, function(x), label="f(x)")
        if derivative is not None:
            ax.plot(x, derivative(x), "--", label="f'(x)")
        ax.set(title=name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return fig


def softmax_bars(scores: Any, probabilities: Any, labels: Sequence[str] | None = None) -> Figure:
    """Raw scores beside their softmax probabilities, which sum to 1.

    Example:
        >>> fig = softmax_bars([2.0, 1.0, 0.1], [0.66, 0.24, 0.10], ["cat", "dog", "fox"])
    """
    scores, probabilities = np.ravel(scores), np.ravel(probabilities)
    if scores.shape != probabilities.shape:
        raise ValueError(f"probabilities must have one value per score ({scores.size}); "
                         f"got {probabilities.size}.")
    labels = [str(i) for i in range(scores.size)] if labels is None else [str(s) for s in labels]
    fig, (ax_s, ax_p) = _figure(1, 2)
    ax_s.bar_label(ax_s.bar(labels, scores), fmt="%.2f")
    ax_s.set(title="scores (logits)")
    ax_p.bar_label(ax_p.bar(labels, probabilities, color="tab:orange"), fmt="%.2f")
    ax_p.set(title=f"softmax probabilities: sum = {probabilities.sum():.3f}", ylim=(0, 1.1))
    return fig


def _grid(points: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """A square meshgrid covering ``points`` (n, 2) with a 10 % margin, never zero-width."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = np.maximum(0.1 * (hi - lo), 0.5)
    axes = [np.linspace(lo[i] - pad[i], hi[i] + pad[i], resolution) for i in (0, 1)]
    return np.meshgrid(*axes)


def decision_boundary(predict: Callable[[np.ndarray], np.ndarray], X: Any, y: Any, *,
                      title: str = "") -> Figure:
    """Filled contour of ``predict`` over the plane spanned by ``X`` (n, 2), points on top.

    ``predict`` gets float32 (m, 2) and may return (m,), (m, 1) or per-class (m, k) values;
    per-class outputs are drawn as their argmax.

    Example:
        >>> fig = decision_boundary(lambda g: g[:, 0] > 0, [[-1, 0], [1, 0]], [0, 1])
    """
    X, y = np.asarray(X, dtype=float), np.ravel(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2) to draw in the plane; got {X.shape}.")
    xx, yy = _grid(X, GRID_RESOLUTION)
    z = np.asarray(predict(np.c_[xx.ravel(), yy.ravel()].astype(np.float32)), dtype=float)
    z = z.argmax(axis=1) if z.ndim == 2 and z.shape[1] > 1 else z
    fig, (ax,) = _figure()
    ax.contourf(xx, yy, z.reshape(xx.shape), levels=20, cmap="RdBu_r", alpha=0.4)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", s=14, edgecolors="k", linewidths=0.3)
    ax.set(title=title, xlabel="x0", ylabel="x1")
    return fig


def descent_path(f: Callable[[np.ndarray, np.ndarray], np.ndarray], path: Any, *,
                 title: str = "") -> Figure:
    """Contours of ``f(x0, x1)`` (vectorised) with the gradient-descent path, start to end.

    Example:
        >>> fig = descent_path(lambda a, b: a**2 + 3 * b**2, [[2.0, 1.0], [1.0, 0.4], [0.5, 0.1]])
    """
    path = np.asarray(path, dtype=float)
    if path.ndim != 2 or path.shape[1] != 2:
        raise ValueError(f"path must have shape (steps, 2); got {path.shape}.")
    xx, yy = _grid(path, GRID_RESOLUTION)
    fig, (ax,) = _figure()
    ax.contour(xx, yy, f(xx, yy), levels=20, cmap="viridis")
    ax.plot(path[:, 0], path[:, 1], "o-", color="tab:red", markersize=3, label="descent path")
    ax.scatter(*path[0], marker="s", color="k", zorder=3, label="start")
    ax.scatter(*path[-1], marker="*", s=120, color="gold", zorder=3, label="end")
    ax.set(title=title, xlabel="x0", ylabel="x1")
    ax.legend()
    return fig


def tangent_lines(f: Callable[[np.ndarray], np.ndarray], points: Sequence[float],
                  slopes: Sequence[float], *, x: np.ndarray | None = None) -> Figure:
    """The curve ``f`` with a short tangent of the given slope at each point.

    Example:
        >>> fig = tangent_lines(np.square, [-1.0, 0.5], [-2.0, 1.0])
    """
    points, slopes = np.ravel(points).astype(float), np.ravel(slopes).astype(float)
    if points.shape != slopes.shape:
        raise ValueError(f"slopes must have one value per point ({points.size}); "
                         f"got {slopes.size}.")
    x = np.linspace(-3.0, 3.0, 301) if x is None else np.asarray(x, dtype=float)
    half = (x.max() - x.min()) / 8  # tangents are local: draw them short
    fig, (ax,) = _figure()
    ax.plot(x, f(x), label="f(x)")
    for p, s in zip(points, slopes):
        t = np.array([p - half, p + half])
        ax.plot(t, f(np.array([p]))[0] + s * (t - p), "--", label=f"slope {s:.2f} at x = {p:.2f}")
    ax.scatter(points, f(points), color="k", zorder=3)
    ax.legend(fontsize="small")
    return fig


def threshold_fit(t: Any, y: Any, t_grid: Any, p_grid: Any, boundary: float) -> Figure:
    """Target step labels vs the learned sigmoid p(t), with the decision boundary marked.

    Example:
        >>> grid = np.linspace(0, 200, 5)
        >>> fig = threshold_fit([100, 150], [0, 1], grid, 1 / (1 + np.exp(130 - grid)), 130.0)
    """
    t, y = np.ravel(t).astype(float), np.ravel(y).astype(float)
    order = np.argsort(t)
    fig, (ax,) = _figure()
    ax.step(t[order], y[order], where="mid", color="grey", label="target (step)")
    ax.plot(np.ravel(t_grid), np.ravel(p_grid), color="tab:blue", label="learned sigmoid p(t)")
    ax.axvline(boundary, linestyle=":", color="tab:red", label=f"boundary = {boundary:.1f} °C")
    ax.set(xlabel="temperature (°C)", ylabel="p(label = 1)", ylim=(-0.05, 1.05))
    ax.legend()
    return fig


def save_png(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as a PNG (creating folders), close it, and return the path.

    Example:
        >>> save_png(learning_curves({"loss": [1.0, 0.5]}), "/tmp/kerasact-doc/curves.png").name
        'curves.png'
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path must end in '.png'; got {str(path)!r}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI)
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:  # only pyplot-made figures are registered anywhere and need closing
        pyplot.close(fig)
    return path


def figure_to_array(fig: Figure) -> np.ndarray:
    """Render ``fig`` to a uint8 RGBA image of shape (H, W, 4), e.g. for ``tf.summary.image``.

    Example:
        >>> figure_to_array(learning_curves({"loss": [1.0]})).shape[-1]
        4
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba(), dtype=np.uint8).copy()  # copy: the buffer is reused
