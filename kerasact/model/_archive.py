"""What `load_model` checks before Keras reads a `.keras` file, and how it words refusals.

The archive (a zip of config.json and weights) is inspected with `zipfile`; the config is
scanned for layers that run what the file brings (Lambda, TFSMLayer) and for objects from
outside Keras; Keras's own errors are translated into the same refusals. No TensorFlow
or Keras import: this is plain file reading.
"""

from __future__ import annotations

import json
import pathlib
import zipfile
from collections.abc import Mapping
from typing import Any

_CONFIG = "config.json"
_WEIGHTS = ("model.weights.h5", "model.weights.npz")  # Keras writes .h5 unless asked for npz
_BOMB_RATIO, _BOMB_FLOOR = 1000, 1 << 28  # Keras stores members uncompressed; bombs are not
# Layers that run what the file brings (Python code, a SavedModel from disk): refused in safe
# mode whatever custom_objects says. class_name -> the refusal row that words it.
_UNSAFE = {"Lambda": "lambda", "__lambda__": "lambda", "TFSMLayer": "savedmodel",
           "TorchModuleWrapper": "pickle"}
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
    "savedmodel": "contains a TFSMLayer{}, which loads a SavedModel from disk: not allowed in safe mode."
                  " If you trust the file, use keras.saving.load_model(path, safe_mode=False).",
    "pickle": "contains a TorchModuleWrapper{}, which unpickles Python code: not allowed in safe mode."
              " If you trust the file, use keras.saving.load_model(path, safe_mode=False).",
    "foreign": "names {}; only built-in Keras layers load, or custom objects you pass in "
               "custom_objects=.",
    "not_model": "is not a Keras model file ({}); write one with kerasact.save_model(model, path).",
}
# The words Keras's own safe-mode refusal uses for each unsafe layer (translate reads them).
_KERAS_SAYS = {"lambda": ("Python lambda", "`Lambda` layer"), "savedmodel": ("`TFSMLayer`",),
               "pickle": ("`torch.nn.Module`", "TorchModuleWrapper")}


def read_config(path: pathlib.Path) -> Any:
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
        config = json.loads(raw)
    except (ValueError, RecursionError) as err:  # JSON and UTF-8 errors are ValueErrors
        raise _refuse(path, "corrupt", f"{_CONFIG!r} is not valid JSON") from err
    if not isinstance(config, dict):
        raise _refuse(path, "not_model", f"its {_CONFIG} holds a JSON {type(config).__name__}, not an object")
    if not isinstance(config.get("class_name"), str) or not isinstance(config.get("config"), dict):
        raise _refuse(path, "not_model", f"its {_CONFIG} names no 'class_name' and 'config'")
    return config


def scan_config(config: Any, path: pathlib.Path, custom_objects: Mapping[str, Any]) -> None:
    """Refuse unsafe layers and non-Keras objects before Keras imports anything they name."""
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
    if cls in _UNSAFE:
        name = inner.get("name") if isinstance(inner, dict) else None
        raise _refuse(path, _UNSAFE[cls], f" {short(name, 30)!r}" if isinstance(name, str) else "")
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
    raise _refuse(path, "foreign", f"{short(str(what), 60)!r}, which is not built into Keras")


def translate(err: Exception, path: pathlib.Path) -> ValueError:
    """Reword an error raised inside Keras as the refusal it amounts to."""
    text = str(err)
    if "safe_mode" in text:
        for why, fragments in _KERAS_SAYS.items():
            if any(fragment in text for fragment in fragments):
                return _refuse(path, why, "")
    for fragment in _UNRESOLVED:
        if fragment in text:
            what = short(text[text.index(fragment):].splitlines()[0], 55)  # keeps ")" in
            return _refuse(path, "foreign", f"an object Keras will not resolve safely ({what})")
    return _refuse(path, "corrupt", f"Keras could not rebuild it: {_describe(err)}")


def _refuse(path: pathlib.Path, why: str, detail: str) -> ValueError:
    reason = _REFUSALS[why].format(short(detail, 100))
    return ValueError(f"load_model: path={show(path)} {reason}")


def _describe(err: Exception) -> str:
    lines = str(err).splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


def show(path: pathlib.Path) -> str:
    return repr(short(str(path), 80, keep_end=True))  # keep the file name, drop the prefix


def short(text: str, limit: int, keep_end: bool = False) -> str:
    if len(text) <= limit:
        return text
    return "…" + text[1 - limit:] if keep_end else text[: limit - 1] + "…"
