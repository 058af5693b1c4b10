"""One voice for errors: every public entry point refuses every bad argument with one short
kerasact `ValueError`/`TypeError` that starts with the argument's name, is raised from
kerasact's own code (not TensorFlow, Keras or scikit-learn), fits in 300 characters, and comes
before any work or disk write."""

from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import kerasact
from kerasact import _errors
from kerasact.testing import assert_can_overfit, assert_initial_loss, assert_weights_update

PACKAGE = Path(kerasact.__file__).parent
N, D = 60, 4
RNG = np.random.default_rng(0)
X = RNG.normal(size=(N, D)).astype("float32")
Y_BINARY = (X[:, 0] > 0).astype(int)
LABELS = np.array(["cat", "dog"], dtype=object)[Y_BINARY]


@pytest.fixture(scope="module")
def binary():
    return kerasact.build_model("binary", D, hidden=[4])


def with_missing(value):
    y = LABELS.copy()
    y[7] = value
    return y


def frame(**extra):
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(D)])
    for name, column in extra.items():
        df[name] = column
    return df


# (entry point, arguments, error, message pattern, argument named first)
TRAIN_CASES = {
    "epochs str": (dict(epochs="3"), TypeError, r"epochs='3' \(str\) is not valid: expected an int >= 1", "epochs"),
    "epochs float": (dict(epochs=2.5), TypeError, r"epochs=2.5 \(float\)", "epochs"),
    "epochs negative": (dict(epochs=-1), ValueError, r"epochs=-1 is not valid", "epochs"),
    "epochs zero": (dict(epochs=0), ValueError, r"epochs=0 is not valid", "epochs"),
    "batch_size zero": (dict(batch_size=0), ValueError, r"batch_size=0 is not valid", "batch_size"),
    "batch_size None": (dict(batch_size=None), TypeError, r"batch_size=None", "batch_size"),
    "val_size str": (dict(val_size="0.2"), TypeError, r"val_size='0.2' \(str\).*a number > 0 and < 1", "val_size"),
    "val_size one": (dict(val_size=1.0), ValueError, r"val_size=1.0 is not valid", "val_size"),
    "test_size zero": (dict(test_size=0), ValueError, r"test_size=0 is not valid", "test_size"),
    "sizes sum": (dict(val_size=0.5, test_size=0.5), ValueError, r"below 1, to leave rows", "val_size + test_size"),
    "seed negative": (dict(seed=-1), ValueError, r"seed=-1 is not valid: expected an int from 0", "seed"),
    "seed str": (dict(seed="abc"), TypeError, r"seed='abc' \(str\)", "seed"),
    "seed huge": (dict(seed=2**63 - 1), ValueError, r"seed=9223372036854775807", "seed"),
    "patience negative": (dict(patience=-2), ValueError, r"patience=-2 is not valid", "patience"),
    "verbose": (dict(verbose="loud"), ValueError, r"verbose='loud' is not valid: expected one of 'auto', 0, 1, 2",
                "verbose"),
    "callbacks item": (dict(callbacks=[1]), TypeError, r"callbacks\[0\]=1 \(int\).*keras.callbacks.Callback",
                       "callbacks[0]"),
    "callbacks bare": (dict(callbacks=keras.callbacks.History()), TypeError, r"Wrap it in a list", "callbacks"),
    "class_weight int": (dict(class_weight=5), TypeError, r"class_weight=5 \(int\).*'balanced'", "class_weight"),
    "class_weight list": (dict(class_weight=[1, 2]), TypeError, r"class_weight=\[1, 2\] \(list\)", "class_weight"),
    "class_weight typo": (dict(class_weight="balance"), ValueError, r"Did you mean 'balanced'\?", "class_weight"),
    "class_weight key": (dict(class_weight={"a": 1.0}), ValueError, r"Key it by class index", "class_weight"),
    "class_weight negative": (dict(class_weight={0: -1.0}), ValueError, r"class_weight\[0\]=-1.0",
                              "class_weight[0]"),
    "log_dir int": (dict(log_dir=5), TypeError, r"log_dir=5 \(int\).*folder path", "log_dir"),
    "run_dir list": (dict(run_dir=["a"]), TypeError, r"run_dir=\['a'\] \(list\)", "run_dir"),
    "recipe path": (dict(recipe="a/b"), ValueError, r"recipe='a/b' is not valid: expected a plain folder", "recipe"),
    "hparams list value": (dict(hparams={"widths": [4, 2]}), TypeError, r"hparams\['widths'\]", "hparams['widths']"),
    "hparams not dict": (dict(hparams=[("a", 1)]), TypeError, r"hparams=\[\('a', 1\)\] \(list\)", "hparams"),
}

DATA_CASES = {  # (X, y, error, pattern, argument named first)
    "sparse X": (sparse.csr_matrix(X), Y_BINARY, TypeError, r"scipy sparse matrix.*X.toarray\(\)", "X"),
    "text column": (frame(island=["Biscoe"] * N), Y_BINARY, TypeError, r"X column 'island' holds text.*'Biscoe'",
                    "X column 'island'"),
    "Int64 with NA": (frame(count=pd.array([1] * (N - 1) + [pd.NA], dtype="Int64")), Y_BINARY, ValueError,
                      r"X column 'count' has 1 missing value\(s\).*row 59", "X column 'count'"),
    "boolean with NA": (frame(flag=pd.array([True, pd.NA] + [False] * (N - 2), dtype="boolean")), Y_BINARY,
                        ValueError, r"X column 'flag' has 1 missing value\(s\).*row 1", "X column 'flag'"),
    "label None": (X, with_missing(None), ValueError, r"y has 1 missing label\(s\).*row 7", "y"),
    "label NaN": (X, with_missing(np.nan), ValueError, r"y has 1 missing label\(s\).*row 7", "y"),
    "label pd.NA": (X, with_missing(pd.NA), ValueError, r"y has 1 missing label\(s\).*row 7", "y"),
    "string Series with NA": (X, pd.Series(with_missing(pd.NA), dtype="string"), ValueError,
                              r"y has 1 missing label\(s\)", "y"),
    "one row": (X[:1], X[:1, 0], ValueError, r"X has 1 row\(s\), too few.*at least 3 rows", "X"),
    "rare class": (X, np.r_[Y_BINARY[:-1], 2].astype(str), ValueError,
                   r"y: class '2' has 1 sample\(s\).*needs 7 of every class", "y"),
}


def raises_cleanly(call, error, match, arg):
    with pytest.raises(error, match=match) as info:
        call()
    message = str(info.value)
    assert type(info.value) is error and len(message) <= _errors.MAX_MESSAGE, message
    assert message.startswith(arg), message
    assert Path(str(info.traceback[-1].path)).is_relative_to(PACKAGE), info.traceback[-1].path
    return message


@pytest.mark.parametrize("case", sorted(TRAIN_CASES))
def test_train_checks_every_argument_before_touching_the_disk(case, binary, tmp_path):
    kwargs, error, match, arg = TRAIN_CASES[case]
    kwargs = {"log_dir": tmp_path / "runs", "verbose": 0} | kwargs
    raises_cleanly(lambda: kerasact.train(binary, X, Y_BINARY, **kwargs), error, match, arg)
    assert not (tmp_path / "runs").exists()  # nothing written for a refused call


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_train_refuses_bad_data_with_its_location(case, tmp_path):
    X_, y_, error, match, arg = DATA_CASES[case]
    problem = {"rare class": "multiclass", "one row": "regression"}.get(case, "binary")
    width = X_.shape[1]
    model = kerasact.build_model(problem, width, n_classes=3 if problem == "multiclass" else None, hidden=[4])
    raises_cleanly(lambda: kerasact.train(model, X_, y_, epochs=1, verbose=0, log_dir=tmp_path / "runs"),
                   error, match, arg)
    assert not (tmp_path / "runs").exists()


def test_train_refuses_models_that_are_not_compiled_keras_models():
    raises_cleanly(lambda: kerasact.train("model", X, Y_BINARY), TypeError, r"model='model' \(str\)", "model")
    plain = keras.Sequential([keras.Input((D,)), keras.layers.Dense(1, activation="sigmoid")], name="plain")
    raises_cleanly(lambda: kerasact.train(plain, X, Y_BINARY), ValueError, r"must be compiled with a loss",
                   "Argument 'model'")


def test_predict_and_validate_check_their_arguments(binary):
    raises_cleanly(lambda: kerasact.predict(None, X), TypeError, r"model must be a keras.Model", "model")
    raises_cleanly(lambda: kerasact.predict(binary, None), TypeError, r"X is None", "X")
    raises_cleanly(lambda: kerasact.predict(binary, sparse.csr_matrix(X)), TypeError, r"X.toarray\(\)", "X")
    raises_cleanly(lambda: kerasact.validate(X, Y_BINARY, problem="binary", encode="yes"), TypeError,
                   r"encode='yes' \(str\) is not valid: expected True or False", "encode")
    raises_cleanly(lambda: kerasact.validate(X, Y_BINARY, problem="binery"), ValueError, r"Unknown problem",
                   "Unknown problem")


@pytest.mark.parametrize("y", [np.array(["a", np.nan, "b"], dtype=object), pd.Series([1, pd.NA, 2], dtype="Int64"),
                               [None, "x", "y"]], ids=["object NaN", "Int64 NA", "list None"])
def test_infer_problem_refuses_missing_labels(y):
    raises_cleanly(lambda: kerasact.infer_problem(y), ValueError, r"y has 1 missing label\(s\)", "y")


def test_infer_problem_checks_max_float_classes():
    raises_cleanly(lambda: kerasact.infer_problem([0, 1], max_float_classes="20"), TypeError,
                   r"max_float_classes='20' \(str\)", "max_float_classes")


@pytest.mark.parametrize(("kwargs", "error", "match", "arg"), [
    (dict(normalize=1), TypeError, r"normalize=1 \(int\) is not valid: expected True, False, None or the training",
     "normalize"),
    (dict(normalize="yes"), TypeError, r"normalize='yes' \(str\)", "normalize"),
    (dict(problem="multiclass", n_classes=1), ValueError, r"n_classes=1 is not valid: problem='multiclass' needs",
     "n_classes"),
    (dict(learning_rate=float("inf")), ValueError, r"learning_rate=inf is not valid", "learning_rate"),
    (dict(seed=2**63 - 1), ValueError, r"seed=9223372036854775807 is not valid", "seed"),
], ids=["normalize 1", "normalize yes", "n_classes 1", "learning_rate inf", "seed huge"])
def test_build_model_names_the_argument(kwargs, error, match, arg):
    raises_cleanly(lambda: kerasact.build_model(**({"problem": "binary", "input_dim": D} | kwargs)), error, match, arg)


@pytest.mark.parametrize("check", [assert_initial_loss, assert_can_overfit, assert_weights_update],
                         ids=lambda f: f.__name__)
def test_the_pytest_assertions_refuse_labels_that_do_not_fit_the_head(check, binary):
    raises_cleanly(lambda: check(binary, X, np.arange(N) % 3), ValueError,
                   r"y has 3 classes \{0, 1, 2\} but the model's binary head has 2", "y")


def test_the_pytest_assertions_explain_one_based_labels():
    model = kerasact.build_model("multiclass", D, n_classes=3, hidden=[4])
    raises_cleanly(lambda: assert_initial_loss(model, X, np.arange(N) % 3 + 1), ValueError,
                   r"look 1-based \(1..3\).*pass y - 1", "y")


def test_messages_suggest_near_misses_and_stay_short():
    message = str(_errors.invalid("optimizer", "adamm" * 100, "one of ...", options=["adam", "adamw"]))
    assert len(message) <= _errors.MAX_MESSAGE and message.endswith("...")
    assert _errors.did_you_mean("Balanced ", ["balanced", "uniform"]) == " Did you mean 'balanced'?"
    assert _errors.did_you_mean("zzz", ["balanced"]) == ""


@pytest.mark.parametrize(("call", "error", "match", "arg"), [
    (lambda m: assert_initial_loss(m, X, Y_BINARY, factor=0.5), ValueError, r"factor=0.5 is not valid", "factor"),
    (lambda m: assert_can_overfit(m, X, Y_BINARY, epochs="9"), TypeError, r"epochs='9' \(str\)", "epochs"),
    (lambda m: assert_can_overfit(m, X, Y_BINARY, max_loss=-1.0), ValueError, r"max_loss=-1.0", "max_loss"),
    (lambda m: assert_weights_update(m, X, Y_BINARY, skip="dense"), TypeError, r"Pass skip=\['dense'\]", "skip"),
    (lambda m: assert_initial_loss("model.keras", X, Y_BINARY), TypeError, r"model='model.keras' \(str\)", "model"),
], ids=["factor", "epochs", "max_loss", "skip", "model"])
def test_the_pytest_assertions_check_their_own_arguments(call, error, match, arg, binary):
    raises_cleanly(lambda: call(binary), error, match, arg)
