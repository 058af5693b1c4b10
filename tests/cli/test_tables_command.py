"""`kerasact train | predict | info MODEL` end to end on a CSV the test writes: a string column
with a missing value, a numeric column with NaN, and a three-class target. Bad tables are one
line on stderr and exit status 2, never a traceback."""

import dataclasses
import io
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import kerasact
from kerasact.cli import _baselines, _tables, main

FRESH_ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
CLASSES = ["large", "medium", "small"]
EPOCHS = "3"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kerasact", *args], capture_output=True, text=True, timeout=300,
                          env=FRESH_ENV)


def _table(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """size decides the class, colour shifts it; one missing colour, two missing sizes."""
    rng = np.random.default_rng(seed)
    size = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n).astype(object)
    shifted = size + np.where(colour == "red", 0.5, 0.0)
    kind = np.where(shifted > 0.5, "large", np.where(shifted < -0.5, "small", "medium"))
    size[[1, 3]], colour[2] = np.nan, None
    return pd.DataFrame({"size": size, "colour": colour, "weight": rng.normal(size=n), "kind": kind})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One `kerasact train` run on the table; (its completed process, its run directory)."""
    folder = tmp_path_factory.mktemp("table")
    _table().to_csv(folder / "shapes.csv", index=False)
    out = _run("train", str(folder / "shapes.csv"), "--target", "kind", "--epochs", EPOCHS, "--hidden", "8",
               "--log-dir", str(folder / "runs"), "--refit")
    runs = sorted((folder / "runs" / "shapes").glob("*/model.keras"))
    return out, runs[-1].parent if runs else None


def test_train_exits_0_and_writes_a_run_directory(trained):
    out, run_dir = trained
    assert out.returncode == 0, out.stderr[-3000:]
    assert (run_dir / "model.keras").is_file()
    record = json.loads((run_dir / "metrics.json").read_text())
    assert set(record["test"]) >= {"accuracy", "loss"} and record["labels"]["classes"] == CLASSES


def test_train_prints_schema_head_and_metrics_beside_the_baselines(trained):
    out, run_dir = trained
    lines = out.stdout.splitlines()
    assert any(line.startswith("colour") and "categorical" in line for line in lines)
    assert any(line.startswith("size") and "numeric" in line for line in lines)
    assert "head: multiclass: 3 softmax unit(s), loss sparse_categorical_crossentropy" in lines
    header = next(line for line in lines if line.startswith("metric"))
    assert header.split() == ["metric", "kerasact", "LogisticRegression", "HistGradientBoosting"]
    accuracy = next(line for line in lines if line.startswith("accuracy ")).split()
    assert all(0 <= float(v) <= 1 for v in accuracy[1:])  # every baseline scored, none "-"
    log_loss = next(line for line in lines if line.startswith("log_loss ")).split()
    assert all(float(v) > 0 for v in log_loss[1:]) and not any(line.startswith("loss ") for line in lines)
    assert f"run directory: {run_dir}" in lines
    # --refit: one line says what the model file is, and the head is shown once
    assert any(line.startswith("refit: ") and "model.keras" in line for line in lines)
    assert sum(line.startswith("head: ") for line in lines) == 1


def _new_rows() -> pd.DataFrame:
    """Rows to predict for: columns shuffled, a missing size, a missing colour, an unseen colour."""
    rows = _table(n=6, seed=1).drop(columns="kind")[["weight", "colour", "size"]]
    rows.loc[0, "size"], rows.loc[1, "colour"], rows.loc[2, "colour"] = np.nan, None, "purple"
    return rows


def test_predict_writes_one_row_per_input_row_with_probabilities_summing_to_one(trained, tmp_path):
    _, run_dir = trained
    rows = _new_rows()
    rows.to_csv(tmp_path / "new.csv", index=False)
    out = _run("predict", str(run_dir / "model.keras"), str(tmp_path / "new.csv"), "--out", str(tmp_path / "p.csv"))
    assert out.returncode == 0, out.stderr[-3000:]
    predictions = pd.read_csv(tmp_path / "p.csv")
    assert list(predictions.columns) == ["prediction", *(f"p_{c}" for c in CLASSES)]
    assert len(predictions) == len(rows)
    p = predictions[[f"p_{c}" for c in CLASSES]].to_numpy()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert predictions["prediction"].tolist() == [CLASSES[i] for i in p.argmax(axis=1)]


def test_predict_without_out_writes_csv_to_stdout_and_takes_the_run_directory(trained, tmp_path):
    _, run_dir = trained
    _new_rows().to_csv(tmp_path / "new.csv", index=False)
    out = _run("predict", str(run_dir), str(tmp_path / "new.csv"))
    assert out.returncode == 0, out.stderr[-3000:]
    assert len(pd.read_csv(io.StringIO(out.stdout))) == len(_new_rows())


def test_info_model_prints_schema_head_layers_and_training_metrics(trained):
    _, run_dir = trained
    out = _run("info", str(run_dir / "model.keras"))
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    for column, kind in [("size", "numeric"), ("colour", "categorical"), ("weight", "numeric")]:
        assert any(line.startswith(column) and kind in line for line in lines), out.stdout
    assert "head: multiclass: 3 softmax unit(s), loss sparse_categorical_crossentropy" in lines
    assert any(line.strip().startswith("multiclass_head") for line in lines)
    assert any(line.startswith("training (metrics.json)") for line in lines)


"""
## Bad input: exit status 2; a failed run: 1; either way one line on stderr
"""


def _ragged(text: str) -> str:
    lines = text.splitlines()
    lines[4] += ",1,2"  # a row with more fields than the header
    return "\n".join(lines) + "\n"


CSV = _table(n=60).to_csv(index=False)
TRAIN = ["train", "{csv}", "--target", "kind", "--epochs", "2", "--log-dir", "{dir}/runs"]
# case -> (the CSV's text, the command after `kerasact` with {csv} for its path and {dir} a folder, exit status)
BAD_RUNS = {
    "missing target column": (CSV, ["train", "{csv}", "--target", "species"], 2),
    "empty file": ("", TRAIN, 2),
    "header only": ("size,colour,kind\n", TRAIN, 2),
    "all-NaN column": (_table(n=60).assign(empty=np.nan).to_csv(index=False), TRAIN, 2),
    "one class only": (_table(n=60).assign(kind="large").to_csv(index=False), TRAIN, 2),
    "ragged rows": (_ragged(CSV), TRAIN, 2),
    "no such file": (CSV, ["train", "{dir}/absent.csv", "--target", "kind"], 2),
    "unknown problem": (CSV, [*TRAIN, "--problem", "clasification"], 2),
    "no such model": (CSV, ["predict", "{dir}/absent/model.keras", "{csv}"], 2),
    # two local workers: each says it; the launcher passes the chief's one line on
    "batch not split over 2 workers": (CSV, [*TRAIN, "--workers", "2", "--batch-size", "33"], 2),
    "missing target column, 2 workers": (CSV, ["train", "{csv}", "--target", "species", "--workers", "2"], 2),
    # squares of 1e30 overflow float32: the loss turns inf at once and the run stops
    "loss turns NaN": (_table(n=60).assign(kind=np.linspace(-1e30, 1e30, 60)).to_csv(index=False), TRAIN, 1),
}


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory):
    """Every BAD_RUNS case run at once (each is a fresh Python loading TensorFlow)."""
    folder = tmp_path_factory.mktemp("bad")

    def run(case):
        text, command, _ = BAD_RUNS[case]
        csv = folder / f"{case.replace(' ', '_')}.csv"
        csv.write_text(text)
        return _run(*(arg.format(csv=csv, dir=folder) for arg in command))

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return dict(zip(BAD_RUNS, pool.map(run, BAD_RUNS)))


@pytest.mark.parametrize("case", list(BAD_RUNS))
def test_bad_input_or_a_failed_run_is_its_exit_status_and_one_line_on_stderr(bad_runs, case):
    out = bad_runs[case]
    assert out.returncode == BAD_RUNS[case][2], out.stderr[-3000:]
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr, out.stderr[-3000:]
    assert out.stderr.startswith("kerasact: error: ")


"""
## The pieces, in process: baselines and the predictions table of every problem
"""


def test_the_baselines_score_the_runs_own_test_rows():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    table = {"x": x, "group": rng.choice(["a", "b"], 200), "y": 3 * x + rng.normal(scale=0.1, size=200)}
    result = kerasact.train_table(table, "y", epochs=1, verbose=0)
    names, rows = _baselines.compare(result)
    assert names == ["Ridge", "HistGradientBoosting"]
    scores = dict(rows)
    assert [metric for metric, _ in rows] == list(result.metrics)
    assert scores["r2"][1] >= 0.99 and scores["r2"][2] >= 0.9  # Ridge fits a line: the oracle
    np.testing.assert_allclose(scores["rmse"][1] ** 2, scores["loss"][1], rtol=1e-9)
    streamed = _baselines.table(dataclasses.replace(result, split=None))  # its rows stayed on disk
    assert "no baselines" in streamed and streamed.splitlines()[2].split() == ["metric", "kerasact"]


PREDICTION_SCORES = {
    "binary": np.array([[0.2], [0.9]]),
    "multiclass": np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]),
    "multilabel": np.array([[0.7, 0.2], [0.1, 0.6]]),
    "regression": np.array([[1.5], [-2.0]]),
}


@pytest.mark.parametrize("problem", sorted(_tables.PREDICTIONS))
def test_every_problem_has_a_predictions_table_with_one_row_per_input_row(problem):
    scores = PREDICTION_SCORES[problem]
    table = _tables.PREDICTIONS[problem](scores, None)
    assert len(table) == len(scores)
    probabilities = table[[c for c in table.columns if c.startswith("p_")]].to_numpy()
    if problem in ("binary", "multiclass"):
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
        assert table["prediction"].tolist() == list(probabilities.argmax(axis=1))  # class indices: no metrics.json
    elif problem == "regression":
        assert table["prediction"].tolist() == [1.5, -2.0]


def test_predict_names_the_classes_from_the_runs_metrics_json():
    record = {"labels": {"classes": ["no", "yes"]}}
    table = _tables.PREDICTIONS["binary"](PREDICTION_SCORES["binary"], record)
    assert table.columns.tolist() == ["prediction", "p_no", "p_yes"] and table["prediction"].tolist() == ["no", "yes"]
    with pytest.raises(ValueError, match="lists 2 classes but the model predicts 3"):
        _tables.PREDICTIONS["multiclass"](PREDICTION_SCORES["multiclass"], record)


def test_predict_in_process_on_a_model_without_a_run_directory(tmp_path, capsys):
    result = kerasact.train_table(_table(n=60), "kind", epochs=1, verbose=0)
    kerasact.save_model(result.model, tmp_path / "alone.keras")
    _new_rows().to_csv(tmp_path / "new.csv", index=False)
    assert main(["predict", str(tmp_path / "alone.keras"), str(tmp_path / "new.csv")]) == 0
    predictions = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(predictions.columns) == ["prediction", "p_0", "p_1", "p_2"] and len(predictions) == 6


@pytest.mark.parametrize(("data", "expected"), [("penguins.csv", "penguins"), ("a/b/houses.csv.gz", "houses"),
                                                ("my table.csv", "my_table"), (".csv", "run")])
def test_a_run_is_filed_under_the_data_files_name(data, expected):
    assert _tables._run_name(data) == expected
