"""Every recipe runs in quick mode and leaves a TensorBoard run; at full settings each one
reaches its target (the main job's promise)."""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kerasact
from kerasact import tabular
from kerasact.activations import DENSE_NAMES
from kerasact.cli import recipe
from kerasact.training.tensorboard import read_plugin_tags, read_scalars
from recipes import binary, penguins
from recipes.__main__ import RECIPES

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_quick_mode_leaves_a_tensorboard_run(name, tmp_path):
    out = RECIPES[name].main(logdir=str(tmp_path), quick=True, verbose=0)
    run_dir = out["run_dir"]
    assert run_dir.parent == tmp_path / name
    scalars = read_scalars(run_dir)
    problem = json.loads((run_dir / "metrics.json").read_text())["problem"]
    assert {f"{problem}/loss", "optimizer/learning_rate"} <= set(scalars["train"])
    assert f"{problem}/loss" in scalars["validation"]
    assert f"{problem}/{out['metric']}" in scalars["test"]
    assert read_plugin_tags(run_dir, "hparams")["."]
    assert read_plugin_tags(run_dir, "images")["."]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test"][out["metric"]] == pytest.approx(out["value"])
    pngs = sorted(run_dir.glob("*.png"))
    assert pngs and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


@pytest.fixture(scope="module")
def full_settings():
    """`full_settings(name)`: the recipe's run at full settings, trained once for this module (from the
    seeds every test starts with) and read by each test that checks it."""
    runs = {}

    def run(name):
        if name not in runs:
            runs[name] = RECIPES[name].main(logdir=None, verbose=0)
        return runs[name]

    return run


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_reaches_its_target_at_full_settings(name, full_settings):
    out = full_settings(name)
    assert out["passed"], f"{name}: {out['metric']} {out['value']:.4f} vs baseline {out['baseline']:.4f}"


def test_penguins_quick_mode_trains_on_the_raw_table_and_its_model_takes_raw_rows(tmp_path, capsys):
    out = penguins.main(logdir=str(tmp_path), quick=True, verbose=2)
    assert out["run_dir"].parent == tmp_path / "penguins" and (out["run_dir"] / "metrics.json").is_file()
    printed = capsys.readouterr().out
    assert "year" in printed and "whole numbers" in printed  # the schema is printed, with the rule that decided
    s = out["result"].split
    assert len(s.y_train) + len(s.y_val) + len(s.y_test) == 344  # no row dropped for its missing values
    raw = penguins.load_penguins().drop(columns="species")
    missing = raw[raw.isna().any(axis=1)]  # NaN measurements and a missing sex, as the package ships them
    assert missing.shape[0] == 11
    probabilities = kerasact.predict(out["result"].model, missing)
    assert probabilities.shape == (11, 3) and np.isfinite(probabilities).all()


def test_penguins_baseline_sees_the_split_as_a_table_with_missing_values_as_nan():
    schema = tabular.Schema((tabular.Column("island", "categorical", "text", 1, 2),
                             tabular.Column("body mass", "numeric", "numbers", 1, 2)))
    frame = tabular.to_frame({"island": np.array([[b"Dream"], [b"[missing]"]], dtype=object),
                              "body_mass": np.array([[3.5], [np.nan]], dtype=np.float32)}, schema)
    assert frame["island"].tolist()[0] == "Dream" and pd.isna(frame["island"].iloc[1])
    assert frame["body mass"].dtype == np.float64 and np.isnan(frame["body mass"].iloc[1])


def test_penguins_reaches_its_target_at_full_settings(full_settings):
    # Also in the parametrised test above (as a main-job recipe); kept by name so the promise is explicit.
    # The same run as that test's: penguins.main(logdir=None, verbose=0), trained once.
    assert RECIPES["penguins"] is penguins
    out = full_settings("penguins")
    n_test = len(out["result"].split.y_test)
    assert out["value"] >= penguins.TARGET_ACCURACY
    assert round(out["value"] * n_test) >= round(out["baseline"] * n_test), \
        f"accuracy {out['value']:.4f} below the baseline's {out['baseline']:.4f}"


# Words of TensorFlow's own log lines (C++ start-up, absl, retracing) that no command prints by default.
TF_NOISE = re.compile(r"cuda|onednn|cpu_feature_guard|absl|retracing", re.IGNORECASE)


def _fresh_env() -> dict[str, str]:
    """The environment of a fresh shell: without the TF_CPP_MIN_LOG_LEVEL that conftest.py sets."""
    return {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}


def test_recipe_command_line_is_quiet_and_prints_a_runnable_tensorboard_command(tmp_path):
    cmd = [sys.executable, "-m", "recipes.binary", "--quick", "--logdir", str(tmp_path), "--hidden", "8:tanh,4",
           "--lr", "0.01"]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=_fresh_env(), timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "accuracy" in run.stdout
    assert not TF_NOISE.search(run.stdout + run.stderr), run.stderr[-2000:]
    command = shlex.split(run.stdout.split("inspect it:", 1)[1].splitlines()[0])
    assert command[1:] == ["--logdir", str(tmp_path)]
    assert (ROOT / command[0]).is_file(), f"{command[0]} does not exist: the printed command cannot run"


def test_tensorboard_command_names_an_existing_executable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside the clone: an absolute path, still runnable as printed
    command = shlex.split(recipe.tensorboard_command("runs"))
    assert Path(command[0]).is_file() and command[-2:] == ["--logdir", "runs"]


HELP_MODULES = ["recipes", "recipes.binary", "recipes.gradient_descent"]


@pytest.fixture(scope="module")
def helps():
    """`python -m MODULE --help` of every module, started at once (each a fresh Python importing TensorFlow)."""
    procs = {module: subprocess.Popen([sys.executable, "-m", module, "--help"], cwd=ROOT, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for module in HELP_MODULES}
    try:
        outputs = {module: proc.communicate(timeout=120) for module, proc in procs.items()}
        return {module: subprocess.CompletedProcess(procs[module].args, procs[module].returncode, *output)
                for module, output in outputs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.mark.parametrize("module", HELP_MODULES)
def test_help_names_the_command_that_runs_the_recipe(module, helps):
    run = helps[module]
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith(f"usage: python -m {module} ") and "--verbose" in run.stdout


def _binary_parser():
    return recipe.recipe_parser(binary.__doc__, epochs=binary.EPOCHS, batch_size=binary.BATCH_SIZE,
                                hidden=binary.HIDDEN, activation=binary.ACTIVATION, lr=binary.LEARNING_RATE)


def test_a_misspelled_hidden_activation_names_the_flag_the_item_and_the_valid_names(capsys):
    with pytest.raises(SystemExit) as exit_:
        _binary_parser().parse_args(["--hidden", "16,32:gelo"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--hidden='32:gelo' is not valid" in err and "did you mean 'gelu'?" in err.lower()
    assert all(name in err for name in DENSE_NAMES)


@pytest.mark.parametrize("text", ["x", "0", "32:glu", "8,-4"])
def test_other_bad_hidden_items_are_argument_errors(text, capsys):
    with pytest.raises(SystemExit):
        _binary_parser().parse_args(["--hidden", text])
    assert "--hidden=" in capsys.readouterr().err


def test_the_readme_example_reaches_the_binary_target():
    # The flags are read from README.md itself, so the README cannot drift from what is tested.
    # Full settings at seed 0 (the example's own): ~12 s on a 2-core CPU.
    readme = (ROOT / "README.md").read_text()
    flags = re.search(r"`(?:\S*/)?python -m recipes\.binary ([^`]+)`", readme)
    assert flags, "README.md shows a `python -m recipes.binary ...` example"
    args = _binary_parser().parse_args(shlex.split(flags.group(1)))
    out = binary.main(epochs=args.epochs, batch_size=args.batch_size, hidden=args.hidden,
                      activation=args.activation, lr=args.lr, seed=args.seed, logdir=None, verbose=0)
    assert out["passed"], f"README example: accuracy {out['value']:.4f} vs baseline {out['baseline']:.4f}"
