"""kerasact.validate, train and predict: every bad input is one short ValueError/TypeError
raised by kerasact before TensorFlow sees it; unambiguous label forms are converted.

The measured list of issue #6 maps to tests here (the last two are in test_saving.py):
NaN in X -> X_CASES["nan"]; sparse label 5 with 3 classes -> Y_CASES "label 5 of 3 classes";
binary {-1, 1} / {0, 5} / strings -> test_train_encodes_any_two_labels and
test_raw_labels_are_explained; integer labels with categorical cross-entropy and one-hot
with the sparse loss -> test_train_converts_integer_and_one_hot_labels; y with 2 columns
against 1 output -> "2 columns for 1 output"; wrong feature count after a call ->
test_wrong_feature_count_message_is_the_same_before_and_after_a_call; empty X -> "empty";
negative / all-zero sample weights -> W_CASES; truncated .keras and save-in-place ->
test_saving.py (truncated case, test_sigkill_mid_save_leaves_a_loadable_model).
"""

from pathlib import Path

import numpy as np
import pytest

import kerasact
from kerasact import HEADS, build_model, predict, validate
from kerasact.data import Split
from kerasact.inputs import LABEL_FORMATS as RULES
from kerasact.inputs import check_split
from kerasact.training import train

N, D, K = 24, 4, 3  # samples, features, classes / labels
PACKAGE = Path(kerasact.__file__).parent
# One (problem, loss) per label format, read off the head table: a new format is tested here.
FORMATS = {opt.labels: (problem, loss)
           for problem, head in HEADS.items() for loss, opt in reversed(head.losses.items())}
CLASS_FORMATS = sorted(f for f, rule in RULES.items() if rule.classes is not None)


def good_y(fmt: str) -> np.ndarray:
    rng = np.random.default_rng(1)
    return {"values": rng.normal(size=N), "binary": np.arange(N) % 2, "sparse": np.arange(N) % K,
            "one_hot": np.arange(N) % K, "multi_hot": (rng.random((N, K)) > 0.5).astype(float)}[fmt]


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(N, D)).astype("float32")


def count(problem: str) -> dict:
    """K classes/labels for rows without a fixed or default count (the table says which word)."""
    head = HEADS[problem]
    if head.fixed_units or head.default_count:
        return {}
    return {"n_classes" if head.count == "classes" else "n_outputs": K}


@pytest.fixture(scope="module")
def models():
    return {fmt: build_model(problem, D, hidden=[4], seed=0, loss=loss, **count(problem))
            for fmt, (problem, loss) in FORMATS.items()}


def with_value(a, index, value):
    a = np.array(a, dtype=float)
    a[index] = value
    return a


def raises_cleanly(call, error, match, arg):
    """The error type and message, raised inside kerasact, short, naming the argument first."""
    with pytest.raises(error, match=match) as info:
        call()
    message = str(info.value)
    assert type(info.value) is error and len(message) <= 300, message
    assert message.startswith(arg), message
    assert Path(str(info.traceback[-1].path)).is_relative_to(PACKAGE), info.traceback[-1].path  # not TF or Keras
    return message


X_CASES = {
    "nan": (lambda X: with_value(X, (3, 1), np.nan), ValueError,
            r"X has 1 NaN/inf value\(s\), the first at row 3, column 1"),
    "inf": (lambda X: with_value(X, (0, 0), -np.inf), ValueError, "X has 1 NaN/inf"),
    "None inside": (lambda X: [[None] * D] + X.tolist()[1:], ValueError, "X has 4 NaN/inf"),
    "1-D": (lambda X: X[:, 0], ValueError, r"X must be 2-D .*reshape\(-1, 1\)"),
    "3-D": (lambda X: X[:, :, None], ValueError, r"X must be 2-D .*flatten"),
    "empty": (lambda X: X[:0], ValueError, "X is empty"),
    "no columns": (lambda X: X[:, :0], ValueError, "X is empty"),
    "wrong width": (lambda X: X[:, :3], ValueError, "X has 3 features .* expects 4"),
    "text": (lambda X: X.astype(str), TypeError, "X must be numeric; got text"),
    "ragged": (lambda X: [[1.0] * D, [1.0]], ValueError, "X is ragged"),
    "None": (lambda X: None, TypeError, "X is None"),
    "beyond float32": (lambda X: X.astype(float) * 1e300, ValueError, "X has .* beyond float32's range"),
}


@pytest.mark.parametrize("mode", ["fit", "predict"])
@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("case", sorted(X_CASES))
def test_bad_X_is_refused_before_tensorflow(models, X, case, fmt, mode):
    make, error, match = X_CASES[case]
    model, bad = models[fmt], make(X)
    call = {"fit": lambda: train(model, bad, good_y(fmt), epochs=1, verbose=0),
            "predict": lambda: predict(model, bad)}[mode]
    raises_cleanly(call, error, match, "X")


Y_ANY = {  # every format
    "NaN": (lambda fmt: with_value(good_y(fmt), 2, np.nan), ValueError, "y has .*NaN/inf"),
    "too short": (lambda fmt: good_y(fmt)[:-1], ValueError, f"y has {N - 1} rows but X has {N}"),
    "3-D": (lambda fmt: good_y(fmt).reshape(N, -1, 1), ValueError, "y must be 1-D"),
}
Y_CASES = [  # (format, case, bad y, error, match)
    ("values", "text", np.array(list("ab") * (N // 2)), TypeError, "y holds strings .* needs numbers"),
    ("values", "2 columns for 1 output", np.ones((N, 2)), ValueError, r"y has 2 column\(s\) but the model has 1"),
    ("binary", "3 classes", np.arange(N) % 3, ValueError, "y has 3 classes .* binary head has 2"),
    ("binary", "continuous", np.linspace(0, 1, N), ValueError, "y holds continuous values"),
    ("binary", "one-hot of 3", np.eye(3)[np.arange(N) % 3], ValueError, "y has 3 one-hot columns .* 2 classes"),
    ("binary", "one class", np.ones(N), ValueError, "y has a single class"),
    ("sparse", "label 5 of 3 classes", np.r_[np.arange(N - 1) % K, 5], ValueError, r"y has 4 classes \{0, 1, 2, 5\}"),
    ("sparse", "continuous", np.linspace(0, 2, N), ValueError, "y holds continuous values"),
    ("sparse", "multi-hot rows", np.ones((N, K)), ValueError, "multi-hot.*problem='multilabel'"),
    ("sparse", "one-hot of 4", np.eye(4)[np.arange(N) % 4], ValueError, "y has 4 one-hot columns"),
    ("sparse", "2-D scores", np.full((N, K), 0.3), ValueError, r"y has shape \(24, 3\)"),
    ("one_hot", "4 classes", np.arange(N) % 4, ValueError, "y has 4 classes"),
    ("one_hot", "soft rows", np.full((N, K), 1 / 3), ValueError, r"y has shape \(24, 3\)"),
    ("multi_hot", "values 0/2", np.full((N, K), 2.0), ValueError, "y multi-hot targets must be 0/1"),
    ("multi_hot", "1-D", np.arange(N) % 2, ValueError, r"y has 1 column\(s\) but the model has 3 labels"),
    ("multi_hot", "2 columns for 3", np.ones((N, 2)), ValueError, r"y has 2 column\(s\)"),
    ("multi_hot", "text", np.array(list("ab") * (N // 2)), TypeError, "y holds strings"),
]


@pytest.mark.parametrize(("fmt", "case", "bad", "error", "match"),
                         [(f, c, make(f), e, m) for f in sorted(FORMATS) for c, (make, e, m) in Y_ANY.items()]
                         + Y_CASES,
                         ids=lambda v: v if isinstance(v, str) else None)
def test_bad_y_is_refused_before_tensorflow(models, X, fmt, case, bad, error, match):
    raises_cleanly(lambda: train(models[fmt], X, bad, epochs=1, verbose=0), error, match, "y")
    raises_cleanly(lambda: validate(X, bad, model=models[fmt], encode=True), error, match, "y")


W_CASES = {
    "negative": (with_value(np.ones(N), 4, -1.0), "sample_weight has 1 negative"),
    "all zero": (np.zeros(N), "sample_weight is all zero"),
    "too short": (np.ones(N - 2), r"sample_weight must hold one weight per row of X, shape \(24,\)"),
    "2 columns": (np.ones((N, 2)), "sample_weight must hold one weight per row"),
    "NaN": (with_value(np.ones(N), 0, np.nan), "sample_weight has 1 NaN/inf"),
    "text": (np.array(["1"] * N), "sample_weight must be numeric"),
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("case", sorted(W_CASES))
def test_bad_sample_weight_is_refused(models, X, fmt, case):
    weights, match = W_CASES[case]
    error = TypeError if case == "text" else ValueError
    raises_cleanly(lambda: train(models[fmt], X, good_y(fmt), sample_weight=weights, epochs=1, verbose=0),
                   error, match, "sample_weight")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_bad_class_weight_is_refused(models, X, fmt):
    bad, match = ({0: 1.0}, "class_weight applies to") if fmt not in CLASS_FORMATS else ({7: 2.0}, "class_weight keys")
    raises_cleanly(lambda: train(models[fmt], X, good_y(fmt), class_weight=bad, epochs=1, verbose=0),
                   ValueError, match, "class_weight")


@pytest.mark.parametrize(("y", "match"), [
    ([-1, 1], r"binary head must be class indices 0..1; got \{-1, 1\}.*kerasact.train"),
    ([0, 5], r"got \{0, 5\}"),
    (["no", "yes"], "y holds strings"),
])
def test_raw_binary_labels_are_explained_without_encode(models, X, y, match):
    error = TypeError if isinstance(y[0], str) else ValueError
    raises_cleanly(lambda: validate(X, np.resize(y, N), model=models["binary"]), error, match, "y")


@pytest.mark.parametrize(("y", "kwargs", "match"), [
    (np.arange(N) % K + 1, {}, r"look 1-based \(1..3\).*y - 1"),
    (np.arange(N) % K - 1, {}, "must be class indices 0..2"),
    (np.arange(N) % K - 1, {"problem": "multiclass", "model": None}, "must be class indices >= 0"),
])
def test_raw_class_labels_are_explained_without_encode(models, X, y, kwargs, match):
    args = {"model": models["sparse"]} | kwargs
    raises_cleanly(lambda: validate(X, y, **args), ValueError, match, "y")


def test_problem_and_model_must_agree(models, X):
    raises_cleanly(lambda: validate(X, good_y("binary"), problem="regression", model=models["binary"]),
                   ValueError, "problem='regression' but the model has a binary head", "problem")
    raises_cleanly(lambda: validate(X, model="model.keras"), TypeError, "model must be a keras.Model", "model")
    raises_cleanly(lambda: train(models["binary"], X, None), TypeError, "y is None", "y")


@pytest.mark.parametrize(("fmt", "y", "expected"), [
    ("sparse", np.eye(K)[np.arange(N) % K], np.arange(N) % K),             # one-hot for the sparse loss
    ("one_hot", np.arange(N) % K, np.eye(K)[np.arange(N) % K]),            # indices for a one-hot loss
    ("binary", np.arange(N) % 2 == 1, (np.arange(N) % 2).reshape(-1, 1)),  # booleans
    ("binary", np.eye(2)[np.arange(N) % 2], (np.arange(N) % 2).reshape(-1, 1)),  # two one-hot columns
    ("multi_hot", np.ones((N, K), dtype=bool), np.ones((N, K))),
])
def test_unambiguous_label_forms_are_converted(models, X, fmt, y, expected):
    out = validate(X, y, model=models[fmt])
    assert out.labels == fmt and out.y.shape == expected.shape and np.array_equal(out.y, expected)
    assert out.X.dtype == np.float32 and out.codec is None


@pytest.mark.parametrize("labels", [[-1, 1], [0, 5], ["no", "yes"]])
def test_train_encodes_any_two_labels(models, X, labels):
    y = np.resize(np.array(labels), N)
    result = train(models["binary"], X, y, epochs=1, verbose=0, patience=None)
    assert result.codec.classes_.tolist() == sorted(labels) and np.isfinite(result.metrics["loss"])
    assert set(np.unique(result.split.y_train)) == {0.0, 1.0}


@pytest.mark.parametrize(("fmt", "y"), [("one_hot", np.arange(N) % K), ("sparse", np.eye(K)[np.arange(N) % K])])
def test_train_converts_integer_and_one_hot_labels(X, fmt, y):
    problem, loss = FORMATS[fmt]
    model = build_model(problem, D, hidden=[4], loss=loss, seed=0, **count(problem))
    result = train(model, X, y, epochs=1, verbose=0, patience=None)
    assert np.isfinite(result.metrics["loss"]) and result.codec.classes_.tolist() == list(range(K))


def test_integer_labels_keep_their_class_when_one_is_absent(models, X):
    """Indices 0 and 2 of a 3-class model stay 0 and 2: re-encoding them to 0, 1 would swap classes."""
    out = validate(X, np.arange(N) % 2 * 2, model=models["sparse"], encode=True)
    assert set(out.y.tolist()) == {0, 2} and out.codec.decode(np.array([2]))[0] == 2


def test_wrong_feature_count_message_is_the_same_before_and_after_a_call(X):
    model = build_model("binary", D, hidden=[4], seed=0)
    before = raises_cleanly(lambda: predict(model, X[:, :2]), ValueError, "X has 2 features", "X")
    predict(model, X)
    model.fit(X, good_y("binary"), epochs=1, verbose=0)
    assert raises_cleanly(lambda: predict(model, X[:, :2]), ValueError, "X has 2 features", "X") == before


def test_split_missing_a_class_is_refused():
    y = np.array([0, 1, 2, 0, 1, 2])
    parts = Split(*(np.zeros((2, 1)),) * 3, y[:2], y[:2], y[2:4])  # class 2 only in test
    with pytest.raises(ValueError, match=r"y: the train split has no samples of class index\(es\) \[2\]"):
        check_split(parts, "sparse")
    check_split(parts, "values")  # regression targets have no classes


def test_rare_class_stops_train_before_fitting(models, X):
    y = np.r_[np.arange(N - 1) % 2, 2]  # class 2 has a single sample: it cannot reach every split
    message = raises_cleanly(lambda: train(models["sparse"], X, y, epochs=1, verbose=0), ValueError,
                             r"class 2 has 1 sample\(s\).*needs 7 of every class", "y")
    assert "stratify" not in message  # train has no stratify argument to pass


def test_validate_is_public_and_returns_float32():
    out = kerasact.validate([[1, 2], [3, 4]], [0.5, 1.5], problem="regression", sample_weight=[1, 0])
    assert out.X.dtype == out.y.dtype == out.sample_weight.dtype == np.float32 and out.head is HEADS["regression"]
