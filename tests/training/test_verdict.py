"""Every run's verdict: its test score beside a constant predictor's and a linear model's on the
same split, each recomputed here with scikit-learn; a run below either says so in one line,
printed and in metrics.json."""

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import kerasact
from kerasact.training.verdict import YARDSTICKS

RNG = np.random.default_rng(0)
X = RNG.normal(size=(240, 4)).astype("float32")
LINEAR = X @ np.array([1.0, -2.0, 0.5, 0.0])

# problem -> (targets, build options, expected metric): every loss family's yardstick.
CASES = {
    "regression": (LINEAR + 0.3 * RNG.normal(size=240), {}, "r2"),
    "binary": ((LINEAR > 0.3).astype(int), {}, "accuracy"),
    "multiclass": (np.digitize(LINEAR, [-1.0, 1.0]), {"n_classes": 3}, "accuracy"),
    "multilabel": (np.column_stack([LINEAR > 0, X[:, 0] > 0.5]).astype(int), {"n_outputs": 2}, "accuracy"),
}


def test_every_loss_family_has_a_yardstick():
    from kerasact.inputs import LABEL_FORMATS

    assert {row.family for row in LABEL_FORMATS.values()} == set(YARDSTICKS)


@pytest.mark.parametrize("problem", sorted(CASES))
def test_the_three_scores_are_scikit_learns_on_the_same_split(problem):
    y, options, metric = CASES[problem]
    model = kerasact.build_model(problem, 4, hidden=[8], learning_rate=1e-2, **options)
    result = kerasact.train(model, X, y, epochs=5, verbose=0, seed=0)
    verdict, s = result.verdict, result.split
    assert verdict.metric == metric
    y_train, y_test = np.asarray(s.y_train), np.asarray(s.y_test)
    if problem == "regression":
        assert verdict.model == pytest.approx(result.metrics["r2"], abs=1e-5)
        assert verdict.constant == pytest.approx(r2_score(y_test, np.full_like(y_test, y_train.mean())))
        ridge = make_pipeline(StandardScaler(), Ridge()).fit(s.X_train, y_train)
        assert verdict.linear == pytest.approx(ridge.score(s.X_test, y_test)) and verdict.linear_model == "Ridge"
        return
    assert verdict.model == pytest.approx(result.metrics["accuracy"], abs=1e-5)
    if problem == "multilabel":  # per label, as Keras's binary accuracy
        majority = (y_train.mean(axis=0) > 0.5).astype(int)
        assert verdict.constant == pytest.approx(np.mean(y_test == majority))
        return
    labels = y_train.reshape(-1).astype(int)
    majority = np.bincount(labels).argmax()
    assert verdict.constant == pytest.approx(accuracy_score(y_test.reshape(-1), np.full(len(y_test), majority)))
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(s.X_train, labels)
    assert verdict.linear == pytest.approx(logistic.score(s.X_test, y_test.reshape(-1).astype(int)))


def test_a_run_below_the_mean_says_so_printed_and_in_metrics_json(tmp_path, capsys):
    y = 12.0 + LINEAR  # a target near 12; an unscaled output starts at 0 and 2 slow epochs do not get there
    model = kerasact.build_model("regression", 4, hidden=[8], learning_rate=1e-4)
    result = kerasact.train(model, X, y, epochs=2, verbose=2, seed=0, log_dir=tmp_path)
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("kerasact: test r2")]
    assert result.verdict.model < result.verdict.constant < 0.0 < result.verdict.linear
    assert printed == [result.verdict.warning]
    assert "below the constant predictor" in printed[0] and "and Ridge" in printed[0]
    assert "normalize_target=True" in printed[0]  # the fix for what this model lacks
    saved = json.loads((result.run_dir / "metrics.json").read_text())
    assert saved["verdict"] == result.verdict.to_dict()


def test_a_network_that_beats_both_prints_nothing(capsys):
    y = (X[:, 0] * X[:, 1] > 0).astype(int)  # XOR-like: no linear model separates it
    model = kerasact.build_model("binary", 4, hidden=[32], learning_rate=1e-2)
    result = kerasact.train(model, X, y, epochs=80, patience=None, verbose=2, seed=0)
    assert result.verdict.model > max(result.verdict.constant, result.verdict.linear) + 0.15
    assert result.verdict.warning is None and "kerasact: test" not in capsys.readouterr().out
