"""
Title: Binary classification of breast-cancer biopsies
Description: A sigmoid-output MLP on scikit-learn's bundled Wisconsin breast-cancer data,
compared with logistic regression on the same split.

The head table picks the output for us: one sigmoid unit trained with binary
cross-entropy, scored by accuracy and ROC AUC. The run lands in its own directory with
TensorBoard events, the saved model, metrics.json and plots.

Run: `python -m recipes.binary` (add `--quick` for a few-second smoke run).
"""

"""
## Setup
"""
from kerasact.cli import recipe

if __name__ == "__main__":  # before TensorFlow loads: its own log lines only with --verbose
    recipe.quiet_tensorflow()

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import kerasact
from kerasact import data
from kerasact.runtime import seed_everything
from kerasact.training import train

EPOCHS = 300
BATCH_SIZE = 32
HIDDEN = "16"
ACTIVATION = "relu"
LEARNING_RATE = 1e-3
L2 = 1e-3
VAL_SIZE, TEST_SIZE = 0.1, 0.2  # 114 test rows: one mistake moves accuracy by 0.9%
PATIENCE = 20
TARGET_ACCURACY = 0.97


def main(epochs: int = EPOCHS, batch_size: int = BATCH_SIZE, hidden=tuple(recipe.parse_hidden(HIDDEN)),
         activation: str = ACTIVATION,
         lr: float = LEARNING_RATE, seed: int = 0, logdir: str | None = "runs", quick: bool = False,
         verbose: int | str = "auto") -> dict:
    seed_everything(seed)

    """
    ## Prepare the data
    569 biopsies, 30 features each; label 1 = benign, 0 = malignant. `train` shuffles and
    makes a stratified train / validation / test split itself.
    """
    ds = data.load_dataset("breast_cancer")

    """
    ## Build the model
    `normalize=True` puts a Normalization layer first; `train` adapts it on the training
    rows only, and the saved model standardises its own inputs.
    """
    model = kerasact.build_model("binary", ds.X.shape[1], hidden=hidden, activation=activation,
                                 learning_rate=lr, l2=L2, normalize=True, seed=seed)

    """
    ## Train
    """
    result = train(model, ds.X, ds.y, epochs=2 if quick else epochs, batch_size=batch_size,
                   log_dir=logdir, recipe="binary", seed=seed, val_size=VAL_SIZE, test_size=TEST_SIZE,
                   patience=PATIENCE, verbose=verbose,
                   hparams={"hidden": str(list(hidden)), "activation": activation, "l2": L2})

    """
    ## Evaluate against logistic regression on the same split
    Both models learn from the same training rows and are scored on the same test rows;
    the network also used the validation rows, but only to decide when to stop.
    """
    s = result.split
    baseline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    baseline.fit(s.X_train, s.y_train.ravel())
    base_acc = baseline.score(s.X_test, s.y_test.ravel())
    acc = result.metrics["accuracy"]
    # Keras counts in float32, scikit-learn in float64: compare correct test rows, so a tie is a tie.
    n_test = len(s.y_test)
    passed = acc >= TARGET_ACCURACY and round(acc * n_test) >= round(base_acc * n_test)
    rows = [recipe.Row("accuracy", acc, base_acc, "LogisticRegression", f">= {TARGET_ACCURACY}", passed),
            recipe.Row("roc_auc", result.metrics["roc_auc"])]
    recipe.report("Breast cancer (binary)", rows, result.run_dir)
    return {"recipe": "binary", "metric": "accuracy", "value": acc, "baseline": base_acc,
            "passed": passed, "run_dir": result.run_dir, "result": result}


if __name__ == "__main__":
    recipe.run(main, __doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, hidden=HIDDEN, activation=ACTIVATION,
               lr=LEARNING_RATE)
