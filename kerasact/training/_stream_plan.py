"""Planning a streamed read (`train_stream`): which split each row falls in, the scan of the files
and the model built on its sample, the labels the sample must cover, and class weights from the
scan's counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kerasact import _errors, data, tabular
from kerasact.inputs import validate
from kerasact.model import build_tabular_model
from kerasact.model.presets import STREAM_PRESET
from kerasact.runtime import execution
from kerasact.tabular import stream as csv
from kerasact.training import _rows, _stream_batches
from kerasact.training.evaluation import evaluate

MAX_LABELS = 1000  # distinct target values the scan counts; beyond it the target is a quantity
PARTS = ("train", "validation", "test")
_SPLIT = 1  # salt of a row's split (the sample draws with another)


def row_parts(rows: np.ndarray, *, seed: int, val_size: float, test_size: float) -> np.ndarray:
    """0 (train), 1 (validation) or 2 (test) per row number, drawn from the row and the seed."""
    u = csv.fractions(csv.row_keys(rows, seed, _SPLIT))
    return np.where(u < test_size, 2, np.where(u < test_size + val_size, 1, 0)).astype(np.int64)


def check_labels(scan: csv.Scan, codec: Any, target: str, sample_rows: int) -> None:
    if codec is None or scan.labels is None:
        return
    labels = sum(scan.labels, Counter())
    seen = np.array(list(labels), dtype=object)
    known = np.isin(seen.astype(str) if codec.classes_.dtype.kind in "USO" else seen, codec.classes_)
    if not known.all():
        unseen = seen[~known].tolist()
        rows = sum(labels[label] for label in unseen)
        raise ValueError(f"target {target!r}: label(s) {unseen[:5]} occur in {rows} row(s) but not in the "
                         f"{len(scan.sample):,}-row sample the model is built from, so it has no output for them; "
                         f"raise sample_rows (now {sample_rows:,}) or drop those rows.")


@dataclass
class Plan:
    """What the scan and its sample decided: the model, the sample validated for it (codec, label
    format, head), the split of the sample's rows, and each split's rows on disk."""

    scan: csv.Scan
    model: keras.Model
    checked: Any
    sample_parts: np.ndarray
    rows: list[_stream_batches.Rows]

    @property
    def n(self) -> list[int]:
        return self.scan.rows.tolist()

    def batches(self, part: int, batch_size: int, **shuffling: Any) -> tf.data.Dataset:
        return _stream_batches.batches(self.rows[part], _stream_batches.signature(self.model, self.checked.y),
                                       n=self.n[part], batch_size=batch_size, **shuffling)

    def score(self, part: int, batch_size: int) -> tuple[dict[str, float], dict[str, Any]]:
        """Keras's metrics over the whole split; the scikit-learn extras and figures on the sample's rows of it."""
        held = self.sample_parts == part
        X, y = _rows.take(self.checked.X, held), self.checked.y[held]
        extra, figures, _ = evaluate(self.model, X, y, batch_size=batch_size, info=self.checked.model_head,
                                  codec=self.checked.codec) if len(y) else ({}, {})
        logs = self.model.evaluate(self.batches(part, execution.eval_batch_size(batch_size)), verbose=0,
                                   return_dict=True)
        return extra | {k: float(v) for k, v in logs.items()}, figures

    def summary(self, files: list[Path]) -> str:
        counts = ", ".join(f"{name} {count:,}" for name, count in zip(PARTS, self.n))
        return (f"{tabular.schema_of(self.model).table()}\nstreaming {len(files)} file(s), {sum(self.n):,} rows "
                f"({counts}); schema, labels and statistics from a uniform sample of {len(self.scan.sample):,} rows")


def plan(files: list[Path], target: str, split: Callable, *, problem: str | None, categorical: Any, numeric: Any,
         drop: Any, options: Mapping[str, Any], seed: int, sample_rows: int, chunk_rows: int) -> Plan:
    """Scan the files, then build the model on the sample's training rows."""
    scan = csv.scan(files, target, split, n_parts=len(PARTS), seed=seed, sample_rows=sample_rows,
                    chunk_rows=chunk_rows, max_labels=MAX_LABELS)
    if scan.rows.min() == 0:
        raise ValueError(f"data: {int(scan.rows.sum())} row(s) leave a split empty "
                         f"({dict(zip(PARTS, scan.rows.tolist()))}); pass more rows or raise val_size and test_size.")
    X, y = tabular.split_target(scan.sample, target)
    parts = split(scan.sample.index.to_numpy())
    problem_name, counts, _ = tabular.target_plan(y, problem)
    model = build_tabular_model(X[parts == 0], y[parts == 0], problem=problem_name, preset=STREAM_PRESET,
                                categorical=categorical, numeric=numeric, drop=drop, **counts, **options)
    checked = validate(tabular.to_inputs(X, tabular.schema_of(model)), y, model=model, encode=True)
    rows = [_stream_batches.Rows(files, i, target, model, checked.codec, split, chunk_rows) for i in range(len(PARTS))]
    return Plan(scan, model, checked, parts, rows)


def keras_class_weight(class_weight: Any, scan: csv.Scan, codec: Any) -> dict[int, float] | None:
    """`class_weight` as Keras's {class index: weight}; "balanced" from the scan's training rows."""
    uniform = isinstance(class_weight, str) and data.CLASS_WEIGHT_MODES.get(class_weight, "") is None
    if class_weight is None or uniform:
        return None
    if codec is None:
        raise _errors.invalid("class_weight", class_weight, "None for a target that is not class labels")
    if isinstance(class_weight, Mapping):
        return {int(k): float(v) for k, v in class_weight.items()}
    if scan.labels is None:
        raise _errors.invalid("class_weight", class_weight, f"a dict for more than {MAX_LABELS} classes")
    counts = np.zeros(codec.n_classes)
    for label, n in scan.labels[0].items():
        counts[_stream_batches.as_labels(np.array([label], dtype=object), codec)[0]] += n
    total = counts.sum()  # scikit-learn's "balanced": n_samples / (n_classes * count)
    return {i: float(total / (len(counts) * c)) for i, c in enumerate(counts) if c > 0}
