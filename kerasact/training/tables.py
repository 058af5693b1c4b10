"""`train_table`: a table in, a trained model that takes raw rows out, with the preprocessing
statistics (medians, scales, vocabularies) read from the training rows only.

A table that fits in memory is split first, exactly as `train` will (same seed, sizes and
stratification), the model built on the training rows with `kerasact.build_tabular_model`, then
trained on the same split. CSV files too large for that are streamed in chunks instead
(`kerasact.training.streaming`): the model is built on a bounded sample of their rows.
"""

from __future__ import annotations

import inspect
from dataclasses import fields
from typing import Any

import numpy as np

from kerasact import _errors, tabular
from kerasact.inputs import validate
from kerasact.model import ModelSpec, build_tabular_model, presets
from kerasact.model.presets import DEFAULT_PRESET, STREAM_PRESET
from kerasact.problems import get_head
from kerasact.runtime import distribute
from kerasact.tabular import stream as csv
from kerasact.training import _recipe as recipe
from kerasact.training import _rows, streaming
from kerasact.training._arguments import check_run_arguments
from kerasact.training.fit import TrainResult, train

# ModelSpec fields build_tabular_model takes (the table gives the rest); every other keyword goes to train.
_FROM_TABLE = {"problem", "input_dim", "n_classes", "n_outputs", "normalize"}
BUILD_FIELDS = frozenset({f.name for f in fields(ModelSpec) if f.init} - _FROM_TABLE)
_BUILD = BUILD_FIELDS


def train_table(data: Any, target: str, *, problem: str | None = None, categorical: Any = (), numeric: Any = (),
                drop: Any = (), stream: bool | None = None, verbose: int | str = "auto", preset: str | None = None,
                refit: bool | None = None, **options: Any) -> TrainResult:
    """Train a model on a table: schema, in-model preprocessing, split, fit, evaluate, run directory.

    Args:
        data: a DataFrame, a dict of columns, a `.csv` path, a glob of them (`"data/part-*.csv"`)
            or a list of `.csv` paths.
        target: the column to predict.
        problem: the problem type; None reads it off the target (`kerasact.tabular.target_problem`).
        categorical: columns to treat as categories, overriding the schema rules.
        numeric: columns to treat as numbers.
        drop: columns to leave out.
        stream: read CSV files in chunks, memory bounded by `sample_rows`/`chunk_rows`/`shuffle_rows`
            whatever the rows (`kerasact.training.streaming.train_stream`); None streams CSVs
            larger than `streaming.STREAM_BYTES` (20 MB) in all; False reads them whole.
        verbose: as in `train`; above 0 the schema is printed before training.
        preset: the recipe (`kerasact.model.presets.PRESETS`): its `ModelSpec` and `train` defaults
            apply under `options`. None is `DEFAULT_PRESET`, `"realmlp"` (RealMLP-TD: 256 epochs of
            batch 256 on the coslog₄ learning rate and flat-then-cosine dropout and weight decay, the
            best validation epoch restored), or `"plain"` for a streamed run, the one it takes.
        refit: once the test rows have scored the model, train it again on every row for the epochs
            the first fit kept (`kerasact.training.refit`): the saved model learns from every row, the
            metrics are the first fit's. None: the preset's rule (`Preset.refit`; realmlp refits
            class heads on tables of at most 2,000 rows). Not for a streamed run.
        **options: `ModelSpec` fields (`hidden`, `dropout`, `learning_rate`, `seed`, ...) for the
            model, and `train` arguments (`epochs`, `log_dir`, `val_size`, ...) for the run;
            streamed runs also take `sample_rows`, `chunk_rows` and `shuffle_rows`.

    Returns:
        `train`'s `TrainResult`; `result.model` takes raw rows (`kerasact.predict(model, frame)`).
        A streamed run's `split` is None: see `train_stream`.

    Example:
        >>> result = train_table("penguins.csv", "species", epochs=100, log_dir="runs")  # doctest: +SKIP
        >>> result = train_table("logs/day-*.csv", "clicked", stream=True, epochs=3)  # doctest: +SKIP
    """
    row = presets.get(preset if preset is not None else DEFAULT_PRESET)
    if refit is not None and not isinstance(refit, bool):
        raise _errors.invalid("refit", refit, "True, False or None (the preset's rule)", kind=TypeError)
    if streaming.wants_stream(data, stream):
        if refit:
            raise _errors.invalid("refit", refit, "False for a streamed run (its rows stay on disk)",
                                  "pass stream=False to read the table whole, or drop refit")
        if preset is not None and row.name != STREAM_PRESET:
            raise ValueError(f"preset={row.name!r} trains a table read whole; a streamed run takes "
                             f"preset={STREAM_PRESET!r} (pass stream=False to read it whole).")
        return streaming.train_stream(data, target, problem=problem, categorical=categorical, numeric=numeric,
                                      drop=drop, verbose=verbose, **options)
    extra = [name for name in streaming.STREAM_OPTIONS if name in options]
    if extra:
        raise _errors.invalid(extra[0], options[extra[0]], "no value for a table read whole",
                              "pass stream=True to stream CSV files, or drop it")
    _check_options(options, verbose)
    files = csv.csv_files(data) if csv.is_csv_source(data) else [data]
    frame = csv.read_csvs(files) if len(files) > 1 else tabular.read_table(files[0])
    X, y = tabular.split_target(frame, target)
    problem_name, counts, rule = tabular.target_plan(y, problem)
    head = get_head(problem_name)
    if refit is None:  # the preset's rule: measured where more rows help and a second fit is cheap
        single = distribute.cluster_of(options.get("strategy")).workers == 1  # a cluster's run is not refit
        refit = single and len(y) <= row.refit.get(head.name, 0)
    build = {k: v for k, v in options.items() if k in _BUILD}
    # seed: the weights and the split; the preset's run defaults under the caller's
    run = {**row.run, **{k: v for k, v in options.items() if k not in _BUILD or k == "seed"}}
    train_rows = _training_rows(y, head.name, **{k: run[k] for k in ("seed", "val_size", "test_size") if k in run})
    model = build_tabular_model(X.iloc[train_rows], y.iloc[train_rows], problem=head.name, categorical=categorical,
                                numeric=numeric, drop=drop, strategy=run.get("strategy"), preset=row, **counts, **build)
    if verbose not in (0, "0"):
        print(f"{tabular.schema_of(model).table()}\ntarget {target!r}: {head.name} ({rule})", flush=True)
    chosen = {**row.spec_defaults(head.name), **build}
    run["callbacks"] = [*run.get("callbacks", ()), *recipe.callbacks(
        model, chosen, head.name, rows=len(train_rows), epochs=run.get("epochs", _TRAIN_DEFAULTS["epochs"]),
        batch_size=run.get("batch_size", _TRAIN_DEFAULTS["batch_size"]),
        restore_best="patience" in row.run and run.get("patience") is None)]  # a preset's fixed epoch budget
    return train(model, X, y, verbose=verbose, refit=refit, **run)


_TRAIN_DEFAULTS = {name: p.default for name, p in inspect.signature(train).parameters.items()}


def _check_options(options: dict[str, Any], verbose: Any) -> None:
    """Every keyword a ModelSpec field or a `train` argument, the run's checked before any work."""
    params = inspect.signature(train).parameters
    run_names = {name for name, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY} - {"target"}
    for name, value in options.items():
        if name not in _BUILD | run_names:
            valid = sorted(_BUILD | run_names)
            raise TypeError(f"{name}={_errors.shown(value)} is not an argument of train_table: pass a ModelSpec "
                            f"field or a train argument, {_errors.listed(valid, name)}."
                            + _errors.did_you_mean(name, valid))
    given = {name: options.get(name, params[name].default)
             for name in run_names - {"sample_weight", "strategy", "refit"}}
    check_run_arguments(**given | {"verbose": verbose})
    distribute.check_strategy(options.get("strategy"))
    # Before the table is read and the model built: a global batch the replicas cannot share.
    distribute.check_global_batch(given["batch_size"], distribute.cluster_of(options.get("strategy")))


def _training_rows(y: Any, problem: str, *, seed: int = 0, val_size: float = 0.15,
                   test_size: float = 0.15) -> np.ndarray:
    """The row indices `train` will train on: its own split, computed on the targets alone.

    The rows' positions stand in for the features, so the split of them is the split of the table.
    """
    positions = np.arange(len(y), dtype=np.float32).reshape(-1, 1)
    parts, _, _ = _rows.split(validate(positions, y, problem=problem, encode=True), test_size=test_size,
                              val_size=val_size, seed=seed)
    return parts.X_train.reshape(-1).astype(np.int64)
