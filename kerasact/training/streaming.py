"""Training on CSV files larger than memory (`train_table(..., stream=True)`): peak memory is set
by `sample_rows`, `chunk_rows` and `shuffle_rows`, not by the number of rows.

1. A scan reads every row once, in chunks (`kerasact.tabular.stream`): it counts the rows of
   each split, collects the target's labels and keeps a uniform sample of `sample_rows` rows.
2. The schema, the problem type, the label codec and the preprocessing statistics (medians,
   scales, vocabularies) come from the sample, the statistics from its training rows only, by
   `build_tabular_model` as for a table in memory. A label the sample lacks is refused before
   training: the model would have no output for it.
3. A row's split is a hash of its row number and the seed (`_stream_plan.row_parts`), so every
   pass sees the same split without a list of rows. Unlike the in-memory split it is not stratified.
4. Each epoch reads the files again through `tf.data`: a generator of pandas chunks, turned into
   inputs by the `to_inputs` that prediction uses and checked by `validate`, shuffled through a
   pool of `shuffle_rows` rows drawn from (seed, epoch), so a resumed run sees an unbroken
   run's order, then `rebatch` and `prefetch`. (Measured on 2 cores, 10 columns: `unbatch` +
   `shuffle` + `batch` moved 82k rows/s, `rebatch` alone 578k: the pool shuffles whole chunks.)
   Like any shuffle buffer, the pool mixes rows within `shuffle_rows` of each other: shuffle
   files sorted by the target first, or raise `shuffle_rows`.
5. Held-out scores: Keras's compiled metrics over the whole split, one pass each; the
   scikit-learn extras (R², ROC AUC) and the figures on the sample's rows of that split.

This module checks the arguments, fits and writes the run; planning the read (1-3) is
`_stream_plan`'s, the batches (4) are `_stream_batches`'.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import keras
import pandas as pd

from kerasact import _errors, plots, tabular
from kerasact.runtime import distribute, execution, pipeline
from kerasact.tabular import stream as csv
from kerasact.training import _cluster, _rows, _run, _stream_batches, _stream_plan
from kerasact.training._arguments import check_train_arguments
from kerasact.training.best_epoch import kept_epoch
from kerasact.training.fit import TrainResult

# stream=None streams CSV files larger than this in all. Measured (benchmarks/tables.py, 2 cores): at 5 MB
# (10^5 rows) in memory was 1.2x faster; at 49 MB (10^6 rows) streaming was 4.6x faster and 0.5 GB smaller.
STREAM_BYTES = 20 * 2**20
SAMPLE_ROWS = 100_000      # rows the schema, labels and preprocessing statistics are read from
CHUNK_ROWS = 10_000        # rows parsed at a time
SHUFFLE_ROWS = 50_000      # rows in the training shuffle pool
STREAM_OPTIONS = ("sample_rows", "chunk_rows", "shuffle_rows")


def wants_stream(data: Any, stream: bool | None) -> bool:
    """Whether `train_table` streams `data`: `stream` when given, else CSVs over `STREAM_BYTES`.

    Example:
        >>> wants_stream({"a": [1, 2]}, None)
        False
    """
    if stream is not None:
        _errors.check_bool("stream", stream)
    if not csv.is_csv_source(data):
        if stream:
            raise _errors.invalid("stream", stream, "None or False for a table already in memory",
                                  "pass a .csv path, a glob or a list of .csv paths to stream")
        return False
    return stream if stream is not None else sum(p.stat().st_size for p in csv.csv_files(data)) > STREAM_BYTES


def train_stream(source: Any, target: str, *, problem: str | None = None, categorical: Any = (), numeric: Any = (),
                 drop: Any = (), sample_rows: int = SAMPLE_ROWS, chunk_rows: int = CHUNK_ROWS,
                 shuffle_rows: int = SHUFFLE_ROWS, epochs: int = 100, batch_size: int = 32, log_dir: Any = None,
                 recipe: str = "run", run_dir: Any = None, val_size: float = 0.15, test_size: float = 0.15,
                 seed: int = 0, patience: int | None = 10, class_weight: Any = None, sample_weight: Any = None,
                 hparams: Mapping[str, Any] | None = None, callbacks: Sequence[keras.callbacks.Callback] = (),
                 verbose: int | str = "auto", strategy: Any = None, diagnostics: bool | int = True,
                 **options: Any) -> TrainResult:
    """Train a table model on CSV files read in chunks, so memory does not grow with the rows.

    Args:
        source: a `.csv` path, a glob such as `"data/part-*.csv"`, or a list of paths (one header).
        target: the column to predict.
        problem, categorical, numeric, drop: as in `train_table`.
        sample_rows: rows of the uniform sample the schema, labels and statistics are read from.
        chunk_rows: rows parsed at a time.
        shuffle_rows: rows in the training shuffle pool.
        sample_weight: not supported for streamed files (None).
        strategy: as in `train`; every worker reads the files, and each global batch is split over
            the replicas (auto-shard policy DATA), as for arrays in memory.
        **options: `ModelSpec` fields for the model; the other arguments are `train`'s.

    Returns:
        A `TrainResult` whose `split` is None (the rows stay on disk). `metrics` and `val_metrics`
        hold Keras's compiled metrics over the whole split and the scikit-learn extras (R², ROC
        AUC) over the sample's rows of it; metrics.json records both row counts.

    Example:
        >>> result = train_stream("data/part-*.csv", "label", epochs=5, log_dir="runs")  # doctest: +SKIP
    """
    files = csv.csv_files(source)
    tabular.split_target(pd.DataFrame(columns=csv.header(files)), target)  # an unknown target, said now
    for name, value in (("sample_rows", sample_rows), ("chunk_rows", chunk_rows), ("shuffle_rows", shuffle_rows)):
        _errors.check_int(name, value, minimum=1)
    if sample_weight is not None:
        raise _errors.invalid("sample_weight", sample_weight, "None for streamed CSV files",
                              "use class_weight, or train in memory (stream=False)")
    for name, value in (("val_size", val_size), ("test_size", test_size)):  # they draw the split the scan counts
        _errors.check_number(name, value, minimum=0, maximum=1, open_low=True, open_high=True)
    _errors.check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    split = partial(_stream_plan.row_parts, seed=seed, val_size=val_size, test_size=test_size)
    cluster = distribute.prepare(strategy)
    distribute.check_global_batch(batch_size, cluster)
    plan = _stream_plan.plan(files, target, split, problem=problem, categorical=categorical, numeric=numeric, drop=drop,
                 options={**options, "strategy": strategy}, seed=seed, sample_rows=sample_rows, chunk_rows=chunk_rows)
    check_train_arguments(plan.model, epochs=epochs, batch_size=batch_size, log_dir=log_dir, recipe=recipe,
                          run_dir=run_dir, val_size=val_size, test_size=test_size, seed=seed, patience=patience,
                          class_weight=class_weight, hparams=hparams, callbacks=callbacks, verbose=verbose,
                          diagnostics=diagnostics)
    _stream_plan.check_labels(plan.scan, plan.checked.codec, target, sample_rows)
    fit_options = {"class_weight": _stream_plan.keras_class_weight(class_weight, plan.scan, plan.checked.codec),
                   "verbose": _run.progress(verbose)}
    if verbose not in (0, "0") and cluster.is_chief:
        print(plan.summary(files), flush=True)
    job = _cluster.job(plan.model, plan.checked.X, plan.checked.y, cluster, rows=sum(plan.n), epochs=epochs,
                       batch_size=batch_size, seed=seed, shuffle_rows=shuffle_rows, patience=patience)
    where = _cluster.place(plan.model, strategy, cluster, log_dir=log_dir, recipe=recipe, run_dir=run_dir,
                           backup=True, job=job, label=_run.describe(plan.model))
    run_dir, backup, first, finished = where.run_dir, where.backup, where.first, where.finished
    held = plan.sample_parts == 0  # the sample's training rows are the probe's
    monitor = _run.diagnostics(diagnostics, _rows.take(plan.checked.X, held), plan.checked.y[held], run_dir,
                               seed=seed, chief=cluster.is_chief)
    if cluster.replicas > 1 and cluster.is_chief and verbose not in (0, "0"):
        print(_cluster.global_batch_line(batch_size, cluster, where), flush=True)
    started, history, kept = time.perf_counter(), {}, None
    with _stream_batches.original_errors(plan.rows):
        if not finished and first < epochs:
            fit_options["callbacks"] = _run.callbacks(run_dir, patience, callbacks, backup,
                                                      problem=plan.checked.head.name, monitor=monitor,
                                                      verbose=verbose if cluster.is_chief else 0)
            history = _fit(plan, batch_size=batch_size, epochs=epochs, first=first, shuffle=(seed, shuffle_rows),
                           where=where, **fit_options)
            kept = kept_epoch(fit_options["callbacks"])
        seconds = time.perf_counter() - started
        history = backup.history if backup else history
        (test, figures), (val, _) = plan.score(2, batch_size), plan.score(1, batch_size)
    result = TrainResult(plan.model, history, test, val, run_dir, plan.checked.codec, None,
                         epochs_run=len(history.get("loss", [])), resumed_from=first, diagnostics=_run.warn(monitor))
    if run_dir is not None:
        n, held = plan.n, plan.sample_parts
        facts = {**_cluster.facts(cluster, strategy), "streamed": True, "sources": [str(f) for f in files],
                 "n_samples": dict(zip(_stream_plan.PARTS, n)),
                 "sample_rows": len(held), "rows_trained": n[0] * (result.epochs_run - first),
                 "scored_rows": {"validation": int((held == 1).sum()), "test": int((held == 2).sum())},
                 "kept_epoch": kept}
        curves = {"learning_curves": partial(plots.learning_curves, history, chosen=kept)}
        _run.write_run(result, curves | figures, hparams or {}, facts,
                   batch_size=batch_size, seed=seed, seconds=seconds, problem=plan.checked.head.name, recipe=recipe,
                   root=log_dir, monitor=monitor)
    where.done()
    return result


def _fit(plan: _stream_plan.Plan, *, batch_size: int, epochs: int, first: int, shuffle: tuple[int, int],
         where: _cluster.Place, **fit_options: Any) -> dict[str, list[float]]:
    """`model.fit` on the training rows, validating on the validation rows each epoch."""
    n_train, model = plan.n[0], plan.model
    steps = pipeline.n_batches(n_train, batch_size)
    execution.configure(model, batch_size=batch_size, n_samples=n_train)
    endless = steps % max(1, int(getattr(model, "steps_per_execution", 1))) == 0  # as pipeline.fit_inputs decides
    train_batches = plan.batches(0, batch_size, shuffle=shuffle, first_epoch=first, endless=endless)
    try:
        return model.fit(train_batches, steps_per_epoch=steps if endless else None, initial_epoch=first, epochs=epochs,
                         validation_data=plan.batches(1, execution.eval_batch_size(batch_size)), shuffle=False,
                         **fit_options).history
    except FloatingPointError as err:
        raise FloatingPointError(_run.nan_advice(err, model, where.backup)) from None
    except Exception as err:  # a lost worker: say so, and how to resume
        lost = _cluster.fit_error(err, where)
        if lost is None:
            raise
        raise lost from None
