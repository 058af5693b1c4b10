"""TensorBoard beyond Keras's own callback: the HParams entry of a run, test metrics, plot
images, and reading event files back with TensorBoard's own reader."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import api as hp
from tensorboard.util import tensor_util

from kerasact.plots import figure_to_array


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
) -> None:
    """Write the run's HParams entry, its test metrics as scalars and its plots as images.

    These go to the run's root folder, next to Keras's `train/` and `validation/`, so the
    HParams dashboard lists the run with its hyperparameters and every metric.

    Example:
        >>> log_run_summary("runs/binary/x", {"lr": 1e-3}, {"accuracy": 0.97})  # doctest: +SKIP
    """
    writer = tf.summary.create_file_writer(str(run_dir))
    with writer.as_default():
        hp.hparams({k: _hparam_value(v) for k, v in hparams.items()}, trial_id=Path(run_dir).name)
        for name, value in test_metrics.items():
            tf.summary.scalar(f"test/{name}", float(value), step=0)
        for name, fig in dict(figures).items():
            tf.summary.image(f"plots/{name}", figure_to_array(fig)[None], step=0)
    writer.close()


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
