"""`train(refit=True)`: the test rows score the first fit, then the model learns again from its
starting weights on every row for the epochs the first fit kept; what a run reports, saves and returns."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

import kerasact
from kerasact import build_model, train
from kerasact.layers.temperature import Temperature
from kerasact.model.lr_schedules import CosLog
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


def test_the_refit_model_learned_every_row_the_metrics_did_not(memorised):
    parts = memorised.split
    assert _accuracy(memorised.model, parts.X_test, parts.y_test) == 1.0  # now among its training rows
    assert _accuracy(memorised.model, parts.X_val, parts.y_val) == 1.0  # and so are the validation rows
    assert memorised.metrics["accuracy"] <= 0.85  # the first fit's score on rows it had never seen


def test_the_refit_starts_afresh_and_is_recorded(memorised):
    assert memorised.refit["rows"] == N and memorised.refit["epochs"] == EPOCHS  # no keeper: the last epoch
    # the optimizer restarted: its steps are the refit's alone (one batch an epoch)
    assert int(memorised.model.optimizer.iterations.numpy()) == EPOCHS
    saved = json.loads((memorised.run_dir / "metrics.json").read_text())
    assert saved["refit"]["rows"] == N and saved["test"]["accuracy"] == pytest.approx(memorised.metrics["accuracy"])
    reloaded = kerasact.load_model(memorised.run_dir / "model.keras")  # the file is the refit model
    np.testing.assert_allclose(kerasact.predict(reloaded, memorised.split.X_test),
                               kerasact.predict(memorised.model, memorised.split.X_test), rtol=1e-6, atol=1e-6)


class Watch(keras.callbacks.Callback):
    """Counts each fit's epochs and records the temperature each fit trains through."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs, self.temperatures = [], []

    def on_train_begin(self, logs=None):
        self.epochs.append(0)
        self.temperatures.append(_temperature(self.model))

    def on_epoch_end(self, epoch, logs=None):
        self.epochs[-1] += 1


def _temperature(model):
    return float(next(x for x in model._flatten_layers() if isinstance(x, Temperature)).temperature.numpy())


def test_the_refit_stops_at_the_kept_epoch_trains_through_t_1_and_keeps_the_fitted_temperature(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(size=240), "b": rng.normal(size=240)})
    frame["kind"] = np.where(frame["a"] + 0.5 * rng.normal(size=240) > 0, "p", "q")
    fitted, restart = [], refitting._restart
    monkeypatch.setattr(refitting, "_restart", lambda model, w: (fitted.append(_temperature(model)), restart(model, w)))
    watch = Watch()
    result = kerasact.train_table(frame, "kind", epochs=12, hidden=[16], batch_size=32, verbose=0, seed=0,
                                  refit=True, callbacks=[watch], log_dir=tmp_path, lr_schedule="constant")
    kept = json.loads((result.run_dir / "metrics.json").read_text())["kept_epoch"]
    assert watch.epochs == [12, kept] and result.refit["epochs"] == kept  # no cyclic schedule: the kept epoch
    # the refit trains through the starting T, as the first fit did: a sharpening T inside the training
    # graph would teach the network blunter logits; the validation rows' T comes back afterwards
    assert watch.temperatures == [1.0, 1.0] and fitted[0] != pytest.approx(1.0)
    assert _temperature(result.model) == pytest.approx(fitted[0])


@pytest.mark.parametrize(("kept", "epochs", "cycles", "stop"), [
    (None, 256, 4, 256), (1, 256, 4, 18), (18, 256, 4, 18), (19, 256, 4, 52), (100, 256, 4, 120),
    (225, 256, 4, 256), (5, 10, 1, 10), (300, 256, 4, 256)])
def test_a_refit_under_coslog_stops_where_the_kept_epochs_cycle_ends(kept, epochs, cycles, stop):
    assert refitting.stop_epoch(kept, epochs, CosLog(0.04, total_steps=epochs * 7, cycles=cycles)) == stop
    assert refitting.stop_epoch(kept, epochs) == (epochs if kept is None else min(kept, epochs))


def test_train_table_refits_when_asked_with_its_schedule_stretched_to_the_refit():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=120), "c": rng.choice(["x", "y"], 120)})
    frame["kind"] = np.where(frame["a"] > 0, "p", "q")
    options = dict(epochs=2, hidden=[8], batch_size=16, verbose=0, seed=0)
    assert kerasact.train_table(frame, "kind", refit=False, **options).refit is None
    again = kerasact.train_table(frame, "kind", refit=True, **options)
    assert again.refit["rows"] == 120  # every row
    # the realmlp recipe's coslog4 schedule: 8 steps an epoch of 120 rows, not the first fit's 6 of 84
    assert again.model.optimizer._learning_rate.total_steps == 8 * 2


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"refit": "yes"}, TypeError, r"refit='yes' \(str\) is not valid: expected True, False or None"),
    ({"refit": True, "stream": True}, ValueError, r"refit=True is not valid: expected False for a streamed"),
])
def test_bad_refit_is_refused_before_any_work(kwargs, error, match, tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0] * 10, "kind": ["p", "q", "p"] * 10}).to_csv(path, index=False)
    with pytest.raises(error, match=match):
        kerasact.train_table(path, "kind", **kwargs)


@pytest.mark.parametrize(("limit", "refits"), [(120, True), (119, False)])
def test_the_preset_refits_class_tables_up_to_its_row_limit_by_default(limit, refits, monkeypatch):
    from dataclasses import replace

    from kerasact import _presets

    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"a": rng.normal(size=120)})
    frame["kind"], frame["value"] = np.where(frame["a"] > 0, "p", "q"), 2 * frame["a"]
    row = _presets.PRESETS["realmlp"]
    assert row.refit["binary"] == 2_000 and "regression" not in row.refit  # the measured rule
    monkeypatch.setitem(_presets.PRESETS, "realmlp", replace(row, refit={**row.refit, "binary": limit}))
    options = dict(epochs=2, hidden=[8], batch_size=16, verbose=0, seed=0)
    assert (kerasact.train_table(frame.drop(columns="value"), "kind", **options).refit is not None) is refits
    assert kerasact.train_table(frame.drop(columns="kind"), "value", **options).refit is None  # never by default


class WatchesValidation(keras.callbacks.Callback):
    """A callback that reads a validation metric (as a checkpoint or a plateau schedule does)."""

    monitor = "val_loss"

    def __init__(self) -> None:
        super().__init__()
        self.epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


def test_without_a_kept_epoch_the_refit_runs_the_epochs_the_first_fit_ran_and_leaves_validation_watchers_out():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(120, 4)).astype("float32")
    y = (X[:, 0] > 0).astype(int)
    watcher = WatchesValidation()
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)  # stops after 2 epochs
    result = train(build_model("binary", 4, hidden=[8], seed=0), X, y, epochs=30, batch_size=BATCH, patience=None,
                   refit=True, verbose=0, callbacks=[stop, watcher])
    assert result.epochs_run == 2 and result.refit["epochs"] == 2 and result.refit["rows"] == 120
    assert watcher.epochs == 2  # the first fit's epochs only: the refit has no validation rows to show it
