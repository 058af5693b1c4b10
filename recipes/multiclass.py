"""
Title: Multi-class classification of handwritten digits
Description: A softmax-output MLP on scikit-learn's bundled 8x8 digits (10 classes),
compared with logistic regression on the same split.

The head table picks ten softmax units trained with sparse categorical cross-entropy
(integer labels), scored by accuracy; the confusion matrix shows which digits mix up.

Run: `python -m recipes.multiclass` (add `--quick` for a few-second smoke run).
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
HIDDEN = "256"
ACTIVATION = "relu"
LEARNING_RATE = 1e-3
DROPOUT = 0.3
VAL_SIZE, TEST_SIZE = 0.1, 0.2
PATIENCE = 30
TARGET_ACCURACY = 0.97


def main(epochs: int = EPOCHS, batch_size: int = BATCH_SIZE, hidden=tuple(recipe.parse_hidden(HIDDEN)),
         activation: str = ACTIVATION,
         lr: float = LEARNING_RATE, seed: int = 0, logdir: str | None = "runs", quick: bool = False,
         verbose: int | str = "auto") -> dict:
    seed_everything(seed)

    """
    ## Prepare the data
    1,797 images of 8x8 pixels with intensities 0-16, flattened to 64 features.
    """
    ds = data.load_dataset("digits")

    """
    ## Build the model
    """
    model = kerasact.build_model("multiclass", ds.X.shape[1], n_classes=10, hidden=hidden,
                                 activation=activation, learning_rate=lr, dropout=DROPOUT,
                                 normalize=True, seed=seed)

    """
    ## Train
    """
    result = train(model, ds.X, ds.y, epochs=2 if quick else epochs, batch_size=batch_size,
                   log_dir=logdir, recipe="multiclass", seed=seed, val_size=VAL_SIZE, test_size=TEST_SIZE,
                   patience=PATIENCE, verbose=verbose,
                   hparams={"hidden": str(list(hidden)), "activation": activation, "dropout": DROPOUT})

    """
    ## Evaluate against logistic regression on the same split
    """
    s = result.split
    baseline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    baseline.fit(s.X_train, s.y_train.ravel())
    base_acc = baseline.score(s.X_test, s.y_test)
    acc = result.metrics["accuracy"]
    passed = acc >= TARGET_ACCURACY
    rows = [recipe.Row("accuracy", acc, base_acc, "LogisticRegression", f">= {TARGET_ACCURACY}", passed)]
    recipe.report("Digits (multi-class)", rows, result.run_dir)
    return {"recipe": "multiclass", "metric": "accuracy", "value": acc, "baseline": base_acc,
            "passed": passed, "run_dir": result.run_dir, "result": result}


if __name__ == "__main__":
    recipe.run(main, __doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, hidden=HIDDEN, activation=ACTIVATION,
               lr=LEARNING_RATE)
