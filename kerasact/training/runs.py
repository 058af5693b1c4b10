"""Run directories: one fresh folder per training run, and the `metrics.json` written into it.

Layout: `<log_dir>/<recipe>/<run-id>/` with `train/` and `validation/` event files,
`model.keras`, `metrics.json` and PNG plots. A run id is a timestamp plus a random
suffix, and the folder is created with `exist_ok=False`, so two runs never share one.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import secrets
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

_VERSIONED = ("kerasact", "keras", "tensorflow", "tensorboard", "numpy", "scikit-learn", "matplotlib")


def new_run_dir(log_dir: str | os.PathLike, recipe: str = "run", label: str = "") -> Path:
    """Create and return a fresh `<log_dir>/<recipe>/<run-id>/` folder.

    The run id is the time, then `label` (what the model is, from `_run.describe`), then a random
    suffix, so TensorBoard's run list reads `binary/20261122-053012-relu-64x32-4f2a`.

    Example:
        >>> new_run_dir("runs", "binary", "relu-64x32")  # doctest: +SKIP
        PosixPath('runs/binary/20261122-053012-relu-64x32-4f2a')
    """
    if not recipe or os.sep in recipe or recipe in (".", ".."):
        raise ValueError(f"recipe must be a plain folder name; got {recipe!r}.")
    parent = Path(log_dir) / recipe
    parent.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    while True:
        path = parent / "-".join(filter(None, (stamp, label, secrets.token_hex(2))))
        try:
            path.mkdir()
            return path
        except FileExistsError:  # same second, same suffix: draw another suffix
            continue


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a run depends on, for reproducibility."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _plain(value: Any) -> Any:
    """numpy scalars/arrays and paths -> JSON values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: str | os.PathLike, data: dict[str, Any]) -> Path:
    """Write `data` as JSON atomically (temp file + rename), so a crash never leaves half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".json.tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(_plain(data), f, indent=2, allow_nan=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
