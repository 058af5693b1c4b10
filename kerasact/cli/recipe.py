"""What every recipe script shares: its command-line flags, quiet TensorFlow logs (`_quiet`) and
the closing table. TensorFlow-free, so a script can call `quiet_tensorflow()` before TensorFlow loads."""

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
from kerasact._errors import did_you_mean, invalid

# Re-exported: every script calls recipe.quiet_tensorflow() first.
from kerasact._quiet import quiet_tensorflow as quiet_tensorflow
from kerasact._quiet import startup_noise as startup_noise


@dataclass(frozen=True)
class Row:
    """One line of a recipe's closing table: kerasact's metric against a baseline's."""

    metric: str
    model: float
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""        # human-readable target, e.g. ">= 0.97"
    passed: bool | None = None


def prog() -> str:
    """How this script was started, for `usage:` lines: `python -m recipes.binary`, else the file name.

    Example:
        >>> prog()  # doctest: +SKIP
        'python -m recipes.binary'
    """
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and spec.name:
        return f"python -m {spec.name.removesuffix('.__main__')}"
    return os.path.basename(sys.argv[0])


def script_parser(doc: str) -> argparse.ArgumentParser:
    """A recipe script's parser: `prog()` in its usage, the docstring's title, and `--verbose`.

    Example:
        >>> script_parser("Title: Demo").parse_args([]).verbose
        False
    """
    title = doc.strip().splitlines()[0].removeprefix("Title:").strip()
    p = argparse.ArgumentParser(prog=prog(), description=title)
    p.add_argument("--verbose", action="store_true",
                   help="show TensorFlow's own log lines (C++ start-up, retracing), hidden by default")
    return p


def parse_hidden(text: str) -> list[int | tuple[int, str]]:
    """`"64,32"` or `"25:linear,15:relu"` → the `hidden` argument of `build_model`.

    Raises `argparse.ArgumentTypeError` naming the bad item, so argparse shows the message.

    Example:
        >>> parse_hidden("25:linear,15")
        [(25, 'linear'), 15]
    """
    layers: list[int | tuple[int, str]] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        width, _, name = item.partition(":")
        if not width.isdigit() or int(width) < 1:
            raise argparse.ArgumentTypeError(str(invalid(
                "--hidden", item, "widths >= 1, each optionally width:activation, e.g. 64,32 or 25:linear,15:relu")))
        if not name:
            layers.append(int(width))
            continue
        try:
            act = activations.get(name).name  # aliases and any case: "Swish" -> "silu"
        except ValueError:
            act = ""
        if act not in activations.DENSE_NAMES:
            raise argparse.ArgumentTypeError(str(invalid(
                "--hidden", item, "width:activation with an activation from kerasact.activations.DENSE_NAMES",
                fix=did_you_mean(name, activations.DENSE_NAMES).strip()))
                + "\nvalid activations: " + ", ".join(activations.DENSE_NAMES))
        layers.append((int(width), act))
    return layers


def concept_parser(doc: str, *, epochs: int | None = None, lr: float | None = None,
                   quick_help: str = "a smoke run in seconds") -> argparse.ArgumentParser:
    """The flags of a concept recipe: `--seed --logdir --quick --verbose`, plus `--epochs`/`--lr` when given.

    Example:
        >>> concept_parser("Title: Demo", epochs=5).parse_args([]).epochs
        5
    """
    p = script_parser(doc)
    if epochs is not None:
        p.add_argument("--epochs", type=int, default=epochs, help=f"training epochs (default {epochs})")
    if lr is not None:
        p.add_argument("--lr", type=float, default=lr, help=f"learning rate (default {lr})")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--logdir", default="runs", help="parent folder of run directories (default runs)")
    p.add_argument("--quick", action="store_true", help=quick_help)
    return p


def recipe_parser(doc: str, *, epochs: int, batch_size: int, hidden: str, activation: str,
                  lr: float) -> argparse.ArgumentParser:
    """The flags every main-job recipe takes, with that recipe's defaults.

    Example:
        >>> recipe_parser(
        ...     "Title: Demo", epochs=10, batch_size=32, hidden="8", activation="relu", lr=1e-3
        ... ).parse_args(["--quick"]).quick
        True
    """
    p = script_parser(doc)
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
        ...     recipe.run(main, __doc__, epochs=EPOCHS, batch_size=32, hidden="16,8", activation="relu", lr=1e-3)
    """
    args = recipe_parser(doc, **defaults).parse_args()
    out = main(epochs=args.epochs, batch_size=args.batch_size, hidden=args.hidden, activation=args.activation,
               lr=args.lr, seed=args.seed, logdir=args.logdir, quick=args.quick)
    sys.exit(0 if out["passed"] or args.quick else 1)


def tensorboard_command(logdir: str | os.PathLike) -> str:
    """The command that opens `logdir` in TensorBoard, runnable as printed without activating the venv.

    It names the `tensorboard` script installed next to this Python (relative to the current
    folder when it lies inside it), else runs TensorBoard through this Python.

    Example:
        >>> tensorboard_command("runs")  # doctest: +SKIP
        '.venv/bin/tensorboard --logdir runs'
    """
    script = Path(sys.executable).with_name("tensorboard")  # not resolved: a venv's python is a symlink
    if script.is_file():
        relative = os.path.relpath(script)
        exe = relative if not relative.startswith("..") else os.fspath(script)
        exe = exe if os.sep in exe else os.path.join(".", exe)
        command = [exe]
    else:
        command = [sys.executable, "-m", "tensorboard.main"]
    return shlex.join([*command, "--logdir", os.fspath(logdir)])


def report(title: str, rows: Sequence[Row], run_dir: Path | None) -> str:
    """The closing table of a recipe, plus where the run is and how to open it in TensorBoard."""
    lines = [f"\n{title}", f"{'metric':<12} {'kerasact':>9} {'baseline':>9}  {'baseline model':<22} {'target':<10} ok"]
    for r in rows:
        base = f"{r.baseline:9.4f}" if r.baseline is not None else f"{'-':>9}"
        ok = {True: "yes", False: "NO", None: ""}[r.passed]
        lines.append(f"{r.metric:<12} {r.model:9.4f} {base}  {r.baseline_name:<22} {r.target:<10} {ok}")
    if run_dir is not None:
        lines += [f"run directory: {run_dir}",
                  *([f"report:        {Path(run_dir) / 'report.html'}"] if (Path(run_dir) / "report.html").is_file()
                    else []),
                  f"inspect it:    {tensorboard_command(Path(run_dir).parent.parent)}"]
    text = "\n".join(lines)
    print(text, flush=True)
    return text
