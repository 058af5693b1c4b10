"""What a preset's training recipe adds around `train`: the coslog₄ learning-rate schedule set on
the optimizer, the flat-then-cosine dropout and weight decay (`FlatCosine`), and the best
validation epoch restored over a fixed epoch budget (`RestoreBestEpoch`; RealMLP-TD selects on
the validation error: accuracy for classes, the loss (squared error) for regression)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import keras

from kerasact.model.lr_schedules import CosLog
from kerasact.model.scheduled_dropout import ScheduledDropout
from kerasact.training.best_epoch import RestoreBestEpoch
from kerasact.training.schedules import FlatCosine

SELECTION = {"regression": ("val_loss", "min")}  # problem -> (monitor, mode); classes: validation accuracy
CLASSES = ("val_accuracy", "max")


def callbacks(model: keras.Model, spec: Mapping[str, Any], problem: str, *, rows: int, epochs: int,
              batch_size: int, restore_best: bool) -> list[keras.callbacks.Callback]:
    """Set the learning-rate schedule on the compiled model and return the recipe's callbacks.

    Args:
        model: the compiled model (its optimizer gets the schedule).
        spec: the `ModelSpec` options the model was built with (`lr_schedule`, `learning_rate`, ...).
        problem: the head's problem type.
        rows: training rows, for the schedule's length in steps.
        epochs: the run's epochs.
        batch_size: the run's batch size.
        restore_best: keep the last best validation epoch (a fixed epoch budget, no early stopping).

    Example:
        >>> callbacks(model, {"lr_schedule": "coslog4", "learning_rate": 0.04}, "binary", rows=800, epochs=256,
        ...           batch_size=256, restore_best=True)  # doctest: +SKIP
    """
    found: list[keras.callbacks.Callback] = []
    if spec.get("lr_schedule", "constant") == "coslog4":
        steps = math.ceil(rows / batch_size) * epochs
        model.optimizer.learning_rate = CosLog(float(spec.get("learning_rate") or 1e-3), total_steps=max(steps, 1))
    scheduled = any(isinstance(layer, ScheduledDropout) for layer in model._flatten_layers())
    if spec.get("regularization_schedule", "constant") == "flat_cos" and (scheduled or spec.get("weight_decay")):
        found.append(FlatCosine())
    if restore_best:
        found.append(RestoreBestEpoch(*SELECTION.get(problem, CLASSES)))
    return found
