"""One row per label format: everything kerasact knows about a kind of `y`, in one table.

A head's loss names the label format it takes (`LossOption.labels`); that key leads here to
how `y` is converted and checked, how class indices are read back (for stratified splits
and class weights), which loss family it belongs to (what the loss expects of the output,
for lint), how the testing fixtures make such labels, how labels are laid out like the
outputs (the best constant prediction), and how held-out predictions are scored. Adding a
problem type means adding its `HEADS` row and, for a new kind of `y`, one row here;
`tests/inputs/test_label_formats.py` walks `HEADS` x formats to prove nothing is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from kerasact.data import LabelCodec
from kerasact.inputs import _convert, _scoring
from kerasact.inputs._convert import Expect
from kerasact.problems import LabelFormat

LossFamily = Literal["values", "binary", "categorical"]


def _median(s: np.ndarray) -> np.ndarray:
    # Thresholds at the median keep every class present in the fixtures.
    return np.median(s, axis=0, keepdims=True)


def _indices(s: np.ndarray) -> np.ndarray:
    return (s - _median(s)).argmax(axis=1).astype("int64")


def _as_is(y: np.ndarray, units: int) -> np.ndarray:
    return np.asarray(y).reshape(len(y), units)


def _one_per_sample(y: np.ndarray) -> np.ndarray:
    return np.asarray(y).reshape(-1).astype(np.int64)


def _argmax(y: np.ndarray) -> np.ndarray:
    return np.asarray(y).argmax(axis=1)


@dataclass(frozen=True)
class LabelFormatRow:
    """How one label format is converted, read, made and scored.

    Attributes:
        name: the format, a `LossOption.labels` value.
        convert: `(y, expect) -> (y in this format, LabelCodec or None)`; raises on bad y.
        classes: converted y -> one class index per sample; None for formats that are not
            one class per sample (values, multi-hot), which are never stratified.
        family: what a loss of this format expects of the output: `"values"` (any real),
            `"binary"` (a probability per unit), `"categorical"` (one distribution per row).
        make: a linear teacher's scores `(n, units)` -> labels in this format (fixtures).
        as_outputs: `(y, units)` -> labels laid out like the outputs; their column means are
            the best constant prediction (class frequencies, or the target means).
        score: `(y, predictions, codec) -> (metrics, figures)` on held-out rows; each figure a
            zero-argument callable that draws it.
    """

    name: LabelFormat
    convert: Callable[[np.ndarray, Expect], tuple[np.ndarray, LabelCodec | None]]
    classes: Callable[[np.ndarray], np.ndarray] | None
    family: LossFamily
    make: Callable[[np.ndarray], np.ndarray]
    as_outputs: Callable[[np.ndarray, int], np.ndarray]
    score: Callable[[np.ndarray, np.ndarray, Any], _scoring.Scores]


LABEL_FORMATS: dict[str, LabelFormatRow] = {
    "values": LabelFormatRow(
        "values", _convert.to_values, None, "values",
        make=lambda s: s.astype("float32"), as_outputs=_as_is, score=_scoring.values),
    "binary": LabelFormatRow(
        "binary", _convert.to_binary, _one_per_sample, "binary",
        make=lambda s: (s > _median(s)).astype("float32"), as_outputs=_as_is, score=_scoring.binary),
    "sparse": LabelFormatRow(
        "sparse", _convert.to_sparse, _one_per_sample, "categorical",
        make=_indices, as_outputs=lambda y, units: np.eye(units)[_one_per_sample(y)],
        score=_scoring.one_of_k(_one_per_sample)),
    "one_hot": LabelFormatRow(
        "one_hot", _convert.to_one_hot, _argmax, "categorical",
        make=lambda s: np.eye(s.shape[1], dtype="float32")[_indices(s)], as_outputs=_as_is,
        score=_scoring.one_of_k(_argmax)),
    "multi_hot": LabelFormatRow(
        "multi_hot", _convert.to_multi_hot, None, "binary",
        make=lambda s: (s > _median(s)).astype("float32"), as_outputs=_as_is, score=_scoring.multi_hot),
}


def get(labels: str) -> LabelFormatRow:
    """The row of a label format, or a message listing the valid ones.

    Example:
        >>> get("one_hot").family
        'categorical'
    """
    if labels not in LABEL_FORMATS:
        raise ValueError(f"labels={labels!r} is not a label format. Valid options: {sorted(LABEL_FORMATS)}.")
    return LABEL_FORMATS[labels]
