"""What every recipe script shares: its command-line flags, seeding, and the closing table."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kerasact import activations


@dataclass(frozen=True)
class Row:
    """One line of a recipe's closing table: kerasact's metric against a baseline's."""

    metric: str
    model: float
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""        # human-readable target, e.g. ">= 0.97"
    passed: bool | None = None


def parse_hidden(text: str) -> list[int | tuple[int, str]]:
    """`"64,32"` or `"25:linear,15:relu"` → the `hidden` argument of `build_model`.

    Example:
        >>> parse_hidden("25:linear,15")
        [(25, 'linear'), 15]
    """
    layers: list[int | tuple[int, str]] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        width, _, act = item.partition(":")
        if not width.isdigit():
            raise argparse.ArgumentTypeError(f"--hidden wants widths like 64,32 or 25:linear,15:relu; got {item!r}.")
        layers.append((int(width), activations.get(act).name) if act else int(width))
    return layers


def concept_parser(doc: str, *, epochs: int | None = None, lr: float | None = None,
                   quick_help: str = "a smoke run in seconds") -> argparse.ArgumentParser:
    """The flags of a concept recipe: `--seed --logdir --quick`, plus `--epochs`/`--lr` when given.

    Example:
        >>> concept_parser("Title: Demo", epochs=5).parse_args([]).epochs
        5
    """
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0].removeprefix("Title:").strip())
    if epochs is not None:
        p.add_argument("--epochs", type=int, default=epochs, help=f"training epochs (default {epochs})")
    if lr is not None:
        p.add_argument("--lr", type=float, default=lr, help=f"learning rate (default {lr})")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--logdir", default="runs", help="parent folder of run directories (default runs)")
    p.add_argument("--quick", action="store_true", help=quick_help)
    return p


def recipe_parser(description: str, *, epochs: int, batch_size: int, hidden: str, activation: str,
                  lr: float) -> argparse.ArgumentParser:
    """The flags every recipe takes, with that recipe's defaults.

    Example:
        >>> recipe_parser(
        ...     "demo", epochs=10, batch_size=32, hidden="8", activation="relu", lr=1e-3
        ... ).parse_args(["--quick"]).quick
        True
    """
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, default=epochs, help=f"maximum epochs (default {epochs})")
    p.add_argument("--batch-size", type=int, default=batch_size, help=f"samples per step (default {batch_size})")
    p.add_argument("--hidden", type=parse_hidden, default=parse_hidden(hidden),
                   help=f"hidden widths, optionally width:activation (default {hidden})")
    p.add_argument("--activation", default=activation, choices=activations.DENSE_NAMES, metavar="NAME",
                   help=f"hidden activation (default {activation}); one of kerasact.activations.DENSE_NAMES")
    p.add_argument("--lr", type=float, default=lr, help=f"learning rate (default {lr})")
    p.add_argument("--seed", type=int, default=0, help="seed for data split, weights and dropout (default 0)")
    p.add_argument("--logdir", default="runs", help="parent folder of run directories (default runs)")
    p.add_argument("--quick", action="store_true", help="a few epochs on a subset: a smoke test in seconds")
    return p


def run(main: Callable[..., dict], doc: str, **defaults: Any) -> None:
    """Parse the recipe flags (with that recipe's defaults), call `main`, exit 1 on a missed target.

    Example:
        >>> if __name__ == "__main__":  # doctest: +SKIP
        ...     cli.run(main, __doc__, epochs=EPOCHS, batch_size=32, hidden="16,8", activation="relu", lr=1e-3)
    """
    title = doc.strip().splitlines()[0].removeprefix("Title:").strip()
    args = recipe_parser(title, **defaults).parse_args()
    out = main(epochs=args.epochs, batch_size=args.batch_size, hidden=args.hidden, activation=args.activation,
               lr=args.lr, seed=args.seed, logdir=args.logdir, quick=args.quick)
    sys.exit(0 if out["passed"] or args.quick else 1)


def report(title: str, rows: Sequence[Row], run_dir: Path | None) -> str:
    """The closing table of a recipe, plus where the run is and how to open it in TensorBoard."""
    lines = [f"\n{title}", f"{'metric':<12} {'kerasact':>9} {'baseline':>9}  {'baseline model':<22} {'target':<10} ok"]
    for r in rows:
        base = f"{r.baseline:9.4f}" if r.baseline is not None else f"{'-':>9}"
        ok = {True: "yes", False: "NO", None: ""}[r.passed]
        lines.append(f"{r.metric:<12} {r.model:9.4f} {base}  {r.baseline_name:<22} {r.target:<10} {ok}")
    if run_dir is not None:
        logdir = Path(run_dir).parent.parent
        lines += [f"run directory: {run_dir}",
                  f"inspect it:    tensorboard --logdir {shlex.quote(os.fspath(logdir))}"]
    text = "\n".join(lines)
    print(text, flush=True)
    return text
