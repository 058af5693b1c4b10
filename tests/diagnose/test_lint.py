"""fold_linear against two oracles (Keras's own predict and the numpy reference), and every
lint rule against a broken model that must trigger it and a sound one that must not."""

import doctest
import sys
import warnings

import keras
import numpy as np
import pytest

import kerasact
from kerasact import reference
from kerasact.diagnose import collapse
from kerasact.diagnose.linting import RULES, Finding, LintWarning
from kerasact.problems.heads import HEADS

L = keras.layers
N_FEATURES = 4
TOLERANCE = 1e-5
COUNTS = {"multiclass": {"n_classes": 3}, "multilabel": {"n_outputs": 3}}
# Hidden stacks with linear runs in every position fold_linear must handle.
STACKS = {
    "all_linear": [(8, "linear"), (6, "linear")],
    "linear_between_relus": [(8, "relu"), (6, "linear"), (5, "linear"), (4, "relu")],
    "linear_before_head": [(8, "relu"), (6, "linear")],
    "normalization_first": [(8, "linear"), (6, "relu")],
}


def _X(n=32, scale=1.0, seed=0):
    return (np.random.default_rng(seed).normal(size=(n, N_FEATURES)) * scale).astype(np.float32)


def _out(model, X):
    return np.asarray(model(X, training=False))  # eager call: no tf.function to trace per model


def _dense_count(model):
    return sum(type(layer).__name__ == "Dense" for layer in model.layers)


def _build(problem, hidden, *, normalize=None, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LintWarning)  # these stacks are linear on purpose
        model = kerasact.build_model(problem, N_FEATURES, hidden=hidden, normalize=normalize,
                                     seed=0, **COUNTS.get(problem, {}), **options)
    rng = np.random.default_rng(1)
    for layer in model.layers:  # non-zero biases, so folding the bias path is tested too
        if type(layer).__name__ == "Dense" and layer.use_bias:
            layer.bias.assign(rng.normal(size=layer.bias.shape).astype(np.float32))
    return model


# -- fold_linear ---------------------------------------------------------------------------
# Every head under the stacks whose run folds into the head; the others under one head each.
FOLD_CASES = [(stack, problem) for stack in ("all_linear", "linear_before_head")
              for problem in sorted(HEADS)] + [("linear_between_relus", "multiclass"),
                                               ("normalization_first", "regression")]


@pytest.mark.parametrize("stack,problem", FOLD_CASES)
def test_fold_linear_keeps_predictions_and_reports_params(stack, problem):
    X = _X(scale=5.0)
    model = _build(problem, STACKS[stack], normalize=X if stack == "normalization_first" else None)
    plan = collapse.plan_fold(model)
    folded = kerasact.fold_linear(model)

    np.testing.assert_allclose(_out(folded, X), _out(model, X), rtol=TOLERANCE, atol=TOLERANCE)
    np.testing.assert_allclose(_out(folded, X), reference.forward(model, X),
                               rtol=TOLERANCE, atol=TOLERANCE)
    merged = sum(len(run.layers) - 1 for run in plan.runs)
    assert merged >= 1 and _dense_count(folded) == _dense_count(model) - merged
    assert plan.params_before == model.count_params()
    assert plan.params_after == folded.count_params()
    assert [type(layer).__name__ for layer in folded.layers if type(layer).__name__ != "Dense"] \
        == [type(layer).__name__ for layer in model.layers if type(layer).__name__ != "Dense"]


@pytest.mark.parametrize("problem", sorted(HEADS))
def test_fold_linear_copies_compile_settings(problem):
    model = _build(problem, STACKS["all_linear"], learning_rate=0.02)
    folded = kerasact.fold_linear(model)
    assert type(folded.loss) is type(model.loss)
    assert folded.loss.get_config() == model.loss.get_config()
    assert type(folded.optimizer) is type(model.optimizer)
    assert float(folded.optimizer.learning_rate) == pytest.approx(0.02)
    assert folded.get_compile_config()["metrics"] == model.get_compile_config()["metrics"]
    assert kerasact.head_of(folded) == kerasact.head_of(model)


def test_fold_linear_of_uncompiled_model_with_nothing_to_fold_is_a_fresh_copy():
    model = keras.Sequential([keras.Input((N_FEATURES,)), L.Dense(5, "relu"), L.Dense(2)])
    folded = kerasact.fold_linear(model)
    assert folded is not model and not folded.compiled
    assert collapse.plan_fold(model).runs == () and _dense_count(folded) == 2
    assert all(a is not b for a, b in zip(folded.layers, model.layers))
    np.testing.assert_allclose(_out(folded, _X()), _out(model, _X()), rtol=TOLERANCE,
                               atol=TOLERANCE)


def test_fold_linear_handles_bias_free_dense_layers():
    model = keras.Sequential([keras.Input((N_FEATURES,)), L.Dense(6, use_bias=False),
                              L.Dense(5, use_bias=False), L.Dense(3, "tanh")])
    folded = kerasact.fold_linear(model)
    assert _dense_count(folded) == 1
    np.testing.assert_allclose(_out(folded, _X()), reference.forward(model, _X()),
                               rtol=TOLERANCE, atol=TOLERANCE)


@pytest.mark.parametrize("between", [L.Dropout(0.3, name="drop_mid"),
                                     L.BatchNormalization(name="bn_mid")],
                         ids=lambda layer: type(layer).__name__)
def test_fold_linear_refuses_affine_layers_between_dense_layers(between):
    model = keras.Sequential([keras.Input((N_FEATURES,)), L.Dense(6, name="lin"), between,
                              L.Dense(1, "sigmoid")])
    with pytest.raises(ValueError, match=f"'lin' across '{between.name}'"):
        kerasact.fold_linear(model)
    assert [f.code for f in kerasact.lint(model)] == ["linear-collapse"]


def test_batch_norm_then_activation_is_not_a_linear_run():
    model = _build("binary", [8, 6], batch_norm=True, dropout=0.2)
    assert collapse.plan_fold(model).runs == () and collapse.plan_fold(model).blocked == ()


def test_unbuilt_model_is_refused_by_name():
    model = keras.Sequential([L.Dense(3)], name="unbuilt")
    with pytest.raises(ValueError, match="'unbuilt'.*must be built"):
        collapse.plan_fold(model)
    with pytest.raises(ValueError, match="'unbuilt'.*must be built"):
        kerasact.lint(model)


# -- lint: sound models stay silent -------------------------------------------------------
HEAD_VARIANTS = [(p, logits) for p in sorted(HEADS) for logits in (False, True)
                 if HEADS[p].probabilistic or not logits]
VALID_Y = {"regression": lambda n: np.random.default_rng(2).normal(-5, 3, size=n),
           "binary": lambda n: np.arange(n) % 2,
           "multiclass": lambda n: np.arange(n) % 3,
           "multilabel": lambda n: np.stack([np.arange(n) % 2] * 3, axis=1)}


@pytest.mark.parametrize("options", [{}, {"batch_norm": True, "dropout": 0.2}],
                         ids=["defaults", "batch_norm_dropout"])
@pytest.mark.parametrize("problem,logits", HEAD_VARIANTS)
def test_build_model_with_valid_options_has_no_findings(problem, logits, options):
    with warnings.catch_warnings():
        warnings.simplefilter("error", LintWarning)  # any finding fails the build
        model = kerasact.build_model(problem, N_FEATURES, logits=logits,
                                     **COUNTS.get(problem, {}), **options)
    assert kerasact.lint(model, _X(), VALID_Y[problem](32)) == []


def test_classic_linear_hidden_layer_warns_with_the_params_fold_would_remove():
    with pytest.warns(LintWarning, match="linear-collapse") as caught:
        model = kerasact.build_model("binary", N_FEATURES, hidden=[(25, "linear"), (15, "relu")])
    assert caught[0].filename == __file__  # the warning points at the caller's line
    findings = kerasact.lint(model)
    run = collapse.plan_fold(model).runs[0]
    assert [f.code for f in findings] == ["linear-collapse"]
    assert findings[0].layer == model.layers[0].name
    assert f"{run.params_before} -> {run.params_after} parameters" in findings[0].message
    assert (run.params_before, run.params_after) == (25 * 5 + 15 * 26, 15 * 5)


# -- lint: one broken and one sound model per rule ----------------------------------------
def _model(*layers, loss=None, normalize=None):
    pre = [] if normalize is None else [L.Normalization()]
    model = keras.Sequential([keras.Input((N_FEATURES,)), *pre, *layers])
    if normalize is not None:
        pre[0].adapt(normalize)
    if loss is not None:
        model.compile(optimizer="adam", loss=loss)
    return model


BCE, CCE = keras.losses.BinaryCrossentropy, keras.losses.CategoricalCrossentropy
BIG_X = _X(scale=100.0)
# (rule code, should it fire, model factory, X, y)
CASES = [
    ("linear-collapse", True, lambda: _model(L.Dense(8), L.Dense(1, "sigmoid"), loss=BCE()), None, None),
    ("linear-collapse", True, lambda: _model(L.Dense(8), L.Dropout(0.2), L.Dense(1)), None, None),
    ("linear-collapse", False, lambda: _model(L.Dense(8, "relu"), L.Dense(1, "sigmoid"), loss=BCE()), None, None),
    ("linear-collapse", False, lambda: _model(L.Dense(8), L.Activation("tanh"), L.Dense(1)), None, None),
    ("softmax-binary-loss", True, lambda: _model(L.Dense(3, "softmax"), loss=BCE()), None, None),
    ("softmax-binary-loss", True, lambda: _model(L.Dense(3, "softmax"), loss="bce"), None, None),
    ("softmax-binary-loss", False, lambda: _model(L.Dense(3, "sigmoid"), loss=BCE()), None, None),
    ("sigmoid-categorical-loss", True, lambda: _model(L.Dense(4, "sigmoid"), loss=CCE()), None, None),
    ("sigmoid-categorical-loss", True,
     lambda: _model(L.Dense(4, "sigmoid"), loss=keras.losses.categorical_crossentropy), None, None),
    ("sigmoid-categorical-loss", False, lambda: _model(L.Dense(4, "softmax"), loss=CCE()), None, None),
    ("constant-output", True, lambda: _model(L.Dense(1, "softmax"), loss=BCE()), None, None),
    ("constant-output", True, lambda: _model(L.Dense(1), L.Activation("softmax")), None, None),
    ("constant-output", False, lambda: _model(L.Dense(1, "sigmoid"), loss=BCE()), None, None),
    ("missing-from-logits", True, lambda: _model(L.Dense(1), loss=BCE()), None, None),
    ("missing-from-logits", True, lambda: _model(L.Dense(3, "relu"), loss=CCE()), None, None),
    ("missing-from-logits", False, lambda: _model(L.Dense(1), loss=BCE(from_logits=True)), None, None),
    ("double-squashing", True, lambda: _model(L.Dense(1, "sigmoid"), loss=BCE(from_logits=True)), None, None),
    ("double-squashing", True, lambda: _model(
        L.Dense(3, "softmax"), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
     None, None),
    ("double-squashing", False, lambda: _model(L.Dense(1, "sigmoid"), loss=BCE()), None, None),
    ("output-range", True, lambda: _model(L.Dense(1, "relu"), loss="mse"), None, np.array([-1.0, 2.0])),
    ("output-range", True, lambda: _model(L.Dense(1, "elu"), loss="mse"), None, np.array([-3.0, 2.0])),
    ("output-range", False, lambda: _model(L.Dense(1, "relu"), loss="mse"), None, np.array([0.0, 2.0])),
    ("output-range", False, lambda: _model(L.Dense(1), loss="mse"), None, np.array([-9.0, 2.0])),
    ("vanishing-gradient", True, lambda: _model(*[L.Dense(8, "sigmoid") for _ in range(4)], L.Dense(1)),
     None, None),
    ("vanishing-gradient", True, lambda: _model(
        *[layer for _ in range(4) for layer in (L.Dense(8), L.Activation("tanh"))], L.Dense(1)),
     None, None),
    ("vanishing-gradient", False, lambda: _model(*[L.Dense(8, "sigmoid") for _ in range(3)], L.Dense(1)),
     None, None),
    ("vanishing-gradient", False, lambda: _model(*[L.Dense(8, "elu") for _ in range(6)], L.Dense(1)),
     None, None),
    ("unscaled-inputs", True, lambda: _model(L.Dense(4, "relu"), L.Dense(1)), BIG_X, None),
    ("unscaled-inputs", True, lambda: _model(L.Dropout(0.1), L.Dense(4, "relu"), L.Dense(1)),
     BIG_X, None),
    ("unscaled-inputs", False, lambda: _model(L.Dense(4, "relu"), L.Dense(1), normalize=BIG_X),
     BIG_X, None),
    ("unscaled-inputs", False, lambda: _model(L.Dense(4, "relu"), L.Dense(1)), _X(), None),
]


@pytest.mark.parametrize("code,fires,make,X,y", CASES,
                         ids=[f"{c[0]}-{'fires' if c[1] else 'silent'}-{i}" for i, c in enumerate(CASES)])
def test_rule(code, fires, make, X, y):
    model = make()
    findings = kerasact.lint(model, X, y)
    assert (code in [f.code for f in findings]) is fires, findings
    for finding in findings:
        assert finding.code in RULES and finding.message and finding.fix
        assert finding.layer is None or finding.layer in [layer.name for layer in model.layers]


def test_every_rule_has_a_firing_and_a_silent_case():
    covered = {(code, fires) for code, fires, *_ in CASES}
    assert covered == {(code, fires) for code in RULES for fires in (True, False)}


def test_select_runs_only_the_named_rules_and_refuses_unknown_codes():
    model = _model(L.Dense(8), L.Dense(1, "softmax"), loss=BCE())  # collapse + 2 output rules
    assert {f.code for f in kerasact.lint(model)} == {"linear-collapse", "softmax-binary-loss",
                                                       "constant-output"}
    assert [f.code for f in kerasact.lint(model, select=["constant-output"])] == ["constant-output"]
    with pytest.raises(ValueError, match="'nope'.*Valid options: .*'linear-collapse'"):
        kerasact.lint(model, select=["nope"])


def test_finding_is_frozen_and_prints_code_layer_and_fix():
    finding = Finding("linear-collapse", "dense_7", "It collapses.", "Use relu.")
    assert str(finding) == "linear-collapse [dense_7]: It collapses. Fix: Use relu."
    with pytest.raises(AttributeError):
        finding.code = "other"


def test_doctests():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LintWarning)  # the examples build a linear stack
        assert doctest.testmod(collapse).failed == 0
        assert doctest.testmod(sys.modules["kerasact.diagnose.linting"]).failed == 0
