"""Matplotlib figures: a run's (learning curves, confusion matrix, ROC, precision–recall, reliability,
parity, residuals) and the
concept recipes' (activation grid, softmax bars, decision boundary, descent path, tangents).

Every function takes plain arrays/dicts and returns a `matplotlib.figure.Figure` built
without pyplot, so nothing is registered globally and nothing pops up. Numpy, scikit-learn
and matplotlib only — no TensorFlow.
"""

from kerasact.plots._concepts import (
                                      GRID_RESOLUTION,
                                      activation_grid,
                                      decision_boundary,
                                      descent_path,
                                      gradient_flow,
                                      softmax_bars,
                                      tangent_lines,
                                      threshold_fit,
)
from kerasact.plots._errors import reliability, residuals, roc_pr, training_health
from kerasact.plots._figures import DPI, PANEL_SIZE
from kerasact.plots._run import (
                                      MAX_LABEL,
                                      NON_METRIC_KEYS,
                                      confusion_matrix,
                                      figure_to_array,
                                      learning_curves,
                                      parity,
                                      png_bytes,
                                      roc_curve,
                                      save_png,
)

__all__ = [
    "DPI", "GRID_RESOLUTION", "MAX_LABEL", "NON_METRIC_KEYS", "PANEL_SIZE", "activation_grid",
    "confusion_matrix", "decision_boundary", "descent_path", "figure_to_array", "gradient_flow",
    "learning_curves", "parity", "png_bytes", "reliability", "residuals", "roc_curve", "roc_pr", "save_png",
    "softmax_bars", "tangent_lines", "threshold_fit", "training_health",
]
