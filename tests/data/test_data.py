"""kerasact.data: bundled datasets, generators, splits, label codes, class weights."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import LabelEncoder

from kerasact.data import (
    CLASS_WEIGHT_MODES,
    DATASETS,
    GENERATORS,
    LabelCodec,
    class_weights,
    load_dataset,
    make_nonlinear,
    make_threshold,
    split,
)

# How many distinct targets each declared problem type allows: the test's oracle for the table.
CLASS_COUNT_RULE = {
    "binary": lambda k: k == 2,
    "multiclass": lambda k: k > 2,
}


# ---------------------------------------------------------------- datasets
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_dataset_row_loads_with_declared_problem(name):
    data = load_dataset(name)
    assert (data.name, data.problem) == (name, DATASETS[name].problem)
    assert data.X.dtype == np.float32 and data.X.ndim == 2 and np.isfinite(data.X).all()
    assert len(data.X) == len(data.y) and len(data.feature_names) == data.X.shape[1]
    assert DATASETS[name].description.strip() and "\n" not in DATASETS[name].description
    if data.problem == "regression":
        assert data.y.dtype == np.float32 and np.isfinite(data.y).all()
        outputs = 1 if data.y.ndim == 1 else data.y.shape[1]
        assert len(data.target_names) == outputs
    else:
        assert data.y.dtype == np.int64 and data.y.ndim == 1
        k = len(np.unique(data.y))
        assert CLASS_COUNT_RULE[data.problem](k) and len(data.target_names) == k


def test_dataset_shapes_named_in_brief():
    assert len(np.unique(load_dataset("digits").y)) == 10
    assert load_dataset("linnerud").y.shape == (20, 3)


def test_unknown_dataset_lists_options():
    with pytest.raises(ValueError, match=r"name must be one of \['breast_cancer', 'diabetes'"):
        load_dataset("mnist")


# ---------------------------------------------------------------- generators
def test_threshold_label_rule():
    t, y = make_threshold(500, seed=3)
    assert t.shape == (500, 1) and t.dtype == np.float32
    assert 0.0 <= t.min() and t.max() <= 200.0
    np.testing.assert_array_equal(y, (t[:, 0] > 130.0).astype(int))
    assert 0 < y.mean() < 1


def test_threshold_custom_range_and_bad_range():
    t, y = make_threshold(50, threshold=10.0, low=5.0, high=15.0, seed=1)
    assert 5.0 <= t.min() and t.max() <= 15.0 and np.array_equal(y, t[:, 0] > 10.0)
    with pytest.raises(ValueError, match="low must be below high"):
        make_threshold(low=10.0, high=10.0)


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_generator_shape_labels_determinism(kind):
    X, y = make_nonlinear(kind, 120, seed=4)
    assert X.shape == (120, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert set(np.unique(y).tolist()) == {0, 1}
    X2, y2 = make_nonlinear(kind, 120, seed=4)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, make_nonlinear(kind, 120, seed=5)[0])


def test_xor_label_rule_without_noise():
    X, y = make_nonlinear("xor", 300, noise=0.0)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) * np.sign(X[:, 1]) > 0).astype(int))


def test_unknown_generator_lists_options():
    with pytest.raises(ValueError, match=r"kind must be one of \['circles', 'moons', 'xor'\]"):
        make_nonlinear("spirals")


# ---------------------------------------------------------------- split
def _parts(s):
    return (s.y_train, s.y_val, s.y_test), (s.X_train, s.X_val, s.X_test)


@pytest.mark.parametrize("name", ["iris", "wine", "digits", "breast_cancer"])
def test_stratified_split_sizes_proportions_and_disjointness(name):
    data = load_dataset(name)
    ids = np.arange(len(data.y), dtype=np.float32)[:, None]  # row ids as X reveal overlap
    s = split(ids, data.y, stratify=True, seed=1)
    ys, xs = _parts(s)
    assert sum(len(part) for part in ys) == len(data.y)
    assert [len(x) for x in xs] == [len(part) for part in ys]
    together = np.concatenate([x[:, 0] for x in xs])
    assert len(np.unique(together)) == len(data.y)
    for part in ys:
        for k in np.unique(data.y):
            expected = len(part) * np.mean(data.y == k)
            assert abs(np.sum(part == k) - expected) <= 1, (name, k)
    for x, part in zip(xs, ys):  # rows still carry their own labels
        np.testing.assert_array_equal(data.y[x[:, 0].astype(int)], part)


def test_split_val_and_test_are_fractions_of_whole():
    s = split(np.zeros((100, 2)), np.arange(100) % 2, test_size=0.25, val_size=0.15, stratify=False)
    assert (len(s.y_train), len(s.y_val), len(s.y_test)) == (60, 15, 25)


def test_sorted_labels_reach_every_part():
    y = np.array([0] * 50 + [1] * 50)
    s = split(np.arange(100.0)[:, None], y, stratify=True)
    for part in _parts(s)[0]:
        assert set(part.tolist()) == {0, 1}


def test_split_deterministic_per_seed():
    X, y = make_nonlinear("moons", 200)
    a, b, c = (split(X, y, stratify=True, seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X_train, c.X_train)


def test_split_one_hot_stratifies_on_argmax_and_multilabel_does_not():
    y = np.repeat([0, 1, 2], 30)
    s = split(np.arange(90.0)[:, None], np.eye(3)[y], stratify=True)
    assert s.y_test.shape == (18, 3) and (s.y_test.sum(axis=0) == 6).all()
    multilabel = (np.random.default_rng(0).random((90, 3)) > 0.5).astype(int)
    s = split(np.zeros((90, 1)), multilabel, stratify=True)
    assert len(s.y_train) + len(s.y_val) + len(s.y_test) == 90


BAD_FRACTIONS = {
    "test zero": (dict(test_size=0.0), "test_size"),
    "test negative": (dict(test_size=-0.1), "test_size"),
    "test one": (dict(test_size=1.0), "test_size"),
    "val zero": (dict(val_size=0.0), "val_size"),
    "val above one": (dict(val_size=1.5), "val_size"),
    "sum one": (dict(test_size=0.5, val_size=0.5), r"test_size \+ val_size"),
    "sum above one": (dict(test_size=0.6, val_size=0.5), r"test_size \+ val_size"),
}


@pytest.mark.parametrize("case", sorted(BAD_FRACTIONS))
def test_bad_fractions_name_the_argument(case):
    kwargs, match = BAD_FRACTIONS[case]
    with pytest.raises(ValueError, match=match):
        split(np.zeros((50, 1)), np.arange(50) % 2, stratify=False, **kwargs)


def test_too_few_samples_per_class_names_class_count_and_need():
    y = np.array(["a"] * 20 + ["rare"] * 3)
    with pytest.raises(ValueError, match=r"at least 5 samples.*class 'rare' has only 3.*stratify=False"):
        split(np.zeros((23, 1)), y, stratify=True)
    split(np.zeros((23, 1)), y, stratify=False)  # the same data splits fine unstratified


def test_mismatched_rows():
    with pytest.raises(ValueError, match="same number of rows; got 4 and 3"):
        split(np.zeros((4, 1)), [0, 1, 0], stratify=False)


# ---------------------------------------------------------------- LabelCodec
LABEL_SETS = {
    "strings": ["cat", "dog", "cat", "emu", "dog"],
    "minus one / one": [-1, 1, 1, -1, 1],
    "zero / five": [5, 0, 5, 5, 0],
    "bools": [True, False, False, True, True],
    "whole floats": [2.0, 1.0, 3.0, 1.0, 2.0],
}


@pytest.mark.parametrize("case", sorted(LABEL_SETS))
def test_codec_round_trip_matches_label_encoder(case):
    y = np.asarray(LABEL_SETS[case])
    codec = LabelCodec().fit(y)
    reference = LabelEncoder().fit(y)
    np.testing.assert_array_equal(codec.classes_, reference.classes_)
    codes = codec.encode(y)
    assert codes.dtype == np.int64
    np.testing.assert_array_equal(codes, reference.transform(y))
    np.testing.assert_array_equal(codec.decode(codes), y)
    np.testing.assert_array_equal(codec.encode(y[:, None]), codes)  # (n, 1) column
    one_hot = codec.one_hot(y)
    assert one_hot.dtype == np.float32 and one_hot.shape == (len(y), codec.n_classes)
    np.testing.assert_array_equal(one_hot.argmax(axis=1), codes)
    assert (one_hot.sum(axis=1) == 1).all()
    restored = LabelCodec.from_dict(json.loads(json.dumps(codec.to_dict())))
    np.testing.assert_array_equal(restored.decode(codes), y)
    assert restored.classes_.dtype.kind == codec.classes_.dtype.kind


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(-1000, 1000), min_size=2).filter(lambda v: len(set(v)) > 1))
def test_codec_round_trip_any_integers(values):
    codec = LabelCodec().fit(values)
    np.testing.assert_array_equal(codec.decode(codec.encode(values)), values)


CODEC_ERRORS = {
    "unseen label": (lambda c: c.encode(["cat", "yak"]), ValueError, r"not seen in fit: \['yak'\].*\['cat', 'dog'\]"),
    "index too big": (lambda c: c.decode([0, 2]), ValueError, r"indices must lie in 0\.\.1"),
    "float indices": (lambda c: c.decode([0.0]), TypeError, "indices must be integers"),
    "2-D labels": (lambda c: c.encode(np.zeros((2, 2))), ValueError, r"shape \(n,\) or \(n, 1\)"),
    "continuous fit": (lambda c: LabelCodec().fit([0.5, 1.5]), ValueError, "continuous"),
    "single class": (lambda c: LabelCodec().fit([3, 3]), ValueError, "at least 2 classes"),
    "bad state": (lambda c: LabelCodec.from_dict({"labels": []}), ValueError, "'classes' key"),
}


@pytest.mark.parametrize("case", sorted(CODEC_ERRORS))
def test_codec_errors(case):
    action, error, match = CODEC_ERRORS[case]
    with pytest.raises(error, match=match):
        action(LabelCodec().fit(["dog", "cat"]))


def test_unfitted_codec_says_fit_first():
    with pytest.raises(NotFittedError, match=r"call fit\(y\) first"):
        LabelCodec().encode([1])


# ---------------------------------------------------------------- class weights
def test_balanced_weights_on_imbalanced_labels():
    y = np.array([0] * 90 + [1] * 10)
    weights = class_weights(y)
    assert weights == pytest.approx({0: 100 / (2 * 90), 1: 100 / (2 * 10)})
    assert all(type(k) is int and type(v) is float for k, v in weights.items())
    # balanced weights make every class contribute equally to the loss
    assert weights[0] * 90 == pytest.approx(weights[1] * 10)


def test_weight_modes_and_errors():
    assert set(CLASS_WEIGHT_MODES) >= {"balanced", "uniform"}
    assert class_weights([0, 0, 1], mode="uniform") == {0: 1.0, 1: 1.0}
    with pytest.raises(ValueError, match=r"mode must be one of \['balanced', 'uniform'\]"):
        class_weights([0, 1], mode="inverse")
    with pytest.raises(TypeError, match="y_encoded must be integer"):
        class_weights(["a", "b"])
