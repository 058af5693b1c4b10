"""Where a run keeps its files, for one process or for each worker of a multi-worker run.

One process: the run directory (fresh under `log_dir`, or the `run_dir` given) holds `backup/`,
the last completed epoch. Several workers (`tf.distribute.MultiWorkerMirroredStrategy`):
only the chief writes the run directory (TensorBoard events, `model.keras`, `metrics.json`,
plots); every other worker keeps only its own backup, `<run_dir>/backup-worker-<i>/`, and
removes it when the run is done. Before training the workers compare, in one collective
exchange, their library versions, their job (data, model, arguments) and the epochs their
backups hold: a mismatch is one `ClusterError`, and a restarted cluster resumes from the
newest epoch every worker still has (a worker killed while saving epoch k still has k-1).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from kerasact._errors import shown
from kerasact.runtime import distribute
from kerasact.runtime.distribute import Cluster, ClusterError, ClusterMismatch
from kerasact.training import _run, runs
from kerasact.training.callbacks import Backup


@dataclass
class Place:
    """Where this process writes: the run directory (the chief only), its backup, and where to start.

    Attributes:
        run_dir: the run directory this process writes (None: nothing, or not the chief).
        backup: this process's backup, or None.
        first: epochs already done (restored from the backup).
        finished: the backup is of a run whose training had finished.
        cluster: the workers.
    """

    run_dir: Path | None
    backup: Backup | None
    first: int = 0
    finished: bool = False
    cluster: Cluster = field(default_factory=Cluster)
    resume_dir: Path | None = None   # the run directory to pass again to resume (any worker)

    def done(self) -> None:
        """The run is complete: the backup goes (a worker's emptied run directory too)."""
        if self.backup is not None:
            self.backup.clear()
            if not self.cluster.is_chief:
                _remove_if_empty(self.backup.directory.parent)   # a worker's own disk; not a shared one


def place(model: keras.Model, strategy: Any, cluster: Cluster, *, log_dir: Any, recipe: str, run_dir: Any,
          backup: bool, job: Mapping[str, Any], label: str = "") -> Place:
    """Make (the chief) or find this run's directory and backup, and restore the epoch to start from.

    Example:
        >>> place(model, None, Cluster(), log_dir=None, recipe="run", run_dir=None, backup=True,
        ...       job={}).first  # doctest: +SKIP
        0
    """
    if cluster.workers == 1:
        mine = _run.run_dir_for(log_dir, recipe, run_dir, label)
        kept = Backup(mine / "backup") if mine is not None and backup else None
        first, finished = kept.restore(model) if kept else (0, False)
        return Place(mine, kept, first, finished, cluster, mine)
    # The chief makes the run directory; a worker learns its name from the exchange.
    mine = _run.run_dir_for(log_dir, recipe, run_dir, label) if cluster.is_chief else (
        Path(run_dir) if run_dir is not None else None)
    kept = _backup(mine, cluster) if mine is not None and backup else None
    facts = {"versions": runs.library_versions(), "job": dict(job),
             "run_dir": str(mine) if cluster.is_chief and mine is not None else None,
             "backup": {str(epoch): done for epoch, done in (kept.available() if kept else {}).items()}}
    try:
        everyone = distribute.exchange(strategy, facts)
        _agree(everyone, "versions", cluster, "install the same versions on every task")
        _agree(everyone, "job", cluster, "run the same command on the same data on every task")
    except ClusterError:
        if cluster.is_chief and run_dir is None and mine is not None:
            _remove_if_empty(mine)   # the fresh run directory made for a run that never started
        raise
    chief_dir = everyone[0]["run_dir"]
    if not cluster.is_chief and mine is None and chief_dir is not None and backup:
        kept = _backup(Path(chief_dir), cluster)   # a fresh run: nothing to restore
    # The newest epoch every worker can restore (0: start over, all together).
    first = max(set.intersection(*({int(e) for e in f["backup"]} for f in everyone)) | {0})
    finished = first > 0 and all(f["backup"][str(first)] for f in everyone)
    if first:
        kept.restore(model, epoch=first)
    return Place(mine if cluster.is_chief else None, kept, first, finished, cluster,
                 Path(chief_dir) if chief_dir is not None else None)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # not empty (a shared disk: the chief's files), or gone
        pass


def _backup(run_dir: Path, cluster: Cluster) -> Backup:
    # keep=2: a worker killed while saving epoch k still has k-1, so the cluster agrees on one epoch.
    return Backup(run_dir / ("backup" if cluster.is_chief else f"backup-worker-{cluster.index}"), keep=2)


def _agree(everyone: list[dict[str, Any]], key: str, cluster: Cluster, fix: str) -> None:
    """Every worker's `key` equal to the chief's, or a `ClusterError` naming the first difference."""
    chief = everyone[0][key]
    for index, facts in enumerate(everyone[1:], start=1):
        differs = sorted(k for k in chief.keys() | facts[key].keys() if chief.get(k) != facts[key].get(k))
        if differs:
            name = differs[0]
            raise ClusterMismatch(f"worker {index} differs from the chief in {key} ({name}: "
                               f"{shown(facts[key].get(name), 40)} there, {shown(chief.get(name), 40)} on the "
                               f"chief): {fix}.")


def job(model: keras.Model, X: Any, y: Any, cluster: Cluster, **arguments: Any) -> dict[str, Any]:
    """What the workers of one run must share: the data's digest, the model's shapes, the arguments
    (nothing for one process: the digest reads every row).

    Example:
        >>> job(model, X, y, cluster, epochs=5)["rows"]  # doctest: +SKIP
        1000
    """
    if cluster.workers == 1:
        return {}
    digest = hashlib.sha256()
    columns = X.values() if isinstance(X, Mapping) else [X]
    for values in (*columns, y):
        digest.update(pd.util.hash_array(np.asarray(values).ravel()).tobytes())
    shapes = str([list(w.shape) for w in model.weights]).encode()
    return {"data": digest.hexdigest()[:16], "rows": len(y), "weights": hashlib.sha256(shapes).hexdigest()[:16],
            "loss": _name(getattr(model, "loss", None)), "optimizer": type(model.optimizer).__name__,
            **{k: v if isinstance(v, (bool, int, float, str, type(None))) else repr(v) for k, v in arguments.items()}}


def _name(loss: Any) -> str:
    """A loss's name, the same in every process (its repr holds a memory address)."""
    return str(getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__)


def fit_error(err: Exception, where: Place) -> Exception | None:
    """The words for a fit that stopped because a worker was lost, with how to resume."""
    lost = distribute.lost_worker(err, where.cluster) if where.cluster.workers > 1 else None
    if lost is None:
        return None
    if where.backup is None:
        return ClusterError(f"{lost}. Nothing was backed up (no log_dir): rerun the same command on every task.")
    resume = f"--run-dir {where.resume_dir}" if where.resume_dir is not None else "the same run_dir"
    return ClusterError(f"{lost}. Each worker kept its last completed epoch: rerun the same command with "
                        f"{resume} on every task to resume.")


def facts(cluster: Cluster, strategy: Any) -> dict[str, Any]:
    """What metrics.json records of a distributed run (nothing for one device)."""
    if cluster.replicas == 1 and cluster.workers == 1:
        return {}
    return {"distributed": {"strategy": distribute.strategy_name(strategy), "workers": cluster.workers,
                            "replicas": cluster.replicas, "global_batch": True}}


def global_batch_line(batch_size: int, cluster: Cluster, where: Place | None = None) -> str:
    """One line for the log: the global batch and its split over replicas and workers, and on
    several workers the run directory to resume from if one stops."""
    line = (f"kerasact: batch_size={batch_size} is the global batch: {batch_size // cluster.replicas} rows per "
            f"replica x {cluster.replicas} replicas on {cluster.workers} worker(s)")
    if cluster.workers > 1 and where is not None and where.resume_dir is not None and where.backup is not None:
        line += f"; if a worker stops, rerun with run_dir {where.resume_dir} to resume"
    return line

