"""In-memory `tf.data` input for `fit`: one gather per batch from arrays held once as tensors.

Keras turns numpy inputs into a `tf.data` pipeline too, but with a parallel map and an
autotuned prefetch that, on a 2-core CPU, compete with the training thread for the cores.
Here each epoch draws one permutation, each batch is one `tf.gather`, and a prefetch of two
batches overlaps the next gather with the current step — measured faster for small models
(`benchmarks/bench.py --rules`). Each epoch's permutation is drawn from (seed, epoch), so
every epoch is shuffled differently, a run is repeatable, and a resumed run sees the same
batches as an unbroken one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from kerasact.inputs import frames
from kerasact.runtime import execution

PREFETCH = 2  # batches ready ahead of the step; more only adds contention on few cores


def make_dataset(X: Any, y: Any = None, *, batch_size: int = 32, shuffle: bool = True, seed: int | None = None,
                 sample_weight: Any = None, first_epoch: int = 0, repeat: bool = False, dtype: str = "float32") -> Any:
    """A `tf.data.Dataset` of `(x, y[, sample_weight])` batches to pass to `model.fit`.

    Epoch k's order is drawn from `(seed, k)` alone, so a run resumed at epoch k (pass
    `first_epoch=k`) sees the batches an unbroken run would have.

    Args:
        X: features, shape `(n, ...)`.
        y: targets with `n` rows, or None for inputs only.
        batch_size: rows per batch; each epoch's last batch holds the remainder.
        shuffle: a new permutation every epoch (False: the given order).
        seed: seeds the permutations; None draws a fresh seed.
        sample_weight: per-row weights, or None.
        first_epoch: the epoch number of the first pass; the dataset counts on from it.
        dtype: the features' dtype, the model's input dtype (`"float32"`, or `"float64"`).
        repeat: one endless stream of epochs; give `fit` `steps_per_epoch=n_batches(...)`.
            Keras then keeps one iterator for the whole fit instead of building one per
            epoch (~10-25 ms each: half of a digits-sized epoch).

    Returns:
        A `tf.data.Dataset`; without `repeat`, each pass over it is the next epoch.

    Example:
        >>> ds = make_dataset(np.zeros((100, 4)), np.zeros(100), batch_size=32, seed=0)
        >>> [int(x.shape[0]) for x, y in ds]
        [32, 32, 32, 4]
    """
    arrays = _arrays(X, y, sample_weight, dtype)
    n = frames.rows(arrays[0])
    steps = n_batches(n, batch_size)
    seed = int(np.random.default_rng().integers(2**31)) if seed is None else seed
    # Counts the passes: the dataset function runs once per epoch, before that epoch's batches.
    epoch = tf.Variable(first_epoch - 1, dtype=tf.int64, trainable=False)

    batches = index_batches(n, batch_size, seed=seed, shuffle=shuffle)
    passes = tf.data.Dataset.range(1)
    indices = (passes.repeat() if repeat else passes).flat_map(lambda _: batches(epoch.assign_add(1)))
    ds = _gathered(indices, arrays)
    if not repeat:  # a known length: Keras sizes its epochs and progress bar from it
        ds = ds.apply(tf.data.experimental.assert_cardinality(steps))
    return ds.prefetch(PREFETCH).with_options(_options())


def _arrays(X: Any, y: Any, sample_weight: Any, dtype: str) -> tuple:
    """`(features, y[, sample_weight])` with the same number of rows, > 0."""
    # A table model's inputs are a dict of (n, 1) columns (strings as tf.string); arrays take the model's dtype.
    features = {k: tf.constant(v) for k, v in X.items()} if isinstance(X, Mapping) else np.asarray(X, dtype)
    arrays = (features, *(np.asarray(a) for a in (y, sample_weight) if a is not None))
    lengths = [frames.rows(a) for a in arrays]
    if lengths[0] == 0 or any(length != lengths[0] for length in lengths):
        raise ValueError(f"X, y and sample_weight must have the same number of rows (> 0); got {lengths}.")
    return arrays


def index_batches(n: int, batch_size: int, *, seed: int, shuffle: bool = True) -> Any:
    """`epoch -> tf.data.Dataset` of that epoch's batches of row indices, drawn from (seed, epoch) alone.

    Example:
        >>> [len(b) for b in index_batches(100, 32, seed=0)(tf.constant(0, tf.int64))]
        [32, 32, 32, 4]
    """
    steps, full = n_batches(n, batch_size), n // batch_size

    def epoch_batches(epoch: tf.Tensor) -> tf.data.Dataset:
        order = tf.range(n)
        if shuffle:
            seeds = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
            order = tf.random.experimental.stateless_shuffle(order, seed=seeds)
        # One reshape into batches of indices: no per-row work in the pipeline.
        batches = tf.data.Dataset.from_tensor_slices(tf.reshape(order[:full * batch_size], (full, batch_size)))
        return batches.concatenate(tf.data.Dataset.from_tensors(order[full * batch_size:])) if steps > full else batches

    return epoch_batches


def _gathered(indices: tf.data.Dataset, arrays: tuple) -> tf.data.Dataset:
    """Each batch of indices gathered from the arrays: `(x, y[, w])`, or `x` alone."""
    def gather(i: tf.Tensor, tensors: tuple) -> Any:
        batch = tuple(tf.nest.map_structure(lambda t: tf.gather(t, i), t) for t in tensors)
        return batch if len(batch) > 1 else batch[0]

    # The arrays flow in as a repeated dataset element rather than being captured by the map
    # function, which would embed them in the graph (and fail past 2 GB).
    return tf.data.Dataset.zip((indices, tf.data.Dataset.from_tensors(arrays).repeat())).map(gather)


def _options(shard: Any = None) -> tf.data.Options:
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False  # nothing to gain; costs set-up
    options.experimental_external_state_policy = tf.data.experimental.ExternalStatePolicy.IGNORE  # the epoch counter
    if shard is not None:
        options.experimental_distribute.auto_shard_policy = shard
    return options


def sharded_dataset(strategy: tf.distribute.Strategy, X: Any, y: Any = None, *, batch_size: int, seed: int,
                    sample_weight: Any = None, first_epoch: int = 0, shuffle: bool = True, repeat: bool = False,
                    dtype: str = "float32") -> Any:
    """`make_dataset`'s batches split over the replicas of `strategy`: `batch_size` is the global batch.

    Every worker draws the same (seed, epoch) permutation as a single process would, cuts each
    global batch into one contiguous slice per replica (sizes differ by at most one row, in the
    last, partial batch only) and keeps its own replicas' slices: sharding by hand, so the
    auto-shard policy is OFF. Every worker yields the same number of steps, so none waits
    for a peer that ran out of batches. With equal slices the all-reduced gradient is the
    global batch's mean gradient: the steps of a single-process run on the same `batch_size`.

    Args:
        strategy: the model's `tf.distribute` strategy.
        X, y, sample_weight, seed, first_epoch, shuffle, repeat, dtype: as for `make_dataset`.
        batch_size: the global batch: rows per step over all replicas together.

    Returns:
        A `tf.distribute.DistributedDataset` for `model.fit` (with `steps_per_epoch` when `repeat`).

    Example:
        >>> ds = sharded_dataset(strategy, X, y, batch_size=64, seed=0, repeat=True)  # doctest: +SKIP
    """
    arrays = _arrays(X, y, sample_weight, dtype)
    n, replicas = frames.rows(arrays[0]), strategy.num_replicas_in_sync
    batches = index_batches(n, batch_size, seed=seed, shuffle=shuffle)
    # An endless stream counts epochs from first_epoch; a single pass is one unshuffled epoch.
    epochs = tf.data.Dataset.range(first_epoch, 2**62 if repeat else first_epoch + 1)

    def per_worker(context: tf.distribute.InputContext) -> tf.data.Dataset:
        local = replicas // context.num_input_pipelines
        mine = tf.range(context.input_pipeline_id * local, (context.input_pipeline_id + 1) * local + 1, dtype=tf.int64)

        def slices(i: tf.Tensor) -> tf.data.Dataset:  # this worker's replicas' slices of one global batch
            bounds = mine * tf.size(i, out_type=tf.int64) // replicas
            return tf.data.Dataset.range(local).map(lambda r: i[bounds[r]:bounds[r + 1]])

        ds = _gathered(epochs.flat_map(batches).flat_map(slices), arrays)
        # Not declared infinite: that saves a per-step all-reduce (the "has every worker a batch?"
        # check) but with TF 2.21 a worker segfaulted when Keras dropped such an iterator (1 run in 8).
        return ds.prefetch(PREFETCH).with_options(_options(tf.data.experimental.AutoShardPolicy.OFF))

    return strategy.distribute_datasets_from_function(per_worker)


def held_out(model: Any, X: Any, y: Any, sample_weight: Any = None, *, batch_size: int) -> tuple[Any, int] | None:
    """Validation or test rows of a model under a strategy, sharded by hand, and the steps of one
    pass; None for a model without one (give Keras the arrays).

    The stream repeats the same unshuffled pass: Keras keeps one validation iterator across
    epochs when given steps, and a distributed dataset's own length counts per-replica
    elements, not steps (so Keras would warn that the data ran out).

    Example:
        >>> data, steps = held_out(model, X_val, y_val, batch_size=32)  # doctest: +SKIP
        >>> model.evaluate(data, steps=steps)  # doctest: +SKIP
    """
    strategy = execution.strategy_of(model)
    if strategy is None:
        return None
    data = sharded_dataset(strategy, X, y, batch_size=batch_size, seed=0, sample_weight=sample_weight, shuffle=False,
                           repeat=True, dtype=execution.model_dtype(model))
    return data, n_batches(frames.rows(X), batch_size)


# Held-out arrays up to this size go in as tensor slices; larger ones through the gather pipeline,
# which never embeds them in a graph (tf.data graph rewrites serialise slices: 2 GB at most).
SLICES_MAX_BYTES = 1 << 30
CACHE_MAX_ROWS = 200_000  # validation rows whose batches are kept in memory across passes


def in_order(X: Any, y: Any = None, sample_weight: Any = None, *, batch_size: int, dtype: str = "float32",
             every_epoch: bool = False) -> Any:
    """Held-out rows in order, as batches for a forward-only pass (validation, scoring).

    Keras's numpy adapter rebuilds its pipeline for every pass: validating benchmark (a)'s 4,286
    rows took ~50 ms an epoch that way, ~7 ms as tensor slices batched by tf.data. With
    `every_epoch` (the validation rows of a fit) the batches are cut once and cached: slicing a
    table's string columns again each pass cost 1,500 validation rows of a 20-column table ~14 ms
    an epoch inside `fit` (41 → 27 ms, the best of 4 alternating 10-epoch fits; ~3.5 s of a
    256-epoch run).

    Example:
        >>> [int(x.shape[0]) for x, y in in_order(np.zeros((5, 2)), np.zeros(5), batch_size=2)]
        [2, 2, 1]
    """
    arrays = _arrays(X, y, sample_weight, dtype)
    size = sum(getattr(a, "nbytes", 0) for a in tf.nest.flatten(arrays))
    if size > SLICES_MAX_BYTES:
        return make_dataset(X, y, batch_size=batch_size, shuffle=False, sample_weight=sample_weight, dtype=dtype)
    batches = tf.data.Dataset.from_tensor_slices(arrays if len(arrays) > 1 else arrays[0]).batch(batch_size)
    return batches.cache() if every_epoch and frames.rows(X) <= CACHE_MAX_ROWS else batches


def n_batches(n: int, batch_size: int) -> int:
    """Batches in an epoch of `n` rows (the last one partial).

    Example:
        >>> n_batches(100, 32)
        4
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1; got {batch_size!r}.")
    return -(-n // batch_size)


def fit_inputs(model: Any, X: Any, y: Any = None, *, batch_size: int = 32, seed: int | None = None,
               sample_weight: Any = None, first_epoch: int = 0, shuffle: bool = True) -> dict[str, Any]:
    """Set the model up for this fit and return `model.fit`'s data arguments.

    Use as `model.fit(**fit_inputs(model, X, y, ...), epochs=...)`. First
    `execution.configure` re-decides a kerasact model's automatic settings for this batch
    and data size. Then, when its `steps_per_execution` divides the epoch (small models run
    a whole epoch per call), the data is one endless stream with `steps_per_epoch`, so the
    iterator is built once per fit; otherwise each epoch is its own pass, because an
    execution running past an epoch's end would take the next epoch's batches. (Doing both
    here keeps them in that order: the stream must be chosen for the final setting.)

    Example:
        >>> model.fit(**fit_inputs(model, X, y, batch_size=32, seed=0), epochs=10)  # doctest: +SKIP
    """
    steps = n_batches(frames.rows(X), batch_size)
    execution.configure(model, batch_size=batch_size, n_samples=frames.rows(X))
    strategy = execution.strategy_of(model)
    if strategy is not None:  # one step per call there (execution's rule): always the endless stream
        data = sharded_dataset(strategy, X, y, batch_size=batch_size, seed=seed, sample_weight=sample_weight,
                               first_epoch=first_epoch, shuffle=shuffle, repeat=True,
                               dtype=execution.model_dtype(model))
        return {"x": data, "steps_per_epoch": steps, "shuffle": False}
    endless = steps % max(1, int(getattr(model, "steps_per_execution", 1))) == 0
    data = make_dataset(X, y, batch_size=batch_size, seed=seed, sample_weight=sample_weight, shuffle=shuffle,
                        first_epoch=first_epoch, repeat=endless, dtype=execution.model_dtype(model))
    return {"x": data, "steps_per_epoch": steps if endless else None, "shuffle": False}
