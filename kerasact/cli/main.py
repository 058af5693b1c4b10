"""The `kerasact` command (also `python -m kerasact`).

Subcommands read kerasact's own tables, so what the command prints is what the library does:
`train` a model on a CSV, `search` hyperparameters for one, `predict` with it, `info` about it,
`report` on a run (or compare runs) in one HTML page.
A bad argument or table is one line on stderr and exit status 2; a run that fails (the loss
turned NaN, no trial of a search completed) is one line and status 1.
Importing this module loads no TensorFlow; a subcommand loads what it needs.
Here: the subcommands' handlers, their table and `main` (exit statuses, one-line warnings and
errors); each subcommand's arguments and the parser are `_parser`'s.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from kerasact import activations
from kerasact.cli import _parser, recipe
from kerasact.cli._parser import Command

# error -> exit status: 2 the usage or the input was wrong (fix it and rerun), 1 the run itself failed.
# Read top to bottom; the first row the error is an instance of decides.
_EXIT_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (FloatingPointError, 1), (ValueError, 2), (TypeError, 2), (FileNotFoundError, 2), (IsADirectoryError, 2),
    (NotADirectoryError, 2), (PermissionError, 2), (OSError, 1),
)


def _info(args: argparse.Namespace) -> int:
    """Versions of kerasact and its libraries and the problem-type table; with MODEL, that model.

    With MODEL (a model.keras file or its run directory): its schema, its head (problem, output
    activation, loss), its layers and the metrics of the run that trained it (metrics.json).
    """
    if args.model is not None:
        from kerasact.cli import _tables

        return _tables.info(args)
    from kerasact.training import runs

    for name, version in runs.library_versions().items():
        print(f"{name:<13} {version}")
    return _heads(args)


def _heads(args: argparse.Namespace) -> int:
    """The head table: problem type, output activation, default loss and the alternatives."""
    from kerasact.problems import HEADS

    print(f"\n{'problem':<11} {'output':<8} {'default loss':<32} alternatives")
    for name, head in HEADS.items():
        others = ", ".join(list(head.losses)[1:]) or "-"
        print(f"{name:<11} {head.activation:<8} {head.default_loss:<32} {others}")
    return 0


def _activations(args: argparse.Namespace) -> int:
    """The activations a Dense stack takes by name, with where each belongs."""
    for name in activations.DENSE_NAMES:
        print(f"{name:<14} {activations.get(name).use}")
    return 0


def _train(args: argparse.Namespace) -> int:
    """Train a model on a table (CSV) and compare its test metrics with scikit-learn baselines.

    Prints the schema (what each column became, and why), the head, Keras's progress, then the
    test metrics beside LogisticRegression / Ridge and HistGradientBoosting fit on the same
    training rows and scored on the same test rows. Writes <log-dir>/<data file name>/<run>/
    with model.keras, metrics.json, plots and TensorBoard logs.
    """
    if args.workers > 1:
        return _launch_workers(args)
    from kerasact.cli import _tables

    return _tables.train(args)


def _launch_workers(args: argparse.Namespace) -> int:
    import os

    from kerasact.cli import _launch

    if os.environ.get("TF_CONFIG", "").strip():
        raise ValueError("--workers starts a local cluster, but TF_CONFIG is set: this process is already one task "
                         "of a cluster. Drop --workers (or unset TF_CONFIG).")
    return _launch.launch(args.argv, args.workers, args.join_timeout)


def _search(args: argparse.Namespace) -> int:
    """Search hyperparameters for a model on a table (CSV): one trial per line, then the best.

    Each trial trains one kerasact run with hyperparameters sampled from the space (the problem
    type's default, or the [search] table of --space FILE.toml); Optuna picks the next ones.
    Prints a line per finished trial, then the best trial's validation and test metrics. Writes
    <log-dir>/<name>/ with a run directory per trial, best.toml (the best ModelSpec) and
    best.keras (its model). Run it again with the same --log-dir and --name to resume.
    """
    from kerasact.cli import _search

    return _search.search(args)


def _predict(args: argparse.Namespace) -> int:
    """Predict for each row of a table (CSV) with a trained model; one output row per input row.

    Classifiers: the predicted label (named by the run's metrics.json, else the class index) and
    one p_<class> probability column per class. Regression: `prediction` (or `prediction_<i>`).
    Columns may come in any order; missing values and unseen categories are fine.
    """
    from kerasact.cli import _tables

    return _tables.predict(args)


def _report(args: argparse.Namespace) -> int:
    """Build report.html: a run directory's one page, or a page comparing every run under a folder.

    A run directory (runs/<data>/<run>, holding metrics.json) gets its page rebuilt: the data and
    schema, the test metrics beside the baselines, where the model errs, permutation importance
    of the raw columns, training health and the model. Any other folder (a --log-dir, a search's
    study folder) gets a sortable leaderboard of the runs below it, each linked to its page.
    Needs no TensorFlow; the page is one file with its images inline.
    """
    from kerasact import report

    print(report.build(args.path), flush=True)
    return 0


# The subcommands: name -> handler (its docstring is the help), its arguments (`_parser`), examples.
_RUN = "runs/penguins/<run>"
_COMMANDS: dict[str, Command] = {
    "train": Command(_train, _parser.train_arguments, (
        "kerasact train penguins.csv --target species",
        "kerasact train houses.csv --target price --hidden 64,32 --categorical zip --drop id --epochs 200",
        "kerasact train penguins.csv --target species --workers 2 --batch-size 64 --run-dir runs/penguins/2w")),
    "search": Command(_search, _parser.search_arguments, (
        "kerasact search penguins.csv --target species --trials 20 --epochs 50",
        "kerasact search houses.csv --target price --trials 40 --workers 2 --objective r2 --space space.toml")),
    "predict": Command(_predict, _parser.predict_arguments, (
        f"kerasact predict {_RUN}/model.keras new.csv --out predictions.csv",)),
    "info": Command(_info, _parser.info_arguments, ("kerasact info", f"kerasact info {_RUN}")),
    "report": Command(_report, _parser.report_arguments, (f"kerasact report {_RUN}", "kerasact report runs")),
    "heads": Command(_heads, examples=("kerasact heads",)),
    "activations": Command(_activations, examples=("kerasact activations",)),
}


def parser() -> argparse.ArgumentParser:
    """The command line's parser (its `--help` lists every subcommand, with examples)."""
    return _parser.build(_COMMANDS)


def _one_line(message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None,
              line: str | None = None) -> None:
    """`warnings.showwarning` for the command: `kerasact: warning: <message>`, one line, no source."""
    print(f"kerasact: warning: {_flat(message)}", file=sys.stderr if file is None else file, flush=True)


def _flat(message: Any) -> str:
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `kerasact` command; returns its exit status (0 done, 2 bad input, 1 failed).

    Example:
        >>> main(["heads"])  # doctest: +SKIP
    """
    p = parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = p.parse_args(argv)
    args.argv = argv  # `train --workers N` runs the same command line in each worker
    recipe.quiet_tensorflow(args.verbose)  # before a subcommand imports TensorFlow
    if args.command is None:
        p.print_help()
        return 0
    try:
        with warnings.catch_warnings():  # restores showwarning when the command returns
            warnings.showwarning = _one_line
            return _COMMANDS[args.command].run(args)
    except tuple(error for error, _ in _EXIT_STATUS) as err:
        status = next(code for error, code in _EXIT_STATUS if isinstance(err, error))
        print(f"kerasact: error: {_flat(err) or type(err).__name__}", file=sys.stderr, flush=True)
        return status
    except KeyboardInterrupt:
        print("kerasact: interrupted", file=sys.stderr, flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
