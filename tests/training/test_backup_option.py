"""`train(..., backup=False)`: no per-epoch backup is written (a search trial is cheaper to redo)."""

import keras
import numpy as np
import pytest

import kerasact


class _SeesBackup(keras.callbacks.Callback):
    def __init__(self, folder):
        super().__init__()
        self.folder, self.seen = folder, []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(self.folder.exists() and any(self.folder.iterdir()))


@pytest.mark.parametrize("backup", [True, False])
def test_backup_false_writes_no_backup_and_the_run_is_complete(tmp_path, backup):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] > 0).astype(int)
    run_dir = tmp_path / "run"
    probe = _SeesBackup(run_dir / "backup")
    kerasact.train(kerasact.build_model("binary", 3, hidden=[4]), X, y, epochs=3, run_dir=run_dir,
                   callbacks=[probe], verbose=0, backup=backup)
    assert probe.seen[1:] == [backup] * 2  # from the 2nd epoch on the backup holds the 1st
    assert (run_dir / "model.keras").exists() and not (run_dir / "backup").exists()


def test_backup_must_be_a_bool():
    with pytest.raises(TypeError, match="backup"):
        kerasact.train(kerasact.build_model("binary", 3), np.zeros((10, 3)), np.arange(10) % 2, backup="no")
