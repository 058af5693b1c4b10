"""Factory functions: layer stacks, options, every activation and optimizer, and a short fit."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from kerasact import HEADS, OPTIMIZERS, activations, build_model, dense_stack, infer_problem


def _dense_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def test_the_tutorial_model():
    """The TF tutorial this project grew from: 25 → 15 → 1, sigmoid throughout, BCE."""
    model = build_model("binary", input_dim=400, hidden=[25, 15], activation="sigmoid")
    dense = _dense_layers(model)
    assert [(d.units, d.activation.__name__) for d in dense] == [(25, "sigmoid"), (15, "sigmoid"), (1, "sigmoid")]
    assert len(model.layers) == 3
    assert isinstance(model.loss, keras.losses.BinaryCrossentropy)
    assert model.count_params() == 400 * 25 + 25 + 25 * 15 + 15 + 15 + 1


def test_per_layer_activations():
    model = build_model("regression", 3, hidden=[(25, "linear"), (15, "relu"), 7], activation="tanh")
    assert [(d.units, d.activation.__name__) for d in _dense_layers(model)] == [
        (25, "linear"), (15, "relu"), (7, "tanh"), (1, "linear")]


@pytest.mark.parametrize("name", activations.DENSE_NAMES)
def test_every_dense_activation_builds_by_name(name):
    model = build_model("regression", 3, hidden=[(4, name)])
    out = model.predict(np.linspace(-2, 2, 12).reshape(4, 3), verbose=0)
    assert out.shape == (4, 1) and np.all(np.isfinite(out))


@pytest.mark.parametrize("name", sorted(set(activations.names()) - set(activations.DENSE_NAMES)))
def test_activations_keras_cannot_stack_are_refused_with_the_reason(name):
    with pytest.raises(ValueError, match=f"hidden\\[0\\]={name!r} cannot be a Dense layer's activation.*Valid options"):
        build_model("regression", 3, hidden=[(4, name)])


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_by_name_takes_a_step(name):
    model = build_model("binary", 4, hidden=[6], optimizer=name, learning_rate=0.01, seed=0)
    assert type(model.optimizer) is OPTIMIZERS[name]
    np.testing.assert_allclose(float(model.optimizer.learning_rate), 0.01, rtol=1e-6)
    before = [w.copy() for w in model.get_weights()]
    X = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    model.train_on_batch(X, np.array([0, 1] * 4, dtype="float32"))
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_options_add_the_expected_layers():
    model = build_model("multiclass", 6, n_classes=3, hidden=[8, 8], dropout=0.25, l2=1e-3, batch_norm=True)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "BatchNormalization", "Activation", "Dropout"] * 2 + ["Dense"]
    dense = _dense_layers(model)
    assert all(d.kernel_regularizer is not None for d in dense)
    assert [d.use_bias for d in dense] == [False, False, True]
    assert all(layer.rate == 0.25 for layer in model.layers if isinstance(layer, keras.layers.Dropout))


def test_normalization_is_adapted_on_training_features():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=50.0, scale=10.0, size=(200, 3)).astype("float32")
    model = build_model("regression", 3, normalize=X)
    norm = model.layers[0]
    assert isinstance(norm, keras.layers.Normalization)
    z = norm(X).numpy()
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=0), 1.0, atol=1e-3)


def test_seed_makes_weights_reproducible():
    a, b, c = (build_model("binary", 5, seed=s) for s in (7, 7, 8))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])
    first, second = _dense_layers(a)[:2]
    assert not np.array_equal(first.kernel.numpy()[:32, :32], second.kernel.numpy()[:32, :32])


def test_selu_gets_lecun_normal_initialisation():
    dense = _dense_layers(build_model("regression", 4, hidden=[(16, "selu")]))[0]
    assert isinstance(dense.kernel_initializer, keras.initializers.LecunNormal)


def test_dense_stack_composes_into_a_user_model():
    layers = dense_stack([(25, "linear"), (15, "relu")], dropout=0.1)
    model = keras.Sequential([keras.Input((4,)), *layers, keras.layers.Dense(2)])
    assert model.output_shape == (None, 2)
    assert [type(layer).__name__ for layer in layers] == ["Dense", "Dropout", "Dense", "Dropout"]


def test_extra_metrics_are_added():
    model = build_model("binary", 4, metrics=["precision", "recall"])
    logs = model.evaluate(np.zeros((4, 4)), np.array([0, 1, 0, 1]), verbose=0, return_dict=True)
    assert {"precision", "recall", "accuracy", "auc"} <= set(logs)


def _tiny(problem, rng, n=96, d=4):
    """Learnable tiny data for each problem type (the target depends on X)."""
    X = rng.normal(size=(n, d)).astype("float32")
    score = X @ rng.normal(size=(d, 3))
    targets = {
        "regression": score[:, :2],
        "binary": (score[:, 0] > 0).astype("int64"),
        "multiclass": score.argmax(axis=1),
        "multilabel": (score > 0).astype("float32"),
    }
    return X, targets[problem]


@pytest.mark.parametrize("problem", sorted(HEADS))
def test_each_problem_type_learns_on_tiny_data(problem):
    rng = np.random.default_rng(0)
    X, y = _tiny(problem, rng)
    target = infer_problem(y)
    assert target.problem == problem
    model = build_model(input_dim=4, hidden=[16], learning_rate=0.01, seed=0, **target.build_kwargs())
    history = model.fit(X, y, epochs=15, batch_size=32, verbose=0).history["loss"]
    assert history[-1] < 0.7 * history[0], history


def test_mirrored_strategy_over_two_logical_cpus():
    """Logical devices must be configured before TensorFlow starts, hence a fresh process."""
    script = textwrap.dedent("""
        import numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import kerasact
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        model = kerasact.build_model("multiclass", 4, n_classes=3, hidden=[8], strategy=strategy, seed=0)
        assert strategy.num_replicas_in_sync == 2
        assert all(type(w).__name__ == "MirroredVariable" for w in (v.value for v in model.weights)), \\
            [type(v.value).__name__ for v in model.weights]
        rng = np.random.default_rng(0)
        X = rng.normal(size=(64, 4)).astype("float32")
        h = model.fit(X, X[:, :3].argmax(1), epochs=3, batch_size=16, verbose=0).history["loss"]
        assert np.isfinite(h).all()
        print("replicas", strategy.num_replicas_in_sync)
    """)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=180)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "replicas 2" in run.stdout
