"""A run directory's backup/ that cannot be resumed into the model at hand (another model's, or a
damaged state.json) is refused in one short sentence naming run_dir and the fix, before any
training, with the model and the backup left as they were; a backup it can resume still does."""

import json
import re
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest

from kerasact import build_model, train
from kerasact.model import layers as preprocessing
from kerasact.training.callbacks import Backup

KWARGS = dict(epochs=4, batch_size=16, patience=None, verbose=0)
FIX = "; pass a fresh run_dir, or delete its backup/ folder to start over."


class Crash(Exception):
    pass


class CrashInEpoch2(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise Crash


class Count(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5)).astype("float32")
    return X, (X @ rng.normal(size=(5, 3))).argmax(axis=1)


def _model(**options):
    return build_model("multiclass", 5, n_classes=3, **{"hidden": [8], "seed": 0, **options})


@pytest.fixture(scope="module")
def crashed(tmp_path_factory) -> Path:
    """A run directory whose backup/ holds epoch 1 of `_model()` (the crash came before epoch 2's backup)."""
    run_dir = tmp_path_factory.mktemp("crashed") / "run"
    with pytest.raises(Crash):
        train(_model(), *_data(), run_dir=run_dir, callbacks=[CrashInEpoch2()], **KWARGS)
    return run_dir


@pytest.fixture
def run_dir(crashed, tmp_path) -> Path:
    shutil.copytree(crashed, tmp_path / "run")
    return tmp_path / "run"


def _refused(run_dir: Path, model: keras.Model, match: str) -> str:
    """Train into `run_dir`; check the refusal, and that nothing was trained, loaded or written."""
    state = (run_dir / "backup" / "state.json").read_bytes()
    files = sorted(p.relative_to(run_dir) for p in run_dir.rglob("*"))
    before, counter = model.get_weights(), Count()
    with pytest.raises(ValueError, match=match) as caught:
        train(model, *_data(), run_dir=run_dir, callbacks=[counter], **KWARGS)
    message = str(caught.value)
    assert type(caught.value) is ValueError and len(message) <= 300, message
    assert message.startswith(f"run_dir={str(run_dir)!r}: ")
    assert message.endswith(FIX), message
    assert counter.epochs == 0
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights())), "the model was changed"
    assert (run_dir / "backup" / "state.json").read_bytes() == state
    assert sorted(p.relative_to(run_dir) for p in run_dir.rglob("*")) == files
    return message


def _other(detail: str) -> str:
    return re.escape(f"its backup/ was written by a different model ({detail})")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        pytest.param({"hidden": [16]}, re.escape("its backup/ was written by a different model (weight 'dense")
                     + r"(_\d+)?" + re.escape("/kernel' is (5, 8) there, (5, 16) in this model)"), id="wider"),
        pytest.param({"hidden": [8, 8]}, _other("4 weights there, 6 in this model"), id="deeper"),
        pytest.param({"dropout": 0.2}, _other("0 dropout seed states there, 1 in this model"), id="dropout"),
        pytest.param({"optimizer": "sgd"}, _other("10 optimizer variables there, 2 in this model"), id="optimizer"),
    ],
)
def test_backup_of_another_model_is_refused(run_dir, options, match):
    _refused(run_dir, _model(**options), match)


def test_old_backup_without_shapes_falls_back_to_the_load_error(run_dir):
    state_path = run_dir / "backup" / "state.json"
    state = json.loads(state_path.read_text())
    del state["model"]  # as written before backups recorded their shapes
    state_path.write_text(json.dumps(state))
    message = _refused(run_dir, _model(hidden=[16]), re.escape("its backup/ is damaged or from a different "
                                                               "model (its weights would not load: "))
    assert "Target variable" not in message  # Keras's 2500-character account stays out


def test_old_backup_without_shapes_still_resumes(run_dir, tmp_path):
    state_path = run_dir / "backup" / "state.json"
    state = json.loads(state_path.read_text())
    del state["model"]
    state_path.write_text(json.dumps(state))
    resumed = train(_model(), *_data(), run_dir=run_dir, **KWARGS)
    unbroken = train(_model(), *_data(), run_dir=tmp_path / "unbroken", **KWARGS)
    assert resumed.resumed_from == 1 and resumed.epochs_run == 4
    assert all(np.array_equal(a, b) for a, b in zip(unbroken.model.get_weights(), resumed.model.get_weights()))


def test_a_backup_in_kerass_weights_h5_as_written_before_still_resumes(run_dir, tmp_path):
    """Backups were Keras's save_weights files before they became .npz: a run killed then resumes."""
    backup = run_dir / "backup"
    state = json.loads((backup / "state.json").read_text())
    model = _model()
    model.optimizer.build(model.trainable_variables)
    for variable, value in zip([*model.weights, *model.optimizer.variables],
                               np.load(backup / state["weights"]).values()):
        variable.assign(value)
    (backup / state["weights"]).unlink()
    model.save_weights(backup / "epoch-00001.weights.h5")
    (backup / "state.json").write_text(json.dumps({**state, "weights": "epoch-00001.weights.h5"}))
    resumed = train(_model(), *_data(), run_dir=run_dir, **KWARGS)
    unbroken = train(_model(), *_data(), run_dir=tmp_path / "unbroken", **KWARGS)
    assert resumed.resumed_from == 1
    assert all(np.array_equal(a, b) for a, b in zip(unbroken.model.get_weights(), resumed.model.get_weights()))


def test_restoring_puts_back_an_adapted_normalizations_statistics(tmp_path):
    X, y = _data()
    with pytest.raises(Crash):
        train(_model(normalize=True), X * 3 + 1, y, run_dir=tmp_path / "run", callbacks=[CrashInEpoch2()], **KWARGS)
    model = _model(normalize=True)
    preprocessing.adapt_on_training_rows(model, X, y)  # other statistics than the backup's
    Backup(tmp_path / "run" / "backup").restore(model)
    layer = next(layer for layer in model.layers if isinstance(layer, keras.layers.Normalization))
    np.testing.assert_allclose(np.ravel(layer.mean), np.ravel(layer.adapt_mean))  # what the layer computes with
    assert np.ravel(layer.mean).mean() > 0.5  # the backup's rows (mean ~1), not X's (mean ~0)


def _edit(**changes):
    def edit(state: dict) -> dict:
        return {**state, **changes}
    return edit


def _drop(key):
    return lambda state: {k: v for k, v in state.items() if k != key}


DAMAGED = [  # (what state.json becomes: bytes, or an edit of the good state; message detail)
    pytest.param(b"{oops", "not valid JSON: Expecting property name enclosed in double quotes", id="not-json"),
    pytest.param(b"", "not valid JSON: Expecting value", id="empty"),
    pytest.param(b"\xff\xfe{}", "not valid JSON: 'utf-8' codec can't decode", id="not-utf8"),
    pytest.param(b"[1, 2]", "a JSON list, not an object", id="list"),
    pytest.param(b"null", "a JSON NoneType, not an object", id="null"),
    pytest.param(_drop("weights"), "'weights' is None, not a file name '*.npz'", id="no-weights"),
    pytest.param(_edit(epoch=True), "'epoch' is True, not an int >= 0", id="epoch-bool"),
    pytest.param(_edit(epoch=-1), "'epoch' is -1, not an int >= 0", id="epoch-negative"),
    pytest.param(_edit(finished="no"), "'finished' is 'no', not a bool", id="finished-str"),
    pytest.param(_edit(weights="../../model.weights.h5"), "'weights' is '../../model.weights.h5', not a file name",
                 id="weights-outside"),
    pytest.param(_edit(weights="epoch-00009.weights.h5"),
                 "the weights file it names, 'epoch-00009.weights.h5', is missing", id="weights-missing"),
    pytest.param(_edit(history={"loss": ["a"]}), "'history' is {'loss': ['a']}, not {name: [numbers]}",
                 id="history-strings"),
    pytest.param(_edit(rng="x"), "'rng' is 'x', not a list of seed states", id="rng-str"),
    pytest.param(_edit(model=[]), "'model' is [], not {kind: [shapes]}", id="model-list"),
    pytest.param(_edit(model={"weights": [["5"]]}), "'model' is {'weights': [['5']]}, not", id="model-shape-str"),
]


@pytest.mark.parametrize(("damage", "detail"), DAMAGED)
def test_damaged_state_json_is_refused(run_dir, damage, detail):
    state_path = run_dir / "backup" / "state.json"
    if callable(damage):
        state_path.write_text(json.dumps(damage(json.loads(state_path.read_text()))))
    else:
        state_path.write_bytes(damage)
    _refused(run_dir, _model(), re.escape(f"its backup/state.json is damaged ({detail}"))


def test_backup_records_the_shapes_it_holds(crashed):
    state = json.loads((crashed / "backup" / "state.json").read_text())
    model = _model()
    assert state["model"]["weights"] == [list(w.shape) for w in model.weights]
    assert len(state["model"]["optimizer"]) == 2 + 2 * len(model.trainable_variables)  # Adam: moments, velocities


class CrashInEpoch71(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 70:
            raise Crash


def test_a_long_run_snapshots_every_few_epochs_and_resumes_from_the_last(tmp_path):
    """131 epochs: backup commits and weight histograms every 3rd epoch (about 64 per run), the last epoch's too."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from kerasact.training.callbacks import snapshot_every

    assert snapshot_every(131) == 3 and snapshot_every(64) == 1
    run_dir, options = tmp_path / "run", {**KWARGS, "epochs": 131, "batch_size": 120}
    with pytest.raises(Crash):
        train(_model(), *_data(), run_dir=run_dir, callbacks=[CrashInEpoch71()], **options)
    state = json.loads((run_dir / "backup" / "state.json").read_text())
    assert state["epoch"] == 69 and len(state["history"]["loss"]) == 69  # 71 done, the last commit at 69
    counter = Count()
    result = train(_model(), *_data(), run_dir=run_dir, callbacks=[counter], **options)
    assert counter.epochs == 131 - 69 and len(result.history["loss"]) == 131
    events = EventAccumulator(str(run_dir / "train"), size_guidance={"tensors": 0}).Reload()
    # (the resumed process names its layers anew, dense_1...: one set of steps over every weight tag)
    steps = sorted({e.step for t in events.Tags()["tensors"] if t.startswith("weights/") for e in events.Tensors(t)})
    assert steps == [*range(0, 131, 3), 130]  # 0, 3, ..., 129, then the last epoch
