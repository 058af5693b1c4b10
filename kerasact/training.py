"""`train`: split, encode, fit with Keras's own callbacks, evaluate on held-out data, and
leave a run directory that TensorBoard shows (scalars, histograms, graph, images, HParams)."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import keras
import numpy as np

from kerasact import data, plots, runs, tblog
from kerasact.inference import head_of
from kerasact.saving import save_model


@dataclass
class TrainResult:
    """What `train` returns.

    Attributes:
        model: the trained model (best validation weights when early stopping ran).
        history: per-epoch logs, as `keras.callbacks.History.history`.
        metrics: test-set metrics (Keras's compiled metrics plus R² / ROC AUC from scikit-learn).
        val_metrics: the same metrics on the validation set.
        run_dir: the run directory, or None when `log_dir` was None.
        codec: the label codec for classification (decode predictions with it), else None.
        split: the train/validation/test arrays actually used (labels encoded).
    """

    model: keras.Model
    history: dict[str, list[float]]
    metrics: dict[str, float]
    val_metrics: dict[str, float]
    run_dir: Path | None
    codec: data.LabelCodec | None
    split: data.Split = field(repr=False)
    epochs_run: int = 0


def _progress(verbose: int | str) -> int:
    # Keras's bar in a terminal; one line per epoch in logs/CI, where a bar's \r is noise.
    return (1 if sys.stdout.isatty() else 2) if verbose == "auto" else int(verbose)


def _encode(model: keras.Model, y: np.ndarray) -> tuple[np.ndarray, data.LabelCodec | None]:
    """Labels in the format the model's loss expects, plus the codec to decode predictions."""
    info = head_of(model)
    labels = info.head.losses[info.loss].labels if info.loss else "values"
    if labels in ("values", "multi_hot"):
        return y.astype(np.float32), None
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot rows: the column index is the class
        y = y.argmax(axis=1)
    codec = data.LabelCodec().fit(y)
    if labels == "one_hot":
        return codec.one_hot(y), codec
    encoded = codec.encode(y)
    return (encoded.astype(np.float32).reshape(-1, 1) if labels == "binary" else encoded), codec


def _callbacks(run_dir: Path | None, patience: int | None, extra: Sequence[keras.callbacks.Callback]) -> list:
    found = [keras.callbacks.TerminateOnNaN()]
    if patience:
        found.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True))
    if run_dir is not None:
        found.append(keras.callbacks.TensorBoard(log_dir=str(run_dir), histogram_freq=1, write_graph=True))
    return found + list(extra)


def _class_indices(y: np.ndarray) -> np.ndarray:
    return y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.ravel().astype(int)


def _regression_report(y, scores, codec):
    from sklearn.metrics import r2_score

    return {"r2": float(r2_score(y, scores))}, {"parity": plots.parity(y, scores)}


def _classifier_report(y, scores, codec):
    from sklearn.metrics import roc_auc_score

    binary = scores.shape[1] == 1  # one sigmoid unit: threshold 0.5, else argmax
    pred = (scores.ravel() > 0.5).astype(int) if binary else scores.argmax(axis=1)
    true = _class_indices(y)
    figures = {"confusion_matrix": plots.confusion_matrix(codec.decode(true), codec.decode(pred), labels=codec.classes_)}
    if not binary:
        return {}, figures
    figures["roc_curve"] = plots.roc_curve(true, scores.ravel())
    return {"roc_auc": float(roc_auc_score(true, scores.ravel()))}, figures


def _multilabel_report(y, scores, codec):
    from sklearn.metrics import f1_score

    return {"f1_macro": float(f1_score(y, scores > 0.5, average="macro", zero_division=0))}, {}


# problem -> extra test metrics (scikit-learn) and diagnostic figures beyond Keras's metrics
_REPORTS = {"regression": _regression_report, "binary": _classifier_report,
            "multiclass": _classifier_report, "multilabel": _multilabel_report}


def _evaluate(model: keras.Model, X: np.ndarray, y: np.ndarray, batch_size: int, codec) -> tuple[dict, dict]:
    """Keras's compiled metrics plus the problem's scikit-learn metrics, and its figures."""
    from kerasact.inference import predict

    logs = model.evaluate(X, y, batch_size=batch_size, verbose=0, return_dict=True)
    extra, figures = _REPORTS[head_of(model).head.name](y, predict(model, X), codec)
    return {k: float(v) for k, v in logs.items()} | extra, figures


def train(
    model: keras.Model,
    X: Any,
    y: Any,
    *,
    epochs: int = 100,
    batch_size: int = 32,
    log_dir: str | os.PathLike | None = None,
    recipe: str = "run",
    val_size: float = 0.15,
    test_size: float = 0.15,
    seed: int = 0,
    patience: int | None = 10,
    class_weight: str | Mapping[int, float] | None = None,
    hparams: Mapping[str, Any] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
) -> TrainResult:
    """Train a compiled model on `(X, y)` and evaluate it on a held-out test split.

    The data is shuffled with `seed` and split into train/validation/test, stratified for
    classification (Keras's `validation_split` takes the unshuffled tail instead). Labels
    of any kind (strings, {-1, 1}, ...) are encoded for the model's loss.

    Args:
        model: a compiled model, e.g. from `kerasact.build_model`.
        X: features, shape `(n, input_dim)`.
        y: targets.
        epochs: maximum epochs (early stopping may end sooner).
        batch_size: samples per gradient step.
        log_dir: parent folder of run directories; None writes nothing to disk.
        recipe: sub-folder name for this kind of run.
        val_size: validation fraction of the whole data.
        test_size: test fraction of the whole data.
        seed: shuffling and splitting seed.
        patience: early-stopping patience in epochs (None: no early stopping).
        class_weight: `"balanced"`, a `{class_index: weight}` dict, or None.
        hparams: hyperparameters to show in TensorBoard's HParams dashboard.
        callbacks: extra Keras callbacks.
        verbose: `"auto"`, 0, 1 or 2 as in `model.fit`.

    Returns:
        A `TrainResult`.

    Example:
        >>> ds = kerasact.data.load_dataset("breast_cancer")
        >>> model = kerasact.build_model("binary", ds.X.shape[1], normalize=ds.X)
        >>> result = train(model, ds.X, ds.y, epochs=50, log_dir="runs", recipe="binary")
        >>> result.metrics["accuracy"]  # doctest: +SKIP
        0.97
    """
    X, y = np.asarray(X, dtype=np.float32), np.asarray(y)
    y_encoded, codec = _encode(model, y)
    parts = data.split(X, y_encoded, test_size=test_size, val_size=val_size, stratify=codec is not None, seed=seed)
    weights = None
    if class_weight is not None and codec is not None:
        weights = data.class_weights(_class_indices(parts.y_train), mode=class_weight) if isinstance(class_weight, str) else dict(class_weight)
    run_dir = runs.new_run_dir(log_dir, recipe) if log_dir is not None else None
    started = time.perf_counter()
    history = model.fit(
        parts.X_train, parts.y_train, validation_data=(parts.X_val, parts.y_val), epochs=epochs,
        batch_size=batch_size, class_weight=weights, callbacks=_callbacks(run_dir, patience, callbacks),
        shuffle=True, verbose=_progress(verbose),
    ).history
    seconds = time.perf_counter() - started
    if not all(np.isfinite(history.get("loss", [0.0]))):
        raise FloatingPointError("Training loss became NaN/inf; lower the learning rate or check X and y for extreme values.")
    test, figures = _evaluate(model, parts.X_test, parts.y_test, batch_size, codec)
    val, _ = _evaluate(model, parts.X_val, parts.y_val, batch_size, codec)
    result = TrainResult(model, history, test, val, run_dir, codec, parts, epochs_run=len(history["loss"]))
    if run_dir is not None:
        figures = {"learning_curves": plots.learning_curves(history)} | figures
        _write_run(result, figures, hparams or {}, batch_size=batch_size, seed=seed, seconds=seconds)
    return result


def _write_run(result: TrainResult, figures: Mapping[str, Any], hparams: Mapping[str, Any], *,
               batch_size: int, seed: int, seconds: float) -> None:
    """Model, metrics.json, PNG plots, and the TensorBoard summary of a finished run."""
    run_dir = result.run_dir
    for name, fig in figures.items():
        plots.save_png(fig, run_dir / f"{name}.png")
    hp = {"batch_size": batch_size, "seed": seed, "optimizer": type(result.model.optimizer).__name__,
          "learning_rate": float(result.model.optimizer.learning_rate), **hparams}
    tblog.log_run_summary(run_dir, hp, result.metrics, figures)
    save_model(result.model, run_dir / "model.keras")
    runs.write_json(run_dir / "metrics.json", {
        "test": result.metrics, "validation": result.val_metrics, "hparams": hp, "seed": seed,
        "epochs_run": result.epochs_run, "train_seconds": seconds, "problem": head_of(result.model).head.name,
        "labels": result.codec.to_dict() if result.codec else None,
        "n_samples": {"train": len(result.split.X_train), "validation": len(result.split.X_val), "test": len(result.split.X_test)},
        "history": result.history, "versions": runs.library_versions(),
    })
