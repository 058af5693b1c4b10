"""kerasact: Keras model-building templates that pick the output layer and the loss from
the problem type, so that they can never disagree.

Names are loaded on first use (PEP 562), so `import kerasact` is instant and
`kerasact.reference`, `kerasact.data`, `kerasact.activations` and `kerasact.plots` stay
free of TensorFlow. The subpackages, in import order (each imports only those before it):
`activations`, `data`, `plots`, `reference`, `problems`, `inputs`, `diagnose`, `runtime`,
`model`, `training`, `estimators`, `tuning`, `testing`, `cli` (`kerasact.sklearn` faces `estimators`).

Example:
    >>> import kerasact
    >>> model = kerasact.build_model("multiclass", input_dim=64, n_classes=10)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the subpackage whose face exports it
_EXPORTS: dict[str, str] = {
    "HEADS": "problems", "Head": "problems", "LossOption": "problems", "get_head": "problems",
    "ModelHead": "problems", "head_of": "problems", "Target": "problems", "infer_problem": "problems",
    "validate": "inputs",
    "lint": "diagnose", "Finding": "diagnose", "LintWarning": "diagnose", "fold_linear": "diagnose",
    "check_gradients": "diagnose", "GradientReport": "diagnose", "TrainingWarning": "diagnose",
    "Execution": "runtime", "predict": "runtime", "multi_worker_strategy": "runtime",
    "serve": "runtime", "Predictor": "runtime",
    "ModelSpec": "model", "build_model": "model", "build_from_spec": "model", "dense_stack": "model",
    "build_tabular_model": "model", "infer_schema": "tabular", "Schema": "tabular",
    "OPTIMIZERS": "model", "save_model": "model", "load_model": "model",
    "train": "training", "TrainResult": "training", "train_table": "training",
    "search": "tuning", "SearchResult": "tuning",
}
_SUBPACKAGES = ("activations", "data", "plots", "reference", "report", "problems", "inputs", "tabular", "layers",
                "diagnose", "runtime", "model", "training", "estimators", "tuning", "testing", "cli")

__all__ = sorted([*_EXPORTS, *_SUBPACKAGES])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"kerasact.{_EXPORTS[name]}"), name)
        globals()[name] = value  # cache: later lookups skip __getattr__
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"kerasact.{name}")
    raise AttributeError(f"module 'kerasact' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static view of the same surface for type checkers and IDEs
    from kerasact import (
        activations,
        cli,
        data,
        diagnose,
        estimators,
        inputs,
        model,
        plots,
        problems,
        reference,
        runtime,
        tabular,
        testing,
        training,
        tuning,
    )
    from kerasact.diagnose import (
        Finding,
        GradientReport,
        LintWarning,
        TrainingWarning,
        check_gradients,
        fold_linear,
        lint,
    )
    from kerasact.inputs import validate
    from kerasact.model import (
        OPTIMIZERS,
        ModelSpec,
        build_from_spec,
        build_model,
        build_tabular_model,
        dense_stack,
        load_model,
        save_model,
    )
    from kerasact.problems import HEADS, Head, LossOption, ModelHead, Target, get_head, head_of, infer_problem
    from kerasact.runtime import Execution, Predictor, multi_worker_strategy, predict, serve
    from kerasact.tabular import Schema, infer_schema
    from kerasact.training import TrainResult, train, train_table
    from kerasact.tuning import SearchResult, search
