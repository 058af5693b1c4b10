"""`kerasact.search`: trials on arrays and tables, the HParams tab read back with TensorBoard's
own readers, failed trials, reproducibility, workers, and resuming a killed search."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import plugin_data_pb2

import kerasact
from kerasact.tuning import search

SMALL = {"depth": (1, 2), "width": (4, 16), "activation": ["relu", "tanh"],
         "learning_rate": {"low": 1e-3, "high": 3e-2, "log": True}}


@pytest.fixture(scope="module")
def cancer():
    ds = kerasact.data.load_dataset("breast_cancer")
    return ds.X, ds.y


@pytest.fixture(scope="module")
def searched(cancer, tmp_path_factory):
    X, y = cancer
    return search(X, y, trials=3, space=SMALL, epochs=6, patience=3, log_dir=tmp_path_factory.mktemp("runs"),
                  verbose=False)


def _hparams_data(folder: Path) -> list[plugin_data_pb2.HParamsPluginData]:
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={event_accumulator.TENSORS: 0})
    acc.Reload()
    try:
        content = acc.PluginTagToContent("hparams")
    except KeyError:
        return []
    return [plugin_data_pb2.HParamsPluginData.FromString(c) for c in content.values()]


def test_a_search_returns_the_best_spec_model_and_a_table_of_trials(searched, cancer):
    X, _ = cancer
    assert len(searched.trials) == 3 and set(searched.trials["state"]) <= {"COMPLETE", "PRUNED"}
    assert {"seconds", "rss_mb", "peak_rss_mb", "param_depth", "val_loss"} <= set(searched.trials.columns)
    best = searched.trials.loc[searched.trials["value"].idxmin()]
    # Objective "loss" is the validation loss without the L2 penalty: trials with other penalties compare fairly.
    assert searched.best_metrics["data_loss"] == pytest.approx(best["value"])
    assert searched.best_metrics["data_loss"] <= searched.best_metrics["loss"]
    assert set(searched.best_metrics) >= {"loss", "accuracy", "auc", "roc_auc"}  # checks.EXTRA_METRICS' roc_auc
    assert isinstance(searched.best_spec, kerasact.ModelSpec) and searched.best_spec.problem == "binary"
    assert kerasact.ModelSpec.load(searched.study_dir / "best.toml") == searched.best_spec
    assert kerasact.predict(searched.best_model, X[:3]).shape == (3, 1)
    assert (searched.study_dir / "best.keras").exists()


def test_the_hparams_tab_has_one_experiment_config_and_every_trial_with_its_active_hparams(searched):
    # The config is the search's log_dir's, the folder the search says to open in TensorBoard.
    folders = sorted({p.parent for p in searched.study_dir.parent.rglob("events.out.tfevents.*")})
    configs, sessions = [], {}
    for folder in folders:
        for data in _hparams_data(folder):
            if data.HasField("experiment"):
                configs.append(data.experiment)
            if data.HasField("session_start_info"):
                sessions[folder.name] = {k: v for k, v in data.session_start_info.hparams.items()}
    assert len(configs) == 1  # TensorBoard takes the first config it finds, and expects one
    metric_tags = [(m.name.group, m.name.tag) for m in configs[0].metric_infos]
    assert metric_tags[:4] == [("test", "binary/accuracy"), ("test", "binary/roc_auc"), ("test", "binary/loss"),
                               ("test", "binary/auc")]  # the ticked five: test results first
    assert ("validation", "binary/loss") in metric_tags
    domains = {h.name for h in configs[0].hparam_infos}
    assert {"depth", "width_1", "width_2", "activation_1", "activation_2", "learning_rate"} <= domains
    runs = dict(zip(searched.trials["run"], searched.trials["number"], strict=True))
    assert set(sessions) == set(runs)  # every trial's run is in the table, under its telling name
    for run, hparams in sessions.items():
        trial = searched.study.trials[runs[run]]
        assert set(trial.params) <= set(hparams)  # the run's own facts (seed, batch_size) besides
        depth = trial.params["depth"]
        assert {k for k in hparams if k.startswith(("width_", "activation_"))} == \
            {f"{n}_{i}" for n in ("width", "activation") for i in range(1, depth + 1)}  # no width_2 at depth 1
        assert run.startswith(f"trial-{trial.number:03d} depth={trial.params['depth']}")


def test_the_best_spec_retrained_with_the_same_seed_reproduces_its_score(searched, cancer):
    X, y = cancer
    again = searched.retrain(X, y, verbose=0)
    assert again.val_metrics["loss"] == pytest.approx(searched.best_metrics["loss"], rel=1e-5)


def test_the_same_seed_gives_the_same_sequence_of_trials(searched, cancer, tmp_path):
    # The fixture's search again (same data, space, options and seed) with a smaller budget: each trial is
    # sampled from (seed, worker, trials so far) and both budgets have the same 3 random start-up trials,
    # so its trials must be the first of the fixture's.
    X, y = cancer
    again = search(X, y, trials=2, space=SMALL, epochs=6, patience=3, log_dir=tmp_path, verbose=False)
    assert [t.params for t in again.study.trials] == [t.params for t in searched.study.trials[:2]]


def test_a_resumed_study_must_be_the_same_search_and_the_default_space_leaves_your_options(cancer, tmp_path):
    X, y = cancer
    first = search(X[:120], y[:120], trials=1, epochs=2, batch_size=16, log_dir=tmp_path, verbose=False)
    assert first.best_train_options["batch_size"] == 16 and "param_batch_size" not in first.trials
    with pytest.raises(ValueError, match="searched other data or train options"):
        search(X[120:240], y[120:240], trials=2, epochs=2, batch_size=16, log_dir=tmp_path, verbose=False)


def test_none_in_choices_is_a_value_a_trial_can_take(cancer, tmp_path):
    X, y = cancer
    result = search(X[:120], y[:120], trials=1, space={"depth": 1, "class_weight": [None]}, epochs=2,
                    log_dir=tmp_path, verbose=False)
    assert list(result.trials["state"]) == ["COMPLETE"] and result.best_train_options["class_weight"] is None


def test_a_failing_trial_is_recorded_with_its_reason_and_the_search_goes_on(cancer, tmp_path):
    X, y = cancer
    # Each value is valid alone (checked before the search), but softmax over one unit is refused.
    space = {"depth": 1, "width": 1, "activation": ["softmax", "relu"]}
    result = search(X[:150], y[:150], trials=5, space=space, epochs=2, log_dir=tmp_path, verbose=False)
    failed = result.trials[result.trials["state"] == "FAIL"]
    assert len(failed) >= 1 and (result.trials["state"] == "COMPLETE").any()
    assert failed["error"].str.contains("softmax over 1 unit").all()
    with pytest.raises(RuntimeError, match="no trial completed"):
        search(X[:150], y[:150], trials=2, space={**space, "activation": "softmax"}, epochs=2,
               log_dir=tmp_path, name="all-fail", verbose=False)


def test_a_table_is_searched_with_its_preprocessing_inside_the_model(tmp_path):
    from palmerpenguins import load_penguins

    frame = load_penguins().sample(160, random_state=0)
    result = search(frame, target="species", trials=2, space=SMALL, epochs=3, log_dir=tmp_path, verbose=False)
    assert result.best_spec.problem == "multiclass" and result.best_spec.n_classes == 3
    assert kerasact.predict(result.best_model, frame.drop(columns="species").head(4)).shape == (4, 3)
    again = result.retrain(frame, target="species", verbose=0)  # the preprocessing is rebuilt, as in the search
    assert again.val_metrics["loss"] == pytest.approx(result.best_metrics["loss"], rel=1e-5)


def test_bad_arguments_are_refused_before_any_trial(cancer, tmp_path):
    X, y = cancer
    for kwargs, match in [({"trials": 0}, r"trials=0"), ({"trials": 2, "seed": -1}, r"seed=-1"),
                          ({"trials": 2, "run_dir": "x"}, r"run_dir='x' is not valid: expected no value"),
                          ({"trials": 2, "space": {"dropot": (0.0, 0.5)}}, r"Did you mean 'dropout'"),
                          ({"trials": 2, "objective": "acuracy"}, r"objective='acuracy'.*Did you mean 'accuracy'"),
                          ({"trials": 2, "epoch": 3}, r"epoch=3 is not valid: expected a train option"),
                          ({"trials": 2, "val_size": 2.0}, r"val_size=2.0"),
                          ({"trials": 2, "space": {"activation": ["relu", "tahn"]}}, r"Unknown activation 'tahn'"),
                          ({"trials": 2, "space": {"width": (0, 10)}}, r"search space width=0"),
                          ({"trials": 2, "space": {"depth": [1.5, 2]}}, r"search space depth=1.5"),
                          ({"trials": 2, "space": {"optimizer": ["adamm"]}}, r"Unknown optimizer='adamm'"),
                          ({"trials": 2, "space": {"batch_size": [32]}, "batch_size": 64}, r"both in space="),
                          ({"trials": 2, "name": ".."}, r"name='..'"),
                          ({"trials": 2, "storage": "sqlite:////no/such/dir/x.db"}, r"storage=.*cannot be opened")]:
        with pytest.raises((ValueError, TypeError), match=match):
            search(X, y, log_dir=tmp_path, **kwargs)
    assert not list(tmp_path.rglob("trial-*"))


# -- processes: workers and a killed search ----------------------------------------------
SCRIPT = textwrap.dedent("""
    import sys
    import kerasact
    ds = kerasact.data.load_dataset("breast_cancer")
    space = {"depth": (1, 2), "width": (4, 16), "learning_rate": {"low": 1e-3, "high": 3e-2, "log": True}}
    kerasact.search(ds.X, ds.y, trials=int(sys.argv[2]), space=space, epochs=int(sys.argv[3]), log_dir=sys.argv[1],
                    workers=int(sys.argv[4]), verbose=False)
""")


def _study(log_dir: Path) -> optuna.Study:
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(
        str(log_dir / "search" / "study.journal")))
    return optuna.load_study(study_name="search", storage=storage)


def _run(script: Path, *args: object, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


def test_two_workers_share_one_study(tmp_path):
    script = tmp_path / "search.py"
    script.write_text(SCRIPT)
    done = _run(script, tmp_path, 4, 3, 2)
    assert done.returncode == 0, done.stderr[-2000:]
    trials = _study(tmp_path).trials
    assert len(trials) == 4 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert len({t.user_attrs["pid"] for t in trials}) == 2


def test_a_killed_two_worker_search_resumes_with_its_finished_trials(tmp_path):
    """SIGKILL to the whole search (its process group: the search and both workers), then again."""
    script = tmp_path / "search.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path), "3", "20", "2"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    try:
        deadline = time.time() + 180
        while time.time() < deadline:  # kill it once a trial has finished and others run
            journal = tmp_path / "search" / "study.journal"
            trials = _study(tmp_path).trials if journal.exists() else []
            if any(t.state.is_finished() for t in trials) and any(not t.state.is_finished() for t in trials):
                break
            time.sleep(0.5)
        else:
            pytest.fail("the search never had a finished and a running trial at once")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    time.sleep(1)  # the workers' exit is asynchronous to the group's kill
    before = _study(tmp_path).trials
    finished = [t for t in before if t.state.is_finished()]
    running = [t.number for t in before if not t.state.is_finished()]
    assert finished and running
    done = _run(script, tmp_path, 3, 20, 2)  # the same command again
    assert done.returncode == 0, done.stderr[-2000:]
    after = _study(tmp_path).trials
    for old in finished:  # kept as they were
        assert after[old.number].params == old.params and after[old.number].value == old.value
    died = [t.number for t in after if t.user_attrs.get("error", "").startswith("its process died")]
    assert died == running and all(after[n].state == optuna.trial.TrialState.FAIL for n in died)
    rest = [t for t in after if t.number not in died]  # the budget, the dead aside (pruned trials count)
    assert len(rest) == 3 and {t.state for t in rest} <= {optuna.trial.TrialState.COMPLETE,
                                                         optuna.trial.TrialState.PRUNED}
    assert np.isfinite([t.value for t in after if t.value is not None]).all()


def test_long_searches_run_in_worker_processes_replaced_as_they_finish(cancer, tmp_path, monkeypatch):
    """Keras keeps memory per trained model (keras-team/keras#17458): processes are recycled."""
    from kerasact.tuning import processes

    monkeypatch.setattr(processes, "TRIALS_PER_PROCESS", 2)
    X, y = cancer
    result = search(X[:150], y[:150], trials=3, space=SMALL, epochs=2, log_dir=tmp_path, verbose=False)
    pids = [t.user_attrs["pid"] for t in result.study.trials]
    assert len(pids) == 3 and os.getpid() not in pids and len(set(pids)) == 2
    assert pids[0] == pids[1] != pids[2]  # replaced after its 2 trials; the next process runs the rest


def test_a_trial_killed_before_its_first_attribute_is_marked_dead(tmp_path):
    """Killed between Optuna's ask and the trial's pid: dead when no worker of the study is alive."""
    import socket

    from kerasact.tuning import study as study_module

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(tmp_path / "j.journal")))
    current = optuna.create_study(study_name="s", storage=storage)
    current.set_user_attr(f"worker {socket.gethostname()} {int(dead.stdout)}", 0.0)
    current.ask()  # no pid recorded
    study_module._fail_dead_trials(current)
    trial = current.trials[0]
    assert trial.state == optuna.trial.TrialState.FAIL and trial.user_attrs["error"].startswith("its process died")
    current.set_user_attr(f"worker {socket.gethostname()} {os.getpid()}", 0.0)  # a live worker: left running
    current.ask()
    study_module._fail_dead_trials(current)
    assert current.trials[1].state == optuna.trial.TrialState.RUNNING
