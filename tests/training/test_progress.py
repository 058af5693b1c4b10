"""The progress a run shows: one line rewritten in place on a terminal, a few lines in a log,
the best epoch by the metric the run keeps its epoch by; and the kept epoch metrics.json records."""

from __future__ import annotations

import io

import keras
import numpy as np
import pytest

import kerasact
from kerasact.training.best_epoch import RestoreBestEpoch, kept_epoch
from kerasact.training.progress import LINES, Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _drive(progress: Progress, losses: list[float]) -> None:
    progress.set_params({"epochs": len(losses)})
    progress.on_train_begin()
    for epoch, loss in enumerate(losses):
        progress.on_epoch_end(epoch, {"loss": loss, "val_loss": loss + 0.1, "val_accuracy": 1 - loss})
    progress.on_train_end()


def test_a_log_gets_a_few_lines_with_the_first_and_the_last_epoch():
    out = io.StringIO()
    _drive(Progress([], stream=out), list(np.linspace(1.0, 0.1, 256)))
    lines = out.getvalue().splitlines()
    assert 3 <= len(lines) <= LINES + 2
    assert lines[0].startswith("epoch 1/256 ") and lines[-1].startswith("epoch 256/256 ")
    assert "\r" not in out.getvalue()


def test_a_run_stopped_between_logged_epochs_still_shows_its_last():
    out = io.StringIO()
    progress = Progress([], stream=out)
    progress.set_params({"epochs": 100})
    progress.on_train_begin()
    for epoch in range(37):  # early stopping ended it at epoch 37
        progress.on_epoch_end(epoch, {"loss": 1.0, "val_loss": 1.0})
    progress.on_train_end()
    last = out.getvalue().splitlines()[-1]
    assert last.startswith("epoch 37/100 ") and last.endswith(" in all") and "left" not in last


def test_a_terminal_gets_one_line_rewritten_in_place():
    out = Terminal()
    _drive(Progress([], stream=out), [0.9, 0.5, 0.7])
    text = out.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n") and text.count("\n") == 1  # 3 epochs, then the final line
    assert "epoch 3/3" in text.split("\r")[-1] and "best 0.6000 at epoch 2" in text.split("\r")[-1]


def test_the_line_shows_the_keepers_own_best_epoch():
    """An EarlyStopping keeps the first of tied epochs: the line says that one, not the latest."""
    stopper = keras.callbacks.EarlyStopping(patience=100, restore_best_weights=True)
    out = io.StringIO()
    progress = Progress([stopper], stream=out)
    model = _fit([stopper, progress])
    assert progress.best[1] == kept_epoch([stopper]) and model is not None


def test_the_best_epoch_follows_the_metric_the_run_keeps_its_epoch_by():
    out = io.StringIO()
    keeper = RestoreBestEpoch("val_accuracy", "max")
    progress = Progress([keeper], stream=out)
    _drive(progress, [0.9, 0.2, 0.2, 0.5])  # val_accuracy 0.1, 0.8, 0.8, 0.5: the latest of the tied best
    assert progress.metric == "val_accuracy" and progress.best == (pytest.approx(0.8), 3)


def _fit(steps: list, epochs: int = 6) -> keras.Model:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 3)).astype("float32"), rng.normal(size=(64, 1)).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")  # a rate that makes val_loss wander
    model.fit(X, y, validation_data=(X[:16], y[:16]), epochs=epochs, verbose=0, callbacks=steps)
    return model


@pytest.mark.parametrize("make", [lambda: RestoreBestEpoch("val_loss", "min"),
                                  lambda: keras.callbacks.EarlyStopping(patience=100, restore_best_weights=True)])
def test_kept_epoch_is_the_epoch_whose_weights_the_fit_ends_with(make):
    """Oracle: the kept epoch's validation loss, recomputed on the weights the fit ends with.
    Keras 3's EarlyStopping restores its best weights when training ends, stopped early or not."""
    history = keras.callbacks.History()
    step = make()
    model = _fit([history, step])
    kept = kept_epoch([step])
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 3)).astype("float32"), rng.normal(size=(64, 1)).astype("float32")
    now = float(model.evaluate(X[:16], y[:16], verbose=0))
    assert kept is not None and history.history["val_loss"][kept - 1] == pytest.approx(now, rel=1e-5)


def test_no_keeper_means_the_last_epoch():
    assert kept_epoch([keras.callbacks.EarlyStopping(patience=1)]) is None and kept_epoch([]) is None


def test_train_prints_progress_lines_not_kerass_per_epoch_lines(capsys):
    X = np.random.default_rng(0).normal(size=(120, 3)).astype("float32")
    y = (X[:, 0] > 0).astype(int)
    model = kerasact.build_model("binary", 3, hidden=[4])
    kerasact.train(model, X, y, epochs=30, verbose="auto", diagnostics=False)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch ")]
    assert 3 <= len(lines) <= LINES + 2 and lines[-1].startswith("epoch 30/30 ")


def test_time_left_is_timed_from_the_end_of_the_first_epoch(monkeypatch):
    """The first epoch also builds and traces the steps: it says no time left, and the estimate
    after it uses the later epochs' pace (here 1 s each, after a 60 s first epoch)."""
    clock = iter([0.0, 60.0, 61.0, 62.0])
    monkeypatch.setattr("kerasact.training.progress.time.perf_counter", lambda: next(clock))
    out = io.StringIO()
    progress = Progress([], stream=out)
    progress.set_params({"epochs": 12})
    progress.on_train_begin()  # t = 0
    progress.on_epoch_end(0, {"loss": 1.0})  # t = 60 (first epoch ends), read once for its line
    progress.on_epoch_end(1, {"loss": 0.9})  # t = 61 -> 1 s an epoch, 10 left
    first, second = out.getvalue().splitlines()
    assert "left" not in first and second.endswith("0:10 left")
