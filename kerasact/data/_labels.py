"""Classification labels: `LabelCodec` (any labels <-> indices 0..k-1) and class weights.

Numpy and scikit-learn only — no TensorFlow, so data preparation stays cheap to import and test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import type_of_target


def _column(y: Any, arg: str) -> np.ndarray:
    """Accept (n,) or (n, 1) labels; return them 1-D."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        return y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{arg} must have shape (n,) or (n, 1); got shape {y.shape}.")
    return y


class LabelCodec:
    """Map any classification labels to indices 0..k-1 and back (`LabelEncoder` order).

    Example:
        >>> codec = LabelCodec().fit(["cat", "dog", "cat"])
        >>> codec.encode(["dog"]).tolist(), codec.decode([0]).tolist()
        ([1], ['cat'])
    """

    def __init__(self, classes: Any = None) -> None:
        self.classes_: np.ndarray | None = None if classes is None else np.unique(classes)

    def fit(self, y: Any) -> LabelCodec:
        y = _column(y, "y")
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"y must hold class labels (binary or multiclass); scikit-learn "
                             f"reads it as {kind!r}. Regression targets need no LabelCodec.")
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"y must contain at least 2 classes; got only "
                             f"{self.classes_.tolist()}.")
        return self

    @property
    def n_classes(self) -> int:
        return len(self._classes())

    def _classes(self) -> np.ndarray:
        if self.classes_ is None:
            raise NotFittedError("This LabelCodec is not fitted yet; call fit(y) first.")
        return self.classes_

    def encode(self, y: Any) -> np.ndarray:
        """Labels -> int64 indices into `classes_`."""
        classes, y = self._classes(), _column(y, "y")
        unseen = ~np.isin(y, classes)
        if unseen.any():
            raise ValueError(f"y contains labels not seen in fit: {np.unique(y[unseen]).tolist()}; "
                             f"known classes are {classes.tolist()}.")
        return np.searchsorted(classes, y).astype(np.int64)

    def decode(self, indices: Any) -> np.ndarray:
        """Int indices (e.g. `probabilities.argmax(1)`) -> original labels."""
        classes, idx = self._classes(), _column(indices, "indices")
        if idx.dtype.kind not in "iu":
            raise TypeError(f"indices must be integers; got dtype {idx.dtype}.")
        if idx.size and (idx.min() < 0 or idx.max() >= len(classes)):
            raise ValueError(f"indices must lie in 0..{len(classes) - 1}; got values from "
                             f"{idx.min()} to {idx.max()}.")
        return classes[idx]

    def one_hot(self, y: Any) -> np.ndarray:
        """Labels -> float32 one-hot rows of shape (n, k)."""
        return np.eye(self.n_classes, dtype=np.float32)[self.encode(y)]

    def to_dict(self) -> dict[str, list[Any]]:
        """JSON-ready form: `{"classes": [...]}` with plain Python values."""
        return {"classes": self._classes().tolist()}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> LabelCodec:
        if "classes" not in state:
            raise ValueError(f"state must have a 'classes' key; got keys {sorted(state)}.")
        return cls(state["classes"])


CLASS_WEIGHT_MODES: dict[str, str | None] = {"balanced": "balanced", "uniform": None}


def class_weights(y_encoded: Any, *, mode: str = "balanced") -> dict[int, float]:
    """Per-class loss weights for `model.fit(class_weight=...)`.

    Example:
        >>> class_weights([0, 0, 0, 1])
        {0: 0.6666666666666666, 1: 2.0}
    """
    if mode not in CLASS_WEIGHT_MODES:
        raise ValueError(f"mode must be one of {sorted(CLASS_WEIGHT_MODES)}; got {mode!r}.")
    y = _column(y_encoded, "y_encoded")
    if y.dtype.kind not in "iu":
        raise TypeError(f"y_encoded must be integer class indices (see LabelCodec.encode); "
                        f"got dtype {y.dtype}.")
    classes = np.unique(y)
    weights = compute_class_weight(CLASS_WEIGHT_MODES[mode], classes=classes, y=y)
    return {int(c): float(w) for c, w in zip(classes, weights)}
