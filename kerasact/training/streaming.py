"""Training on CSV files larger than memory (`train_table(..., stream=True)`): peak memory is set
by `sample_rows`, `chunk_rows` and `shuffle_rows`, not by the number of rows.

1. A scan reads every row once, in chunks (`kerasact.tabular.stream`): it counts the rows of
   each split, collects the target's labels and keeps a uniform sample of `sample_rows` rows.
2. The schema, the problem type, the label codec and the preprocessing statistics (medians,
   scales, vocabularies) come from the sample, the statistics from its training rows only, by
   `build_tabular_model` as for a table in memory. A label the sample lacks is refused before
   training: the model would have no output for it.
3. A row's split is a hash of its row number and the seed (`_parts`), so every pass sees the
   same split without a list of rows. Unlike the in-memory split it is not stratified.
4. Each epoch reads the files again through `tf.data`: a generator of pandas chunks, turned into
   inputs by the `to_inputs` that prediction uses and checked by `validate`, shuffled through a
   pool of `shuffle_rows` rows drawn from (seed, epoch), so a resumed run sees an unbroken
   run's order, then `rebatch` and `prefetch`. (Measured on 2 cores, 10 columns: `unbatch` +
   `shuffle` + `batch` moved 82k rows/s, `rebatch` alone 578k: the pool shuffles whole chunks.)
   Like any shuffle buffer, the pool mixes rows within `shuffle_rows` of each other: shuffle
   files sorted by the target first, or raise `shuffle_rows`.
5. Held-out scores: Keras's compiled metrics over the whole split, one pass each; the
   scikit-learn extras (R², ROC AUC) and the figures on the sample's rows of that split.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from kerasact import _errors, data, plots, tabular
from kerasact.inputs import validate
from kerasact.model import build_tabular_model
from kerasact.runtime import distribute, execution, pipeline
from kerasact.tabular import stream as csv
from kerasact.training import _cluster, _rows, _run
from kerasact.training._arguments import check_train_arguments
from kerasact.training.evaluation import evaluate
from kerasact.training.fit import TrainResult

# stream=None streams CSV files larger than this in all. Measured (benchmarks/tables.py, 2 cores): at 5 MB
# (10^5 rows) in memory was 1.2x faster; at 49 MB (10^6 rows) streaming was 4.6x faster and 0.5 GB smaller.
STREAM_BYTES = 20 * 2**20
SAMPLE_ROWS = 100_000      # rows the schema, labels and preprocessing statistics are read from
CHUNK_ROWS = 10_000        # rows parsed at a time
SHUFFLE_ROWS = 50_000      # rows in the training shuffle pool
STREAM_OPTIONS = ("sample_rows", "chunk_rows", "shuffle_rows")
MAX_LABELS = 1000  # distinct target values the scan counts; beyond it the target is a quantity
PARTS = ("train", "validation", "test")
_SPLIT = 1  # salt of a row's split (the sample draws with another)


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


def _parts(rows: np.ndarray, *, seed: int, val_size: float, test_size: float) -> np.ndarray:
    """0 (train), 1 (validation) or 2 (test) per row number, drawn from the row and the seed."""
    u = csv.fractions(csv.row_keys(rows, seed, _SPLIT))
    return np.where(u < test_size, 2, np.where(u < test_size + val_size, 1, 0)).astype(np.int64)


def _as_labels(values: np.ndarray, codec: Any) -> np.ndarray:
    """Raw target values as the codec's class indices (a text codec compares text)."""
    return codec.encode(values.astype(str) if codec.classes_.dtype.kind in "USO" else values)


def _check_labels(scan: csv.Scan, codec: Any, target: str, sample_rows: int) -> None:
    if codec is None or scan.labels is None:
        return
    labels = sum(scan.labels, Counter())
    seen = np.array(list(labels), dtype=object)
    known = np.isin(seen.astype(str) if codec.classes_.dtype.kind in "USO" else seen, codec.classes_)
    if not known.all():
        unseen = seen[~known].tolist()
        rows = sum(labels[label] for label in unseen)
        raise ValueError(f"target {target!r}: label(s) {unseen[:5]} occur in {rows} row(s) but not in the "
                         f"{len(scan.sample):,}-row sample the model is built from, so it has no output for them; "
                         f"raise sample_rows (now {sample_rows:,}) or drop those rows.")


@dataclass
class _Rows:
    """One split of the CSV files as checked (inputs, targets) arrays, a chunk at a time."""

    files: list[Path]
    part: int
    target: str
    model: keras.Model
    codec: Any
    split: Callable[[np.ndarray], np.ndarray]
    chunk_rows: int
    failure: BaseException | None = field(default=None, repr=False)  # what broke a pass, re-raised by train

    def chunks(self) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
        schema = tabular.schema_of(self.model)
        try:
            for chunk in csv.read_chunks(self.files, self.chunk_rows):
                X, y = tabular.split_target(chunk.frame[self.split(chunk.rows) == self.part], self.target)
                if len(y):
                    labels = y.to_numpy() if self.codec is None else _as_labels(y.to_numpy(), self.codec)
                    checked = validate(tabular.to_inputs(X, schema, f"{chunk.path.name}"), labels, model=self.model)
                    yield checked.X, checked.y
        except Exception as err:  # tf.data reports it as a foreign error: keep the original
            self.failure = err
            raise

    def shuffled(self, epoch: int, seed: int, pool_rows: int) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
        """The rows through a shuffle pool of `pool_rows`, its draws seeded by (seed, epoch)."""
        names = [c.name for c in tabular.schema_of(self.model).features]
        blocks = ([*X.values(), y] for X, y in self.chunks())  # X's keys are in the schema's order
        for block in csv.pooled(blocks, pool_rows, np.random.default_rng([int(seed), int(epoch)])):
            yield dict(zip(names, block[:-1])), block[-1]


def _signature(model: keras.Model, y: np.ndarray) -> tuple:
    features = {c.name: tf.TensorSpec((None, 1), tf.float32 if c.kind == "numeric" else tf.string)
                for c in tabular.schema_of(model).features}
    return features, tf.TensorSpec((None, *y.shape[1:]), tf.as_dtype(y.dtype))


def _batches(rows: _Rows, signature: tuple, *, n: int, batch_size: int, shuffle: tuple | None = None,
             first_epoch: int = 0, endless: bool = False) -> tf.data.Dataset:
    """A split's batches; `shuffle=(seed, pool_rows)` draws epoch k's order from (seed, k)."""
    if shuffle is None:
        ds = tf.data.Dataset.from_generator(rows.chunks, output_signature=signature).rebatch(batch_size)
    else:
        epoch = tf.Variable(first_epoch - 1, dtype=tf.int64, trainable=False)  # counts the passes

        def one_epoch(_: Any) -> tf.data.Dataset:
            return tf.data.Dataset.from_generator(rows.shuffled, args=(epoch.assign_add(1), *shuffle),
                                                  output_signature=signature).rebatch(batch_size)

        ds = (tf.data.Dataset.range(1).repeat() if endless else tf.data.Dataset.range(1)).flat_map(one_epoch)
    if not endless:
        ds = ds.apply(tf.data.experimental.assert_cardinality(pipeline.n_batches(n, batch_size)))
    options = tf.data.Options()
    options.experimental_external_state_policy = tf.data.experimental.ExternalStatePolicy.IGNORE  # the counter
    # Under a strategy every worker reads the files and keeps its replicas' part of each global batch.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.prefetch(pipeline.PREFETCH).with_options(options)


@dataclass
class _Plan:
    """What the scan and its sample decided: the model, the sample validated for it (codec, label
    format, head), the split of the sample's rows, and each split's rows on disk."""

    scan: csv.Scan
    model: keras.Model
    checked: Any
    sample_parts: np.ndarray
    rows: list[_Rows]

    @property
    def n(self) -> list[int]:
        return self.scan.rows.tolist()

    def batches(self, part: int, batch_size: int, **shuffling: Any) -> tf.data.Dataset:
        return _batches(self.rows[part], _signature(self.model, self.checked.y), n=self.n[part],
                        batch_size=batch_size, **shuffling)

    def score(self, part: int, batch_size: int) -> tuple[dict[str, float], dict[str, Any]]:
        """Keras's metrics over the whole split; the scikit-learn extras and figures on the sample's rows of it."""
        held = self.sample_parts == part
        X, y = _rows.take(self.checked.X, held), self.checked.y[held]
        extra, figures = evaluate(self.model, X, y, batch_size=batch_size, info=self.checked.model_head,
                                  codec=self.checked.codec) if len(y) else ({}, {})
        logs = self.model.evaluate(self.batches(part, execution.eval_batch_size(batch_size)), verbose=0,
                                   return_dict=True)
        return extra | {k: float(v) for k, v in logs.items()}, figures

    def summary(self, files: list[Path]) -> str:
        counts = ", ".join(f"{name} {count:,}" for name, count in zip(PARTS, self.n))
        return (f"{tabular.schema_of(self.model).table()}\nstreaming {len(files)} file(s), {sum(self.n):,} rows "
                f"({counts}); schema, labels and statistics from a uniform sample of {len(self.scan.sample):,} rows")


def _plan(files: list[Path], target: str, split: Callable, *, problem: str | None, categorical: Any, numeric: Any,
          drop: Any, options: Mapping[str, Any], seed: int, sample_rows: int, chunk_rows: int) -> _Plan:
    """Scan the files, then build the model on the sample's training rows."""
    scan = csv.scan(files, target, split, n_parts=len(PARTS), seed=seed, sample_rows=sample_rows,
                    chunk_rows=chunk_rows, max_labels=MAX_LABELS)
    if scan.rows.min() == 0:
        raise ValueError(f"data: {int(scan.rows.sum())} row(s) leave a split empty "
                         f"({dict(zip(PARTS, scan.rows.tolist()))}); pass more rows or raise val_size and test_size.")
    X, y = tabular.split_target(scan.sample, target)
    parts = split(scan.sample.index.to_numpy())
    problem_name, counts, _ = tabular.target_plan(y, problem)
    model = build_tabular_model(X[parts == 0], y[parts == 0], problem=problem_name,
                                categorical=categorical, numeric=numeric, drop=drop, **counts, **options)
    checked = validate(tabular.to_inputs(X, tabular.schema_of(model)), y, model=model, encode=True)
    rows = [_Rows(files, i, target, model, checked.codec, split, chunk_rows) for i in range(len(PARTS))]
    return _Plan(scan, model, checked, parts, rows)


def _class_weight(class_weight: Any, scan: csv.Scan, codec: Any) -> dict[int, float] | None:
    """`class_weight` as Keras's {class index: weight}; "balanced" from the scan's training rows."""
    uniform = isinstance(class_weight, str) and data.CLASS_WEIGHT_MODES.get(class_weight, "") is None
    if class_weight is None or uniform:
        return None
    if codec is None:
        raise _errors.invalid("class_weight", class_weight, "None for a target that is not class labels")
    if isinstance(class_weight, Mapping):
        return {int(k): float(v) for k, v in class_weight.items()}
    if scan.labels is None:
        raise _errors.invalid("class_weight", class_weight, f"a dict for more than {MAX_LABELS} classes")
    counts = np.zeros(codec.n_classes)
    for label, n in scan.labels[0].items():
        counts[_as_labels(np.array([label], dtype=object), codec)[0]] += n
    total = counts.sum()  # scikit-learn's "balanced": n_samples / (n_classes * count)
    return {i: float(total / (len(counts) * c)) for i, c in enumerate(counts) if c > 0}


@contextmanager
def _original_errors(rows: Sequence[_Rows]) -> Iterator[None]:
    """What broke a pass over the files (a bad value in row 900,000) raised as itself, not as
    the `tf.errors` error tf.data wraps it in."""
    try:
        yield
    except tf.errors.OpError:
        failure = next((r.failure for r in rows if r.failure is not None), None)
        if failure is None:
            raise
        raise failure from None


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
    split = partial(_parts, seed=seed, val_size=val_size, test_size=test_size)
    cluster = distribute.prepare(strategy)
    distribute.check_global_batch(batch_size, cluster)
    plan = _plan(files, target, split, problem=problem, categorical=categorical, numeric=numeric, drop=drop,
                 options={**options, "strategy": strategy}, seed=seed, sample_rows=sample_rows, chunk_rows=chunk_rows)
    check_train_arguments(plan.model, epochs=epochs, batch_size=batch_size, log_dir=log_dir, recipe=recipe,
                          run_dir=run_dir, val_size=val_size, test_size=test_size, seed=seed, patience=patience,
                          class_weight=class_weight, hparams=hparams, callbacks=callbacks, verbose=verbose,
                          diagnostics=diagnostics)
    _check_labels(plan.scan, plan.checked.codec, target, sample_rows)
    fit_options = {"class_weight": _class_weight(class_weight, plan.scan, plan.checked.codec),
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
    started, history = time.perf_counter(), {}
    with _original_errors(plan.rows):
        if not finished and first < epochs:
            fit_options["callbacks"] = _run.callbacks(run_dir, patience, callbacks, backup,
                                                      problem=plan.checked.head.name, monitor=monitor)
            history = _fit(plan, batch_size=batch_size, epochs=epochs, first=first, shuffle=(seed, shuffle_rows),
                           where=where, **fit_options)
        seconds = time.perf_counter() - started
        history = backup.history if backup else history
        (test, figures), (val, _) = plan.score(2, batch_size), plan.score(1, batch_size)
    result = TrainResult(plan.model, history, test, val, run_dir, plan.checked.codec, None,
                         epochs_run=len(history.get("loss", [])), resumed_from=first, diagnostics=_run.warn(monitor))
    if run_dir is not None:
        n, held = plan.n, plan.sample_parts
        facts = {**_cluster.facts(cluster, strategy), "streamed": True, "sources": [str(f) for f in files],
                 "n_samples": dict(zip(PARTS, n)),
                 "sample_rows": len(held), "rows_trained": n[0] * (result.epochs_run - first),
                 "scored_rows": {"validation": int((held == 1).sum()), "test": int((held == 2).sum())}}
        curves = {"learning_curves": partial(plots.learning_curves, history)}
        _run.write_run(result, curves | figures, hparams or {}, facts,
                   batch_size=batch_size, seed=seed, seconds=seconds, problem=plan.checked.head.name, recipe=recipe,
                   root=log_dir, monitor=monitor)
    where.done()
    return result


def _fit(plan: _Plan, *, batch_size: int, epochs: int, first: int, shuffle: tuple[int, int], where: _cluster.Place,
         **fit_options: Any) -> dict[str, list[float]]:
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
