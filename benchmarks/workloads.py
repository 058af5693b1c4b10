"""What `bench.py` and `rules.py` both measure on: the workloads, their data and the machine.

No benchmark module is imported here, so every other one can import this; TensorFlow,
Keras, scikit-learn, PyTorch and kerasact are only imported when `machine()` is called.
"""

from __future__ import annotations

import datetime
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    n: int
    d: int
    hidden: tuple
    classes: int
    batch: int
    epochs: int


WORKLOADS = [
    Workload("overhead", "(a) overhead-bound", 20_000, 64, (128, 64), 10, 32, 3),
    Workload("compute", "(b) compute-bound", 60_000, 256, (512, 512), 10, 512, 3),
]


def teacher_data(w: Workload, n_test: int, seed: int = 0) -> tuple:
    """Labels from a random tanh network: learnable, but not perfectly within a few epochs."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((w.n + n_test, w.d)).astype(np.float32)
    W1, W2 = rng.standard_normal((w.d, 32)) / np.sqrt(w.d), rng.standard_normal((32, w.classes))
    y = np.argmax(np.tanh(X @ W1) @ W2, axis=1).astype(np.int32)
    return X[:w.n], y[:w.n], X[w.n:], y[w.n:]


def machine(optional: tuple[str, ...] = ("torch",)) -> dict:
    """The machine and library versions for a results header (`optional`: packages that may be absent)."""
    import importlib

    import keras
    import sklearn
    import tensorflow as tf

    from kerasact.runtime import cpu as cpu_facts

    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
               platform.processor())
    info = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "cpu": cpu, "cores": os.cpu_count(),
            "native_bfloat16": cpu_facts.native_bfloat16(), "cpu_kind": cpu_facts.cpu_kind(),
            "onednn_cap": cpu_facts.onednn_cap(), "python": platform.python_version(),
            "tensorflow": tf.__version__, "keras": keras.__version__, "scikit-learn": sklearn.__version__,
            "numpy": np.__version__, "load_average_start": os.getloadavg()}
    for name in optional:
        try:
            info[name] = importlib.import_module(name).__version__
        except ImportError:
            info[name] = None
    return info
