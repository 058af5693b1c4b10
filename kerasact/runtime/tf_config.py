"""A `MultiWorkerMirroredStrategy` from `TF_CONFIG` that fails in words instead of hanging.

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
from typing import Any

import tensorflow as tf
from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
from tensorflow.python.eager import context

from kerasact.runtime.distribute import _JOBS, JOIN_TIMEOUT, ClusterError, _tasks

HEARTBEAT_TIMEOUT = 10.0  # seconds of silence after which a peer counts as dead, and training stops


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
