"""Crash-safe saving and safe-mode loading of Keras models in the `.keras` format.

`model.save` truncates its target before writing, so a crash mid-save destroys the old model
(Keras then calls the torn file "File not found"). `save_model` writes beside the target and
renames; `load_model` checks the archive and config before Keras reads them, always loads in
safe mode, and rewords every Keras error as what is wrong and what to do.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import tempfile
import zipfile
from collections.abc import Mapping
from typing import Any

import keras

from kerasact import layers as _layers  # noqa: F401  (registers kerasact's layers for loading)
from kerasact import tabular
from kerasact._errors import invalid
from kerasact.model import _archive, factored_adam, losses, lr_schedules, scheduled_dropout  # noqa: F401  (registered)
from kerasact.model._archive import show

_OWN = "kerasact>"  # the package every kerasact class is registered under

_SUFFIX = ".keras"
_SCHEMA = "kerasact_schema.json"  # a table model's Schema, beside Keras's own members
_LEGACY_SUFFIXES = (".h5", ".hdf5")
_MIN_KERAS = (3, 15, 1)  # older Keras 3 releases have model-loading CVEs


def save_model(model: keras.Model, path: str | os.PathLike) -> pathlib.Path:
    """Save `model` to a `.keras` file atomically: the target holds the old model or the new.

    The model is written to a hidden temporary file beside the target, fsynced and renamed over
    it. A process killed mid-save may leave a `.<name>.*.keras` file behind; delete it freely.

    Args:
        model: The Keras model to save.
        path: The target file; must end in `.keras`. Missing parent directories are created.

    Returns:
        The path written.

    Example:
        >>> save_model(model, "runs/demo/model.keras")
        PosixPath('runs/demo/model.keras')
    """
    if not isinstance(model, keras.Model):
        raise invalid("model", model, "a keras.Model", "pass the model itself: save_model(model, 'model.keras')",
                      kind=TypeError)
    target = _keras_path(path, "save_model")
    if target.is_dir():
        raise ValueError(f"save_model: path={show(target)} is a directory; pass a file path "
                         "inside it instead, e.g. path / 'model.keras'.")
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = _file_mode(target)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=_SUFFIX)
    os.close(fd)  # Keras opens the file by name (and insists on the .keras suffix)
    tmp = pathlib.Path(name)
    try:
        model.save(tmp, overwrite=True)  # overwrite: mkstemp has already created the file
        if tabular.has_schema(model):  # a table model's schema travels in the same file
            with zipfile.ZipFile(tmp, "a") as archive:
                archive.writestr(_SCHEMA, json.dumps(tabular.schema_of(model).to_dict()))
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())  # the bytes must be on disk before a rename exposes them
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:  # KeyboardInterrupt too: never leave the temporary file behind
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    return target


def load_model(path: str | os.PathLike, *, compile: bool = True,
               custom_objects: Mapping[str, Any] | None = None) -> keras.Model:
    """Load a `.keras` model in Keras's safe mode, refusing anything not plainly safe.

    The arguments are checked first, then the archive (a zip, good CRCs, config and weights
    present), then the config: layers that run what the file brings (Lambda, TFSMLayer), and
    objects from outside `keras` not in `custom_objects`, are refused before Keras imports
    anything. There is no opt-out: load a file you trust with
    `keras.saving.load_model(path, safe_mode=False)` in your own code.

    Args:
        path: A `.keras` file; `.h5`/`.hdf5` files and SavedModel directories are refused.
        compile: Whether to restore the optimizer, loss and metrics saved with the model.
        custom_objects: Your own classes or functions the file names, keyed as Keras saved
            them, e.g. `{"my_pkg>Scale": Scale}`.

    Returns:
        The loaded model.

    Example:
        >>> model = load_model("runs/demo/model.keras")
        >>> model.predict(X[:2], verbose=0).shape
        (2, 1)
    """
    source = _keras_path(path, "load_model")
    if not isinstance(compile, bool):  # 1 or "no" would hide a typo
        raise invalid("compile", compile, "True or False", "pass compile=False to skip the saved optimizer, loss "
                      "and metrics", kind=TypeError)
    if not isinstance(custom_objects, (Mapping, type(None))):
        raise invalid("custom_objects", custom_objects, "None or a dict of the names Keras saved to classes",
                      "pass {'pkg>Name': Name}", kind=TypeError)
    _require_safe_keras()
    if not source.exists():
        raise FileNotFoundError(f"load_model: path={show(source)} does not exist; check the "
                                "path, or write it with kerasact.save_model(model, path).")
    # kerasact's own registered classes (its layers, FactoredAdam, the smoothed loss) load as Keras's do.
    objects = {k: v for k, v in keras.saving.get_custom_objects().items() if k.startswith(_OWN)}
    objects |= dict(custom_objects or {})
    _archive.scan_config(_archive.read_config(source), source, objects)
    try:
        model = keras.saving.load_model(source, custom_objects=objects or None,
                                        compile=compile, safe_mode=True)
    except MemoryError:
        raise
    except Exception as err:  # Keras raises TypeError, KeyError, OSError… for one bad file
        raise _archive.translate(err, source) from err
    with zipfile.ZipFile(source) as archive:
        if _SCHEMA in archive.namelist():
            setattr(model, tabular.SCHEMA_ATTRIBUTE, tabular.Schema.from_dict(json.loads(archive.read(_SCHEMA))))
    return model


def _keras_path(path: Any, caller: str) -> pathlib.Path:
    if not isinstance(path, (str, os.PathLike)) or (isinstance(path, str) and not path.strip()):
        raise invalid("path", path, "a file path ending in '.keras' (str or pathlib.Path)",
                      "pass a file name such as 'model.keras'", kind=ValueError if isinstance(path, str) else TypeError)
    result = pathlib.Path(path)
    if caller == "load_model" and result.is_dir():
        raise ValueError(f"load_model: path={show(result)} is a directory (a legacy SavedModel?);"
                         " kerasact loads only the .keras format. Convert it once in trusted code"
                         " with keras and re-save it as .keras.")
    if result.suffix == _SUFFIX:
        return result
    if caller == "save_model":
        raise ValueError(f"save_model: path={show(result)} does not end in '.keras'; kerasact "
                         "saves only the .keras format. Use a name like 'model.keras'.")
    kind = "a legacy HDF5" if result.suffix.lower() in _LEGACY_SUFFIXES else "not a .keras"
    raise ValueError(f"load_model: path={show(result)} is {kind} file; kerasact loads only the "
                     ".keras format. Convert it once in trusted code: "
                     "keras.saving.load_model(path).save('model.keras').")


def _require_safe_keras() -> None:
    found = tuple(int(part) for part in re.findall(r"\d+", keras.__version__)[:3])
    if found < _MIN_KERAS:
        raise ValueError(f"load_model: keras.__version__={keras.__version__!r} has known model-"
                         "loading vulnerabilities; expected keras>=3.15.1. Upgrade keras.")


def _file_mode(target: pathlib.Path) -> int:
    """The old file's mode, else what a plain open() would give (mkstemp makes 0o600)."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0o022)  # the umask can only be read by setting it: restore it at once
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_dir(directory: pathlib.Path) -> None:
    """Persist the rename itself; best effort where a directory cannot be opened (Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
