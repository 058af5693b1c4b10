"""pytest plugin for checking Keras models: fixtures plus model-output assertions.

Installing kerasact registers this module through the `pytest11` entry point, so any test
file gets the fixtures without configuration and imports the assertions from here:

    def test_head(kerasact_dataset):
        X, y = kerasact_dataset("binary")
        assert_output_contract(kerasact.build_model("binary", X.shape[1]), X)

pytest loads this module in EVERY session of every project in the environment, so it
imports nothing heavy: numpy, Keras and TensorFlow are imported inside the fixtures and on
first use of an assertion (PEP 562). Disable the plugin with `pytest -p no:kerasact`.

Fixtures:
    kerasact_dataset: session-scoped factory `(problem, ...) -> (X, y)`, see `make_dataset`.
    kerasact_seed: opt-in; seeds Python, numpy and Keras before the test, returns the seed
        (`--kerasact-seed N` or the ini option `kerasact_seed`; default 0).
    kerasact_run_dir: a fresh run directory under `tmp_path`.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# public assertion -> private module that defines it (imported on first use: it needs Keras)
_EXPORTS: dict[str, str] = {
    "assert_output_contract": "_checks",
    "assert_matches_reference": "_checks",
    "assert_gradients_match": "_checks",
    "assert_finite": "_checks",
    "assert_tensorboard_logged": "_checks",
    "assert_initial_loss": "_training_checks",
    "assert_can_overfit": "_training_checks",
    "assert_weights_update": "_training_checks",
    "assert_no_dead_units": "_health_checks",
    "assert_gradients_flow": "_health_checks",
}

__all__ = sorted([*_EXPORTS, "make_dataset"])


def __getattr__(name: str) -> Any:
    # No __dir__: pytest scans dir(plugin) for hooks and fixtures, and listing these names
    # there would import Keras in every pytest session.
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"kerasact.testing.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kerasact.testing' has no attribute {name!r}")


def make_dataset(problem: str, *, n: int = 64, features: int = 4, count: int | None = None,
                 labels: str | None = None, seed: int = 0) -> tuple[Any, Any]:
    """A tiny deterministic, learnable dataset for a problem type of `kerasact.HEADS`.

    `X` is standard normal; `y` comes from a random linear teacher, in the label format of
    the head's default loss (or `labels`), so a kerasact model of that problem trains on it.

    Args:
        problem: a problem type (`"regression"`, `"binary"`, ...), aliases allowed.
        n: rows.
        features: columns of `X`.
        count: classes, labels or targets (the head's default, else 3).
        labels: a label format, a key of `kerasact.inputs.LABEL_FORMATS` (`"sparse"`, `"one_hot"`...).
        seed: the data's own seed; global random state is neither read nor changed.

    Returns:
        `(X, y)`: float32 `X` of shape `(n, features)`, `y` as the loss expects it.

    Example:
        >>> X, y = make_dataset("multiclass", count=4)
        >>> X.shape, sorted(set(y.tolist()))
        ((64, 4), [0, 1, 2, 3])
    """
    import numpy as np

    from kerasact.inputs import label_formats
    from kerasact.problems import get_head

    head = get_head(problem)
    count = count if count is not None else head.default_count or 3
    units = head.units(count)
    row = label_formats.get(labels or head.losses[head.default_loss].labels)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features)).astype("float32")
    scores = X @ rng.standard_normal((features, units)) / math.sqrt(features)
    return X, row.make(scores)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kerasact", "kerasact model checks")
    group.addoption("--kerasact-seed", type=int, default=None, dest="kerasact_seed",
                    help="seed for the kerasact_seed fixture (default: ini kerasact_seed, else 0)")
    parser.addini("kerasact_seed", "seed for the kerasact_seed fixture", default="0")


@pytest.fixture(scope="session")
def kerasact_dataset() -> Callable[..., tuple[Any, Any]]:
    """Factory of tiny deterministic datasets: `kerasact_dataset("binary", n=32) -> (X, y)`."""
    return make_dataset


@pytest.fixture
def kerasact_seed(request: pytest.FixtureRequest) -> int:
    """Seed Python's `random`, numpy and Keras/TensorFlow before the test; returns the seed.

    Opt-in rather than autouse: this plugin is loaded into every pytest run, and reseeding
    every test of every project would be a surprise. Op determinism is left alone
    (`tf.config.experimental.enable_op_determinism` cannot be undone in a process).
    """
    import keras

    seed = request.config.getoption("kerasact_seed")
    seed = int(request.config.getini("kerasact_seed")) if seed is None else seed
    keras.utils.set_random_seed(seed)
    return seed


@pytest.fixture
def kerasact_run_dir(tmp_path: Path) -> Path:
    """A fresh, empty run directory `<tmp_path>/runs/pytest/<run-id>` for logs and models."""
    from kerasact.training import runs

    return runs.new_run_dir(tmp_path / "runs", "pytest")


if TYPE_CHECKING:  # the same surface for type checkers and IDEs
    from kerasact.testing._checks import (
        assert_finite,
        assert_gradients_match,
        assert_matches_reference,
        assert_output_contract,
        assert_tensorboard_logged,
    )
    from kerasact.testing._training_checks import assert_can_overfit, assert_initial_loss, assert_weights_update
