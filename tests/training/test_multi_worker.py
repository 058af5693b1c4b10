"""Multi-worker training with real processes: 2 workers on 127.0.0.1 (RING all-reduce over gRPC),
each with one intra-op thread. Every process runs under a timeout and is SIGKILLed after it, so
a cluster that fails to form fails the test instead of hanging it."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kerasact.cli._launch import free_ports

WORKER = Path(__file__).with_name("mw_worker.py")
TIMEOUT = 240  # seconds for one cluster run; a normal one takes ~15 s on 2 cores
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1")


def _cluster(mode, out, log_dir=None, workers=2):
    """Run `workers` worker processes of `mw_worker.py` (or one plain process: workers=0)."""
    ports = ",".join(map(str, free_ports(max(workers, 1))))
    indices = range(workers) if workers else [-1]
    procs = [subprocess.Popen([sys.executable, str(WORKER), mode, str(i), ports, str(out)]
                              + ([str(log_dir)] if log_dir else []), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=ENV) for i in indices]
    outputs = []
    deadline = time.monotonic() + TIMEOUT
    for p in procs:
        try:
            outputs.append(p.communicate(timeout=max(1, deadline - time.monotonic()))[0])
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail(f"the cluster did not finish within {TIMEOUT} s")
    return [(p.returncode, text) for p, text in zip(procs, outputs)]


def _result(text):
    line = next((line for line in text.splitlines() if line.startswith("RESULT ")), None)
    assert line is not None, text[-3000:]
    return json.loads(line[len("RESULT "):])


def _weights(path):
    with np.load(path) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    out = tmp_path_factory.mktemp("mw")
    log_dir = out / "runs"
    runs = _cluster("train", out, log_dir)
    single = _cluster("train", out, workers=0)
    return out, log_dir, runs, single


def test_both_workers_end_with_identical_weights(two_workers):
    out, _, runs, _ = two_workers
    for rc, text in runs:
        assert rc == 0, text[-3000:]
    for a, b in zip(_weights(out / "0.npz"), _weights(out / "1.npz")):
        np.testing.assert_array_equal(a, b)
    assert _result(runs[0][1])["history"] == _result(runs[1][1])["history"]


def test_loss_per_epoch_equals_one_process_on_the_same_global_batch(two_workers):
    out, _, runs, single = two_workers
    assert single[0][0] == 0, single[0][1][-3000:]
    multi, one = _result(runs[0][1])["history"], _result(single[0][1])["history"]
    # float32: the all-reduce sums two half-batch gradients instead of one batch's, so the sums
    # round differently; over 32 SGD steps that stays within a few float32 ulps of the loss.
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(multi[key], one[key], rtol=2e-5, err_msg=key)
    for a, b in zip(_weights(out / "0.npz"), _weights(out / "-1.npz")):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_only_the_chief_writes_the_run_directory(two_workers):
    _, log_dir, runs, _ = two_workers
    chief, worker = _result(runs[0][1]), _result(runs[1][1])
    assert worker["run_dir"] is None
    run_dirs = list((log_dir / "mw").iterdir())
    assert [str(d) for d in run_dirs] == [chief["run_dir"]]
    names = {p.name for p in run_dirs[0].iterdir()}
    assert {"model.keras", "metrics.json", "train", "validation"} <= names
    assert not [n for n in names if n.startswith("backup")], names   # both workers cleaned up
    assert chief["fixes"] == ["reduce_per_replica", "symbolic_build"]


def test_stock_keras_fit_fails_without_the_compat_layer(tmp_path):
    """keras#20585: fails while Keras has the bug. When this fails because stock Keras trains,
    Keras fixed it: `_keras_compat.needed` must then say so (it reads Keras's source)."""
    from kerasact.runtime import _keras_compat

    assert _keras_compat.needed("symbolic_build") and _keras_compat.needed("reduce_per_replica")
    runs = _cluster("stock", tmp_path)
    for rc, text in runs:
        assert rc == 3, text[-3000:]
        assert "PerReplica" in text or "Invalid reduction dimension" in text, text[-3000:]


def test_workers_with_different_versions_refuse_to_start(tmp_path):
    runs = _cluster("versions", tmp_path)
    for rc, text in runs:
        assert rc == 3, text[-3000:]
        words = "ClusterMismatch worker 1 differs from the chief in versions (keras: '3.14.0' there"
        assert words in text, text[-2000:]


def test_a_streamed_csv_trains_on_two_workers(tmp_path):
    _table(tmp_path / "table.csv", n=3000)
    runs = _cluster("stream", tmp_path, tmp_path / "runs")
    for rc, text in runs:
        assert rc == 0, text[-3000:]
    chief, worker = _result(runs[0][1]), _result(runs[1][1])
    assert chief["history"] == worker["history"] and worker["run_dir"] is None
    for a, b in zip(_weights(tmp_path / "0.npz"), _weights(tmp_path / "1.npz")):
        np.testing.assert_array_equal(a, b)
    assert chief["history"]["loss"][1] < chief["history"]["loss"][0]
    assert [str(d) for d in (tmp_path / "runs" / "mw").iterdir()] == [chief["run_dir"]]


# ---- the command line: `kerasact train --workers 2`, kill and resume, launch failures ----

def _table(path, n=6000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 12)).round(4)
    y = (X[:, :4].sum(axis=1) > 0).astype(int)
    lines = [",".join([f"x{i}" for i in range(12)] + ["label"])]
    lines += [",".join(map(str, row)) + f",{label}" for row, label in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _kerasact(*args, env=None, timeout=TIMEOUT):
    return subprocess.run([sys.executable, "-m", "kerasact", *args], capture_output=True, text=True,
                          env=env or ENV, timeout=timeout)


def _children(pid):
    """The pids of `pid`'s child processes with their TF_CONFIG task index."""
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and int((proc / "stat").read_text().split(")")[1].split()[1]) == pid:
                env = dict(kv.split("=", 1) for kv in (proc / "environ").read_text().split("\0") if "=" in kv)
                found[json.loads(env["TF_CONFIG"])["task"]["index"]] = int(proc.name)
        except (OSError, KeyError, ValueError, IndexError):
            continue
    return found


def _final_weights(run_dir):
    import kerasact

    return kerasact.load_model(Path(run_dir) / "model.keras").get_weights()


def test_a_killed_worker_is_resumed_from_its_last_epoch(tmp_path):
    data = _table(tmp_path / "table.csv", n=4000)
    common = ["train", str(data), "--target", "label", "--workers", "2", "--epochs", "6", "--batch-size", "32",
              "--log-dir", str(tmp_path / "runs"), "--hidden", "64,64"]
    killed = tmp_path / "runs" / "killed"
    launcher = subprocess.Popen([sys.executable, "-m", "kerasact", *common, "--run-dir", str(killed)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        state = killed / "backup" / "state.json"
        deadline = time.monotonic() + TIMEOUT
        while not (state.is_file() and json.loads(state.read_text())["epoch"] >= 2):
            assert launcher.poll() is None, "\n".join(launcher.communicate())[-4000:]
            assert time.monotonic() < deadline, "no epoch was backed up in time"
            time.sleep(0.2)
        os.kill(_children(launcher.pid)[1], signal.SIGKILL)
        stdout, stderr = launcher.communicate(timeout=120)
    finally:
        launcher.kill()
    assert launcher.returncode == 1, stderr[-3000:]
    assert "worker 1 was killed by SIGKILL" in stderr, stderr[-3000:]
    assert "kerasact: error: worker 1 of the cluster" in stderr, stderr[-3000:]
    assert f"--run-dir {killed}" in stderr, stderr[-3000:]
    done = json.loads(state.read_text())["epoch"]
    assert 2 <= done < 6

    resumed = _kerasact(*common, "--run-dir", str(killed))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"epoch {done + 1}/6 · " in resumed.stdout and "epoch 1/6 · " not in resumed.stdout  # the progress lines
    unbroken = _kerasact(*common, "--run-dir", str(tmp_path / "runs" / "unbroken"))
    assert unbroken.returncode == 0, unbroken.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir() if p.is_dir()) == ["experiment", "killed", "unbroken"]
    assert not [p for p in killed.iterdir() if p.name.startswith("backup")]
    # The resumed run takes the unbroken run's batches from the restored weights and Adam state;
    # the only difference is float32 rounding of the same sums.
    for a, b in zip(_final_weights(killed), _final_weights(tmp_path / "runs" / "unbroken")):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_a_port_in_use_is_one_clear_error(tmp_path):
    import socket

    data = _table(tmp_path / "table.csv", n=200)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        other = free_ports(1)[0]
        config = {"cluster": {"worker": [f"127.0.0.1:{port}", f"127.0.0.1:{other}"]}, "task": {"type": "worker",
                                                                                              "index": 0}}
        started = time.monotonic()
        run = _kerasact("train", str(data), "--target", "label", "--log-dir", str(tmp_path / "runs"),
                        env=dict(ENV, TF_CONFIG=json.dumps(config)), timeout=120)
    assert run.returncode == 1, run.stderr[-2000:]
    assert f"kerasact: error: this task cannot listen on 127.0.0.1:{port} (TF_CONFIG): the port is in use" \
        in run.stderr, run.stderr[-2000:]
    assert time.monotonic() - started < 60
    assert not (tmp_path / "runs").exists()


def test_a_worker_that_never_joins_is_one_clear_error_within_the_timeout(tmp_path):
    data = _table(tmp_path / "table.csv", n=200)
    ports = free_ports(2)
    config = {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": 0}}
    started = time.monotonic()
    run = _kerasact("train", str(data), "--target", "label", "--join-timeout", "5", "--log-dir",
                    str(tmp_path / "runs"), env=dict(ENV, TF_CONFIG=json.dumps(config)), timeout=120)
    assert run.returncode == 1, run.stderr[-2000:]
    assert "kerasact: error: not every task joined the cluster" in run.stderr, run.stderr[-2000:]
    assert "within 5 s" in run.stderr
    assert time.monotonic() - started < 60


def test_workers_flag_with_tf_config_set_is_refused(tmp_path):
    data = _table(tmp_path / "table.csv", n=200)
    config = {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 0}}
    run = _kerasact("train", str(data), "--target", "label", "--workers", "2",
                    env=dict(ENV, TF_CONFIG=json.dumps(config)), timeout=60)
    assert run.returncode == 2
    assert "--workers starts a local cluster, but TF_CONFIG is set" in run.stderr


def test_sigterm_to_the_launcher_stops_its_workers(tmp_path):
    data = _table(tmp_path / "table.csv", n=4000)
    launcher = subprocess.Popen([sys.executable, "-m", "kerasact", "train", str(data), "--target", "label",
                                 "--workers", "2", "--epochs", "50", "--log-dir", str(tmp_path / "runs")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        deadline = time.monotonic() + TIMEOUT
        while len(_children(launcher.pid)) < 2 or not list((tmp_path / "runs").rglob("state.json")):
            assert launcher.poll() is None and time.monotonic() < deadline, launcher.communicate()
            time.sleep(0.2)
        children = _children(launcher.pid)
        launcher.send_signal(signal.SIGTERM)
        _, stderr = launcher.communicate(timeout=60)
    finally:
        launcher.kill()
    assert launcher.returncode != 0
    assert "stopped every worker" in stderr, stderr[-2000:]
    assert not [pid for pid in children.values() if Path(f"/proc/{pid}").exists()
                and "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0]]


def test_an_abbreviated_workers_flag_is_not_passed_to_the_workers():
    from kerasact.cli._launch import without_workers

    for argv in (["--workers", "2"], ["--workers=2"], ["--work", "2"], ["--wor=2"]):
        assert without_workers(["train", "a.csv", *argv, "--epochs", "3"]) == ["train", "a.csv", "--epochs", "3"]
    assert without_workers(["train", "a.csv", "--target", "w"]) == ["train", "a.csv", "--target", "w"]
