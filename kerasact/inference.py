"""Reading a built model back: which head it has (`head_of`) and its outputs as
probabilities or values (`predict`), whether it was built with `logits=True` or not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from kerasact import activations
from kerasact.heads import HEADS, Head


@dataclass(frozen=True)
class ModelHead:
    """What `head_of` reads off a model: its problem row, loss and output form."""

    head: Head
    units: int
    loss: str | None          # loss key in head.losses, None when not compiled
    from_logits: bool         # True when the output layer is linear and the loss applies the link


def head_of(model: keras.Model) -> ModelHead:
    """Identify a model's head from its compiled loss (or, uncompiled, its output activation).

    Binary and multilabel share binary cross-entropy; the row whose `fixed_units`
    matches the output width wins, so one sigmoid unit reads as binary.

    Example:
        >>> from kerasact import build_model
        >>> head_of(build_model("multiclass", 4, n_classes=3)).head.name
        'multiclass'
    """
    units = int(model.outputs[0].shape[-1])
    loss = model.loss if getattr(model, "compiled", False) else None
    config = loss.get_config() if isinstance(loss, keras.losses.Loss) else {}
    from_logits = bool(config.get("from_logits", False))
    matches = []
    for row in HEADS.values():
        for name, option in row.losses.items():
            if loss is not None and type(loss) is option.cls:
                matches.append((row, name))
        if loss is None and row.activation == _output_activation(model):
            matches.append((row, None))
    if not matches:
        known = sorted({name for row in HEADS.values() for name in row.losses})
        raise ValueError(f"Cannot tell the problem type of model {model.name!r}: its loss {loss!r} is none of {known}.")
    # A row with a fixed width (binary: 1 unit) only matches that width, and wins when it does.
    matches = [m for m in matches if m[0].fixed_units in (None, units)] or matches
    matches.sort(key=lambda m: m[0].fixed_units != units)
    row, name = matches[0]
    return ModelHead(row, units, name, from_logits)


def _output_activation(model: keras.Model) -> str:
    last = model.layers[-1]
    act = getattr(last, "activation", None)
    return getattr(act, "__name__", "linear") if act is not None else "linear"


def predict(model: keras.Model, X: Any, *, batch_size: int = 1024) -> np.ndarray:
    """Probabilities (classifiers) or values (regression) for `X`.

    A model built with `logits=True` outputs raw scores; `predict` applies the head's
    link (sigmoid or softmax) so callers always get probabilities.

    Args:
        model: a compiled kerasact (or any Keras) model.
        X: features, shape `(n, input_dim)`.
        batch_size: rows per step for large inputs.

    Returns:
        A float array of shape `(n, units)`.

    Example:
        >>> model = build_model("binary", 4, logits=True)
        >>> predict(model, np.zeros((2, 4))).shape
        (2, 1)
    """
    X = np.asarray(X, dtype=np.float32)
    # Small inputs skip Keras's predict loop, whose per-call set-up costs ~40 ms.
    out = model.predict_on_batch(X) if len(X) <= batch_size else model.predict(X, batch_size=batch_size, verbose=0)
    out = np.asarray(out)
    info = head_of(model)
    if info.from_logits:
        out = activations.get(info.head.activation).fn(out.astype(np.float64)).astype(np.float32)
    return out
