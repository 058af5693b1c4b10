"""`kerasact train`, `predict` and `info MODEL`: the table workflow of `kerasact.train_table`,
`kerasact.load_model` and `kerasact.predict` on the command line.

A run directory is the unit: `train` writes one (model.keras, metrics.json, plots, TensorBoard
logs), `predict` and `info` take its model.keras (or the directory itself) and read the class
names and the training metrics from the metrics.json beside it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

import kerasact
from kerasact import report, tabular
from kerasact.cli import _baselines, recipe
from kerasact.cli._launch import JOINED
from kerasact.problems import head_of
from kerasact.runtime import distribute, tf_config
from kerasact.training import evidence

MODEL_FILE, RUN_FILE = "model.keras", "metrics.json"  # what a run directory holds, by train's names


def _head(model: keras.Model) -> str:
    """One line: problem, output units and activation, and the loss (read off the model once)."""
    info = head_of(model)
    link = f" (linear output; the loss applies {info.head.activation})" if info.from_logits else ""
    return f"head: {info.head.name}: {info.units} {info.head.activation} unit(s){link}, loss {info.loss or '-'}"


class _ShowHead(keras.callbacks.Callback):
    """Prints the head of the model being trained, between the schema and the progress bar."""

    shown = False

    def on_train_begin(self, logs: Any = None) -> None:
        if not self.shown:  # once: a refit trains the same model again
            print(_head(self.model), flush=True)
            self.shown = True


def _run_name(data: str) -> str:
    """The run's folder under --log-dir: the data file's name without `.csv` (`penguins.csv` → `penguins`)."""
    name = Path(data).name.removesuffix(".gz").removesuffix(".csv")
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "run"


def train(args: argparse.Namespace) -> int:
    """`kerasact train`: schema, head, training, test metrics beside the baselines, the run directory."""
    strategy, cluster = _cluster(args)  # first: TensorFlow fixes its cluster when it starts
    given = {"hidden": args.hidden, "epochs": args.epochs, "batch_size": args.batch_size}  # None: the preset's
    result = kerasact.train_table(
        args.data, args.target, problem=args.problem, categorical=args.categorical,
        numeric=args.numeric, drop=args.drop, seed=args.seed, log_dir=args.log_dir, preset=args.preset,
        refit=getattr(args, "refit", None),
        recipe=_run_name(args.data), callbacks=[_ShowHead()], run_dir=args.run_dir,
        strategy=strategy, diagnostics=True if args.diagnostics is None else args.diagnostics or False,
        verbose=2 if args.verbose else "auto",  # one progress line; --verbose: Keras's line per epoch
        **{k: v for k, v in given.items() if v is not None})
    if not cluster.is_chief:
        print(f"kerasact: {cluster.name} finished; the chief wrote the run directory.", flush=True)
        return 0
    compared = _baselines.compare(result, args.seed)
    print(_baselines.table(result, args.seed, compared))
    _baselines.save(result, compared)
    page = report.build_run(result.run_dir) if result.run_dir is not None else None  # now with the baselines
    inside = page is not None and result.run_dir.resolve().is_relative_to(Path(args.log_dir).resolve())
    board = report.compare(args.log_dir) if inside else None  # the log directory's page, this run included
    if result.refit:
        again = result.refit
        print(f"refit: model.keras then learned again from all {again['rows']} rows for {again['epochs']} epochs "
              f"({again['seconds']:.0f} s); the metrics above are the first fit's.")
    print(f"\nrun directory: {result.run_dir}",
          f"predict with:  kerasact predict {result.run_dir / MODEL_FILE} DATA",
          f"inspect it:    {recipe.tensorboard_command(args.log_dir)}", sep="\n", flush=True)
    if page is not None:
        print(f"report:        {page}", flush=True)
    if board is not None:
        print(f"all runs:      {board}", flush=True)
    return 0


def _cluster(args: argparse.Namespace) -> tuple[Any, Any]:
    """The multi-worker strategy of `TF_CONFIG` (None without one) and the cluster it spans."""
    if tf_config.read_tf_config() is None:
        return None, distribute.cluster_of(None)
    strategy = tf_config.multi_worker_strategy(join_timeout=args.join_timeout)
    cluster = distribute.cluster_of(strategy)
    where = cluster.addresses[cluster.index] if cluster.addresses else "one task"
    print(f"{JOINED} as {cluster.name} of {cluster.workers} ({where})", file=sys.stderr, flush=True)
    return strategy, cluster


def _model_file(path: str) -> Path:
    """MODEL as given: a .keras file, or a run directory holding one."""
    return Path(path) / MODEL_FILE if Path(path).is_dir() else Path(path)


def _run_record(model_file: Path) -> dict[str, Any] | None:
    """The metrics.json of the run beside `model_file`, or None when there is none."""
    path = model_file.parent / RUN_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not a kerasact metrics.json ({err}); move it away or retrain.") from None
    return record if isinstance(record, dict) else None


def _class_names(record: dict[str, Any] | None, n_classes: int) -> list[Any]:
    """The class labels from the run's metrics.json, else the class indices 0..k-1."""
    classes = ((record or {}).get("labels") or {}).get("classes")
    if classes is None:
        return list(range(n_classes))
    if len(classes) != n_classes:
        raise ValueError(f"{RUN_FILE} beside the model lists {len(classes)} classes but the model predicts "
                         f"{n_classes}; it belongs to another run. Move it away to get class indices.")
    return list(classes)


def _binary(scores: np.ndarray, record: dict[str, Any] | None) -> pd.DataFrame:
    classes, p = _class_names(record, 2), scores[:, 0]
    labels = np.array(classes, dtype=object)[(p > 0.5).astype(int)]  # the threshold train scores with
    return pd.DataFrame({"prediction": labels, f"p_{classes[0]}": 1 - p, f"p_{classes[1]}": p})


def _multiclass(scores: np.ndarray, record: dict[str, Any] | None) -> pd.DataFrame:
    classes = _class_names(record, scores.shape[1])
    columns = {"prediction": np.array(classes, dtype=object)[scores.argmax(axis=1)]}
    return pd.DataFrame(columns | {f"p_{c}": scores[:, i] for i, c in enumerate(classes)})


def _multilabel(scores: np.ndarray, record: dict[str, Any] | None) -> pd.DataFrame:
    return pd.DataFrame({f"p_{i}": scores[:, i] for i in range(scores.shape[1])})


def _values(scores: np.ndarray, record: dict[str, Any] | None) -> pd.DataFrame:
    if scores.shape[1] == 1:
        return pd.DataFrame({"prediction": scores[:, 0]})
    return pd.DataFrame({f"prediction_{i}": scores[:, i] for i in range(scores.shape[1])})


# problem -> how the model's outputs become the columns of the predictions table
PREDICTIONS: dict[str, Callable[[np.ndarray, dict[str, Any] | None], pd.DataFrame]] = {
    "binary": _binary, "multiclass": _multiclass, "multilabel": _multilabel, "regression": _values,
}


def predict(args: argparse.Namespace) -> int:
    """`kerasact predict`: one row of predictions per input row, as CSV to --out or stdout."""
    model_file = _model_file(args.model)
    model = kerasact.load_model(model_file)
    scores = np.asarray(kerasact.predict(model, tabular.read_table(args.data, "DATA")))
    out = PREDICTIONS[head_of(model).head.name](scores.reshape(len(scores), -1), _run_record(model_file))
    if args.out is None:
        print(out.to_csv(index=False), end="", flush=True)
    else:
        out.to_csv(args.out, index=False)
        print(f"wrote {len(out)} predictions to {args.out}", flush=True)
    return 0


def _layers(model: keras.Model) -> list[str]:
    found = evidence.layers(model)  # the same table a run's report shows
    lines = [f"\nlayers ({len(found['layers'])}; {found['params']} parameters, {found['trainable']} trainable)"]
    width = max(len(row["name"]) for row in found["layers"])
    lines += [f"  {row['name']:<{width}}  {row['type']:<20} {row['output'] or '-':<12} {row['params']:>8}"
              for row in found["layers"]]
    return lines


def _metrics(record: dict[str, Any]) -> list[str]:
    parts = {part: record.get(part) or {} for part in ("test", "validation")}
    rows = record.get("n_samples") or {}
    lines = [f"\ntraining ({RUN_FILE}): {record.get('epochs_run', '?')} epochs; rows "
             + " / ".join(f"{rows.get(k, '?')} {k}" for k in ("train", "validation", "test")),
             f"  {'metric':<10} {'test':>9} {'validation':>11}"]
    for name in parts["test"]:
        cells = [f"{v:.4f}" if isinstance(v, (int, float)) else "-" for v in (parts["test"][name],
                                                                             parts["validation"].get(name))]
        lines.append(f"  {name:<10} {cells[0]:>9} {cells[1]:>11}")
    return lines


def info(args: argparse.Namespace) -> int:
    """`kerasact info MODEL`: schema, head, layers and the training metrics of its run."""
    model_file = _model_file(args.model)
    model = kerasact.load_model(model_file)
    lines: Sequence[str]
    if tabular.has_schema(model):
        lines = [f"schema ({model_file})", tabular.schema_of(model).table()]
    else:
        lines = [f"{model_file}: no schema; the model takes arrays of shape {tuple(model.inputs[0].shape)}"]
    record = _run_record(model_file)
    lines = [*lines, "", _head(model), *_layers(model), *(_metrics(record) if record else [])]
    print("\n".join(lines), flush=True)
    return 0
