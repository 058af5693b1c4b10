"""Quiet TensorFlow start-up: hide its C++ log lines and the retracing warning unless `--verbose`.

`TF_CPP_MIN_LOG_LEVEL` alone is not enough on TensorFlow 2.21: absl's banner and the oneDNN and
CUDA-driver lines are written while TensorFlow's libraries load, before they read it. So the
import of `tensorflow` runs with file descriptor 2 held, and only the lines the chosen level
hides are dropped; errors and tracebacks pass. TensorFlow-free to import.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

# TensorFlow's C++ log line: severity letter (I/W/E/F), date, time, thread, file:line].
_CPP_LINE = re.compile(r"([IWEF])\d{4} [\d:.]+ +\d+ \S+:\d+\] ")
_ABSL_BANNER = "WARNING: All log messages before absl::InitializeLog() is called"
_SEVERITIES = "IWEF"  # TF_CPP_MIN_LOG_LEVEL=n hides the first n of these


def quiet_tensorflow(verbose: bool | None = None) -> None:
    """Hide TensorFlow's own log lines unless `verbose` (None: `--verbose` is on the command line).

    Call it before TensorFlow loads. It sets `TF_CPP_MIN_LOG_LEVEL=3` unless you set it (C++
    lines: cuInit, oneDNN, cpu_feature_guard), the `tensorflow` logger to ERROR (the retracing
    warning), and holds back the lines TensorFlow's C++ libraries write while loading, before
    they read that variable (absl's banner, oneDNN, CUDA drivers). It imports no TensorFlow.

    Example:
        >>> if __name__ == "__main__":  # doctest: +SKIP
        ...     recipe.quiet_tensorflow()  # at the top of a script, before `import keras`
    """
    if verbose is None:
        verbose = any(arg.startswith("--v") and "--verbose".startswith(arg) for arg in sys.argv[1:])
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietStartup) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietStartup())


def startup_noise(lines: Sequence[str], level: int) -> list[bool]:
    """Which stderr lines `TF_CPP_MIN_LOG_LEVEL=level` hides: C++ log lines below it, with their continuations.

    Example:
        >>> startup_noise(["I0000 00:00:1796.86 14475 port.cc:153] oneDNN ...", "Traceback"], 3)
        [True, False]
    """
    hidden, dropping = [], False
    for line in lines:
        if match := _CPP_LINE.match(line):
            dropping = _SEVERITIES.index(match.group(1)) < level
        elif line.startswith(_ABSL_BANNER):
            dropping = level >= 1
        elif not line.startswith("To enable the following instructions"):  # cpu_feature_guard's 2nd line
            dropping = False
        hidden.append(dropping)
    return hidden


@contextlib.contextmanager
def _startup_lines_held(level: int) -> Iterator[None]:
    """Catch file descriptor 2 (where C++ writes), then pass on the lines `level` keeps."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            lines = held.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line, hide in zip(lines, startup_noise(lines, level)) if not hide))
            sys.stderr.flush()


class _QuietStartup(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Loads `tensorflow` with its C++ start-up lines held back, then steps out of the way."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        spec = importlib.machinery.PathFinder.find_spec(name, path) if name == "tensorflow" else None
        if spec is not None and spec.loader is not None:
            self._loader, spec.loader = spec.loader, self
        return spec

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        module.__spec__.loader = module.__loader__ = self._loader  # tensorflow looks untouched after
        level = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0").strip()
        with _startup_lines_held(int(level) if level.isdigit() else 0):
            self._loader.exec_module(module)
