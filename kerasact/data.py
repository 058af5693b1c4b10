"""Data for kerasact demos: bundled datasets, concept generators, stratified splits, label codes.

Numpy and scikit-learn only — no TensorFlow, so data preparation stays cheap to import and test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn import datasets as skd
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import type_of_target

Problem = Literal["regression", "binary", "multiclass"]


@dataclass(frozen=True)
class DatasetInfo:
    loader: Callable[..., Any]  # a scikit-learn ``load_*`` function; reads package files only
    problem: Problem  # what the model must predict
    description: str  # one line for listings and recipe headers


DATASETS: dict[str, DatasetInfo] = {
    "diabetes": DatasetInfo(skd.load_diabetes, "regression",
                            "442 patients, 10 baseline measures -> progression a year later"),
    "breast_cancer": DatasetInfo(skd.load_breast_cancer, "binary",
                                 "569 tumours, 30 cell-nucleus features -> malignant or benign"),
    "digits": DatasetInfo(skd.load_digits, "multiclass",
                          "1797 8x8 handwritten digits as 64 pixel intensities -> digit 0-9"),
    "iris": DatasetInfo(skd.load_iris, "multiclass",
                        "150 flowers, 4 sepal/petal measurements -> one of 3 species"),
    "wine": DatasetInfo(skd.load_wine, "multiclass",
                        "178 wines, 13 chemical analyses -> one of 3 cultivars"),
    "linnerud": DatasetInfo(skd.load_linnerud, "regression",
                            "20 men, 3 exercise counts -> weight, waist and pulse (3 outputs)"),
}


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value
class Dataset:
    X: np.ndarray  # (n, features) float32
    y: np.ndarray  # int64 class indices, or float32 targets (n,) / (n, outputs)
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    name: str
    problem: Problem


def load_dataset(name: str) -> Dataset:
    """Load one of the scikit-learn datasets listed in ``DATASETS``.

    Example:
        >>> load_dataset("iris").X.shape
        (150, 4)
    """
    if name not in DATASETS:
        raise ValueError(f"name must be one of {sorted(DATASETS)}; got {name!r}.")
    info = DATASETS[name]
    bunch = info.loader()
    y_dtype = np.float32 if info.problem == "regression" else np.int64
    return Dataset(
        X=np.asarray(bunch.data, dtype=np.float32),
        y=np.asarray(bunch.target, dtype=y_dtype),
        feature_names=tuple(str(f) for f in bunch.feature_names),
        # diabetes ships no target names; call its single target "target"
        target_names=tuple(str(t) for t in bunch.get("target_names", ["target"])),
        name=name,
        problem=info.problem,
    )


def make_threshold(n: int = 400, *, threshold: float = 130.0, low: float = 0.0,
                   high: float = 200.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Temperatures ``t`` in degrees C, shape (n, 1) float32, labelled 1 where ``t > threshold``.

    Example:
        >>> t, y = make_threshold(5, seed=1)
        >>> bool(np.all(y == (t[:, 0] > 130.0)))
        True
    """
    if not low < high:
        raise ValueError(f"low must be below high; got low={low}, high={high}.")
    t = np.random.default_rng(seed).uniform(low, high, size=(n, 1)).astype(np.float32)
    # Label the float32 values actually returned, so the rule holds exactly for the caller.
    return t, (t[:, 0] > threshold).astype(np.int64)


def _xor(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)  # same-sign quadrants are class 1
    return X + rng.normal(0.0, noise, size=X.shape), y


GENERATORS: dict[str, Callable[[int, float, int], tuple[np.ndarray, np.ndarray]]] = {
    "xor": _xor,
    "moons": lambda n, noise, seed: skd.make_moons(n, noise=noise, random_state=seed),
    "circles": lambda n, noise, seed: skd.make_circles(n, noise=noise, factor=0.5,
                                                       random_state=seed),
}


def make_nonlinear(kind: Literal["xor", "moons", "circles"], n: int = 400, *,
                   noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two-feature binary problems no straight line can separate.

    Example:
        >>> X, y = make_nonlinear("moons", 100)
        >>> X.shape, sorted(set(y.tolist()))
        ((100, 2), [0, 1])
    """
    if kind not in GENERATORS:
        raise ValueError(f"kind must be one of {sorted(GENERATORS)}; got {kind!r}.")
    X, y = GENERATORS[kind](n, noise, seed)
    return np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class Split:
    X_train: np.ndarray
    X_val: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    y_test: np.ndarray



def _strata(y: np.ndarray) -> np.ndarray | None:
    """Labels to stratify on: the label itself, the one-hot argmax, or None for multilabel."""
    if y.ndim == 1 or y.shape[1] == 1:
        return y.reshape(len(y))
    one_hot = np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all()
    return y.argmax(axis=1) if one_hot else None


def split(X: Any, y: Any, *, test_size: float = 0.2, val_size: float = 0.2, stratify: bool,
          seed: int = 0) -> Split:
    """Shuffle into train/validation/test; both sizes are fractions of the whole data.

    Example:
        >>> parts = split(np.zeros((100, 3)), np.repeat([0, 1], 50), stratify=True)
        >>> len(parts.X_train), len(parts.X_val), len(parts.X_test)
        (60, 20, 20)
    """
    X, y = np.asarray(X), np.asarray(y)
    for arg, value in (("test_size", test_size), ("val_size", val_size)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"{arg} must be a fraction strictly between 0 and 1; got {value!r}.")
    if test_size + val_size >= 1.0:
        raise ValueError(f"test_size + val_size must be below 1 to leave training data; got "
                         f"test_size={test_size} + val_size={val_size} = {test_size + val_size}.")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows; got {len(X)} and {len(y)}.")
    strata = _strata(y) if stratify else None
    if strata is not None:
        # Enough members that each part expects at least one of every class.
        needed = math.ceil(1.0 / min(test_size, val_size, 1.0 - test_size - val_size) - 1e-9)
        classes, counts = np.unique(strata, return_counts=True)
        if counts.min() < needed:
            rare = classes.tolist()[counts.argmin()]  # plain value: reads 1, not np.int64(1)
            raise ValueError(
                f"stratify=True needs at least {needed} samples of every class for test_size="
                f"{test_size}, val_size={val_size}; class {rare!r} has only {counts.min()}. "
                "Merge rare classes, add data, or pass stratify=False.")
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, shuffle=True, stratify=strata)
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_size / (1.0 - test_size), random_state=seed, shuffle=True,
        stratify=None if strata is None else _strata(y_rest))
    return Split(X_train, X_val, X_test, y_train, y_val, y_test)


def _column(y: Any, arg: str) -> np.ndarray:
    """Accept (n,) or (n, 1) labels; return them 1-D."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        return y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{arg} must have shape (n,) or (n, 1); got shape {y.shape}.")
    return y


class LabelCodec:
    """Map any classification labels to indices 0..k-1 and back (``LabelEncoder`` order).

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
        """Labels -> int64 indices into ``classes_``."""
        classes, y = self._classes(), _column(y, "y")
        unseen = ~np.isin(y, classes)
        if unseen.any():
            raise ValueError(f"y contains labels not seen in fit: {np.unique(y[unseen]).tolist()}; "
                             f"known classes are {classes.tolist()}.")
        return np.searchsorted(classes, y).astype(np.int64)

    def decode(self, indices: Any) -> np.ndarray:
        """Int indices (e.g. ``probabilities.argmax(1)``) -> original labels."""
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
        """JSON-ready form: ``{"classes": [...]}`` with plain Python values."""
        return {"classes": self._classes().tolist()}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> LabelCodec:
        if "classes" not in state:
            raise ValueError(f"state must have a 'classes' key; got keys {sorted(state)}.")
        return cls(state["classes"])


CLASS_WEIGHT_MODES: dict[str, str | None] = {"balanced": "balanced", "uniform": None}


def class_weights(y_encoded: Any, *, mode: str = "balanced") -> dict[int, float]:
    """Per-class loss weights for ``model.fit(class_weight=...)``.

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
