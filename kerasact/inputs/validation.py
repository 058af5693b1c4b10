"""`validate`: every input checked before TensorFlow sees it, with one short message.

Keras reports most bad inputs late and badly: a NaN trains silently to NaN weights, an
out-of-range label is a 40-line `InvalidArgumentError` (silent NaN on GPU), a wrong
feature count is a `Matrix size-incompatible` error only once the model has run. Here
each problem is a `ValueError` or `TypeError` that names the argument, what was received,
what was expected and the fix. The label rules live in `kerasact.inputs.label_formats`, one row per
label format of the head table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from kerasact import _errors, data
from kerasact.inputs import frames
from kerasact.inputs._convert import Expect
from kerasact.inputs.label_formats import LABEL_FORMATS
from kerasact.problems import Head, LabelFormat, ModelHead, get_head, head_of

# Why an array of this rank cannot be X, and what to do instead.
_RANK_HINTS = {0: "pass an array of samples, not a scalar",
               1: "use X.reshape(-1, 1) for one feature, or X.reshape(1, -1) for one sample"}


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value
class Validated:
    """What `validate` returns: the inputs, checked and in the form the model takes.

    Attributes:
        X: float32 features, shape (n, features).
        y: targets in the format the model's loss expects; as given (checked for shape and
            NaN only) when neither `problem` nor `model` was passed; None without y.
        sample_weight: float32 weights, shape (n,), or None.
        head: the problem row the targets were checked against, or None.
        labels: the label format `y` is in (a `LossOption.labels` value), or None.
        codec: maps class indices back to the original labels (with `encode=True`), or None.
        model_head: the model's head as `head_of` read it (when `model` was passed), so callers
            such as `train` carry it instead of reading the model again.
    """

    X: np.ndarray
    y: np.ndarray | None = None
    sample_weight: np.ndarray | None = None
    head: Head | None = None
    labels: LabelFormat | None = None
    codec: data.LabelCodec | None = None
    model_head: ModelHead | None = None


def validate(X: Any, y: Any = None, problem: str | None = None, model: keras.Model | None = None, *,
             sample_weight: Any = None, encode: bool = False) -> Validated:
    """Check `X` (and `y`, `sample_weight`) against a problem type or a built model.

    Args:
        X: features, shape (n_samples, n_features).
        y: targets, or None to check features only (prediction).
        problem: a problem type (`kerasact.HEADS` key) to check `y` against.
        model: a kerasact model; its input width, head and loss fix what X and y must be.
        sample_weight: per-sample loss weights, >= 0 and not all zero.
        encode: map any class labels (strings, {-1, 1}, 1..k) to indices, as
            `kerasact.train` does; without it such labels raise with the fix.

    Returns:
        A `Validated` holding float32 X and y converted for the model's loss.

    Raises:
        ValueError, TypeError: with a message of at most 300 characters.

    Example:
        >>> validate([[0.0, 1.0], [2.0, 3.0]], [1, 0], problem="binary").y.ravel().tolist()
        [1.0, 0.0]
    """
    _errors.check_bool("encode", encode)
    expect, n_features, info = _expectation(problem, model, encode)
    X = frames.table_inputs(X, model) if isinstance(X, Mapping) else _features(X, n_features)
    checked, codec = None, None
    if y is None and encode:
        raise TypeError("y is None; training needs targets, one per row of X.")
    if y is not None:
        checked = _targets(y, frames.rows(X))
        if expect is not None:
            checked, codec = LABEL_FORMATS[expect.labels].convert(checked, expect)
        _check_finite(checked, "y", converted=True)  # float64 beyond float32's range became inf
    weights = None if sample_weight is None else _weights(sample_weight, frames.rows(X))
    return Validated(X, checked, weights, expect and expect.head, expect and expect.labels, codec, info)


def _expectation(problem: str | None, model: Any, encode: bool) -> tuple[Expect | None, int | None, ModelHead | None]:
    head = None if problem is None else get_head(problem)
    if model is None:
        return (head and Expect(head, head.losses[head.default_loss].labels, None, encode)), None, None
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model (e.g. from kerasact.build_model); got {type(model).__name__}.")
    info = head_of(model)
    if head is not None and head is not info.head:
        raise ValueError(f"problem={problem!r} but the model has a {info.head.name} head; drop problem= "
                         "(the model decides) or pass the matching model.")
    return Expect(info.head, info.labels, info.units, encode), _input_width(model), info


def _input_width(model: keras.Model) -> int | None:
    try:
        width = model.inputs[0].shape[-1]
    except (AttributeError, IndexError, ValueError, TypeError):  # subclassed or not yet built
        return None
    return None if width is None else int(width)


def _array(value: Any, arg: str) -> np.ndarray:
    """`np.asarray` of arrays, lists and pandas tables, with ragged input, sparse matrices, text
    columns and missing labels refused by name (`kerasact.inputs.frames`)."""
    if value is None:
        raise TypeError(f"{arg} is None; pass an array.")
    arr = frames.to_array(value, arg, labels=arg == "y")
    if arr.dtype.kind not in "biufUS":
        raise TypeError(f"{arg} must be numbers; got dtype {arr.dtype}. Convert it, e.g. "
                        f"np.asarray({arg}, float).")
    return arr


def _numeric(value: Any, arg: str) -> np.ndarray:
    arr = _array(value, arg)
    if arr.dtype.kind in "US":
        example = arr.flat[0] if arr.size else ""
        raise TypeError(f"{arg} must be numeric; got text (dtype {arr.dtype}, e.g. {str(example)[:20]!r}). "
                        "Encode text or categorical columns as numbers first.")
    return arr


def _check_finite(arr: np.ndarray, arg: str, *, converted: bool = False) -> None:
    """NaN/inf in the input; or, once `converted` to float32, values that overflowed to inf."""
    if arr.dtype.kind != "f":
        return
    bad = ~np.isfinite(arr)
    if bad.any():
        first = np.argwhere(bad)[0]
        where = f"row {first[0]}" + (f", column {first[1]}" if len(first) > 1 else "")
        if converted:
            raise ValueError(f"{arg} has {int(bad.sum())} value(s) beyond float32's range (±3.4e38), the first at "
                             f"{where}; rescale {arg} (e.g. sklearn.preprocessing.StandardScaler).")
        raise ValueError(f"{arg} has {int(bad.sum())} NaN/inf value(s), the first at {where}; drop or impute them "
                         "(e.g. sklearn.impute.SimpleImputer).")


def _float32(arr: np.ndarray, arg: str) -> np.ndarray:
    with np.errstate(over="ignore"):  # overflow is reported below, with the fix
        arr = arr.astype(np.float32, copy=False)
    _check_finite(arr, arg, converted=True)
    return arr


def _features(X: Any, n_features: int | None) -> np.ndarray:
    arr = _numeric(X, "X")
    if arr.ndim != 2:
        hint = _RANK_HINTS.get(arr.ndim, "flatten each sample: X.reshape(len(X), -1)")
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {arr.shape}; {hint}.")
    if 0 in arr.shape:
        raise ValueError(f"X is empty (shape {arr.shape}); pass at least one sample with at least one feature.")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"X has {arr.shape[1]} features (columns) but the model expects {n_features} (its "
                         "input_dim); pass the columns it was built with, in the same order.")
    _check_finite(arr, "X")
    return _float32(arr, "X")


def _targets(y: Any, n: int) -> np.ndarray:
    arr = _array(y, "y")
    if arr.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D (n,) or 2-D (n, outputs); got shape {arr.shape}.")
    if len(arr) != n:
        raise ValueError(f"y has {len(arr)} rows but X has {n}; pass one target per row of X.")
    _check_finite(arr, "y")
    return arr


def _weights(value: Any, n: int, arg: str = "sample_weight") -> np.ndarray:
    w = _numeric(value, arg)
    w = w[:, 0] if w.ndim == 2 and w.shape[1] == 1 else w
    if w.ndim != 1 or len(w) != n:
        raise ValueError(f"{arg} must hold one weight per row of X, shape ({n},); got shape {w.shape}.")
    _check_finite(w, arg)
    w = _float32(w, arg)
    if (w < 0).any():
        raise ValueError(f"{arg} has {int((w < 0).sum())} negative value(s) (min {w.min():g}); weights "
                         "must be >= 0. Use 0 to leave a sample out.")
    if not (w > 0).any():
        raise ValueError(f"{arg} is all zero, so no sample would count; give at least one weight > 0.")
    return w


def check_split(parts: data.Split, labels: LabelFormat | None) -> None:
    """Refuse a train/validation split that leaves a class out of either part.

    Example:
        >>> check_split(data.split(np.zeros((40, 1)), np.repeat([0, 1], 20), stratify=True), "sparse")
    """
    rule = LABEL_FORMATS.get(labels)
    if rule is None or rule.classes is None:
        return
    seen = {name: set(rule.classes(y).tolist()) for name, y in
            (("train", parts.y_train), ("validation", parts.y_val), ("test", parts.y_test))}
    every = set().union(*seen.values())
    for name in ("train", "validation"):
        missing = sorted(every - seen[name])
        if missing:
            raise ValueError(f"y: the {name} split has no samples of class index(es) {missing[:5]}; add samples "
                             "of those classes, or change seed/val_size/test_size.")


def class_sample_weights(class_weight: str | Mapping[int, float], y: np.ndarray, labels: LabelFormat | None,
                         n_classes: int) -> np.ndarray:
    """`class_weight` (`"balanced"` or `{class_index: weight}`) as one weight per sample of `y`.

    Example:
        >>> class_sample_weights("balanced", np.array([0, 0, 0, 1]), "sparse", 2).tolist()
        [0.6666666865348816, 0.6666666865348816, 0.6666666865348816, 2.0]
    """
    rule = LABEL_FORMATS.get(labels)
    if rule is None or rule.classes is None:
        raise ValueError(f"class_weight applies to one-class-per-sample labels; the model's labels are {labels!r}. "
                         "Pass sample_weight instead.")
    ids = rule.classes(y)
    table = data.class_weights(ids, mode=class_weight) if isinstance(class_weight, str) else dict(class_weight)
    unknown = sorted(set(table) - set(range(n_classes)), key=str)
    if unknown:
        raise ValueError(f"class_weight keys must be class indices 0..{n_classes - 1}; got {unknown[:5]}.")
    per_class = _weights([table.get(c, 1.0) for c in range(n_classes)], n_classes, "class_weight")
    return per_class[ids]
