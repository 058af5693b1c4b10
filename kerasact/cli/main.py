"""The `kerasact` command (also `python -m kerasact`).

Subcommands read kerasact's own tables, so what the command prints is what the library does:
`train` a model on a CSV, `search` hyperparameters for one, `predict` with it, `info` about it.
A bad argument or table is one line on stderr and exit status 2; a run that fails (the loss
turned NaN, no trial of a search completed) is one line and status 1.
Importing this module loads no TensorFlow; a subcommand loads what it needs.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import textwrap
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import kerasact
from kerasact import activations
from kerasact.cli import recipe

_VERBOSE = "show TensorFlow's own log lines (C++ start-up, retracing), hidden by default"
_CLOSING = ("exit status: 0 done, 2 bad usage or input (one line on stderr), 1 the run failed.\n"
            "From Python: kerasact.train_table('penguins.csv', 'species', log_dir='runs'); demos: python -m recipes.")

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


def _names(text: str) -> list[str]:
    """`"a,b"` → `["a", "b"]`: a comma-separated list of column names."""
    return [name.strip() for name in text.split(",") if name.strip()]


def _model_argument(p: argparse.ArgumentParser, nargs: str | None = None) -> None:
    p.add_argument("model", metavar="MODEL", nargs=nargs, help="a model.keras file, or the run directory holding one")


def _train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", metavar="DATA", help="the table: a .csv file with a header row")
    p.add_argument("--target", required=True, metavar="COL", help="the column to predict")
    p.add_argument("--problem", metavar="NAME",
                   help="the problem type, a row of `kerasact heads` (default: read off the target column)")
    p.add_argument("--log-dir", default="runs", metavar="DIR", help="parent folder of run directories (default runs)")
    p.add_argument("--epochs", type=int, default=100, metavar="N",
                   help="maximum epochs; early stopping may end sooner (default 100)")
    p.add_argument("--hidden", type=recipe.parse_hidden, metavar="WIDTHS",
                   help="hidden widths, optionally width:activation, e.g. 64,32 or 25:linear,15:relu")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the weights, dropout and baselines (default 0)")
    for flag, what in (("categorical", "treat as categories"), ("numeric", "treat as numbers"), ("drop", "leave out")):
        p.add_argument(f"--{flag}", type=_names, default=[], metavar="A,B",
                       help=f"columns to {what}, overriding the schema rules")
    p.add_argument("--batch-size", type=int, default=32, metavar="N",
                   help="rows per step; with several workers, over all of them together (default 32)")
    p.add_argument("--run-dir", metavar="DIR",
                   help="this run directory instead of a fresh one under --log-dir; a run stopped before it "
                        "finished resumes from its last completed epoch")
    p.add_argument("--workers", type=_positive(int), default=1, metavar="N",
                   help="train on N local worker processes (tf.distribute MultiWorkerMirroredStrategy on free "
                        "127.0.0.1 ports); on a cluster, run the command on every node with TF_CONFIG instead")
    p.add_argument("--join-timeout", type=_positive(float), default=120.0, metavar="S",
                   help="seconds for every worker of the cluster to start (default 120)")
    p.add_argument("--diagnostics", type=_at_least_zero, metavar="N",
                   help="probe dead/saturated units and gradient flow every N-th epoch, 0 for never (default: "
                        "epochs 1, 2, 4, 8, ...; they go to TensorBoard under diagnostics/)")


def _at_least_zero(text: str) -> int:
    """An argparse type: an int >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an int") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


def _positive(kind: type) -> Callable[[str], Any]:
    """An argparse type: a number of `kind` above 0."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an int' if kind is int else 'a number'}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
        return value

    parse.__name__ = kind.__name__
    return parse


def _search_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", metavar="DATA", help="the table: a .csv file with a header row, or a glob of them")
    p.add_argument("--target", required=True, metavar="COL", help="the column to predict")
    p.add_argument("--trials", type=int, required=True, metavar="N",
                   help="trials in the study (finished trials of a resumed study count)")
    p.add_argument("--timeout", type=float, metavar="S", help="seconds after which no new trial starts")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="trial processes in parallel (default 1)")
    p.add_argument("--log-dir", default="runs", metavar="DIR", help="parent folder of the study (default runs)")
    p.add_argument("--name", metavar="NAME",
                   help="the study's name and folder under --log-dir (default <data file name>-search)")
    p.add_argument("--space", metavar="FILE", help="a .toml file whose [search] table is the space "
                   "(default: the problem type's space)")
    p.add_argument("--objective", metavar="NAME",
                   help="the validation metric to optimise: loss (default, minimised), accuracy, roc_auc, r2, ...")
    p.add_argument("--epochs", type=int, default=100, metavar="N",
                   help="maximum epochs per trial; early stopping or pruning may end sooner (default 100)")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the sampler, the split and every trial's weights (default 0)")


def _predict_arguments(p: argparse.ArgumentParser) -> None:
    _model_argument(p)
    p.add_argument("data", metavar="DATA", help="the rows to predict for: a .csv file with a header row")
    p.add_argument("--out", metavar="FILE", help="write the predictions to this CSV file (default: stdout)")


@dataclass(frozen=True)
class Command:
    """A subcommand: its handler (whose docstring is the help) and the arguments it takes."""

    run: Callable[[argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] = lambda p: None
    examples: tuple[str, ...] = ()  # command lines shown under `examples:` in --help


_RUN = "runs/penguins/<run>"
_COMMANDS: dict[str, Command] = {
    "train": Command(_train, _train_arguments, (
        "kerasact train penguins.csv --target species",
        "kerasact train houses.csv --target price --hidden 64,32 --categorical zip --drop id --epochs 200",
        "kerasact train penguins.csv --target species --workers 2 --batch-size 64 --run-dir runs/penguins/2w")),
    "search": Command(_search, _search_arguments, (
        "kerasact search penguins.csv --target species --trials 20 --epochs 50",
        "kerasact search houses.csv --target price --trials 40 --workers 2 --objective r2 --space space.toml")),
    "predict": Command(_predict, _predict_arguments, (
        f"kerasact predict {_RUN}/model.keras new.csv --out predictions.csv",)),
    "info": Command(_info, lambda p: _model_argument(p, "?"), ("kerasact info", f"kerasact info {_RUN}")),
    "heads": Command(_heads, examples=("kerasact heads",)),
    "activations": Command(_activations, examples=("kerasact activations",)),
}


def _epilog(*names: str) -> str:
    lines = [f"  {line}" for name in names for line in _COMMANDS[name].examples]
    return "examples:\n" + "\n".join(lines) + "\n\n" + _CLOSING


def parser() -> argparse.ArgumentParser:
    """The command line's parser (its `--help` lists every subcommand, with examples)."""
    summary = textwrap.fill(" ".join(kerasact.__doc__.strip().split("\n\n")[0].split()), 90)  # first paragraph
    p = argparse.ArgumentParser(prog="kerasact", description=summary,
                                epilog=_epilog(*_COMMANDS), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"kerasact {kerasact.__version__}")
    p.add_argument("--verbose", action="store_true", help=_VERBOSE)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in _COMMANDS.items():
        doc = inspect.cleandoc(command.run.__doc__)
        child = sub.add_parser(name, help=doc.splitlines()[0], description=doc, epilog=_epilog(name),
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        command.arguments(child)
        child.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=_VERBOSE)
    return p


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
