"""Static model checks behind `kerasact.testing`: output contract, numpy-reference parity,
gradients, finiteness, TensorBoard tags. Each raises `AssertionError` saying what was expected,
what was found and the likely cause; usage errors raise `ValueError`/`TypeError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import keras
import numpy as np

from kerasact import _errors, activations, problems, reference, runtime
from kerasact.diagnose import gradcheck
from kerasact.testing._expect import activation_mismatch, check_model, expectation, probabilities, read_head
from kerasact.training import tensorboard as tblog

# Probabilities compared with 1 in float32: summing k rounded terms errs by about k * 6e-8.
ROW_SUM_ATOL = 1e-5


def _outputs(model: keras.Model, X: Any, info: problems.ModelHead) -> np.ndarray:
    # kerasact.predict applies the head's link when the model was built with logits=True.
    known = info.loss is not None or info.from_logits
    return runtime.predict(model, X) if known else probabilities(model, X, info)


def _units_rule(head: problems.Head) -> str:
    return f"exactly {head.fixed_units}" if head.fixed_units else f">= {head.min_count}"


def assert_output_contract(model: keras.Model, X: Any, problem: str | None = None) -> None:
    """Outputs have the head's shape, range and row sums, are finite, and the output layer
    applies the head's activation.

    Args:
        model: a compiled model (its loss tells the problem type) or any model with `problem`.
        X: inputs, shape `(n, features)`.
        problem: the problem type; inferred with `kerasact.head_of` when None.

    Example:
        >>> assert_output_contract(kerasact.build_model("multiclass", 4, n_classes=3), X)  # doctest: +SKIP
    """
    __tracebackhide__ = True
    check_model(model)
    info = read_head(model, problem)
    head, rule = info.head, expectation(info.head)
    out = _outputs(model, X, info)
    act = activations.get(head.activation)
    broken = []
    units_ok = (out.shape[-1] == head.fixed_units if head.fixed_units else out.shape[-1] >= head.min_count)
    if out.ndim != 2 or len(out) != len(X) or not units_ok:
        broken.append(f"shape {out.shape}, expected ({len(X)}, units) with units {_units_rule(head)} "
                      f"({head.description}) — is the output layer built for problem {head.name!r}?")
    finite = np.isfinite(out)
    if not finite.all():
        broken.append(f"{int((~finite).sum())} of {out.size} outputs are NaN/inf, expected all finite "
                      "— NaN weights (see assert_finite), NaN inputs, or an overflowing activation")
    lo, hi = act.output_range
    seen = out[finite]
    if seen.size and (seen.min() < lo or seen.max() > hi):
        broken.append(f"outputs span [{seen.min():.3g}, {seen.max():.3g}], outside [{lo:g}, {hi:g}] "
                      f"of a {act.name} head — is the output layer {act.name}?")
    if rule.row_sum is not None and out.ndim == 2 and finite.all():
        sums = out.sum(axis=-1)
        worst = int(np.argmax(np.abs(sums - rule.row_sum)))
        if abs(sums[worst] - rule.row_sum) > ROW_SUM_ATOL:
            broken.append(f"{act.name} rows sum to {sums[worst]:.2f} instead of {rule.row_sum:g} "
                          f"(row {worst}) — is the output layer {act.name}?")
    mismatch = activation_mismatch(model, info)
    if mismatch:
        broken.append(mismatch)
    if broken:
        raise AssertionError(f"output contract of problem {head.name!r} broken:\n  - " + "\n  - ".join(broken))


def assert_matches_reference(model: keras.Model, X: Any, atol: float = 1e-5, *, rtol: float = 1e-5) -> None:
    """Keras's output equals `kerasact.reference.forward` (numpy, float64) within
    `atol + rtol * |reference|`.

    Example:
        >>> assert_matches_reference(model, X[:32])  # doctest: +SKIP
    """
    __tracebackhide__ = True
    check_model(model)
    _errors.check_number("atol", atol, minimum=0)
    _errors.check_number("rtol", rtol, minimum=0)
    expected = reference.forward(model, X)
    actual = np.asarray(model.predict_on_batch(np.asarray(X, dtype=np.float32)), dtype=np.float64)
    if actual.shape != expected.shape:
        raise AssertionError(f"Keras output shape {actual.shape} differs from the numpy reference's "
                             f"{expected.shape} — a layer the reference reads differently from Keras?")
    excess = np.abs(actual - expected) - (atol + rtol * np.abs(expected))
    if np.isnan(excess).any() or (excess > 0).any():
        at = np.unravel_index(int(np.nanargmax(np.where(np.isnan(excess), np.inf, excess))), excess.shape)
        raise AssertionError(
            f"Keras output differs from the numpy reference at {tuple(int(i) for i in at)}: Keras "
            f"{actual[at]:.6g}, numpy {expected[at]:.6g} (allowed {atol:g} + {rtol:g} * |numpy|) — a "
            "layer whose call() does more than its config says (a custom subclass), or a Keras bug "
            "(see kerasact.activations.KERAS_DEVIATIONS)")


def assert_gradients_match(model: keras.Model, X: Any, y: Any, rtol: float = 1e-4, *,
                           max_per_weight: int = 20) -> None:
    """TensorFlow's gradients of the compiled loss equal central differences (float64) on
    `max_per_weight` coordinates of every weight, via `kerasact.check_gradients`;
    the message names the worst weight.

    Example:
        >>> assert_gradients_match(model, X[:16], y[:16])  # doctest: +SKIP
    """
    __tracebackhide__ = True
    check_model(model)
    _errors.check_number("rtol", rtol, minimum=0)
    _errors.check_int("max_per_weight", max_per_weight, minimum=1)
    report = gradcheck.check_gradients(model, X, y, max_per_weight=max_per_weight)
    bad = sorted(((err, path) for path, err in report.per_weight.items() if err > rtol), reverse=True)
    if bad:
        listed = ", ".join(f"{path} ({err:.2g})" for err, path in bad)
        raise AssertionError(
            f"autodiff gradients disagree with central differences: worst weight {bad[0][1]!r} has "
            f"relative error {bad[0][0]:.3g}, expected <= {rtol:g} (failing: {listed}; "
            f"{report.n_checked} coordinates checked) — a custom layer or loss whose gradient is wrong "
            "or cut (tf.stop_gradient, numpy inside call(), a cast to int)")


def assert_finite(model: keras.Model, X: Any) -> None:
    """No NaN/inf in the model's weights, in `X` or in the outputs; names the offending weights.

    Example:
        >>> assert_finite(result.model, X_test)  # doctest: +SKIP
    """
    __tracebackhide__ = True
    check_model(model)
    bad = []
    for weight in model.weights:
        value = np.asarray(weight)  # convert_to_numpy would raise NumPy 2's copy= DeprecationWarning
        if np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all():
            bad.append(f"{weight.path} ({int((~np.isfinite(value)).sum())} of {value.size} NaN/inf)")
    if bad:
        raise AssertionError(f"{len(bad)} weight(s) hold NaN/inf, expected all finite: {', '.join(bad)} "
                             "— training diverged (learning rate too high? add "
                             "keras.callbacks.TerminateOnNaN), or NaN in the training data")
    bad_x = ~np.isfinite(np.asarray(X, dtype=np.float64))
    # Checked apart from the outputs: a fused matmul+ReLU may turn NaN into 0 (oneDNN does, Eigen not).
    if bad_x.any():
        rows = np.flatnonzero(bad_x.reshape(len(bad_x), -1).any(axis=1))[:5].tolist()
        raise AssertionError(f"X holds {int(bad_x.sum())} NaN/inf value(s) (rows {rows}...), expected "
                             "all finite — missing values in the data: impute or drop them")
    out = np.asarray(model.predict_on_batch(np.asarray(X, dtype=np.float32)))
    if not np.isfinite(out).all():
        raise AssertionError(f"{int((~np.isfinite(out)).sum())} of {out.size} outputs are NaN/inf, expected "
                             "all finite — weights and X are finite, so an activation overflows "
                             "(exponential? unscaled inputs?)")


def assert_tensorboard_logged(log_dir: str | os.PathLike, tags: str | Iterable[str]) -> None:
    """Event files under `log_dir` hold every scalar tag in `tags` (read with TensorBoard's
    own reader). A tag matches in any run folder; `"validation/epoch_loss"` names the folder.

    Example:
        >>> assert_tensorboard_logged(result.run_dir, ["epoch_loss", "validation/epoch_loss"])  # doctest: +SKIP
    """
    __tracebackhide__ = True
    _errors.check_path("log_dir", log_dir)
    tags = [tags] if isinstance(tags, str) else list(tags)
    found = tblog.read_scalars(log_dir) if os.path.isdir(log_dir) else {}
    available = {tag for run in found.values() for tag in run}
    available |= {f"{name}/{tag}" for name, run in found.items() for tag in run}
    missing = [tag for tag in tags if tag not in available]
    if not found:
        raise AssertionError(f"no TensorBoard event files under {os.fspath(log_dir)!r}, expected "
                             f"scalars {tags} — did training run with a TensorBoard callback "
                             "(kerasact.train(..., log_dir=...))?")
    if missing:
        listing = "; ".join(f"{name}: {sorted(run)}" for name, run in sorted(found.items()))
        raise AssertionError(f"scalar tags {missing} not found under {os.fspath(log_dir)!r}; found "
                             f"{listing} — a metric not compiled, or logged under another name")
