"""Training a model on arrays: `train` (validate, split, fit with Keras's callbacks, evaluate
on held-out rows), its callbacks (NaN stop, atomic per-epoch backup), run directories
(`runs`) and the TensorBoard summaries and readers (`tensorboard`).

`runs` is numpy-only and loaded at once, so the concept recipes and the pytest plugin's
`kerasact_run_dir` make run directories without TensorFlow; the rest loads on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kerasact.training import runs

# public name -> module of this folder that defines it (it imports TensorFlow)
_LAZY = {"train": "fit", "TrainResult": "fit", "train_table": "tables", "tensorboard": None}

__all__ = ["TrainResult", "runs", "tensorboard", "train", "train_table"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'kerasact.training' has no attribute {name!r}")
    module = importlib.import_module(f"kerasact.training.{_LAZY[name] or name}")
    value = module if _LAZY[name] is None else getattr(module, name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from kerasact.training import tensorboard
    from kerasact.training.fit import TrainResult, train
    from kerasact.training.tables import train_table
