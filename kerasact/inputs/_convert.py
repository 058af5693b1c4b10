"""Label conversion: `y` checked against a model's head and turned into one label format.

`LossOption.labels` names the format a loss expects; `LABEL_FORMATS[format].convert` turns `y`
into exactly that format, or raises a `ValueError`/`TypeError` saying what was received,
what was expected and the fix. Conversions happen only where they are unambiguous:
one-hot rows for an integer-label loss become indices, integer labels for a one-hot loss
become rows, booleans become 0/1. With `encode=True` (what `kerasact.train` passes) any
class labels (strings, {-1, 1}, 1..k) are mapped to indices by a `LabelCodec`; without it
they are explained, because a caller holding raw labels would misread the predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kerasact.data import LabelCodec
from kerasact.problems.heads import HEADS, Head, LabelFormat

# The rows a message can point to: the problem types whose default loss takes each format.
_PROBLEM_FOR = {row.losses[row.default_loss].labels: name for name, row in HEADS.items()}


@dataclass(frozen=True)
class Expect:
    """What a head wants from `y`.

    Attributes:
        head: the problem row.
        labels: the label format of the model's loss.
        units: the model's output units; None when only the problem type is known.
        encode: map any class labels to 0..k-1 (kerasact.train) instead of explaining.
    """

    head: Head
    labels: LabelFormat
    units: int | None
    encode: bool

    @property
    def n_classes(self) -> int | None:
        # A fixed-width row (binary: one sigmoid unit) holds min_count classes; else one unit per class.
        return self.head.min_count if self.head.fixed_units else self.units


def _shown(values: np.ndarray, limit: int = 4) -> str:
    items = np.unique(values).tolist()
    return "{" + ", ".join(map(repr, items[:limit])) + (", ..." if len(items) > limit else "") + "}"


def _is_text(y: np.ndarray) -> bool:
    return y.dtype.kind in "USO"


def _whole(y: np.ndarray, ex: Expect) -> np.ndarray:
    """Bools, ints and whole-number floats as int64 class labels; continuous values refused."""
    fractional = y[np.mod(y, 1) != 0] if y.dtype.kind == "f" else y[:0]
    if fractional.size:
        raise ValueError(
            f"y holds continuous values like {fractional[0]:g} but the model is a {ex.head.name} classifier; "
            f"threshold or round them to class labels, or build with problem={_PROBLEM_FOR['values']!r}.")
    return y.astype(np.int64)


def _encoded(y: np.ndarray, ex: Expect) -> tuple[np.ndarray, LabelCodec]:
    k, found = ex.n_classes, np.unique(y)
    if k is not None and len(found) > k:
        raise _too_many(found, ex)
    codec = LabelCodec().fit(y)
    return codec.encode(y), codec


def _explained(y: np.ndarray, ex: Expect) -> ValueError:
    """Integer labels outside 0..k-1 without encode: say which way they are off."""
    k, found = ex.n_classes, np.unique(y)
    if k is None:
        return ValueError(f"y labels must be class indices >= 0; got {_shown(found)}. Map them to 0..k-1 "
                          "(kerasact.data.LabelCodec), or use kerasact.train, which encodes any labels.")
    if len(found) > k:
        return _too_many(found, ex)
    if found.min() == 1 and found.max() == k:
        return ValueError(f"y labels look 1-based (1..{k}) but the {k}-class model needs 0..{k - 1}; pass y - 1.")
    return ValueError(f"y labels for the {ex.head.name} head must be class indices 0..{k - 1}; got {_shown(found)}. "
                      f"Map them (kerasact.data.LabelCodec), or use kerasact.train, which encodes any {k} labels.")


def _too_many(found: np.ndarray, ex: Expect) -> ValueError:
    return ValueError(
        f"y has {len(found)} classes {_shown(found)} but the model's {ex.head.name} head has {ex.n_classes}; "
        "rebuild it for that many classes (kerasact.infer_problem(y).build_kwargs()) or drop the extra labels.")


def _from_rows(y: np.ndarray, ex: Expect) -> tuple[np.ndarray, LabelCodec | None]:
    """2-D y for a one-class-per-sample head: one-hot rows become indices, anything else is explained."""
    cols, k = y.shape[1], ex.n_classes
    if _is_text(y):
        raise TypeError(f"y is 2-D text (shape {y.shape}); pass one label per sample, shape (n,).")
    zero_one = bool(np.isin(y, (0, 1)).all())
    if zero_one and bool((y.sum(axis=1) == 1).all()):
        if k is not None and cols != k:
            raise ValueError(f"y has {cols} one-hot columns but the model's {ex.head.name} head has {k} classes; "
                             f"rebuild with n_classes={cols}, or fix y.")
        return y.argmax(axis=1), LabelCodec(np.arange(cols)) if ex.encode else None
    if zero_one:
        raise ValueError(f"y rows hold several 1s (multi-hot) but the {ex.head.name} head takes one class per sample; "
                         f"for several labels per sample build with problem={_PROBLEM_FOR['multi_hot']!r}.")
    raise ValueError(f"y has shape {y.shape} but the {ex.head.name} head expects one label per sample: "
                     f"class indices of shape (n,) or one-hot rows of shape (n, {k or 'k'}).")


def _class_indices(y: np.ndarray, ex: Expect) -> tuple[np.ndarray, LabelCodec | None]:
    """Any single-label classification y -> int64 indices 0..k-1, plus the codec when encoding."""
    idx, codec = _indices(y, ex)
    if ex.encode and len(np.unique(idx)) < 2:  # training on one class learns a constant
        raise ValueError(f"y has a single class {_shown(y if y.ndim == 1 else idx)}; training needs at least 2 "
                         "classes. Add samples of the others.")
    return idx, codec


def _indices(y: np.ndarray, ex: Expect) -> tuple[np.ndarray, LabelCodec | None]:
    y = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim == 2:
        return _from_rows(y, ex)
    k = ex.n_classes
    if _is_text(y):
        if ex.encode:
            return _encoded(y, ex)
        raise TypeError(f"y holds strings like {_shown(y)} but a {ex.labels} loss needs class indices "
                        f"0..{k - 1 if k else 'k-1'}; encode them (kerasact.data.LabelCodec), or use kerasact.train, "
                        "which encodes any labels.")
    y = _whole(y, ex)
    if y.min() >= 0 and (k is None or y.max() < k):  # already indices: keep them, so class i stays class i
        return y, (LabelCodec(np.arange(k)) if k else LabelCodec().fit(y)) if ex.encode else None
    if ex.encode:
        return _encoded(y, ex)
    raise _explained(y, ex)


def to_binary(y: np.ndarray, ex: Expect) -> tuple[np.ndarray, LabelCodec | None]:
    idx, codec = _class_indices(y, ex)
    return idx.astype(np.float32).reshape(-1, 1), codec


def to_sparse(y: np.ndarray, ex: Expect) -> tuple[np.ndarray, LabelCodec | None]:
    return _class_indices(y, ex)


def to_one_hot(y: np.ndarray, ex: Expect) -> tuple[np.ndarray, LabelCodec | None]:
    idx, codec = _class_indices(y, ex)
    k = ex.n_classes or (codec.n_classes if codec else int(idx.max()) + 1)
    return np.eye(k, dtype=np.float32)[idx], codec


def _numbers(y: np.ndarray, ex: Expect) -> np.ndarray:
    if _is_text(y):
        raise TypeError(f"y holds strings like {_shown(y)} but the {ex.head.name} head needs numbers; for class "
                        "labels build a classifier (kerasact.infer_problem(y).build_kwargs()).")
    with np.errstate(over="ignore"):  # validate reports overflow to inf, with the fix
        return y.astype(np.float32)


def to_values(y: np.ndarray, ex: Expect) -> tuple[np.ndarray, None]:
    y = _numbers(y, ex)
    cols = 1 if y.ndim == 1 else y.shape[1]
    if ex.units is not None and cols != ex.units:
        raise ValueError(f"y has {cols} column(s) but the model has {ex.units} output unit(s); pass y of shape "
                         f"(n, {ex.units}) or rebuild with n_outputs={cols}.")
    return y, None


def to_multi_hot(y: np.ndarray, ex: Expect) -> tuple[np.ndarray, None]:
    y = _numbers(y, ex)
    y = y.reshape(-1, 1) if y.ndim == 1 else y
    if ex.units is not None and y.shape[1] != ex.units:
        raise ValueError(f"y has {y.shape[1]} column(s) but the model has {ex.units} labels (sigmoid units); pass "
                         f"0/1 rows of shape (n, {ex.units}) or rebuild with n_outputs={y.shape[1]}.")
    bad = y[~np.isin(y, (0.0, 1.0))]
    if bad.size:
        raise ValueError(f"y multi-hot targets must be 0/1; got values {_shown(bad)}. Threshold them (e.g. y > 0), "
                         f"or build with problem={_PROBLEM_FOR['values']!r} for continuous targets.")
    return y, None
