"""TensorBoard beyond Keras's own callback: a finished run's HParams entry, test results, summary
table and plot images, and reading event files back with TensorBoard's own reader."""

from __future__ import annotations

import os
import struct
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from tensorboard import context
from tensorboard.backend.event_processing import data_provider, event_accumulator, plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from tensorboard.plugins.hparams import api as hp
from tensorboard.plugins.hparams import api_pb2, backend_context, get_experiment, list_session_groups
from tensorboard.plugins.image import metadata as image_metadata
from tensorboard.util import tensor_util

from kerasact.plots import png_bytes
from kerasact.training.board import scalar_tag


def _hparam_value(value: Any) -> bool | int | float | str:
    # The HParams plugin accepts only bool, number and string values.
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def log_run_summary(
    run_dir: str | os.PathLike,
    hparams: Mapping[str, Any],
    test_metrics: Mapping[str, float],
    figures: Mapping[str, Any] = (),
    *,
    problem: str | None = None,
    step: int = 0,
    validation: Mapping[str, float] = (),
    per_epoch: Collection[str] = (),
    notes: Sequence[str] = (),
    session: str | None = None,
) -> None:
    """Write a finished run's HParams entry, final results, summary table and plots.

    The test metrics go to the run's `test/` folder under the same tags as the training and
    validation curves (`binary/accuracy`), at `step` (the last epoch), so each chart ends in the
    test result as a third run; validation metrics that Keras does not log per epoch (scikit-learn's
    `r2`, `roc_auc`) go to `validation/` at the same step. The run's root folder gets the HParams
    session, a text table of the results (with `notes`, e.g. the diagnostics' warnings) and the
    figures as images.

    Args:
        run_dir: the run directory.
        hparams: the run's hyperparameters (its HParams row).
        test_metrics: the final results, by metric name.
        figures: figures by name (or their `plots.png_bytes`), written as images.
        problem: the scalars' group (`binary` -> `binary/accuracy`); None: the run folder's parent
            name (a concept recipe's own group).
        step: the step of the results: the last epoch.
        validation: the validation metrics, for the table (and those not in `per_epoch` as scalars).
        per_epoch: metric names Keras already logged every epoch.
        notes: lines under the table (the diagnostics' warnings).
        session: the HParams row's name; None: `<parent>/<run>`. Give the path relative to the
            log directory, so the row reads as TensorBoard's Runs list.

    Example:
        >>> log_run_summary("runs/binary/x", {"lr": 1e-3}, {"accuracy": 0.97}, problem="binary")  # doctest: +SKIP
    """
    run_dir = Path(run_dir)
    problem = problem or run_dir.parent.name
    validation = dict(validation)
    final = {k: v for k, v in validation.items() if k not in per_epoch}
    writers = {"test": (test_metrics, run_dir / "test"), "validation": (final, run_dir / "validation")}
    for values, folder in writers.values():
        if values:
            writer = tf.summary.create_file_writer(str(folder))
            with writer.as_default(step=step):
                for name, value in values.items():
                    tf.summary.scalar(scalar_tag(problem, name), float(value))
            writer.close()
    writer = tf.summary.create_file_writer(str(run_dir))
    with writer.as_default(step=step):
        hp.hparams({k: _hparam_value(v) for k, v in hparams.items()},
                   trial_id=session or f"{run_dir.parent.name}/{run_dir.name}")
        tf.summary.text("summary", _table(test_metrics, validation, notes))
        for name, fig in dict(figures).items():
            _png_image(f"plots/{name}", fig if isinstance(fig, bytes) else png_bytes(fig), step)
    writer.close()


def _png_image(tag: str, png: bytes, step: int) -> None:
    """An image summary of already-encoded PNG bytes: what `tf.summary.image` writes after
    encoding pixels ([width, height, png] strings), without drawing or encoding twice."""
    width, height = struct.unpack(">II", png[16:24])  # the PNG header's IHDR chunk
    tf.summary.write(tag, tf.constant([str(width).encode(), str(height).encode(), png]), step=step,
                     metadata=image_metadata.create_summary_metadata(display_name=None, description=None))


def log_curve(folder: str | os.PathLike, problem: str, curves: Mapping[str, Sequence[float]]) -> None:
    """Write per-step values (an L-BFGS loss per iteration) as `<problem>/<name>` scalars at steps 0, 1, ...

    Example:
        >>> log_curve("runs/MLPClassifier/x/train", "binary", {"loss": [0.69, 0.41]})  # doctest: +SKIP
    """
    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        for name, values in curves.items():
            for step, value in enumerate(values):
                tf.summary.scalar(scalar_tag(problem, name), float(value), step=step)
    writer.close()


def _table(test: Mapping[str, float], validation: Mapping[str, float], notes: Sequence[str]) -> str:
    """The run's results as the Markdown table TensorBoard's Text tab renders."""
    rows = ["| metric | test | validation |", "|---|---|---|"]
    rows += [f"| {name} | {float(value):.4g} | "
             + (f"{float(validation[name]):.4g}" if name in validation else "") + " |" for name, value in test.items()]
    return "\n".join(rows + ([""] + [f"- {note}" for note in notes] if notes else []))


def read_scalars(log_dir: str | os.PathLike) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """Every scalar under `log_dir`, read with TensorBoard's event reader.

    Returns:
        `{run: {tag: [(step, value), ...]}}`, where `run` is the folder holding the
        event file relative to `log_dir` (`"."`, `"train"`, `"validation"`).

    Example:
        >>> read_scalars(run_dir)["validation"]["epoch_loss"]  # doctest: +SKIP
        [(0, 0.69), (1, 0.52)]
    """
    found: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for run, acc in _runs(log_dir):
        tags: dict[str, list[tuple[int, float]]] = {}
        for tag in acc.Tags()["tensors"]:
            if acc.SummaryMetadata(tag).plugin_data.plugin_name != "scalars":
                continue  # histograms, images, the model config, hparams
            tags[tag] = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]
        for tag in acc.Tags()["scalars"]:
            tags[tag] = [(e.step, e.value) for e in acc.Scalars(tag)]
        found[run] = tags
    return found


def read_tags(log_dir: str | os.PathLike) -> dict[str, dict[str, list[str]]]:
    """Tags of every kind (tensors, images, graph, ...) per run folder under `log_dir`."""
    return {run: {k: v for k, v in acc.Tags().items() if v} for run, acc in _runs(log_dir)}


def read_plugin_tags(log_dir: str | os.PathLike, plugin: str) -> dict[str, list[str]]:
    """Tags written by one TensorBoard plugin (e.g. `"hparams"`, `"images"`, `"histograms"`)."""
    out = {}
    for run, acc in _runs(log_dir):
        try:
            out[run] = sorted(acc.PluginTagToContent(plugin))
        except KeyError:  # the plugin wrote nothing in this run
            out[run] = []
    return out


def read_experiment(log_dir: str | os.PathLike) -> dict[str, Any]:
    """What TensorBoard's HParams tab shows for `log_dir`, read with the HParams plugin's own handlers.

    Returns:
        `{"hparams": [column, ...], "metrics": [(group, tag, display name), ...],
        "sessions": {row name: {"hparams": {name: value}, "metrics": {(group, tag): (value, step)}}}}`,
        columns and metrics in the order the table shows them (its first five metrics are ticked).

    Example:
        >>> read_experiment("runs")["metrics"][0]  # doctest: +SKIP
        ('test', 'binary/accuracy', 'test accuracy')
    """
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(log_dir))
    multiplexer.Reload()
    tb = base_plugin.TBContext(logdir=str(log_dir), multiplexer=multiplexer,
                               data_provider=data_provider.MultiplexerDataProvider(multiplexer, str(log_dir)))
    request, backend = context.RequestContext(), backend_context.Context(tb)
    experiment = get_experiment.Handler(request, backend, "", api_pb2.GetExperimentRequest()).run()
    query = api_pb2.ListSessionGroupsRequest(start_index=0, slice_size=10_000, allowed_statuses=[
        api_pb2.STATUS_UNKNOWN, api_pb2.STATUS_SUCCESS, api_pb2.STATUS_FAILURE, api_pb2.STATUS_RUNNING])
    for info in experiment.hparam_infos:
        query.col_params.add(hparam=info.name)
    for info in experiment.metric_infos:
        query.col_params.add(metric=info.name)
    groups = list_session_groups.Handler(request, backend, "", query).run().session_groups
    return {
        "hparams": [info.name for info in experiment.hparam_infos],
        "metrics": [(m.name.group, m.name.tag, m.display_name) for m in experiment.metric_infos],
        "sessions": {g.name: {"hparams": {k: _value(v) for k, v in g.hparams.items()},
                              "metrics": {(m.name.group, m.name.tag): (m.value, m.training_step)
                                          for m in g.metric_values}} for g in groups},
    }


def _value(proto: Any) -> Any:
    """A protobuf `Value`'s content (number, string or bool)."""
    kind = proto.WhichOneof("kind")
    return getattr(proto, kind) if kind else None


def _runs(log_dir: str | os.PathLike):
    """(run name relative to log_dir, loaded accumulator) for each folder of event files."""
    log_dir = Path(log_dir)
    for folder in sorted({p.parent for p in log_dir.rglob("events.out.tfevents.*")}):
        yield str(folder.relative_to(log_dir)), _load(folder)


def _load(folder: Path) -> event_accumulator.EventAccumulator:
    acc = event_accumulator.EventAccumulator(
        str(folder), size_guidance={event_accumulator.TENSORS: 0, event_accumulator.SCALARS: 0})
    acc.Reload()
    return acc
