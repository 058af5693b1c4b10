"""`kerasact search`: `kerasact.search` on a table (CSV) from the command line.

The table is read once (a glob of CSV files with one header is read and stacked), then the
search prints its live table of trials under a header line, and at the end the best trial:
its validation and test metrics, its train options, and where `best.toml` (its `ModelSpec`)
and `best.keras` (its model) were written.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

import pandas as pd

import kerasact
from kerasact import tabular
from kerasact.cli import recipe
from kerasact.cli._tables import _run_name
from kerasact.tabular import stream as csv


def study_name(args: argparse.Namespace) -> str:
    """--name, else the data file's name with `-search` (`penguins.csv` → `penguins-search`;
    a glob `data/part-*.csv` → `data-search`, its folder's name)."""
    if args.name is not None:
        return args.name
    glob = bool(csv._GLOB & set(args.data))
    return f"{_run_name(Path(args.data).resolve().parent.name if glob else args.data)}-search"


def read_data(data: str) -> pd.DataFrame:
    """DATA as one table: a CSV file, or a glob / several files sharing one header, stacked."""
    if not csv.is_csv_source(data):
        return tabular.read_table(data, "DATA")
    files = csv.csv_files(data, "DATA")
    csv.header(files, "DATA")  # a file with another header is refused by name
    frames = [tabular.read_table(path, "DATA") for path in files]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _check(args: argparse.Namespace) -> None:
    """The counts, as one line naming the flag, before any data is read."""
    for flag, value in (("--trials", args.trials), ("--workers", args.workers), ("--epochs", args.epochs)):
        if value < 1:
            raise ValueError(f"{flag} must be 1 or more; got {value}.")
    if args.timeout is not None and not args.timeout > 0:
        raise ValueError(f"--timeout must be a number of seconds above 0; got {args.timeout:g}.")
    if args.seed < 0:
        raise ValueError(f"--seed must be 0 or more; got {args.seed}.")


def header(objective: str) -> str:
    """The column names above the trials' lines (laid out as `kerasact.tuning.trials.line`)."""
    return f"{'#':>4}  {'state':<8} {objective[:8]:>8}  {'time':>7}  run"


def _metrics(result: Any) -> list[str]:
    names = list(dict.fromkeys([*result.best_metrics, *result.test_metrics]))
    cell = lambda v: f"{v:.4f}" if isinstance(v, (int, float)) else "-"  # noqa: E731
    return [f"  {'metric':<10} {'validation':>11} {'test':>9}",
            *(f"  {m:<10} {cell(result.best_metrics.get(m)):>11} {cell(result.test_metrics.get(m)):>9}"
              for m in names)]


def summary(result: Any, objective: str) -> list[str]:
    """The best trial: its number, run and objective, metrics, model and train options."""
    best = result.study.best_trial
    spec = result.best_spec
    layers = ", ".join(f"{width}:{act}" for width, act in spec.hidden)
    options = ", ".join(f"{k}={v}" for k, v in result.best_train_options.items()) or "-"
    done = int((result.trials["state"] == "COMPLETE").sum()) if len(result.trials) else 0
    return [f"\nbest trial {best.number} of {len(result.trials)} ({done} complete): validation {objective} "
            f"{best.value:.4f}  ({best.user_attrs.get('run', '-')})",
            *_metrics(result),
            f"model: {spec.problem}, hidden {layers}, dropout {spec.dropout:.3g}, l2 {spec.l2:.3g}, "
            f"{spec.optimizer} lr {spec.learning_rate:.3g}",
            f"train options: {options}"]


def _best_run(result: Any) -> Path:
    """The best trial's run directory (its model.keras, and the metrics.json naming the classes)."""
    return result.study_dir / result.study.best_trial.user_attrs["run"]


def search(args: argparse.Namespace) -> int:
    """`kerasact search`: the trials as they finish, then the best trial and its files."""
    _check(args)
    table = read_data(args.data)
    tabular.split_target(table, args.target)  # an unknown column: one line before anything is printed
    name = study_name(args)
    objective = args.objective or "loss"
    study_dir = Path(args.log_dir) / name
    print(f"search: {args.trials} trial(s) on {args.data} (target {args.target!r}), objective validation "
          f"{objective}; study folder {study_dir}", flush=True)
    print(header(objective), flush=True)
    try:
        result = kerasact.search(
            table, target=args.target, trials=args.trials, space=args.space, objective=args.objective,
            log_dir=args.log_dir, seed=args.seed, timeout=args.timeout, workers=args.workers, name=name,
            verbose=True, epochs=args.epochs)
    except RuntimeError as err:  # no trial completed: the search ran and failed
        print(f"kerasact: error: {' '.join(str(err).split())}", file=sys.stderr, flush=True)
        return 1
    print("\n".join(summary(result, objective)))
    print(f"\nbest spec:    {result.study_dir / 'best.toml'}",
          f"best model:   {result.study_dir / 'best.keras'}",
          f"predict with: kerasact predict {shlex.quote(str(_best_run(result)))} DATA",
          f"inspect it:   {recipe.tensorboard_command(result.study_dir.parent)}", sep="\n", flush=True)
    return 0
