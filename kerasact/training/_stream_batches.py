"""The batches of a streamed CSV split (`train_stream`): one split's rows read a chunk at a time,
checked, shuffled through a seeded pool and turned into a `tf.data` pipeline; a failure in a pass
over the files is raised as itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kerasact import tabular
from kerasact.inputs import validate
from kerasact.runtime import pipeline
from kerasact.tabular import stream as csv


def as_labels(values: np.ndarray, codec: Any) -> np.ndarray:
    """Raw target values as the codec's class indices (a text codec compares text)."""
    return codec.encode(values.astype(str) if codec.classes_.dtype.kind in "USO" else values)


@dataclass
class Rows:
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
                    labels = y.to_numpy() if self.codec is None else as_labels(y.to_numpy(), self.codec)
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


def signature(model: keras.Model, y: np.ndarray) -> tuple:
    features = {c.name: tf.TensorSpec((None, 1), tf.float32 if c.kind == "numeric" else tf.string)
                for c in tabular.schema_of(model).features}
    return features, tf.TensorSpec((None, *y.shape[1:]), tf.as_dtype(y.dtype))


def batches(rows: Rows, signature: tuple, *, n: int, batch_size: int, shuffle: tuple | None = None,
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


@contextmanager
def original_errors(rows: Sequence[Rows]) -> Iterator[None]:
    """What broke a pass over the files (a bad value in row 900,000) raised as itself, not as
    the `tf.errors` error tf.data wraps it in."""
    try:
        yield
    except tf.errors.OpError:
        failure = next((r.failure for r in rows if r.failure is not None), None)
        if failure is None:
            raise
        raise failure from None
