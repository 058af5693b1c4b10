"""kerasact.sklearn's estimators: the parameter table, the meaning of scikit-learn's
parameters, warm starts and partial fits that really continue, pickling, errors."""

import copy
import inspect
import pickle
import re
import warnings
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
from sklearn import neural_network
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.class_weight import compute_sample_weight

from kerasact.estimators import SPEC_FIELDS, _params
from kerasact.model import ModelSpec
from kerasact.sklearn import MLPClassifier, MLPRegressor

CLASSES = {MLPClassifier: neural_network.MLPClassifier, MLPRegressor: neural_network.MLPRegressor}
quiet = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=120, n_features=6, n_informative=4, random_state=0)
    return (X - X.mean(0)) / X.std(0), y


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=120, n_features=5, noise=5.0, random_state=0)
    return X, (y - y.mean()) / y.std()


# -- the parameter table -------------------------------------------------------------
@pytest.mark.parametrize("ours", CLASSES, ids=lambda c: c.__name__)
def test_the_signature_is_the_parameter_table(ours):
    signature = inspect.signature(ours.__init__).parameters
    table = {p.name: p.default for p in ours._PARAMS}
    assert {name: p.default for name, p in signature.items() if name != "self"} == table


@pytest.mark.parametrize("ours", CLASSES, ids=lambda c: c.__name__)
def test_every_scikit_learn_parameter_is_accepted_with_its_default_and_position(ours):
    theirs = inspect.signature(CLASSES[ours].__init__).parameters
    mine = inspect.signature(ours.__init__).parameters
    for name, param in theirs.items():
        assert name in mine, name
        assert mine[name].default == param.default or name == "loss", name
        assert mine[name].kind == param.kind, name
    assert list(mine)[:len(theirs)] == list(theirs)  # positional order too: MLPRegressor("squared_error", (50,))


def test_every_model_spec_field_is_set_by_a_parameter_or_says_why_not():
    spec_fields = {f.name for f in fields(ModelSpec) if f.init}
    assert set(SPEC_FIELDS) == spec_fields
    params = {p.name for cls in CLASSES for p in cls._PARAMS}
    for field_name, source in SPEC_FIELDS.items():
        rows = [p for cls in CLASSES for p in cls._PARAMS if p.spec == field_name]
        if source in params:
            assert rows and all(p.name == source for p in rows), field_name
        else:
            assert not rows and source.split(":")[0] in {"read off y", "read off X", "not needed", "automatic"} \
                or source.startswith("read off"), field_name


@quiet
def test_fit_mutates_no_parameter(binary):
    clf = MLPClassifier(hidden_layer_sizes=[8], activation=["tanh"], max_iter=3, class_weight={0: 1, 1: 2},
                        random_state=0)
    before = copy.deepcopy(clf.get_params())
    clf.fit(*binary)
    assert clf.get_params() == before


# -- scikit-learn's meaning ----------------------------------------------------------
@pytest.mark.parametrize(("ours", "data"), [(MLPClassifier, "binary"), (MLPRegressor, "regression")],
                         ids=["classifier", "regressor"])
def test_alpha_and_the_loss_are_scikit_learns_objective(ours, data, request):
    """Oracle: scikit-learn's final `loss_` (its loss + 0.5·alpha·||W||²/n; for regression half the
    squared error) at its optimum, with those weights loaded into the Keras model, is the Keras loss."""
    X, y = request.getfixturevalue(data)
    settings = dict(hidden_layer_sizes=(7, 5), solver="lbfgs", alpha=0.3, max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = CLASSES[ours](**settings).fit(X, y)
        mine = ours(**settings, max_fun=1).fit(X, y)
    dense = [layer for layer in mine.model_.layers if hasattr(layer, "kernel")]
    for layer, kernel, bias in zip(dense, theirs.coefs_, theirs.intercepts_, strict=True):
        layer.set_weights([kernel, bias])
    target = y.astype(float).reshape(len(y), -1)
    loss = float(mine.model_.compute_loss(X, target, mine.model_(X)))
    # Keras and scikit-learn write the log-loss differently (logits vs clipped probabilities): ~1e-8 apart.
    np.testing.assert_allclose(loss, theirs.loss_, rtol=1e-7)


@quiet
def test_the_same_random_state_gives_the_same_network_and_another_a_different_one(binary):
    X, y = binary
    a, b, c = (MLPClassifier((8,), max_iter=5, random_state=s).fit(X, y) for s in (3, 3, 4))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.allclose(a.predict_proba(X), c.predict_proba(X))


@quiet
def test_warm_start_continues_from_the_weights_with_the_current_parameters(binary):
    """As scikit-learn: the weights carry on, the solver starts afresh with today's parameters."""
    X, y = binary
    warm = MLPClassifier((8,), max_iter=5, batch_size=32, random_state=0, warm_start=True).fit(X, y)
    first = list(warm.loss_curve_)
    warm.fit(X, y)
    assert warm.n_iter_ == 5 and len(warm.loss_curve_) == 10  # n_iter_ counts this fit, as scikit-learn's
    assert warm.loss_curve_[5] < first[0] and warm.loss_curve_[5] == pytest.approx(first[-1], rel=0.2)
    cold = MLPClassifier((8,), max_iter=5, batch_size=32, random_state=0).fit(X, y).fit(X, y)
    assert cold.loss_curve_ == first  # without warm_start, fit starts over
    heavy = copy.deepcopy(warm).set_params(alpha=100.0).fit(X, y)  # a changed alpha takes effect
    assert heavy.loss_curve_[-1] > 2 * warm.loss_curve_[-1]


@quiet
def test_partial_fit_continues_and_needs_the_classes_first(binary):
    X, y = binary
    clf = MLPClassifier((8,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    clf.partial_fit(X, y, classes=[0, 1])
    first = clf.loss_curve_[-1]
    for _ in range(5):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 6 and clf.loss_curve_[-1] < first
    with pytest.raises(ValueError, match=r"classes \[7\] not in classes_"):
        clf.partial_fit(X[:3], [0, 1, 7])
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")  # as in scikit-learn
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="class_weight='balanced' is not supported for partial_fit"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1])


@quiet
def test_pickle_and_deepcopy_keep_the_network_and_its_optimizer(binary):
    X, y = binary
    clf = MLPClassifier((8,), max_iter=5, batch_size=32, random_state=0, warm_start=True).fit(X, y)
    for other in (pickle.loads(pickle.dumps(clf)), copy.deepcopy(clf)):
        np.testing.assert_array_equal(other.predict_proba(X), clf.predict_proba(X))
        assert other.model_ is not clf.model_
    restored = pickle.loads(pickle.dumps(clf)).fit(X, y)  # trains on from the restored weights
    np.testing.assert_allclose(restored.predict_proba(X), clf.fit(X, y).predict_proba(X), rtol=1e-10)


def test_early_stopping_keeps_the_best_validation_epoch(binary):
    X, y = binary
    clf = MLPClassifier((16,), early_stopping=True, n_iter_no_change=3, max_iter=300, random_state=0).fit(X, y)
    assert clf.n_iter_ < 300 and len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_) and clf.best_loss_ is None


def test_a_plateau_stops_training_as_scikit_learn_does(regression):
    X, y = regression
    settings = dict(hidden_layer_sizes=(16,), max_iter=500, tol=0.5, n_iter_no_change=2, random_state=0)
    reg, theirs = MLPRegressor(**settings).fit(X, y), neural_network.MLPRegressor(**settings).fit(X, y)
    # Epochs 2, 3 and 4 cannot beat the first by tol=0.5: the third of them is "more than 2" in a row.
    assert reg.n_iter_ == theirs.n_iter_ == 4


def test_adaptive_sgd_divides_the_learning_rate_by_5_on_a_plateau(regression):
    X, y = regression
    reg = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate="adaptive", learning_rate_init=0.01,
                       tol=10.0, n_iter_no_change=1, max_iter=4, random_state=0)
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    assert float(reg.model_.optimizer.learning_rate.numpy()) == pytest.approx(0.01 / 5)


def test_lbfgs_runs_scipy_and_records_its_iterations(binary):
    X, y = binary
    clf = MLPClassifier((8,), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
    assert clf.n_iter_ == len(clf.loss_curve_) > 0 and clf.score(X, y) > 0.95
    assert clf.loss_ == pytest.approx(min(clf.loss_curve_), rel=1e-9)
    with pytest.raises(ValueError, match="dropout=0.2 makes the loss random"):
        MLPClassifier(solver="lbfgs", dropout=0.2).fit(X, y)


@quiet
def test_class_weight_is_the_sample_weight_scikit_learn_computes(binary):
    X, y = binary
    y = np.where(np.arange(len(y)) < 90, 0, y)  # imbalanced
    settings = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    by_class = MLPClassifier(**settings, class_weight="balanced").fit(X, y)
    by_sample = MLPClassifier(**settings).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    np.testing.assert_allclose(by_class.predict_proba(X), by_sample.predict_proba(X), rtol=1e-10)


# -- what comes out --------------------------------------------------------------------
@quiet
def test_probabilities_have_one_column_per_class_and_decision_is_the_pre_activation(binary):
    X, y = binary
    labels = np.array(["no", "yes"])[y]
    clf = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, labels)
    proba, z = clf.predict_proba(X), clf.decision_function(X)
    assert proba.shape == (len(X), 2) and z.shape == (len(X),) and list(clf.classes_) == ["no", "yes"]
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-12)
    assert set(clf.predict(X)) <= {"no", "yes"}
    three = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y + (X[:, 0] > 1))
    z3 = three.decision_function(X)
    softmax = np.exp(z3 - z3.max(1, keepdims=True))
    np.testing.assert_allclose(three.predict_proba(X), softmax / softmax.sum(1, keepdims=True), rtol=1e-10)


@quiet
def test_multilabel_and_multi_output_regression_shapes(binary, regression):
    X, y = binary
    Y = np.c_[y, 1 - y, X[:, 0] > 0].astype(int)
    clf = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, Y)
    assert clf.predict_proba(X).shape == Y.shape and clf.predict(X).shape == Y.shape
    assert clf.decision_function(X).shape == Y.shape and list(clf.classes_) == [0, 1, 2]
    Xr, yr = regression
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(Xr, np.c_[yr, -yr])
    assert reg.predict(Xr).shape == (len(Xr), 2) and reg.n_outputs_ == 2
    assert MLPRegressor(hidden_layer_sizes=(8,), max_iter=2).fit(Xr, yr).predict(Xr).shape == (len(Xr),)


@quiet
def test_precision_follows_the_input_as_in_scikit_learn(binary):
    X, y = binary
    float64 = MLPClassifier((4,), max_iter=1).fit(X, y)
    float32 = MLPClassifier((4,), max_iter=1).fit(X.astype(np.float32), y)
    forced = MLPClassifier((4,), max_iter=1, dtype="float32").fit(X, y)
    assert [m.coefs_[0].dtype for m in (float64, float32, forced)] == [np.float64, np.float32, np.float32]


@quiet
def test_a_float64_fit_leaves_keras_defaults_as_they_were(binary):
    import keras

    X, y = binary
    before = keras.config.floatx(), keras.config.dtype_policy().name
    MLPClassifier((4,), max_iter=1).fit(X, y)  # builds in float64
    assert (keras.config.floatx(), keras.config.dtype_policy().name) == before
    assert keras.layers.Dense(2).dtype_policy.name == before[1]  # a later model is not float64


@quiet
def test_data_frames_give_feature_names(binary):
    X, y = binary
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = MLPClassifier((4,), max_iter=2).fit(frame, y)
    assert list(clf.feature_names_in_) == list(frame.columns) and clf.n_features_in_ == X.shape[1]


@quiet
def test_coefs_and_intercepts_are_the_dense_layers(binary):
    clf = MLPClassifier((5, 3), max_iter=1, random_state=0).fit(*binary)
    assert [c.shape for c in clf.coefs_] == [(6, 5), (5, 3), (3, 1)]
    assert [b.shape for b in clf.intercepts_] == [(5,), (3,), (1,)]
    assert clf.n_layers_ == 4 and clf.out_activation_ == "logistic"


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_log_dir_writes_a_tensorboard_run(binary, tmp_path, solver):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = MLPClassifier((4,), solver=solver, max_iter=3, log_dir=tmp_path, random_state=0).fit(*binary)
    train_dirs = list(tmp_path.glob("MLPClassifier/*/train"))
    assert len(train_dirs) == 1
    events = EventAccumulator(str(train_dirs[0]), size_guidance={"tensors": 0}).Reload()
    assert len(events.Tensors("binary/loss")) == len(fitted.loss_curve_) > 0


# -- errors -----------------------------------------------------------------------------
@pytest.mark.parametrize(("params", "error", "match"), [
    ({"solver": "adm"}, ValueError, r"solver='adm' is not valid.*Did you mean 'adam'"),
    ({"solver": "SGD"}, ValueError, r"solver='SGD' is not valid.*Did you mean 'sgd'"),
    ({"random_state": 2**32}, ValueError, r"random_state=4294967296"),
    ({"activation": "rellu"}, ValueError, r"Unknown activation 'rellu'.*Did you mean 'relu'"),
    ({"activation": ("relu", "tanh")}, ValueError, r"activation has 2 names for 1 hidden layers"),
    ({"hidden_layer_sizes": (10, 0)}, ValueError, r"hidden_layer_sizes\[1\]"),
    ({"hidden_layer_sizes": "10"}, TypeError, r"hidden_layer_sizes='10'"),
    ({"alpha": -1.0}, ValueError, r"alpha=-1.0"),
    ({"batch_size": 0}, ValueError, r"batch_size=0"),
    ({"learning_rate": "fast"}, ValueError, r"learning_rate='fast' is not valid: expected one of 'constant'"),
    ({"max_iter": 2.5}, TypeError, r"max_iter=2.5"),
    ({"validation_fraction": 1.0}, ValueError, r"validation_fraction=1.0"),
    ({"dtype": "float16"}, ValueError, r"dtype='float16' is not valid"),
    ({"class_weight": "balance"}, ValueError, r"class_weight='balance'.*Did you mean 'balanced'"),
    ({"loss": "mse"}, ValueError, r"loss='mse' does not pair with problem='binary'"),
    ({"optimizer": "adamm"}, ValueError, r"optimizer='adamm' is not valid.*Did you mean 'adam'"),
    ({"optimizer": 3}, TypeError, r"optimizer=3 \(int\) is not valid"),
    ({"solver": "sgd", "optimizer": "adamw"}, ValueError, r"solver='sgd' and optimizer='adamw' contradict"),
    ({"solver": "lbfgs", "optimizer": "adam"}, ValueError, r"solver='lbfgs' and optimizer='adam' contradict"),
])
def test_bad_parameters_fail_at_fit_with_the_fix(binary, params, error, match):
    clf = MLPClassifier(**params)  # scikit-learn's convention: __init__ only stores
    with pytest.raises(error, match=match):
        clf.fit(*binary)
    assert not hasattr(clf, "model_")


def test_regression_losses_and_their_errors(regression):
    X, y = regression
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        huber = MLPRegressor(loss="huber", hidden_layer_sizes=(4,), max_iter=2).fit(X, y)
    assert huber.model_.loss.name == "huber_loss"
    with pytest.raises(ValueError, match="loss='poisson' needs an exponential output"):
        MLPRegressor(loss="poisson").fit(X, y)
    with pytest.raises(ValueError, match="Valid options"):
        MLPRegressor(loss="absolute").fit(X, y)


def test_a_classifier_refuses_one_class_and_continuous_targets(binary):
    X, _ = binary
    with pytest.raises(ValueError, match="one class"):
        MLPClassifier().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier().fit(X, np.linspace(0, 1, len(X)))


def test_parameter_rows_are_checked_by_their_own_function():
    assert [p.name for p in _params.SKLEARN][:3] == ["hidden_layer_sizes", "activation", "solver"]
    assert _params.checked(MLPClassifier(activation=["relu", "tanh"], hidden_layer_sizes=[3, 2]),
                           _params.SKLEARN)["activation"] == ("relu", "tanh")


# -- tables: text, categories and missing values go into the model -----------------------
@pytest.fixture(scope="module")
def penguins():
    from palmerpenguins import load_penguins
    from sklearn.model_selection import train_test_split

    frame = load_penguins()  # island and sex are text, with missing values; species is the target
    return train_test_split(frame.drop(columns="species"), frame["species"], random_state=0,
                            stratify=frame["species"])


def test_a_data_frame_with_categories_and_gaps_trains_with_its_preprocessing_inside(penguins):
    X_train, X_test, y_train, y_test = penguins
    assert X_train.isna().any().any() and not pd.api.types.is_numeric_dtype(X_train["island"])
    clf = MLPClassifier((32,), solver="lbfgs", random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.9
    assert list(clf.feature_names_in_) == list(X_train.columns) and clf.n_features_in_ == X_train.shape[1]
    assert set(clf.predict(X_test)) <= set(y_train) and clf.predict_proba(X_test).shape == (len(X_test), 3)
    restored = pickle.loads(pickle.dumps(clf))
    # The table's columns enter as float32 (its preprocessing is float32): equal to float32 rounding.
    np.testing.assert_allclose(restored.predict_proba(X_test), clf.predict_proba(X_test), rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['island'\]"):
        clf.predict(X_test.drop(columns="island"))


def test_verbose_prints_scikit_learns_lines(binary, capsys):
    X, y = binary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier((4,), max_iter=2, verbose=True, early_stopping=True, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"Iteration 1, loss = \d+\.\d{8}", lines[0]) and lines[1].startswith("Validation score: ")


def test_squared_error_is_half_the_mean_squared_error_as_in_scikit_learn(regression):
    X, y = regression
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        half = MLPRegressor(hidden_layer_sizes=(4,), max_iter=1, alpha=0.0, random_state=0).fit(X, y)
        full = MLPRegressor("mean_squared_error", (4,), max_iter=1, alpha=0.0, random_state=0).fit(X, y)
    out = half.model_(X).numpy().ravel()
    assert float(half.model_.compute_loss(X, y.reshape(-1, 1), out.reshape(-1, 1))) == \
        pytest.approx(0.5 * np.mean((out - y) ** 2), rel=1e-6)
    assert full.model_.loss.name == "mean_squared_error"


@quiet
@pytest.mark.parametrize(("params", "expected"), [
    ({}, "Adam"), ({"optimizer": "AdamW"}, "AdamW"), ({"optimizer": "lion"}, "Lion"),
    ({"solver": "sgd"}, "SGD"), ({"solver": "sgd", "optimizer": "sgd"}, "SGD"), ({"optimizer": "nadam"}, "Nadam"),
])
def test_optimizer_trains_with_any_keras_optimizer_and_solver_keeps_its_meaning(binary, params, expected):
    clf = MLPClassifier((4,), max_iter=3, learning_rate_init=0.01, random_state=0, **params).fit(*binary)
    assert type(clf.model_.optimizer).__name__ == expected
    assert clf._spec.optimizer == expected.lower() and clf.get_params()["optimizer"] == params.get("optimizer")
    if expected == "SGD":  # scikit-learn's settings for its own solvers
        assert clf.model_.optimizer.nesterov and float(clf.model_.optimizer.momentum) == pytest.approx(0.9)
