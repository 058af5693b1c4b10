"""The main job: train the regression, binary, multi-class and penguins (raw table) recipes at
full settings and print one summary table; each run leaves its `report.html`, and the log
directory one page comparing them. Exits non-zero if any recipe misses its target.

Run: `python -m recipes` (`--quick` for a smoke run, `--logdir DIR` to choose where runs go,
`--verbose` to see TensorFlow's own log lines).
"""

from kerasact.cli import recipe

if __name__ == "__main__":  # before TensorFlow loads: its own log lines only with --verbose
    recipe.quiet_tensorflow()

import sys
import time

from kerasact import report
from recipes import binary, multiclass, penguins, regression

RECIPES = {"regression": regression, "binary": binary, "multiclass": multiclass, "penguins": penguins}


def main(logdir: str = "runs", quick: bool = False) -> list[dict]:
    results = []
    for recipe_module in RECIPES.values():
        started = time.perf_counter()
        print(f"\n== {recipe_module.__name__.split('.')[-1]}", flush=True)
        out = recipe_module.main(logdir=logdir, quick=quick, verbose="auto")  # a few progress lines each
        out["seconds"] = time.perf_counter() - started
        results.append(out)
    print("\nSummary (test set)")
    print(f"{'recipe':<11} {'metric':<9} {'kerasact':>9} {'baseline':>9} {'target met':>10} {'seconds':>8}  "
          "run directory")
    for r in results:
        print(f"{r['recipe']:<11} {r['metric']:<9} {r['value']:9.4f} {r['baseline']:9.4f} "
              f"{'yes' if r['passed'] else 'NO':>10} {r['seconds']:8.1f}  {r['run_dir']}")
    print("\nEach run's page:              <run directory>/report.html")
    print(f"All runs side by side:        {report.compare(logdir)}")
    print(f"Open all runs in TensorBoard:  {recipe.tensorboard_command(logdir)}")
    return results


if __name__ == "__main__":
    parser = recipe.script_parser(__doc__)
    parser.add_argument("--logdir", default="runs", help="parent folder of run directories (default runs)")
    parser.add_argument("--quick", action="store_true", help="a few epochs per recipe: a smoke run")
    args = parser.parse_args()
    results = main(args.logdir, args.quick)
    sys.exit(0 if args.quick or all(r["passed"] for r in results) else 1)
