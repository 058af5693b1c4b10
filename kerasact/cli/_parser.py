"""The `kerasact` command line's grammar: each subcommand's arguments and their argparse types,
the `Command` row that pairs a handler with them, and the parser built from a table of rows.
Importing it loads no TensorFlow."""

from __future__ import annotations

import argparse
import inspect
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import kerasact
from kerasact._presets import DEFAULT_PRESET, PRESETS, STREAM_PRESET
from kerasact.cli import recipe

_VERBOSE = ("show TensorFlow's own log lines (C++ start-up, retracing), hidden by default; with train, Keras's "
            "line per epoch instead of the one progress line")
_CLOSING = ("exit status: 0 done, 2 bad usage or input (one line on stderr), 1 the run failed.\n"
            "From Python: kerasact.train_table('penguins.csv', 'species', log_dir='runs'); demos: python -m recipes.")


def _names(text: str) -> list[str]:
    """`"a,b"` → `["a", "b"]`: a comma-separated list of column names."""
    return [name.strip() for name in text.split(",") if name.strip()]


def _model_argument(p: argparse.ArgumentParser, nargs: str | None = None) -> None:
    p.add_argument("model", metavar="MODEL", nargs=nargs, help="a model.keras file, or the run directory holding one")


def train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", metavar="DATA", help="the table: a .csv file with a header row")
    p.add_argument("--target", required=True, metavar="COL", help="the column to predict")
    p.add_argument("--problem", metavar="NAME",
                   help="the problem type, a row of `kerasact heads` (default: read off the target column)")
    p.add_argument("--log-dir", default="runs", metavar="DIR", help="parent folder of run directories (default runs)")
    p.add_argument("--preset", choices=sorted(PRESETS),
                   help=f"the model and training recipe (default {DEFAULT_PRESET}; {STREAM_PRESET} for a streamed "
                        "CSV): "
                        + "; ".join(f"{name}: {row.description}" for name, row in PRESETS.items()))
    p.add_argument("--epochs", type=int, metavar="N",
                   help="maximum epochs; early stopping may end sooner (default: the preset's, 256 for realmlp, "
                        "100 for plain)")
    p.add_argument("--refit", action=argparse.BooleanOptionalAction, default=None,
                   help="after the test rows have scored the model, train it again on every row for the epochs "
                        "the first fit kept (the metrics stay the first fit's); default: the preset's rule "
                        "(realmlp refits classes on tables of at most 2,000 rows)")
    p.add_argument("--hidden", type=recipe.parse_hidden, metavar="WIDTHS",
                   help="hidden widths, optionally width:activation, e.g. 64,32 or 25:linear,15:relu")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the weights, dropout and baselines (default 0)")
    for flag, what in (("categorical", "treat as categories"), ("numeric", "treat as numbers"), ("drop", "leave out")):
        p.add_argument(f"--{flag}", type=_names, default=[], metavar="A,B",
                       help=f"columns to {what}, overriding the schema rules")
    p.add_argument("--batch-size", type=int, metavar="N",
                   help="rows per step; with several workers, over all of them together (default: the preset's, "
                        "256 for realmlp, 32 for plain)")
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


def search_arguments(p: argparse.ArgumentParser) -> None:
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


def predict_arguments(p: argparse.ArgumentParser) -> None:
    _model_argument(p)
    p.add_argument("data", metavar="DATA", help="the rows to predict for: a .csv file with a header row")
    p.add_argument("--out", metavar="FILE", help="write the predictions to this CSV file (default: stdout)")


def info_arguments(p: argparse.ArgumentParser) -> None:
    _model_argument(p, "?")


def report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="RUN_OR_LOG_DIR",
                   help="a run directory (its page), or a folder of runs such as --log-dir (a page comparing them)")


@dataclass(frozen=True)
class Command:
    """A subcommand: its handler (whose docstring is the help) and the arguments it takes."""

    run: Callable[[argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] = lambda p: None
    examples: tuple[str, ...] = ()  # command lines shown under `examples:` in --help


def _epilog(commands: Mapping[str, Command], *names: str) -> str:
    lines = [f"  {line}" for name in names for line in commands[name].examples]
    return "examples:\n" + "\n".join(lines) + "\n\n" + _CLOSING


def build(commands: Mapping[str, Command]) -> argparse.ArgumentParser:
    """The parser of `commands` (name -> `Command`): `--help` lists every subcommand, with examples."""
    summary = textwrap.fill(" ".join(kerasact.__doc__.strip().split("\n\n")[0].split()), 90)  # first paragraph
    p = argparse.ArgumentParser(prog="kerasact", description=summary, epilog=_epilog(commands, *commands),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"kerasact {kerasact.__version__}")
    p.add_argument("--verbose", action="store_true", help=_VERBOSE)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in commands.items():
        doc = inspect.cleandoc(command.run.__doc__)
        child = sub.add_parser(name, help=doc.splitlines()[0], description=doc, epilog=_epilog(commands, name),
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        command.arguments(child)
        child.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=_VERBOSE)
    return p
