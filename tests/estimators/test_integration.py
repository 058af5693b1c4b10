"""kerasact.sklearn's MLPs inside scikit-learn's own machinery: pipelines, column transformers,
searches (in-process and in loky workers), cross-validation scorers, calibration, permutation
importance, metadata routing, and scikit-learn's documentation examples with the import swapped."""

import inspect
import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
import sklearn.neural_network as sknn
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError, UnsetMetadataPassedError
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    cross_val_score,
    cross_validate,
    train_test_split,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from kerasact.sklearn import MLPClassifier, MLPRegressor

CUT = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # max_iter cut for speed


def _binary(n=120, d=5, seed=0, sep=1.0):
    return make_classification(n_samples=n, n_features=d, n_informative=3, class_sep=sep, random_state=seed)


def _small_clf(**kw):
    return MLPClassifier(**{"hidden_layer_sizes": (8,), "max_iter": 100, "learning_rate_init": 0.01,
                            "random_state": 0, **kw})


# -- 1. Pipeline and ColumnTransformer --------------------------------------------------
@CUT
def test_pipeline_scaler_then_classifier_on_badly_scaled_features():
    X, y = _binary(n=160, sep=1.5)
    X = X * np.array([1e3, 1.0, 1e-3, 50.0, 1e2])  # features five orders of magnitude apart
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, stratify=y, random_state=0)
    pipe = make_pipeline(StandardScaler(), _small_clf(max_iter=150))
    assert pipe.fit(X_tr, y_tr) is pipe and is_classifier(pipe)
    pred = pipe.predict(X_te)
    assert pred.shape == (len(X_te),) and set(pred) <= {0, 1}
    assert pipe.predict_proba(X_te).shape == (len(X_te), 2)
    assert pipe.score(X_te, y_te) >= 0.85
    mlp = pipe[-1]
    assert mlp.n_features_in_ == 5 and list(mlp.classes_) == [0, 1]
    assert 0 < mlp.n_iter_ <= 150 and len(mlp.loss_curve_) == mlp.n_iter_


@CUT
def test_pipeline_scaler_then_regressor_with_transformed_target():
    X, y = make_regression(n_samples=160, n_features=4, noise=1.0, random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y * 100 + 5e3, random_state=0)  # targets far from 0, ~1e4 wide
    model = TransformedTargetRegressor(
        regressor=make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(16,), max_iter=150,
                                                               learning_rate_init=0.01, random_state=0)),
        transformer=StandardScaler())
    model.fit(X_tr, y_tr)
    assert is_regressor(model) and model.predict(X_te).shape == (len(X_te),)
    assert model.score(X_te, y_te) >= 0.9


def _city_frame(n, seed):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"income": rng.normal(50_000, 20_000, n), "age": rng.normal(40, 10, n),
                       "city": rng.choice(["north", "south", "east"], n)})
    shift = df["city"].map({"north": -1.5, "south": 0.0, "east": 1.5})
    y = np.where((df["income"] - 50_000) / 20_000 + shift > 0, "buys", "skips")  # needs the city to be right
    return df, y


@CUT
@pytest.mark.parametrize("output", ["default", "pandas"])
def test_column_transformer_on_a_dataframe(output):
    df, y = _city_frame(240, seed=0)
    df_te, y_te = _city_frame(120, seed=1)
    ct = ColumnTransformer([("num", StandardScaler(), ["income", "age"]),
                            ("cat", OneHotEncoder(sparse_output=False), ["city"])])
    pipe = Pipeline([("prep", ct), ("mlp", _small_clf(max_iter=200))])
    if output == "pandas":
        pipe.set_output(transform="pandas")
    pipe.fit(df, y)
    assert list(pipe.classes_) == ["buys", "skips"]
    pred = pipe.predict(df_te)
    assert pred.shape == (120,) and set(pred) <= {"buys", "skips"}
    assert pipe.score(df_te, y_te) >= 0.9
    mlp = pipe.named_steps["mlp"]
    assert mlp.n_features_in_ == 5  # 2 scaled + 3 one-hot
    if output == "pandas":  # the MLP saw a DataFrame and keeps its column names, as scikit-learn's does
        assert list(mlp.feature_names_in_) == list(ct.get_feature_names_out())
    else:
        assert not hasattr(mlp, "feature_names_in_")


@CUT
def test_sparse_one_hot_input_like_sklearn():
    df, y = _city_frame(120, seed=0)
    prep = ColumnTransformer([("num", StandardScaler(), ["income", "age"]), ("cat", OneHotEncoder(), ["city"])],
                             sparse_threshold=1.0)  # keep the one-hot block sparse
    Xs = prep.fit_transform(df)
    assert sp.issparse(Xs)
    sknn.MLPClassifier((8,), max_iter=5, random_state=0).fit(Xs, y)  # scikit-learn's MLP accepts it
    clf = _small_clf(max_iter=5).fit(Xs, y)
    dense = _small_clf(max_iter=5).fit(Xs.toarray(), y)  # the same network as from the dense matrix
    np.testing.assert_array_equal(clf.predict_proba(Xs), dense.predict_proba(Xs.toarray()))
    assert clf.predict(Xs.tocsc()).shape == (120,)


# -- 2. GridSearchCV and RandomizedSearchCV, n_jobs=1 and loky n_jobs=2 -----------------
SEARCHES = {
    "grid": lambda n_jobs: GridSearchCV(
        _small_clf(max_iter=30),
        {"hidden_layer_sizes": [(4,), (8,)], "activation": ["relu", "tanh"]}, cv=2, n_jobs=n_jobs),
    "randomized": lambda n_jobs: RandomizedSearchCV(
        _small_clf(max_iter=30),
        {"alpha": [1e-5, 1e-3, 1e-1], "learning_rate_init": [1e-3, 1e-2]}, n_iter=3, cv=2, n_jobs=n_jobs,
        random_state=0),
}
GRIDS = {"grid": {"hidden_layer_sizes": [(4,), (8,)], "activation": ["relu", "tanh"]},
         "randomized": {"alpha": [1e-5, 1e-3, 1e-1], "learning_rate_init": [1e-3, 1e-2]}}


@CUT
@pytest.mark.parametrize("kind", sorted(SEARCHES))
def test_search_in_process_and_in_loky_workers_agree(kind):
    X, y = _binary()
    results = {}
    for n_jobs in (1, 2):
        search = SEARCHES[kind](n_jobs).fit(X, y)
        for name, value in search.best_params_.items():
            assert value in GRIDS[kind][name]
        assert search.best_score_ >= 0.7
        assert isinstance(search.best_estimator_, MLPClassifier)
        check_is_fitted(search.best_estimator_)
        assert search.score(X, y) >= 0.7 and search.predict(X).shape == (len(X),)
        results[n_jobs] = search
    one, two = results[1], results[2]
    scores = one.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and len(scores) == {"grid": 4, "randomized": 3}[kind]
    # A fixed random_state gives the same networks in this process and in loky's worker processes.
    np.testing.assert_array_equal(scores, two.cv_results_["mean_test_score"])
    assert one.cv_results_["params"] == two.cv_results_["params"]
    assert one.best_params_ == two.best_params_
    np.testing.assert_array_equal(one.predict_proba(X), two.predict_proba(X))


# -- 3. cross_val_score: probability scorers, and stratification ------------------------
@CUT
@pytest.mark.parametrize(("scoring", "low", "high"), [("roc_auc", 0.9, 1.0), ("neg_log_loss", -0.4, 0.0)])
def test_cross_val_score_with_probability_scorers(scoring, low, high):
    X, y = _binary(sep=1.5)
    scores = cross_val_score(_small_clf(), X, y, cv=3, scoring=scoring, error_score="raise")
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    assert np.all((scores >= low) & (scores <= high)), scores


@CUT
def test_decision_function_and_proba_rank_the_same():
    X, y = _binary()
    clf = _small_clf().fit(X, y)
    assert clf.decision_function(X).shape == (len(X),)
    assert roc_auc_score(y, clf.decision_function(X)) == pytest.approx(roc_auc_score(y, clf.predict_proba(X)[:, 1]))


def test_estimator_kinds():
    assert is_classifier(MLPClassifier()) and not is_regressor(MLPClassifier())
    assert is_regressor(MLPRegressor()) and not is_classifier(MLPRegressor())
    assert is_classifier(make_pipeline(StandardScaler(), MLPClassifier()))


@CUT
def test_cross_val_score_stratifies_a_classifier():
    X, y = _binary(sep=1.5)
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]  # all 0s then all 1s: plain KFold(2) trains each fold on one class
    with pytest.raises(ValueError, match="one class"):
        cross_val_score(_small_clf(), X, y, cv=KFold(2), error_score="raise")
    scores = cross_val_score(_small_clf(), X, y, cv=2, error_score="raise")  # StratifiedKFold, as is_classifier
    assert scores.shape == (2,) and np.all(scores >= 0.85), scores


# -- 4. CalibratedClassifierCV ---------------------------------------------------------
@CUT
def test_calibrated_classifier():
    n_classes = 3
    X, y = make_classification(n_samples=150, n_features=6, n_informative=4, n_classes=n_classes, random_state=0)
    cal = CalibratedClassifierCV(_small_clf(), cv=3).fit(X, y)
    assert len(cal.calibrated_classifiers_) == 3
    assert all(isinstance(c.estimator, MLPClassifier) for c in cal.calibrated_classifiers_)
    proba = cal.predict_proba(X)
    assert proba.shape == (150, n_classes) and list(cal.classes_) == list(range(n_classes))
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert cal.score(X, y) >= 0.7


# -- 5. permutation_importance ----------------------------------------------------------
@CUT
def test_permutation_importance_finds_the_only_feature_that_matters():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = 2.0 * X[:, 0] + 0.05 * rng.normal(size=200)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=200, learning_rate_init=0.01, random_state=0).fit(X_tr, y_tr)
    assert reg.score(X_te, y_te) >= 0.9
    result = permutation_importance(reg, X_te, y_te, n_repeats=5, random_state=0)
    means = result.importances_mean
    assert result.importances.shape == (4, 5)
    assert np.argmax(means) == 0 and means[0] > 0.5
    assert np.all(np.abs(means[1:]) < 0.1 * means[0]), means


# -- 6. metadata routing of sample_weight -----------------------------------------------
def _poisoned(n=200, seed=0):
    """Labels follow x0 > 0, except a flipped region (x1 > 0.3) that zero weights remove."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    clean = (X[:, 0] > 0).astype(int)
    poison = X[:, 1] > 0.3
    return X, np.where(poison, 1 - clean, clean), clean, poison, (~poison).astype(float)


def _routed_pipe():
    return Pipeline([("scale", StandardScaler().set_fit_request(sample_weight=False)),
                     ("mlp", MLPClassifier((16,), solver="lbfgs", max_iter=200, random_state=0)
                      .set_fit_request(sample_weight=True).set_score_request(sample_weight=True))])


def test_pipeline_routes_sample_weight_to_the_mlp():
    X, y, clean, poison, w = _poisoned()
    with sklearn.config_context(enable_metadata_routing=True):
        weighted = _routed_pipe().fit(X, y, sample_weight=w)
        plain = _routed_pipe().fit(X, y)
        # Zero weight on the flipped region: the network learns the clean rule there; without, the flips.
        assert np.mean(weighted.predict(X[poison]) == clean[poison]) >= 0.9
        assert np.mean(plain.predict(X[poison]) == clean[poison]) <= 0.2
        # ... and is the network fitted on the positive-weight rows only (full-batch L-BFGS, same seed).
        Xs = weighted.named_steps["scale"].transform(X)
        dropped = MLPClassifier((16,), solver="lbfgs", max_iter=200, random_state=0).fit(Xs[~poison], y[~poison])
        np.testing.assert_allclose(weighted.predict_proba(X), dropped.predict_proba(Xs), atol=1e-6)


def test_cross_validate_routes_sample_weight_params():
    X, y, clean, poison, w = _poisoned()
    with sklearn.config_context(enable_metadata_routing=True):
        weighted = cross_validate(_routed_pipe(), X, y, cv=3, params={"sample_weight": w}, return_estimator=True,
                                  error_score="raise")
        plain = cross_validate(_routed_pipe(), X, y, cv=3, return_estimator=True, error_score="raise")
    for est in weighted["estimator"]:
        assert np.mean(est.predict(X[poison]) == clean[poison]) >= 0.85
    assert np.all(weighted["test_score"] >= 0.85)  # weighted accuracy of each fold: the flipped rows weigh 0
    for est in plain["estimator"]:
        assert np.mean(est.predict(X[poison]) == clean[poison]) <= 0.3


def test_unrequested_sample_weight_is_refused_under_routing():
    X, y, _, _, w = _poisoned(n=40)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([("scale", StandardScaler().set_fit_request(sample_weight=False)), ("mlp", MLPClassifier())])
        with pytest.raises(UnsetMetadataPassedError, match="MLPClassifier.fit"):
            pipe.fit(X, y, sample_weight=w)


# -- 7. scikit-learn's documentation examples, the import swapped ------------------------
@pytest.mark.parametrize("module", ["sklearn", "kerasact"])
def test_sklearn_classifier_docstring_example(module):
    MLP = {"sklearn": sknn.MLPClassifier, "kerasact": MLPClassifier}[module]
    X, y = make_classification(n_samples=100, random_state=1)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=1)
    clf = MLP(random_state=1, max_iter=300).fit(X_train, y_train)
    proba = clf.predict_proba(X_test[:1])
    assert proba.shape == (1, 2) and proba.sum() == pytest.approx(1.0)
    pred = clf.predict(X_test[:5, :])
    assert pred.shape == (5,) and set(pred) <= {0, 1}
    score = clf.score(X_test, y_test)
    assert score >= 0.8  # the docstring shows 0.8...
    if module == "kerasact":  # within reach of scikit-learn's own network on the same split
        reference = sknn.MLPClassifier(random_state=1, max_iter=300).fit(X_train, y_train).score(X_test, y_test)
        assert score >= reference - 0.08
        assert np.argmax(proba) == 1  # the docstring's first test row is class 1 with p = 0.96


@pytest.mark.parametrize("module", ["sklearn", "kerasact"])
def test_sklearn_regressor_docstring_example(module):
    MLP = {"sklearn": sknn.MLPRegressor, "kerasact": MLPRegressor}[module]
    X, y = make_regression(n_samples=200, n_features=20, random_state=1)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=1)
    regr = MLP(random_state=1, max_iter=2000, tol=0.1)
    assert regr.fit(X_train, y_train) is regr
    assert repr(regr) == f"{MLP.__name__}(max_iter=2000, random_state=1, tol=0.1)"
    pred = regr.predict(X_test[:2])
    assert pred.shape == (2,)
    np.testing.assert_allclose(pred, [28.98, -291], atol=25)  # the docstring's values; y's std is 205
    score = regr.score(X_test, y_test)
    assert score >= 0.95  # the docstring shows 0.98
    if module == "kerasact":
        reference = sknn.MLPRegressor(random_state=1, max_iter=2000, tol=0.1).fit(X_train, y_train)
        assert score >= reference.score(X_test, y_test) - 0.03


@pytest.mark.parametrize("MLP", [sknn.MLPClassifier, MLPClassifier], ids=["sklearn", "kerasact"])
def test_user_guide_classification_example(MLP):
    X = [[0., 0.], [1., 1.]]
    y = [0, 1]
    clf = MLP(solver='lbfgs', alpha=1e-5, hidden_layer_sizes=(5, 2), random_state=1)
    clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict([[2., 2.], [-1., -2.]]), np.array([1, 0]))
    assert [coef.shape for coef in clf.coefs_] == [(2, 5), (5, 2), (2, 1)]
    assert [b.shape for b in clf.intercepts_] == [(5,), (2,), (1,)]
    proba = clf.predict_proba([[2., 2.], [1., 2.]])
    assert proba.shape == (2, 2) and np.all(proba.argmax(axis=1) == 1)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("MLP", [sknn.MLPClassifier, MLPClassifier], ids=["sklearn", "kerasact"])
def test_user_guide_multilabel_example(MLP):
    X = [[0., 0.], [1., 1.]]
    y = [[0, 1], [1, 1]]
    clf = MLP(solver='lbfgs', alpha=1e-5, hidden_layer_sizes=(15,), random_state=1)
    clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict([[1., 2.]]), np.array([[1, 1]]))
    np.testing.assert_array_equal(clf.predict([[0., 0.]]), np.array([[0, 1]]))
    assert clf.predict_proba([[1., 2.]]).shape == (1, 2)
    assert list(clf.classes_) == [0, 1] and clf.out_activation_ == "logistic"


def _workflow(cls, X, y, **params):
    """The same user code for either library's class: fit, predict, score, params, clone, pickle."""
    est = cls(hidden_layer_sizes=(6, 4), max_iter=40, learning_rate_init=0.01, random_state=0, **params)
    out = {"fit_returns_self": est.fit(X, y) is est, "predict": est.predict(X), "score": est.score(X, y),
           "params": est.get_params()}
    if hasattr(est, "predict_proba"):
        out["proba"] = est.predict_proba(X)
        out["classes"] = est.classes_
    out["set_params_returns_self"] = est.set_params(alpha=1e-3) is est and est.alpha == 1e-3
    twin = clone(est)
    out["clone"] = (type(twin) is cls, twin.get_params() == est.get_params(), not hasattr(twin, "n_iter_"))
    again = pickle.loads(pickle.dumps(est))
    out["pickle_predicts_the_same"] = np.array_equal(again.predict(X), out["predict"])
    out["fitted"] = {"n_features_in_": est.n_features_in_, "n_layers_": est.n_layers_,
                     "n_outputs_": est.n_outputs_, "out_activation_": est.out_activation_,
                     "coefs_": [c.shape for c in est.coefs_], "intercepts_": [b.shape for b in est.intercepts_],
                     "loss_curve_": (type(est.loss_curve_), len(est.loss_curve_) == est.n_iter_),
                     "n_iter_": isinstance(est.n_iter_, int) and 0 < est.n_iter_ <= 40}
    return out


PAIRS = {"classifier": (sknn.MLPClassifier, MLPClassifier), "regressor": (sknn.MLPRegressor, MLPRegressor)}


@CUT
@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_same_code_with_the_import_swapped(kind):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    y = np.array(["cat", "dog", "emu"])[(X[:, :2] > 0).sum(axis=1)] if kind == "classifier" else X @ [1., -2., .5]
    ours_cls, theirs_cls = PAIRS[kind][1], PAIRS[kind][0]
    theirs, ours = _workflow(theirs_cls, X, y), _workflow(ours_cls, X, y)
    for out in (theirs, ours):
        assert out["fit_returns_self"] and out["set_params_returns_self"] and out["clone"] == (True, True, True)
        assert out["pickle_predicts_the_same"]
    assert set(theirs["params"]) <= set(ours["params"])  # every scikit-learn parameter, kerasact's on top
    assert {k: ours["params"][k] for k in theirs["params"]} == theirs["params"]  # the same defaults
    assert ours["fitted"] == theirs["fitted"]
    assert type(ours["score"]) is type(theirs["score"])
    assert ours["predict"].shape == theirs["predict"].shape
    assert ours["predict"].dtype.kind == theirs["predict"].dtype.kind
    if kind == "classifier":
        np.testing.assert_array_equal(ours["classes"], theirs["classes"])
        assert ours["proba"].shape == theirs["proba"].shape == (90, 3)
        assert set(ours["predict"]) <= set(theirs["classes"])
        assert ours["score"] >= 0.7 and theirs["score"] >= 0.7
    else:
        assert ours["score"] >= 0.5 and theirs["score"] >= 0.5  # R² after 40 epochs


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_constructor_signature_matches_sklearn(kind):
    theirs, ours = (list(inspect.signature(c.__init__).parameters.values()) for c in PAIRS[kind])
    # The same names in the same order, the same positional/keyword-only split and the same defaults,
    # so positional calls such as MLPRegressor("squared_error", (16,)) mean the same; kerasact's come after.
    assert [(p.name, p.kind, p.default) for p in ours[:len(theirs)]] == [(p.name, p.kind, p.default) for p in theirs]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in ours[len(theirs):])


UNFITTED = [(cls, method) for cls in (sknn.MLPClassifier, MLPClassifier, sknn.MLPRegressor, MLPRegressor)
            for method in ("predict", "predict_proba", "decision_function", "score") if hasattr(cls, method)]


@pytest.mark.parametrize(("cls", "method"), UNFITTED,
                         ids=[f"{c.__module__.split('.')[0]}-{c.__name__}-{m}" for c, m in UNFITTED])
def test_unfitted_estimator_raises_not_fitted_error(cls, method):
    X, y = np.zeros((3, 2)), np.array([0, 1, 0])
    args = (X, y) if method == "score" else (X,)
    with pytest.raises(NotFittedError):
        getattr(cls(), method)(*args)
