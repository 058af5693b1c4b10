"""
Title: Regression of diabetes progression
Description: A linear-output MLP on scikit-learn's bundled diabetes data, compared with
ordinary least squares on the same split.

The head table picks a linear output unit trained with mean squared error, scored by
MAE and RMSE; the test R² comes from scikit-learn.

Run: `python -m recipes.regression` (add `--quick` for a few-second smoke run).
"""

"""
## Setup
"""
from kerasact.cli import recipe

if __name__ == "__main__":  # before TensorFlow loads: its own log lines only with --verbose
    recipe.quiet_tensorflow()

import numpy as np
from sklearn.linear_model import LinearRegression

import kerasact
from kerasact import data
from kerasact.runtime import seed_everything
from kerasact.training import train

EPOCHS = 500
BATCH_SIZE = 32
HIDDEN = "32"
ACTIVATION = "relu"
LEARNING_RATE = 1e-3
L2 = 1e-2
DROPOUT = 0.2
VAL_SIZE, TEST_SIZE = 0.1, 0.2
PATIENCE = 30


def main(epochs: int = EPOCHS, batch_size: int = BATCH_SIZE, hidden=tuple(recipe.parse_hidden(HIDDEN)),
         activation: str = ACTIVATION,
         lr: float = LEARNING_RATE, seed: int = 0, logdir: str | None = "runs", quick: bool = False,
         verbose: int | str = "auto") -> dict:
    seed_everything(seed)

    """
    ## Prepare the data
    442 patients, 10 baseline measurements each; the target is a disease-progression
    score one year later (25 to 346).
    """
    ds = data.load_dataset("diabetes")

    """
    ## Build the model
    Inputs are standardised on the way in and the target (mean 152, std 77) is learned in
    standardised units and scaled back on the way out (`normalize_target`): both layers are
    adapted on the training rows by `train` and saved inside the model.
    """
    model = kerasact.build_model("regression", ds.X.shape[1], hidden=hidden, activation=activation,
                                 learning_rate=lr, l2=L2, dropout=DROPOUT, normalize=True,
                                 normalize_target=True, seed=seed)

    """
    ## Train
    """
    result = train(model, ds.X, ds.y, epochs=2 if quick else epochs, batch_size=batch_size,
                   log_dir=logdir, recipe="regression", seed=seed, val_size=VAL_SIZE, test_size=TEST_SIZE,
                   patience=PATIENCE, verbose=verbose,
                   hparams={"hidden": str(list(hidden)), "activation": activation, "l2": L2, "dropout": DROPOUT})

    """
    ## Evaluate against least squares on the same split
    Both models learn from the same training rows and are scored on the same test rows.
    """
    s = result.split
    baseline = LinearRegression().fit(s.X_train, s.y_train)
    base_r2 = baseline.score(s.X_test, s.y_test)
    r2 = result.metrics["r2"]
    passed = r2 >= base_r2
    rows = [recipe.Row("r2", r2, base_r2, "LinearRegression", ">= baseline", passed),
            recipe.Row("mae", result.metrics["mae"],
                    float(np.mean(np.abs(baseline.predict(s.X_test) - s.y_test.ravel()))),
                    "LinearRegression")]
    recipe.report("Diabetes (regression)", rows, result.run_dir)
    return {"recipe": "regression", "metric": "r2", "value": r2, "baseline": base_r2,
            "passed": passed, "run_dir": result.run_dir, "result": result}


if __name__ == "__main__":
    recipe.run(main, __doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, hidden=HIDDEN, activation=ACTIVATION,
               lr=LEARNING_RATE)
