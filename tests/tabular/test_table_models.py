"""Table models end to end: raw rows in (any column order and dtypes, missing values, unseen
categories), preprocessing adapted on the training rows only, saved and reloaded as one file."""

import json

import numpy as np
import pandas as pd
import pytest

import kerasact
from kerasact import tabular

N = 160
RNG = np.random.default_rng(0)


def table(n: int = N, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    size = rng.normal(50, 10, n)
    island = rng.choice(["Biscoe", "Dream", "Torgersen"], n)
    year = rng.choice([2007, 2008, 2009], n)
    score = (size - 50) / 10 + (island == "Dream") * 1.5
    frame = pd.DataFrame({"size": size, "island": island, "year": year,
                          "kind": np.where(score > 0.4, "big", np.where(score > -0.6, "mid", "small"))})
    frame.loc[rng.choice(n, min(6, n // 4), replace=False), "size"] = np.nan
    frame.loc[rng.choice(n, min(5, n // 4), replace=False), "island"] = None
    return frame


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    # The default recipe (realmlp) on a small stack: 4 steps an epoch at batch 32.
    result = kerasact.train_table(table(), "kind", hidden=[16], seed=0, epochs=40, batch_size=32, verbose=0,
                                  log_dir=tmp_path_factory.mktemp("runs"))
    return result


def test_train_table_learns_and_writes_the_schema(trained):
    assert trained.metrics["accuracy"] >= 0.7  # 3 well-separated classes on 24 test rows
    saved = json.loads((trained.run_dir / "metrics.json").read_text())
    assert [c["name"] for c in saved["schema"]["columns"]] == ["size", "island", "year"]
    assert [c["kind"] for c in saved["schema"]["columns"]] == ["numeric", "categorical", "categorical"]


def test_reloaded_model_predicts_identically_on_raw_rows_in_any_order_and_dtype(trained):
    loaded = kerasact.load_model(trained.run_dir / "model.keras")
    assert tabular.schema_of(loaded) == tabular.schema_of(trained.model)
    rows = table(30, seed=5).drop(columns=["kind"])
    shuffled = rows[["year", "island", "size"]].astype({"year": "float64", "size": "object"})
    expected = kerasact.predict(trained.model, rows)
    np.testing.assert_allclose(kerasact.predict(loaded, shuffled), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(expected.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA], ids=["None", "NaN", "pd.NA"])
def test_missing_values_and_unseen_categories_predict_finite_probabilities(trained, missing):
    rows = table(4, seed=9).drop(columns=["kind"]).astype({"size": "object", "island": "object"})
    rows.loc[0, "size"], rows.loc[1, "island"], rows.loc[2, "island"] = missing, missing, "Atlantis"
    with pytest.warns(UserWarning, match=r"column 'island': 1 value\(s\) never seen in training, e.g. \['Atlantis'\]"):
        out = kerasact.predict(trained.model, rows)
    assert out.shape == (4, 3) and np.isfinite(out).all()


def test_preprocessing_statistics_come_from_the_training_rows_only(trained):
    train_sizes = trained.split.X_train["size"].reshape(-1)
    scale = trained.model.get_layer("robust_numbers")  # the default recipe's number encoding: median-centred
    assert np.isclose(float(scale.median.numpy()[0]), np.nanmedian(train_sizes), rtol=1e-5)
    every = table()["size"].to_numpy()
    assert not np.isclose(np.nanmedian(train_sizes), np.nanmedian(every), rtol=1e-6)  # the test rows differ


def test_the_plain_recipe_standardises_with_the_training_rows_mean():
    frame = table()
    model = kerasact.build_tabular_model(frame.iloc[:100], target="kind", preset="plain", hidden=[4])
    scale = model.get_layer(tabular.scale_layer("size"))
    assert np.isclose(float(np.asarray(scale.mean).reshape(-1)[0]), np.nanmean(frame["size"][:100]), rtol=1e-5)


def test_a_csv_path_trains_like_the_frame(tmp_path):
    path = tmp_path / "table.csv"
    table().to_csv(path, index=False)
    result = kerasact.train_table(path, "kind", hidden=[8], seed=0, epochs=2, verbose=0)
    assert set(result.metrics) >= {"accuracy", "loss"} and result.run_dir is None


@pytest.mark.parametrize(("rows", "match"), [
    (lambda f: f.drop(columns=["size"]), r"X lacks the column\(s\) \['size'\]"),
    (lambda f: f.assign(extra=1), r"X has column\(s\) \['extra'\] the model was not trained on"),
    (lambda f: f.assign(size="tall"), r"X column 'size' is numeric for the model but holds 'tall'"),
], ids=["missing column", "extra column", "text in a numeric column"])
def test_columns_that_do_not_fit_are_one_short_error(trained, rows, match):
    frame = rows(table(5, seed=3).drop(columns=["kind"]))
    with pytest.raises(ValueError, match=match) as info:
        kerasact.predict(trained.model, frame)
    assert len(str(info.value)) <= 300


@pytest.mark.parametrize(("text", "target", "match"), [
    ("", "kind", r"is empty; a CSV needs a header row"),
    ("a,kind\n1,x\n3,4,5\n", "kind", r"is not a regular CSV .*same number of fields"),
    ("a,kind\n1,x\n", "knd", r"target='knd' is not valid.*Did you mean 'kind'\?"),
], ids=["empty", "ragged", "target typo"])
def test_bad_csv_files_are_one_short_error(tmp_path, text, target, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match) as info:
        kerasact.train_table(path, target, epochs=1, verbose=0)
    assert len(str(info.value)) <= 300


def test_array_models_refuse_tables_and_table_models_refuse_target_with_arrays(trained):
    plain = kerasact.build_model("binary", 3, hidden=[4])
    with pytest.raises(ValueError, match=r"target='kind' is not valid: expected None for a model built on arrays"):
        kerasact.train(plain, table(), target="kind", epochs=1, verbose=0)
    with pytest.raises(TypeError, match=r"X=.* is not valid: expected an array or a DataFrame of numbers"):
        kerasact.train(plain, {"a": [1.0, 2.0]}, [0, 1], epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"target='kind' is not valid"):
        kerasact.train(plain, np.zeros((30, 3)), np.arange(30) % 2, target="kind", epochs=1, verbose=0)


def test_regression_targets_train_on_a_table():
    frame = table().assign(kind=lambda f: np.nan_to_num(f["size"].to_numpy(), nan=50.0) * 2 + RNG.normal(size=N))
    result = kerasact.train_table(frame, "kind", hidden=[16], seed=0, epochs=30, verbose=0, learning_rate=1e-2)
    assert result.model.output_shape == (None, 1) and np.isfinite(result.metrics["loss"])


def test_a_given_problem_reads_its_counts_off_the_target():
    result = kerasact.train_table(table(), "kind", problem="multiclass", hidden=[4], epochs=1, verbose=0)
    assert result.model.output_shape == (None, 3)


def test_column_names_that_look_like_the_models_own_layers_train():
    frame = table().rename(columns={"size": "features", "year": "scale_island"})
    result = kerasact.train_table(frame, "kind", hidden=[4], epochs=1, verbose=0)
    assert kerasact.predict(result.model, frame.drop(columns=["kind"])).shape == (N, 3)


def test_a_splits_own_input_columns_predict_like_the_raw_rows(trained):
    np.testing.assert_allclose(kerasact.predict(trained.model, trained.split.X_test),
                               kerasact.predict(trained.model, tabular.to_frame(trained.split.X_test,
                                                                                tabular.schema_of(trained.model))),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    (dict(val_size="0.2"), TypeError, r"val_size='0.2' \(str\) is not valid"),
    (dict(seed=-1), ValueError, r"seed=-1 is not valid"),
    (dict(epochs=0), ValueError, r"epochs=0 is not valid"),
    (dict(hiden=[3]), TypeError, r"hiden=\[3\] is not an argument of train_table.*Did you mean 'hidden'\?"),
    (dict(categorical=5), TypeError, r"categorical=5 \(int\) is not valid: expected a list of column names"),
], ids=["val_size str", "seed", "epochs", "typo", "categorical int"])
def test_train_table_checks_its_arguments_before_any_work(kwargs, error, match, capsys):
    with pytest.raises(error, match=match) as info:
        kerasact.train_table(table(), "kind", **kwargs)
    assert len(str(info.value)) <= 300 and capsys.readouterr().out == ""  # nothing built, so nothing printed


def _log_price_table(n: int = N) -> pd.DataFrame:
    """A target near 12 (a log price): what an output bias starting at 0 does not reach in time."""
    frame = table(n).drop(columns="kind")
    size = np.nan_to_num(frame["size"].to_numpy(), nan=50.0)
    return frame.assign(price=12.0 + 0.5 * (size - 50) / 10 + 0.3 * (frame["island"] == "Dream")
                        + 0.05 * RNG.normal(size=n))


def test_a_regression_target_far_from_zero_is_learned_standardised_by_default():
    result = kerasact.train_table(_log_price_table(), "price", hidden=[16], seed=0, epochs=30, verbose=0)
    assert any(layer.name == "normalize_targets" for layer in result.model.layers)
    assert result.metrics["r2"] > 0.5, result.metrics  # without the scaling: far below 0 (the bias is still near 0)
    assert result.verdict.model == pytest.approx(result.metrics["r2"], abs=1e-4)
    assert result.verdict.model > result.verdict.constant
    assert "constant predictor" not in (result.verdict.warning or "")


def test_normalize_target_false_is_kept_and_classes_are_never_scaled():
    plain = kerasact.build_tabular_model(_log_price_table(), target="price", hidden=[4], normalize_target=False)
    classes = kerasact.build_tabular_model(table(), target="kind", hidden=[4])
    assert not any(layer.name == "normalize_targets" for model in (plain, classes) for layer in model.layers)


def test_a_class_too_rare_to_split_is_named_by_its_label():
    frame = table().assign(kind="big")
    frame.loc[:1, "kind"] = "small"  # 2 rows: too few to put one in each of training, validation and test
    with pytest.raises(ValueError, match=r"class 'small' has only 2\. Add rows of that class or merge it"):
        kerasact.train_table(frame, "kind", epochs=1, verbose=0)


def test_a_100k_row_table_trains_the_default_recipe_and_predicts_every_row():
    """Statistics over 70,000 training rows, the NTK init on a sample of them, one epoch; every row predicted."""
    rng, n = np.random.default_rng(1), 100_000
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.exponential(size=n),
                          "c": rng.choice([f"k{i}" for i in range(40)], n), "d": rng.choice(["x", "y"], n)})
    frame.loc[::7, "a"] = np.nan
    frame["y"] = np.where(np.nan_to_num(frame["a"]) + (frame["c"] == "k3") + rng.normal(size=n) * 0.3 > 0, "p", "q")
    result = kerasact.train_table(frame, "y", epochs=1, seed=0, verbose=0)
    assert len(result.split.X_test["a"]) == 15_000 and result.metrics["accuracy"] > 0.75
    out = kerasact.predict(result.model, frame.drop(columns="y"))
    assert out.shape == (n, 1) and np.isfinite(out).all()
