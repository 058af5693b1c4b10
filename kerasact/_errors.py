"""One voice for argument errors: every public entry point words a bad argument the same way.

A message names the argument, echoes the value received, says what is valid (read from the
table that decides it, never a second hand-typed list) and how to fix it, with a "did you
mean" for near-miss names, in at most `MAX_MESSAGE` characters. Numpy-free and TensorFlow-free,
so every wing can use it.

Example:
    >>> raise invalid("verbose", "loud", "one of 'auto', 0, 1, 2")
    Traceback (most recent call last):
    ...
    ValueError: verbose='loud' is not valid: expected one of 'auto', 0, 1, 2.
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
from collections.abc import Iterable
from typing import Any

MAX_MESSAGE = 300  # characters; a message longer than this is cut with an ellipsis


def shown(value: Any, limit: int = 60) -> str:
    """`repr(value)`, shortened to `limit` characters so a huge argument cannot flood a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def did_you_mean(value: Any, options: Iterable[str]) -> str:
    """`" Did you mean 'x'?"` for the closest option to a near-miss string, else `""`.

    Example:
        >>> did_you_mean("balance", ["balanced", "uniform"])
        " Did you mean 'balanced'?"
    """
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value.strip().lower(), [str(o) for o in options], n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def listed(options: Iterable[str], value: Any = None, *, where: str = "", limit: int = 140, n: int = 5) -> str:
    """The valid options for a message: all of them when they fit in `limit` characters, else
    the closest few to `value` and where the full list lives (a message stays short).

    Example:
        >>> listed(["adam", "sgd"])
        "['adam', 'sgd']"
        >>> listed([f"opt{i}" for i in range(40)], "opt3", where="kerasact.OPTIMIZERS")
        "['opt3', 'opt39', 'opt38', 'opt37', 'opt36', ...] (40 in all: kerasact.OPTIMIZERS)"
    """
    options = sorted(str(o) for o in options)
    full = repr(options)
    if len(full) <= limit:
        return full
    probe = value.strip().lower() if isinstance(value, str) else ""
    close = difflib.get_close_matches(probe, options, n=n, cutoff=0.0) if probe else options[:n]
    return repr(close)[:-1] + f", ...] ({len(options)} in all{': ' + where if where else ''})"


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def invalid(arg: str, value: Any, expected: str, fix: str = "", *, options: Iterable[str] = (),
            kind: type[Exception] = ValueError) -> Exception:
    """The error to raise for a bad argument: `arg=value is not valid: expected ...; fix.`

    Args:
        arg: the argument's name as the caller wrote it.
        value: what was received (shown shortened).
        expected: what is valid, read from the deciding table where there is one.
        fix: what to do instead (optional).
        options: names to suggest a near miss from ("did you mean").
        kind: `ValueError` (a bad value) or `TypeError` (a wrong type).

    Example:
        >>> str(invalid("class_weight", "balance", "'balanced', 'uniform' or a dict", options=["balanced"]))
        "class_weight='balance' is not valid: expected 'balanced', 'uniform' or a dict. Did you mean 'balanced'?"
    """
    got = f"{arg}={shown(value)}" if kind is ValueError else f"{arg}={shown(value)} ({type(value).__name__})"
    message = f"{got} is not valid: expected {expected}."
    if fix:
        message += f" {fix[0].upper()}{fix[1:]}" + ("" if fix.endswith((".", "?")) else ".")
    return kind(_short(message + did_you_mean(value, options)))


def check_int(arg: str, value: Any, *, minimum: int | None = None, maximum: int | None = None,
              none: bool = False) -> int | None:
    """`value` as an int within [minimum, maximum]; bools and floats are refused (2.5 epochs is a bug).

    Example:
        >>> check_int("epochs", 3, minimum=1)
        3
    """
    if value is None and none:
        return None
    bounds = _bounds(minimum, maximum)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise invalid(arg, value, f"an int{bounds}" + (" or None" if none else ""), kind=TypeError)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise invalid(arg, value, f"an int{bounds}")
    return int(value)


def check_number(arg: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
                 open_low: bool = False, open_high: bool = False, none: bool = False) -> float | None:
    """`value` as a finite float within its bounds (`open_*`: the bound itself excluded).

    Example:
        >>> check_number("val_size", 0.2, minimum=0, maximum=1, open_high=True)
        0.2
    """
    if value is None and none:
        return None
    low = "" if minimum is None else f"{'>' if open_low else '>='} {minimum:g}"
    high = "" if maximum is None else f"{'<' if open_high else '<='} {maximum:g}"
    bounds = f" {low}{' and ' if low and high else ''}{high}".rstrip()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise invalid(arg, value, f"a number{bounds}" + (" or None" if none else ""), kind=TypeError)
    number = float(value)
    if not math.isfinite(number) or (minimum is not None and (number < minimum or (open_low and number == minimum))) \
            or (maximum is not None and (number > maximum or (open_high and number == maximum))):
        raise invalid(arg, value, f"a finite number{bounds}")
    return number


def check_bool(arg: str, value: Any) -> bool:
    """`value` if it is exactly True or False (`1` and `"yes"` are refused: they hide typos).

    Example:
        >>> check_bool("normalize", True)
        True
    """
    if not isinstance(value, bool):
        raise invalid(arg, value, "True or False", kind=TypeError)
    return value


def check_choice(arg: str, value: Any, options: Iterable[Any]) -> Any:
    """`value` if it is one of `options` (listed in the message, with a did-you-mean).

    Example:
        >>> check_choice("verbose", 2, ["auto", 0, 1, 2])
        2
    """
    options = list(options)
    if isinstance(value, bool) or value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise invalid(arg, value, f"one of {listed}", options=[str(o) for o in options])
    return value


def check_path(arg: str, value: Any, *, none: bool = False) -> str | os.PathLike | None:
    """`value` if it is a `str` or `os.PathLike` (a folder or file name).

    Example:
        >>> check_path("log_dir", "runs")
        'runs'
    """
    if value is None and none:
        return None
    if not isinstance(value, (str, os.PathLike)) or (isinstance(value, str) and not value.strip()):
        raise invalid(arg, value, "a folder path (str or pathlib.Path)" + (" or None" if none else ""),
                      kind=TypeError if not isinstance(value, str) else ValueError)
    return value


def _bounds(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" >= {minimum}"
    return f" <= {maximum}" if maximum is not None else ""
