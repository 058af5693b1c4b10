"""kerasact: Keras model-building templates that pick the output layer and the loss from
the problem type, so that they can never disagree.

Names are loaded on first use (PEP 562), so `import kerasact.reference` or
`kerasact.data` stays free of TensorFlow, and `import kerasact` itself is instant.

Example:
    >>> import kerasact
    >>> model = kerasact.build_model("multiclass", input_dim=64, n_classes=10)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "HEADS": "heads", "Head": "heads", "LossOption": "heads", "get_head": "heads",
    "ModelSpec": "spec",
    "build_model": "builders", "build_from_spec": "builders", "dense_stack": "builders",
    "ModelHead": "inference", "head_of": "inference", "predict": "inference",
    "OPTIMIZERS": "optimizers",
    "Target": "targets", "infer_problem": "targets",
    "save_model": "saving", "load_model": "saving",
    "validate": "validation",
    "lint": "linting", "Finding": "linting", "LintWarning": "linting", "fold_linear": "collapse",
    "check_gradients": "gradcheck", "GradientReport": "gradcheck",
    "train": "training", "TrainResult": "training",
    "Execution": "execution",
}
_ALIASES = {"get_head": "get"}
_SUBMODULES = ("activations", "data", "plots", "reference", "heads", "spec", "builders", "runs",
               "gradcheck", "testing", "linting", "collapse", "training", "tblog",
               "execution", "serving", "pipeline", "preprocessing", "evaluation", "callbacks")

__all__ = sorted([*_EXPORTS, "activations"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"kerasact.{_EXPORTS[name]}")
        value = getattr(module, _ALIASES.get(name, name))
        globals()[name] = value  # cache: later lookups skip __getattr__
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"kerasact.{name}")
    raise AttributeError(f"module 'kerasact' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static view of the same surface for type checkers and IDEs
    from kerasact import activations
    from kerasact.builders import build_from_spec, build_model, dense_stack
    from kerasact.execution import Execution
    from kerasact.collapse import fold_linear
    from kerasact.gradcheck import GradientReport, check_gradients
    from kerasact.heads import HEADS, Head, LossOption
    from kerasact.heads import get as get_head
    from kerasact.inference import ModelHead, head_of, predict
    from kerasact.linting import Finding, LintWarning, lint
    from kerasact.optimizers import OPTIMIZERS
    from kerasact.saving import load_model, save_model
    from kerasact.spec import ModelSpec
    from kerasact.targets import Target, infer_problem
    from kerasact.training import TrainResult, train
    from kerasact.validation import validate
