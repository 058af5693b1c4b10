"""The one-process parts of multi-worker training: TF_CONFIG checks, the global batch rule, the
exchange and cluster of one process, the hand-sharded dataset, the two-epoch backup, and the
keras#20585 layer's switch. (Real 2-worker clusters: tests/training/test_multi_worker.py.)"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kerasact
from kerasact.runtime import _keras_compat, distribute, tf_config
from kerasact.training.callbacks import Backup


def _config(cluster, task):
    return {"TF_CONFIG": json.dumps({"cluster": cluster, "task": task})}


@pytest.mark.parametrize("environ, words", [
    ({"TF_CONFIG": "{not json"}, "TF_CONFIG is not JSON"),
    ({"TF_CONFIG": '{"cluster": {}}'}, "needs a 'cluster' and a 'task' object"),
    (_config({"worker": ["localhost"]}, {"type": "worker", "index": 0}), "each chief/worker needs a 'host:port'"),
    (_config({"worker": ["a:1", "a:1"]}, {"type": "worker", "index": 0}), "two tasks the same address"),
    (_config({"worker": ["a:1", "b:2"]}, {"type": "worker", "index": 2}), "is not in its cluster"),
    (_config({"worker": ["a:1", "b:2"]}, {"type": "ps", "index": 0}), "is not in its cluster"),
])
def test_a_bad_tf_config_is_one_clear_error(environ, words):
    with pytest.raises(ValueError, match=words) as info:
        tf_config.read_tf_config(environ)
    assert '"cluster": {"worker": ["host0:port"' in str(info.value) or "own port" in str(info.value)


def test_tf_config_unset_is_none_and_a_good_one_is_returned():
    assert tf_config.read_tf_config({}) is None
    config = {"cluster": {"chief": ["a:1"], "worker": ["b:2"]}, "task": {"type": "worker", "index": 0}}
    assert tf_config.read_tf_config({"TF_CONFIG": json.dumps(config)}) == config


def test_one_process_is_a_cluster_of_one_chief():
    cluster = distribute.cluster_of(None)
    assert (cluster.workers, cluster.index, cluster.is_chief, cluster.name) == (1, 0, True, "the chief")
    assert distribute.exchange(None, {"epoch": 3}) == [{"epoch": 3}]


@pytest.mark.parametrize("batch_size, replicas, ok", [(64, 2, True), (63, 2, False), (30, 4, False), (3, 3, True)])
def test_the_global_batch_must_split_evenly_over_the_replicas(batch_size, replicas, ok):
    cluster = distribute.Cluster(workers=replicas, replicas=replicas)
    if ok:
        distribute.check_global_batch(batch_size, cluster)
    else:
        with pytest.raises(ValueError, match=rf"batch_size={batch_size} is the global batch.*multiple of {replicas}"):
            distribute.check_global_batch(batch_size, cluster)


def test_a_strategy_that_is_not_one_is_refused_before_building():
    with pytest.raises(TypeError, match="strategy=str is not a tf.distribute.Strategy"):
        kerasact.build_model("binary", 4, strategy="mirrored")


def test_train_refuses_a_strategy_the_model_was_not_built_in():
    import tensorflow as tf

    model = kerasact.build_model("binary", 4, hidden=[4])
    X, y = np.zeros((40, 4), "float32"), np.arange(40) % 2
    with pytest.raises(ValueError, match="the model was built outside any strategy"):
        kerasact.train(model, X, y, epochs=1, strategy=tf.distribute.OneDeviceStrategy("/cpu:0"), verbose=0)


def test_the_compat_layer_is_needed_on_this_keras_and_installs_both_fixes_once():
    import keras

    assert _keras_compat.needed("symbolic_build") and _keras_compat.needed("reduce_per_replica"), (
        f"Keras {keras.version()} no longer has keras#20585: the layer switches off; drop it when no supported "
        f"Keras needs it")
    try:
        assert _keras_compat.install() == ["reduce_per_replica", "symbolic_build"]
        assert _keras_compat.install() == ["reduce_per_replica", "symbolic_build"]   # idempotent
        assert _keras_compat.needed("reduce_per_replica")   # still read from Keras's own function
    finally:
        _keras_compat.uninstall()
    from keras.src.backend.tensorflow import trainer

    assert trainer.reduce_per_replica is _keras_compat._BUGGY["reduce_per_replica"][0]


def test_sharded_batches_are_the_single_process_batches_cut_per_replica():
    """Two logical CPUs (a fresh process): each global batch is one process's, in contiguous slices,
    and `train` under MirroredStrategy gives the losses of a run on one device."""
    script = textwrap.dedent("""
        import numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from kerasact.runtime import pipeline
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        X = np.arange(100 * 3, dtype="float32").reshape(100, 3)
        y = np.arange(100)
        one = [b[1].numpy().tolist() for b in pipeline.make_dataset(X, y, batch_size=32, seed=7, first_epoch=2)]
        sharded = pipeline.sharded_dataset(strategy, X, y, batch_size=32, seed=7, first_epoch=2, repeat=True)
        got = []
        for step, (xb, yb) in zip(range(4), sharded):
            parts = [v.numpy().tolist() for v in strategy.experimental_local_results(yb)]
            got.append(parts)
        print("ONE", one)
        print("GOT", got)
        import kerasact
        rng = np.random.default_rng(0)
        X = rng.normal(size=(732, 4)).astype("float32")   # 512 training rows: whole global batches of 64
        y = (X[:, 0] + X[:, 1] > 0).astype(int)
        losses = []
        for s in (strategy, None):
            model = kerasact.build_model("binary", 4, hidden=[8], optimizer="sgd", learning_rate=0.1, seed=0,
                                         strategy=s)
            result = kerasact.train(model, X, y, epochs=3, batch_size=64, patience=None, verbose=0)
            losses.append(result.history["loss"] + result.history["val_loss"])
        print("LOSSES", losses)
    """)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=180)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in run.stdout.splitlines() if line.split(" ")[0] in ("ONE", "GOT",
                                                                                                   "LOSSES"))
    one, got = json.loads(lines["ONE"]), json.loads(lines["GOT"])
    assert [a + b for a, b in got] == one                    # the same rows, in the same order
    assert [[len(a), len(b)] for a, b in got] == [[16, 16]] * 3 + [[2, 2]]
    mirrored, single = json.loads(lines["LOSSES"])    # MirroredStrategy trains as one device would
    np.testing.assert_allclose(mirrored, single, rtol=2e-5)


def test_a_two_epoch_backup_restores_either_epoch(tmp_path):
    import keras

    model = kerasact.build_model("binary", 3, hidden=[4], seed=0)
    X, y = np.random.default_rng(0).normal(size=(64, 3)).astype("float32"), np.arange(64) % 2
    backup = Backup(tmp_path / "backup", keep=2)
    weights = {}
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: weights.__setitem__(epoch + 1, model.get_weights()))
    model.fit(X, y, epochs=3, batch_size=16, verbose=0, callbacks=[record, backup])
    assert backup.available() == {3: True, 2: False}
    assert len(list((tmp_path / "backup").glob("epoch-*.npz"))) == 2
    fresh = kerasact.build_model("binary", 3, hidden=[4], seed=1)
    restorer = Backup(tmp_path / "backup", keep=2)
    assert restorer.restore(fresh, epoch=2) == (2, False)
    for a, b in zip(fresh.get_weights(), weights[2]):
        np.testing.assert_array_equal(a, b)
    assert all(len(v) == 2 for v in restorer.history.values())
    assert restorer.restore(fresh) == (3, True)
    for a, b in zip(fresh.get_weights(), weights[3]):
        np.testing.assert_array_equal(a, b)
