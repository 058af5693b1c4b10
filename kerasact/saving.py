"""Crash-safe saving and safe-mode loading of Keras models in the ``.keras`` format.

``model.save`` truncates its target before writing, so a crash mid-save destroys the old model
(Keras then calls the torn file "File not found"). ``save_model`` writes beside the target and
renames; ``load_model`` checks the archive and config before Keras reads them, always loads in
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

_SUFFIX = ".keras"
_LEGACY_SUFFIXES = (".h5", ".hdf5")
_CONFIG = "config.json"
_WEIGHTS = ("model.weights.h5", "model.weights.npz")  # Keras writes .h5 unless asked for npz
_MIN_KERAS = (3, 15, 1)  # older Keras 3 releases have model-loading CVEs
_BOMB_RATIO, _BOMB_FLOOR = 1000, 1 << 28  # Keras stores members uncompressed; bombs are not
_LAMBDAS = frozenset({"Lambda", "__lambda__"})
# Markers Keras rebuilds by itself: they name no class to import.
_MARKERS = frozenset({"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__",
                      "__slice__"})
# Where Keras's own errors say it would not resolve an object.
_UNRESOLVED = ("Cannot deserialize", "Could not deserialize", "Could not locate", "KerasSaveable")
# Why a file is refused: one row per reason, so every refusal reads the same way.
_REFUSALS = {
    "corrupt": "is corrupt or incomplete ({}): re-save it or restore a backup.",
    "lambda": "contains a Lambda layer{}; Lambda layers hold arbitrary Python code and are refused."
              " Rebuild it from built-in layers, or a custom layer passed in custom_objects=.",
    "foreign": "names {}; only built-in Keras layers load, or custom objects you pass in "
               "custom_objects=.",
}


def save_model(model: keras.Model, path: str | os.PathLike) -> pathlib.Path:
    """Save ``model`` to a ``.keras`` file atomically: the target holds the old model or the new.

    The model is written to a hidden temporary file beside the target, fsynced and renamed over
    it. A process killed mid-save may leave a ``.<name>.*.keras`` file behind; delete it freely.

    Args:
        model: The Keras model to save.
        path: The target file; must end in ``.keras``. Missing parent directories are created.

    Returns:
        The path written.

    Example:
        >>> save_model(model, "runs/demo/model.keras")
        PosixPath('runs/demo/model.keras')
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"save_model: model must be a keras.Model; got {type(model).__name__}. "
                        "Pass the model itself: save_model(model, 'model.keras').")
    target = _keras_path(path, "save_model")
    if target.is_dir():
        raise ValueError(f"save_model: path={_show(target)} is a directory; pass a file path "
                         "inside it instead, e.g. path / 'model.keras'.")
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = _file_mode(target)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=_SUFFIX)
    os.close(fd)  # Keras opens the file by name (and insists on the .keras suffix)
    tmp = pathlib.Path(name)
    try:
        model.save(tmp, overwrite=True)  # overwrite: mkstemp has already created the file
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
    """Load a ``.keras`` model in Keras's safe mode, refusing anything not plainly safe.

    The archive is checked first (a zip, good CRCs, config and weights present), then the
    config: Lambda layers, and objects from outside ``keras`` not in ``custom_objects``, are
    refused before Keras imports anything.

    Args:
        path: A ``.keras`` file; ``.h5``/``.hdf5`` files and SavedModel directories are refused.
        compile: Whether to restore the optimizer, loss and metrics saved with the model.
        custom_objects: Your own classes or functions the file names, keyed as Keras saved
            them, e.g. ``{"my_pkg>Scale": Scale}``.

    Returns:
        The loaded model.

    Example:
        >>> model = load_model("runs/demo/model.keras")
        >>> model.predict(X[:2], verbose=0).shape
        (2, 1)
    """
    source = _keras_path(path, "load_model")
    if not isinstance(custom_objects, (Mapping, type(None))):
        raise TypeError("load_model: custom_objects must be a mapping of names to classes, or "
                        f"None; got {type(custom_objects).__name__}. Pass {{'pkg>Name': Name}}.")
    _require_safe_keras()
    if not source.exists():
        raise FileNotFoundError(f"load_model: path={_show(source)} does not exist; check the "
                                "path, or write it with kerasact.save_model(model, path).")
    objects = dict(custom_objects or {})
    _scan_config(_read_config(source), source, objects)
    try:
        return keras.saving.load_model(source, custom_objects=objects or None,
                                       compile=compile, safe_mode=True)
    except MemoryError:
        raise
    except Exception as err:  # Keras raises TypeError, KeyError, OSError… for one bad file
        raise _translate(err, source) from err


def _keras_path(path: Any, caller: str) -> pathlib.Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{caller}: path must be a str or os.PathLike; got {type(path).__name__} "
                        f"{_short(repr(path), 40)}. Pass a file path such as 'model.keras'.")
    result = pathlib.Path(path)
    if caller == "load_model" and result.is_dir():
        raise ValueError(f"load_model: path={_show(result)} is a directory (a legacy SavedModel?);"
                         " kerasact loads only the .keras format. Convert it once in trusted code"
                         " with keras and re-save it as .keras.")
    if result.suffix == _SUFFIX:
        return result
    if caller == "save_model":
        raise ValueError(f"save_model: path={_show(result)} does not end in '.keras'; kerasact "
                         "saves only the .keras format. Use a name like 'model.keras'.")
    kind = "a legacy HDF5" if result.suffix.lower() in _LEGACY_SUFFIXES else "not a .keras"
    raise ValueError(f"load_model: path={_show(result)} is {kind} file; kerasact loads only the "
                     ".keras format. Convert it once in trusted code: "
                     "keras.saving.load_model(path).save('model.keras').")


def _read_config(path: pathlib.Path) -> Any:
    """Check the archive with zipfile, then return its parsed config.json."""
    if path.stat().st_size == 0:
        raise _refuse(path, "corrupt", "the file is empty")
    if not zipfile.is_zipfile(path):
        raise _refuse(path, "corrupt", "not a zip archive: truncated or overwritten")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            # testzip inflates every member: refuse decompression bombs before it does.
            bombs = [i.filename for i in infos
                     if i.file_size > max(_BOMB_FLOOR, _BOMB_RATIO * i.compress_size)]
            bad = bombs[0] if bombs else archive.testzip()
            names = {info.filename for info in infos}
            raw = archive.read(_CONFIG) if bad is None and _CONFIG in names else None
    except Exception as err:  # a damaged archive raises BadZipFile, EOFError, zlib.error, …
        raise _refuse(path, "corrupt", f"unreadable zip: {_describe(err)}") from err
    if bombs:
        raise _refuse(path, "corrupt", f"member {bad!r} would inflate implausibly")
    if bad is not None:
        raise _refuse(path, "corrupt", f"member {bad!r} fails its CRC check")
    if raw is None:
        raise _refuse(path, "corrupt", f"{_CONFIG!r} is missing")
    if not names.intersection(_WEIGHTS):
        raise _refuse(path, "corrupt", f"{_WEIGHTS[0]!r} is missing")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as err:  # JSON and UTF-8 errors are ValueErrors
        raise _refuse(path, "corrupt", f"{_CONFIG!r} is not valid JSON") from err


def _scan_config(config: Any, path: pathlib.Path, custom_objects: Mapping[str, Any]) -> None:
    """Refuse Lambda layers and non-Keras objects before Keras imports anything they name."""
    stack = [config]  # iterative: a crafted config may nest deeper than the recursion limit
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
            if "class_name" in node:
                _check_object(node, path, custom_objects)


def _check_object(node: dict, path: pathlib.Path, custom_objects: Mapping[str, Any]) -> None:
    cls, module = str(node["class_name"]), node.get("module")
    registered, inner = node.get("registered_name"), node.get("config")
    if cls in _LAMBDAS:
        name = inner.get("name") if isinstance(inner, dict) else None
        raise _refuse(path, "lambda", f" {_short(name, 40)!r}" if isinstance(name, str) else "")
    name = inner if cls == "function" and isinstance(inner, str) else cls  # functions: by name
    if {key for key in (name, cls, registered) if isinstance(key, str)} & custom_objects.keys():
        return
    if (cls in _MARKERS and module is None) or (cls == "function" and module == "builtins"):
        return  # Keras resolves these only among its own built-ins
    in_keras = isinstance(module, str) and (module == "keras" or module.startswith("keras."))
    if in_keras and registered in (None, cls, name):
        return
    custom = isinstance(registered, str) and registered not in (cls, name)
    what = registered if custom else f"{module}.{name}" if module else name
    raise _refuse(path, "foreign", f"{_short(str(what), 60)!r}, which is not built into Keras")


def _translate(err: Exception, path: pathlib.Path) -> ValueError:
    """Reword an error raised inside Keras as the refusal it amounts to."""
    text = str(err)
    if "lambda" in text.lower() and "safe_mode" in text:
        return _refuse(path, "lambda", "")
    for fragment in _UNRESOLVED:
        if fragment in text:
            what = _short(text[text.index(fragment):].splitlines()[0], 55)  # keeps ")" in
            return _refuse(path, "foreign", f"an object Keras will not resolve safely ({what})")
    return _refuse(path, "corrupt", f"Keras could not rebuild it: {_describe(err)}")


def _refuse(path: pathlib.Path, why: str, detail: str) -> ValueError:
    reason = _REFUSALS[why].format(_short(detail, 100))
    return ValueError(f"load_model: path={_show(path)} {reason}")


def _describe(err: Exception) -> str:
    lines = str(err).splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


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


def _show(path: pathlib.Path) -> str:
    return repr(_short(str(path), 80, keep_end=True))  # keep the file name, drop the prefix


def _short(text: str, limit: int, keep_end: bool = False) -> str:
    if len(text) <= limit:
        return text
    return "…" + text[1 - limit:] if keep_end else text[: limit - 1] + "…"
