"""What `search` checks before any trial runs: its own arguments, the `train` options every trial
gets, the objective, every value the space can produce, and that a resumed study is the same
search (the same data, objective and options)."""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from kerasact import _errors
from kerasact.model import ModelSpec
from kerasact.problems import HEADS
from kerasact.training import train
from kerasact.training._arguments import check_run_arguments
from kerasact.tuning.space import PER_LAYER, SPEC_OPTIONS, TRAIN_OPTIONS, Space

# The search sets these for every trial; `seed` and `log_dir` are its own arguments.
CONTROLLED = {"log_dir", "run_dir", "recipe", "hparams", "seed", "callbacks", "verbose", "target", "backup",
              "sample_weight"}
# The scores `train` adds to Keras's metrics per problem (`kerasact.inputs.LABEL_FORMATS` rows'
# `score`); tests check these against a trial's validation metrics.
EXTRA_METRICS = {"regression": ("r2",), "binary": ("roc_auc",), "multiclass": (), "multilabel": ("f1_macro",)}
MINIMIZE = {"loss", "mae", "rmse", "mse"}  # objectives where lower is better; the rest are scores


def check_arguments(*, trials: Any, workers: Any, timeout: Any, seed: Any, log_dir: Any, name: Any, verbose: Any,
                    y: Any, target: Any) -> None:
    _errors.check_int("trials", trials, minimum=1)
    _errors.check_int("workers", workers, minimum=1, maximum=os.cpu_count() or 1)
    _errors.check_number("timeout", timeout, minimum=0, open_low=True, none=True)
    _errors.check_int("seed", seed, minimum=0)
    _errors.check_path("log_dir", log_dir)
    _errors.check_bool("verbose", verbose)
    if not isinstance(name, str) or not name.strip() or os.sep in name or name.strip() in (".", ".."):
        raise _errors.invalid("name", name, "a folder name for the study (no path separator, not '.' or '..')")
    if target is not None and y is not None:
        raise ValueError("search: give the targets once, as y=... (arrays) or target='column' (a table), not both.")


def check_train_options(options: Mapping[str, Any]) -> None:
    """Every option a `train` argument the search leaves to you, with a valid value."""
    params = inspect.signature(train).parameters
    names = {n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY} - CONTROLLED
    for key, value in options.items():
        if key in CONTROLLED:
            raise _errors.invalid(key, value, "no value: the search sets it for every trial",
                                  "drop it (seed= and log_dir= are search's own arguments)")
        if key not in names:
            raise _errors.invalid(key, value, f"a train option: one of {sorted(names)}",
                                  "model options belong in space=", options=sorted(names))
    checked = inspect.signature(check_run_arguments).parameters
    defaults = {n: params[n].default for n in checked if n in params}
    check_run_arguments(**{**defaults, **options, "verbose": 0})


def check_objective(objective: str, problem: str) -> None:
    head = HEADS[problem]
    _, option = head.loss_option(None)
    valid = ["loss", *(m.name for m in head.metrics(False, option.labels)), *EXTRA_METRICS[problem]]
    if objective not in valid:
        raise _errors.invalid("objective", objective, f"a validation metric of problem={problem!r}: {valid}",
                              options=valid)


def check_space(space: Space, problem: str, counts: Mapping[str, int | None], input_dim: int) -> None:
    """Every choice, fixed value and range end the space holds, checked by the field's own rule."""
    for name, dim in space.dims.items():
        values = list(dim.choices) if dim.kind == "choice" else [dim.value] if dim.kind == "fixed" \
            else [dim.low, dim.high]
        if name in ("depth", "width", "batch_size") and dim.kind == "float":
            raise ValueError(f"search space: {name} takes whole numbers; got the range ({dim.low}, {dim.high}).")
        for value in values:
            _check_value(name, value, problem, counts, input_dim)


def _check_value(name: str, value: Any, problem: str, counts: Mapping[str, int | None], input_dim: int) -> None:
    arg = f"search space {name}"
    if name in ("depth", "width", "batch_size"):
        _errors.check_int(arg, value, minimum=1)
    elif name == "class_weight":
        if not (value is None or value == "balanced" or isinstance(value, Mapping)):
            raise _errors.invalid(arg, value, "None, 'balanced' or a {class: weight} dict", options=["balanced"])
    elif name == "activation":
        ModelSpec(problem, input_dim, **counts, hidden=[(2, value)])
    elif name in SPEC_OPTIONS:
        try:
            ModelSpec(problem, input_dim, **counts, **{name: value})
        except (ValueError, TypeError) as err:
            raise type(err)(f"search space {name} = {_errors.shown(value)}: {err}") from None
    elif name not in PER_LAYER and name not in TRAIN_OPTIONS:  # pragma: no cover - Space refuses other names
        raise ValueError(f"search space: unknown name {name!r}")


def fingerprint(X: Any, y: Any, objective: str, options: Mapping[str, Any]) -> str:
    """A short hash of the data, the objective and the train options: a resumed study must match it."""
    digest = hashlib.sha256()
    if isinstance(X, pd.DataFrame):
        digest.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
        digest.update(",".join(map(str, X.columns)).encode())
    else:
        digest.update(np.ascontiguousarray(np.asarray(X, dtype=np.float64)).tobytes())
    if y is not None:
        digest.update(pd.util.hash_pandas_object(pd.DataFrame(np.asarray(y).reshape(len(y), -1)),
                                                 index=False).to_numpy().tobytes())
    digest.update(repr((objective, sorted(options.items()))).encode())
    return digest.hexdigest()[:16]
