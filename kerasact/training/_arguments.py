"""`train`'s arguments, all checked before any work or disk write, in kerasact's one voice.

Each check raises a `ValueError`/`TypeError` naming the argument, the value, what is valid
and the fix, instead of the late, foreign error the same mistake gives further down
(scikit-learn's `InvalidParameterError` for a bad seed, an `AttributeError` for a callback
that is not one, a silent no-op for `epochs=-1`).
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np

from kerasact import _errors, data
from kerasact.problems import require_compiled

MAX_SEED = 2**32 - 1  # scikit-learn's random_state and numpy's legacy seeding stop here
VERBOSE = ("auto", 0, 1, 2)  # model.fit's values


def check_train_arguments(model: Any, *, epochs: Any, batch_size: Any, log_dir: Any, recipe: Any, run_dir: Any,
                          val_size: Any, test_size: Any, seed: Any, patience: Any, class_weight: Any,
                          hparams: Any, callbacks: Any, verbose: Any, backup: Any = True,
                          diagnostics: Any = True) -> None:
    """Refuse any bad argument of `train` before it starts (X, y and sample_weight are `validate`'s).

    Example:
        >>> check_train_arguments(model, epochs=0, batch_size=32, ...)  # doctest: +SKIP
        ValueError: epochs=0 is not valid: expected an int >= 1.
    """
    if not isinstance(model, keras.Model):
        raise _errors.invalid("model", model, "a compiled keras.Model", "build one with kerasact.build_model(...)",
                              kind=TypeError)
    require_compiled(model)
    check_run_arguments(epochs=epochs, batch_size=batch_size, log_dir=log_dir, recipe=recipe, run_dir=run_dir,
                        val_size=val_size, test_size=test_size, seed=seed, patience=patience,
                        class_weight=class_weight, hparams=hparams, callbacks=callbacks, verbose=verbose,
                        backup=backup, diagnostics=diagnostics)


def check_run_arguments(*, epochs: Any, batch_size: Any, log_dir: Any, recipe: Any, run_dir: Any, val_size: Any,
                        test_size: Any, seed: Any, patience: Any, class_weight: Any, hparams: Any, callbacks: Any,
                        verbose: Any, backup: Any = True, diagnostics: Any = True) -> None:
    """`train`'s arguments other than the model and the data (what `train_table` checks before building).

    Example:
        >>> check_run_arguments(epochs=0, ...)  # doctest: +SKIP
        ValueError: epochs=0 is not valid: expected an int >= 1.
    """
    _errors.check_int("epochs", epochs, minimum=1)
    _errors.check_int("batch_size", batch_size, minimum=1)
    _errors.check_bool("backup", backup)
    if not isinstance(diagnostics, bool) and not (isinstance(diagnostics, numbers.Integral) and diagnostics >= 1):
        raise _errors.invalid("diagnostics", diagnostics, "True (epochs 1, 2, 4, 8, ...), False, or an int >= 1 "
                              "(every N-th epoch)", kind=TypeError if not isinstance(diagnostics, int) else ValueError)
    _errors.check_path("log_dir", log_dir, none=True)
    _errors.check_path("run_dir", run_dir, none=True)
    if not isinstance(recipe, str) or not recipe or os.sep in recipe or recipe in (".", ".."):
        raise _errors.invalid("recipe", recipe, "a plain folder name such as 'binary'",
                              kind=ValueError if isinstance(recipe, str) else TypeError)
    _errors.check_number("val_size", val_size, minimum=0, maximum=1, open_low=True, open_high=True)
    _errors.check_number("test_size", test_size, minimum=0, maximum=1, open_low=True, open_high=True)
    if val_size + test_size >= 1:
        raise _errors.invalid("val_size + test_size", val_size + test_size, "below 1, to leave rows to train on",
                              f"lower val_size={val_size} or test_size={test_size}")
    _errors.check_int("seed", seed, minimum=0, maximum=MAX_SEED)
    _errors.check_int("patience", patience, minimum=0, none=True)
    _check_class_weight(class_weight)
    _check_hparams(hparams)
    _check_callbacks(callbacks)
    _errors.check_choice("verbose", verbose, VERBOSE)


def _check_class_weight(class_weight: Any) -> None:
    modes = sorted(data.CLASS_WEIGHT_MODES)
    expected = f"None, one of {modes}, or a dict {{class index: weight}}"
    if class_weight is None or isinstance(class_weight, Mapping):
        for key, weight in (class_weight or {}).items():
            if isinstance(key, bool) or not isinstance(key, numbers.Integral):
                raise _errors.invalid("class_weight", class_weight, expected, "key it by class index (0..k-1)")
            _errors.check_number(f"class_weight[{key}]", weight, minimum=0)
        return
    if isinstance(class_weight, str):
        if class_weight not in data.CLASS_WEIGHT_MODES:
            raise _errors.invalid("class_weight", class_weight, expected, options=modes)
        return
    raise _errors.invalid("class_weight", class_weight, expected, kind=TypeError)


def _check_hparams(hparams: Any) -> None:
    if hparams is None:
        return
    if not isinstance(hparams, Mapping):
        raise _errors.invalid("hparams", hparams, "None or a dict {name: value}", kind=TypeError)
    for name, value in hparams.items():
        # TensorBoard's HParams dashboard takes these scalar types only.
        if not isinstance(name, str) or not isinstance(value, (str, bool, numbers.Real)):
            raise _errors.invalid(f"hparams[{name!r}]", value, "a str, bool, int or float keyed by a str name",
                                  kind=TypeError)
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isfinite(value):
            raise _errors.invalid(f"hparams[{name!r}]", value, "a finite number")


def _check_callbacks(callbacks: Any) -> None:
    if isinstance(callbacks, keras.callbacks.Callback):
        raise _errors.invalid("callbacks", callbacks, "a list of keras.callbacks.Callback",
                              "wrap it in a list: callbacks=[...]", kind=TypeError)
    if not isinstance(callbacks, Sequence) or isinstance(callbacks, str):
        raise _errors.invalid("callbacks", callbacks, "a list of keras.callbacks.Callback", kind=TypeError)
    for i, callback in enumerate(callbacks):
        if not isinstance(callback, keras.callbacks.Callback):
            raise _errors.invalid(f"callbacks[{i}]", callback, "a keras.callbacks.Callback",
                                  "subclass keras.callbacks.Callback or use keras.callbacks.LambdaCallback",
                                  kind=TypeError)


def part_sizes(n: int, *, val_size: float, test_size: float) -> tuple[int, int, int]:
    """(train, validation, test) rows out of `n`, rounded as scikit-learn's `train_test_split` does.

    Example:
        >>> part_sizes(100, val_size=0.15, test_size=0.15)
        (69, 16, 15)
    """
    n_test = math.ceil(test_size * n)
    n_val = math.ceil(val_size / (1.0 - test_size) * (n - n_test))
    return n - n_test - n_val, n_val, n_test


def check_rows(n: int, y_classes: np.ndarray | None, *, val_size: float, test_size: float,
               names: np.ndarray | None = None) -> None:
    """Enough rows, and of every class, for a train/validation/test split with these sizes.

    Args:
        n: rows of X.
        y_classes: one class index per row (classification), or None (regression, multilabel).
        names: the original label of each class index, for the message.
        val_size: validation fraction.
        test_size: test fraction.

    Example:
        >>> check_rows(3, np.array([0, 1, 0]), val_size=0.15, test_size=0.15)
        Traceback (most recent call last):
        ...
        ValueError: y: class index 1 has 1 sample(s), but a train/validation/test split with ...
    """
    needed = next(m for m in range(3, 10**6) if min(part_sizes(m, val_size=val_size, test_size=test_size)) >= 1)
    if n < needed:
        raise ValueError(f"X has {n} row(s), too few to split into train, validation and test "
                         f"(val_size={val_size}, test_size={test_size}): pass at least {needed} rows.")
    if y_classes is None:
        return
    # Each part should expect at least one sample of every class.
    per_class = math.ceil(1.0 / min(test_size, val_size, 1.0 - test_size - val_size) - 1e-9)
    classes, counts = np.unique(y_classes, return_counts=True)
    if counts.min() < per_class:
        rare = classes[counts.argmin()]
        label = f"class {names[rare].item()!r}" if names is not None else f"class index {rare}"
        raise ValueError(f"y: {label} has {counts.min()} sample(s), but a "
                         f"train/validation/test split with val_size={val_size}, test_size={test_size} needs "
                         f"{per_class} of every class. Add samples of it, drop it, or raise val_size and test_size.")
