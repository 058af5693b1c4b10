"""The contenders of `tables_suite.py`: one row each in `CONTENDERS`, a function
`(train, test, target, problem, seed) -> Fit`.

`train` holds the feature columns and the target, `test` the feature columns only; `problem`
is "classification" or "regression". A `Fit` carries the test predictions (values, or
probabilities with the class label of each column), the seconds the fit took and the
prediction's. Each contender imports its library when it runs, so a missing package fails
that contender's cells only (`tables_suite.py` shows "-" and the reason).

What each gets, as its library's documentation asks, all at library defaults:
- kerasact: the raw frame, `kerasact.train_table(train, target, seed=seed, verbose=0, log_dir=None)`
  (whatever its default model is when the benchmark runs; it splits off its own validation and
  test rows; its fit seconds are the whole call, as a user waits for it), then
  `kerasact.predict(result.model, test)`; `kerasact plain` and `kerasact realmlp` add their preset,
  `kerasact refit` asks every table for a refit (`refit=True`; the default refits class tables of up
  to 2,000 rows) (`OVERRIDES`).
- logistic/ridge: numbers median-imputed with a missing indicator and standardised, categories
  one-hot (as kerasact's verdict yardstick, written out here so the cached cells do not hang on
  kerasact's code); `LogisticRegression(max_iter=1000)` or `Ridge()`.
- HistGradientBoosting, LightGBM, CatBoost: numbers as they are (NaN included), categories
  natively (ordinal codes with a categorical mask; pandas `category` columns; `cat_features`).
- RealMLP-TD: pytabkit's `RealMLP_TD_Classifier` / `RealMLP_TD_Regressor` (n_cv=1, CPU torch)
  with the categories named; pytabkit 1.8 refuses NaN in numbers, so a number with gaps is
  median-imputed with a missing-indicator column first (on the training rows' medians).
- Threads: with `THREADS` set, OpenMP and BLAS are held to it (tables_suite.py sets the
  environment), and so are TensorFlow, torch, LightGBM (`n_jobs`), CatBoost (`thread_count`) and
  pytabkit (`n_threads`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# contender -> train_table keyword overrides: each preset by name, whatever the default is
OVERRIDES: dict[str, dict] = {"kerasact": {}, "kerasact plain": {"preset": "plain"},
                              "kerasact realmlp": {"preset": "realmlp"}, "kerasact refit": {"refit": True}}
PLAIN = OVERRIDES["kerasact plain"]
THREADS: int | None = None  # threads each library may use (set by tables_suite.py); None: each one's default
MISSING = "(missing)"  # a missing category, as text, for the libraries that want text
MAX_CATEGORIES = 255  # histogram gradient boosting takes at most this many categories per column
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Fit:
    values: np.ndarray  # (n,) predicted values, or (n, k) class probabilities
    classes: np.ndarray | None  # the class label of each probability column; None for regression
    seconds: float  # fitting
    predict_seconds: float


def columns(X: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(numeric, categorical) column names: a column that is not numbers (or bool) is categories."""
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])]
    return numeric, [c for c in X.columns if c not in numeric]


def as_text(X: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    """The categories as object-dtype text, a missing one as `MISSING`."""
    X = X.copy()
    for c in categorical:
        X[c] = X[c].astype(object).where(X[c].notna(), MISSING).astype(str).astype(object)
    return X


def _timed(fit: Callable[[], object], predict: Callable[[object], np.ndarray],
           classes: Callable[[object], np.ndarray] | None) -> Fit:
    start = time.perf_counter()
    model = fit()
    middle = time.perf_counter()
    values = np.asarray(predict(model), dtype=np.float64)
    end = time.perf_counter()
    return Fit(values, None if classes is None else np.asarray(classes(model)), middle - start, end - middle)


def _sklearn_like(model: object, X: pd.DataFrame, y: pd.Series, test: pd.DataFrame, problem: str,
                  **fit_args: object) -> Fit:
    """Fit and predict a scikit-learn-style model: probabilities and `classes_` for classes."""
    if problem == "regression":
        return _timed(lambda: model.fit(X, y, **fit_args), lambda m: m.predict(test), None)
    return _timed(lambda: model.fit(X, y, **fit_args), lambda m: m.predict_proba(test), lambda m: m.classes_)


def _kerasact(overrides: dict) -> Callable[..., Fit]:
    def run(train: pd.DataFrame, test: pd.DataFrame, target: str, problem: str, seed: int) -> Fit:
        import kerasact

        start = time.perf_counter()
        result = kerasact.train_table(train, target, seed=seed, verbose=0, log_dir=None, **overrides)
        middle = time.perf_counter()
        if (result.codec is None) != (problem == "regression"):
            raise ValueError(f"kerasact read the target as {'values' if result.codec is None else 'classes'}; "
                             f"the table is {problem}")
        values = np.asarray(kerasact.predict(result.model, test), dtype=np.float64)
        end = time.perf_counter()
        if result.codec is None:
            return Fit(values[:, 0], None, middle - start, end - middle)
        if values.shape[1] == 1:  # one sigmoid column: P(the second class)
            values = np.hstack([1 - values, values])
        return Fit(values, result.codec.classes_, middle - start, end - middle)
    return run


def linear(train: pd.DataFrame, test: pd.DataFrame, target: str, problem: str, seed: int) -> Fit:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y = train.drop(columns=target), train[target]
    numeric, categorical = columns(X)
    numbers = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())
    encode = ColumnTransformer([("numbers", numbers, numeric),
                                ("categories", OneHotEncoder(handle_unknown="ignore"), categorical)])
    model = make_pipeline(encode, Ridge() if problem == "regression" else LogisticRegression(max_iter=1000))
    return _sklearn_like(model, as_text(X, categorical), y, as_text(test, categorical), problem)


def hist_gradient_boosting(train: pd.DataFrame, test: pd.DataFrame, target: str, problem: str, seed: int) -> Fit:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    X, y = train.drop(columns=target), train[target]
    numeric, categorical = columns(X)
    codes = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, max_categories=MAX_CATEGORIES)
    encode = ColumnTransformer([("numbers", "passthrough", numeric), ("categories", codes, categorical)])
    mask = [False] * len(numeric) + [True] * len(categorical)  # the transformer's output order
    estimator = HistGradientBoostingRegressor if problem == "regression" else HistGradientBoostingClassifier
    model = make_pipeline(encode, estimator(categorical_features=mask if categorical else None, random_state=seed))
    return _sklearn_like(model, as_text(X, categorical), y, as_text(test, categorical), problem)


def lightgbm(train: pd.DataFrame, test: pd.DataFrame, target: str, problem: str, seed: int) -> Fit:
    import lightgbm as lgb

    X, y = train.drop(columns=target), train[target]
    categorical = columns(X)[1]
    X, test = X.copy(), test.copy()
    for c in categorical:  # the training rows' levels; an unseen test level becomes NaN
        X[c] = X[c].astype("category")
        test[c] = pd.Categorical(test[c], categories=X[c].cat.categories)
    estimator = lgb.LGBMRegressor if problem == "regression" else lgb.LGBMClassifier
    threads = {"n_jobs": THREADS} if THREADS else {}
    return _sklearn_like(estimator(random_state=seed, verbose=-1, **threads), X, y, test, problem)


def catboost(train: pd.DataFrame, test: pd.DataFrame, target: str, problem: str, seed: int) -> Fit:
    import catboost as cb

    X, y = train.drop(columns=target), train[target]
    categorical = columns(X)[1]
    estimator = cb.CatBoostRegressor if problem == "regression" else cb.CatBoostClassifier
    threads = {"thread_count": THREADS} if THREADS else {}
    model = estimator(random_seed=seed, verbose=0, allow_writing_files=False, cat_features=categorical, **threads)
    return _sklearn_like(model, as_text(X, categorical), y, as_text(test, categorical), problem)


def realmlp_td(train: pd.DataFrame, test: pd.DataFrame, target: str, problem: str, seed: int) -> Fit:
    from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

    X, y = train.drop(columns=target), train[target]
    numeric, categorical = columns(X)
    X, test = as_text(X, categorical), as_text(test, categorical)
    for c in [c for c in numeric if X[c].isna().any() or test[c].isna().any()]:
        median = X[c].median()
        for frame in (X, test):
            frame[f"{c} missing"] = frame[c].isna().astype(np.float64)
            frame[c] = frame[c].fillna(median)
    estimator = RealMLP_TD_Regressor if problem == "regression" else RealMLP_TD_Classifier
    threads = {"n_threads": THREADS} if THREADS else {}
    model = estimator(random_state=seed, device="cpu", n_cv=1, verbosity=0, **threads)
    return _sklearn_like(model, X, y.astype(np.float64) if problem == "regression" else y, test, problem,
                         cat_col_names=categorical)


# name -> the contender; the row order is the report's column order
CONTENDERS: dict[str, Callable[..., Fit]] = {
    "kerasact": _kerasact({}),
    "kerasact plain": _kerasact(PLAIN),
    "kerasact realmlp": _kerasact(OVERRIDES["kerasact realmlp"]),
    "kerasact refit": _kerasact(OVERRIDES["kerasact refit"]),
    "logistic/ridge": linear,
    "HistGradientBoosting": hist_gradient_boosting,
    "LightGBM": lightgbm,
    "CatBoost": catboost,
    "RealMLP-TD": realmlp_td,
}
# name -> the packages whose versions decide its numbers (a cached cell of another version is run again)
PACKAGES: dict[str, tuple[str, ...]] = {
    "kerasact": ("tensorflow", "keras"),
    "kerasact plain": ("tensorflow", "keras"),
    "kerasact realmlp": ("tensorflow", "keras"),
    "kerasact refit": ("tensorflow", "keras"),
    "logistic/ridge": ("scikit-learn",),
    "HistGradientBoosting": ("scikit-learn",),
    "LightGBM": ("lightgbm",),
    "CatBoost": ("catboost",),
    "RealMLP-TD": ("pytabkit", "torch"),
}


# Folders and modules a table fit and predict never run: a change there keeps the cached cells.
_UNUSED = ("estimators", "tuning", "cli", "testing", "reference", "report", "export", "serving",
           "sklearn.py", "__main__.py")


def _source_hash() -> str:
    """kerasact's code a table fit runs, as it is now: every change to it gives its contenders new cells."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "kerasact").rglob("*.py")):
        if path.relative_to(ROOT / "kerasact").parts[0] in _UNUSED:
            continue
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def installed(package: str) -> str:
    """The installed version of a distribution, or "absent"."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def version(name: str) -> str:
    """What a contender's numbers depend on, as one string: the threads, its function's source,
    its packages' versions, and for kerasact its source and the overrides."""
    code = hashlib.sha256(inspect.getsource(CONTENDERS[name]).encode()).hexdigest()[:8]
    parts = [f"threads {THREADS or 'default'}", f"contender {code}",
             *(f"{p} {installed(p)}" for p in ("pandas", "numpy", *PACKAGES[name]))]
    if name.startswith("kerasact"):
        parts.append(f"kerasact {_source_hash()} {OVERRIDES[name]}")
    return ", ".join(parts)
