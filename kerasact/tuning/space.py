"""The search space: one `Dim` row per hyperparameter, a default space per problem type, a
user space in code or in TOML, and sampling through an Optuna trial (define-by-run, so a
layer's width and activation exist only for layers the trial's depth has).

A space maps names to values: a `(low, high)` tuple or a `{low, high, log}` table is a range
(ints if both ends are ints), a list is a set of choices, anything else is fixed. Names are
`ModelSpec` fields (`dropout`, `l2`, `batch_norm`, `optimizer`, `learning_rate`, ...), the
`train` options `batch_size` and `class_weight`, and the per-layer `depth`, `width`, `activation`.

Example:
    >>> space = Space({"depth": (1, 3), "width": {"low": 16, "high": 256, "log": True},
    ...                "activation": ["relu", "tanh"], "learning_rate": {"low": 1e-4, "high": 1e-2, "log": True}})
    >>> sorted(space.dims)
    ['activation', 'depth', 'learning_rate', 'width']
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from kerasact import _errors
from kerasact.model import ModelSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PER_LAYER = ("width", "activation")       # one value per hidden layer: width_1, activation_1, ...
TRAIN_OPTIONS = ("batch_size", "class_weight")
_DERIVED = {"problem", "input_dim", "n_classes", "n_outputs", "hidden", "seed"}  # from the data or the search
SPEC_OPTIONS = tuple(f.name for f in fields(ModelSpec) if f.init and f.name not in _DERIVED)
NAMES = ("depth", *PER_LAYER, *SPEC_OPTIONS, *TRAIN_OPTIONS)
MAX_DEPTH = 8


@dataclass(frozen=True)
class Dim:
    """One hyperparameter: a range (`low`, `high`, `log`), choices, or a fixed value."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple | None = None
    value: Any = None

    @property
    def kind(self) -> str:
        if self.choices is not None:
            return "choice"
        if self.low is None:
            return "fixed"
        return "int" if isinstance(self.low, int) and isinstance(self.high, int) else "float"

    def sample(self, trial: Any, name: str | None = None) -> Any:
        """The trial's value (Optuna's `suggest_*`); a fixed value is returned as is."""
        name = name or self.name
        if self.kind == "choice":
            return trial.suggest_categorical(name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(name, self.low, self.high, log=self.log)
        if self.kind == "float":
            return trial.suggest_float(name, self.low, self.high, log=self.log)
        return self.value


def _dim(name: str, value: Any) -> Dim:
    if name not in NAMES:
        raise ValueError(f"search space: unknown name {name!r}. Valid names: {_errors.listed(sorted(NAMES), name)}."
                         + _errors.did_you_mean(name, NAMES))
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"low", "high", "log"})
        if unknown or not {"low", "high"} <= set(value):
            raise ValueError(f"search space: {name} = {_errors.shown(dict(value))} must be a range table with keys "
                             "low, high and optionally log (e.g. {low = 1e-4, high = 1e-2, log = true}).")
        return _range(name, value["low"], value["high"], value.get("log", False))
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(f"search space: {name} = {value!r}: a tuple is a range (low, high); give a list for "
                             "choices.")
        return _range(name, *value, False)
    if isinstance(value, list):
        if not value:
            raise ValueError(f"search space: {name} has no choices; give at least one value.")
        return Dim(name, choices=tuple(value))
    return Dim(name, value=value)


def _range(name: str, low: Any, high: Any, log: Any) -> Dim:
    for end, v in (("low", low), ("high", high)):
        _errors.check_number(f"search space {name}.{end}", v)
    _errors.check_bool(f"search space {name}.log", log)
    if not low < high:
        raise ValueError(f"search space: {name} has low={low} >= high={high}; give low < high.")
    if log and low <= 0:
        raise ValueError(f"search space: {name} is log-scaled, so low must be > 0; got {low}.")
    return Dim(name, low=low, high=high, log=log)


class Space:
    """A search space over the templates (see the module docstring for the notation).

    Args:
        dims: `{name: range | choices | fixed value}`.

    Example:
        >>> Space({"depth": (1, 2), "dropout": [0.0, 0.2]}).describe()
        'depth: int 1..2; dropout: one of [0.0, 0.2]'
    """

    def __init__(self, dims: Mapping[str, Any]) -> None:
        if not isinstance(dims, Mapping):
            raise _errors.invalid("space", dims, "a dict of {name: range | choices | value}, a Space or a TOML path",
                                  kind=TypeError)
        self.dims: dict[str, Dim] = {name: _dim(name, value) for name, value in dims.items()}
        depth = self.dims.get("depth")
        if depth is not None:
            top = depth.high if depth.kind == "int" else max(depth.choices or [depth.value])
            if depth.kind == "float" or not isinstance(top, int) or top > MAX_DEPTH or \
                    (depth.low if depth.kind == "int" else min(depth.choices or [depth.value])) < 1:
                raise ValueError(f"search space: depth must be whole numbers from 1 to {MAX_DEPTH}; got "
                                 f"{depth.low if depth.kind == 'int' else depth.choices or depth.value!r}.")

    @property
    def max_depth(self) -> int:
        depth = self.dims.get("depth")
        if depth is None:
            return 2
        return int(depth.high if depth.kind == "int" else max(depth.choices or [depth.value]))

    def sample(self, trial: Any) -> dict[str, Any]:
        """The trial's options: `hidden` pairs plus the other names' values (fixed ones included)."""
        out: dict[str, Any] = {}
        depth = int(self.dims["depth"].sample(trial)) if "depth" in self.dims else 2
        layers = []
        for i in range(1, depth + 1):
            width = self.dims["width"].sample(trial, f"width_{i}") if "width" in self.dims else 64
            act = self.dims["activation"].sample(trial, f"activation_{i}") if "activation" in self.dims else "relu"
            layers.append((int(width), act))
        out["hidden"] = layers
        for name, dim in self.dims.items():
            if name not in ("depth", *PER_LAYER):
                out[name] = dim.sample(trial)
        return out

    def describe(self) -> str:
        parts = []
        for name, dim in self.dims.items():
            kind = dim.kind
            text = (f"one of {list(dim.choices)}" if kind == "choice" else f"= {dim.value!r}" if kind == "fixed"
                    else f"{kind} {dim.low}..{dim.high}" + (" (log)" if dim.log else ""))
            parts.append(f"{name}: {text}")
        return "; ".join(parts)

    @classmethod
    def load(cls, path: str | Path) -> Space:
        """A space from TOML: the file's `[search]` table, its other keys (a `ModelSpec`) fixed.

        Example:
            >>> Space.load("search.toml")  # doctest: +SKIP
        """
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise ValueError(f"search space file {str(path)!r} cannot be read as TOML: {err}") from None
        searched = data.pop("search", None)
        if searched is None:
            return cls(data)
        fixed = {k: v for k, v in data.items() if k not in _DERIVED}  # the spec's data-given fields and layers
        return cls({**fixed, **searched})


_COMMON = {
    "depth": (1, 3),
    "width": {"low": 16, "high": 256, "log": True},
    "activation": ["relu", "gelu", "tanh"],
    "dropout": (0.0, 0.4),
    "l2": {"low": 1e-7, "high": 1e-2, "log": True},
    "batch_norm": [False, True],
    "optimizer": ["adam", "adamw"],
    "learning_rate": {"low": 1e-4, "high": 3e-2, "log": True},
    "batch_size": [32, 64, 128],
}
# A default per problem type: classes may need rebalancing, regression targets rescaling.
DEFAULTS: dict[str, dict[str, Any]] = {
    "regression": {**_COMMON, "normalize_target": [False, True]},
    "binary": {**_COMMON, "class_weight": [None, "balanced"]},
    "multiclass": {**_COMMON, "class_weight": [None, "balanced"]},
    "multilabel": dict(_COMMON),
}


# A table model adds the table preset's own fields (RealMLP-HPO's choices, Holzmüller et al. 2024,
# Table C.2): the number embedding, the weight decay and, for classes, label smoothing.
# Its activations add RealMLP-TD's own (SELU for classes, Mish for regression) to the common ones.
TABLE_DIMS: dict[str, Any] = {"activation": ["relu", "gelu", "tanh", "selu", "mish"],
                              "numeric_embedding": ["none", "periodic"], "weight_decay": [0.0, 0.02]}
TABLE_CLASS_DIMS: dict[str, Any] = {"label_smoothing": [0.0, 0.1]}


def default_space(problem: str, *, table: bool = False) -> Space:
    """The default space for a problem type (a key of `kerasact.HEADS`); `table` adds the table
    model's encoding and regularisation fields.

    Example:
        >>> "class_weight" in default_space("binary").dims
        True
        >>> "numeric_embedding" in default_space("binary", table=True).dims
        True
    """
    extra = {**TABLE_DIMS, **(TABLE_CLASS_DIMS if problem in ("binary", "multiclass") else {})} if table else {}
    return Space({**DEFAULTS[problem], **extra})


def as_space(space: Any, problem: str, *, table: bool = False) -> Space:
    """`space` as a `Space`: None is the problem's default (a table's with `table`), a dict or a TOML path is read."""
    if space is None:
        return default_space(problem, table=table)
    if isinstance(space, Space):
        return space
    if isinstance(space, (str, Path)):
        return Space.load(space)
    if isinstance(space, Mapping):
        return Space(space)
    raise _errors.invalid("space", space, "None, a Space, a dict or a .toml path", kind=TypeError)


def layer_choices(space: Space) -> Sequence[str]:
    """The per-layer parameter names a space can produce, for the HParams config."""
    return [f"{name}_{i}" for i in range(1, space.max_depth + 1) for name in PER_LAYER if name in space.dims]
