"""The estimators' parameters: one table row per parameter, scikit-learn's names first.

A row gives the default, the check run at `fit` (scikit-learn's convention: `__init__` only
stores), and the `ModelSpec` field it feeds, so the spec and the estimators cannot drift
apart (`SPEC_FIELDS` names, for every spec field, the parameter that sets it or why none does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from kerasact import _errors
from kerasact.model import OPTIMIZERS, ModelSpec
from kerasact.model.spec import DTYPES

Check = Callable[[str, Any], Any]


@dataclass(frozen=True)
class Param:
    """One constructor parameter: its default, its check and the `ModelSpec` field it sets."""

    name: str
    default: Any
    check: Check
    spec: str | None = None  # the ModelSpec field this parameter sets (None: the estimator's own)


def _int(minimum: int, none: bool = False) -> Check:
    return lambda arg, v: _errors.check_int(arg, v, minimum=minimum, none=none)


def _number(minimum: float = 0.0, maximum: float | None = None, *, open_low: bool = False,
            open_high: bool = False) -> Check:
    return lambda arg, v: _errors.check_number(arg, v, minimum=minimum, maximum=maximum,
                                               open_low=open_low, open_high=open_high)


def _choice(options: Sequence[Any]) -> Check:
    return lambda arg, v: _errors.check_choice(arg, v, options)


def _batch_size(arg: str, value: Any) -> Any:
    return value if value == "auto" and isinstance(value, str) else _errors.check_int(arg, value, minimum=1)


def _random_state(arg: str, value: Any) -> Any:
    if value is None or isinstance(value, np.random.RandomState):
        return value
    return _errors.check_int(arg, int(value) if isinstance(value, np.integer) else value, minimum=0,
                             maximum=2**32 - 1)  # numpy's RandomState seeds, as scikit-learn takes


def _hidden(arg: str, value: Any) -> tuple[int, ...]:
    widths = (value,) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    if isinstance(widths, (str, bytes)) or not isinstance(widths, (Sequence, np.ndarray)):
        raise _errors.invalid(arg, value, "a tuple of layer widths such as (100,) or (64, 32)", kind=TypeError)
    return tuple(_errors.check_int(f"{arg}[{i}]", int(w) if isinstance(w, np.integer) else w, minimum=1)
                 for i, w in enumerate(widths))


def _activation(arg: str, value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence) and value and all(isinstance(v, str) for v in value):
        return tuple(value)  # one activation per hidden layer
    raise _errors.invalid(arg, value, "an activation name such as 'relu', or one name per hidden layer",
                          kind=TypeError)


def _solver(arg: str, value: Any) -> str:
    options = ["lbfgs", *OPTIMIZERS]
    if not isinstance(value, str) or value not in options:  # exact names, as scikit-learn: "SGD" is refused
        raise _errors.invalid(arg, value, f"'lbfgs' or a Keras optimizer: {_errors.listed(options, value)}",
                              options=options, kind=ValueError if isinstance(value, str) else TypeError)
    return value


def _optimizer(arg: str, value: Any) -> str:
    if not isinstance(value, str) or value.strip().lower() not in OPTIMIZERS:
        raise _errors.invalid(arg, value, f"a Keras optimizer name: {_errors.listed(OPTIMIZERS, value)}",
                              "pass None to train with solver's optimizer", options=list(OPTIMIZERS),
                              kind=ValueError if isinstance(value, str) else TypeError)
    return value.strip().lower()


def _class_weight(arg: str, value: Any) -> Any:
    if value is None or value == "balanced" or isinstance(value, Mapping):
        return value
    raise _errors.invalid(arg, value, "None, 'balanced' or a {class label: weight} dict", options=["balanced"])


def _optional(check: Check) -> Check:
    return lambda arg, v: None if v is None else check(arg, v)


def _path(arg: str, value: Any) -> Any:
    return _errors.check_path(arg, value, none=True)


def _bool(arg: str, value: Any) -> bool:
    return _errors.check_bool(arg, bool(value) if isinstance(value, np.bool_) else value)


def _verbose(arg: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    return _errors.check_int(arg, value, minimum=0)


# scikit-learn's MLPClassifier/MLPRegressor parameters, with their defaults and meaning.
SKLEARN: tuple[Param, ...] = (
    Param("hidden_layer_sizes", (100,), _hidden, spec="hidden"),
    Param("activation", "relu", _activation, spec="activation"),
    Param("solver", "adam", _solver),  # with kerasact's `optimizer`, the ModelSpec's optimizer (see optimizer_key)
    Param("alpha", 0.0001, _number(), spec="l2"),
    Param("batch_size", "auto", _batch_size),
    Param("learning_rate", "constant", _choice(["constant", "invscaling", "adaptive"])),
    Param("learning_rate_init", 0.001, _number(open_low=True), spec="learning_rate"),
    Param("power_t", 0.5, _number()),
    Param("max_iter", 200, _int(1)),
    Param("shuffle", True, _bool),
    Param("random_state", None, _random_state, spec="seed"),
    Param("tol", 1e-4, _number()),
    Param("verbose", False, _verbose),
    Param("warm_start", False, _bool),
    Param("momentum", 0.9, _number(0.0, 1.0)),
    Param("nesterovs_momentum", True, _bool),
    Param("early_stopping", False, _bool),
    Param("validation_fraction", 0.1, _number(0.0, 1.0, open_low=True, open_high=True)),
    Param("beta_1", 0.9, _number(0.0, 1.0, open_high=True)),
    Param("beta_2", 0.999, _number(0.0, 1.0, open_high=True)),
    Param("epsilon", 1e-8, _number(open_low=True)),
    Param("n_iter_no_change", 10, _int(1)),
    Param("max_fun", 15000, _int(1)),
)
# kerasact's own, after scikit-learn's.
KERASACT: tuple[Param, ...] = (
    Param("optimizer", None, _optional(_optimizer), spec="optimizer"),
    Param("dropout", 0.0, _number(0.0, 1.0, open_high=True), spec="dropout"),
    Param("batch_norm", False, _bool, spec="batch_norm"),
    Param("normalize", False, _bool, spec="normalize"),
    Param("dtype", None, _optional(_choice(DTYPES)), spec="dtype"),
    Param("log_dir", None, _path),
)
CLASSIFIER_ONLY = (Param("loss", None, _optional(lambda a, v: v), spec="loss"),
                   Param("class_weight", None, _class_weight))
REGRESSOR_ONLY = (Param("loss", "squared_error", lambda a, v: v, spec="loss"),
                  Param("normalize_target", False, _bool, spec="normalize_target"))

# Every ModelSpec field: the estimator parameter that sets it, or why none does.
SPEC_FIELDS: dict[str, str] = {
    "problem": "read off y (binary, multiclass, multilabel; regression)",
    "input_dim": "read off X", "n_classes": "read off y", "n_outputs": "read off y",
    "hidden": "hidden_layer_sizes", "activation": "activation", "dropout": "dropout", "l2": "alpha",
    "batch_norm": "batch_norm", "optimizer": "optimizer", "learning_rate": "learning_rate_init", "loss": "loss",
    "normalize": "normalize", "normalize_target": "normalize_target", "seed": "random_state", "dtype": "dtype",
    "logits": "not needed: decision_function reads the head's pre-activation directly",
    "metrics": "not needed: scikit-learn scores with score() and its scorers",
    "steps_per_execution": "automatic: kerasact's measured execution rules",
    "jit_compile": "automatic: kerasact's measured execution rules",
    "mixed_precision": "automatic: kerasact's measured execution rules",
    **dict.fromkeys(("numeric_encoding", "numeric_embedding", "categorical_encoding", "front_scale",
                     "parametrization", "parametric_activation", "weight_decay", "beta_2", "lr_schedule",
                     "regularization_schedule", "label_smoothing", "clip_output", "temperature_scaling"),
                    "not needed: the table recipe's options; the drop-ins are scikit-learn's MLP"),
}

# scikit-learn's regression loss names: its 'squared_error' is half the mean squared error (the
# estimator trains with `_model.HalfSquaredError` for it; the head row is mean squared error).
REGRESSION_LOSSES = {"squared_error": "mean_squared_error"}


def checked(estimator: Any, params: Sequence[Param]) -> dict[str, Any]:
    """The estimator's parameters, each checked by its row (raises the row's error); `optimizer`
    comes out as the Keras optimizer to train with (`optimizer_key`)."""
    p = {p.name: p.check(p.name, getattr(estimator, p.name)) for p in params}
    if "optimizer" in p and "solver" in p:
        p["optimizer"] = optimizer_key(p["solver"], p["optimizer"])
    return p


def optimizer_key(solver: str, optimizer: str | None) -> str:
    """The `OPTIMIZERS` key the network trains with: `optimizer` when set, else `solver`'s.

    `optimizer` overrides the default `solver='adam'`; beside any other solver it must name the
    same optimizer (L-BFGS takes none), so one estimator never says two things.

    Example:
        >>> optimizer_key("adam", "adamw"), optimizer_key("sgd", None)
        ('adamw', 'sgd')
    """
    if optimizer is None:
        return "adam" if solver == "lbfgs" else solver  # L-BFGS steps with scipy; Keras needs a holder
    if solver not in ("adam", optimizer):
        raise ValueError(f"solver={solver!r} and optimizer={optimizer!r} contradict each other: drop one "
                         f"(optimizer={optimizer!r} trains with the default solver='adam').")
    return optimizer


def activations_for(activation: Any, widths: tuple[int, ...]) -> list:
    """`ModelSpec.hidden` pairs: one activation for all layers or one per layer."""
    if isinstance(activation, str):
        return [(w, activation) for w in widths]
    if len(activation) != len(widths):
        raise ValueError(f"activation has {len(activation)} names for {len(widths)} hidden layers "
                         f"(hidden_layer_sizes={widths}); give one name, or one per layer.")
    return list(zip(widths, activation, strict=True))


def optimizer(p: Mapping[str, Any]) -> keras.optimizers.Optimizer:
    """The Keras optimizer `checked` resolved (`p["optimizer"]`): scikit-learn's two with
    scikit-learn's settings (`beta_1`, `beta_2`, `epsilon`; `momentum`, `nesterovs_momentum`),
    any other with Keras's defaults and `learning_rate_init`."""
    rate, name = p["learning_rate_init"], p["optimizer"]
    if name == "adam":
        return keras.optimizers.Adam(rate, beta_1=p["beta_1"], beta_2=p["beta_2"], epsilon=p["epsilon"])
    if name == "sgd":
        nesterov = p["nesterovs_momentum"] and p["momentum"] > 0
        return keras.optimizers.SGD(rate, momentum=p["momentum"], nesterov=nesterov)
    return OPTIMIZERS[name](learning_rate=rate)


def spec_for(p: Mapping[str, Any], *, problem: str, input_dim: int, count: int, dtype: str,
             l2: float, loss: str | None, seed: int, table: bool = False) -> ModelSpec:
    """The `ModelSpec` the checked parameters describe, for data of this shape (a table's
    numeric columns are standardised by its own preprocessing, so `normalize` is not needed)."""
    counted = {"n_outputs" if problem in ("regression", "multilabel") else "n_classes": count}
    return ModelSpec(problem, input_dim, **counted, hidden=tuple(activations_for(p["activation"],
                                                                                 p["hidden_layer_sizes"])),
                     dropout=p["dropout"], l2=l2, batch_norm=p["batch_norm"],
                     optimizer=p["optimizer"],
                     learning_rate=p["learning_rate_init"], loss=loss, normalize=p["normalize"] and not table,
                     normalize_target=p.get("normalize_target", False), seed=seed, dtype=dtype)
