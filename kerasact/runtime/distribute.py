"""Multi-worker training on `tf.distribute`: the cluster a strategy spans, one collective
exchange in which the workers compare what they are about to run, the global batch rule, and
the words for a lost worker. The strategy itself comes from `TF_CONFIG` (`tf_config`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from kerasact.runtime import _keras_compat, execution

JOIN_TIMEOUT = 120.0     # seconds every task of TF_CONFIG has to start and join (all-reduce RING over gRPC)
EXCHANGE_BYTES = 4096     # one worker's JSON in `exchange`
_JOBS = ("chief", "worker")  # the tasks that train (MWMS has no parameter servers)


class ClusterError(ConnectionError):
    """The cluster could not start or lost a worker; the message says which and what to do."""


class ClusterMismatch(ClusterError, ValueError):
    """The workers were started differently (versions, data, arguments): a usage error, fixed by
    starting the same command everywhere (the command line's exit status 2)."""


@dataclass(frozen=True)
class Cluster:
    """The workers a strategy spans, as this process sees them.

    Attributes:
        workers: processes training together (1 without a multi-worker strategy).
        index: this process among them; 0 is the chief.
        replicas: replicas in sync over all workers (a worker may hold several devices).
        addresses: each worker's `host:port`, by index (empty in one process).
    """

    workers: int = 1
    index: int = 0
    replicas: int = 1
    addresses: tuple[str, ...] = ()
    task: str = "worker 0"   # this process as TF_CONFIG names it: its job and index

    @property
    def is_chief(self) -> bool:
        """The one worker that writes the run directory."""
        return self.index == 0

    @property
    def name(self) -> str:
        return "the chief" if self.is_chief else f"worker {self.index}"


def _tasks(cluster_spec: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(job, task index, address) of each training task, the chief first."""
    return [(job, i, address) for job in _JOBS for i, address in enumerate(cluster_spec.get(job, []))]


def cluster_of(strategy: tf.distribute.Strategy | None) -> Cluster:
    """The `Cluster` of a strategy (None or a one-process strategy: one worker).

    Example:
        >>> cluster_of(None)
        Cluster(workers=1, index=0, replicas=1, addresses=(), task='worker 0')
    """
    if strategy is None:
        return Cluster()
    resolver = getattr(strategy, "cluster_resolver", None)
    spec = resolver.cluster_spec().as_dict() if resolver is not None else {}
    tasks = _tasks(spec)
    if len(tasks) < 2:
        return Cluster(replicas=strategy.num_replicas_in_sync)
    index = next(i for i, (job, task, _) in enumerate(tasks) if (job, task) == (resolver.task_type, resolver.task_id))
    return Cluster(len(tasks), index, strategy.num_replicas_in_sync, tuple(address for *_, address in tasks),
                   f"{resolver.task_type} {resolver.task_id}")


def prepare(strategy: tf.distribute.Strategy | None) -> Cluster:
    """Ready Keras for a model under `strategy`: the keras#20585 fixes where it spans workers.

    Example:
        >>> prepare(None).workers
        1
    """
    cluster = cluster_of(strategy)
    if cluster.workers > 1:
        _keras_compat.install()
    return cluster


def lost_worker(err: Exception, cluster: Cluster) -> ClusterError | None:
    """The words for a collective that failed because a peer died, or None for any other error."""
    if not isinstance(err, (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.AbortedError,
                            tf.errors.CancelledError, tf.errors.InternalError)):
        return None
    gone = sorted({f"{job} {task}" for job, task in re.findall(r"/job:(\w+)/replica:0/task:(\d+)", str(err))}
                  - {cluster.task})   # TensorFlow's names, as in TF_CONFIG: "worker 1", "chief 0"
    who = " and ".join(gone) if gone else "a peer"
    return ClusterError(f"{who} of the cluster {list(cluster.addresses)} stopped (died, killed or unreachable), so "
                        f"{cluster.name} stopped too")


def exchange(strategy: tf.distribute.Strategy | None, payload: dict[str, Any], *,
             timeout: float = JOIN_TIMEOUT) -> list[dict[str, Any]]:
    """Every worker's `payload`, by worker index: one all-reduce of their JSON bytes.

    Args:
        strategy: the strategy; None or one worker returns `[payload]`.
        payload: this worker's facts (JSON, at most `EXCHANGE_BYTES` bytes).
        timeout: seconds the collective may wait for the slowest worker.

    Example:
        >>> exchange(None, {"epoch": 3})
        [{'epoch': 3}]
    """
    cluster = cluster_of(strategy)
    if cluster.workers == 1:
        return [payload]
    raw = np.frombuffer(json.dumps(payload, sort_keys=True).encode(), np.uint8)
    if raw.size > EXCHANGE_BYTES:
        raise ValueError(f"exchange payload is {raw.size} bytes; at most {EXCHANGE_BYTES}.")
    rows = np.zeros((cluster.workers, EXCHANGE_BYTES), np.float32)   # bytes are exact in float32 sums
    rows[cluster.index, :raw.size] = raw
    local = cluster.replicas // cluster.workers
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout)

    def step() -> tf.Tensor:
        return tf.distribute.get_replica_context().all_reduce("SUM", tf.constant(rows), options=options)

    try:
        # In a tf.function: eagerly, MWMS warns of its overhead on every call.
        reduced = tf.function(lambda: strategy.run(step))()
        total = strategy.experimental_local_results(reduced)[0].numpy() / local  # each replica added it
    except tf.errors.OpError as err:
        raise lost_worker(err, cluster) or err from None
    return [json.loads(bytes(np.rint(row).astype(np.uint8)).rstrip(b"\0")) for row in total]


def check_global_batch(batch_size: int, cluster: Cluster) -> None:
    """A global batch that splits evenly over the replicas, or a ValueError with the nearest that do."""
    r = cluster.replicas
    if batch_size % r:
        low, high = max(r, batch_size // r * r), (batch_size // r + 1) * r
        raise ValueError(f"batch_size={batch_size} is the global batch, split over {r} replicas: pass a multiple of "
                         f"{r} ({low} or {high}) so every replica gets the same rows per step.")


def check_strategy(strategy: Any) -> None:
    """None or a `tf.distribute.Strategy`, else a TypeError that says how to make one."""
    if strategy is not None and not isinstance(strategy, tf.distribute.Strategy):
        raise TypeError(f"strategy={type(strategy).__name__} is not a tf.distribute.Strategy: pass None, "
                        f"kerasact.multi_worker_strategy() or tf.distribute.MirroredStrategy().")


def strategy_for(model: Any, strategy: tf.distribute.Strategy | None) -> tf.distribute.Strategy | None:
    """The strategy `train` runs `model` under: its own; a different one given is refused."""
    check_strategy(strategy)
    own = execution.strategy_of(model)
    if strategy is not None and strategy is not own:
        where = "outside any strategy" if own is None else f"in another {strategy_name(own)}"
        raise ValueError(f"strategy={strategy_name(strategy)} but the model was built {where}: build it with "
                         f"kerasact.build_model(..., strategy=strategy), which creates its variables in that "
                         f"strategy's scope.")
    return own


def strategy_name(strategy: tf.distribute.Strategy) -> str:
    """A strategy's public name (MWMS's class is CollectiveAllReduceStrategy inside TensorFlow)."""
    multi = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    return "MultiWorkerMirroredStrategy" if multi else type(strategy).__name__
