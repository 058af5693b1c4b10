"""Multi-worker training on `tf.distribute`: the cluster a strategy spans, a
`MultiWorkerMirroredStrategy` from `TF_CONFIG` that fails in words instead of hanging, and one
collective exchange in which the workers compare what they are about to run.

TensorFlow's own waits are unbounded by default: a worker whose peer never starts blocks
forever in the strategy's constructor, holding the GIL (no Python timer can fire), and ignores
SIGTERM. `multi_worker_strategy` therefore sets the coordination service's registration
barrier and heartbeat timeouts before TensorFlow starts, and turns its errors into a
`ClusterError` that says which task, which address and what to do.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
from tensorflow.python.eager import context

from kerasact.runtime import _keras_compat, execution

JOIN_TIMEOUT = 120.0     # seconds every task of TF_CONFIG has to start and join (all-reduce RING over gRPC)
HEARTBEAT_TIMEOUT = 10.0  # seconds of silence after which a peer counts as dead, and training stops
EXCHANGE_BYTES = 4096     # one worker's JSON in `exchange`
_JOBS = ("chief", "worker")  # the tasks that train (MWMS has no parameter servers)


class ClusterError(ConnectionError):
    """The cluster could not start or lost a worker; the message says which and what to do."""


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


def read_tf_config(environ: dict[str, str] | None = None) -> dict[str, Any] | None:
    """`TF_CONFIG`, checked: None when unset; a ValueError that says what is wrong otherwise.

    Example:
        >>> config = '{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}'
        >>> read_tf_config({"TF_CONFIG": config})["task"]
        {'type': 'worker', 'index': 1}
    """
    text = (os.environ if environ is None else environ).get("TF_CONFIG", "").strip()
    if not text:
        return None
    fix = ('set it to {"cluster": {"worker": ["host0:port", "host1:port"]}, "task": {"type": "worker", '
           '"index": 0}}, the same cluster on every task and each task its own index')
    try:
        config = json.loads(text)
    except ValueError:
        raise ValueError(f"TF_CONFIG is not JSON ({text[:60]!r}): {fix}.") from None
    cluster, task = (config.get(key) if isinstance(config, dict) else None for key in ("cluster", "task"))
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise ValueError(f"TF_CONFIG needs a 'cluster' and a 'task' object: {fix}.")
    addresses = [a for job in _JOBS for a in (cluster.get(job) or [])]
    if not addresses or not all(isinstance(a, str) and re.fullmatch(r"[^\s:]+:\d+", a) for a in addresses):
        raise ValueError(f"TF_CONFIG's cluster lists {addresses!r}; each chief/worker needs a 'host:port': {fix}.")
    if len(set(addresses)) < len(addresses):
        raise ValueError(f"TF_CONFIG gives two tasks the same address ({addresses}): give each task its own port.")
    kind, index = task.get("type"), task.get("index", 0)
    jobs = [job for job in _JOBS if cluster.get(job)]
    if kind not in jobs or isinstance(index, bool) or not isinstance(index, int) or \
            not 0 <= index < len(cluster[kind]):
        raise ValueError(f"TF_CONFIG's task {task!r} is not in its cluster (jobs {jobs}, "
                         f"{ {job: len(cluster[job]) for job in jobs} } tasks): {fix}.")
    return config


def multi_worker_strategy(*, join_timeout: float = JOIN_TIMEOUT,
                          heartbeat_timeout: float = HEARTBEAT_TIMEOUT) -> tf.distribute.Strategy:
    """A `MultiWorkerMirroredStrategy` for the cluster in `TF_CONFIG` (RING all-reduce).

    Call it first thing, before any TensorFlow work (TensorFlow fixes its cluster at start-up).
    Without `TF_CONFIG`, or with one task, this is a one-worker strategy.

    Args:
        join_timeout: seconds for every task to start; then a `ClusterError` names the cluster.
        heartbeat_timeout: seconds without a peer's heartbeat before training stops with an error.

    Raises:
        ValueError: `TF_CONFIG` is malformed.
        ClusterError: this task's port is taken, or not every task joined within `join_timeout`.

    Example:
        >>> strategy = multi_worker_strategy()  # doctest: +SKIP
        >>> model = kerasact.build_model("binary", 30, strategy=strategy)  # doctest: +SKIP
    """
    config = read_tf_config()
    communication = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING)
    if config is None or len(_tasks(config["cluster"])) < 2:
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=communication)
    tasks = _tasks(config["cluster"])
    me = next(a for job, i, a in tasks if (job, i) == (config["task"]["type"], config["task"].get("index", 0)))
    _configure_coordination(config, join_timeout, heartbeat_timeout)
    try:
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=communication)
    except (tf.errors.OpError, RuntimeError) as err:
        raise start_error(err, me, [a for *_, a in tasks], join_timeout) from None


def _configure_coordination(config: dict[str, Any], join_timeout: float, heartbeat_timeout: float) -> None:
    jobs = [job for job in _JOBS if config["cluster"].get(job)]
    leader = f"/job:{jobs[0]}/replica:0/task:0"   # TensorFlow's own choice: the chief, else worker 0
    context.context().configure_coordination_service(
        service_type="standalone", service_leader=leader,
        coordinated_jobs=[coordination_config_pb2.CoordinatedJob(name=job, num_tasks=len(config["cluster"][job]))
                          for job in jobs],
        cluster_register_timeout_in_ms=int(join_timeout * 1000), heartbeat_timeout_in_ms=int(heartbeat_timeout * 1000),
        shutdown_barrier_timeout_in_ms=int(heartbeat_timeout * 1000))
    # Without the barrier the leader itself waits for late tasks with no time limit.
    context.context().coordination_service.cluster_register_with_barrier = True


def start_error(err: Exception, me: str, addresses: list[str], join_timeout: float) -> Exception:
    """The words for TensorFlow's error while the cluster starts."""
    text = str(err)
    if "Could not start gRPC server" in text:
        return ClusterError(f"this task cannot listen on {me} (TF_CONFIG): the port is in use, or the host is not "
                            f"this machine. Free the port or give this task another one in TF_CONFIG.")
    if isinstance(err, tf.errors.DeadlineExceededError) or "Barrier timed out" in text:
        return ClusterError(f"not every task joined the cluster {addresses} within {join_timeout:g} s: start the same "
                            f"command on every task (TF_CONFIG with its own index), check that the hosts reach each "
                            f"other, or raise the join timeout.")
    if "must be configured at program startup" in text or "already initialized" in text:
        return RuntimeError("TensorFlow already started in this process: create the multi-worker strategy first "
                            "thing, before any other TensorFlow work.")
    return ClusterError(f"the cluster {addresses} did not start: {text.strip().splitlines()[0][:200]}")


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
        total = strategy.experimental_local_results(strategy.run(step))[0].numpy() / local  # each replica added it
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
                        f"kerasact.runtime.distribute.multi_worker_strategy() or tf.distribute.MirroredStrategy().")


def strategy_for(model: Any, strategy: tf.distribute.Strategy | None) -> tf.distribute.Strategy | None:
    """The strategy `train` runs `model` under: its own; a different one given is refused."""
    check_strategy(strategy)
    own = execution.strategy_of(model)
    if strategy is not None and strategy is not own:
        where = "outside any strategy" if own is None else f"in another {type(own).__name__}"
        raise ValueError(f"strategy={type(strategy).__name__} but the model was built {where}: build it with "
                         f"kerasact.build_model(..., strategy=strategy), which creates its variables in that "
                         f"strategy's scope.")
    return own
