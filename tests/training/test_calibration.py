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


@pytest.mark.parametrize(("link", "k"), [("softmax", 3), ("sigmoid", 2)])
def test_a_validation_set_classified_all_right_no_longer_makes_the_model_certain(link, k):
    rng = np.random.default_rng(2)
    labels = rng.integers(0, k, size=40)
    p = np.full((40, k), 0.1 / (k - 1))
    p[np.arange(40), labels] = 0.9  # every row right, at 0.9: the likelihood alone falls for ever as T -> 0
    p = p[:, 1:] if link == "sigmoid" else p
    mix = 1.0 / 41
    unregularised = fit_temperature(p, labels, link, mix=mix, prior_sd=None)
    t = fit_temperature(p, labels, link, mix=mix)

    def right(temperature):  # each row's probability of its own label
        q = temperature_numpy(p, temperature, link, mix)
        return np.where(labels == 1, q[:, 0], 1 - q[:, 0]) if link == "sigmoid" else q[np.arange(40), labels]

    certain = 1 - mix * (k - 1) / k
    assert unregularised < 0.02 and right(unregularised).min() > certain - 1e-6  # the old fit: 0 or 1 up to the mix
    assert 0.05 < t < 1.0 and 0.9 < right(t).max() < certain - 1e-3  # sharper than the model, not certain
    # The oracle: the MAP objective evaluated on a fine grid of log T has its minimum at the fitted T.
    grid = np.linspace(np.log(t) - 0.5, np.log(t) + 0.5, 2001)
    picked = [temperature_numpy(p, np.exp(g), link, mix) for g in grid]
    picked = [np.where(labels[:, None] == 1, q, 1 - q) if link == "sigmoid" else q[np.arange(40), labels]
              for q in picked]
    objective = [-np.log(q).sum() + 0.5 * g ** 2 for q, g in zip(picked, grid)]
    assert abs(grid[int(np.argmin(objective))] - np.log(t)) < 2e-3


def test_the_prior_hardly_moves_a_temperature_a_thousand_rows_pin_down():
    rng = np.random.default_rng(3)
    true = rng.dirichlet(np.ones(4), size=1000)
    labels = np.array([rng.choice(4, p=row) for row in true])
    seen = true ** 2 / (true ** 2).sum(axis=1, keepdims=True)  # sharpened: T = 2 undoes it
    assert fit_temperature(seen, labels, "softmax") == pytest.approx(
        fit_temperature(seen, labels, "softmax", prior_sd=None), rel=0.01)


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
