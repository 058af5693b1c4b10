"""Every recipe runs in quick mode and leaves a TensorBoard run; at full settings each one
reaches its target (the main job's promise)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kerasact.training.tensorboard import read_plugin_tags, read_scalars
from recipes.__main__ import RECIPES

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_quick_mode_leaves_a_tensorboard_run(name, tmp_path):
    out = RECIPES[name].main(logdir=str(tmp_path), quick=True, verbose=0)
    run_dir = out["run_dir"]
    assert run_dir.parent == tmp_path / name
    scalars = read_scalars(run_dir)
    assert {"epoch_loss", "epoch_learning_rate"} <= set(scalars["train"])
    assert "epoch_loss" in scalars["validation"]
    assert f"test/{out['metric']}" in scalars["."]
    assert read_plugin_tags(run_dir, "hparams")["."]
    assert read_plugin_tags(run_dir, "images")["."]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test"][out["metric"]] == pytest.approx(out["value"])
    pngs = sorted(run_dir.glob("*.png"))
    assert pngs and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_reaches_its_target_at_full_settings(name):
    out = RECIPES[name].main(logdir=None, verbose=0)
    assert out["passed"], f"{name}: {out['metric']} {out['value']:.4f} vs baseline {out['baseline']:.4f}"


def test_recipe_command_line(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [sys.executable, "-m", "recipes.binary", "--quick", "--logdir", str(tmp_path), "--hidden", "8:tanh,4",
           "--lr", "0.01"]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "tensorboard --logdir" in run.stdout and "accuracy" in run.stdout
    bad = subprocess.run(cmd[:3] + ["--hidden", "8:relux"], cwd=ROOT, capture_output=True, text=True, env=env,
                         timeout=120)
    assert bad.returncode == 2 and "relux" in bad.stderr
