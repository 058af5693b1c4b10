"""`train_table`: a table in, a trained model that takes raw rows out, with the preprocessing
statistics (medians, scales, vocabularies) read from the training rows only.

It splits first, exactly as `train` will (same seed, sizes and stratification), builds the
model on the training rows with `kerasact.build_tabular_model`, then trains on the same split.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasact import tabular
from kerasact.inputs import validate
from kerasact.model import build_tabular_model
from kerasact.problems import get_head, infer_problem
from kerasact.training import _rows
from kerasact.training.fit import TrainResult, train

# ModelSpec fields build_tabular_model takes; every other keyword goes to train.
_BUILD = {"hidden", "activation", "dropout", "l2", "batch_norm", "optimizer", "learning_rate", "loss", "logits",
          "metrics", "normalize_target", "seed", "steps_per_execution", "jit_compile", "mixed_precision"}


def train_table(data: Any, target: str, *, problem: str | None = None, categorical: Any = (), numeric: Any = (),
                drop: Any = (), verbose: int | str = "auto", **options: Any) -> TrainResult:
    """Train a model on a table: schema, in-model preprocessing, split, fit, evaluate, run directory.

    Args:
        data: a DataFrame, a dict of columns or a `.csv` path.
        target: the column to predict.
        problem: the problem type; None reads it off the target (`kerasact.infer_problem`).
        categorical: columns to treat as categories, overriding the schema rules.
        numeric: columns to treat as numbers.
        drop: columns to leave out.
        verbose: as in `train`; above 0 the schema is printed before training.
        **options: `ModelSpec` fields (`hidden`, `dropout`, `learning_rate`, `seed`, ...) for the
            model, and `train` arguments (`epochs`, `log_dir`, `val_size`, ...) for the run.

    Returns:
        `train`'s `TrainResult`; `result.model` takes raw rows (`kerasact.predict(model, frame)`).

    Example:
        >>> result = train_table("penguins.csv", "species", epochs=100, log_dir="runs")  # doctest: +SKIP
    """
    frame = tabular.read_table(data)
    X, y = tabular.split_target(frame, target)
    found = infer_problem(y) if problem is None else None
    head = get_head(problem if problem is not None else found.problem)
    counts = {"n_classes": found.n_classes, "n_outputs": found.n_outputs} if found else {}
    build = {k: v for k, v in options.items() if k in _BUILD}
    run = {k: v for k, v in options.items() if k not in _BUILD}
    train_rows = _training_rows(y, head.name, **{k: run[k] for k in ("seed", "val_size", "test_size") if k in run})
    model = build_tabular_model(X.iloc[train_rows], y.iloc[train_rows], problem=head.name, categorical=categorical,
                                numeric=numeric, drop=drop, **counts, **build)
    if verbose not in (0, "0"):
        print(tabular.schema_of(model).table(), flush=True)
    return train(model, X, y, verbose=verbose, **run)


def _training_rows(y: Any, problem: str, *, seed: int = 0, val_size: float = 0.15,
                   test_size: float = 0.15) -> np.ndarray:
    """The row indices `train` will train on: its own split, computed on the targets alone.

    The rows' positions stand in for the features, so the split of them is the split of the table.
    """
    positions = np.arange(len(y), dtype=np.float32).reshape(-1, 1)
    parts, _, _ = _rows.split(validate(positions, y, problem=problem, encode=True), test_size=test_size,
                              val_size=val_size, seed=seed)
    return parts.X_train.reshape(-1).astype(np.int64)
