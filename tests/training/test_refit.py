"""`train(refit=True)`: the test rows score the first fit, then the model learns again from its
starting weights on the training and test rows; what a run reports, saves and returns."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

import kerasact
from kerasact import build_model, train
from kerasact.training import refit as refitting

N, EPOCHS, BATCH = 80, 120, 128


@pytest.fixture(scope="module")
def memorised(tmp_path_factory):
    """Random labels: a wide network memorises the rows it trains on and knows nothing of the others."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(N, 5)).astype("float32"), rng.integers(0, 2, N)
    model = build_model("binary", 5, hidden=[64, 64], learning_rate=0.01, seed=0)
    result = train(model, X, y, epochs=EPOCHS, batch_size=BATCH, patience=None, refit=True, verbose=0,
                   log_dir=tmp_path_factory.mktemp("runs"), sample_weight=np.full(N, 2.0))
    return result


def _accuracy(model, X, y):
    return float(np.mean((kerasact.predict(model, X)[:, 0] > 0.5) == np.asarray(y).reshape(-1)))


def test_the_refit_model_learned_the_test_rows_the_metrics_did_not(memorised):
    parts = memorised.split
    assert _accuracy(memorised.model, parts.X_test, parts.y_test) == 1.0  # now among its training rows
    assert memorised.metrics["accuracy"] <= 0.85  # the first fit's score on rows it had never seen
    assert _accuracy(memorised.model, parts.X_val, parts.y_val) <= 0.9  # the validation rows stay held out


def test_the_refit_starts_afresh_and_is_recorded(memorised):
    rows = len(memorised.split.y_train) + len(memorised.split.y_test)
    assert memorised.refit["rows"] == rows and memorised.refit["epochs"] == EPOCHS
    before, after = memorised.refit["val_loss"]
    assert memorised.refit["kept"] == ("refit" if after <= before else "first")
    # the optimizer restarted: its steps are the refit's alone (one batch an epoch)
    assert int(memorised.model.optimizer.iterations.numpy()) == EPOCHS
    saved = json.loads((memorised.run_dir / "metrics.json").read_text())
    assert saved["refit"]["rows"] == rows and saved["test"]["accuracy"] == pytest.approx(memorised.metrics["accuracy"])
    reloaded = kerasact.load_model(memorised.run_dir / "model.keras")  # the file is the refit model
    np.testing.assert_allclose(kerasact.predict(reloaded, memorised.split.X_test),
                               kerasact.predict(memorised.model, memorised.split.X_test), rtol=1e-6, atol=1e-6)


class SpoilTheRefit(keras.callbacks.Callback):
    """Keeps the first fit's final weights, then turns the second fit's predictions round."""

    def __init__(self) -> None:
        super().__init__()
        self.fits, self.first = 0, None

    def on_train_end(self, logs=None):
        self.fits += 1
        if self.fits == 1:
            self.first = self.model.get_weights()
        else:
            weights = self.model.get_weights()  # the output layer's kernel and bias come last: turned round
            self.model.set_weights([*weights[:-2], *(-10.0 * w for w in weights[-2:])])


def test_a_refit_that_does_worse_on_the_validation_rows_keeps_the_first_fit():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 5)).astype("float32")
    y = (X[:, 0] > 0).astype(int)
    spoil = SpoilTheRefit()
    result = train(build_model("binary", 5, hidden=[8], learning_rate=0.02, seed=0), X, y, epochs=40,
                   batch_size=BATCH, patience=None, refit=True, verbose=0, callbacks=[spoil])
    before, after = result.refit["val_loss"]
    assert spoil.fits == 2 and result.refit["kept"] == "first" and after > before
    for kept, first in zip(result.model.get_weights(), spoil.first, strict=True):
        np.testing.assert_array_equal(kept, first)


def test_train_table_refits_when_asked_with_its_schedule_stretched_to_the_refit():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=120), "c": rng.choice(["x", "y"], 120)})
    frame["kind"] = np.where(frame["a"] > 0, "p", "q")
    options = dict(epochs=2, hidden=[8], batch_size=16, verbose=0, seed=0)
    assert kerasact.train_table(frame, "kind", **options).refit is None  # off unless asked for
    again = kerasact.train_table(frame, "kind", refit=True, **options)
    assert again.refit["rows"] == 102  # 120 less 18 validation rows
    # the realmlp recipe's coslog4 schedule: 7 steps an epoch of 102 rows, not the first fit's 6 of 84
    assert again.model.optimizer._learning_rate.total_steps == 7 * 2


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"refit": "yes"}, TypeError, r"refit='yes' \(str\) is not valid: expected True or False"),
    ({"refit": True, "stream": True}, ValueError, r"refit=True is not valid: expected False for a streamed"),
])
def test_bad_refit_is_refused_before_any_work(kwargs, error, match, tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0] * 10, "kind": ["p", "q", "p"] * 10}).to_csv(path, index=False)
    with pytest.raises(error, match=match):
        kerasact.train_table(path, "kind", **kwargs)


def test_a_refit_is_worse_only_beyond_the_noise_of_the_validation_rows():
    rng = np.random.default_rng(0)
    before = rng.normal(1.0, 0.5, 200)
    assert not refitting.worse(before + rng.normal(0.0, 0.5, 200) * 0.1, before)  # noise: keep the refit
    assert refitting.worse(before + 0.2 + rng.normal(0.0, 0.5, 200) * 0.1, before)  # clearly higher
    assert not refitting.worse(before - 0.2, before) and not refitting.worse(np.ones(1) * 9, np.ones(1))
