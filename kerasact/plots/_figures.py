"""The one place figures are made: a pyplot-free `Figure` sized by its panel count.

Shared by `_run` (run figures) and `_concepts` (concept demos), so both export PNGs of
the same size per panel. Numpy and matplotlib only — no TensorFlow.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

DPI = 100
PANEL_SIZE = (4.0, 3.2)  # inches per subplot; figures grow with their panel count


def new_figure(nrows: int = 1, ncols: int = 1) -> tuple[Figure, np.ndarray]:
    """A constrained-layout `Figure` and its axes as a flat array (never squeezed).

    Example:
        >>> fig, axes = new_figure(1, 2)
        >>> len(axes)
        2
    """
    fig = Figure(figsize=(PANEL_SIZE[0] * ncols, PANEL_SIZE[1] * nrows), dpi=DPI,
                 layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False).ravel()
