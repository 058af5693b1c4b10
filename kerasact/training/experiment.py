"""The one HParams experiment config of a log directory (the folder `tensorboard --logdir` opens).

TensorBoard 2.21 expects one experiment config and takes the first it finds
(`tensorboard/plugins/hparams/backend_context.py::_find_experiment_tag`); without one it guesses
the columns from the runs and ticks only the first five metrics it meets (training accuracy,
learning rate, ...). So every finished run rewrites `<log_dir>/experiment/`: the union of the
hyperparameters of all the runs under `log_dir` (read back from their `metrics.json`), with typed
domains, the columns whose values differ first, and the metrics in the order the table ticks them: test
metrics first (each problem's headline metric, then its loss, ...), then validation metrics.

The rewrite is atomic (a new event file in a temporary folder renamed into place) and serialised
by a lock file, so runs finishing at once (search workers) never leave half a config; configs
of nested folders (a search study's) are folded into the log directory's one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import tensorflow as tf
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.hparams import api as hp
from tensorboard.plugins.hparams import plugin_data_pb2

from kerasact.training.board import scalar_tag

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

CONFIG_RUN = "experiment"  # the sub-folder holding the config (a run with no scalars)
FIRST = ("recipe", "problem")  # the columns shown first
HEADLINE = ("accuracy", "r2", "roc_auc", "loss")  # a problem's metrics in this order, the rest after
MAX_DISCRETE = 12  # more distinct numbers than this: an interval domain instead of a list
DEPTH = 5  # runs are found this many folder levels below the log directory at most


def root_for(log_dir: str | os.PathLike | None, run_dir: str | os.PathLike) -> Path:
    """The log directory a run belongs to: `log_dir` when the run is inside it, else the outermost
    of the run's parents that already holds a config, else its parent.

    Example:
        >>> root_for("runs", "runs/binary/x")
        PosixPath('runs')
    """
    if log_dir is not None and Path(run_dir).resolve().is_relative_to(Path(log_dir).resolve()):
        return Path(log_dir)
    parents = list(Path(run_dir).resolve().parents)[: DEPTH]  # no deeper than a log dir's runs are found
    held = [p for p in parents if (p / CONFIG_RUN).is_dir()]
    return held[-1] if held else Path(run_dir).parent


def _below(root: Path, name: str, depth: int = DEPTH) -> list[Path]:
    """`name` in the folders 1 to `depth` levels below `root` (a run is `<recipe>/<run>`,
    `<study>/<trial>` or deeper), skipping hidden folders (`.venv`) and links: bounded, so a run
    whose parent is a big folder (the current directory, /tmp) never walks a whole tree."""
    found: list[Path] = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:  # vanished or unreadable: nothing of ours there
        return found
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
            continue
        folder = Path(entry.path)
        if (folder / name).exists():
            found.append(folder / name)
        if depth > 1:
            found += _below(folder, name, depth - 1)
    return found


def _sessions(root: Path) -> list[dict[str, Any]]:
    """Each finished run under `root`: its hparams, problem and metric names, from metrics.json."""
    found = []
    for path in _below(root, "metrics.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # a run being written or damaged: left out of the columns
            continue
        # A kerasact run's metrics.json (a concept recipe's own summary has no problem).
        kerasact_run = isinstance(data, dict) and isinstance(data.get("hparams"), dict) and "versions" in data
        if kerasact_run and data.get("problem"):
            found.append(data)
    return found


def _domain(values: list[Any]) -> hp.Domain:
    kinds = {type(v) for v in values}
    if kinds == {bool}:
        return hp.Discrete(sorted(set(values)))
    if kinds <= {int, float}:
        distinct = sorted(set(values))
        if len(distinct) <= MAX_DISCRETE:
            return hp.Discrete([float(v) for v in distinct] if float in kinds else distinct)
        return hp.IntInterval(distinct[0], distinct[-1]) if kinds == {int} else hp.RealInterval(
            float(distinct[0]), float(distinct[-1]))
    return hp.Discrete(sorted({str(v) for v in values}))  # text, or text and numbers mixed: one type


def _values(sessions: list[dict[str, Any]]) -> dict[str, list[Any]]:
    values: dict[str, list[Any]] = {name: [] for name in FIRST}
    for session in sessions:
        for name, value in session["hparams"].items():
            values.setdefault(name, []).append(value)
    return {name: seen for name, seen in values.items() if seen}


def hparams_of(sessions: list[dict[str, Any]]) -> list[hp.HParam]:
    """One typed `HParam` per name any run logged, `recipe` and `problem` first."""
    return [hp.HParam(name, _domain(seen)) for name, seen in _values(sessions).items()]


def config_pb(sessions: list[dict[str, Any]]) -> summary_pb2.Summary:
    """The experiment summary, each column marked `differs` when its runs' values differ.

    TensorBoard 2.21 orders the HParams columns by `differs`, then by name
    (`backend_context.py::_sort_and_reduce_to_hparams_limit`), so the columns that tell the runs
    apart (`problem`, `recipe`, the widths a search varies) come first.
    """
    pb = hp.hparams_config_pb(hparams=hparams_of(sessions), metrics=metrics_of(sessions))
    data = plugin_data_pb2.HParamsPluginData.FromString(pb.value[0].metadata.plugin_data.content)
    seen = _values(sessions)
    for info in data.experiment.hparam_infos:
        info.differs = len({repr(v) for v in seen[info.name]}) > 1
    pb.value[0].metadata.plugin_data.content = data.SerializeToString()
    return pb


def metrics_of(sessions: list[dict[str, Any]]) -> list[hp.Metric]:
    """Test metrics then validation metrics, each problem's headline first (see `HEADLINE`)."""
    names: dict[str, dict[str, None]] = {}  # problem -> metric names, in first-seen order
    for session in sessions:
        seen = names.setdefault(session["problem"], {})
        for part in ("test", "validation"):
            seen.update(dict.fromkeys(session.get(part) or {}))
    ranked = {p: sorted(m, key=lambda n: (HEADLINE.index(n) if n in HEADLINE else len(HEADLINE)))
              for p, m in names.items()}
    depth = max((len(m) for m in ranked.values()), default=0)
    several = len(ranked) > 1
    out = []
    for group in ("test", "validation"):
        for rank in range(depth):  # round-robin over problems: every problem's headline is ticked
            for problem in sorted(ranked):
                if rank < len(ranked[problem]):
                    metric = ranked[problem][rank]
                    shown = f"{group} {metric}" + (f" ({problem})" if several else "")
                    out.append(hp.Metric(scalar_tag(problem, metric), group=group, display_name=shown))
    return out


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    if fcntl is None:  # not POSIX: runs finishing at the same instant may race; the last rename wins
        yield
        return
    with open(root / ".experiment.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _replace(target: Path, staging: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old-{os.getpid()}")
        target.rename(old)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def record(root: str | os.PathLike) -> Path:
    """Rewrite `root`'s experiment config from every finished run under it; returns its folder.

    Example:
        >>> record("runs")  # doctest: +SKIP
        PosixPath('runs/experiment')
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root):
        sessions = _sessions(root)
        staging = Path(tempfile.mkdtemp(dir=root, prefix=f".{CONFIG_RUN}-"))
        writer = tf.summary.create_file_writer(str(staging))
        with writer.as_default():
            tf.summary.experimental.write_raw_pb(config_pb(sessions).SerializeToString(), step=0)
        writer.close()
        _replace(root / CONFIG_RUN, staging)
        for nested in _below(root, CONFIG_RUN):  # one config per log directory: TensorBoard reads one
            if nested.is_dir() and all(p.name.startswith("events.out.tfevents.") for p in nested.iterdir()):
                shutil.rmtree(nested, ignore_errors=True)
    return root / CONFIG_RUN
