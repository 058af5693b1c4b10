"""Held-out evaluation of a trained model: Keras's compiled metrics, plus the scikit-learn
metrics (R², ROC AUC, F1) and diagnostic figures of its label format's row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kerasact.inputs import LABEL_FORMATS
from kerasact.problems import ModelHead
from kerasact.runtime import execution, outputs, pipeline


def evaluate(model: keras.Model, X: np.ndarray, y: np.ndarray, *, batch_size: int, info: ModelHead,
             codec: Any) -> tuple[dict[str, float], dict[str, Any], np.ndarray]:
    """Keras's compiled metrics plus the label format's scikit-learn metrics, its figures
    (undrawn: zero-argument callables, for a run directory to draw) and the outputs they read
    (probabilities or values, for the run's verdict: predicted once, not again).

    Args:
        model: the trained model.
        X: held-out features (validated float32).
        y: held-out targets, already in the label format of the model's loss.
        batch_size: evaluation batch size.
        info: the model's head as `train` read it once (`kerasact.head_of`), not re-derived.
        codec: the `LabelCodec` of classification labels, for the confusion matrix; else None.

    Example:
        >>> metrics, _, out = evaluate(model, X, y, batch_size=32, info=head_of(model), codec=None)  # doctest: +SKIP
    """
    # A table model's string columns go in as tf.string tensors (Keras refuses numpy strings).
    inputs = {k: tf.constant(v) for k, v in X.items()} if isinstance(X, Mapping) else X
    sharded = pipeline.held_out(model, X, y, batch_size=batch_size)  # under a strategy: split by hand
    logs = (model.evaluate(sharded[0], steps=sharded[1], verbose=0, return_dict=True) if sharded is not None
            else model.evaluate(pipeline.in_order(inputs, y, batch_size=execution.eval_batch_size(batch_size),
                                                  dtype=execution.model_dtype(model)), verbose=0, return_dict=True))
    predicted = outputs(model, X, info)
    extra, figures = LABEL_FORMATS[info.labels].score(y, predicted, codec)
    return {k: float(v) for k, v in logs.items()} | extra, figures, predicted
