"""Temperature scaling after training (`ModelSpec(temperature_scaling=True)`, the realmlp preset's
classes): the fitted temperature recovers a known miscalibration (the oracle: probabilities
sharpened by a known power), never moves a prediction's class, and `train` sets it from the
validation rows before it scores the test rows."""

import numpy as np
import pandas as pd
import pytest

import kerasact
from kerasact.layers import fit_temperature, temperature_numpy


@pytest.mark.parametrize(("link", "k"), [("softmax", 5), ("sigmoid", 2)])
@pytest.mark.parametrize("sharpen", [0.5, 2.0])
def test_the_fitted_temperature_undoes_a_known_sharpening(link, k, sharpen):
    rng = np.random.default_rng(0)
    true = rng.dirichlet(np.ones(k) * 0.7, size=6000)
    labels = np.array([rng.choice(k, p=row) for row in true])
    # The model's output: the true probabilities with every log divided by `sharpen` (T=1/sharpen undoes it).
    logits = np.log(true) / sharpen
    seen = np.exp(logits - logits.max(axis=1, keepdims=True))
    seen /= seen.sum(axis=1, keepdims=True)
    p = seen[:, 1:] if link == "sigmoid" else seen
    t = fit_temperature(p, labels, link)
    assert t == pytest.approx(1.0 / sharpen, rel=0.1)
    calibrated = temperature_numpy(p, t, link)
    if link == "softmax":
        np.testing.assert_array_equal(calibrated.argmax(axis=1), p.argmax(axis=1))
    else:
        np.testing.assert_array_equal(calibrated[:, 0] > 0.5, p[:, 0] > 0.5)


def test_train_calibrates_on_the_validation_rows_before_scoring(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=160), "b": rng.normal(size=160)})
    frame["label"] = np.where(frame["a"] + 0.5 * rng.normal(size=160) > 0, "up", "down")
    result = kerasact.train_table(frame, "label", preset="realmlp", hidden=[16], epochs=4, batch_size=32,
                                  verbose=0)
    layer = result.model.get_layer("temperature")
    n_val = len(result.split.y_val)
    assert float(layer.mix.numpy()) == pytest.approx(1.0 / (n_val + 1))
    assert float(layer.temperature.numpy()) != pytest.approx(1.0)
    probabilities = kerasact.predict(result.model, frame.drop(columns="label"))
    assert ((probabilities > 0) & (probabilities < 1)).all()  # the uniform mix: never certain


def test_temperature_scaling_is_refused_where_there_is_no_one_label_probability():
    with pytest.raises(ValueError, match="temperature_scaling=True.*problem='regression'"):
        kerasact.build_model("regression", 3, temperature_scaling=True)
    with pytest.raises(ValueError, match="logits=True"):
        kerasact.build_model("binary", 3, temperature_scaling=True, logits=True)
