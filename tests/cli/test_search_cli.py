"""`kerasact search DATA --target COL --trials N` in process, on a CSV the test writes (3 numeric
columns, 1 categorical, a binary target): a header, a line per trial, the best trial, and the
best.toml / best.keras it wrote. Bad input is one line on stderr and exit status 2."""

import argparse
import contextlib
import io

import numpy as np
import pandas as pd
import pytest

import kerasact
from kerasact.cli import _search, main

TRIALS = 2


def _table(n: int = 80, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b, c = rng.normal(size=(3, n))
    group = rng.choice(["x", "y", "z"], size=n)
    label = np.where(a + (group == "x") > 0.3, "yes", "no")
    return pd.DataFrame({"a": a, "b": b, "c": c, "group": group, "label": label})


def _main(*argv: str) -> tuple[int, str, str]:
    """`main(argv)` with its stdout and stderr caught: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """One search of TRIALS trials: (exit status, stdout lines, stderr, the study folder)."""
    folder = tmp_path_factory.mktemp("search")
    _table().to_csv(folder / "tiny.csv", index=False)
    status, out, err = _main("search", str(folder / "tiny.csv"), "--target", "label", "--trials", str(TRIALS),
                             "--epochs", "3", "--log-dir", str(folder / "runs"))
    return status, out.splitlines(), err, folder / "runs" / "tiny-search"


def test_search_exits_0_and_prints_a_header_then_a_line_per_trial(searched):
    status, lines, err, _ = searched
    assert status == 0, err[-3000:]
    header = next(i for i, line in enumerate(lines) if line.split()[:3] == ["#", "state", "loss"])
    trials = [line.split() for line in lines[header + 1:header + 1 + TRIALS]]
    assert [row[0] for row in trials] == [str(i) for i in range(TRIALS)], lines
    assert all(row[1] in ("COMPLETE", "PRUNED", "FAIL") and row[-1].startswith("lr=") for row in trials), lines
    assert any(line.startswith("best trial ") and "validation loss" in line for line in lines), lines


def test_search_writes_best_toml_and_best_keras_and_prints_their_paths(searched):
    status, lines, err, study_dir = searched
    assert status == 0, err[-3000:]
    assert f"best spec:    {study_dir / 'best.toml'}" in lines and f"best model:   {study_dir / 'best.keras'}" in lines
    spec = kerasact.ModelSpec.load(study_dir / "best.toml")
    assert spec.problem == "binary" and spec.hidden
    model = kerasact.load_model(study_dir / "best.keras")
    scores = np.asarray(kerasact.predict(model, _table(n=5, seed=1).drop(columns="label")))
    assert scores.shape == (5, 1) and np.all((scores >= 0) & (scores <= 1))


# case -> the arguments after `search` ({csv}: the table's path, {dir}: a folder), what stderr names
BAD = {
    "no such file": (["{dir}/absent.csv", "--target", "label", "--trials", "2"], "absent.csv"),
    "unknown target column": (["{csv}", "--target", "species", "--trials", "2"], "species"),
    "no trials": (["{csv}", "--target", "label", "--trials", "0"], "--trials"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_exit_status_2_and_one_line_on_stderr(tmp_path, case):
    _table(n=20).to_csv(tmp_path / "tiny.csv", index=False)
    argv, named = BAD[case]
    status, out, err = _main("search", *(a.format(csv=tmp_path / "tiny.csv", dir=tmp_path) for a in argv),
                             "--log-dir", str(tmp_path / "runs"))
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("kerasact: error: ") and named in err, err
    assert not (tmp_path / "runs").exists()  # refused before a study folder is made


def test_a_glob_is_read_as_one_table_and_names_the_study_after_its_folder(tmp_path):
    (tmp_path / "parts").mkdir()
    table = _table(n=20)
    table[:12].to_csv(tmp_path / "parts" / "p1.csv", index=False)
    table[12:].to_csv(tmp_path / "parts" / "p2.csv", index=False)
    pattern = str(tmp_path / "parts" / "p*.csv")
    pd.testing.assert_frame_equal(_search.read_data(pattern), table.rename(columns=str), check_dtype=False)
    assert _search.study_name(argparse.Namespace(name=None, data=pattern)) == "parts-search"
    assert _search.study_name(argparse.Namespace(name=None, data="data/penguins.csv")) == "penguins-search"
    table[["a", "label"]].to_csv(tmp_path / "parts" / "p3.csv", index=False)
    with pytest.raises(ValueError, match="same header"):
        _search.read_data(pattern)


def test_a_bad_value_in_the_space_is_exit_status_2_before_any_trial(tmp_path):
    _table(n=20).to_csv(tmp_path / "tiny.csv", index=False)
    (tmp_path / "space.toml").write_text('[search]\nactivation = ["nonesuch"]\n')
    status, out, err = _main("search", str(tmp_path / "tiny.csv"), "--target", "label", "--trials", "1",
                             "--epochs", "1", "--space", str(tmp_path / "space.toml"), "--log-dir", str(tmp_path))
    assert status == 2 and "FAIL" not in out and not list(tmp_path.rglob("trial-*"))
    assert len(err.strip().splitlines()) == 1 and "Unknown activation 'nonesuch'" in err, err


def test_a_search_where_no_trial_completes_is_exit_status_1_and_one_line(tmp_path):
    _table(n=20).to_csv(tmp_path / "tiny.csv", index=False)
    # Each value is valid alone; together (softmax over one unit) every trial fails.
    (tmp_path / "space.toml").write_text('[search]\ndepth = 1\nwidth = 1\nactivation = "softmax"\n')
    status, out, err = _main("search", str(tmp_path / "tiny.csv"), "--target", "label", "--trials", "1",
                             "--epochs", "1", "--space", str(tmp_path / "space.toml"), "--log-dir", str(tmp_path))
    assert status == 1 and "FAIL" in out.splitlines()[-1]
    assert len(err.strip().splitlines()) == 1 and err.startswith("kerasact: error: search: no trial completed"), err
