"""Training diagnostics: dead and saturated units, gradient flow, the warnings they teach, and
what the callback writes to TensorBoard. Models are built broken on purpose; a healthy one must
trigger nothing."""

import json
import warnings

import numpy as np
import pytest

from kerasact import activations, build_model, data, train
from kerasact.diagnose import LintWarning, advice, health
from kerasact.diagnose._lint_rules import SATURATION_SLOPE
from kerasact.diagnose.monitor import Diagnostics, TrainingWarning
from kerasact.model import layers as preprocessing
from kerasact.training.tensorboard import read_plugin_tags, read_scalars


@pytest.fixture(scope="module")
def cancer():
    ds = data.load_dataset("breast_cancer")
    return ds.X.astype("float32"), ds.y


def _model(cancer, hidden, **kw):
    X, y = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LintWarning)  # lint sees the sigmoid stack coming too
        model = build_model("binary", X.shape[1], hidden=hidden, normalize=True, seed=0, **kw)
    preprocessing.adapt_on_training_rows(model, X, y)
    return model


def _dead(cancer):
    """A ReLU layer whose bias is -100 on 70% of its units: they can never turn on."""
    model = _model(cancer, [(16, "relu"), (20, "relu")])
    layer = health.dense_layers(model)[1]
    bias = layer.bias.numpy()
    bias[:14] = -100.0
    layer.bias.assign(bias)
    return model


def _saturated(cancer):
    """A tanh layer whose weights are 100 times too large: |z| is far beyond tanh's slope."""
    model = _model(cancer, [(16, "relu"), (16, "tanh")])
    layer = health.dense_layers(model)[1]
    layer.kernel.assign(layer.kernel.numpy() * 100)
    return model


def _vanishing(cancer):
    """Eight sigmoid layers: each multiplies the backward signal by at most 0.25."""
    return _model(cancer, [(32, "sigmoid")] * 8)


TRIGGERS = {"dead-units": _dead, "saturated-units": _saturated, "vanishing-gradients": _vanishing}


def test_every_rule_has_a_model_built_to_trigger_it():
    assert set(TRIGGERS) == set(advice.RULES)


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_each_broken_model_is_flagged_with_its_fix(cancer, code):
    X, y = cancer
    found = advice.advise([], health.probe(TRIGGERS[code](cancer), X[:256], y[:256].astype("float32")))
    assert code in [f.code for f in found]
    finding = next(f for f in found if f.code == code)
    assert finding.fix == advice.RULES[code].fix and finding.layer


def test_the_dead_layer_is_named_with_its_share(cancer):
    X, y = cancer
    model = _dead(cancer)
    found = advice.advise([], health.probe(model, X[:256], y[:256].astype("float32")))
    assert [f.code for f in found] == ["dead-units"]  # 30% of the layer still carries the gradient
    layer = health.dense_layers(model)[1].name
    assert found[0].layer == layer
    assert found[0].message.startswith(f"70% of {layer}'s relu units are dead at the end of training")


def test_sigmoid_vanishes_with_depth_where_tanh_and_relu_do_not(cancer):
    X, y = cancer
    rows = X[:256], y[:256].astype("float32")
    ratios = {act: health.probe(_model(cancer, [(32, act)] * 8), *rows).gradient_ratio
              for act in ("sigmoid", "tanh", "relu")}
    assert ratios["sigmoid"] < advice.VANISHING_RATIO < min(ratios["tanh"], ratios["relu"])


@pytest.fixture(scope="module")
def healthy(cancer, tmp_path_factory):
    X, y = cancer
    model = build_model("binary", X.shape[1], hidden=[(16, "relu"), (8, "tanh")], normalize=True, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingWarning)  # a healthy model must trigger nothing
        return train(model, X, y, epochs=20, patience=None, log_dir=tmp_path_factory.mktemp("runs"), verbose=0)


def test_dead_units_cut_the_gradient_and_only_the_dead_rule_speaks(cancer):
    X, y = cancer
    model = _model(cancer, [(16, "relu"), (8, "relu")])
    layer = health.dense_layers(model)[0]
    layer.bias.assign(np.full(16, -100.0, "float32"))  # the whole first layer dead: no gradient below it
    found = advice.advise([], health.probe(model, X[:256], y[:256].astype("float32")))
    # Both layers (the second gets only zeros), and not also "vanishing", with advice to use relu.
    assert [f.code for f in found] == ["dead-units", "dead-units"]


def test_a_healthy_model_triggers_nothing(healthy):
    assert healthy.diagnostics == []
    report = json.loads((healthy.run_dir / "metrics.json").read_text())["diagnostics"]
    assert report["warnings"] == [] and report["probed_epochs"] == [1, 2, 4, 8, 16]
    assert [layer["kind"] for layer in report["layers"].values()] == ["dead", "saturated"]  # relu, tanh
    assert 0 < report["gradient_ratio"] < 1 / advice.VANISHING_RATIO


def test_the_callback_writes_diagnostics_to_tensorboard(healthy):
    scalars = read_scalars(healthy.run_dir)["train"]
    steps = {1, 2, 4, 8, 16}
    first, second, head = (layer.name for layer in health.dense_layers(healthy.model))
    assert {s + 1 for s, _ in scalars[f"diagnostics/dead_units/{first}"]} == steps | {20}  # and the trained model
    assert {s + 1 for s, _ in scalars[f"diagnostics/saturated_units/{second}"]} == steps | {20}
    assert {t for t in scalars if t.startswith("diagnostics/gradient_norm/")} == {
        f"diagnostics/gradient_norm/{name}" for name in (first, second, head)}
    assert all(v >= 0 for _, v in scalars[f"diagnostics/update_ratio/{first}"])
    histograms = read_plugin_tags(healthy.run_dir, "histograms")["train"]
    assert {f"diagnostics/preactivation/{first}", f"diagnostics/activation/{second}"} <= set(histograms)


def test_a_broken_run_warns_at_the_end_and_keeps_the_warning(cancer, tmp_path):
    X, y = cancer
    # Dead before the first step (the bias was set so): the warning says so, not "after epoch 1".
    with pytest.warns(TrainingWarning, match=r"70% of dense\w*'s relu units are dead from the start: .* Fix: Lower"):
        result = train(_dead(cancer), X, y, epochs=2, patience=None, log_dir=tmp_path, verbose=0)
    saved = json.loads((result.run_dir / "metrics.json").read_text())["diagnostics"]["warnings"]
    assert [w["code"] for w in saved] == [f.code for f in result.diagnostics] == ["dead-units"]


def test_diagnostics_off_writes_none(cancer, tmp_path):
    X, y = cancer
    result = train(_dead(cancer), X, y, epochs=1, log_dir=tmp_path, verbose=0, diagnostics=False)
    assert result.diagnostics == []
    assert not [t for t in read_scalars(result.run_dir)["train"] if t.startswith("diagnostics/")]


@pytest.mark.parametrize(("value", "error"), [(0, ValueError), ("yes", TypeError), (2.5, TypeError)])
def test_a_bad_diagnostics_setting_is_refused(cancer, value, error):
    X, y = cancer
    with pytest.raises(error, match=r"diagnostics=.* is not valid: expected True .*, False, or an int >= 1"):
        train(_dead(cancer), X, y, epochs=1, diagnostics=value)


def test_the_schedule_is_log_spaced_or_every_n():
    assert [e + 1 for e in range(40) if Diagnostics([[0]], [0]).due(e)] == [1, 2, 4, 8, 16, 32]
    assert [e + 1 for e in range(10) if Diagnostics([[0]], [0], every=3).due(e)] == [3, 6, 9]


def test_preactivations_and_dead_units_match_numpy(cancer):
    X, y = cancer
    model = build_model("binary", X.shape[1], hidden=[(6, "relu")], seed=0)  # no normalisation: z = X W + b
    layer = health.dense_layers(model)[0]
    layer.bias.assign(np.array([-1e4, -1e4, 0, 0, 0, 0], "float32"))
    found = health.probe(model, X[:50] / 1000).sites[0]
    z = (X[:50].astype(np.float64) / 1000) @ layer.kernel.numpy() + layer.bias.numpy()
    np.testing.assert_allclose(found.z, z, rtol=1e-4, atol=1e-3)
    assert found.stalled == pytest.approx(np.all(z <= 0, axis=0).mean())


def test_gradient_norms_match_central_differences():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(32, 3)), rng.normal(size=32)
    model = build_model("regression", 3, hidden=[(4, "tanh")], dtype="float64", seed=0)
    found = health.probe(model, X, y)

    def loss():  # the model's mean squared error, in float64 (Keras computes its losses in float32)
        return float(np.mean((y - np.asarray(model(X))[:, 0]) ** 2))

    for layer in health.dense_layers(model):
        w, grad, eps = layer.kernel.numpy(), [], 1e-6
        for i in np.ndindex(w.shape):
            values = []
            for step in (eps, -eps):
                shifted = w.copy()
                shifted[i] += step
                layer.kernel.assign(shifted)
                values.append(loss())
            layer.kernel.assign(w)
            grad.append((values[0] - values[1]) / (2 * eps))
        assert found.gradients[layer.name] == pytest.approx(np.linalg.norm(grad), rel=1e-5)


@pytest.mark.parametrize("name", [n for n in activations.names() if health.saturation_point(activations.get(n))])
def test_the_saturation_point_is_where_the_catalog_slope_falls_below_lints_threshold(name):
    row = activations.get(name)
    point = health.saturation_point(row)
    beyond = np.abs(row.derivative(np.array([point, -point, 2 * point + 1, -2 * point - 1])))
    assert np.all(beyond < SATURATION_SLOPE)
    inside = np.abs(row.derivative(np.array([point * 0.98, -point * 0.98])))
    assert np.any(inside >= SATURATION_SLOPE)


def test_relu_family_can_die_and_leaky_or_smooth_ones_cannot():
    dies = {n: health.can_die(activations.get(n)) for n in ("relu", "relu6", "leaky_relu", "elu", "gelu",
                                                            "tanh_shrink", "sigmoid")}
    assert dies == {"relu": True, "relu6": True, "leaky_relu": False, "elu": False, "gelu": False,
                    "tanh_shrink": False, "sigmoid": False}
