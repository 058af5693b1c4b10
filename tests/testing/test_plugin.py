"""kerasact.testing: every assertion passes on correct kerasact models of every head and fails,
saying what it expected, found and suspects, on deliberately broken ones; the plugin loads
through its pytest11 entry point without importing TensorFlow."""

import doctest
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasact import HEADS, build_model, head_of, testing
from kerasact.inputs import LABEL_FORMATS
from kerasact.testing import (
    _checks,
    _expect,
    _training_checks,
    assert_can_overfit,
    assert_finite,
    assert_gradients_flow,
    assert_gradients_match,
    assert_initial_loss,
    assert_matches_reference,
    assert_no_dead_units,
    assert_output_contract,
    assert_tensorboard_logged,
    assert_weights_update,
    make_dataset,
)
from kerasact.testing._expect import EXPECTATIONS, chance_loss

pytest_plugins = ["pytester"]
# Inner pytest runs skip Hypothesis's plugin, whose start-up costs ~1.5 s a run here.
NO_HYPOTHESIS = ("-p", "no:hypothesispytest")

ROOT = Path(__file__).resolve().parents[2]
D = 4
COUNT = {"regression": 2, "binary": 2, "multiclass": 3, "multilabel": 3}
PROBABILISTIC = sorted(name for name, head in HEADS.items() if head.probabilistic)
# The checks a correct model must pass, each on the slice of data a user would give it.
CHECKS = {
    "assert_output_contract": lambda m, X, y: assert_output_contract(m, X),
    "assert_matches_reference": lambda m, X, y: assert_matches_reference(m, X),
    "assert_gradients_match":
        lambda m, X, y: assert_gradients_match(m, X[:8], y[:8], max_per_weight=5),
    "assert_initial_loss": lambda m, X, y: assert_initial_loss(m, X, y),
    "assert_can_overfit": lambda m, X, y: assert_can_overfit(m, X[:16], y[:16]),
    "assert_weights_update": lambda m, X, y: assert_weights_update(m, X, y),
    "assert_finite": lambda m, X, y: assert_finite(m, X),
    "assert_no_dead_units": lambda m, X, y: assert_no_dead_units(m, X),
    "assert_gradients_flow": lambda m, X, y: assert_gradients_flow(m, X, y),
}


def _count(problem):
    return {"n_classes" if HEADS[problem].count == "classes" else "n_outputs": COUNT[problem]}


def _build(problem, **options):
    return build_model(problem, D, **{"hidden": (16, 8), **options}, seed=0, **_count(problem))


def _data(problem):
    return make_dataset(problem, features=D, count=COUNT[problem])


@pytest.fixture(scope="module", params=sorted(HEADS))
def correct(request):
    model = _build(request.param)
    return model, *_data(request.param)


def test_every_public_assertion_is_exercised_on_correct_models():
    assert set(testing.__all__) - {"make_dataset", "assert_tensorboard_logged"} == set(CHECKS)


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_assertion_passes_on_a_correct_model_and_leaves_it_unchanged(correct, check):
    model, X, y = correct
    before = model.get_weights()
    CHECKS[check](model, X, y)
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(before, model.get_weights()))


@pytest.mark.parametrize("problem", PROBABILISTIC)
def test_logit_models_are_checked_on_their_probabilities(problem):
    model, (X, y) = _build(problem, logits=True), _data(problem)
    assert_output_contract(model, X)
    assert_initial_loss(model, X, y)


def test_logit_models_overfit_in_probability_space():
    model, (X, y) = _build("binary", logits=True), _data("binary")
    assert_can_overfit(model, X[:16], y[:16])
    too_slow = r"after 1 steps at learning rate 1e-09 .*expected <= 0\.0\d+ \(0\.05 x"
    with pytest.raises(AssertionError, match=too_slow):
        assert_can_overfit(model, X[:16], y[:16], epochs=1, learning_rate=1e-9)


@pytest.mark.parametrize("problem", sorted(HEADS))
def test_expected_initial_loss_is_the_closed_form_chance_loss(problem):
    closed_form = {"regression": lambda y: np.mean(y ** 2), "binary": lambda y: np.log(2),
                   "multiclass": lambda y: np.log(COUNT["multiclass"]), "multilabel": lambda y: np.log(2)}
    model, (X, y) = _build(problem), _data(problem)
    assert chance_loss(model, head_of(model), y) == pytest.approx(closed_form[problem](y), rel=1e-5)
    # A head whose logits are exactly 0 sits on the expected loss, so even factor 1 + 1e-5 passes.
    model.layers[-1].set_weights([np.zeros_like(w) for w in model.layers[-1].get_weights()])
    assert_initial_loss(model, X, y, factor=1 + 1e-5)


@pytest.mark.parametrize("problem", sorted(HEADS))
def test_every_head_has_expectations(problem):
    assert problem in EXPECTATIONS


"""Broken models: each fails the assertion that should catch it, with a message that teaches."""


class Dense(keras.layers.Dense):
    """Named like Keras's Dense, so the numpy reference reads it as one, but adds 0.5."""

    def call(self, inputs):
        return super().call(inputs) + 0.5


class StoppedSquare(keras.layers.Layer):
    """Computes x + x**2 but hides the square from autodiff."""

    def call(self, x):
        return x + tf.stop_gradient(x * x)


def _seq(units, activation, loss, *, init="glorot_uniform", middle=(), hidden_dense=keras.layers.Dense):
    """A small hand-built model: 8 tanh units ("pre"), optional middle layers, then "out"."""
    model = keras.Sequential([
        keras.Input((D,)),
        hidden_dense(8, activation="tanh", kernel_initializer=init, name="pre"),
        *middle,
        keras.layers.Dense(units, activation=activation, kernel_initializer=init, name="out"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss)
    return model


def _softmax_binary():
    return _seq(1, "softmax", keras.losses.BinaryCrossentropy())


def _frozen():
    model = _build("binary")
    model.layers[0].trainable = False
    return model


def _zero_lr():
    model = _build("binary")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss=model.loss)
    return model


def _dead_relu():
    model = _build("binary")
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    return model


def _nan_weights():
    model = _build("binary")
    head = model.layers[-1].get_weights()
    head[0][0, 0] = np.nan  # in the head: a ReLU would turn an earlier NaN into 0
    model.layers[-1].set_weights(head)
    return model


def OVERFIT_60(m, X, y):  # noqa: N802 - a check like the CHECKS entries; these fail at any length
    assert_can_overfit(m, X[:16], y[:16], epochs=60)


BCE, MSE, SCCE = (keras.losses.BinaryCrossentropy(), keras.losses.MeanSquaredError(),
                  keras.losses.SparseCategoricalCrossentropy())
HUGE = keras.initializers.RandomNormal(stddev=10.0)
CONTRACT, INITIAL = CHECKS["assert_output_contract"], CHECKS["assert_initial_loss"]
WEIGHTS = CHECKS["assert_weights_update"]
# name: (model factory, data problem, assertion, message pattern)
BROKEN = {
    "softmax-1-unit-bce/contract": (
        _softmax_binary, "binary", CONTRACT,
        r"applies softmax, but the loss 'binary_crossentropy' of problem 'binary' pairs with a sigmoid output"),
    "softmax-1-unit-bce/initial-loss": (
        _softmax_binary, "binary", INITIAL,
        r"initial loss \d\.\d+ is \d+\.\dx the expected 0\.6931 \(ln 2.*applies softmax"),
    "softmax-1-unit-bce/overfit": (
        _softmax_binary, "binary", OVERFIT_60, r"cannot overfit 16 samples.*applies softmax"),
    "softmax-k-bce/contract": (
        lambda: _seq(3, "softmax", BCE), "multilabel", CONTRACT,
        r"problem 'multilabel' pairs with a sigmoid output"),
    "sigmoid-multiclass/contract": (
        lambda: _seq(3, "sigmoid", SCCE), "multiclass", CONTRACT,
        r"softmax rows sum to \d\.\d\d instead of 1 \(row \d+\) — is the output layer softmax\?"),
    "multiclass-1-unit/contract": (
        lambda: _seq(1, "softmax", SCCE), "binary", CONTRACT,
        r"shape \(64, 1\), expected \(64, units\) with units >= 2"),
    "relu-head-bce/contract": (
        lambda: _seq(1, "relu", BCE), "binary", CONTRACT, r"applies relu, but .* pairs with a sigmoid output"),
    "relu-head-bce/initial-loss": (
        lambda: _seq(1, "relu", BCE), "binary", INITIAL, r"initial loss .*x the expected 0\.6931.*applies relu"),
    "relu-head-regression/contract": (
        lambda: _seq(2, "relu", MSE), "regression", CONTRACT,
        r"applies relu, but .* 'regression' pairs with a linear output"),
    "relu-head-regression/overfit": (
        lambda: _seq(2, "relu", MSE), "regression", OVERFIT_60,
        r"targets span \[-\d.*\] but the output layer only reaches \[0, inf\]"),
    "huge-init-binary/initial-loss": (
        lambda: _seq(1, "sigmoid", BCE, init=HUGE), "binary", INITIAL, r"too large: a large kernel initializer"),
    "huge-init-regression/initial-loss": (
        lambda: _seq(2, None, MSE, init=HUGE), "regression", INITIAL, r"mean\(y\*\*2\).*too large"),
    "frozen-layer/weights": (
        _frozen, "binary", WEIGHTS,
        r"2 of 6 .* frozen layers \(trainable=False\): \['[\w/]+/kernel', '[\w/]+/bias'\]"),
    "zero-lr/weights": (_zero_lr, "binary", WEIGHTS, r"6 of 6 .*the learning rate is 0"),
    "zero-lr/overfit": (_zero_lr, "binary", OVERFIT_60, r"at learning rate 0 .*the learning rate is 0"),
    "dead-relu/weights": (_dead_relu, "binary", WEIGHTS, r"5 of 6 .*dead ReLUs"),
    "dead-relu/overfit": (_dead_relu, "binary", OVERFIT_60, r"cannot overfit"),
    "dead-relu/dead-units": (
        _dead_relu, "binary", CHECKS["assert_no_dead_units"],
        r"at most 50% dead .*dense\w*: 16 of 16 relu units \(100%\) are dead on all 64 rows of X; "
        r"dense\w*: 8 of 8 .* — Lower the"),
    "dead-relu/gradients-flow": (
        _dead_relu, "binary", CHECKS["assert_gradients_flow"], r"found 0 \(0 vs 0\) — the relu stack"),
    "deep-sigmoid/gradients-flow": (
        lambda: _build("binary", hidden=[(32, "sigmoid")] * 8), "binary", CHECKS["assert_gradients_flow"],
        r"at least 0\.001 of the head's .*the sigmoid stack is vanishing: Use a non-saturating"),
    "nan-weights/finite": (
        _nan_weights, "binary", CHECKS["assert_finite"],
        r"1 weight\(s\) hold NaN/inf, expected all finite: [\w/]+_head/kernel \(1 of 8 NaN/inf\)"),
    "nan-weights/contract": (_nan_weights, "binary", CONTRACT, r"64 of 64 outputs are NaN/inf"),
    "lying-dense/reference": (
        lambda: _seq(1, "sigmoid", BCE, hidden_dense=Dense), "binary", CHECKS["assert_matches_reference"],
        r"differs from the numpy reference at \(\d+, 0\)"),
    "stopped-gradient/gradients": (
        lambda: _seq(1, None, MSE, middle=[StoppedSquare()]), "regression",
        lambda m, X, y: assert_gradients_match(m, X[:8], y[:8, :1]),
        r"worst weight '[\w/]*pre/(kernel|bias)' has relative error"),
}


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1")
@pytest.mark.filterwarnings("ignore::kerasact.LintWarning")
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_assertion_fails_on_a_broken_model_with_a_clear_message(case):
    factory, problem, check, pattern = BROKEN[case]
    X, y = _data(problem)
    with pytest.raises(AssertionError, match=pattern):
        check(factory(), X, y)


@pytest.mark.parametrize("outputs", ["as computed", "NaN hidden", "NaN propagated"])
def test_nan_inputs_are_caught_even_where_relu_hides_them(monkeypatch, outputs):
    # Whether a NaN input reaches the outputs is the kernel's choice: oneDNN's fused matmul +
    # ReLU maps NaN to 0, the Eigen kernels TF runs without it (TF_ENABLE_ONEDNN_OPTS=0) pass it
    # on. The check must name X either way, so both outcomes are forced here, besides the one
    # this CPU's kernel gives.
    X, _ = _data("binary")
    X[3, 1] = np.nan
    model = _build("binary")
    if outputs != "as computed":
        fill = 0.5 if outputs == "NaN hidden" else np.nan
        monkeypatch.setattr(model, "predict_on_batch", lambda x: np.full((len(x), 1), fill, np.float32))
    with pytest.raises(AssertionError, match=r"X holds 1 NaN/inf value\(s\) \(rows \[3\]"):
        assert_finite(model, X)


def test_weights_frozen_on_purpose_can_be_skipped():
    model, (X, y) = _frozen(), _data("binary")
    assert_weights_update(model, X, y, skip=[model.layers[0].name])


def test_problem_argument_covers_losses_head_of_cannot_read():
    class MyBCE(keras.losses.Loss):
        """A user's own loss class, derived from no head-table loss: no head row lists it."""

        def call(self, y_true, y_pred):
            return keras.losses.binary_crossentropy(y_true, y_pred)

    class ScaledBCE(keras.losses.BinaryCrossentropy):
        """A subclass of a head-table loss reads as that loss's head (head_of walks the MRO)."""

    assert head_of(_seq(1, "sigmoid", ScaledBCE())).head.name == "binary"
    model, (X, y) = _seq(1, "sigmoid", MyBCE()), _data("binary")
    with pytest.raises(ValueError, match=r"Pass problem= \(one of \['binary', 'multiclass'"):
        assert_output_contract(model, X)
    assert_output_contract(model, X, problem="binary")
    assert_initial_loss(model, X, y, problem="binary")
    with pytest.raises(AssertionError, match="problem 'multiclass' pairs with a softmax output"):
        assert_output_contract(model, X, problem="multiclass")


def test_uncompiled_models_are_refused_with_a_value_error():
    model = keras.Sequential([keras.Input((D,)), keras.layers.Dense(1, activation="sigmoid")])
    X, y = _data("binary")
    with pytest.raises(ValueError, match="must be compiled with a loss"):
        assert_weights_update(model, X, y)


"""TensorBoard tags, read back with TensorBoard's reader."""


def _write_scalars(folder, tags):
    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        for tag in tags:
            tf.summary.scalar(tag, 1.0, step=0)
    writer.close()


def test_tensorboard_tags_pass_when_logged_and_list_what_was_found_when_not(tmp_path):
    _write_scalars(tmp_path / "train", ["epoch_loss", "epoch_accuracy"])
    _write_scalars(tmp_path / "validation", ["epoch_loss"])
    assert_tensorboard_logged(tmp_path, ["epoch_loss", "validation/epoch_loss", "train/epoch_accuracy"])
    assert_tensorboard_logged(tmp_path, "epoch_accuracy")
    listing = r"train: \['epoch_accuracy', 'epoch_loss'\]; validation: \['epoch_loss'\]"
    with pytest.raises(AssertionError, match=r"\['epoch_auc', 'validation/epoch_accuracy'\] not found .*" + listing):
        assert_tensorboard_logged(tmp_path, ["epoch_auc", "validation/epoch_accuracy"])


@pytest.mark.parametrize("where", ["empty", "missing"])
def test_tensorboard_without_event_files_says_so(tmp_path, where):
    log_dir = tmp_path if where == "empty" else tmp_path / "nowhere"
    with pytest.raises(AssertionError, match="no TensorBoard event files"):
        assert_tensorboard_logged(log_dir, ["epoch_loss"])


"""Fixtures and datasets."""


@pytest.mark.parametrize("problem", sorted(HEADS))
def test_datasets_are_deterministic_balanced_and_fit_every_loss_of_the_head(problem):
    for name, option in HEADS[problem].losses.items():
        state = np.random.get_state()[1].copy()
        X, y = make_dataset(problem, count=COUNT[problem], labels=option.labels)
        X2, y2 = make_dataset(problem, count=COUNT[problem], labels=option.labels)
        assert np.array_equal(state, np.random.get_state()[1])  # global random state untouched
        assert X.shape == (64, 4) and X.dtype == np.float32
        assert np.array_equal(X, X2) and np.array_equal(y, y2)
        if option.labels != "values":  # every class present, and every label both on and off
            dense = LABEL_FORMATS[option.labels].as_outputs(y, HEADS[problem].units(COUNT[problem]))
            assert np.all(dense.max(axis=0) == 1) and np.all(dense.min(axis=0) == 0)
        model = _build(problem, loss=name)
        assert np.isfinite(float(model.loss(y, model(X))))


def test_docstring_examples_run():
    for module in (testing, _expect, _checks, _training_checks):
        assert doctest.testmod(module).failed == 0


def test_dataset_arguments_are_validated_against_the_tables():
    with pytest.raises(ValueError, match=r"labels='ordinal' is not a label format. Valid options: \['binary'"):
        make_dataset("binary", labels="ordinal")
    with pytest.raises(ValueError, match="Unknown problem='ranking'"):
        make_dataset("ranking")


def test_run_dir_fixture_is_fresh_and_under_tmp_path(kerasact_run_dir, tmp_path, kerasact_dataset):
    assert kerasact_run_dir.is_dir() and not any(kerasact_run_dir.iterdir())
    assert kerasact_run_dir.is_relative_to(tmp_path)
    assert kerasact_dataset is make_dataset


SEED_TEST = """
import numpy as np

def test_seed(kerasact_seed):
    assert kerasact_seed == {seed}
    assert np.random.random() == np.random.RandomState({seed}).random_sample()
"""


def test_seed_fixture_reads_the_command_line_then_the_ini_file(pytester):
    pytester.makepyfile(test_seed=SEED_TEST.format(seed=7))
    pytester.runpytest(*NO_HYPOTHESIS, "--kerasact-seed", "7").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nkerasact_seed = 5\n")
    pytester.makepyfile(test_seed=SEED_TEST.format(seed=5))
    pytester.runpytest(*NO_HYPOTHESIS).assert_outcomes(passed=1)


"""The plugin itself: an entry point, cheap to import, and working in a user's fresh pytest run."""


def test_plugin_is_registered_as_a_pytest11_entry_point():
    points = {ep.name: ep.value for ep in metadata.entry_points(group="pytest11")}
    assert points.get("kerasact") == "kerasact.testing"


def test_importing_the_plugin_imports_neither_numpy_nor_keras_nor_tensorflow():
    code = ("import sys, kerasact.testing; "
            "print(sorted(m for m in ('numpy', 'keras', 'tensorflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_plugin_can_be_disabled_like_any_pytest_plugin(pytester):
    pytester.makepyfile("def test_dir(kerasact_run_dir):\n    assert kerasact_run_dir.is_dir()\n")
    pytester.runpytest(*NO_HYPOTHESIS).assert_outcomes(passed=1)
    result = pytester.runpytest(*NO_HYPOTHESIS, "-p", "no:kerasact")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'kerasact_run_dir' not found*"])


BROKEN_USER_FILE = '''
import keras
import kerasact
from kerasact.testing import assert_finite, assert_initial_loss, assert_output_contract, assert_weights_update


def softmax_binary():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="softmax")])
    model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy())
    return model


def test_softmax_head_for_a_binary_problem(kerasact_dataset):
    X, y = kerasact_dataset("binary")
    assert_output_contract(softmax_binary(), X)


def test_softmax_head_initial_loss(kerasact_dataset):
    X, y = kerasact_dataset("binary")
    assert_initial_loss(softmax_binary(), X, y)


def test_frozen_layer(kerasact_dataset):
    X, y = kerasact_dataset("binary")
    model = kerasact.build_model("binary", 4, hidden=[8])
    model.layers[0].trainable = False
    assert_weights_update(model, X, y)


def test_nan_weights(kerasact_dataset):
    X, y = kerasact_dataset("binary")
    model = kerasact.build_model("binary", 4, hidden=[8])
    model.layers[0].kernel.assign(float("nan") * model.layers[0].kernel)
    assert_finite(model, X)
'''


def test_a_users_fresh_pytest_run_gets_the_plugin_through_its_entry_point(pytester, monkeypatch):
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    shutil.copy(ROOT / "recipes" / "test_my_model.py", pytester.path / "test_my_model.py")
    pytester.makepyfile(test_broken=BROKEN_USER_FILE)
    result = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider", *NO_HYPOTHESIS, timeout=300)
    n_recipe = (ROOT / "recipes" / "test_my_model.py").read_text().count("\ndef test_")
    result.assert_outcomes(passed=n_recipe, failed=4)
    assert len(re.findall(r"test_my_model\.py::\w+ PASSED", result.stdout.str())) == n_recipe
    result.stdout.fnmatch_lines_random([
        "E * applies softmax, but the loss 'binary_crossentropy' of problem 'binary' pairs with a sigmoid output",
        "E *initial loss * is *x the expected 0.6931 (ln 2*",
        "E *frozen layers (trainable=False)*",
        "E *weight(s) hold NaN/inf*",
    ])
    # __tracebackhide__: failures point at the user's line, not into kerasact's modules.
    for module in ("_checks.py", "_training_checks.py", "_expect.py"):
        assert f"kerasact/{module}" not in result.stdout.str()
