"""Figures of a training run: learning curves, confusion matrix, ROC, parity.

Every function takes plain arrays/dicts and returns a `matplotlib.figure.Figure` built without
pyplot, so nothing is registered globally, nothing pops up, and an unreferenced figure is simply
garbage-collected. Numpy, scikit-learn and matplotlib only — no TensorFlow.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn import metrics as skm
from sklearn.utils.multiclass import unique_labels

from kerasact.plots._figures import DPI, new_figure

MAX_LABEL = 16  # characters of a class name on a confusion matrix's axes
NON_METRIC_KEYS = ("loss", "learning_rate", "lr")  # history keys that are never "the metric"


def _pick_metric(history: Mapping[str, Sequence[float]], metric: str | None) -> str | None:
    options = [k for k in history if not k.startswith("val_") and k not in NON_METRIC_KEYS]
    if metric is None:
        return options[0] if options else None
    if metric not in options:
        raise ValueError(f"metric must be one of the history's metrics {options}; got {metric!r}.")
    return metric


def learning_curves(history: Mapping[str, Sequence[float]], *, metric: str | None = None,
                    chosen: int | None = None) -> Figure:
    """Loss and the main metric per epoch, training vs validation; `chosen` (1-based) marks the
    epoch whose weights the run kept.

    Example:
        >>> fig = learning_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
    """
    if not isinstance(history, Mapping):
        raise TypeError(f"history must be a dict like keras History.history; got "
                        f"{type(history).__name__} (pass history.history).")
    if "loss" not in history:
        raise ValueError(f"history must have a 'loss' key; got keys {sorted(history)}.")
    panels = ["loss"] + [m for m in [_pick_metric(history, metric)] if m is not None]
    fig, axes = new_figure(1, len(panels))
    for ax, key in zip(axes, panels):
        for prefix, label in (("", "train"), ("val_", "validation")):
            if prefix + key in history:
                values = np.asarray(history[prefix + key], dtype=float)
                ax.plot(np.arange(1, len(values) + 1), values, label=label)
        if chosen is not None:
            ax.axvline(chosen, linestyle=":", color="black", label=f"kept: epoch {chosen}")
        drawn = np.concatenate([np.asarray(history[p + key], dtype=float) for p in ("", "val_") if p + key in history])
        drawn = drawn[np.isfinite(drawn)]
        if key == "loss" and drawn.size and drawn.min() > 0 and drawn.max() > 100 * drawn.min():
            ax.set_yscale("log")  # one early spike (1e6) would flatten every later epoch onto the axis
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
    fig, (ax,) = new_figure()
    # Long class names ("Adelie Penguin (Pygoscelis adeliae)") would squeeze the axes to nothing.
    shown = [str(label) if len(str(label)) <= MAX_LABEL else str(label)[:MAX_LABEL - 1] + "…" for label in labels]
    skm.ConfusionMatrixDisplay(counts, display_labels=shown).plot(
        ax=ax, colorbar=False, values_format="d", xticks_rotation=45 if max(map(len, shown)) > 6 else "horizontal")
    return fig


def roc_curve(y_true: Any, scores: Any) -> Figure:
    """ROC curve of binary scores, AUC in the legend, chance diagonal for reference.

    Example:
        >>> fig = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    """
    fpr, tpr, _ = skm.roc_curve(np.ravel(y_true), np.ravel(scores))
    fig, (ax,) = new_figure()
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
    fig, axes = new_figure(1, y_true.shape[1])
    for j, ax in enumerate(axes):
        both = np.concatenate([y_true[:, j], y_pred[:, j]])
        lo, hi = both.min(), both.max()
        ax.scatter(y_true[:, j], y_pred[:, j], s=12, alpha=0.6)
        ax.plot([lo, hi], [lo, hi], "--", color="grey")
        r2 = skm.r2_score(y_true[:, j], y_pred[:, j])
        ax.set(title=f"{names[j]}: R² = {r2:.3f}", xlabel="true", ylabel="predicted")
    return fig

def save_png(fig: Figure | bytes, path: str | Path) -> Path:
    """Write `fig` (or its `png_bytes`) as a PNG (creating folders), close it, and return the path.

    Example:
        >>> save_png(learning_curves({"loss": [1.0, 0.5]}), "/tmp/kerasact-doc/curves.png").name
        'curves.png'
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path must end in '.png'; got {str(path)!r}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(fig if isinstance(fig, bytes) else png_bytes(fig))
    return path


def png_bytes(fig: Figure) -> bytes:
    """Draw `fig` once as PNG bytes and close it: the same bytes go to the `.png` file and to
    TensorBoard (drawing a figure costs ~0.1 s; a run used to draw each one twice).

    Example:
        >>> png_bytes(learning_curves({"loss": [1.0, 0.5]})).startswith(b"\x89PNG")
        True
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:  # only pyplot-made figures are registered anywhere and need closing
        pyplot.close(fig)
    return buffer.getvalue()


def figure_to_array(fig: Figure) -> np.ndarray:
    """Render `fig` to a uint8 RGBA image of shape (H, W, 4), e.g. for `tf.summary.image`.

    Example:
        >>> figure_to_array(learning_curves({"loss": [1.0]})).shape[-1]
        4
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba(), dtype=np.uint8).copy()  # copy: the buffer is reused
