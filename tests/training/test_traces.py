"""One `train` traces each of its functions once: the train step, the test step (validation
every epoch, then test and validation scoring) and the serving function (the predictions the
scores and figures read); Keras's own `predict_step` is never traced."""

from collections import Counter

import numpy as np

from kerasact import build_model, train
from kerasact.runtime import serving


def test_train_traces_each_function_once(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = build_model("binary", 6, hidden=[8], seed=0)
    traced = Counter()
    for step in ("train_step", "test_step", "predict_step"):  # under tf.function a step's body runs only while tracing
        original = getattr(model, step)
        monkeypatch.setattr(model, step, lambda data, step=step, original=original: (
            traced.update([step]), original(data))[1])
    trace = serving._Server._trace
    monkeypatch.setattr(serving._Server, "_trace", lambda self, jit: (traced.update(["serving"]), trace(self, jit))[1])
    result = train(model, X, y, epochs=3, batch_size=16, log_dir=tmp_path, patience=2, verbose=0)
    assert result.epochs_run == 3 and (result.run_dir / "confusion_matrix.png").is_file()
    assert traced == {"train_step": 1, "test_step": 1, "serving": 1}, traced
