"""Bundled scikit-learn datasets and the concept generators (threshold, xor, moons, circles).

Numpy and scikit-learn only — no TensorFlow, so data preparation stays cheap to import and test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn import datasets as skd

# The problem types of kerasact.HEADS (a test keeps the two in step; data sits below the
# head table in the import order, so it cannot read HEADS itself).
Problem = Literal["regression", "binary", "multiclass", "multilabel"]


@dataclass(frozen=True)
class DatasetInfo:
    loader: Callable[..., Any]  # a scikit-learn `load_*` function; reads package files only
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
    """Load one of the scikit-learn datasets listed in `DATASETS`.

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
    """Temperatures `t` in degrees C, shape (n, 1) float32, labelled 1 where `t > threshold`.

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
