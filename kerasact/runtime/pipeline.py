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
    # A table model's inputs are a dict of (n, 1) columns (strings as tf.string); arrays take the model's dtype.
    features = {k: tf.constant(v) for k, v in X.items()} if isinstance(X, Mapping) else np.asarray(X, dtype)
    arrays = (features, *(np.asarray(a) for a in (y, sample_weight) if a is not None))
    lengths = [frames.rows(a) for a in arrays]
    n = lengths[0]
    if n == 0 or any(length != n for length in lengths):
        raise ValueError(f"X, y and sample_weight must have the same number of rows (> 0); got {lengths}.")
    steps = n_batches(n, batch_size)
    full = n // batch_size
    seed = int(np.random.default_rng().integers(2**31)) if seed is None else seed
    # Counts the passes: the dataset function runs once per epoch, before that epoch's batches.
    epoch = tf.Variable(first_epoch - 1, dtype=tf.int64, trainable=False)

    def epoch_batches(_: Any) -> tf.data.Dataset:
        order = tf.range(n)
        if shuffle:
            seeds = tf.stack([tf.constant(seed, tf.int64), epoch.assign_add(1)])
            order = tf.random.experimental.stateless_shuffle(order, seed=seeds)
        # One reshape into batches of indices: no per-row work in the pipeline.
        batches = tf.data.Dataset.from_tensor_slices(tf.reshape(order[:full * batch_size], (full, batch_size)))
        return batches.concatenate(tf.data.Dataset.from_tensors(order[full * batch_size:])) if steps > full else batches

    def gather(i: tf.Tensor, tensors: tuple) -> Any:
        batch = tuple(tf.nest.map_structure(lambda t: tf.gather(t, i), t) for t in tensors)
        return batch if len(batch) > 1 else batch[0]

    passes = tf.data.Dataset.range(1)
    indices = (passes.repeat() if repeat else passes).flat_map(epoch_batches)
    # The arrays flow in as a repeated dataset element rather than being captured by the map
    # function, which would embed them in the graph (and fail past 2 GB).
    data = tf.data.Dataset.from_tensors(arrays).repeat()
    ds = tf.data.Dataset.zip((indices, data)).map(gather)
    if not repeat:  # a known length: Keras sizes its epochs and progress bar from it
        ds = ds.apply(tf.data.experimental.assert_cardinality(steps))
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False  # nothing to gain; costs set-up
    options.experimental_external_state_policy = tf.data.experimental.ExternalStatePolicy.IGNORE  # the epoch counter
    return ds.prefetch(PREFETCH).with_options(options)


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
    endless = steps % max(1, int(getattr(model, "steps_per_execution", 1))) == 0
    data = make_dataset(X, y, batch_size=batch_size, seed=seed, sample_weight=sample_weight, shuffle=shuffle,
                        first_epoch=first_epoch, repeat=endless, dtype=execution.model_dtype(model))
    return {"x": data, "steps_per_epoch": steps if endless else None, "shuffle": False}
