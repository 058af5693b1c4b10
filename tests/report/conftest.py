"""Real runs of every head, a table run and a search study, trained once per session (a few
epochs on small generated data), for the report tests and the browser tests to read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import kerasact

ROWS = 240


def _arrays(problem: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(size=(ROWS, 5)).astype("float32")
    signal = X[:, 0] - 0.5 * X[:, 1]
    y = {"regression": signal + 0.1 * rng.normal(size=ROWS),
         "binary": (signal > 0).astype(int),
         "multiclass": np.digitize(signal, [-0.5, 0.5]),
         "multilabel": np.stack([signal > 0, X[:, 2] > 0, X[:, 3] + X[:, 4] > 0], axis=1).astype(int)}[problem]
    return X, y


def table(rng: np.random.Generator, n: int = ROWS) -> pd.DataFrame:
    """Numbers with gaps, text categories with gaps, a class target driven by the dose and the site;
    a column name Keras would refuse as a layer name (the page must show it as the table names it)."""
    dose = rng.normal(size=n)
    site = np.array(["north", "south", "east"])[rng.integers(0, 3, n)]
    frame = pd.DataFrame({"Dose (mg/kg)": dose, "noise": rng.normal(size=n), "site": site,
                          "outcome": np.where(dose + (site == "north") * 1.5 > 0.5, "better", "same")})
    frame.loc[rng.random(n) < 0.1, "noise"] = np.nan
    frame.loc[rng.random(n) < 0.05, "site"] = None
    return frame


@pytest.fixture
def make_table():
    """`table`, for a test that writes its own CSV."""
    return table


@pytest.fixture(scope="session")
def report_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """{kind: run directory} of finished runs under one log directory (`log_dir`: its root;
    `table_frame`: the table run's rows as given)."""
    root = tmp_path_factory.mktemp("report-runs")
    rng = np.random.default_rng(0)
    found: dict[str, Path] = {"log_dir": root}
    for problem in ("regression", "binary", "multiclass", "multilabel"):
        X, y = _arrays(problem, rng)
        model = kerasact.build_model(problem, X.shape[1], n_classes=3 if problem == "multiclass" else None,
                                     n_outputs=3 if problem == "multilabel" else None, hidden=[(8, "relu")],
                                     normalize=True)
        found[problem] = kerasact.train(model, X, y, epochs=3, log_dir=root, recipe=problem, verbose=0,
                                        diagnostics=True).run_dir
    frame = table(rng)
    found["table"] = kerasact.train_table(frame, "outcome", epochs=3, log_dir=root, verbose=0).run_dir
    found["table_frame"] = frame  # the rows as given, for the worst rows' oracle
    return found


@pytest.fixture(scope="session")
def study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished two-trial search's study folder."""
    root = tmp_path_factory.mktemp("report-study")
    X, y = _arrays("binary", np.random.default_rng(1))
    return kerasact.search(X, y, trials=2, epochs=2, log_dir=root, name="study", verbose=False).study_dir
