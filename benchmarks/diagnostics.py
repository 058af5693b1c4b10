"""What `train`'s diagnostics cost: training throughput with them at the default frequency, every
epoch, and off, on the benchmark workloads, in one run on one machine.

Each row trains the same model (same seed, so the same initial weights) with
`kerasact.train(..., diagnostics=setting, log_dir=tmp, patience=None)`. Training throughput is
training rows × epochs ÷ `metrics.json`'s `train_seconds` (the `model.fit` call: the epochs, the
validation passes and every callback, the diagnostics' probes included; not the build, the test
evaluation or writing the run). Settings alternate within each repeat (off, default, every epoch)
so drifts in the machine's load hit all three; the best of 5 repeats is shown, with the median,
and the cost is computed on both (best vs best, median vs median). On a shared 2-core machine
those throughputs move by ±10% from run to run, so the table also gives the share of the fit's
wall time spent inside the diagnostics callback's own hooks (timed around each hook: the
probes, the TensorBoard writes, the weight snapshots), the cost measured directly.

Workloads (`benchmarks/workloads.py`): (a) overhead-bound 20,000 × 64 → 128 → 64 → 10, batch 32;
(b) compute-bound 60,000 × 256 → 512 → 512 → 10, batch 512; and the breast-cancer recipe's shape
(569 × 30 → 16 → 8 → 1, batch 32, 100 epochs), where an epoch takes milliseconds and a probe's
fixed cost weighs most.

Usage:
    .venv/bin/python benchmarks/diagnostics.py            # ~4 minutes on 2 cores
    .venv/bin/python benchmarks/diagnostics.py --quick    # 1 repeat, fewer epochs: a smoke test
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workloads import WORKLOADS, machine, teacher_data  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SETTINGS = {"off": False, "default (1, 2, 4, 8, ...)": True, "every epoch": 1}
TARGET = 0.10  # the default frequency may cost at most this share of training throughput


def _cases(quick: bool) -> list[dict]:
    import kerasact

    cancer = kerasact.data.load_dataset("breast_cancer")
    cases = [{"name": w.title, "X": teacher_data(w, 0)[0], "y": teacher_data(w, 0)[1], "hidden": list(w.hidden),
              "problem": "multiclass", "counts": {"n_classes": w.classes}, "batch": w.batch,
              "epochs": (3 if quick else 10) if w.key == "overhead" else (2 if quick else 3)} for w in WORKLOADS]
    cases.append({"name": "breast cancer (recipe shape)", "X": cancer.X.astype("float32"), "y": cancer.y,
                  "hidden": [16, 8], "problem": "binary", "counts": {}, "batch": 32, "epochs": 20 if quick else 100})
    return cases


HOOKS = ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end")
_spent = [0.0]


def _clock_hooks() -> None:
    """Time every hook of the diagnostics callback (the seconds it adds to `model.fit`)."""
    from kerasact.diagnose.monitor import Diagnostics

    def clocked(hook):
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return hook(*args, **kwargs)
            finally:
                _spent[0] += time.perf_counter() - started
        return run

    for name in HOOKS:
        setattr(Diagnostics, name, clocked(getattr(Diagnostics, name)))


def _run(case: dict, setting: bool | int, log_dir: str) -> tuple[float, float]:
    import kerasact

    _spent[0] = 0.0
    model = kerasact.build_model(case["problem"], case["X"].shape[1], hidden=case["hidden"], seed=0,
                                 normalize=True, **case["counts"])
    result = kerasact.train(model, case["X"], case["y"], epochs=case["epochs"], batch_size=case["batch"],
                            patience=None, log_dir=log_dir, verbose=0, diagnostics=setting, backup=False)
    seconds = json.loads((result.run_dir / "metrics.json").read_text())["train_seconds"]
    return len(result.split.y_train) * result.epochs_run / seconds, _spent[0] / seconds


def measure(quick: bool = False) -> dict:
    import warnings

    from kerasact.diagnose.monitor import TrainingWarning

    warnings.simplefilter("ignore", TrainingWarning)  # what the probes find is not what is measured here
    _clock_hooks()
    repeats = 1 if quick else 5
    rows = []
    with tempfile.TemporaryDirectory() as log_dir:
        for case in _cases(quick):
            speeds, shares = {name: [] for name in SETTINGS}, {name: [] for name in SETTINGS}
            for _ in range(repeats):
                for name, setting in SETTINGS.items():
                    speed, share = _run(case, setting, log_dir)
                    speeds[name].append(speed)
                    shares[name].append(share)
            best_off, median_off = max(speeds["off"]), statistics.median(speeds["off"])
            for name, values in speeds.items():
                rows.append({"workload": case["name"], "epochs": case["epochs"], "diagnostics": name,
                             "samples_per_s_best": max(values), "samples_per_s_median": statistics.median(values),
                             "cost_vs_off": 1 - max(values) / best_off,
                             "median_cost_vs_off": 1 - statistics.median(values) / median_off,
                             "callback_share": statistics.median(shares[name])})
            print(rows[-2]["workload"], f"default: {rows[-2]['callback_share']:.1%} of the fit", flush=True)
    return {"machine": machine(optional=()), "repeats": repeats, "target": TARGET, "rows": rows}


def markdown(results: dict) -> str:
    lines = [f"Diagnostics overhead — {results['machine']['cpu']}, {results['machine']['cores']} cores, "
             f"{results['machine']['date']}; best of {results['repeats']} (median), training throughput "
             f"(samples/s of the `model.fit` call); target: the default costs ≤ {results['target']:.0%}.", "",
             "| workload | epochs | diagnostics | samples/s best (median) | throughput cost vs off, best (median) "
             "| time in the diagnostics' hooks, share of the fit |", "|---|---|---|---|---|---|"]
    for r in results["rows"]:
        off = r["diagnostics"] == "off"
        cost = "—" if off else f"{r['cost_vs_off']:.1%} ({r['median_cost_vs_off']:.1%})"
        share = "—" if off else f"{r['callback_share']:.1%}"
        lines.append(f"| {r['workload']} | {r['epochs']} | {r['diagnostics']} | {r['samples_per_s_best']:,.0f} "
                     f"({r['samples_per_s_median']:,.0f}) | {cost} | {share} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat, fewer epochs: a smoke test")
    args = parser.parse_args()
    results = measure(args.quick)
    table = markdown(results)
    print(table)
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "diagnostics.json").write_text(json.dumps(results, indent=2, default=float))
        (RESULTS / "diagnostics.md").write_text(table)
    default_rows = [r for r in results["rows"] if r["diagnostics"].startswith("default")]
    sys.exit(0 if all(r["callback_share"] <= results["target"] for r in default_rows) else 1)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
