"""The `kerasact` command (also `python -m kerasact`).

Subcommands read kerasact's own tables, so what the command prints is what the library does.
Training and prediction from a table on disk arrive with the tabular wing; until then
`kerasact train` is not a subcommand and the help says how to train from Python.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import kerasact
from kerasact import activations
from kerasact.cli import recipe

_VERBOSE = "show TensorFlow's own log lines (C++ start-up, retracing), hidden by default"
_EPILOG = ("Train from Python: kerasact.train(kerasact.build_model(...), X, y, log_dir='runs'); "
           "the demos: python -m recipes. Docs: README.md.")


def _info(args: argparse.Namespace) -> int:
    """Versions of kerasact and its libraries, then the problem-type table."""
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


# subcommand -> (handler, one-line help); the help text is the handler's first docstring line
_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "info": _info, "heads": _heads, "activations": _activations,
}


def parser() -> argparse.ArgumentParser:
    """The command line's parser (its `--help` lists every subcommand)."""
    p = argparse.ArgumentParser(prog="kerasact", description=kerasact.__doc__.strip().splitlines()[0],
                                epilog=_EPILOG)
    p.add_argument("--version", action="version", version=f"kerasact {kerasact.__version__}")
    p.add_argument("--verbose", action="store_true", help=_VERBOSE)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, handler in _COMMANDS.items():
        sub.add_parser(name, help=handler.__doc__.strip().splitlines()[0],
                       description=handler.__doc__.strip()).add_argument(
            "--verbose", action="store_true", default=argparse.SUPPRESS, help=_VERBOSE)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `kerasact` command; returns its exit status.

    Example:
        >>> main(["heads"])  # doctest: +SKIP
    """
    p = parser()
    args = p.parse_args(argv)
    recipe.quiet_tensorflow(args.verbose)  # before a subcommand imports TensorFlow
    if args.command is None:
        p.print_help()
        return 0
    return _COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
