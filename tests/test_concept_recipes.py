"""The concept recipes run in quick mode, leave PNGs and metrics.json in a fresh run directory,
and reach their stated numbers, checked here against independent oracles where one exists."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kerasact
from kerasact import reference
from recipes import activations, gradient_descent, threshold, vanishing_gradients, why_nonlinear

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RECIPES = {"threshold": threshold, "activations": activations,
           "why_nonlinear": why_nonlinear, "gradient_descent": gradient_descent,
           "vanishing_gradients": vanishing_gradients}
# The PNGs each recipe must leave in its run directory.
PNGS = {
    "threshold": {"threshold_fit.png"},
    "activations": {"activation_grid.png", "softmax_bars.png"},
    "why_nonlinear": {"decision_boundary_linear.png", "decision_boundary_relu.png"},
    "gradient_descent": {"descent_path_good.png", "descent_path_too_small.png", "tangent_lines.png"},
    "vanishing_gradients": {"gradient_flow.png"},
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Each recipe's main(quick=True), run once for the whole module."""
    logdir = tmp_path_factory.mktemp("runs")
    return {name: recipe.main(logdir=str(logdir), quick=True) for name, recipe in RECIPES.items()}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_passes_and_leaves_pngs_and_metrics_in_its_own_run_dir(outputs, name):
    out = outputs[name]
    run_dir = Path(out["run_dir"])
    assert out["recipe"] == name and out["passed"] is True
    assert run_dir.parent.name == name and run_dir.is_dir()
    assert PNGS[name] <= {p.name for p in run_dir.glob("*.png")}
    for png in run_dir.glob("*.png"):
        assert png.read_bytes()[:8] == PNG_SIGNATURE, png
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["passed"] is True


def test_sigmoid_gradients_vanish_with_depth_and_tanh_relu_pass_them_through(outputs):
    out = outputs["vanishing_gradients"]
    saved = json.loads((Path(out["run_dir"]) / "metrics.json").read_text())["gradient_norms_at_init"]
    sigmoid = np.array(list(saved["sigmoid"].values()))
    assert np.all(np.diff(sigmoid) > 0)  # every layer nearer the input gets less: the product of slopes <= 0.25
    # Oracle: sigmoid's slope is at most 0.25, so 8 layers (with Glorot weights) scale by about 0.25**8.
    assert sigmoid[0] / sigmoid[-1] < 0.25 ** 4
    assert out["warnings"]["sigmoid"] == ["vanishing-gradients"] and not out["warnings"]["relu"]
    assert out["checks"]["tanh_and_relu_flow"] and out["checks"]["sigmoid_vanishes"]


def test_run_dirs_are_distinct(outputs):
    assert len({str(out["run_dir"]) for out in outputs.values()}) == len(RECIPES)


def test_threshold_boundary_is_130_degrees_and_where_the_model_says_one_half(outputs):
    out = outputs["threshold"]
    assert abs(out["value"] - 130.0) <= 3.0
    # Oracle for the °C read-back: the trained model itself outputs 0.5 at the boundary.
    p = kerasact.predict(out["model"], np.array([[out["value"]]], dtype=np.float32))
    assert float(p[0, 0]) == pytest.approx(0.5, abs=1e-3)
    assert out["test_accuracy"] >= 0.97
    events = list(Path(out["run_dir"]).rglob("events.out.tfevents.*"))
    assert events, "the threshold run logs to TensorBoard"


def test_activations_plots_every_catalog_row_with_a_derivative(outputs):
    out = outputs["activations"]
    expected = [n for n, row in kerasact.activations.CATALOG.items() if row.derivative is not None]
    metrics = json.loads((Path(out["run_dir"]) / "metrics.json").read_text())
    assert metrics["activations_plotted"] == expected and out["n_plotted"] == len(expected)
    assert abs(sum(metrics["softmax_probabilities"]) - 1.0) <= 1e-6
    np.testing.assert_allclose(metrics["softmax_probabilities"],
                               reference.softmax(np.array(metrics["softmax_scores"])), rtol=1e-12)
    assert out["worst_derivative_error"] <= 1e-5


def test_why_nonlinear_linear_fails_relu_succeeds_and_folding_is_exact(outputs):
    out = outputs["why_nonlinear"]
    assert out["linear_accuracy"] < 0.7 and out["relu_accuracy"] >= 0.95
    assert out["fold_max_abs_diff"] <= 1e-5
    assert out["dense_layers_after_fold"] == 1
    assert out["params_after_fold"] == 2 + 1 < out["params_before_fold"]  # w0, w1, b
    assert any("linear-collapse" in message for message in out["lint"]["linear"])
    assert out["lint"]["relu"] == []


def test_gradient_descent_numbers(outputs):
    out = outputs["gradient_descent"]
    runs = out["runs"]
    assert np.linalg.norm(runs["good"]["final_x"]) <= 1e-6
    start = np.hypot(-3.0, 4.0)
    assert runs["too_small"]["distance_to_minimum"] > 0.9 * start  # barely moved
    assert runs["bounces"]["distance_to_minimum"] == pytest.approx(start, rel=1e-6)
    assert runs["diverges"]["distance_to_minimum"] > 1e3 * start
    # Oracle: f(x) = 0.01 x^2 + 0.1 x has f'(x) = 0.02 x + 0.1.
    np.testing.assert_allclose(out["slopes"], [0.02 * 5 + 0.1, 0.02 * 10 + 0.1], atol=1e-6)


def test_gradient_descent_command_line_exits_0_without_importing_tensorflow(tmp_path):
    # -X importtime logs every import to stderr: the numpy-only recipe must not load TF.
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "recipes.gradient_descent",
                           "--quick", "--logdir", str(tmp_path)], capture_output=True, text=True,
                          cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines()}
    assert not imported & {"tensorflow", "keras"}
    assert list((tmp_path / "gradient_descent").glob("*/metrics.json"))


def test_threshold_command_line_prints_no_tensorflow_log_lines_by_default(tmp_path):
    # A fresh shell's environment: conftest.py's TF_CPP_MIN_LOG_LEVEL removed.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    cmd = [sys.executable, "-m", "recipes.threshold", "--quick", "--logdir", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).parents[1], env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    noise = re.compile(r"cuda|onednn|cpu_feature_guard|absl|retracing", re.IGNORECASE)
    assert not noise.search(done.stdout + done.stderr), done.stderr[-2000:]
    assert "learned boundary" in done.stdout
