"""Faults lose nothing: a run killed mid-training resumes from its run directory to the same
weights as an unbroken run; a NaN/inf loss stops training at once with a clear error and
keeps the last good epoch; the same seed gives bit-identical runs.
(A kill during save_model is tested in test_saving.py.)"""

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from kerasact import build_model
from kerasact.training import _run as training
from kerasact.training import train

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
EPOCHS = 12

TRAINER = f"""
import sys
import time
import keras
import numpy as np
from kerasact import build_model
from kerasact.runtime import seed_everything
from kerasact.training import train

run_dir, out = sys.argv[1], sys.argv[2]
seed_everything(0)
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 6)).astype("float32")
y = (X @ rng.normal(size=(6, 3))).argmax(axis=1)

class Say(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        print("epoch", epoch + 1, flush=True)
        # An epoch of 200 rows takes ~10 ms: paced to >= 50 ms, a kill within 0.3 s of epoch 3
        # lands mid-training (before the backup commit that follows this callback, or inside it).
        time.sleep(0.05)

model = build_model("multiclass", 6, n_classes=3, hidden=[32, 16], dropout=0.2, seed=0)
result = train(model, X, y, epochs={EPOCHS}, batch_size=16, run_dir=run_dir, patience=None, verbose=0,
               callbacks=[Say()])
np.savez(out, *model.get_weights())
print("done", result.resumed_from, result.epochs_run, flush=True)
"""


def _start(tmp_path: Path, name: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", TRAINER, str(tmp_path / name), str(tmp_path / f"{name}.npz")],
                            cwd=ROOT, env=ENV, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _line(proc: subprocess.Popen, timeout: float) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, f"trainer {proc.pid} said nothing for {timeout} s"
    line = proc.stdout.readline()
    assert line, proc.stderr.read()[-2000:]
    return line


def _weights(path: Path) -> list[np.ndarray]:
    with np.load(path) as saved:
        return [saved[f"arr_{i}"] for i in range(len(saved.files))]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_mid_training_resumes_to_the_weights_of_an_unbroken_run(tmp_path):
    unbroken, killed = _start(tmp_path, "unbroken"), _start(tmp_path, "killed")
    try:
        while _line(killed, 120) != "epoch 3\n":
            pass
        # A random moment in the next epochs, so some kills land inside a backup commit.
        select.select([], [], [], np.random.default_rng().uniform(0.0, 0.3))
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        assert "done" not in killed.stdout.read()
        resumed = _start(tmp_path, "killed")
        done = [line for line in resumed.communicate(timeout=120)[0].splitlines() if line.startswith("done")]
        assert resumed.returncode == 0, resumed.stderr
        _, resumed_from, epochs_run = done[0].split()
        assert 2 <= int(resumed_from) < EPOCHS and int(epochs_run) == EPOCHS
        assert unbroken.wait(timeout=120) == 0, unbroken.stderr.read()
    finally:
        for proc in (unbroken, killed):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    expected, got = _weights(tmp_path / "unbroken.npz"), _weights(tmp_path / "killed.npz")
    assert len(expected) == len(got) and all(np.array_equal(a, b) for a, b in zip(expected, got))
    history = [json.loads((tmp_path / name / "metrics.json").read_text())["history"] for name in ("unbroken", "killed")]
    assert history[0] == history[1]
    assert not (tmp_path / "killed" / "backup").exists()  # a finished run keeps model.keras, not the backup


class Crash(Exception):
    pass


class CrashAfter(keras.callbacks.Callback):
    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise Crash


def _data(n=150, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype("float32")
    return X, (X @ rng.normal(size=(d, 3))).argmax(axis=1)


def test_crashed_run_resumes_bit_identical(tmp_path):
    """Without dropout; the SIGKILL test above covers a model with dropout."""
    X, y = _data()
    make = lambda: build_model("multiclass", 5, n_classes=3, hidden=[16, 8], seed=0)  # noqa: E731
    kwargs = dict(epochs=5, batch_size=16, patience=None, verbose=0)
    unbroken = train(make(), X, y, run_dir=tmp_path / "a", **kwargs)
    with pytest.raises(Crash):
        train(make(), X, y, run_dir=tmp_path / "b", callbacks=[CrashAfter(3)], **kwargs)
    assert json.loads((tmp_path / "b" / "backup" / "state.json").read_text())["epoch"] == 2
    resumed = train(make(), X, y, run_dir=tmp_path / "b", **kwargs)
    assert resumed.resumed_from == 2 and resumed.epochs_run == 5
    assert all(np.array_equal(a, b) for a, b in zip(unbroken.model.get_weights(), resumed.model.get_weights()))
    assert resumed.history == unbroken.history and resumed.metrics == unbroken.metrics


def test_run_killed_after_training_is_not_trained_again(tmp_path, monkeypatch):
    X, y = _data()
    make = lambda: build_model("multiclass", 5, n_classes=3, hidden=[8], seed=0)  # noqa: E731
    monkeypatch.setattr(training, "write_run", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        first = make()
        train(first, X, y, epochs=3, run_dir=tmp_path / "run", patience=None, verbose=0)
    monkeypatch.undo()
    epochs_seen = []
    counter = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs_seen.append(epoch))
    again = train(make(), X, y, epochs=3, run_dir=tmp_path / "run", patience=None, verbose=0, callbacks=[counter])
    assert epochs_seen == [] and again.resumed_from == 3 and again.epochs_run == 3
    assert all(np.array_equal(a, b) for a, b in zip(first.get_weights(), again.model.get_weights()))


class Poison(keras.callbacks.Callback):
    """Records the weights after epoch 2, then makes the loss infinite in epoch 3."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            self.good = [w.copy() for w in self.model.get_weights()]

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            self.model.set_weights([np.full_like(w, np.inf) for w in self.model.get_weights()])


@pytest.mark.parametrize("keep", [True, False])
def test_nan_loss_stops_at_once_and_keeps_the_last_good_epoch(tmp_path, keep):
    X, y = _data()
    model, poison = build_model("multiclass", 5, n_classes=3, hidden=[8], seed=0), Poison()
    began, seen = [], []  # epochs begun; (epoch, batch) of every batch that finished
    counter = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: began.append(epoch),
                                             on_train_batch_end=lambda batch, logs: seen.append((began[-1], batch)))
    with pytest.raises(FloatingPointError, match="Training loss became nan in epoch 3, batch") as info:
        train(model, X, y, epochs=10, patience=None, verbose=0, callbacks=[poison, counter],
              run_dir=tmp_path / "run" if keep else None)
    # Stopped in the first step call of epoch 3 (a model may run many batches per call).
    assert began[-1] == 2 and max(epoch for epoch, _ in seen) == 1, "training went on after the NaN"
    if not keep:
        assert "Pass log_dir to keep a checkpoint" in str(info.value)
        return
    assert "back at the end of epoch 2" in str(info.value) and "run_dir=" in str(info.value)
    assert all(np.array_equal(a, b) for a, b in zip(poison.good, model.get_weights()))
    state = json.loads((tmp_path / "run" / "backup" / "state.json").read_text())
    saved = np.load(tmp_path / "run" / "backup" / state["weights"])  # the weights first, in model.weights order
    assert state["epoch"] == 2
    assert all(np.array_equal(good, saved[f"weights_{i}"]) for i, good in enumerate(poison.good))


def test_recipe_exits_nonzero_with_a_clear_error_on_nan(tmp_path):
    cmd = [sys.executable, "-m", "recipes.regression", "--quick", "--lr", "1e30", "--logdir", str(tmp_path)]
    run = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=180)
    assert run.returncode != 0
    last_line = run.stderr.strip().splitlines()[-1]
    assert last_line.startswith("FloatingPointError: Training loss became"), run.stderr[-2000:]


def test_same_seed_gives_bit_identical_recipe_runs():
    from recipes import binary

    runs = [binary.main(quick=True, logdir=None, verbose=0)["result"] for _ in range(2)]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0].model.get_weights(), runs[1].model.get_weights()))
    assert runs[0].metrics == runs[1].metrics and runs[0].history == runs[1].history
    assert runs[0].metrics["loss"] > 0  # a real run, not two empty ones
