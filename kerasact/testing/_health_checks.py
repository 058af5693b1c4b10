"""Training-health assertions behind `kerasact.testing`: no dead ReLU units, gradients that reach
the first layer. They probe the model as `train`'s diagnostics do (`kerasact.diagnose.health`),
with the same thresholds by default, and fail saying what they found and the fix."""

from __future__ import annotations

from typing import Any

import keras

from kerasact import _errors
from kerasact.diagnose import advice, health
from kerasact.inputs import validate
from kerasact.testing._expect import check_model, checked, read_head


def _fraction(name: str, value: Any) -> float:
    return float(_errors.check_number(name, value, minimum=0, maximum=1))


def assert_no_dead_units(model: keras.Model, X: Any, *, max_fraction: float = advice.DEAD_FRACTION) -> None:
    """No hidden ReLU-family layer has more than `max_fraction` of its units dead on `X`.

    A unit is dead when the activation's slope is 0 on every row of `X` (relu: z <= 0), so no
    gradient reaches it and it cannot recover. A model without ReLU-family layers (tanh,
    leaky_relu, gelu, ...) has none that can die, and passes.

    Args:
        model: a built model.
        X: inputs, e.g. a few hundred training rows.
        max_fraction: the share of a layer's units allowed dead. The default is where `train`'s
            diagnostics warn (0.5): a freshly initialised layer of 8 units often has one dead on a
            small X, so 0 fails healthy models at random.

    Example:
        >>> assert_no_dead_units(model, X_train[:256], max_fraction=0.2)  # doctest: +SKIP
    """
    __tracebackhide__ = True
    check_model(model)
    limit = _fraction("max_fraction", max_fraction)
    if not [site for site in health.sites(model) if site.kind == "dead"]:
        return  # no ReLU-family layer: no unit can die
    found = health.probe(model, validate(X, model=model).X)
    broken = [site for site in found.sites if site.kind == "dead" and site.stalled > limit]
    if broken:
        lines = [f"{s.layer}: {round(s.stalled * s.z.shape[1])} of {s.z.shape[1]} {s.activation} units "
                 f"({s.stalled:.0%}) are dead on all {found.rows} rows of X" for s in broken]
        raise AssertionError(f"Expected at most {limit:.0%} dead units per layer; " + "; ".join(lines)
                             + f" — {advice.RULES['dead-units'].fix}")


def assert_gradients_flow(model: keras.Model, X: Any, y: Any, *, min_ratio: float = advice.VANISHING_RATIO) -> None:
    """The gradient of the loss reaches the first Dense layer: its kernel's gradient norm is at
    least `min_ratio` times the head's, on `(X, y)`.

    Args:
        model: a compiled model with at least two Dense layers.
        X: inputs.
        y: labels, in any format `kerasact.validate` takes for the model's loss.
        min_ratio: the least ||dL/dW_first|| / ||dL/dW_head|| (default: where `train` warns).

    Example:
        >>> assert_gradients_flow(model, X[:256], y[:256])  # doctest: +SKIP
    """
    __tracebackhide__ = True
    check_model(model)
    min_ratio = float(_errors.check_number("min_ratio", min_ratio, minimum=0))
    if len(health.dense_layers(model)) < 2:
        raise ValueError(f"Argument 'model' ({model.name!r}) has one Dense layer: gradients have no layers to flow "
                         "through. assert_gradients_flow needs a hidden Dense layer before the head.")
    X, y = checked(model, read_head(model, None), X, y)
    found = health.probe(model, X, y)
    ratio = found.gradient_ratio
    if ratio < min_ratio:
        first, head = list(found.gradients)[0], list(found.gradients)[-1]
        acts = "+".join(dict.fromkeys(s.activation for s in found.sites)) or "linear"
        raise AssertionError(
            f"Expected the gradient norm into {first} to be at least {min_ratio:.1g} of the head's ({head}); "
            f"found {ratio:.2g} ({found.gradients[first]:.3g} vs {found.gradients[head]:.3g}) — the {acts} stack "
            f"is vanishing: {advice.RULES['vanishing-gradients'].fix}")
