"""
Title: Every activation function and its derivative
Description: The activation catalog drawn as a grid (function solid, derivative dashed),
each derivative checked against central differences, and a softmax turning random scores
into probabilities that sum to 1.

The catalog in `kerasact.activations` keeps, for every Keras activation, a numpy twin and
its derivative; this recipe plots them all from that one table, so a new row shows up
here by itself. Softmax is not elementwise (each output depends on every score), so it
gets its own chart. Numpy and matplotlib only: no TensorFlow is imported.

Run: `python -m recipes.activations`.
"""

"""
## Setup
"""
import sys

import numpy as np

from kerasact import activations, plots, reference
from kerasact.cli import recipe
from kerasact.training import runs

X_RANGE = (-5.0, 5.0)
N_POINTS = 401  # grid for the plots
N_CHECK = 41  # points per activation for the derivative check (quick mode: fewer)
N_SCORES = 6
SCORE_SCALE = 2.0  # spread of the random scores, wide enough for a clear winner
SUM_TOLERANCE = 1e-6
DERIVATIVE_TOLERANCE = 1e-5  # central differences with h = 1e-4 are good to ~1e-8 here
KINK_MARGIN = 1e-3  # finite differences straddling a kink measure neither side's slope


def derivative_errors(rows: list[activations.Activation], x: np.ndarray) -> dict[str, float]:
    """Max |catalog derivative - central difference| per row, away from its kinks."""
    errors = {}
    for row in rows:
        smooth = x[np.all(np.abs(x[:, None] - np.array(row.kinks or [np.inf])) > KINK_MARGIN,
                          axis=1)]
        errors[row.name] = float(np.max(np.abs(row.derivative(smooth)
                                               - reference.numerical_diff(row.fn, smooth))))
    return errors


def main(seed: int = 0, logdir: str = "runs", quick: bool = False) -> dict:
    run_dir = runs.new_run_dir(logdir, "activations")

    """
    ## Plot every activation that has an elementwise derivative
    """
    rows = [row for row in activations.CATALOG.values() if row.derivative is not None]
    x = np.linspace(*X_RANGE, N_POINTS)
    grid = plots.activation_grid({row.name: (row.fn, row.derivative) for row in rows}, x=x)
    plots.save_png(grid, run_dir / "activation_grid.png")

    """
    ## Check each derivative against central differences
    """
    # An irrational offset keeps the points off the kinks, which sit at integers and halves.
    check = np.linspace(*X_RANGE, 11 if quick else N_CHECK) + 1 / np.pi
    errors = derivative_errors(rows, check)
    worst = max(errors, key=errors.get)
    print(f"{len(rows)} activations plotted; worst derivative error {errors[worst]:.2e} ({worst})")

    """
    ## Softmax: scores in, probabilities out
    """
    scores = np.random.default_rng(seed).normal(0.0, SCORE_SCALE, N_SCORES)
    probabilities = reference.softmax(scores)
    total = float(probabilities.sum())
    plots.save_png(plots.softmax_bars(scores, probabilities,
                                      [f"class {i}" for i in range(N_SCORES)]),
                   run_dir / "softmax_bars.png")
    print(f"softmax of {np.round(scores, 2).tolist()} -> {np.round(probabilities, 3).tolist()}, "
          f"sum = {total:.12f}")

    passed = abs(total - 1.0) <= SUM_TOLERANCE and errors[worst] <= DERIVATIVE_TOLERANCE
    runs.write_json(run_dir / "metrics.json", {
        "activations_plotted": [row.name for row in rows], "derivative_errors": errors,
        "worst_derivative_error": errors[worst], "softmax_scores": scores,
        "softmax_probabilities": probabilities, "softmax_sum": total, "passed": passed,
        "seed": seed, "versions": runs.library_versions()})
    print(f"passed: {passed}  run directory: {run_dir}")
    return {"recipe": "activations", "metric": "softmax_sum", "value": total, "passed": passed,
            "run_dir": run_dir, "n_plotted": len(rows), "worst_derivative_error": errors[worst]}


if __name__ == "__main__":
    args = recipe.concept_parser(__doc__, quick_help="fewer derivative check points").parse_args()
    sys.exit(0 if main(args.seed, args.logdir, args.quick)["passed"] else 1)
