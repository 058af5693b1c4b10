"""Matplotlib figures for the concept demos: activations, softmax, boundaries, descent, tangents.

Like `plots`, every function takes plain arrays/callables and returns a
`matplotlib.figure.Figure` built without pyplot. Numpy and matplotlib only — no TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from kerasact.plots._figures import new_figure

GRID_RESOLUTION = 200  # points per side for decision-boundary and descent contours


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
    fig, axes = new_figure(math.ceil(len(activations) / ncols), ncols)
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
    fig, (ax_s, ax_p) = new_figure(1, 2)
    ax_s.bar_label(ax_s.bar(labels, scores), fmt="%.2f")
    ax_s.set(title="scores (logits)")
    ax_p.bar_label(ax_p.bar(labels, probabilities, color="tab:orange"), fmt="%.2f")
    ax_p.set(title=f"softmax probabilities: sum = {probabilities.sum():.3f}", ylim=(0, 1.1))
    return fig


def _grid(points: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """A square meshgrid covering `points` (n, 2) with a 10 % margin, never zero-width."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = np.maximum(0.1 * (hi - lo), 0.5)
    axes = [np.linspace(lo[i] - pad[i], hi[i] + pad[i], resolution) for i in (0, 1)]
    return np.meshgrid(*axes)


def decision_boundary(predict: Callable[[np.ndarray], np.ndarray], X: Any, y: Any, *,
                      title: str = "") -> Figure:
    """Filled contour of `predict` over the plane spanned by `X` (n, 2), points on top.

    `predict` gets float32 (m, 2) and may return (m,), (m, 1) or per-class (m, k) values;
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
    fig, (ax,) = new_figure()
    ax.contourf(xx, yy, z.reshape(xx.shape), levels=20, cmap="RdBu_r", alpha=0.4)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", s=14, edgecolors="k", linewidths=0.3)
    ax.set(title=title, xlabel="x0", ylabel="x1")
    return fig


def descent_path(f: Callable[[np.ndarray, np.ndarray], np.ndarray], path: Any, *,
                 title: str = "") -> Figure:
    """Contours of `f(x0, x1)` (vectorised) with the gradient-descent path, start to end.

    Example:
        >>> fig = descent_path(lambda a, b: a**2 + 3 * b**2, [[2.0, 1.0], [1.0, 0.4], [0.5, 0.1]])
    """
    path = np.asarray(path, dtype=float)
    if path.ndim != 2 or path.shape[1] != 2:
        raise ValueError(f"path must have shape (steps, 2); got {path.shape}.")
    xx, yy = _grid(path, GRID_RESOLUTION)
    fig, (ax,) = new_figure()
    ax.contour(xx, yy, f(xx, yy), levels=20, cmap="viridis")
    ax.plot(path[:, 0], path[:, 1], "o-", color="tab:red", markersize=3, label="descent path")
    ax.scatter(*path[0], marker="s", color="k", zorder=3, label="start")
    ax.scatter(*path[-1], marker="*", s=120, color="gold", zorder=3, label="end")
    ax.set(title=title, xlabel="x0", ylabel="x1")
    ax.legend()
    return fig


def tangent_lines(f: Callable[[np.ndarray], np.ndarray], points: Sequence[float],
                  slopes: Sequence[float], *, x: np.ndarray | None = None) -> Figure:
    """The curve `f` with a short tangent of the given slope at each point.

    Example:
        >>> fig = tangent_lines(np.square, [-1.0, 0.5], [-2.0, 1.0])
    """
    points, slopes = np.ravel(points).astype(float), np.ravel(slopes).astype(float)
    if points.shape != slopes.shape:
        raise ValueError(f"slopes must have one value per point ({points.size}); "
                         f"got {slopes.size}.")
    x = np.linspace(-3.0, 3.0, 301) if x is None else np.asarray(x, dtype=float)
    half = (x.max() - x.min()) / 8  # tangents are local: draw them short
    fig, (ax,) = new_figure()
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
    fig, (ax,) = new_figure()
    ax.step(t[order], y[order], where="mid", color="grey", label="target (step)")
    ax.plot(np.ravel(t_grid), np.ravel(p_grid), color="tab:blue", label="learned sigmoid p(t)")
    ax.axvline(boundary, linestyle=":", color="tab:red", label=f"boundary = {boundary:.1f} °C")
    ax.set(xlabel="temperature (°C)", ylabel="p(label = 1)", ylim=(-0.05, 1.05))
    ax.legend()
    return fig


def gradient_flow(norms: Mapping[str, Sequence[float]], histories: Mapping[str, Mapping[str, Sequence[float]]],
                  *, metric: str = "val_loss") -> Figure:
    """Left: each stack's per-layer gradient norm by depth (log scale, input side first); right:
    its learning curve of `metric`.

    Example:
        >>> fig = gradient_flow({"relu": [0.3, 0.4, 0.5]}, {"relu": {"val_loss": [0.7, 0.4]}})
    """
    if not norms:
        raise ValueError("norms must map at least one stack name to its per-layer gradient norms.")
    fig, (depth, curves) = new_figure(1, 2)
    for name, values in norms.items():
        values = np.maximum(np.asarray(values, dtype=float), np.finfo(float).tiny)  # log axis: 0 -> tiny
        depth.plot(np.arange(1, len(values) + 1), values, "o-", label=name)
    depth.set(yscale="log", xlabel="Dense layer (1 = next to the input; last = the head)",
              ylabel="||dL/dW|| at initialisation", title="Gradient norm by depth")
    for name, history in histories.items():
        if metric in history:
            curves.plot(np.arange(1, len(history[metric]) + 1), history[metric], label=name)
    curves.set(xlabel="epoch", ylabel=metric, title=f"Learning curves ({metric})")
    for ax in (depth, curves):
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return fig
