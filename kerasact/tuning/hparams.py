"""The search's one HParams experiment config, in the study folder (the folder to point
`tensorboard --logdir` at).

TensorBoard 2.21 takes the first experiment config it finds and expects one
(`tensorboard/plugins/hparams/backend_context.py::_find_experiment_tag`), and without one it
guesses the columns from the runs, leaving metric columns unticked. The config is written
once per search start, atomically (a new event file in a temporary folder, renamed into place
over the old one), with typed domains for every hyperparameter the space can make active and
the metrics in the order the HParams table shows them: validation loss and metrics first,
then the test metrics.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tensorflow as tf
from tensorboard.plugins.hparams import api as hp

from kerasact.tuning.space import PER_LAYER, Space

CONFIG_RUN = "experiment"  # the sub-folder holding the config (a run with no scalars)


def hparam_value(value: Any) -> bool | int | float | str:
    """A value the HParams plugin takes (bool, number or string); None and others as text."""
    return value if isinstance(value, (bool, int, float, str)) else str(value)


def _domain(dim: Any) -> hp.Domain | None:
    if dim.kind == "int":
        return hp.IntInterval(int(dim.low), int(dim.high))
    if dim.kind == "float":
        return hp.RealInterval(float(dim.low), float(dim.high))
    values = [hparam_value(v) for v in (dim.choices if dim.kind == "choice" else (dim.value,))]
    if all(type(v) in (int, float) for v in values) and len({type(v) for v in values}) > 1:
        values = [float(v) for v in values]  # 0 and 0.2: one float domain, as the trials log them
    if len({type(v) for v in values}) > 1:  # one type per domain: other mixed choices are shown as text
        values = [str(v) for v in values]
    return hp.Discrete(values)


def hparams(space: Space) -> list[hp.HParam]:
    """One typed `HParam` per name a trial can log (per-layer names for every possible layer)."""
    out = []
    for name, dim in space.dims.items():
        if name in PER_LAYER:
            out += [hp.HParam(f"{name}_{i}", _domain(dim)) for i in range(1, space.max_depth + 1)]
        elif dim.kind != "fixed":
            out.append(hp.HParam(name, _domain(dim)))
    return out


def metrics(head_metrics: Sequence[str], extra: Sequence[str] = ()) -> list[hp.Metric]:
    """Validation loss and metrics (Keras's per-epoch tags), then the test metrics (`train`'s),
    with `extra` (scikit-learn's scores, such as r2, which `train` writes for the test split)."""
    names = ["loss", *head_metrics]
    return ([hp.Metric(f"epoch_{m}", group="validation", display_name=f"validation {m}") for m in names]
            + [hp.Metric(f"test/{m}", display_name=f"test {m}") for m in [*names, *extra]])


def write_config(study_dir: str | os.PathLike, space: Space, head_metrics: Sequence[str],
                 extra: Sequence[str] = ()) -> Path:
    """Write (or replace) the study's experiment config; returns its folder.

    Example:
        >>> write_config("runs/search", default_space("binary"), ["accuracy", "auc"])  # doctest: +SKIP
    """
    target = Path(study_dir) / CONFIG_RUN
    staging = Path(tempfile.mkdtemp(dir=study_dir, prefix=".experiment-"))
    writer = tf.summary.create_file_writer(str(staging))
    with writer.as_default():
        hp.hparams_config(hparams=hparams(space), metrics=metrics(head_metrics, extra))
    writer.close()
    old = None
    if target.exists():
        old = target.with_name(f".{CONFIG_RUN}-old-{os.getpid()}")
        target.rename(old)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target
