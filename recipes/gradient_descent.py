"""
Title: Gradient descent with numerical gradients
Description: Plain gradient descent x <- x - lr * grad f(x) on f(x0, x1) = x0² + x1², with
the gradient from central differences: a good learning rate, one far too small, one that
bounces forever and one that diverges; plus tangent lines from numerical derivatives.

Everything comes from `kerasact.reference`, the numpy oracle the library checks Keras
against: `numerical_gradient` perturbs one coordinate at a time, `gradient_descent` walks
downhill with it, and `numerical_diff` gives the slope of a one-variable function.
On f = x0² + x1² one step multiplies x by (1 - 2 lr): lr = 0.1 shrinks it by 0.8, lr = 1
flips its sign (a bounce that never ends), lr = 1.1 multiplies it by -1.2 (divergence).
No TensorFlow is imported.

Run: `python -m recipes.gradient_descent`.
"""

"""
## Setup
"""
import sys

import numpy as np

from kerasact import plots, reference
from kerasact.cli import recipe
from kerasact.training import runs

START = (-3.0, 4.0)
STEPS = 100
LEARNING_RATES = {"good": 0.1, "too_small": 1e-4, "bounces": 1.0, "diverges": 1.1}
MINIMUM_TOLERANCE = 1e-6
TANGENT_POINTS = (5.0, 10.0)
TANGENT_SLOPES = (0.2, 0.3)  # f'(x) = 0.02 x + 0.1, worked by hand
SLOPE_TOLERANCE = 1e-6


def bowl(x: np.ndarray) -> float:
    """f(x0, x1) = x0² + x1², minimum 0 at the origin."""
    return float(np.sum(np.square(x)))


def curve(x: np.ndarray) -> np.ndarray:
    """f(x) = 0.01 x² + 0.1 x."""
    return 0.01 * np.square(x) + 0.1 * x


def main(steps: int = STEPS, logdir: str = "runs", quick: bool = False) -> dict:
    # Every run here takes milliseconds: quick mode is the full recipe.
    run_dir = runs.new_run_dir(logdir, "gradient_descent")

    """
    ## Descend with four learning rates
    """
    outcomes = {}
    for name, lr in LEARNING_RATES.items():
        x, path = reference.gradient_descent(bowl, np.array(START), lr=lr, step_num=steps,
                                             return_path=True)
        distance = float(np.linalg.norm(x))
        outcomes[name] = {"lr": lr, "final_x": x, "distance_to_minimum": distance,
                          "final_f": bowl(x)}
        print(f"lr = {lr:<7g} after {steps} steps: x = {np.array2string(x, precision=4)}, "
              f"distance to (0, 0) = {distance:.4g}")
        if distance <= 2 * np.linalg.norm(START):  # a diverging path dwarfs any contour plot
            fig = plots.descent_path(lambda a, b: a**2 + b**2, path,
                                     title=f"lr = {lr:g}: distance left {distance:.3g}")
            plots.save_png(fig, run_dir / f"descent_path_{name}.png")

    """
    ## Tangent lines from numerical derivatives
    """
    slopes = [float(reference.numerical_diff(curve, p)) for p in TANGENT_POINTS]
    print(f"slopes of 0.01x² + 0.1x at x = {TANGENT_POINTS}: {np.round(slopes, 10).tolist()}")
    plots.save_png(plots.tangent_lines(curve, TANGENT_POINTS, slopes, x=np.arange(0.0, 20.0, 0.1)),
                   run_dir / "tangent_lines.png")

    good, small, bounce, diverge = (outcomes[k]["distance_to_minimum"] for k in LEARNING_RATES)
    start = float(np.linalg.norm(START))
    checks = {
        "good lr reaches the minimum": good <= MINIMUM_TOLERANCE,
        "tiny lr crawls": small > 0.9 * start,
        "lr = 1 bounces at the start's distance": abs(bounce - start) <= 1e-6 * start,
        "lr = 1.1 diverges": diverge > start * 1e3,
        "slopes match 0.02x + 0.1": all(abs(s - t) <= SLOPE_TOLERANCE
                                        for s, t in zip(slopes, TANGENT_SLOPES)),
    }
    passed = all(checks.values())
    for check, ok in checks.items():
        print(f"  {'ok' if ok else 'FAILED':>6}  {check}")
    runs.write_json(run_dir / "metrics.json", {
        "start": START, "steps": steps, "runs": outcomes, "tangent_points": TANGENT_POINTS,
        "slopes": slopes, "checks": checks, "passed": passed,
        "versions": runs.library_versions()})
    print(f"passed: {passed}  run directory: {run_dir}")
    return {"recipe": "gradient_descent", "metric": "distance_to_minimum", "value": good,
            "passed": passed, "run_dir": run_dir, "runs": outcomes, "slopes": slopes}


if __name__ == "__main__":
    parser = recipe.script_parser(__doc__)
    parser.add_argument("--steps", "--epochs", type=int, default=STEPS, dest="steps",
                        help=f"descent steps (default {STEPS})")
    parser.add_argument("--logdir", default="runs", help="parent folder of run directories (default runs)")
    parser.add_argument("--quick", action="store_true", help="same as the full run (it is instant)")
    args = parser.parse_args()
    sys.exit(0 if main(args.steps, args.logdir, args.quick)["passed"] else 1)
