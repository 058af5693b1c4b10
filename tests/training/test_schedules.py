"""RealMLP-TD's training machinery against formulas written here from pytabkit's code: the coslog4
learning rate, flat-then-cosine dropout and weight decay (applied each step without retracing),
per-variable learning-rate / weight-decay factors in Adam, and the last-best-epoch restore."""

from collections import Counter

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasact.model.factored_adam import FactoredAdam, layer_factors
from kerasact.model.losses import SmoothedSparseCategoricalCrossentropy
from kerasact.model.saving import load_model
from kerasact.model.scheduled_dropout import ScheduledDropout
from kerasact.training.best_epoch import RestoreBestEpoch
from kerasact.training.schedules import CosLog, FlatCosine, flat_cos

T = np.array([0.0, 1 / 15, 0.01, 0.1, 0.2, 1 / 3, 0.5, 0.61, 0.75, 0.9, 0.999, 1.0])


def coslog_np(t, k=4):  # pytabkit scheduling.py CoslogFunc
    return 0.5 * (1 - np.cos(2 * np.pi * np.log2(1 + (2**k - 1) * t)))


def flat_cos_np(t):  # combine_scheds([0.5, 0.5], [1, cos_sched.scaled(1, 0)]); cos_sched(x) = (1 - cos(pi x)) / 2
    u = np.clip((t - 0.5) / 0.5, 0, 1)
    return np.where(t < 0.5, 1.0, 1.0 + (0.0 - 1.0) * 0.5 * (1 - np.cos(np.pi * u)))


@pytest.mark.parametrize("cycles", [1, 4])
def test_coslog_equals_the_pytabkit_formula(cycles):
    schedule = CosLog(0.04, total_steps=1000, cycles=cycles)
    got = np.array([float(schedule(step)) for step in T * 1000])
    np.testing.assert_allclose(got, 0.04 * coslog_np(T, cycles), atol=2e-7)
    zeros = (2.0 ** np.arange(cycles + 1) - 1) / (2**cycles - 1)  # every cycle starts and ends at 0
    assert max(float(schedule(z * 1000)) for z in zeros) < 1e-6
    assert float(schedule(1500)) == pytest.approx(0.0, abs=1e-6)  # past the end: held at t = 1


def test_flat_cos_equals_the_pytabkit_formula():
    np.testing.assert_allclose([flat_cos(t) for t in T], flat_cos_np(T), atol=1e-12)
    assert flat_cos(0.49) == 1.0 and flat_cos(0.75) == pytest.approx(0.5) and flat_cos(1.0) == pytest.approx(0.0)


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="relu", name="h"),
                              ScheduledDropout(0.15, seed=1, name="drop"), keras.layers.Dense(3, name="out")])
    model.get_layer("h").kerasact_lr_factors = {"kernel": 6.0}
    return model


def _optimizer(model, total_steps=12, **kwargs):
    lr_factors, wd_factors = layer_factors(model)
    return FactoredAdam(CosLog(0.04, total_steps), beta_2=0.95, epsilon=1e-8, weight_decay=0.02, lr_factors=lr_factors,
                        wd_factors=wd_factors, bias_lr_factor=0.1, bias_wd_factor=0.0, **kwargs)


def _data(n=48):
    X = np.random.default_rng(0).normal(size=(n, 3)).astype("float32")
    return X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)


def test_compiled_pieces_round_trip_through_a_keras_file_in_safe_mode(tmp_path):
    model = _model()
    assert layer_factors(model) == ({"h/kernel": 6.0}, {})
    model.compile(_optimizer(model), SmoothedSparseCategoricalCrossentropy(0.1, from_logits=True))
    X, y = _data()
    model.fit(X, y, batch_size=16, epochs=2, callbacks=[FlatCosine()], verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert type(loaded.optimizer) is FactoredAdam and type(loaded.loss) is SmoothedSparseCategoricalCrossentropy
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert isinstance(loaded.optimizer._learning_rate, CosLog)
    assert loaded.optimizer.learning_rate.numpy() == pytest.approx(model.optimizer.learning_rate.numpy())
    assert type(loaded.get_layer("drop")) is ScheduledDropout and loaded.get_layer("drop").get_config()["rate"] == 0.15
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)
    loaded.fit(X, y, batch_size=16, epochs=1, verbose=0)  # the factor keys still match after the path prefix changed
    assert [f for f, _ in loaded.optimizer._factors] == [6.0, 0.1, 1.0, 0.1]
    classes = (CosLog, FactoredAdam, ScheduledDropout, SmoothedSparseCategoricalCrossentropy)
    ours = load_model(tmp_path / "m.keras", custom_objects={f"kerasact>{c.__name__}": c for c in classes})
    assert type(ours.optimizer) is FactoredAdam  # kerasact's own loader, given them as custom objects


def test_flat_cosine_sets_dropout_and_weight_decay_every_step_without_retracing(monkeypatch):
    model = _model()
    model.compile(_optimizer(model), SmoothedSparseCategoricalCrossentropy(0.1, from_logits=True))
    model.optimizer.build(model.trainable_variables)  # else Keras traces twice: once to create the slots
    traced = Counter()
    original = model.train_step
    monkeypatch.setattr(model, "train_step", lambda data: (traced.update(["train_step"]), original(data))[1])
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            rate, decay = model.get_layer("drop").rate_now, model.optimizer.weight_decay_now
            seen.append((float(rate.numpy()), float(decay.numpy())))

    X, y = _data()
    model.fit(X, y, batch_size=16, epochs=4, callbacks=[FlatCosine(), Record()], verbose=0)
    t = np.arange(12) / 12
    np.testing.assert_allclose(seen, np.stack([0.15 * flat_cos_np(t), 0.02 * flat_cos_np(t)], axis=1), rtol=1e-6)
    assert traced == {"train_step": 1}


def test_scheduled_dropout_follows_its_variable_in_one_trace():
    layer = ScheduledDropout(0.5, seed=3)
    layer.build((None, 50))  # a variable created inside tf.function would cost a second trace
    step = tf.function(lambda x: layer(x, training=True))
    x = tf.ones((2000, 50))
    dropped = [float(tf.reduce_mean(tf.cast(step(x) == 0, "float32")))]
    layer.rate_now.assign(0.1)
    out = step(x)
    dropped.append(float(tf.reduce_mean(tf.cast(out == 0, "float32"))))
    assert dropped == pytest.approx([0.5, 0.1], abs=0.01) and step.experimental_get_tracing_count() == 1
    np.testing.assert_allclose(np.unique(out.numpy()), [0.0, 1 / 0.9], rtol=1e-6)  # inverted dropout
    np.testing.assert_array_equal(layer(x, training=False), x)


def test_factored_adam_step_is_adams_scaled_per_variable_with_pytabkit_weight_decay():
    """One step: `p * (1 - wd * lr * (wd_f * lr_f)^2) - lr * lr_f * adam_direction` (OptimizerBase.step)."""
    layer = keras.layers.Dense(2, name="d")
    layer.build((None, 3))
    layer.kerasact_lr_factors = {"kernel": 6.0}
    model = keras.Sequential([keras.Input((3,)), layer])
    kernel0, bias0 = (v.numpy().copy() for v in layer.trainable_variables)
    bias0 = bias0 + 0.5
    layer.bias.assign(bias0)
    grads = [np.random.default_rng(1).normal(size=(3, 2)).astype("float32"), np.array([0.3, -0.2], "float32")]
    plain_step = [-0.01 * g / (np.abs(g) + 1e-8 / np.sqrt(0.05)) for g in grads]  # Adam's first step, Keras's eps
    lr_f, wd_f = layer_factors(model)
    opt = FactoredAdam(0.01, beta_2=0.95, epsilon=1e-8, weight_decay=0.02, lr_factors=lr_f, wd_factors=wd_f,
                       bias_lr_factor=0.1, bias_wd_factor=0.0)
    opt.apply(grads, layer.trainable_variables)
    np.testing.assert_allclose(layer.kernel.numpy(), kernel0 * (1 - 0.02 * 0.01 * 36) + 6.0 * plain_step[0], rtol=1e-5)
    np.testing.assert_allclose(layer.bias.numpy(), bias0 + 0.1 * plain_step[1], rtol=1e-5)
    for v, value in zip(layer.trainable_variables, (kernel0, bias0)):  # without decay: Keras's Adam at lr * factor
        v.assign(value)
    unscaled = FactoredAdam(0.01, beta_2=0.95, epsilon=1e-8, lr_factors=lr_f, bias_lr_factor=0.1)
    unscaled.apply(grads, layer.trainable_variables)
    for variable, start, grad, factor in ((layer.kernel, kernel0, grads[0], 6.0), (layer.bias, bias0, grads[1], 0.1)):
        reference = keras.Variable(start)
        keras.optimizers.Adam(0.01 * factor, beta_2=0.95, epsilon=1e-8).apply([grad], [reference])
        np.testing.assert_allclose(variable.numpy() - start, reference.numpy() - start, rtol=1e-5)


class Script(keras.callbacks.Callback):
    """Writes a scripted score into the logs and keeps each epoch's weights."""

    def __init__(self, scores):
        super().__init__()
        self.scores, self.weights = scores, []

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.scores[epoch]
        self.weights.append(self.model.get_weights())


@pytest.mark.parametrize(("mode", "scores", "best"), [
    ("max", [0.5, 0.8, 0.7, 0.8, 0.6], 3),
    ("min", [0.3, 0.2, 0.2, 0.4, float("nan")], 2),
    ("min", [float("nan")] * 3, None),
])
def test_restore_best_epoch_keeps_the_last_of_tied_best_epochs(mode, scores, best):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    start = model.get_weights()
    script, restore = Script(scores), RestoreBestEpoch("score", mode=mode)
    X = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    model.fit(X, X[:, :2] * 3, epochs=len(scores), batch_size=8, callbacks=[script, restore], verbose=0)
    assert restore.best_epoch == best
    want = start if best is None else script.weights[best]
    for got, expected in zip(model.get_weights(), want):
        np.testing.assert_array_equal(got, expected)
    if mode == "max":  # Keras's EarlyStopping keeps the first of the tied epochs instead
        stop = keras.callbacks.EarlyStopping("score", mode="max", patience=99, restore_best_weights=True)
        model.fit(X, X[:, :2] * 3, epochs=len(scores), batch_size=8, callbacks=[Script(scores), stop], verbose=0)
        assert stop.best_epoch == 1


BAD = {
    "lr_factors key": (lambda: FactoredAdam(lr_factors={"nope/kernel": 2.0}).build(_model().trainable_variables),
                       "lr_factors"),
    "bias_lr_factor": (lambda: FactoredAdam(bias_lr_factor=-1.0), "bias_lr_factor"),
    "lr_factors type": (lambda: FactoredAdam(lr_factors=[("h/kernel", 2.0)]), "lr_factors"),
    "dropout rate": (lambda: ScheduledDropout(1.0), "rate"),
    "total_steps": (lambda: CosLog(0.04, total_steps=0), "total_steps"),
    "cycles": (lambda: CosLog(0.04, 10, cycles=2.5), "cycles"),
    "mode": (lambda: RestoreBestEpoch("val_loss", mode="up"), "mode"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_arguments_are_refused_by_name(case):
    make, arg = BAD[case]
    with pytest.raises((ValueError, TypeError), match=arg):
        make()


def test_nothing_to_schedule_and_a_missing_monitor_are_refused():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    X = np.zeros((8, 3), "float32")
    with pytest.raises(ValueError, match="FlatCosine"):
        model.fit(X, X[:, :1], epochs=1, callbacks=[FlatCosine()], verbose=0)
    with pytest.raises(ValueError, match="val_accuracy"):
        model.fit(X, X[:, :1], epochs=1, callbacks=[RestoreBestEpoch("val_accuracy", "max")], verbose=0)
