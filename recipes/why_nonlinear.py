"""
Title: Why hidden layers need a non-linear activation
Description: Two MLPs of the same shape on two concentric circles: with linear hidden
layers the whole stack is one straight-line classifier and stays at chance; with ReLU
hidden layers it draws a closed boundary and separates the classes.

`W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)`: without a non-linearity between them,
any number of Dense layers computes one affine map. `kerasact.fold_linear` makes that
concrete by merging the linear stack into a single Dense layer with identical predictions,
and `build_model` already says so when the model is built (a `LintWarning`).

Run: `python -m recipes.why_nonlinear` (add `--quick` for a few-second run).
"""

"""
## Setup
"""
from kerasact.cli import recipe

if __name__ == "__main__":  # before TensorFlow loads: its own log lines only with --verbose
    recipe.quiet_tensorflow()

import sys
import warnings

import keras
import numpy as np

import kerasact
from kerasact import data, plots
from kerasact.diagnose import collapse
from kerasact.diagnose.linting import LintWarning
from kerasact.runtime import seed_everything
from kerasact.training import runs, tensorboard

EPOCHS = 30
QUICK_EPOCHS = 8  # circles are easy for ReLU units: 8 epochs already clear the bar
BATCH_SIZE = 16
LEARNING_RATE = 0.03
HIDDEN_UNITS = (16, 16)
DATASET = "circles"
N_SAMPLES = 400
LINEAR_AT_MOST = 0.7  # a straight line cannot beat chance by much on concentric circles
RELU_AT_LEAST = 0.95
FOLD_TOLERANCE = 1e-5


def main(epochs: int = EPOCHS, lr: float = LEARNING_RATE, seed: int = 0, logdir: str = "runs",
         quick: bool = False, verbose: int | str = 0) -> dict:
    seed_everything(seed)
    run_dir = runs.new_run_dir(logdir, "why_nonlinear")
    epochs = QUICK_EPOCHS if quick else epochs

    """
    ## Prepare the data
    Two noisy concentric circles, inner ring class 1; a fresh draw is the test set.
    """
    X, y = data.make_nonlinear(DATASET, N_SAMPLES, seed=seed)
    X_test, y_test = data.make_nonlinear(DATASET, N_SAMPLES, seed=seed + 1)

    """
    ## Build two models of the same shape
    Only the hidden activation differs. Building the linear one raises a LintWarning:
    kerasact sees that its Dense layers collapse.
    """
    models, lint_messages = {}, {}
    for activation in ("linear", "relu"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", LintWarning)
            models[activation] = kerasact.build_model(
                "binary", 2, hidden=[(width, activation) for width in HIDDEN_UNITS],
                learning_rate=lr, seed=seed)
        lint_messages[activation] = [str(w.message) for w in caught
                                     if issubclass(w.category, LintWarning)]
        for message in lint_messages[activation]:
            print(f"LintWarning ({activation} model): {message}")

    """
    ## Train both
    Each model logs to its own sub-folder, so TensorBoard overlays their curves.
    """
    accuracy = {}
    for name, model in models.items():
        model.fit(X, y, epochs=epochs, batch_size=BATCH_SIZE, verbose=verbose,
                  callbacks=[keras.callbacks.TensorBoard(str(run_dir / name))])
        accuracy[name] = float(np.mean((kerasact.predict(model, X_test).ravel() > 0.5) == y_test))
        print(f"{name:>6} hidden layers: test accuracy {accuracy[name]:.4f}")

    """
    ## Fold the linear stack into one layer
    The folded model has a single Dense layer, i.e. it is logistic regression, and gives
    the same predictions. The ReLU model has nothing to fold.
    """
    plan = collapse.plan_fold(models["linear"])
    folded = kerasact.fold_linear(models["linear"])
    fold_error = float(np.max(np.abs(kerasact.predict(folded, X_test)
                                     - kerasact.predict(models["linear"], X_test))))
    dense_before, dense_after = (sum(type(layer).__name__ == "Dense" for layer in m.layers)
                                 for m in (models["linear"], folded))
    print(f"fold_linear: {dense_before} Dense layers, {plan.params_before} "
          f"parameters -> {dense_after} Dense layer, {plan.params_after} parameters; "
          f"max |prediction difference| = {fold_error:.2e}")
    print(f"ReLU model: {len(collapse.plan_fold(models['relu']).runs)} linear runs to fold")

    """
    ## Plot both decision boundaries
    """
    figures = {f"decision_boundary_{name}": plots.decision_boundary(
        lambda grid, m=model: kerasact.predict(m, grid), X_test, y_test,
        title=f"{name} hidden layers: accuracy {accuracy[name]:.2f}")
        for name, model in models.items()}
    for name, fig in figures.items():
        plots.save_png(fig, run_dir / f"{name}.png")

    passed = (accuracy["linear"] < LINEAR_AT_MOST and accuracy["relu"] >= RELU_AT_LEAST
              and fold_error <= FOLD_TOLERANCE and bool(lint_messages["linear"])
              and not lint_messages["relu"])
    metrics = {"linear_accuracy": accuracy["linear"], "relu_accuracy": accuracy["relu"],
               "params_before_fold": plan.params_before, "params_after_fold": plan.params_after,
               "fold_max_abs_diff": fold_error}
    tensorboard.log_run_summary(run_dir, {"epochs": epochs, "learning_rate": lr, "seed": seed,
                                    "hidden": str(HIDDEN_UNITS)}, metrics, figures)
    runs.write_json(run_dir / "metrics.json", {
        **metrics, "dense_layers_after_fold": dense_after, "lint": lint_messages,
        "passed": passed, "epochs": epochs, "learning_rate": lr, "seed": seed,
        "dataset": DATASET, "versions": runs.library_versions()})
    recipe.report("Why non-linear", [
        recipe.Row("acc linear", accuracy["linear"], target=f"< {LINEAR_AT_MOST}",
                passed=accuracy["linear"] < LINEAR_AT_MOST),
        recipe.Row("acc relu", accuracy["relu"], target=f">= {RELU_AT_LEAST}",
                passed=accuracy["relu"] >= RELU_AT_LEAST),
        recipe.Row("fold diff", fold_error, target=f"<= {FOLD_TOLERANCE:g}",
                passed=fold_error <= FOLD_TOLERANCE)], run_dir)
    return {"recipe": "why_nonlinear", "metric": "relu_accuracy", "value": accuracy["relu"],
            "passed": passed, "run_dir": run_dir, **metrics, "lint": lint_messages,
            "dense_layers_after_fold": dense_after}


if __name__ == "__main__":
    args = recipe.concept_parser(__doc__, epochs=EPOCHS, lr=LEARNING_RATE,
                                 quick_help=f"{QUICK_EPOCHS} epochs").parse_args()
    out = main(args.epochs, args.lr, args.seed, args.logdir, args.quick, verbose=2)
    sys.exit(0 if out["passed"] else 1)
