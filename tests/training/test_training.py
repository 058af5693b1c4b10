"""kerasact.train: splitting, label encoding, run directories and what TensorBoard reads back."""

import json

import numpy as np
import pytest

from kerasact import HEADS, build_model, infer_problem
from kerasact.training import train
from kerasact.training.runs import new_run_dir
from kerasact.training.tensorboard import read_plugin_tags, read_scalars

PNG = b"\x89PNG\r\n\x1a\n"
FIGURES = {"regression": {"learning_curves", "parity"}, "binary": {"learning_curves", "confusion_matrix", "roc_curve"},
           "multiclass": {"learning_curves", "confusion_matrix"}, "multilabel": {"learning_curves"}}


def _data(problem, n=120, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype("float32")
    score = X @ rng.normal(size=(d, 3))
    return X, {"regression": score[:, 0] * 3 + 1, "binary": np.where(score[:, 0] > 0, "yes", "no"),
               "multiclass": score.argmax(axis=1), "multilabel": (score > 0).astype("float32")}[problem]


@pytest.fixture(scope="module", params=sorted(HEADS))
def run(request, tmp_path_factory):
    problem = request.param
    X, y = _data(problem)
    model = build_model(input_dim=4, hidden=[8], seed=0, **infer_problem(y).build_kwargs())
    result = train(model, X, y, epochs=3, batch_size=16, log_dir=tmp_path_factory.mktemp("runs"),
                   recipe=problem, verbose=0, hparams={"hidden": "[8]"})
    return problem, result


def test_run_directory_holds_model_metrics_and_plots(run):
    problem, result = run
    d = result.run_dir
    assert d.parent.name == problem and (d / "model.keras").is_file()
    for name in FIGURES[problem]:
        assert (d / f"{name}.png").read_bytes()[:8] == PNG
    saved = json.loads((d / "metrics.json").read_text())
    assert {"test", "validation", "hparams", "seed", "versions", "history", "problem", "labels"} <= set(saved)
    assert saved["problem"] == problem and saved["test"]["loss"] == pytest.approx(result.metrics["loss"])
    assert {"keras", "tensorflow", "numpy"} <= set(saved["versions"])


def test_tensorboard_reads_scalars_hparams_histograms_and_images(run):
    problem, result = run
    scalars = read_scalars(result.run_dir)
    assert {f"{problem}/loss", "optimizer/learning_rate"} <= set(scalars["train"])
    assert f"{problem}/loss" in scalars["validation"]
    assert len(scalars["train"][f"{problem}/loss"]) == result.epochs_run
    assert {f"{problem}/{k}" for k in result.metrics} == set(scalars["test"])  # final results, beside the curves
    assert {step for values in scalars["test"].values() for step, _ in values} == {result.epochs_run - 1}
    assert read_plugin_tags(result.run_dir, "hparams")["."] == ["_hparams_/session_start_info"]
    assert read_plugin_tags(result.run_dir, "histograms")["train"]
    assert read_plugin_tags(result.run_dir, "text")["."] == ["summary"]
    assert set(read_plugin_tags(result.run_dir, "images")["."]) == {f"plots/{f}" for f in FIGURES[problem]}


def test_split_is_shuffled_stratified_and_labels_decode(run):
    problem, result = run
    s = result.split
    assert len(s.X_train) + len(s.X_val) + len(s.X_test) == 120
    if result.codec is not None:
        for part in (s.y_train, s.y_val, s.y_test):
            assert len(np.unique(part)) == result.codec.n_classes
        assert set(result.codec.decode(np.arange(result.codec.n_classes)).tolist()) == set(
            np.unique(_data(problem)[1]).tolist())


def test_sorted_labels_still_reach_validation_and_test():
    """Keras's validation_split would take the all-ones tail; train() shuffles and stratifies."""
    X = np.arange(200, dtype="float32").reshape(100, 2)
    y = np.array([0] * 50 + [1] * 50)
    result = train(build_model("binary", 2, hidden=[4]), X, y, epochs=1, verbose=0)
    for part in (result.split.y_val, result.split.y_test):
        assert set(part.ravel().tolist()) == {0.0, 1.0}


def test_balanced_class_weights_train_on_imbalanced_labels():
    X, _ = _data("binary", n=200)
    y = (X[:, 0] > 1.2).astype(int)  # ~12% positives
    result = train(build_model("binary", 4, hidden=[8], seed=0), X, y, epochs=2, verbose=0, class_weight="balanced")
    assert np.isfinite(result.metrics["loss"])


def test_two_runs_never_share_a_directory(tmp_path):
    dirs = {new_run_dir(tmp_path, "x") for _ in range(20)}
    assert len(dirs) == 20


def test_no_log_dir_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = _data("regression")
    result = train(build_model("regression", 4, hidden=[4]), X, y, epochs=1, verbose=0, log_dir=None)
    assert result.run_dir is None and list(tmp_path.iterdir()) == []


def test_unadapted_normalization_is_adapted_on_training_rows_only():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=5.0, scale=3.0, size=(200, 3)).astype("float32")
    y = X @ np.array([1.0, -2.0, 0.5], dtype="float32") * 10 + 100
    model = build_model("regression", 3, hidden=[8], normalize=True, normalize_target=True, seed=0)
    result = train(model, X, y, epochs=2, verbose=0)
    first, last = model.layers[0], model.layers[-1]
    np.testing.assert_allclose(np.ravel(first.mean), result.split.X_train.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(np.ravel(last.mean), result.split.y_train.mean(), rtol=1e-5)
    assert not np.allclose(np.ravel(first.mean), X.mean(axis=0), rtol=1e-5)  # test rows left out


def test_model_evaluate_and_kerasact_predict_agree_on_the_test_loss(run):
    # The test loss train reports (model.evaluate) is the compiled loss of kerasact.predict's outputs:
    # with a train-constant feature that once became ~1e7 on test rows, the two disagreed.
    import keras

    from kerasact import head_of, predict

    problem, result = run
    info, split = head_of(result.model), result.split
    loss = result.model.loss
    config = loss.get_config() | {"from_logits": False} if info.from_logits else loss.get_config()
    from_outputs = type(loss).from_config(config)(split.y_test, predict(result.model, split.X_test))
    expected = float(keras.ops.convert_to_numpy(from_outputs))
    assert np.isclose(result.metrics["loss"], expected, rtol=1e-4, atol=1e-6), (problem, result.metrics, expected)
