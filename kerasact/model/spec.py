"""`ModelSpec`: a validated, frozen description of a kerasact model, readable from and
writable to TOML or JSON, so the same model can be built from keyword arguments or a file."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import keras
from keras.src.metrics import ALL_OBJECTS_DICT  # Keras's registry of metric names: no public accessor

from kerasact import _errors, activations
from kerasact.model import optimizers
from kerasact.problems import heads
from kerasact.runtime import execution

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

HiddenLayer = int | tuple[int, str] | list
DTYPES = ("float32", "float64")  # float64: scikit-learn's precision, for exact comparisons and small data
MAX_SEED = 2**31 - 1  # TensorFlow's stateless seeds are int32: a larger seed fails at build time
# The table recipe's template options (RealMLP-TD, Holzmüller et al., NeurIPS 2024): each field's
# choices, the first being today's plain stack (the default of every field).
CHOICES: dict[str, tuple[str, ...]] = {
    "numeric_encoding": ("standard", "robust"),       # z-score; median/IQR scale + smooth clip
    "numeric_embedding": ("none", "periodic"),        # RealMLP's PBLD embedding per number
    "categorical_encoding": ("one_hot", "compact"),   # one-hot with a missing level; ≤8 one-hot, else embedding
    "parametrization": ("standard", "ntk"),           # Glorot Dense; NTK-parametrised Dense
    "lr_schedule": ("constant", "coslog4"),           # RealMLP's multi-cycle log-cosine schedule
    "regularization_schedule": ("constant", "flat_cos"),  # dropout and weight decay flat, then cosine to 0
}


# The heads whose outputs are probabilities: what temperature scaling recalibrates.
TEMPERATURE_HEADS = tuple(name for name, row in heads.HEADS.items() if row.probabilistic)


@dataclass(frozen=True)
class ModelSpec:
    """Everything `build_model` needs, checked once when the spec is made.

    Example:
        >>> spec = ModelSpec("binary", input_dim=30, hidden=[(25, "relu"), 15])
        >>> spec.hidden
        ((25, 'relu'), (15, 'relu'))
    """

    problem: str                                  # a key of kerasact.HEADS (aliases accepted)
    input_dim: int                                # number of input features
    n_classes: int | None = None                  # classes (binary, multiclass)
    n_outputs: int | None = None                  # regression targets / multilabel labels
    hidden: tuple = (64, 32)                      # widths, or (width, activation) pairs
    activation: str = "relu"                      # hidden activation for bare widths
    dropout: float = 0.0                          # dropout rate after each hidden layer
    l2: float = 0.0                               # L2 penalty on every kernel
    batch_norm: bool = False                      # BatchNormalization before each hidden activation
    optimizer: str = "adam"                       # any keras.optimizers name
    learning_rate: float | None = None            # None: the optimizer's default
    loss: str | None = None                       # None: the head's default loss
    logits: bool = False                          # linear output + from_logits loss (stable form)
    metrics: tuple[str, ...] = ()                 # extra Keras metrics beyond the head's
    normalize: bool = False                       # Normalization of the inputs, adapted on training X
    normalize_target: bool = False                # regression: learn standardised y, output y's units
    seed: int | None = None                       # seeds every initializer and dropout layer
    steps_per_execution: int | None = None        # batches per compiled call; None: measured rule
    jit_compile: bool | None = None               # XLA; None: measured rule (off on CPU)
    mixed_precision: bool | None = None           # bfloat16 hidden layers; None: measured rule
    dtype: str = "float32"                        # weights and arithmetic: "float32" or "float64"
    numeric_encoding: str = "standard"            # table numbers: see CHOICES
    numeric_embedding: str = "none"               # table numbers: see CHOICES
    categorical_encoding: str = "one_hot"         # table categories: see CHOICES
    front_scale: bool = False                     # a learnable per-feature scale before the first layer
    parametrization: str = "standard"             # hidden and output Dense layers: see CHOICES
    parametric_activation: bool = False           # a learnable per-unit mix of the activation and identity
    weight_decay: float = 0.0                     # decoupled weight decay on kernels (AdamW-style)
    beta_2: float | None = None                   # Adam's second-moment decay; None: the optimizer's default
    lr_schedule: str = "constant"                 # see CHOICES
    regularization_schedule: str = "constant"     # dropout and weight decay over training: see CHOICES
    label_smoothing: float = 0.0                  # classes: targets mixed with the uniform distribution
    clip_output: bool = False                     # regression: predictions clipped to the training range
    temperature_scaling: bool = False             # classes: one temperature fitted on the validation rows
    output_units: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        head = heads.get(self.problem)
        _set(self, "problem", head.name)
        _errors.check_int("input_dim", self.input_dim, minimum=1)
        if self.n_classes is not None and self.n_outputs is not None and self.n_classes != self.n_outputs:
            raise ValueError(f"n_classes={self.n_classes} and n_outputs={self.n_outputs} disagree; give one.")
        count_arg = "n_classes" if self.n_classes is not None or self.n_outputs is None else "n_outputs"
        count = self.n_classes if self.n_classes is not None else self.n_outputs
        _set(self, "output_units", head.units(count, arg=count_arg))
        _set(self, "activation", _dense_activation(self.activation, "activation").name)
        _set(self, "hidden", _normalise_hidden(self.hidden, self.activation))
        _errors.check_number("dropout", self.dropout, minimum=0, maximum=1, open_high=True)
        _errors.check_number("l2", self.l2, minimum=0)
        for flag in ("batch_norm", "logits", "normalize", "normalize_target", "front_scale", "parametric_activation",
                     "clip_output", "temperature_scaling"):
            _errors.check_bool(flag, getattr(self, flag))
        _set(self, "optimizer", optimizers.resolve(self.optimizer))
        _errors.check_number("learning_rate", self.learning_rate, minimum=0, open_low=True, none=True)
        _set(self, "loss", head.loss_option(self.loss)[0])
        if self.logits and not head.probabilistic:
            probabilistic = sorted(name for name, row in heads.HEADS.items() if row.probabilistic)
            raise ValueError(f"logits=True applies to probability heads {probabilistic}; "
                             f"problem={head.name!r} already has a linear output.")
        if self.normalize_target and head.probabilistic:
            raise ValueError("normalize_target=True applies to linear-output heads; "
                             f"problem={head.name!r} outputs probabilities.")
        if isinstance(self.metrics, str):
            raise TypeError(f"metrics must be a list of names; got the string {self.metrics!r}.")
        _set(self, "metrics", tuple(_check_metric(m) for m in self.metrics))
        _errors.check_int("seed", self.seed, minimum=0, maximum=MAX_SEED, none=True)
        _errors.check_choice("dtype", self.dtype, DTYPES)
        for name, options in CHOICES.items():
            _errors.check_choice(name, getattr(self, name), options)
        _errors.check_number("weight_decay", self.weight_decay, minimum=0)
        _errors.check_number("beta_2", self.beta_2, minimum=0, maximum=1, open_high=True, none=True)
        _errors.check_number("label_smoothing", self.label_smoothing, minimum=0, maximum=1, open_high=True)
        if self.label_smoothing and not head.probabilistic:
            raise ValueError(f"label_smoothing={self.label_smoothing} applies to class heads; problem={head.name!r} "
                             "predicts values: drop it.")
        if self.temperature_scaling and (head.name not in TEMPERATURE_HEADS or self.logits):
            raise ValueError(f"temperature_scaling=True rescales probabilities, heads "
                             f"{list(TEMPERATURE_HEADS)} without logits=True; problem={head.name!r}, "
                             f"logits={self.logits}: drop it.")
        if self.clip_output and head.probabilistic:
            raise ValueError(f"clip_output=True applies to regression; problem={head.name!r} outputs probabilities.")
        execution.validate(self)
        if self.dtype != "float32" and self.mixed_precision:
            raise ValueError(f"mixed_precision=True computes in bfloat16, which contradicts dtype={self.dtype!r}; "
                             "give one of them.")

    @property
    def head(self) -> heads.Head:
        return heads.HEADS[self.problem]

    # -- round trip ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the init fields; None values are left out (TOML has no null)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.init and value is not None:
                out[f.name] = ([list(h) for h in value] if f.name == "hidden"
                               else list(value) if isinstance(value, tuple) else value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        """Build a spec from a dict, refusing unknown keys with the list of valid ones."""
        if not isinstance(data, dict):
            raise TypeError(f"A model spec must be a table/object of keys; got {type(data).__name__}.")
        valid = [f.name for f in fields(cls) if f.init]
        unknown = sorted(set(data) - set(valid))
        if unknown:
            raise ValueError(f"Unknown key(s) {unknown} in model spec. Valid keys: {valid}.")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_toml(self) -> str:
        return "".join(f"{key} = {_toml_value(value)}\n" for key, value in self.to_dict().items())

    @classmethod
    def load(cls, path: str | Path) -> ModelSpec:
        """Read a spec from a `.toml` or `.json` file.

        Example:
            >>> ModelSpec.load("model.toml")  # doctest: +SKIP
        """
        path = Path(path)
        readers = {".toml": lambda text: tomllib.loads(text), ".json": json.loads}
        if path.suffix not in readers:
            raise ValueError(f"Spec file {str(path)!r} must end in one of {sorted(readers)}.")
        try:
            data = readers[path.suffix](path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as err:
            raise ValueError(f"Spec file {str(path)!r} is not UTF-8 text (byte {err.start}: {err.reason}); "
                             "save it as UTF-8.") from None
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"Spec file {str(path)!r} is not valid {path.suffix[1:].upper()}: {err}") from None
        return cls.from_dict(data)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        writers = {".toml": self.to_toml, ".json": self.to_json}
        if path.suffix not in writers:
            raise ValueError(f"Spec file {str(path)!r} must end in one of {sorted(writers)}.")
        path.write_text(writers[path.suffix]())
        return path

    def replace(self, **changes: Any) -> ModelSpec:
        return dataclasses.replace(self, **changes)


def _set(spec: ModelSpec, name: str, value: Any) -> None:
    object.__setattr__(spec, name, value)  # frozen: normalised values are set once, here


def _dense_activation(identifier: Any, arg: str) -> activations.Activation:
    """A catalog row that a Dense layer can apply by name (see `activations.DENSE_NAMES`)."""
    row = activations.get(identifier)
    if row.name not in activations.DENSE_NAMES:
        deviation = activations.KERAS_DEVIATIONS.get(row.name)
        # The deviation's first clause is its upstream issue; the full text is in KERAS_DEVIATIONS.
        reason = f"the installed Keras miscomputes it ({deviation.split(':')[0]})." if deviation else row.use
        valid = _errors.listed(activations.DENSE_NAMES, row.name, where="kerasact.activations.DENSE_NAMES", n=3)
        raise ValueError(f"{arg}={row.name!r} cannot be a Dense layer's activation: {reason} Valid options: {valid}.")
    return row


def _normalise_hidden(hidden: Sequence[HiddenLayer], default: str) -> tuple[tuple[int, str], ...]:
    if isinstance(hidden, (int, str)) or not isinstance(hidden, Sequence):
        raise TypeError(f"hidden must be a list of widths or (width, activation) pairs; got {hidden!r}.")
    layers = []
    for i, item in enumerate(hidden):
        width, act = (item, default) if not isinstance(item, (tuple, list)) else (tuple(item) + (None,))[:2]
        if isinstance(item, (tuple, list)) and len(item) != 2:
            raise ValueError(f"hidden[{i}] must be a width or a (width, activation) pair; got {item!r}.")
        _errors.check_int(f"hidden[{i}] width", width, minimum=1)
        row = _dense_activation(act, f"hidden[{i}]")
        if width == 1 and not row.elementwise:
            # softmax-like activations normalise across the layer: over one unit they are constant.
            raise ValueError(f"hidden[{i}] is {row.name} over 1 unit, which outputs a constant; "
                             "use a wider layer or an elementwise activation.")
        layers.append((width, row.name))
    return tuple(layers)


def _check_metric(name: Any) -> str:
    try:
        keras.metrics.get(name)
    except (ValueError, TypeError):
        valid = sorted(n for n in ALL_OBJECTS_DICT if n.islower() and n not in {"metric", "mean_metric_wrapper"})
        raise ValueError(f"Unknown metric {name!r} in metrics. Valid options: "
                         f"{_errors.listed(valid, name, where='keras.metrics')}.{_errors.did_you_mean(name, valid)}") \
            from None
    return name


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string literal is a valid TOML basic string
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"
