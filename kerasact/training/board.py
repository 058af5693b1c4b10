"""Keras's TensorBoard callback, with the tags a folder of many runs needs to read right on first open.

`keras.callbacks.TensorBoard` (Keras 3.15) writes every run's loss as `epoch_loss`, so a
regression MSE of 2500 and a classifier's 0.05 share one Time Series chart; it writes each
validation value twice (`epoch_*` and `evaluation_*_vs_iterations`); its histograms include
preprocessing statistics (Normalization's `mean`/`variance`/`count`); and its op graph relies on
a `tf.function` attribute TensorBoard 2.21's Graphs tab never gets from Keras 3's plain-Python
train function, so the tab opens on "Graph visualization failed". `RunBoard` keeps the callback's
writers and overrides its three writing hooks (private in Keras 3.15: a Keras release that
renames them falls back to Keras's own tags, which `tests/training/test_board.py` catches):

- epoch scalars are `<problem>/<metric>` (`binary/loss`, `regression/mae`) in `train/` and
  `validation/`, so each problem type gets its own chart group, and `optimizer/learning_rate`;
- no `evaluation_*_vs_iterations` duplicates;
- histograms of trainable weights only, as `weights/<layer>/<variable>`, bucketed in numpy
  (`kerasact._histogram`: TensorBoard's own op cost ~25 ms an epoch);
- the op graph of the first training call, traced with `tf.summary.trace_on`, as the run's graph
  (what the Graphs tab opens on), beside Keras's conceptual graph (tag `keras`).
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf
from tensorflow.python.eager import context as _eager

from kerasact._histogram import histogram
from kerasact.training.callbacks import snapshot_every


def scalar_tag(problem: str, metric: str) -> str:
    """The tag of one metric of a run: grouped by problem type.

    Example:
        >>> scalar_tag("binary", "loss")
        'binary/loss'
    """
    return f"{problem}/{metric}"


LEARNING_RATE_TAG = "optimizer/learning_rate"


class RunBoard(keras.callbacks.TensorBoard):
    """`keras.callbacks.TensorBoard` writing kerasact's tags (see the module docstring).

    Args:
        log_dir: the run directory.
        problem: the head's problem type, the group of the run's scalars.

    Example:
        >>> model.fit(X, y, callbacks=[RunBoard("runs/binary/x", "binary")])  # doctest: +SKIP
    """

    def __init__(self, log_dir: str | os.PathLike, problem: str) -> None:
        super().__init__(log_dir=str(log_dir), histogram_freq=1, write_graph=True)
        self.problem = problem
        self._tracing_graph = False

    def set_model(self, model: keras.Model) -> None:
        super().set_model(model)  # writes the conceptual graph (tag "keras") to train/
        # The op graph is this class's (below): Keras 3.15's own attempt writes nothing on TF 2.21.
        self._should_write_train_graph, self._graph_pending = False, self.write_graph

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self._graph_pending:  # the first call traces the train function: record its graph
            tf.summary.trace_on(graph=True, profiler=False)
            self._tracing_graph = True
        super().on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        super().on_train_batch_end(batch, logs)
        if self._tracing_graph:
            # What tf.summary.trace_export reads; written as the run's own graph instead of under a
            # tag, because the Graphs tab opens on a run's default op graph and fails on a tagged one.
            traced = _eager.context().export_run_metadata()
            tf.summary.trace_off()
            graphs = [g.pre_optimization_graph for g in traced.function_graphs] if traced is not None else []
            if graphs:
                with self._train_writer.as_default():
                    tf.summary.graph(max(graphs, key=lambda g: len(g.node)))  # the train step, not a helper
            self._tracing_graph = self._graph_pending = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.histogram_freq = snapshot_every(self.params.get("epochs"))  # as often as the backup commits
        super().on_train_begin(logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_end(epoch, logs)
        if epoch % self.histogram_freq and epoch + 1 == self.params.get("epochs"):
            self._log_weights(epoch)  # the last epoch's weights are always shown

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._tracing_graph:  # a run stopped inside its first call: leave no trace running
            tf.summary.trace_off()
            self._tracing_graph = False
        super().on_train_end(logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        self._pop_writer()  # Keras also writes each value as evaluation_*_vs_iterations: a duplicate

    def _log_epoch_metrics(self, epoch: int, logs: dict | None) -> None:
        if not logs:
            return
        with self._train_writer.as_default(step=epoch):
            for name, value in logs.items():
                if not name.startswith("val_"):
                    tf.summary.scalar(scalar_tag(self.problem, name), value)
            optimizer = getattr(self.model.optimizer, "inner_optimizer", self.model.optimizer)
            if isinstance(optimizer, keras.optimizers.Optimizer):
                tf.summary.scalar(LEARNING_RATE_TAG, float(keras.ops.convert_to_numpy(optimizer.learning_rate)))
        with self._val_writer.as_default(step=epoch):
            for name, value in logs.items():
                if name.startswith("val_"):
                    tf.summary.scalar(scalar_tag(self.problem, name[len("val_"):]), value)

    def _log_weights(self, epoch: int) -> None:
        with self._train_writer.as_default(step=epoch):
            for layer in self.model.layers:
                for weight in layer.trainable_weights:  # not Normalization's mean/variance/count
                    histogram(f"weights/{layer.name}/{weight.name}", keras.ops.convert_to_numpy(weight), epoch)
            self._train_writer.flush()
