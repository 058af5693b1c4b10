"""Reading a built model back: which head it has (`head_of`) and its outputs as
probabilities or values (`predict`), whether it was built with `logits=True` or not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from kerasact import activations, serving
from kerasact.heads import HEADS, LOSS_ALIASES, Head, LossOption
from kerasact.validation import validate


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
            if loss is not None and _same_loss(loss, name, option):
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


def _same_loss(loss: Any, name: str, option: LossOption) -> bool:
    # compile(loss="bce") keeps the string; compile(loss=keras.losses.X()) keeps the object.
    if isinstance(loss, str):
        key = loss.strip().lower()
        return LOSS_ALIASES.get(key, key) == name
    return type(loss) is option.cls


def _output_activation(model: keras.Model) -> str:
    last = model.layers[-1]
    act = getattr(last, "activation", None)
    return getattr(act, "__name__", "linear") if act is not None else "linear"


def predict(model: keras.Model, X: Any) -> np.ndarray:
    """Probabilities (classifiers) or values (regression) for `X`.

    A model built with `logits=True` outputs raw scores; `predict` applies the head's
    link (sigmoid or softmax) so callers always get probabilities.

    Args:
        model: a compiled kerasact (or any Keras) model.
        X: features, shape `(n, input_dim)`.

    Returns:
        A float array of shape `(n, units)`.

    Example:
        >>> model = build_model("binary", 4, logits=True)
        >>> predict(model, np.zeros((2, 4))).shape
        (2, 1)
    """
    X = validate(X, model=model).X  # float32; bad X is a clear ValueError/TypeError, never a TF error
    # A cached compiled function: ~0.1 ms for one row where model.predict's loop costs ~45 ms.
    out = np.asarray(serving.predict(model, X))
    info = head_of(model)
    if info.from_logits:
        out = activations.get(info.head.activation).fn(out.astype(np.float64)).astype(np.float32)
    return out
