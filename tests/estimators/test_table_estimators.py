"""`TableClassifier` / `TableRegressor`: raw DataFrames (text, NaN, unseen and constant columns)
through fit/predict, scikit-learn's model selection (`cross_val_score`, `GridSearchCV`,
`Pipeline`), pickling, and bad input refused in one line. Tiny tables, a few epochs."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from kerasact.sklearn import TableClassifier, TableRegressor

FAST = {"epochs": 3, "random_state": 0}


def _table(n=90, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "size": rng.normal(size=n),
        "colour": rng.choice(["red", "green", "blue"], size=n).astype(object),
        "code": rng.choice([3, 7], size=n),   # integers the model reads as categories when told
        "constant": np.ones(n),
    })
    frame.loc[::7, "size"] = np.nan
    frame.loc[::11, "colour"] = None
    labels = np.where(frame["size"].fillna(0) + (frame["colour"] == "red") > 0.3, "yes", "no")
    return frame, labels


@pytest.fixture(scope="module")
def fitted():
    frame, labels = _table()
    return TableClassifier(categorical=["code"], **FAST).fit(frame, labels), frame, labels


def test_a_raw_frame_fits_and_predicts_labels_and_probabilities(fitted):
    clf, frame, labels = fitted
    assert list(clf.classes_) == ["no", "yes"] and clf.n_features_in_ == 4
    assert list(clf.feature_names_in_) == list(frame.columns)
    proba = clf.predict_proba(frame)
    assert proba.shape == (len(frame), 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert set(clf.predict(frame)) <= {"no", "yes"}
    assert clf.predict(frame.head(1)).shape == (1,)   # one row


def test_unseen_and_retyped_categories_predict(fitted):
    clf, frame, _ = fitted
    retyped = frame.assign(code=frame["code"].astype(str))   # 3 at fit, "3" at predict: one category
    np.testing.assert_allclose(clf.predict_proba(retyped), clf.predict_proba(frame), atol=1e-6)
    unseen = frame.head(3).assign(colour=["purple", None, "red"])
    with pytest.warns(UserWarning, match="never seen in training"):
        assert np.isfinite(clf.predict_proba(unseen)).all()


def test_pickle_and_clone_keep_the_model_and_the_parameters(fitted):
    clf, frame, _ = fitted
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(frame), clf.predict_proba(frame))
    assert clone(clf).get_params() == clf.get_params() and not hasattr(clone(clf), "model_")


def test_model_selection_runs_on_a_raw_frame():
    frame, labels = _table(60)
    scores = cross_val_score(TableClassifier(**FAST), frame, labels, cv=2)
    assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))
    search = GridSearchCV(TableClassifier(**FAST), {"dropout": [0.0, 0.1]}, cv=2).fit(frame, labels)
    assert search.best_params_["dropout"] in (0.0, 0.1)
    pipe = make_pipeline(FunctionTransformer(lambda f: f.drop(columns="constant")), TableClassifier(**FAST))
    assert pipe.fit(frame, labels).predict(frame).shape == (len(frame),)


def test_the_regressor_learns_values_from_a_frame():
    frame, _ = _table(120)
    target = 3.0 * frame["size"].fillna(0.0) + 1.0
    reg = TableRegressor(epochs=30, random_state=0).fit(frame, target)
    assert reg.predict(frame).shape == (len(frame),)
    assert reg.score(frame, target) > 0.5
    two = TableRegressor(**FAST).fit(frame, np.c_[target, -target])
    assert two.predict(frame.head(2)).shape == (2, 2)


def test_class_weight_moves_the_decision_toward_the_weighted_class():
    frame, labels = _table(80)
    heavy = TableClassifier(epochs=10, random_state=0, class_weight={"yes": 20.0, "no": 1.0}).fit(frame, labels)
    plain = TableClassifier(epochs=10, random_state=0).fit(frame, labels)
    assert heavy.predict_proba(frame)[:, 1].mean() > plain.predict_proba(frame)[:, 1].mean()


@pytest.mark.parametrize(("make", "fix"), [
    (lambda f, y: TableClassifier(**FAST).fit(f, np.repeat("a", len(f))), "one class"),
    (lambda f, y: TableClassifier(**FAST).fit(f, None), "requires y to be passed"),
    (lambda f, y: TableClassifier(**FAST).fit(f, y[:-1]), "give one label per row"),
    (lambda f, y: TableClassifier(options={"hiden": [8]}, **FAST).fit(f, y), "(?i)did you mean 'hidden'"),
    (lambda f, y: TableClassifier(preset="realmpl", **FAST).fit(f, y), "Did you mean 'realmlp'"),
    (lambda f, y: TableClassifier(class_weight="even", **FAST).fit(f, y), "'balanced'"),
    (lambda f, y: TableRegressor(**FAST).fit(f, y), "(?i)for class labels use TableClassifier"),
    (lambda f, y: TableClassifier(**FAST).fit(f.head(1), y[:1]), "class"),
])
def test_bad_input_is_one_clear_line(make, fix):
    frame, labels = _table(40)
    with pytest.raises((ValueError, TypeError), match=fix) as caught:
        make(frame, labels)
    assert "\n" not in str(caught.value) and len(str(caught.value)) <= 300


def test_predict_refuses_a_table_without_the_trained_columns(fitted):
    clf, frame, _ = fitted
    with pytest.raises(ValueError, match="lacks the column"):
        clf.predict(frame.drop(columns="size").assign(other=1.0))
