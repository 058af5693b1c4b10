"""Execution settings, the serving function and the input pipeline: behaviour, not timing.

The rules are checked against their documented formulas (recomputed here from the layer
widths, not read back from the code), the switches against the compiled model, the serving
function against `model.predict`, and the fast settings against Keras's defaults by test
accuracy on the digits data after equal epochs.
"""

import gc
import math

import keras
import ml_dtypes
import numpy as np
import pytest

from kerasact import HEADS, ModelSpec, build_model
from kerasact.runtime import cpu, execution, pipeline, serving
from kerasact.runtime.execution import Execution

DIGITS_EPOCHS = 12
# Accuracy of two runs differing only in execution settings: both see the same number of
# gradient steps, but shuffling and float rounding differ, which on 450 test digits moves
# accuracy by a few samples. 3 points is ~13 digits.
ACCURACY_TOLERANCE = 0.03
# Serving and `model.predict` run the same layers through different kernels (the plain graph,
# XLA's fused program, Keras's predict loop), so they agree up to the precision the layers
# compute in, and the tolerance follows that precision.
# float32: 1e-6 absolute, about 8 float32 ulps at 1 (these outputs are O(1)).
FLOAT32_TOLERANCE = {"atol": 1e-6, "rtol": 0}
# bfloat16 keeps 8 significant bits: eps = 2**-7 is the gap above 1, a rounding errs by up to
# eps / 2. Which kernel runs depends on the CPU: with AVX512-BF16 oneDNN's fused kernels agree
# to float32 rounding, but on an AVX2-only CPU Eigen's bfloat16 matmul and XLA's program round
# the hidden layers' sums at different points, and outputs differ by up to 0.26 * eps * (1 +
# |output|) (seeds 0-7 of the model below, TF_ENABLE_ONEDNN_OPTS=0). 2 eps allows one ulp of
# disagreement for each of its two hidden layers, a margin of ~8x over that, and still
# catches stale weights (halving them moves the outputs by 0.17, over 5x the tolerance).
BFLOAT16_EPS = float(ml_dtypes.finfo(ml_dtypes.bfloat16).eps)
BFLOAT16_TOLERANCE = {"atol": 2 * BFLOAT16_EPS, "rtol": 2 * BFLOAT16_EPS}


def _tolerance(model):
    """The serving-vs-predict tolerance for the precision `model`'s layers compute in."""
    bfloat16 = any(layer.compute_dtype == "bfloat16" for layer in model.layers)
    return BFLOAT16_TOLERANCE if bfloat16 else FLOAT32_TOLERANCE


def _widths(input_dim, hidden, units):
    return list(zip([input_dim, *hidden], [*hidden, units]))


@pytest.mark.parametrize("input_dim, hidden, units", [(64, [128, 64], 10), (256, [512, 512], 10), (3, [4], 1)])
def test_flops_per_sample_is_three_forward_passes(input_dim, hidden, units):
    model = build_model("multiclass" if units > 1 else "regression", input_dim, n_classes=units if units > 1 else None,
                        hidden=hidden, mixed_precision=False)
    assert execution.flops_per_sample(model) == 3 * sum(2 * a * b for a, b in _widths(input_dim, hidden, units))


@pytest.mark.parametrize("batch_size, n_samples", [(32, 20_000), (512, 60_000), (32, 100), (4096, None), (1, None)])
@pytest.mark.parametrize("hidden", [[128, 64], [512, 512]])
def test_steps_per_execution_rule(hidden, batch_size, n_samples):
    model = build_model("multiclass", 64, n_classes=10, hidden=hidden, mixed_precision=False)
    work = 3 * sum(2 * a * b for a, b in _widths(64, hidden, 10))
    cap = execution.MAX_STEPS_PER_EXECUTION if n_samples is None else math.ceil(n_samples / batch_size)
    expected = max(1, min(math.ceil(execution.EXECUTION_FLOPS / (work * batch_size)), cap,
                          execution.MAX_STEPS_PER_EXECUTION))
    chosen = execution.settings(model, batch_size=batch_size, n_samples=n_samples)
    assert chosen.steps_per_execution == expected
    assert chosen.jit_compile is execution._JIT[execution.device_kind()]


@pytest.mark.parametrize("native", [True, False])
@pytest.mark.parametrize("hidden", [[128, 64], [512, 512]])
@pytest.mark.parametrize("batch_size", [32, 512])
def test_mixed_precision_rule(monkeypatch, native, hidden, batch_size):
    monkeypatch.setattr(execution, "native_bfloat16", lambda: native)
    model = build_model("multiclass", 256, n_classes=10, hidden=hidden)
    step_flops = 3 * sum(2 * a * b for a, b in _widths(256, hidden, 10)) * batch_size
    expected = native and execution.device_kind() == "CPU" and step_flops >= execution.BF16_MIN_STEP_FLOPS
    assert execution.settings(model, batch_size=batch_size).mixed_precision is expected
    assert execution.configure(model, batch_size=batch_size).mixed_precision is expected  # and applies it:
    policies = [layer.dtype_policy.name for layer in model.layers]
    assert policies == ["mixed_bfloat16" if expected else "float32"] * (len(policies) - 1) + ["float32"]


def test_configure_switching_precision_refreshes_the_serving_function(monkeypatch, features):
    monkeypatch.setattr(execution, "native_bfloat16", lambda: True)
    model = build_model("multiclass", 5, n_classes=3, hidden=[4096, 4096])  # 1e8 FLOP a sample
    before = serving.predict_fn(model)
    assert execution.configure(model, batch_size=2).mixed_precision  # 2e8 FLOP a step: bfloat16
    assert serving.predict_fn(model) is not before
    np.testing.assert_allclose(serving.predict(model, features[:2]), model.predict(features[:2], verbose=0),
                               **_tolerance(model))


@pytest.mark.parametrize("flags, expected", [("fpu avx512f avx512_bf16 sse", True), ("fpu amx_bf16", True),
                                             ("fpu avx512f avx2", False), (None, False)])
def test_native_bfloat16_reads_cpu_flags(tmp_path, monkeypatch, flags, expected):
    path = tmp_path / "cpuinfo"
    if flags is not None:
        path.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    read = cpu.cpu_flags.__wrapped__(str(path))  # the uncached reader, on this file
    monkeypatch.setattr(cpu, "cpu_flags", lambda: read)
    for name in ("ONEDNN_MAX_CPU_ISA", "TF_ENABLE_ONEDNN_OPTS"):
        monkeypatch.delenv(name, raising=False)
    assert cpu.native_bfloat16() is expected


@pytest.mark.parametrize(("env", "native", "kind"), [
    ({}, True, "bfloat16"),
    ({"ONEDNN_MAX_CPU_ISA": "AVX2"}, False, "avx2"),  # TF 2.21 aborts on a bfloat16 matmul under this cap
    ({"ONEDNN_MAX_CPU_ISA": "avx512_core"}, False, "avx512"),
    ({"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX"}, True, "bfloat16"),
    ({"ONEDNN_MAX_CPU_ISA": "no-such-isa"}, True, "bfloat16"),  # oneDNN ignores a name it does not know
    ({"TF_ENABLE_ONEDNN_OPTS": "0"}, False, "avx512"),
])
def test_a_onednn_cap_counts_as_the_cpus_flags(monkeypatch, env, native, kind):
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx2", "avx512f", "amx_bf16"}))
    for name in ("ONEDNN_MAX_CPU_ISA", "TF_ENABLE_ONEDNN_OPTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cpu.native_bfloat16() is native and cpu.cpu_kind() == kind


SWITCHES_OFF = {"steps_per_execution": 1, "jit_compile": False, "mixed_precision": False}


def test_switches_turn_each_setting_off():
    model = build_model("multiclass", 256, n_classes=10, hidden=[512, 512], **SWITCHES_OFF)
    assert (model.steps_per_execution, model.jit_compile) == (1, False)
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    assert execution.configure(model, batch_size=32, n_samples=10_000) == Execution(**SWITCHES_OFF)
    assert model.steps_per_execution == 1


def test_switches_turn_each_setting_on():
    from tensorflow.python.framework.config import is_op_determinism_enabled

    model = build_model("binary", 4, steps_per_execution=7, jit_compile=True, mixed_precision=True)
    # Keras itself turns XLA off once op determinism is on (cli.seed_everything, run by recipes).
    assert (model.steps_per_execution, model.jit_compile) == (7, not is_op_determinism_enabled())
    assert [layer.dtype_policy.name for layer in model.layers] == ["mixed_bfloat16"] * 2 + ["float32"]


def test_configure_redecides_automatic_settings_only_for_kerasact_models():
    model = build_model("multiclass", 64, n_classes=10, hidden=[128, 64])
    model.train_function = "stale"
    chosen = execution.configure(model, batch_size=512, n_samples=1000)
    assert model.steps_per_execution == chosen.steps_per_execution == 2  # ceil(1000 / 512) batches
    assert model.train_function is None  # retraced with the new setting
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    plain.compile("sgd", "mse", steps_per_execution=3)
    assert execution.configure(plain, batch_size=1, n_samples=100) is None and plain.steps_per_execution == 3


BAD_SWITCHES = [("steps_per_execution", 0, ValueError), ("steps_per_execution", "8", TypeError),
                ("steps_per_execution", True, TypeError), ("jit_compile", "auto", TypeError),
                ("mixed_precision", 1, TypeError)]


@pytest.mark.parametrize("make", [lambda **kw: Execution(**kw), lambda **kw: ModelSpec("binary", 3, **kw)],
                         ids=["Execution", "ModelSpec"])
@pytest.mark.parametrize("name, value, error", BAD_SWITCHES)
def test_bad_switches_are_refused_by_name(make, name, value, error):
    with pytest.raises(error, match=rf"{name} must be None \(automatic\) or .*got {value!r}"):
        make(**{name: value})


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_switches_round_trip_through_spec_files(tmp_path, suffix):
    spec = ModelSpec("binary", 3, steps_per_execution=16, jit_compile=False, mixed_precision=True)
    assert ModelSpec.load(spec.save(tmp_path / f"model{suffix}")) == spec
    assert Execution.of(spec) == Execution(16, False, True)
    assert "jit_compile" not in ModelSpec("binary", 3).to_dict()  # None (automatic) is left out


# -- serving -------------------------------------------------------------------------------
CASES = [(problem, logits) for problem, head in sorted(HEADS.items())
         for logits in ([False, True] if head.probabilistic else [False])]


@pytest.fixture(scope="module")
def features():
    return np.random.default_rng(0).normal(size=(37, 5)).astype(np.float32)


@pytest.mark.parametrize("problem, logits", CASES)
def test_serving_equals_model_predict(problem, logits, features):
    count = {"multiclass": 4, "multilabel": 3}.get(problem)
    model = build_model(problem, 5, n_classes=count if problem == "multiclass" else None,
                        n_outputs=count if problem == "multilabel" else None, logits=logits, seed=1, normalize=features)
    for X in (features[:1], features):  # one row, and a batch (padded to 64 rows for XLA)
        expected = model.predict(X, verbose=0)
        for _ in range(serving.XLA_AFTER + 1):  # the plain graph first, XLA's program once the size recurs
            np.testing.assert_allclose(serving.predict(model, X), expected, **_tolerance(model))
    assert serving.predict_fn(model)._xla is not None


def test_serving_chunks_large_inputs(monkeypatch, features):
    model = build_model("multiclass", 5, n_classes=3)
    monkeypatch.setattr(serving, "MAX_ROWS", 16)  # 37 rows: chunks of 16, 16 and 5 (padded to 8)
    monkeypatch.setattr(serving, "XLA_AFTER", 0)
    monkeypatch.setattr(serving, "XLA_MAX_ROWS", 8)  # the chunks of 16 stay on the plain graph
    np.testing.assert_allclose(serving.predict(model, features), model.predict(features, verbose=0),
                               **_tolerance(model))
    assert serving.predict(model, features[:0]).shape == (0, 3)


def test_serving_cache_is_reused_and_sees_new_weights(features):
    model = build_model("regression", 5, hidden=[8])
    fn = serving.predict_fn(model)
    before = fn(features)
    assert serving.predict_fn(model) is fn
    model.set_weights([w * 0.5 for w in model.get_weights()])
    after = serving.predict_fn(model)(features)
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, model.predict(features, verbose=0), **_tolerance(model))
    model.fit(features, np.ones(len(features)), epochs=2, verbose=0)
    for _ in range(serving.XLA_AFTER):  # past the plain graph: XLA's compiled program reads them too
        np.testing.assert_allclose(fn(features), model.predict(features, verbose=0), **_tolerance(model))
    model.set_weights([w + 0.25 for w in model.get_weights()])
    np.testing.assert_allclose(fn(features), model.predict(features, verbose=0), **_tolerance(model))
    assert serving.predict_fn(model) is fn and fn._xla is not None


def test_serving_a_bfloat16_model(features):
    model = build_model("multiclass", 5, n_classes=4, hidden=[16, 16], mixed_precision=True)
    assert _tolerance(model) is BFLOAT16_TOLERANCE  # the hidden layers really compute in bfloat16
    expected = model.predict(features, verbose=0)
    for _ in range(serving.XLA_AFTER + 1):  # the plain graph, then XLA's program
        np.testing.assert_allclose(serving.predict(model, features), expected, **_tolerance(model))


def test_serving_cache_does_not_keep_models_alive():
    gc.collect()
    before = len(serving._CACHE)
    model = build_model("binary", 2)
    serving.predict(model, np.zeros((1, 2)))
    assert len(serving._CACHE) == before + 1
    del model
    gc.collect()
    assert len(serving._CACHE) == before


@pytest.mark.parametrize("shape", [(4,), (2, 4), (1, 2, 5)])
def test_serving_refuses_wrong_shapes(shape):
    with pytest.raises(ValueError, match=r"X must have shape \(n, 5\); got shape"):
        serving.predict(build_model("binary", 5), np.zeros(shape))


# -- pipeline ------------------------------------------------------------------------------
def _epoch(ds):
    return [batch[1].numpy().tolist() for batch in ds]


def test_pipeline_shuffles_every_epoch_and_repeats_with_the_seed():
    X, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
    ds = pipeline.make_dataset(X, y, batch_size=4, seed=3)
    first, second = _epoch(ds), _epoch(ds)
    assert [len(b) for b in first] == [4, 4, 2]
    assert sorted(sum(first, [])) == sorted(sum(second, [])) == list(range(10))  # every row once
    assert first != second
    assert _epoch(pipeline.make_dataset(X, y, batch_size=4, seed=3)) == first
    assert _epoch(pipeline.make_dataset(X, y, batch_size=4, shuffle=False)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    x, labels = next(iter(pipeline.make_dataset(X, y, batch_size=4, shuffle=False)))
    np.testing.assert_array_equal(x.numpy(), X[:4])


def test_pipeline_order_depends_on_seed_and_epoch_alone():
    X, y = np.zeros((10, 1), np.float32), np.arange(10)
    counted = pipeline.make_dataset(X, y, batch_size=4, seed=7)
    epochs = [_epoch(counted) for _ in range(3)]
    for k in (2, 1):  # a run resumed at epoch k
        assert _epoch(pipeline.make_dataset(X, y, batch_size=4, seed=7, first_epoch=k)) == epochs[k]
    endless = pipeline.make_dataset(X, y, batch_size=4, seed=7, repeat=True)
    stream = [batch[1].numpy().tolist() for batch in endless.take(3 * pipeline.n_batches(10, 4))]
    assert stream == sum(epochs, [])


def test_validation_batches_are_cut_once_and_kept_up_to_a_bound(monkeypatch):
    X = {"a": np.arange(10, dtype=np.float32).reshape(10, 1), "b": np.array([["x"], ["y"]] * 5)}
    kept = pipeline.in_order(X, np.arange(10), batch_size=4, every_epoch=True)
    assert type(kept).__name__ == "CacheDataset"  # tf.data's cache: later passes read the cut batches
    passes = [[(x["a"].numpy().ravel().tolist(), y.numpy().tolist()) for x, y in kept] for _ in range(2)]
    assert passes[0] == passes[1] == [(list(map(float, range(i, min(i + 4, 10)))), list(range(i, min(i + 4, 10))))
                                      for i in (0, 4, 8)]
    assert type(pipeline.in_order(X, np.arange(10), batch_size=4)).__name__ != "CacheDataset"  # one pass: no copy
    monkeypatch.setattr(pipeline, "CACHE_MAX_ROWS", 9)
    assert type(pipeline.in_order(X, np.arange(10), batch_size=4, every_epoch=True)).__name__ != "CacheDataset"


@pytest.mark.parametrize("n, steps_per_execution, endless", [(100, 4, True), (100, 1, True), (100, 3, False),
                                                              (100, None, True)])  # automatic: set to the epoch first
def test_fit_inputs_stream_epochs_only_when_executions_fit_them(n, steps_per_execution, endless):
    model = build_model("regression", 2, steps_per_execution=steps_per_execution)
    inputs = pipeline.fit_inputs(model, np.zeros((n, 2)), np.zeros(n), batch_size=32, seed=0)  # 4 batches an epoch
    assert inputs["steps_per_epoch"] == (4 if endless else None) and inputs["shuffle"] is False
    history = model.fit(**inputs, epochs=2, verbose=0).history
    assert len(history["loss"]) == 2 and int(model.optimizer.iterations.numpy()) == 8


@pytest.mark.parametrize("kwargs, message", [({"y": np.zeros(3)}, "same number of rows"),
                                             ({"batch_size": 0}, "batch_size must be an int >= 1")])
def test_pipeline_refuses_bad_inputs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pipeline.make_dataset(np.zeros((4, 2)), **{"y": np.zeros(4), **kwargs})


# -- accuracy at equal epochs ----------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    from sklearn.model_selection import train_test_split

    from kerasact.data import load_dataset

    ds = load_dataset("digits")
    return train_test_split(ds.X.astype(np.float32), ds.y, test_size=0.25, stratify=ds.y, random_state=0)


def _digits_accuracy(digits, fast: bool, **switches) -> float:
    X, Xt, y, yt = digits
    keras.utils.set_random_seed(0)
    model = build_model("multiclass", 64, n_classes=10, normalize=X, seed=0, **switches)
    if fast:  # what kerasact.train runs: settings for this fit, then the in-memory pipeline
        model.fit(**pipeline.fit_inputs(model, X, y, batch_size=32, seed=0), epochs=DIGITS_EPOCHS, verbose=0)
    else:  # Keras's defaults: one batch per call, no XLA, float32, numpy arrays
        model.fit(X, y, batch_size=32, epochs=DIGITS_EPOCHS, shuffle=True, verbose=0)
    return float(np.mean(serving.predict(model, Xt).argmax(axis=1) == yt))


def test_fast_settings_keep_accuracy_at_equal_epochs(digits):
    default = _digits_accuracy(digits, fast=False, **SWITCHES_OFF)
    fast = _digits_accuracy(digits, fast=True)
    bfloat16 = _digits_accuracy(digits, fast=True, mixed_precision=True)
    print(f"digits test accuracy after {DIGITS_EPOCHS} epochs: default {default:.3f}, fast {fast:.3f}, "
          f"bfloat16 {bfloat16:.3f}")
    assert default >= 0.93
    assert abs(fast - default) <= ACCURACY_TOLERANCE
    assert abs(bfloat16 - default) <= ACCURACY_TOLERANCE
