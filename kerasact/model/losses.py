"""`SmoothedSparseCategoricalCrossentropy`: label smoothing for integer class labels.

Keras 3.15's `SparseCategoricalCrossentropy` has no `label_smoothing` (only the dense
`CategoricalCrossentropy` and `BinaryCrossentropy` do). RealMLP-TD (Holzmüller et al., NeurIPS 2024)
trains classes with `use_ls=True, ls_eps=0.1` (pytabkit `models/sklearn/default_params.py`):
`models/nn_models/nn.py::LabelSmoothingLayer.forward_tensors` turns the one-hot target into
`(1 - eps) * y + eps / n_classes`, which is Keras's dense rule, so this loss one-hots the labels and
calls `keras.losses.categorical_crossentropy(..., label_smoothing=eps)`. It subclasses the sparse
loss, so `kerasact.problems.reading` reads it as the head-table loss it extends. For two classes
with one sigmoid unit, `keras.losses.BinaryCrossentropy(label_smoothing=eps)` is the same rule
(targets `(1 - eps) * y + eps / 2`).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kerasact._errors import invalid


def smoothed_sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                             label_smoothing: float = 0.0, axis: int = -1) -> Any:
    """Per-sample cross-entropy of integer labels, one-hot to `y_pred`'s class count and smoothed.

    Example:
        >>> loss = smoothed_sparse_categorical_crossentropy(np.array([0]), np.array([[0.9, 0.1]]), label_smoothing=0.1)
        >>> round(float(loss[0]), 4)  # -(0.95 log 0.9 + 0.05 log 0.1)
        0.2152
    """
    y_pred, y_true = ops.convert_to_tensor(y_pred), ops.convert_to_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[axis] == 1:
        y_true = ops.squeeze(y_true, axis=axis)
    one_hot = ops.one_hot(ops.cast(y_true, "int32"), y_pred.shape[axis], axis=axis, dtype=y_pred.dtype)
    return keras.losses.categorical_crossentropy(one_hot, y_pred, from_logits=from_logits,
                                                 label_smoothing=label_smoothing, axis=axis)


@keras.saving.register_keras_serializable(package="kerasact")
class SmoothedSparseCategoricalCrossentropy(keras.losses.SparseCategoricalCrossentropy):
    """Cross-entropy of integer labels against `(1 - label_smoothing) * one_hot + label_smoothing / K`.

    `y_true`: integer class ids, shape `(batch,)` or `(batch, 1)`; `y_pred`: `(batch, K)`
    probabilities (or logits with `from_logits=True`). Equal to
    `keras.losses.CategoricalCrossentropy(label_smoothing=...)` on the one-hot labels.

    Args:
        label_smoothing: the mass spread evenly over the K classes, in [0, 1] (RealMLP-TD: 0.1).
        from_logits: whether `y_pred` holds logits.
        axis: the class axis of `y_pred`.
        reduction: as any Keras loss.
        name: the loss name.
        dtype: as any Keras loss.

    Example:
        >>> loss = SmoothedSparseCategoricalCrossentropy(0.1)
        >>> round(float(loss(np.array([0]), np.array([[0.9, 0.1]]))), 4)  # targets [0.95, 0.05]
        0.2152
    """

    def __init__(self, label_smoothing: float = 0.1, from_logits: bool = False, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "smoothed_sparse_categorical_crossentropy", dtype: Any = None) -> None:
        if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) \
                or not 0 <= label_smoothing <= 1:
            raise invalid("label_smoothing", label_smoothing, "a number in [0, 1]",
                          "pass e.g. label_smoothing=0.1 (0 gives the plain sparse loss)")
        super().__init__(from_logits=from_logits, reduction=reduction, axis=axis, name=name, dtype=dtype)
        self.label_smoothing = float(label_smoothing)
        self.axis = axis
        self.fn = smoothed_sparse_categorical_crossentropy
        self._fn_kwargs = {"from_logits": from_logits, "label_smoothing": self.label_smoothing, "axis": axis}

    def get_config(self) -> dict[str, Any]:
        """The loss's `__init__` arguments."""
        config = keras.losses.Loss.get_config(self)
        config.update(label_smoothing=self.label_smoothing, from_logits=self.from_logits, axis=self.axis)
        return config
