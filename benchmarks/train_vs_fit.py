"""What `kerasact.train` costs over a bare `model.fit` of the same model on the same rows.

`train` validates every epoch, runs its callbacks (NaN stop, early stopping, TensorBoard,
the diagnostics at their default schedule, the per-epoch backup), then scores the test and
validation splits and writes the run directory. The bare fit is what a hand-written script
does: `model.fit(**pipeline.fit_inputs(...), epochs=E)` on a fresh kerasact model, nothing
else. Each round builds a fresh model for each and alternates them; both include their own
tracing (a user pays it once per run either way).

Two ratios per workload (throughput of `train` ÷ that of the bare fit, so 1.0 is free; best
and median of the rounds):

* **fit phase**: `train`'s `model.fit` call, validation and callbacks included (the
  `train_seconds` of its `metrics.json`), against the bare fit: the throughput a user sees
  while training. The issue's goal: ≥ 0.8 over 10 epochs.
* **against a validating fit**: the same bare fit with `validation_data` (Keras's own
  per-epoch validation pass, at `train`'s validation batch): what is left is `train`'s callbacks.
* **whole call**: all of `train` (input checks, split, scoring, the run directory) against
  building the model and the bare fit.

Usage:
    .venv/bin/python benchmarks/train_vs_fit.py            # (a) and (b), 10 epochs, 3 rounds
    .venv/bin/python benchmarks/train_vs_fit.py --quick    # smaller data, one round
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402
from workloads import WORKLOADS, Workload, teacher_data  # noqa: E402

GOAL = 0.8
TRAIN_SHARE = 0.7  # train's default split: 70% train, 15% validation, 15% test


def _model(w: Workload, seed: int):
    import kerasact

    return kerasact.build_model("multiclass", w.d, n_classes=w.classes, hidden=list(w.hidden), seed=seed)


def one_round(w: Workload, epochs: int, seed: int) -> dict:
    """One `train` and one bare fit on the rows `train` trained on; wall times in seconds."""
    import kerasact
    from kerasact.runtime import execution, pipeline

    n_all = round(w.n / TRAIN_SHARE)  # so that train's 70% is the workload's n rows
    X, y, _, _ = teacher_data(Workload(w.key, w.title, n_all, w.d, w.hidden, w.classes, w.batch, epochs), 0, seed)
    with tempfile.TemporaryDirectory() as log_dir:
        start = time.perf_counter()
        result = kerasact.train(_model(w, seed), X, y, epochs=epochs, batch_size=w.batch, log_dir=log_dir,
                                seed=seed, verbose=0)
        whole = time.perf_counter() - start
        fit_phase = json.loads((result.run_dir / "metrics.json").read_text())["train_seconds"]
    X_train, y_train = result.split.X_train, result.split.y_train
    start = time.perf_counter()
    model = _model(w, seed)
    built = time.perf_counter()
    model.fit(**pipeline.fit_inputs(model, X_train, y_train, batch_size=w.batch, seed=seed), epochs=epochs, verbose=0)
    done = time.perf_counter()
    model = _model(w, seed)  # the same, validating every epoch as train does: Keras's share of the difference
    validating = time.perf_counter()
    model.fit(**pipeline.fit_inputs(model, X_train, y_train, batch_size=w.batch, seed=seed), epochs=epochs, verbose=0,
              validation_data=(result.split.X_val, result.split.y_val),
              validation_batch_size=execution.eval_batch_size(w.batch))
    validated = time.perf_counter() - validating
    return {"rows": len(y_train), "epochs_run": result.epochs_run, "train_whole": whole, "train_fit": fit_phase,
            "bare_fit": done - built, "bare_whole": done - start, "validated_fit": validated}


def measure(workloads: list[Workload], epochs: int = 10, rounds: int = 3) -> list[dict]:
    """Best-of-`rounds` ratios per workload (and every round's times)."""
    rows = []
    for w in workloads:
        runs = [one_round(w, epochs, seed) for seed in range(rounds)]
        ratios = sorted(r["bare_fit"] / r["train_fit"] for r in runs)
        fit, median = ratios[-1], ratios[len(ratios) // 2]
        whole = max(r["bare_whole"] / r["train_whole"] for r in runs)
        best = min(runs, key=lambda r: r["train_fit"])
        validated = max(r["validated_fit"] / r["train_fit"] for r in runs)
        rows.append({"workload": w.title, "key": w.key, "epochs": epochs, "rows": best["rows"],
                     "vs_validating_fit": validated,
                     "train_samples_per_s": best["rows"] * epochs / best["train_fit"],
                     "fit_samples_per_s": best["rows"] * epochs / min(r["bare_fit"] for r in runs),
                     "fit_phase_ratio": fit, "median_fit_phase_ratio": median, "whole_call_ratio": whole,
                     "runs": runs})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the data, one round")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    workloads = [Workload(w.key, w.title, w.n // 10, w.d, w.hidden, w.classes, w.batch, w.epochs) if args.quick
                 else w for w in WORKLOADS]
    rows = measure(workloads, args.epochs, 1 if args.quick else 3)
    print(report.train_table(rows))


if __name__ == "__main__":
    main()
