"""The other benchmarks in one `bench.py` run: one summary row each for streamed CSVs
(`tables.py`), scikit-learn's MLPClassifier against `kerasact.sklearn` under cross-validation
(`sklearn_mlp.py`), hyperparameter search (`search.py`) and the training diagnostics' cost
(`diagnostics.py`).

Each row comes from that module's own measuring function, run once at settings reduced so the
four fit beside bench.py's own workloads (~3.5 minutes on 2 cores, ~1.2 with `--quick`); a row
says what it ran. Streaming and diagnostics are judged against their module's goal; the
cross-validation and the search state none, so their ratio is kerasact's seconds ÷
scikit-learn's and `met` is None. Each module's full run, with every contender and its own
results file, stays the measurement: this is the headline of each, not a replacement.

Usage:
    .venv/bin/python benchmarks/others.py            # the four, reduced (~3.5 minutes on 2 cores)
    .venv/bin/python benchmarks/others.py --quick    # their smoke-test sizes (~1.2 minutes)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import diagnostics  # noqa: E402
import numpy as np  # noqa: E402
import search  # noqa: E402
import sklearn_mlp  # noqa: E402
import tables  # noqa: E402

# Adam only: it is where the two libraries differ (L-BFGS takes scikit-learn's time); the float32
# variant and the 1-BLAS-thread search reruns are left to the modules' own runs (same scores, more time).
CV_CONTENDERS = ("scikit-learn", "scikit-learn 1 BLAS thread", "kerasact")
SEARCH_CONTENDERS = ["kerasact", "scikit-learn random", "scikit-learn grid"]
# Half the module's 12 × 60 trials: 3 random start-up trials, then 3 drawn by TPE, median pruning from the 4th
# (kerasact/tuning/trials.py), so both of kerasact.search's parts act.
SEARCH_FULL = {"trials": 6, "epochs": 30}


def _timed(fn: Callable[[], object]) -> tuple[object, float, str]:
    """Run `fn` with its progress lines captured (they are the module's own table rows, headless
    here); return its result, its wall seconds and what it printed."""
    printed = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(printed):
        out = fn()
    return out, time.perf_counter() - start, printed.getvalue()


def streaming(quick: bool) -> dict:
    """tables.run at the module's own sizes: its full pair took 83 s here (the in-memory 10^6 most)."""
    sizes = tables.QUICK_SIZES if quick else tables.SIZES
    found, seconds, printed = _timed(lambda: tables.run(sizes))
    (streamed, above), (whole, _) = tables.growth(found, True), tables.growth(found, False)
    large = next(r for r in reversed(found) if r["stream"])
    return {"setting": f"{sizes[0]:,} and {sizes[1]:,} rows, 1 epoch, streamed and in memory, a process each",
            "measured": f"peak RSS growth streamed {streamed:.2f}× (above the imports {above:.2f}×), in memory "
                        f"{whole:.2f}×; streamed {large['n'] / large['seconds']:,.0f} rows/s at {large['n']:,}",
            "goal": f"streamed peak RSS, larger ÷ smaller ≤ {tables.GOAL}×", "ratio": streamed,
            "met": streamed <= tables.GOAL, "seconds": seconds, "detail": {"sizes": sizes, "rows": found,
                                                                           "printed": printed}}


def cross_validation(quick: bool) -> dict:
    """sklearn_mlp.run for adam on both datasets, after the module's own kerasact warm-up."""
    settings = {**sklearn_mlp.SETTINGS, "max_iter": sklearn_mlp.QUICK["max_iter"]} if quick else sklearn_mlp.SETTINGS
    folds = sklearn_mlp.QUICK["folds"] if quick else sklearn_mlp.FOLDS
    repeats = 1 if quick else sklearn_mlp.REPEATS
    contenders = {name: sklearn_mlp.CONTENDERS[name] for name in CV_CONTENDERS}

    def both() -> tuple[float, list[dict]]:
        return sklearn_mlp.warm_up(("adam",)), sklearn_mlp.run(("adam",), folds, settings, repeats, contenders)

    (warm, found), seconds, printed = _timed(both)
    cells = {(r["dataset"], r["contender"]): r for r in found}
    parts, ours, theirs, failed = [], 0.0, 0.0, False
    for dataset in sklearn_mlp.DATASETS:
        ka, sk = cells[(dataset, "kerasact")], cells[(dataset, "scikit-learn")]
        if "error" in ka or "error" in sk:  # the module records a crash as a result; so does the row
            failed = True
            parts.append(f"{dataset}: failed ({(ka.get('error') or sk['error'])[:80]})")
            continue
        ours, theirs = ours + ka["seconds"], theirs + sk["seconds"]
        parts.append(f"{dataset}: kerasact {ka['seconds']:.2f} s vs {sk['seconds']:.2f} s "
                     f"({ka['time_ratio']['scikit-learn']:.2f}×), accuracy {ka['accuracy_mean']:.3f} vs "
                     f"{sk['accuracy_mean']:.3f}")
    ratio = None if failed or not theirs else ours / theirs
    return {"setting": f"adam, {folds}-fold, max_iter={settings['max_iter']}, breast_cancer and digits, "
                       f"{', '.join(CV_CONTENDERS)}, best of {repeats}",
            "measured": "; ".join(parts) + ("" if ratio is None else f"; both summed {ratio:.2f}×"),
            "goal": "none stated: kerasact's cross-validation seconds ÷ scikit-learn's (both datasets summed)",
            "ratio": ratio, "met": None, "seconds": seconds,
            "detail": {"warm_up_seconds": warm, "rows": found, "printed": printed}}


def hyperparameter_search(quick: bool) -> dict:
    """search.run with fewer trials and epochs than the module's 12 × 60 (its quick 3 × 10 with --quick)."""
    budget = search.QUICK if quick else SEARCH_FULL
    (found, warm), seconds, printed = _timed(lambda: search.run(budget["trials"], budget["epochs"], SEARCH_CONTENDERS))
    cells = {(r["dataset"], r["contender"]): r for r in found}
    parts, ours, theirs = [], 0.0, 0.0
    for dataset in search.DATASETS:
        ka, rand, grid = (cells[(dataset, name)] for name in SEARCH_CONTENDERS)
        ours, theirs = ours + ka["seconds"], theirs + rand["seconds"]
        parts.append(f"{dataset}: test accuracy of the best {ka['test_accuracy']:.3f} vs random "
                     f"{rand['test_accuracy']:.3f} / grid {grid['test_accuracy']:.3f}; {ka['seconds']:.0f} s vs "
                     f"{rand['seconds']:.1f} / {grid['seconds']:.1f} s")
    ratio = ours / theirs if theirs else None
    return {"setting": f"{budget['trials']} trials of at most {budget['epochs']} epochs each (module: 12 × 60), "
                       "breast_cancer and digits, kerasact vs RandomizedSearchCV and GridSearchCV",
            "measured": "; ".join(parts) + ("" if ratio is None else f"; seconds summed {ratio:.1f}×"),
            "goal": "none stated: the best model's test accuracy at the same budget; kerasact's search seconds ÷ "
                    "RandomizedSearchCV's (both datasets summed)",
            "ratio": ratio, "met": None, "seconds": seconds,
            "detail": {"warm_up_seconds": warm, "rows": found, "printed": printed}}


def diagnostics_cost(quick: bool) -> dict:
    """diagnostics.measure in its quick mode either way: its full mode (5 repeats) takes ~4 minutes."""
    # the script sets this before measuring (probes on random data overflow harmlessly); so do we
    with np.errstate(all="ignore"):
        results, seconds, printed = _timed(lambda: diagnostics.measure(quick=True))
    default = [r for r in results["rows"] if r["diagnostics"].startswith("default")]
    every = [r for r in results["rows"] if r["diagnostics"] == "every epoch"]
    worst = max(r["callback_share"] for r in default)
    return {"setting": "its --quick: 1 repeat of off / default / every epoch on (a) 3 epochs, (b) 2, breast "
                       "cancer 20",
            "measured": "default: " + " / ".join(f"{r['callback_share']:.1%}" for r in default)
                        + " of the fit in its hooks ((a) / (b) / breast cancer); every epoch: "
                        + " / ".join(f"{r['callback_share']:.1%}" for r in every),
            "goal": f"default ≤ {diagnostics.TARGET:.0%} of the fit (its hooks' share)", "ratio": worst,
            "met": worst <= diagnostics.TARGET, "seconds": seconds, "detail": {**results, "printed": printed}}


SUMMARIES = {"streaming CSV (tables.py)": streaming, "cross-validated MLPClassifier (sklearn_mlp.py)": cross_validation,
             "hyperparameter search (search.py)": hyperparameter_search,
             "training diagnostics' cost (diagnostics.py)": diagnostics_cost}


def summaries(quick: bool = False) -> list[dict]:
    """Run each other benchmark once, reduced to fit a bench.py run, and return one row each.

    Args:
        quick: the modules' smoke-test sizes (~1.2 minutes on 2 cores instead of ~3.5).

    Returns:
        One dict per benchmark: benchmark, setting (what ran), measured (the headline numbers),
        goal, ratio (float or None), met (bool, or None where the module states no goal),
        seconds (its wall time) and detail (the module's raw results and what it printed).
    """
    rows = []
    for name, summary in SUMMARIES.items():
        start = time.perf_counter()
        try:
            rows.append({"benchmark": name, **summary(quick)})
        except Exception as error:  # one benchmark's crash is its row's result, not the end of bench.py's run
            rows.append({"benchmark": name, "setting": "quick" if quick else "reduced", "goal": "–",
                         "measured": f"**failed**: {type(error).__name__}: {str(error)[:200]}", "ratio": None,
                         "met": None, "seconds": time.perf_counter() - start, "detail": {"error": repr(error)}})
        print(f"{rows[-1]['benchmark']}: {rows[-1]['seconds']:.0f} s", flush=True)  # bench.py's progress
    return rows


def table(rows: list[dict]) -> str:
    """A Markdown table of `summaries`' rows (benchmark, what ran, measured, goal, met), ending in a newline."""

    def cell(text: str) -> str:
        return str(text).replace("|", "\\|")

    def met(r: dict) -> str:  # the ratio itself is in "measured", in the unit its goal uses
        return "–" if r["met"] is None else "yes" if r["met"] else "**no**"

    lines = ["| benchmark | what ran | measured | goal | met |", "|---|---|---|---|---|"]
    lines += [f"| {cell(r['benchmark'])} | {cell(r['setting'])}; {r['seconds']:.0f} s | {cell(r['measured'])} | "
              f"{cell(r['goal'])} | {met(r)} |" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the modules' smoke-test sizes (~1.2 minutes)")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = summaries(args.quick)
    print("\n" + table(rows) + f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
