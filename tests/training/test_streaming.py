"""Streaming CSV files (`train_table(..., stream=True)`): read in chunks, the model built on a
bounded uniform sample, each row's split drawn from its row number and the seed, the trained
model saved to take raw rows like any table model."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

import kerasact
from kerasact.tabular import stream as csv
from kerasact.training import _stream_plan, streaming

N = 3000
FAST = {"hidden": [16], "epochs": 4, "batch_size": 64, "learning_rate": 1e-2, "seed": 0, "verbose": 0,
        "patience": None, "chunk_rows": 500, "shuffle_rows": 1000, "sample_rows": 1500}


def table(n: int = N, seed: int = 0) -> pd.DataFrame:
    """Three classes from a number (with NaN), a text column (with gaps) and a year."""
    rng = np.random.default_rng(seed)
    size, noise = rng.normal(50, 10, n), rng.normal(0, 1, n)
    island = rng.choice(["Biscoe", "Dream", "Torgersen"], n)
    score = (size - 50) / 10 + (island == "Dream") * 1.5 + 0.3 * noise
    frame = pd.DataFrame({"size": size, "island": island, "year": rng.choice([2007, 2008, 2009], n),
                          "noise": noise,
                          "kind": np.where(score > 0.4, "big", np.where(score > -0.6, "mid", "small"))})
    frame.loc[rng.random(n) < 0.03, "size"] = np.nan
    frame.loc[rng.random(n) < 0.03, "island"] = None
    return frame


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    file = tmp_path_factory.mktemp("data") / "table.csv"
    table().to_csv(file, index=False)
    return file


@pytest.fixture(scope="module")
def trained(path, tmp_path_factory):
    keras.utils.set_random_seed(0)  # as conftest seeds each test (a module fixture is made before that)
    return kerasact.train_table(path, "kind", stream=True, log_dir=tmp_path_factory.mktemp("runs"), **FAST)


def test_a_streamed_csv_learns_and_records_what_it_read(trained):
    assert trained.metrics["accuracy"] >= 0.9  # well-separated classes, ~450 test rows
    assert trained.split is None and trained.epochs_run == 4
    saved = json.loads((trained.run_dir / "metrics.json").read_text())
    assert saved["streamed"] is True and sum(saved["n_samples"].values()) == N
    assert saved["sample_rows"] == 1500 and saved["rows_trained"] == 4 * saved["n_samples"]["train"]
    assert saved["test"]["accuracy"] == trained.metrics["accuracy"]
    assert [(c["name"], c["kind"]) for c in saved["schema"]["columns"]] == [
        ("size", "numeric"), ("island", "categorical"), ("year", "categorical"), ("noise", "numeric")]
    assert (trained.run_dir / "model.keras").is_file() and not (trained.run_dir / "backup").exists()


def test_the_saved_model_predicts_raw_rows_with_gaps(trained):
    loaded = kerasact.load_model(trained.run_dir / "model.keras")
    rows = table(8, seed=4).drop(columns=["kind"])
    rows.loc[0, "size"], rows.loc[1, "island"] = np.nan, None
    out = kerasact.predict(loaded, rows)
    np.testing.assert_allclose(out, kerasact.predict(trained.model, rows), rtol=1e-6, atol=1e-7)
    assert out.shape == (8, 3) and np.isfinite(out).all()
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)


def test_the_same_seed_gives_the_same_split_and_test_metrics(trained, path):
    again = kerasact.train_table(path, "kind", stream=True, **FAST)
    assert again.metrics == pytest.approx(trained.metrics, rel=1e-6)


class _Kill(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise KeyboardInterrupt


def test_a_killed_run_resumes_to_the_unbroken_runs_result(trained, path, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        kerasact.train_table(path, "kind", stream=True, run_dir=tmp_path / "run", callbacks=[_Kill()], **FAST)
    keras.utils.set_random_seed(0)
    resumed = kerasact.train_table(path, "kind", stream=True, run_dir=tmp_path / "run", **FAST)
    assert resumed.resumed_from == 2 and resumed.history == trained.history  # epochs 3-4 saw the same batches
    assert resumed.metrics == pytest.approx(trained.metrics, rel=1e-6)


def test_a_row_split_depends_on_its_number_and_the_seed_only():
    rows = np.arange(20_000)
    parts = _stream_plan.row_parts(rows, seed=0, val_size=0.15, test_size=0.2)
    np.testing.assert_allclose(np.bincount(parts) / len(rows), [0.65, 0.15, 0.2], atol=0.01)
    np.testing.assert_array_equal(_stream_plan.row_parts(rows[7000:9000], seed=0, val_size=0.15, test_size=0.2),
                                  parts[7000:9000])  # a chunk of rows gets the split the whole file would
    assert (_stream_plan.row_parts(rows, seed=1, val_size=0.15, test_size=0.2) != parts).mean() > 0.3


@pytest.mark.parametrize("chunk_rows", [300, 7000])
def test_the_sample_is_uniform_and_the_same_whatever_the_chunks(path, chunk_rows):
    def sample(chunks):
        return csv.scan([path], "kind", lambda r: np.zeros(len(r), np.int64), n_parts=1, seed=0, sample_rows=600,
                        chunk_rows=chunks, max_labels=100).sample
    found = sample(chunk_rows)
    assert len(found) == 600 and found.index.is_unique
    assert abs(found.index.to_numpy().mean() - (N - 1) / 2) < 4 * N / np.sqrt(12 * 600)  # 4 sigma
    assert found.index.equals(sample(1000).index)


@pytest.mark.parametrize("size", [1, 5, 40])
def test_the_shuffle_pool_yields_every_row_once(size):
    blocks = ([np.arange(i, i + 7), np.arange(i, i + 7) * 10] for i in range(0, 70, 7))
    out = list(csv.pooled(blocks, size, np.random.default_rng(0)))
    rows, tens = (np.concatenate([block[k] for block in out]) for k in (0, 1))
    assert sorted(rows.tolist()) == list(range(70)) and (tens == rows * 10).all()
    assert size == 1 or (rows != np.arange(70)).any()


def test_a_glob_of_two_files_streams_as_one_table(tmp_path):
    frame = table()
    frame.iloc[:1200].to_csv(tmp_path / "part-0.csv", index=False)
    frame.iloc[1200:].to_csv(tmp_path / "part-1.csv", index=False)
    result = kerasact.train_table(str(tmp_path / "part-*.csv"), "kind", stream=True, log_dir=tmp_path / "runs",
                                  class_weight="balanced", **FAST | {"epochs": 2})
    saved = json.loads((result.run_dir / "metrics.json").read_text())
    assert sum(saved["n_samples"].values()) == N and len(saved["sources"]) == 2
    assert result.metrics["accuracy"] >= 0.8


def test_small_files_are_read_whole_unless_told(tmp_path, monkeypatch):
    table(50).to_csv(tmp_path / "a.csv", index=False)
    assert not streaming.wants_stream(tmp_path / "a.csv", None) and streaming.wants_stream(tmp_path / "a.csv", True)
    monkeypatch.setattr(streaming, "STREAM_BYTES", 10)
    assert streaming.wants_stream(str(tmp_path / "*.csv"), None) and not streaming.wants_stream([tmp_path / "a.csv"],
                                                                                               False)


def _outside_sample(path, sample_rows):
    """The last row number a sample of `sample_rows` leaves out (row numbers and the seed decide)."""
    sample = csv.scan([path], "kind", lambda r: np.zeros(len(r), np.int64), n_parts=1, seed=0,
                      sample_rows=sample_rows, chunk_rows=1000, max_labels=100).sample
    return sorted(set(range(N)) - set(sample.index))[-1]


def test_a_label_the_sample_lacks_is_refused_before_training(path, tmp_path):
    frame = table()
    frame.loc[_outside_sample(path, 200), "kind"] = "rare"
    frame.to_csv(tmp_path / "rare.csv", index=False)
    with pytest.raises(ValueError, match=r"target 'kind': label\(s\) \['rare'\] occur in 1 row\(s\) but not in the "
                                         r"200-row sample .* raise sample_rows \(now 200\)") as info:
        kerasact.train_table(tmp_path / "rare.csv", "kind", stream=True, **FAST | {"sample_rows": 200})
    assert len(str(info.value).replace(str(tmp_path), "")) <= 300  # short, whatever the temporary folder's name


def test_a_bad_value_past_the_sample_is_raised_as_itself_not_as_a_tensorflow_error(path, tmp_path):
    # A chunk of 10 rows none of which the 100-row sample holds: the sample reads 'size' as numbers.
    held = set(csv.scan([path], "kind", lambda r: np.zeros(len(r), np.int64), n_parts=1, seed=0, sample_rows=100,
                        chunk_rows=1000, max_labels=100).sample.index)
    start = max(c for c in range(0, N, 10) if not held & set(range(c, c + 10)))
    frame = table().astype({"size": object})
    frame.loc[start + 5, "size"] = "tall"
    with pytest.raises(ValueError, match=r"late.csv column 'size' is numeric for the model but holds 'tall'"):
        kerasact.train_table(_written(tmp_path, frame, "late.csv"), "kind", stream=True,
                             **FAST | {"sample_rows": 100, "chunk_rows": 10})


def _written(folder, frame, name="t.csv"):
    frame.to_csv(folder / name, index=False)
    return folder / name


def _missing_target(tmp_path):
    frame = table(100)
    frame.loc[41, "kind"] = None
    frame.to_csv(tmp_path / "t.csv", index=False)
    return tmp_path / "t.csv", {}


def _other_header(tmp_path):
    table(50).to_csv(tmp_path / "p-0.csv", index=False)
    table(50).rename(columns={"size": "length"}).to_csv(tmp_path / "p-1.csv", index=False)
    return str(tmp_path / "p-*.csv"), {}


BAD = {  # what is wrong -> (data and options, message)
    "missing target": (_missing_target, r"target 'kind' is missing in 1 row\(s\) of .*t.csv', the first its data "
                                         r"row 42; drop those rows"),
    "files with other headers": (_other_header, r"p-1.csv' has the columns \['length', .*give every file the same"),
    "glob matching nothing": (lambda p: (str(p / "none-*.csv"), {}), r"matches no file"),
    "a frame streamed": (lambda p: (table(50), {}), r"stream=True is not valid: expected None or False for a table"),
    "sample_weight": (lambda p: (_written(p, table(50)), {"sample_weight": np.ones(50)}),
                      r"sample_weight=.* expected None for streamed"),
    "stream options read whole": (lambda p: (table(50), {"stream": False, "sample_rows": 10}),
                                  r"sample_rows=10 is not valid: expected no value for a table read whole"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_short_error_before_any_training(tmp_path, case):
    make, match = BAD[case]
    data, options = make(tmp_path)
    with pytest.raises(ValueError, match=match) as info:
        kerasact.train_table(data, "kind", **{"stream": True, **FAST, **options})
    assert len(str(info.value).replace(str(tmp_path), "")) <= 300  # short, whatever the temporary folder's name


def test_an_unknown_target_is_named_with_a_did_you_mean(tmp_path):
    with pytest.raises(ValueError, match=r"target='knd' is not valid.*Did you mean 'kind'\?"):
        kerasact.train_table(_written(tmp_path, table(50)), "knd", stream=True)


def test_a_dict_class_weight_streams_like_in_memory(tmp_path):
    path = tmp_path / "weights.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=200), "y": rng.choice(["a", "b"], 200)}).to_csv(path, index=False)
    result = kerasact.train_table(path, "y", stream=True, class_weight={0: 1.0, 1: 2.0}, epochs=1, verbose=0)
    assert np.isfinite(result.metrics["loss"])
