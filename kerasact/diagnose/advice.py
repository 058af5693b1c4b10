"""Warnings that teach, from the probes of a run: one rule per way a network stops learning.

Each rule in `RULES` reads the run's probes (`timeline`: one per probed epoch; `final`: the
trained model's) and says what it sees and the fix, as a `Finding` (the same shape lint uses).
The thresholds are module constants, documented in the README's "Training diagnostics":

- `dead-units`: at least `DEAD_FRACTION` of a layer's ReLU-family units are dead;
- `saturated-units`: at least `SATURATED_FRACTION` of a layer's sigmoid/tanh-family units are
  saturated (on `health.SATURATED_ROWS` of the probe rows);
- `vanishing-gradients`: the first Dense's gradient norm is below `VANISHING_RATIO` of the head's,
  in the median of the run's probes (before the first step, the probed epochs and the end: as
  the head fits, its own gradient shrinks and the ratio of a vanishing stack rises late on),
  unless dead units explain it (then `dead-units` fires alone, with its own fix).

Gradients that explode end in a NaN/inf loss, which `train` stops at once with its own advice
(`StopOnNaN`); this ratio does not show them early (large weights scale the forward and the
backward pass alike), so there is no rule for them here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kerasact.diagnose.health import LayerHealth, Probe
from kerasact.diagnose.linting import Finding

DEAD_FRACTION = 0.5  # this share of a layer's ReLU-family units dead earns a warning
SATURATED_FRACTION = 0.5  # this share of a layer's sigmoid/tanh-family units saturated earns one
VANISHING_RATIO = 1e-3  # ||dL/dW|| of the first Dense below this times the head's: vanishing

Timeline = Sequence[tuple[int, Probe]]  # (epochs done, probe), in order; 0: before the first step
Problems = list[tuple[str | None, str]]  # (layer at fault, message)


@dataclass(frozen=True)
class HealthRule:
    """One row of `RULES`: a check over the run's probes and the advice for what it finds."""

    check: Callable[[Timeline, Probe], Problems]
    fix: str


def _since(timeline: Timeline, layer: str, limit: float) -> int | None:
    """The first probed epoch from which `layer` stayed at or above `limit` to the end."""
    since = None
    for epoch, found in timeline:
        site = next((s for s in found.sites if s.layer == layer), None)
        stalled = site is not None and site.stalled is not None and site.stalled >= limit
        since = (epoch if since is None else since) if stalled else None
    return since


def _stalled(kind: str, limit: float, what: str) -> Callable[[Timeline, Probe], Problems]:
    def check(timeline: Timeline, final: Probe) -> Problems:
        found = []
        for site in final.sites:
            if site.kind != kind or site.stalled is None or site.stalled < limit:
                continue
            since = _since(timeline, site.layer, limit)
            when = ("from the start" if since == 0 else f"after epoch {since}" if since is not None
                    else "at the end of training")
            found.append((site.layer, f"{site.stalled:.0%} of {site.layer}'s {site.activation} units are {kind} "
                          f"{when}: {what(site)}."))
        return found
    return check


def _vanishing(timeline: Timeline, final: Probe) -> Problems:
    ratios = [p.gradient_ratio for p in [*(p for _, p in timeline), final] if p.gradient_ratio is not None]
    if not ratios or float(np.median(ratios)) >= VANISHING_RATIO:
        return []
    if any(s.kind == "dead" and s.stalled >= DEAD_FRACTION for s in final.sites):
        return []  # dead units cut the gradient: `dead-units` says so, with the fix that applies
    ratio = float(np.median(ratios))
    first, head = next(iter(final.gradients)), list(final.gradients)[-1]
    acts = "+".join(dict.fromkeys(s.activation for s in final.sites)) or "linear"
    seen = f"in the median of {len(ratios)} probes" if len(ratios) > 1 else "in the trained model"
    return [(first, f"gradients into {first} are {ratio:.1e} times those into the head ({head}) {seen}: "
             f"the {acts} stack is vanishing, so its first layers barely learn.")]


def _dead_words(site: LayerHealth) -> str:
    return "they output 0 for every probe row, so no gradient reaches them and they cannot recover"


def _saturated_words(site: LayerHealth) -> str:
    return f"|z| is so large on most probe rows that the {site.activation} slope is almost 0, so they barely learn"


RULES: dict[str, HealthRule] = {
    "dead-units": HealthRule(
        _stalled("dead", DEAD_FRACTION, _dead_words),
        "Lower the learning rate (or, dead from the start, check the initial biases), or use 'leaky_relu' or "
        "'gelu', which have no flat region."),
    "saturated-units": HealthRule(
        _stalled("saturated", SATURATED_FRACTION, _saturated_words),
        "Scale the inputs (normalize=True) if they are not, lower the learning rate or the initial weights, or "
        "use 'relu'."),
    "vanishing-gradients": HealthRule(
        _vanishing, "Use a non-saturating activation such as 'relu' or 'gelu', add batch_norm=True, or use fewer "
        "layers."),
}


def advise(timeline: Timeline, final: Probe) -> list[Finding]:
    """Every rule's findings on a run's probes, in `RULES` order.

    Example:
        >>> [f.code for f in advise([], probe(model, X, y))]  # doctest: +SKIP
        ['vanishing-gradients']
    """
    return [Finding(code, layer, message, rule.fix) for code, rule in RULES.items()
            for layer, message in rule.check(timeline, final)]
