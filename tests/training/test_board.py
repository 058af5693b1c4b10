"""What TensorBoard shows for a log directory of runs of several problem types, read back with
TensorBoard's own readers (`EventAccumulator`, the HParams plugin's handlers)."""

import tempfile
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from kerasact import _histogram, build_model, train
from kerasact.training import experiment
from kerasact.training.board import RunBoard
from kerasact.training.tensorboard import read_experiment, read_plugin_tags, read_scalars, read_tags

PROBLEMS = {"regression": {}, "binary": {}, "multiclass": {"n_classes": 3}}
EPOCHS = 3


def _labels(problem, X):
    score = X @ np.linspace(-1, 1, X.shape[1] * 3).reshape(X.shape[1], 3)
    return {"regression": 2500 + 50 * score[:, 0], "binary": (score[:, 0] > 0).astype(int),
            "multiclass": score.argmax(axis=1)}[problem]


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    X = np.random.default_rng(0).normal(size=(150, 4)).astype("float32") * 20 + 5
    runs = {}
    for problem, counts in PROBLEMS.items():
        model = build_model(problem, 4, hidden=[(8, "relu"), (4, "tanh")], normalize=True, seed=0, **counts)
        runs[problem] = train(model, X, _labels(problem, X), epochs=EPOCHS, patience=None, log_dir=root,
                              recipe=f"{problem}-recipe", verbose=0).run_dir
    return root, runs


def test_one_experiment_config_for_the_whole_log_directory(log_dir):
    root, _ = log_dir
    configs = [run for run, tags in read_plugin_tags(root, "hparams").items() if "_hparams_/experiment" in tags]
    assert configs == [experiment.CONFIG_RUN]  # TensorBoard takes the first config it finds and expects one


def test_hparams_columns_that_tell_runs_apart_come_first_and_every_run_is_a_row(log_dir):
    root, runs = log_dir
    shown = read_experiment(root)
    assert set(shown["hparams"][:2]) == {"recipe", "problem"}  # the only columns whose values differ here
    assert {"batch_size", "learning_rate", "optimizer", "seed"} <= set(shown["hparams"])
    rows = {f"{d.parent.name}/{d.name}": problem for problem, d in runs.items()}
    assert set(shown["sessions"]) == set(rows)
    for row, problem in rows.items():
        hparams = shown["sessions"][row]["hparams"]
        assert hparams["problem"] == problem and hparams["recipe"] == f"{problem}-recipe"
        # What the model itself is, read off its layers (runs not made by a recipe log it too).
        assert (hparams["hidden"], hparams["activation"], hparams["batch_norm"]) == ("[8, 4]", "relu+tanh", False)
        assert hparams["optimizer"] == "adam"


def test_the_five_ticked_metrics_are_test_results_of_every_problem(log_dir):
    root, _ = log_dir
    metrics = read_experiment(root)["metrics"]
    ticked = metrics[:5]  # TensorBoard 2.21 ticks the first five metric columns
    assert all(group == "test" for group, _, _ in ticked)
    assert {tag for _, tag, _ in ticked[:3]} == {"binary/accuracy", "multiclass/accuracy", "regression/r2"}
    assert all(f"({tag.split('/')[0]})" in name for _, tag, name in metrics)  # several problems: named in columns
    groups = [group for group, _, _ in metrics]
    assert groups == sorted(groups)  # every test metric, then every validation metric


def test_hparams_rows_have_their_test_metrics_at_the_last_epoch(log_dir):
    root, runs = log_dir
    shown = read_experiment(root)["sessions"]
    row = shown[f"{runs['binary'].parent.name}/{runs['binary'].name}"]
    value, step = row["metrics"][("test", "binary/accuracy")]
    assert 0 <= value <= 1 and step == EPOCHS - 1
    assert ("validation", "binary/loss") in row["metrics"]


def test_run_names_say_what_the_model_is(log_dir):
    _, runs = log_dir
    for d in runs.values():
        assert "-relu+tanh-8x4-" in d.name


def test_scalars_are_grouped_by_problem_so_losses_of_different_scales_never_share_a_chart(log_dir):
    _, runs = log_dir
    per_problem = {}
    for problem, d in runs.items():
        scalars = read_scalars(d)
        tags = {tag for part in ("train", "validation", "test") for tag in scalars[part]}
        per_problem[problem] = {t for t in tags if not t.startswith(("optimizer/", "diagnostics/"))}
        assert all(t.startswith(f"{problem}/") for t in per_problem[problem])
        assert len(scalars["train"][f"{problem}/loss"]) == EPOCHS
    assert not set.intersection(*per_problem.values())


def test_no_tag_is_written_twice_and_no_keras_duplicates(log_dir):
    _, runs = log_dir
    for d in runs.values():
        for part, kinds in read_tags(d).items():
            tags = [t for values in kinds.values() if isinstance(values, list) for t in values]
            assert not [t for t, n in Counter(tags).items() if n > 1], part
            assert not [t for t in tags if t.startswith(("evaluation_", "epoch_"))], part


def test_histograms_hold_trainable_weights_not_preprocessing_statistics(log_dir):
    _, runs = log_dir
    tags = read_plugin_tags(runs["binary"], "histograms")["train"]
    weights = [t for t in tags if t.startswith("weights/")]
    assert weights and all(t.rsplit("/", 1)[-1] in ("kernel", "bias") for t in weights)
    assert not [t for t in tags if any(s in t for s in ("mean", "variance", "count"))]


def test_the_graphs_tab_has_an_op_graph_and_the_conceptual_graph(log_dir):
    _, runs = log_dir
    # The Graphs tab opens on a run's own op graph; under a tag only, it fails ("Malformed GraphDef").
    assert read_tags(runs["binary"])["train"].get("graph") is True
    assert "keras" in read_plugin_tags(runs["binary"], "graph_keras_model")["train"]


@pytest.mark.parametrize("values", [np.random.default_rng(0).normal(size=(64, 33)), np.full(5, 2.5), np.array([]),
                                    np.array([0.0, 1.0, 1.0])])
def test_numpy_histograms_are_the_ones_tensorboard_computes(values):
    from tensorboard.plugins.histogram.summary_v2 import histogram_pb
    from tensorboard.util import tensor_util

    theirs = tensor_util.make_ndarray(histogram_pb("t", values).value[0].tensor)
    np.testing.assert_allclose(_histogram.buckets(values), theirs, rtol=1e-12, atol=1e-12)


def test_the_text_tab_has_the_results_table(log_dir):
    _, runs = log_dir
    assert read_plugin_tags(runs["regression"], "text")["."] == ["summary"]


def test_records_at_once_leave_one_whole_config(tmp_path, log_dir):
    root, _ = log_dir
    nested = root / "search" / experiment.CONFIG_RUN  # a study's own config, from an older search
    nested.mkdir(parents=True)
    (nested / "events.out.tfevents.0.old").write_bytes(b"")
    threads = [threading.Thread(target=experiment.record, args=(root,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not nested.exists()
    leftovers = [p.name for p in root.iterdir() if p.name.startswith(f".{experiment.CONFIG_RUN}") and p.is_dir()]
    assert leftovers == []  # no staging or old config folder left behind
    assert len(read_experiment(root)["sessions"]) == len(PROBLEMS)


def test_a_row_is_named_by_its_path_in_the_log_directory_as_the_runs_list_is(tmp_path):
    X = np.random.default_rng(1).normal(size=(60, 4)).astype("float32")
    run_dir = tmp_path / "deep" / "er" / "run1"
    train(build_model("binary", 4, hidden=[4], seed=0), X, (X[:, 0] > 0).astype(int), epochs=1, run_dir=run_dir,
          log_dir=tmp_path, verbose=0, diagnostics=False)
    assert list(read_experiment(tmp_path)["sessions"]) == ["deep/er/run1"]
    assert not (run_dir.parent / experiment.CONFIG_RUN).exists()  # the log directory's config, not a nested one


@pytest.fixture
def bare_folder():
    """A folder of its own under the system's temporary folder: pytest's temporary folders may hold
    another test's experiment config above a test's `tmp_path`."""
    with tempfile.TemporaryDirectory(prefix="kerasact-root-") as folder:
        yield Path(folder)


def test_root_is_the_log_dir_or_the_outermost_folder_with_a_config(bare_folder):
    tmp_path = bare_folder
    run = tmp_path / "a" / "b" / "run"
    assert experiment.root_for(tmp_path, run) == tmp_path
    assert experiment.root_for(None, run) == run.parent
    (tmp_path / "a" / experiment.CONFIG_RUN).mkdir(parents=True)
    assert experiment.root_for(None, run) == (tmp_path / "a").resolve()
    assert experiment.root_for(tmp_path / "elsewhere", run) == (tmp_path / "a").resolve()  # not inside that log_dir


def test_the_overridden_keras_hooks_still_exist():
    import keras

    # RunBoard overrides these private hooks of Keras 3.15's TensorBoard callback; a Keras that
    # renames them would silently write its own tags again.
    for hook in ("_log_epoch_metrics", "_log_weights", "_push_writer", "_pop_writer", "_train_writer", "_val_writer"):
        assert hasattr(keras.callbacks.TensorBoard, hook), hook
    assert issubclass(RunBoard, keras.callbacks.TensorBoard)
