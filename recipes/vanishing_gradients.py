"""
Title: Vanishing gradients: sigmoid, tanh and ReLU in the same deep MLP
Description: Eight hidden layers of 32 units on the breast-cancer data, trained three times with
only the hidden activation changed. kerasact's diagnostics measure the gradient norm into every
layer: through sigmoid the backward signal shrinks layer after layer, so the first layers barely
learn; tanh and ReLU pass it through.

Why: the backward pass multiplies, at every layer, by the activation's slope. Sigmoid's slope is
at most 0.25 (at z = 0) and vanishes away from 0, so eight layers scale the signal by at most
0.25^8 = 1.5e-5. tanh's slope is at most 1, ReLU's is exactly 1 for z > 0 (and 0 for z < 0,
where units can die, which the diagnostics also watch). Plain SGD shows the effect in the
learning curves; an adaptive optimizer such as Adam rescales each weight's step and hides it.

Run: `python -m recipes.vanishing_gradients` (add `--quick` for a few-second run).
"""

"""
## Setup
"""
from kerasact.cli import recipe

if __name__ == "__main__":  # before TensorFlow loads: its own log lines only with --verbose
    recipe.quiet_tensorflow()

import math
import sys
import warnings

import kerasact
from kerasact import data, plots
from kerasact.diagnose import LintWarning, advice, health
from kerasact.diagnose.monitor import TrainingWarning
from kerasact.model import layers as preprocessing
from kerasact.runtime import seed_everything
from kerasact.training import runs, tensorboard

ACTIVATIONS = ("sigmoid", "tanh", "relu")
DEPTH, WIDTH = 8, 32
EPOCHS = 40
QUICK_EPOCHS = 12
LEARNING_RATE = 0.05  # plain SGD: what the slopes do reaches the weights unrescaled
BATCH_SIZE = 32
DATASET = "breast_cancer"
FLOWING_AT_LEAST = 1e-2  # tanh and ReLU: the first layer's gradient within 100x of the head's
RELU_ACCURACY_AT_LEAST = 0.9
LEARNS_BY = 0.2  # tanh and ReLU beat the sigmoid stack by this much test accuracy


def main(epochs: int = EPOCHS, lr: float = LEARNING_RATE, seed: int = 0, logdir: str = "runs",
         quick: bool = False, verbose: int | str = 0) -> dict:
    seed_everything(seed)
    run_dir = runs.new_run_dir(logdir, "vanishing_gradients")
    epochs = QUICK_EPOCHS if quick else epochs

    """
    ## The data and three models that differ only in their hidden activation
    """
    ds = data.load_dataset(DATASET)
    X, y = ds.X.astype("float32"), ds.y
    models = {}
    for act in ACTIVATIONS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LintWarning)  # lint already warns about the sigmoid stack
            models[act] = kerasact.build_model("binary", X.shape[1], hidden=[(WIDTH, act)] * DEPTH, normalize=True,
                                               optimizer="sgd", learning_rate=lr, seed=seed)
        preprocessing.adapt_on_training_rows(models[act], X, y)

    """
    ## Gradient norms by depth, before any training
    One probe of 256 rows: ||dL/dW|| for every Dense kernel, the input side first.
    """
    rows = X[:256], y[:256].astype("float32")
    at_init = {act: health.probe(model, *rows) for act, model in models.items()}
    for act, found in at_init.items():
        norms = " ".join(f"{v:.1e}" for v in found.gradients.values())
        print(f"{act:>7}: first/head gradient ratio {found.gradient_ratio:.1e}   by depth: {norms}")

    """
    ## Train all three with the same seed, split and optimizer
    `train` runs the diagnostics callback; its warnings say what went wrong, and the runs
    appear side by side in TensorBoard (their `diagnostics/` group included).
    """
    results, caught = {}, {}
    for act, model in models.items():
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always", TrainingWarning)
            results[act] = kerasact.train(model, X, y, epochs=epochs, batch_size=BATCH_SIZE, patience=None, seed=seed,
                                          log_dir=logdir, run_dir=run_dir / act, verbose=verbose)
        caught[act] = [f.code for f in results[act].diagnostics]
        for w in seen:
            if issubclass(w.category, TrainingWarning):
                print(f"{act:>7}: {w.message}")
        print(f"{act:>7}: test accuracy {results[act].metrics['accuracy']:.4f}")

    """
    ## Plot gradient norm by depth and the learning curves
    """
    figure = plots.gradient_flow({act: list(found.gradients.values()) for act, found in at_init.items()},
                                 {act: r.history for act, r in results.items()})
    plots.save_png(figure, run_dir / "gradient_flow.png")

    ratios = {act: found.gradient_ratio for act, found in at_init.items()}
    accuracy = {act: r.metrics["accuracy"] for act, r in results.items()}
    checks = {
        "sigmoid_vanishes": ratios["sigmoid"] < advice.VANISHING_RATIO,
        "tanh_and_relu_flow": min(ratios["tanh"], ratios["relu"]) >= FLOWING_AT_LEAST,
        "sigmoid_warned": "vanishing-gradients" in caught["sigmoid"],
        "relu_learns": accuracy["relu"] >= RELU_ACCURACY_AT_LEAST,
        "tanh_and_relu_beat_sigmoid": min(accuracy["tanh"], accuracy["relu"]) >= accuracy["sigmoid"] + LEARNS_BY,
    }
    passed = all(checks.values())
    metrics = {**{f"{act}_gradient_ratio": ratios[act] for act in ACTIVATIONS},
               **{f"{act}_accuracy": accuracy[act] for act in ACTIVATIONS}}
    tensorboard.log_run_summary(run_dir, {"epochs": epochs, "learning_rate": lr, "seed": seed, "depth": DEPTH},
                                metrics, {"gradient_flow": figure})
    runs.write_json(run_dir / "metrics.json", {
        **metrics, "checks": checks, "passed": passed, "warnings": caught, "epochs": epochs, "learning_rate": lr,
        "seed": seed, "dataset": DATASET, "gradient_norms_at_init": {a: f.gradients for a, f in at_init.items()},
        "versions": runs.library_versions()})
    log_limit, log_flowing = math.log10(advice.VANISHING_RATIO), math.log10(FLOWING_AT_LEAST)
    recipe.report("Vanishing gradients (lg: log10 of the first layer's gradient norm / the head's, at init)", [
        recipe.Row("lg sigmoid", math.log10(ratios["sigmoid"]), target=f"< {log_limit:g}",
                   passed=checks["sigmoid_vanishes"]),
        *(recipe.Row(f"lg {act}", math.log10(ratios[act]), target=f">= {log_flowing:g}",
                     passed=ratios[act] >= FLOWING_AT_LEAST) for act in ("tanh", "relu")),
        recipe.Row("acc sigmoid", accuracy["sigmoid"], target=f"+{LEARNS_BY} < both",
                   passed=checks["tanh_and_relu_beat_sigmoid"]),
        recipe.Row("acc tanh", accuracy["tanh"]),
        recipe.Row("acc relu", accuracy["relu"], target=f">= {RELU_ACCURACY_AT_LEAST}",
                   passed=checks["relu_learns"])], run_dir)
    return {"recipe": "vanishing_gradients", "metric": "sigmoid_gradient_ratio", "value": ratios["sigmoid"],
            "passed": passed, "run_dir": run_dir, "checks": checks, "warnings": caught, **metrics}


if __name__ == "__main__":
    args = recipe.concept_parser(__doc__, epochs=EPOCHS, lr=LEARNING_RATE,
                                 quick_help=f"{QUICK_EPOCHS} epochs").parse_args()
    out = main(args.epochs, args.lr, args.seed, args.logdir, args.quick, verbose=2)
    sys.exit(0 if out["passed"] else 1)
