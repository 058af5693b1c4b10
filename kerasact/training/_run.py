"""What a run does around `model.fit`, shared by `train` and streamed `train_table` runs: the
callbacks, the progress setting, the run directory, the NaN advice and the finished run's files."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras

from kerasact import plots, report, tabular
from kerasact.diagnose import health
from kerasact.diagnose.monitor import Diagnostics
from kerasact.layers import DENSE_TYPES
from kerasact.model import save_model
from kerasact.problems import activation_of
from kerasact.training import experiment, runs
from kerasact.training import tensorboard as tblog
from kerasact.training.board import RunBoard
from kerasact.training.callbacks import Backup, StopOnNaN
from kerasact.training.progress import Progress


def progress(verbose: int | str) -> int:
    """`model.fit`'s verbose for kerasact's `verbose`.

    Example:
        >>> progress(0)
        0
    """
    # "auto": kerasact's own `Progress` line (`callbacks` adds it) instead of Keras's bar or line per epoch.
    return 0 if verbose == "auto" else int(verbose)


def callbacks(run_dir: Path | None, patience: int | None, extra: Sequence[keras.callbacks.Callback],
              backup: Backup | None, *, problem: str = "run", monitor: Diagnostics | None = None,
              verbose: int | str = 0) -> list:
    """A run's callbacks: NaN stop, early stopping, TensorBoard, diagnostics, the user's, the backup,
    and with `verbose="auto"` the progress line.

    Example:
        >>> [type(c).__name__ for c in callbacks(None, None, [], None)]
        ['StopOnNaN']
    """
    found = [StopOnNaN()]
    if patience:
        found.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True))
    if run_dir is not None:
        found.append(RunBoard(run_dir, problem))
    if monitor is not None:  # after EarlyStopping: its last probe sees the weights the run keeps
        found.append(monitor)
    found += list(extra) + ([backup] if backup else [])  # the backup after the others: it keeps what they left
    return found + ([Progress(found)] if verbose == "auto" else [])


def diagnostics(setting: bool | int, X: Any, y: Any, run_dir: Path | None, *, seed: int,
                chief: bool = True) -> Diagnostics | None:
    """The diagnostics callback `train(diagnostics=...)` asks for: None when off (or not the chief).

    Example:
        >>> diagnostics(False, None, None, None, seed=0) is None
        True
    """
    if setting is False or not chief:
        return None
    return Diagnostics(X, y, every=None if setting is True else int(setting), log_dir=run_dir, seed=seed)


def warn(monitor: Diagnostics | None) -> list:
    """Issue the diagnostics' findings as warnings; returns them (`TrainResult.diagnostics`)."""
    if monitor is None:
        return []
    monitor.warn()
    return list(monitor.findings)


def describe(model: Any) -> str:
    """A short name for a model's hidden stack: its activations and widths, e.g. `relu-64x32`.

    Example:
        >>> import kerasact
        >>> describe(kerasact.build_model("binary", 4, hidden=[(64, "relu"), (32, "tanh")]))
        'relu+tanh-64x32'
    """
    found = model_hparams(model)
    widths = "x".join(str(w) for w in found["widths"])
    return "-".join(filter(None, (found["activation"] if widths else "", widths))) or "linear"


def _activation_name(layer: keras.layers.Layer) -> str | None:
    """A Dense layer's catalog activation, or the function a layer names as text (`ParametricActivation`)."""
    row, named = activation_of(layer), getattr(layer, "activation", None)
    return row.name if row is not None else named if isinstance(named, str) else None


def model_hparams(model: keras.Model) -> dict[str, Any]:
    """What the model itself says for the HParams table: widths, activations, dropout, L2, batch norm.

    Example:
        >>> import kerasact
        >>> model_hparams(kerasact.build_model("binary", 4, hidden=[(8, "relu")], dropout=0.1))
        {'hidden': '[8]', 'widths': [8], 'activation': 'relu', 'dropout': 0.1, 'l2': 0.0, 'batch_norm': False}
    """
    body = health.hidden_layers(model)  # before the head (a regression head may end in a rescaling layer)
    widths = [layer.units for layer in body if isinstance(layer, DENSE_TYPES)]
    acts = [name for layer in body if (name := _activation_name(layer)) not in (None, "linear")]
    l2 = [float(getattr(getattr(layer, "kernel_regularizer", None), "l2", 0.0)) for layer in model.layers]
    return {"hidden": str(widths), "widths": widths, "activation": "+".join(dict.fromkeys(acts)) or "linear",
            "dropout": max((float(layer.rate) for layer in model.layers if isinstance(layer, keras.layers.Dropout)),
                           default=0.0),
            "l2": max(l2, default=0.0),
            "batch_norm": any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)}


def run_dir_for(log_dir: str | os.PathLike | None, recipe: str, run_dir: str | os.PathLike | None,
                label: str = "") -> Path | None:
    """The given `run_dir` (created), a fresh one under `log_dir/recipe`, or None (nothing written).

    Example:
        >>> run_dir_for(None, "binary", None) is None
        True
    """
    if run_dir is not None:
        finished = Path(run_dir) / "metrics.json"
        if finished.is_file() and not (Path(run_dir) / "backup").is_dir():
            # Nothing is overwritten in place: a finished run stays as it was.
            raise ValueError(f"run_dir={str(run_dir)!r} holds a finished run (metrics.json, model.keras): pass a new "
                             f"run_dir to train again, or delete that one.")
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        return Path(run_dir)
    return runs.new_run_dir(log_dir, recipe, label) if log_dir is not None else None


def nan_advice(err: FloatingPointError, model: keras.Model, backup: Backup | None) -> str:
    """The NaN error, plus where the last good weights are (and the model reset to them)."""
    fix = "Lower the learning rate, scale X and y, or add gradient clipping (optimizer clipnorm)."
    if backup is None:
        return f"{err} {fix} Pass log_dir to keep a checkpoint of the last good epoch."
    done, _ = backup.restore(model)
    if not done:
        return f"{err} No epoch finished, so there is no checkpoint. {fix}"
    return (f"{err} The model is back at the end of epoch {done}, also kept in {backup.directory}. "
            f"{fix} Then rerun with run_dir={str(backup.directory.parent)!r} to resume from there.")


def _base_rate(optimizer: keras.optimizers.Optimizer) -> float:
    """The learning rate a run is named by: a schedule's peak (`CosLog.learning_rate`), else the rate."""
    schedule = getattr(optimizer, "_learning_rate", None)  # Keras keeps a schedule object here, a float in a variable
    peak = getattr(schedule, "learning_rate", None)
    return float(peak) if isinstance(peak, (int, float)) else float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def write_run(result: Any, figures: Mapping[str, Any], hparams: Mapping[str, Any], facts: Mapping[str, Any], *,
              batch_size: int, seed: int, seconds: float, problem: str, recipe: str = "run",
              root: Path | None = None, monitor: Diagnostics | None = None) -> None:
    """Model, metrics.json, PNG plots, the TensorBoard summary and `report.html` of a finished run.

    Args:
        result: the run's `TrainResult`.
        figures: figures by file stem (or zero-argument callables drawing them), saved as PNG and
            as TensorBoard images.
        hparams: the user's hyperparameters, shown in TensorBoard's HParams beside the run's own.
        facts: what metrics.json also records about the rows (`n_samples`; a streamed run's counts).
        batch_size: the batch size trained with.
        seed: the run's seed.
        seconds: training wall time.
        problem: the head's problem type.
        recipe: the kind of run (the run folder's parent name), an HParams column.
        root: the log directory whose experiment config lists this run (None: the run's parent).
        monitor: the run's diagnostics callback, whose report and warnings the run keeps.

    Example:
        >>> write_run(result, figures, {}, {"n_samples": {...}}, batch_size=32, seed=0, seconds=1.0,
        ...           problem="binary")  # doctest: +SKIP
    """
    run_dir = result.run_dir
    # Each figure drawn once: the same PNG bytes are the file and the TensorBoard image.
    figures = {name: plots.png_bytes(draw() if callable(draw) else draw) for name, draw in figures.items()}
    for name, png in figures.items():
        plots.save_png(png, run_dir / f"{name}.png")
    shape = {k: v for k, v in model_hparams(result.model).items() if k != "widths"}  # HParams takes scalars
    hp = {"recipe": recipe, "problem": problem, **shape, "batch_size": batch_size, "seed": seed,
          "optimizer": type(result.model.optimizer).__name__.lower(),  # as kerasact.OPTIMIZERS and search name it
          "learning_rate": _base_rate(result.model.optimizer), **hparams}
    notes = [str(f) for f in (monitor.findings if monitor else [])]
    per_epoch = [k for k in result.history if not k.startswith("val_")]
    root = experiment.root_for(root, run_dir)
    tblog.log_run_summary(run_dir, hp, result.metrics, figures, problem=problem, step=max(result.epochs_run - 1, 0),
                          validation=result.val_metrics, per_epoch=per_epoch, notes=notes,
                          session=run_dir.resolve().relative_to(root.resolve()).as_posix())  # as the Runs list reads
    save_model(result.model, run_dir / "model.keras")
    runs.write_json(run_dir / "metrics.json", {
        "test": result.metrics, "validation": result.val_metrics, "hparams": hp, "seed": seed,
        "epochs_run": result.epochs_run, "train_seconds": seconds, "problem": problem,
        "labels": result.codec.to_dict() if result.codec else None, **facts,
        "history": result.history, "versions": runs.library_versions(),
        "schema": tabular.schema_of(result.model).to_dict(why=True) if tabular.has_schema(result.model) else None,
        "diagnostics": monitor.report() if monitor is not None else None,
        "verdict": result.verdict.to_dict() if getattr(result, "verdict", None) is not None else None,
    })
    experiment.record(root)  # after metrics.json: the config reads it
    try:
        report.build_run(run_dir)
    except Exception as err:  # the model and metrics are saved: a page that cannot be drawn must not fail the run
        warnings.warn(f"report.html was not written ({type(err).__name__}: {err}); the run is complete. "
                      f"Rebuild the page with: kerasact report {run_dir}", UserWarning, stacklevel=2)
