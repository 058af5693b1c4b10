"""
Title: One neuron learns a temperature switch
Description: A single sigmoid unit y = sigmoid(a*t + b) learns to turn on above 130 °C,
trained with binary cross-entropy and Adam; its decision boundary -b/a is read back in °C.

A neuron with a sigmoid is a soft switch: it outputs 0.5 where a*t + b = 0, i.e. at
t = -b/a, and sharpens as |a| grows. The model is `build_model("binary", 1, hidden=[])`:
no hidden layer, just the head the table picks for two classes. Temperatures span
0-200 °C, so a Normalization layer standardises them first; the boundary is mapped back
through its statistics: t = mean + std * (-b/a).

Run: `python -m recipes.threshold` (add `--quick` for a few-second run).
"""

"""
## Setup
"""
from kerasact.cli import recipe

if __name__ == "__main__":  # before TensorFlow loads: its own log lines only with --verbose
    recipe.quiet_tensorflow()

import sys

import keras
import numpy as np

import kerasact
from kerasact import data, plots
from kerasact.runtime import seed_everything
from kerasact.training import runs, tensorboard

EPOCHS = 100
QUICK_EPOCHS = 10  # ~130 Adam steps already put the boundary within a degree or two
BATCH_SIZE = 32
LEARNING_RATE = 0.1  # a switch needs a steep sigmoid, i.e. a large weight: take big steps
N_SAMPLES = 400
THRESHOLD_C = 130.0
TOLERANCE_C = 3.0


def learned_boundary(model: keras.Model) -> float:
    """Where the sigmoid crosses 0.5, in °C: undo the Normalization layer's standardisation."""
    norm, neuron = model.layers[0], model.layers[-1]
    # `mean`/`variance` hold the statistics whether they were adapted or given to the constructor.
    mean, variance = (float(np.asarray(v).ravel()[0]) for v in (norm.mean, norm.variance))
    kernel, bias = neuron.get_weights()
    a, b = float(kernel[0, 0]), float(bias[0])
    return float(mean + np.sqrt(variance) * (-b / a))


def main(epochs: int = EPOCHS, lr: float = LEARNING_RATE, seed: int = 0, logdir: str = "runs",
         quick: bool = False, verbose: int | str = 0) -> dict:
    seed_everything(seed)
    run_dir = runs.new_run_dir(logdir, "threshold")

    """
    ## Prepare the data
    400 temperatures drawn uniformly from 0-200 °C, labelled 1 above 130 °C; a fresh
    draw with another seed is the test set.
    """
    t, y = data.make_threshold(N_SAMPLES, threshold=THRESHOLD_C, seed=seed)
    t_test, y_test = data.make_threshold(N_SAMPLES, threshold=THRESHOLD_C, seed=seed + 1)

    """
    ## Build the model
    One sigmoid unit after the Normalization layer: 2 trainable parameters, a and b.
    """
    model = kerasact.build_model("binary", 1, hidden=[], normalize=t, learning_rate=lr, seed=seed)

    """
    ## Train
    """
    epochs = QUICK_EPOCHS if quick else epochs
    history = model.fit(t, y, epochs=epochs, batch_size=BATCH_SIZE, verbose=verbose,
                        callbacks=[keras.callbacks.TensorBoard(str(run_dir))]).history

    """
    ## Read the boundary back in °C
    """
    boundary = learned_boundary(model)
    accuracy = float(np.mean((kerasact.predict(model, t_test).ravel() > 0.5) == y_test))
    passed = abs(boundary - THRESHOLD_C) <= TOLERANCE_C
    print(f"learned boundary -b/a = {boundary:.2f} °C (target {THRESHOLD_C} ± {TOLERANCE_C}); "
          f"test accuracy {accuracy:.4f}")

    """
    ## Plot the learned switch against the target step
    """
    grid = np.linspace(0.0, 200.0, 401, dtype=np.float32).reshape(-1, 1)
    figures = {"threshold_fit": plots.threshold_fit(t, y, grid, kerasact.predict(model, grid),
                                                    boundary)}
    for name, fig in figures.items():
        plots.save_png(fig, run_dir / f"{name}.png")
    metrics = {"boundary_c": boundary, "error_c": abs(boundary - THRESHOLD_C),
               "test_accuracy": accuracy}
    tensorboard.log_run_summary(run_dir, {"epochs": epochs, "learning_rate": lr, "seed": seed},
                          metrics, figures)
    runs.write_json(run_dir / "metrics.json", {
        **metrics, "threshold_c": THRESHOLD_C, "tolerance_c": TOLERANCE_C, "passed": passed,
        "epochs": epochs, "learning_rate": lr, "seed": seed, "final_loss": history["loss"][-1],
        "versions": runs.library_versions()})
    target = f"{THRESHOLD_C:g} ± {TOLERANCE_C:g}"
    recipe.report("One-neuron threshold", [recipe.Row("boundary °C", boundary, target=target,
                                                passed=passed)], run_dir)
    return {"recipe": "threshold", "metric": "boundary_c", "value": boundary, "passed": passed,
            "run_dir": run_dir, "test_accuracy": accuracy, "model": model}


if __name__ == "__main__":
    args = recipe.concept_parser(__doc__, epochs=EPOCHS, lr=LEARNING_RATE,
                                 quick_help=f"{QUICK_EPOCHS} epochs").parse_args()
    out = main(args.epochs, args.lr, args.seed, args.logdir, args.quick, verbose=2)
    sys.exit(0 if out["passed"] else 1)
