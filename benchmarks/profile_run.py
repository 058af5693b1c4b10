"""Where the fixed cost of a small `kerasact.train` run goes: a wall-time split of one run.

The run is the digits recipe's shape at benchmark (c)'s size: `build_model("multiclass", 64,
n_classes=10, hidden=[128, 64], normalize=True)` and `train(..., epochs=E, batch_size=32,
log_dir=tmp)` on the 1,797 digits rows, in a fresh process (TensorFlow's import is reported
apart and not counted). Each phase is timed by wrapping the function that does it, so the split
is of this run, not an estimate:

* build: `build_model` without its `compile`; compile: `keras.Model.compile`;
* adapt: the Normalization layer learning its statistics from the training rows;
* trace: the Python time inside Keras's `train_step` / `test_step` / `predict_step` and
  kerasact's serving function while TensorFlow traces them (each body runs once per trace);
* first call, over steady state: the first training call (the first epoch's training part) and
  the first validation pass minus what a later epoch takes for the same work, minus the trace
  time: graph optimisation (Grappler), function instantiation and the first execution's warm-up;
* epochs after the first: what the later epochs cost (training part + validation pass);
* the callbacks' own time, taken out of the epochs they ran in: TensorBoard (the op-graph export
  after the first call, per-epoch scalars and weight histograms), the diagnostics (probes and
  their summaries) and the per-epoch backup (weights, optimizer state, state.json, fsync);
* evaluate: `train`'s held-out scoring (Keras's `evaluate`, the predictions, scikit-learn's
  metrics, the figures), test and validation; write: the run directory (PNGs, TensorBoard
  summaries, `model.keras`, `metrics.json`, the log directory's HParams config);
* other: the rest of `train` (validation of the inputs, the split, callbacks, the backup).

Usage:
    .venv/bin/python benchmarks/profile_run.py              # 10 epochs, 3 fresh processes, best total shown
    .venv/bin/python benchmarks/profile_run.py --epochs 3 --runs 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
PHASES = ("build", "compile", "adapt", "trace train_step", "trace test_step", "trace predict_step",
          "trace serving", "first training call over steady", "first validation pass over steady",
          "epochs after the first", "TensorBoard callback", "diagnostics callback", "backup callback",
          "evaluate (test + validation)", "write the run directory", "other")


def _child(epochs: int) -> dict:
    """One profiled run, in this (fresh) process."""
    started = time.perf_counter()
    import keras
    import tensorflow as tf  # noqa: F401 - its import is reported apart

    import kerasact
    from kerasact.diagnose.monitor import Diagnostics
    from kerasact.model import layers as preprocessing
    from kerasact.runtime import serving
    from kerasact.training import _run, fit
    from kerasact.training.board import RunBoard
    from kerasact.training.callbacks import Backup

    imported = time.perf_counter() - started
    spent: dict[str, float] = {}

    def timed(owner, name, phase):
        original = getattr(owner, name)

        def run(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[phase] = spent.get(phase, 0.0) + time.perf_counter() - t0
        setattr(owner, name, run)

    timed(keras.Model, "compile", "compile")
    timed(preprocessing, "adapt_on_training_rows", "adapt")
    timed(fit, "evaluate", "evaluate (test + validation)")
    timed(_run, "write_run", "write the run directory")
    timed(serving._Server, "_trace", "trace serving")
    for step in ("train_step", "test_step", "predict_step"):
        timed(keras.Model, step, f"trace {step}")  # under tf.function, the body runs only while tracing
    # Callback hooks: (class, hook, phase, which clock interval it runs inside, if any).
    hooks = [(RunBoard, "on_train_batch_end", "TensorBoard callback", "train"),
             (RunBoard, "on_epoch_end", "TensorBoard callback", "validation"),
             (Diagnostics, "on_epoch_begin", "diagnostics callback", "train"),
             (Diagnostics, "on_epoch_end", "diagnostics callback", "validation"),
             (Diagnostics, "on_train_begin", "diagnostics callback", None),
             (Diagnostics, "on_train_end", "diagnostics callback", None),
             (Backup, "on_epoch_end", "backup callback", None), (Backup, "on_train_end", "backup callback", None)]
    inside: dict[str, list[float]] = {"train": [], "validation": []}

    def hooked(cls, name, phase, interval):
        original = getattr(cls, name)

        def run(self, *args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                took = time.perf_counter() - t0
                spent[phase] = spent.get(phase, 0.0) + took
                if interval is not None:
                    inside[interval].append(took)
        setattr(cls, name, run)

    for cls, name, phase, interval in hooks:
        hooked(cls, name, phase, interval)

    class Clock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.train, self.validation = [], []

        def on_epoch_begin(self, epoch, logs=None):
            inside["train"].clear()
            self.t0 = time.perf_counter()

        def on_test_begin(self, logs=None):
            self.t1 = time.perf_counter()
            self.in_train = sum(inside["train"])
            inside["validation"].clear()

        def on_epoch_end(self, epoch, logs=None):  # runs after the built-in callbacks' on_epoch_end
            now = time.perf_counter()
            self.train.append(self.t1 - self.t0 - self.in_train)
            self.validation.append(now - self.t1 - sum(inside["validation"]))

    import tempfile

    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    clock = Clock()
    t0 = time.perf_counter()
    model = kerasact.build_model("multiclass", 64, n_classes=10, hidden=[128, 64], normalize=True, seed=0)
    spent["build"] = time.perf_counter() - t0 - spent.get("compile", 0.0)
    with tempfile.TemporaryDirectory() as log_dir:
        t1 = time.perf_counter()
        kerasact.train(model, X.astype("float32"), y, epochs=epochs, batch_size=32, patience=None, log_dir=log_dir,
                       verbose=0, callbacks=[clock])
        total_train = time.perf_counter() - t1
    steady_train = min(clock.train[1:]) if len(clock.train) > 1 else 0.0
    steady_val = min(clock.validation[1:]) if len(clock.validation) > 1 else 0.0
    trace_fit = spent.get("trace train_step", 0.0)
    # test_step is traced twice: for validation inside fit, and again for `evaluate` on held-out data
    # only if Keras makes a new test function (it reuses it); the split below keeps each trace where it ran.
    spent["first training call over steady"] = clock.train[0] - steady_train - trace_fit
    spent["first validation pass over steady"] = clock.validation[0] - steady_val - spent.get("trace test_step", 0.0)
    spent["epochs after the first"] = sum(clock.train[1:]) + sum(clock.validation[1:])
    inside_fit = sum(clock.train) + sum(clock.validation)
    known = ("adapt", "evaluate (test + validation)", "write the run directory", "TensorBoard callback",
             "diagnostics callback", "backup callback")
    spent["other"] = total_train - inside_fit - sum(spent.get(k, 0.0) for k in known)
    # The predict/serving traces happen inside evaluate: shown on their own lines, taken out of it.
    spent["evaluate (test + validation)"] -= spent.get("trace predict_step", 0.0) + spent.get("trace serving", 0.0)
    return {"import": imported, "epochs": epochs, "total": spent["build"] + spent.get("compile", 0.0) + total_train,
            "phases": {p: spent.get(p, 0.0) for p in PHASES}, "steady_epoch": steady_train + steady_val}


def markdown(runs: list[dict]) -> str:
    best = min(runs, key=lambda r: r["total"])
    lines = [f"One `train` run of the digits shape (64 → 128 → 64 → 10, batch 32, {best['epochs']} epochs), the best "
             f"total of {len(runs)} fresh processes: {best['total']:.2f} s after a {best['import']:.1f} s import; a "
             f"steady epoch takes {best['steady_epoch'] * 1000:.0f} ms.", "",
             "| phase | seconds | share |", "|---|---|---|"]
    for phase, seconds in best["phases"].items():
        lines.append(f"| {phase} | {seconds:.3f} | {seconds / best['total']:.0%} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3, help="fresh processes; the best total is shown")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(_child(args.epochs)), flush=True)
        return
    runs = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, __file__, "--child", "--epochs", str(args.epochs)],
                             capture_output=True, text=True, timeout=600, check=True).stdout
        runs.append(json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:]))
    table = markdown(runs)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "profile_run.md").write_text(table)
    (RESULTS / "profile_run.json").write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
