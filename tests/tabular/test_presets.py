"""Every preset builds a table model for every head that saves, loads in safe mode and predicts
raw rows (gaps, unseen and missing categories, a constant column, one row); `realmlp` trains
with its recipe (coslog₄, flat-then-cosine dropout and weight decay, the best epoch restored)."""

import json

import numpy as np
import pandas as pd
import pytest

import kerasact
from kerasact import tabular
from kerasact.layers import NTKDense
from kerasact.model import presets
from kerasact.model.lr_schedules import CosLog
from kerasact.model.scheduled_dropout import ScheduledDropout
from kerasact.problems import HEADS
from kerasact.training.schedules import flat_cos

N = 120


def _table(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"size": rng.normal(50, 10, N), "colour": rng.choice(["red", "green", "blue"], N),
                          "city": rng.choice([f"c{i}" for i in range(12)], N), "flat": 7.0,
                          "flag": rng.choice(["yes", "no"], N)})
    frame.loc[::9, "size"] = np.nan
    frame.loc[::11, "colour"] = None
    return frame


def _targets(problem: str, frame: pd.DataFrame) -> object:
    signal = np.nan_to_num((frame["size"].to_numpy() - 50) / 10) + (frame["colour"] == "red")
    return {"regression": 12.0 + signal, "binary": np.where(signal > 0.3, "yes", "no"),
            "multiclass": np.digitize(signal, [-0.5, 0.7]), "multilabel": np.column_stack(
                [signal > 0, frame["flag"] == "yes"]).astype(int)}[problem]


def _odd_rows() -> pd.DataFrame:
    return pd.DataFrame({"size": [np.nan, 1e6, 48.0], "colour": [None, "purple", "red"],
                         "city": ["c3", "nowhere", None], "flat": [7.0, 8.0, np.nan], "flag": ["yes", None, "maybe"]})


@pytest.mark.parametrize("problem", sorted(HEADS))
@pytest.mark.parametrize("preset", sorted(presets.PRESETS))
def test_every_preset_builds_saves_loads_and_predicts_raw_rows(preset, problem, tmp_path):
    frame = _table()
    model = kerasact.build_tabular_model(frame, _targets(problem, frame), problem=problem, preset=preset, seed=0,
                                         hidden=[16, 16], **({"n_outputs": 2} if problem == "multilabel" else {}))
    path = kerasact.save_model(model, tmp_path / "model.keras")
    loaded = kerasact.load_model(path)  # safe mode, kerasact's own layers allowed
    odd = _odd_rows()
    out = kerasact.predict(loaded, odd)
    np.testing.assert_allclose(out, kerasact.predict(model, odd), rtol=1e-6, atol=1e-6)
    assert np.isfinite(out).all() and len(out) == 3
    np.testing.assert_allclose(kerasact.predict(loaded, odd.iloc[:1]), out[:1], rtol=1e-5, atol=1e-6)
    if problem == "regression" and preset == "realmlp":  # clipped to the training range at inference
        y = _targets(problem, frame)
        assert out.min() >= y.min() - 1e-4 and out.max() <= y.max() + 1e-4


def test_realmlp_trains_with_its_recipe(tmp_path):
    frame = _table().assign(kind=lambda f: _targets("binary", f))
    result = kerasact.train_table(frame, "kind", preset="realmlp", epochs=4, hidden=[32, 32], seed=0, verbose=0,
                                  log_dir=tmp_path)
    model = result.model
    assert isinstance(model.optimizer._learning_rate, CosLog) and model.optimizer._learning_rate.learning_rate == 0.04
    assert result.epochs_run == 4  # a fixed budget: no early stopping
    rates = [float(layer.rate_now.numpy()) for layer in model.layers if isinstance(layer, ScheduledDropout)]
    # One step an epoch (84 training rows, batch 256): the last step is t = 3/4, half way down the cosine.
    assert rates == pytest.approx([0.15 * flat_cos(3 / 4)] * len(rates)) and rates
    assert any(isinstance(layer, NTKDense) for layer in model.layers)
    saved = json.loads((result.run_dir / "metrics.json").read_text())
    assert saved["hparams"]["learning_rate"] == 0.04 and saved["hparams"]["optimizer"] == "factoredadam"
    reloaded = kerasact.load_model(result.run_dir / "model.keras")
    rows = frame.drop(columns="kind").head(5)
    np.testing.assert_allclose(kerasact.predict(reloaded, rows), kerasact.predict(model, rows), rtol=1e-6, atol=1e-6)


def test_the_preset_is_checked_before_any_work():
    with pytest.raises(ValueError, match=r"preset='realmpl' is not valid.*Did you mean 'realmlp'"):
        kerasact.train_table(_table().assign(kind=1.0), "kind", preset="realmpl")
    schema = tabular.infer_schema(_table())
    assert [c.name for c in schema.features][:2] == ["size", "colour"]


@pytest.mark.parametrize(("problem", "name"), [("binary", "selu-16x16"), ("regression", "mish-16x16")])
def test_a_realmlp_run_is_named_by_its_parametric_activation_and_widths(problem, name):
    from kerasact.training._run import describe, model_hparams

    frame = _table()
    model = kerasact.build_tabular_model(frame, _targets(problem, frame), problem=problem, preset="realmlp",
                                         hidden=[16, 16], seed=0)
    assert describe(model) == name and model_hparams(model)["activation"] == name.split("-")[0]
