"""`train`: validate, split, fit with Keras's own callbacks, evaluate on held-out data, and
leave a run directory that TensorBoard shows (scalars, histograms, graph, images, HParams).

A run directory also holds `backup/`, the state after the last completed epoch: a run
killed mid-training and started again with the same `run_dir` resumes from it and ends
with the weights an uninterrupted run would have; a loss that turns NaN/inf stops the run
at once and leaves that backup as the last good checkpoint.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import keras

from kerasact import _errors, data, plots
from kerasact.inputs import LABEL_FORMATS, check_split, class_sample_weights, validate
from kerasact.model import layers as preprocessing
from kerasact.runtime import distribute, execution, pipeline
from kerasact.training import _cluster, _rows, _run, evidence
from kerasact.training import refit as refitting
from kerasact.training._arguments import check_rows, check_train_arguments
from kerasact.training.best_epoch import kept_epoch
from kerasact.training.calibration import calibrate
from kerasact.training.evaluation import evaluate
from kerasact.training.verdict import Verdict, judge


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
        epochs_run: epochs trained in total, including any before a resume.
        resumed_from: epochs restored from the run directory's backup (0: a fresh run).
        diagnostics: what the diagnostics found wrong (dead units, saturated units, vanishing
            gradients), each a `kerasact.Finding` with its fix; also issued as `TrainingWarning`s.
        verdict: the test score beside a constant predictor's and a linear model's on the same
            split (`kerasact.training.verdict`); its `warning` is printed when the model is below either.
        refit: with `train(refit=True)`, the second fit's `rows`, `epochs` and `seconds`; else None.
    """

    model: keras.Model
    history: dict[str, list[float]]
    metrics: dict[str, float]
    val_metrics: dict[str, float]
    run_dir: Path | None
    codec: data.LabelCodec | None
    split: data.Split = field(repr=False)
    epochs_run: int = 0
    resumed_from: int = 0   # epochs restored from the run directory's backup (0: a fresh run)
    diagnostics: list = field(default_factory=list)  # the diagnostics' findings (kerasact.diagnose.Finding)
    verdict: Verdict | None = None  # None for a streamed run: its rows stay on disk
    refit: dict[str, Any] | None = None  # `train(refit=True)`: the second fit's rows, epochs and seconds


def train(
    model: keras.Model,
    X: Any,
    y: Any = None,
    *,
    target: str | None = None,
    epochs: int = 100,
    batch_size: int = 32,
    log_dir: str | os.PathLike | None = None,
    recipe: str = "run",
    run_dir: str | os.PathLike | None = None,
    val_size: float = 0.15,
    test_size: float = 0.15,
    seed: int = 0,
    patience: int | None = 10,
    class_weight: str | Mapping[int, float] | None = None,
    sample_weight: Any = None,
    hparams: Mapping[str, Any] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
    backup: bool = True,
    strategy: Any = None,
    diagnostics: bool | int = True,
    refit: bool = False,
) -> TrainResult:
    """Train a compiled model on `(X, y)` and evaluate it on a held-out test split.

    `X`, `y` and `sample_weight` are checked first (`kerasact.validate`): bad input is a
    ValueError/TypeError that says the fix, never a TensorFlow error. The data is shuffled
    with `seed` and split into train/validation/test, stratified for classification
    (Keras's `validation_split` takes the unshuffled tail instead). Labels of any kind
    (strings, {-1, 1}, ...) are encoded for the model's loss.

    Args:
        model: a compiled model, e.g. from `kerasact.build_model`.
        X: features, shape `(n, input_dim)`; for a model from `kerasact.build_tabular_model`, a
            table (DataFrame, dict of columns or `.csv` path) of raw rows.
        y: targets (None when `target` names them).
        target: for a table, the column holding the targets instead of `y`.
        epochs: maximum epochs (early stopping may end sooner).
        batch_size: samples per gradient step.
        log_dir: parent folder of run directories; None writes nothing to disk.
        recipe: sub-folder name for this kind of run.
        run_dir: an explicit run directory instead of a fresh one under `log_dir`; a run
            killed before it finished resumes from its last completed epoch.
        val_size: validation fraction of the whole data.
        test_size: test fraction of the whole data.
        seed: shuffling and splitting seed.
        patience: early-stopping patience in epochs (None or 0: no early stopping).
        class_weight: `"balanced"`, a `{class_index: weight}` dict, or None.
        sample_weight: per-sample loss weights (>= 0, not all zero), or None.
        hparams: hyperparameters to show in TensorBoard's HParams dashboard.
        callbacks: extra Keras callbacks.
        verbose: `"auto"`, 0, 1 or 2 as in `model.fit`.
        backup: keep `run_dir/backup/` after every epoch so a killed run resumes (False: a run
            that is cheaper to redo than to back up, e.g. a search trial).
        strategy: the `tf.distribute` strategy the model was built in (None: the model's own).
            Under one, `batch_size` is the global batch, split evenly over the replicas; on
            several workers only the chief writes the run directory (see the README's
            "Multi-worker training").
        diagnostics: probe dead/saturated units and gradient flow on 256 training rows and write
            them to TensorBoard under `diagnostics/` (see the README's "Training diagnostics"):
            True probes epochs 1, 2, 4, 8, ... and the end; an int N every N-th epoch; False off.
        refit: once the test rows have scored the model, train it again from its starting weights on
            every row (training, validation and test) for the epochs the first fit kept (to the end of
            that epoch's cycle under coslog₄), its temperature kept (`kerasact.training.refit`): the
            metrics are the first fit's, the model returned and saved the refit one.

    Returns:
        A `TrainResult`.

    Raises:
        ValueError, TypeError: a bad argument, named with the fix (at most 300 characters),
            raised before any work or disk write.
        FloatingPointError: the loss became NaN/inf; the model holds the last good epoch.
        kerasact.runtime.distribute.ClusterError: the workers disagree (versions, data,
            arguments) or one of them was lost mid-run (each keeps its last completed epoch).

    Example:
        >>> ds = kerasact.data.load_dataset("breast_cancer")
        >>> model = kerasact.build_model("binary", ds.X.shape[1], normalize=True)
        >>> result = train(model, ds.X, ds.y, epochs=50, log_dir="runs", recipe="binary")
        >>> result.metrics["accuracy"]  # doctest: +SKIP
        0.97
    """
    check_train_arguments(model, epochs=epochs, batch_size=batch_size, log_dir=log_dir, recipe=recipe, run_dir=run_dir,
                          val_size=val_size, test_size=test_size, seed=seed, patience=patience,
                          class_weight=class_weight, hparams=hparams, callbacks=callbacks, verbose=verbose,
                          backup=backup, diagnostics=diagnostics)
    strategy = distribute.strategy_for(model, strategy)
    cluster = distribute.prepare(strategy)
    distribute.check_global_batch(batch_size, cluster)
    if not isinstance(refit, bool):
        raise _errors.invalid("refit", refit, "True or False", kind=TypeError)
    if refit and cluster.workers > 1:
        raise _errors.invalid("refit", refit, "False for a run on several workers",
                              "refit a model in one process, or pass refit=False")
    named = target if target is not None else getattr(y, "name", None)  # a Series' name: the target column
    X, y = _rows.from_table(model, X, y, target)
    checked = validate(X, y, model=model, sample_weight=sample_weight, encode=True)
    rule = LABEL_FORMATS[checked.labels]
    check_rows(len(checked.y), rule.classes(checked.y) if rule.classes and checked.codec else None,
               val_size=val_size, test_size=test_size, names=checked.codec and checked.codec.classes_)
    parts, w_train, w_val = _rows.split(checked, test_size=test_size, val_size=val_size, seed=seed)
    check_split(parts, checked.labels)
    if class_weight is not None:
        n_classes = checked.codec.n_classes if checked.codec else 0
        per_class = class_sample_weights(class_weight, parts.y_train, checked.labels, n_classes)
        w_train = per_class if w_train is None else w_train * per_class
    if not isinstance(parts.X_train, Mapping):  # a table model's preprocessing was adapted when built
        # Normalization layers built unadapted learn their statistics from the training rows only.
        preprocessing.adapt_on_training_rows(model, parts.X_train, parts.y_train)
    start = refitting.start(model) if refit else None  # before a backup is restored into it
    job = _cluster.job(model, checked.X, checked.y, cluster, epochs=epochs, batch_size=batch_size, seed=seed,
                       val_size=val_size, test_size=test_size, patience=patience, class_weight=class_weight,
                       backup=backup)   # what the workers compare
    where = _cluster.place(model, strategy, cluster, log_dir=log_dir, recipe=recipe, run_dir=run_dir, backup=backup,
                           job=job, label=_run.describe(model))
    run_dir, backup, first, finished = where.run_dir, where.backup, where.first, where.finished
    monitor = _run.diagnostics(diagnostics, parts.X_train, parts.y_train, run_dir, seed=seed, chief=cluster.is_chief)
    if cluster.replicas > 1 and cluster.is_chief and verbose != 0:
        print(_cluster.global_batch_line(batch_size, cluster, where), flush=True)
    started, history, kept = time.perf_counter(), {}, None
    if not finished and first < epochs:
        sharded = pipeline.held_out(model, parts.X_val, parts.y_val, w_val, batch_size=batch_size)
        # Batched here: Keras would validate a dataset fit at 32 rows a batch, and rebuild a pipeline every epoch.
        validation = {"validation_data": pipeline.in_order(
            _rows.tensors(parts.X_val), parts.y_val, w_val, batch_size=execution.eval_batch_size(batch_size),
            dtype=execution.model_dtype(model), every_epoch=True)} if sharded is None else dict(
            zip(("validation_data", "validation_steps"), sharded))
        # Batches drawn from (seed, epoch) alone, so a resumed run sees an unbroken run's order.
        inputs = pipeline.fit_inputs(model, parts.X_train, parts.y_train, batch_size=batch_size,
                                     seed=seed, sample_weight=w_train, first_epoch=first)
        steps = _run.callbacks(run_dir, patience, callbacks, backup, problem=checked.head.name, monitor=monitor,
                               verbose=verbose if cluster.is_chief else 0)
        try:
            history = model.fit(**inputs, **validation, initial_epoch=first, epochs=epochs, callbacks=steps,
                                verbose=_run.progress(verbose)).history
            kept = kept_epoch(steps)  # now: a refit fits again with the same callbacks
        except FloatingPointError as err:
            raise FloatingPointError(_run.nan_advice(err, model, backup)) from None
        except Exception as err:  # a lost worker: say so, and how to resume
            lost = _cluster.fit_error(err, where)
            if lost is None:
                raise
            raise lost from None
    seconds = time.perf_counter() - started
    history = backup.history if backup else history
    calibrate(model, _rows.tensors(parts.X_val), parts.y_val, w_val)  # before any score: T from validation rows
    # The head read once by validate is carried; the split rows are already checked.
    scoring = {"batch_size": batch_size, "info": checked.model_head, "codec": checked.codec}
    test, figures, predicted = evaluate(model, parts.X_test, parts.y_test, **scoring)
    val, _, _ = evaluate(model, parts.X_val, parts.y_val, **scoring)
    verdict = judge(model, parts, checked.model_head, predicted, seed)
    if verdict.warning and verbose != 0 and cluster.is_chief:
        print(verdict.warning, flush=True)
    found = None if run_dir is None else evidence.gather(  # before a refit changes the model
        run_dir, model, parts, predicted, checked.model_head, checked.codec, seed=seed,
        rows=_rows.split_rows(checked, test_size=test_size, val_size=val_size, seed=seed).X_test)
    again = None if start is None else refitting.refit(
        model, start, checked, parts, rows=_rows.split_rows(checked, test_size=test_size, val_size=val_size, seed=seed),
        # no keeper (or a resumed run's finished backup): the epochs the first fit ran
        epochs=epochs, kept=kept if kept is not None else (len(history.get("loss", [])) or None),
        batch_size=batch_size, seed=seed, class_weight=class_weight,
        callbacks=callbacks, verbose=verbose)
    result = TrainResult(model, history, test, val, run_dir, checked.codec, parts,
                         epochs_run=len(history.get("loss", [])), resumed_from=first, diagnostics=_run.warn(monitor),
                         verdict=verdict, refit=again)
    if run_dir is not None:
        figures = {"learning_curves": partial(plots.learning_curves, history, chosen=kept)} | figures
        rows = {"n_samples": {"train": len(parts.y_train), "validation": len(parts.y_val), "test": len(parts.y_test)},
                **_cluster.facts(cluster, strategy), **({"refit": again} if again else {}),
                "kept_epoch": kept, "evidence": found, "target": None if named is None else str(named)}
        _run.write_run(result, figures, hparams or {}, rows, batch_size=batch_size, seed=seed, seconds=seconds,
                       problem=checked.head.name, recipe=recipe, root=log_dir, monitor=monitor)
    where.done()  # the run is complete: model.keras and metrics.json replace the backups
    return result


