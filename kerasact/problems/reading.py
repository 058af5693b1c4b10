"""The one reader of built models: which head and loss a model has, what its layers apply,
whether it is built and compiled, and an uncompiled functional view of it.

Lint, the testing assertions, the gradient check, validation, prediction and evaluation all
ask these questions; they ask them here, so each has one answer and one wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

from kerasact import activations
from kerasact.problems.heads import HEADS, LOSS_ALIASES, Head, LabelFormat


@dataclass(frozen=True)
class ModelHead:
    """What `head_of` reads off a model: its problem row, loss and output form."""

    head: Head
    units: int
    loss: str | None          # loss key in head.losses, None when not compiled
    from_logits: bool         # True when the output layer is linear and the loss applies the link

    @property
    def labels(self) -> LabelFormat:
        """The label format the model's loss takes (the head's default loss when uncompiled)."""
        return self.head.losses[self.loss or self.head.default_loss].labels


def require_built(model: Any) -> None:
    """Refuse a model whose layers have no weights yet, naming it and the fix.

    Example:
        >>> require_built(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
    """
    if not getattr(model, "built", False):
        raise ValueError(f"Argument 'model' ({getattr(model, 'name', model)!r}) must be built: start it "
                         "with keras.Input(shape) or call it once on data, so its weights have shapes.")


def require_compiled(model: keras.Model) -> Any:
    """The model's compiled loss as Keras holds it (a Loss, a name or a function); refuses
    models compiled without one.

    Example:
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile(loss="mse")
        >>> require_compiled(model)
        'mse'
    """
    loss = getattr(model, "loss", None) if getattr(model, "compiled", False) else None
    if loss is None:
        raise ValueError(f"Argument 'model' ({model.name!r}) must be compiled with a loss; got "
                         f"loss={getattr(model, 'loss', None)!r}. Call model.compile(loss=...) first.")
    return loss


def compiled_loss(model: keras.Model) -> Any:
    """The compiled loss as a callable `(y_true, y_pred) -> loss`, refusing uncompiled models.

    Example:
        >>> model.compile(loss="mse")  # doctest: +SKIP
        >>> compiled_loss(model).__name__  # doctest: +SKIP
        'mean_squared_error'
    """
    loss = require_compiled(model)
    return loss if isinstance(loss, keras.losses.Loss) else keras.losses.get(loss)


def loss_config(model: keras.Model) -> dict[str, Any]:
    """The compiled Loss object's config (`from_logits`, ...); {} for names, functions or none.

    Example:
        >>> from kerasact import build_model
        >>> loss_config(build_model("binary", 4, logits=True))["from_logits"]
        True
    """
    loss = getattr(model, "loss", None) if getattr(model, "compiled", False) else None
    return loss.get_config() if isinstance(loss, keras.losses.Loss) else {}


def _loss_keys(loss: Any) -> list[tuple[Head, str]]:
    """The (row, head-table loss name) pairs a compiled loss matches; Keras keeps a string as
    given, a Loss object as the object and a loss function by its `__name__`.

    A subclass of a table loss (the estimators' `HalfSquaredError`, a user's scaled loss) reads
    as the nearest table class in its MRO, so it keeps its head without a row of its own.
    """
    if isinstance(loss, keras.losses.Loss):
        for cls in type(loss).__mro__:
            found = [(row, name) for row in HEADS.values() for name, option in row.losses.items()
                     if option.cls is cls]
            if found:
                return found
        return []
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", None)
    if not isinstance(name, str):
        return []
    key = name.strip().lower()
    key = LOSS_ALIASES.get(key, key)
    return [(row, key) for row in HEADS.values() if key in row.losses]


def activation_of(layer: Any) -> activations.Activation | None:
    """The catalog row of the activation a layer applies; None for layers without one and for
    custom activation functions outside the catalog.

    Example:
        >>> activation_of(keras.layers.Dense(3, activation="swish")).name
        'silu'
    """
    act = getattr(layer, "activation", None)
    name = getattr(act, "__name__", None)
    try:
        return None if name is None else activations.get(name)
    except ValueError:  # a custom activation function
        return None


def output_activation(model: keras.Model) -> str:
    """The name of the activation the last layer applies (`"linear"` when it applies none).

    Example:
        >>> from kerasact import build_model
        >>> output_activation(build_model("multiclass", 4, n_classes=3))
        'softmax'
    """
    act = getattr(model.layers[-1], "activation", None)
    return getattr(act, "__name__", "linear") if act is not None else "linear"


def output_units(model: keras.Model) -> int:
    """The width of the model's (first) output.

    Example:
        >>> from kerasact import build_model
        >>> output_units(build_model("multilabel", 4, n_outputs=5))
        5
    """
    return int(model.outputs[0].shape[-1])


def functional_view(model: keras.Model) -> keras.Model:
    """An uncompiled functional model sharing the layers (and weights) of `model`.

    `keras.models.clone_model` of a compiled model recompiles it from its config, which fails
    for unregistered custom losses and builds optimizer slots; cloning this view avoids both.
    Single tensors, not one-element lists, keep Keras's structure check quiet.

    Example:
        >>> from kerasact import build_model
        >>> view = functional_view(build_model("binary", 4))
        >>> view.compiled, view.output_shape
        (False, (None, 1))
    """
    require_built(model)
    ins, outs = model.inputs, model.outputs
    return keras.Model(ins[0] if len(ins) == 1 else ins, outs[0] if len(outs) == 1 else outs)


def head_of(model: keras.Model) -> ModelHead:
    """Identify a model's head from its compiled loss (or, uncompiled, its output activation).

    Binary and multilabel share binary cross-entropy; the row whose `fixed_units`
    matches the output width wins, so one sigmoid unit reads as binary.

    Example:
        >>> from kerasact import build_model
        >>> head_of(build_model("multiclass", 4, n_classes=3)).head.name
        'multiclass'
    """
    units = output_units(model)
    loss = getattr(model, "loss", None) if getattr(model, "compiled", False) else None
    from_logits = bool(loss_config(model).get("from_logits", False))
    if loss is not None:
        matches: list[tuple[Head, str | None]] = list(_loss_keys(loss))
    else:
        act = output_activation(model)
        matches = [(row, None) for row in HEADS.values() if row.activation == act]
    if not matches:
        known = sorted({name for row in HEADS.values() for name in row.losses})
        raise ValueError(f"Cannot tell the problem type of model {model.name!r}: its loss {loss!r} is none of {known}.")
    # A row with a fixed width (binary: 1 unit) only matches that width, and wins when it does.
    matches = [m for m in matches if m[0].fixed_units in (None, units)] or matches
    matches.sort(key=lambda m: m[0].fixed_units != units)
    row, name = matches[0]
    return ModelHead(row, units, name, from_logits)


def loss_key(model: keras.Model) -> str | None:
    """The head-table name of the compiled loss; None when uncompiled or not a head-table loss.

    Example:
        >>> from kerasact import build_model
        >>> loss_key(build_model("multiclass", 4, n_classes=3, loss="cce"))
        'categorical_crossentropy'
    """
    loss = getattr(model, "loss", None) if getattr(model, "compiled", False) else None
    keys = _loss_keys(loss) if loss is not None else []
    return keys[0][1] if keys else None
