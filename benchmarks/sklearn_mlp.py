"""kerasact's scikit-learn MLPs against scikit-learn's: `kerasact.sklearn.MLPClassifier` and
`sklearn.neural_network.MLPClassifier` with the same settings, 5-fold cross-validated on
scikit-learn's bundled breast-cancer and digits data, in one run on one machine.

Each model sits in `make_pipeline(StandardScaler(), model)` and is scored by `cross_validate`
(what `cross_val_score` calls; `return_estimator=True` only to read the epochs run, `n_iter_`)
over `StratifiedKFold(5, shuffle=True, random_state=0)`. Both get hidden_layer_sizes=(100,),
the solver, alpha, batch_size, learning_rate_init, max_iter, tol, n_iter_no_change and
random_state=0 (scikit-learn's defaults otherwise). Per dataset × solver × contender the table
shows mean ± std accuracy over the folds, the wall time of the whole cross-validation, and
that time ÷ scikit-learn's in the same run. The contenders take turns within each dataset ×
solver: each is timed `--repeats` times (3; round-robin), the best time shown, the median in
brackets (accuracy is the same every time: random_state=0).

Contenders: scikit-learn; scikit-learn with its BLAS held to 1 thread (threadpoolctl: on a
shared machine OpenBLAS's spin-waiting threads can make the default 10-40× slower, so this row
keeps the ratio readable; a second ratio column is against it); kerasact (dtype=None: the
scaled float64 data trains in float64, as scikit-learn does); kerasact float32
(dtype="float32"). One small kerasact fit per solver
runs before any timing, so TensorFlow's start-up is not in the first cell. ConvergenceWarnings
are silenced and counted (so are other warnings, listed below the table).

Usage:
    .venv/bin/python benchmarks/sklearn_mlp.py            # 5 folds, adam and lbfgs, max_iter=200, best of 3 (~4 min)
    .venv/bin/python benchmarks/sklearn_mlp.py --quick    # 2 folds, max_iter=20: a smoke test
    .venv/bin/python benchmarks/sklearn_mlp.py --solvers adam lbfgs sgd --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script, as bench.py is
import workloads  # noqa: E402

HERE = Path(__file__).resolve().parent
SOLVERS = ("adam", "lbfgs")
DATASETS = ("breast_cancer", "digits")
# The settings both estimators get (scikit-learn's defaults, spelled out so they are visibly the same).
SETTINGS = {"hidden_layer_sizes": (100,), "alpha": 0.0001, "batch_size": "auto", "learning_rate_init": 0.001,
            "max_iter": 200, "tol": 1e-4, "n_iter_no_change": 10, "random_state": 0}
QUICK = {"max_iter": 20, "folds": 2}
FOLDS = 5
REPEATS = 3  # a shared machine is noisy: best of 3 round-robin runs (median in brackets)
# contender name -> (library, extra estimator parameters, BLAS threads (None: the library's default))
CONTENDERS = {"scikit-learn": ("sklearn", {}, None), "scikit-learn 1 BLAS thread": ("sklearn", {}, 1),
              "kerasact": ("kerasact", {}, None), "kerasact float32": ("kerasact", {"dtype": "float32"}, None)}
BASES = ("scikit-learn", "scikit-learn 1 BLAS thread")  # the ratio columns' denominators


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets

    return getattr(datasets, f"load_{name}")(return_X_y=True)


def estimator(library: str, solver: str, settings: dict, extra: dict):
    if library == "sklearn":
        from sklearn.neural_network import MLPClassifier
    else:
        from kerasact.sklearn import MLPClassifier
    return MLPClassifier(solver=solver, **settings, **extra)


def warm_up(solvers: tuple[str, ...]) -> float:
    """One small kerasact fit per solver (TensorFlow's start-up, first tracing); returns its seconds."""
    from sklearn.exceptions import ConvergenceWarning

    X, y = load("breast_cancer")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for solver in solvers:
            estimator("kerasact", solver, {"max_iter": 2, "random_state": 0}, {}).fit(X[:100] / X.max(0), y[:100])
    return time.perf_counter() - start


def cross_validate_once(model, X: np.ndarray, y: np.ndarray, folds: int, threads: int | None) -> dict:
    """One timed cross-validation; warnings silenced and counted; an exception is recorded, not raised."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    pipe = make_pipeline(StandardScaler(), model)
    cv = StratifiedKFold(folds, shuffle=True, random_state=0)
    with warnings.catch_warnings(record=True) as caught, threadpool_limits(threads, user_api="blas"):
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            out = cross_validate(pipe, X, y, cv=cv, error_score="raise", return_estimator=True)
        except Exception as error:  # a crash is a result here
            return {"seconds": time.perf_counter() - start, "error": f"{type(error).__name__}: {error}"}
        seconds = time.perf_counter() - start
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    others = sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0][:200]}" for w in caught
                     if not issubclass(w.category, ConvergenceWarning)})
    return {"seconds": seconds, "scores": [float(s) for s in out["test_score"]],
            "fit_seconds": [float(s) for s in out["fit_time"]], "score_seconds": [float(s) for s in out["score_time"]],
            "n_iter": [int(p[-1].n_iter_) for p in out["estimator"]], "convergence_warnings": len(convergence),
            "convergence_messages": sorted({str(w.message)[:200] for w in convergence}), "other_warnings": others}


def run(solvers: tuple[str, ...], folds: int, settings: dict, repeats: int, contenders: dict) -> list[dict]:
    """Every dataset × solver × contender; the contenders take turns `repeats` times."""
    found = []
    print(HEADER, flush=True)
    for dataset in DATASETS:
        X, y = load(dataset)
        for solver in solvers:
            cells = {name: [] for name in contenders}
            for _ in range(repeats):
                for name, (library, extra, threads) in contenders.items():
                    model = estimator(library, solver, settings, extra)
                    cells[name].append(cross_validate_once(model, X, y, folds, threads))
            bases = {}  # contender -> its row
            for name, (library, extra, threads) in contenders.items():
                tries = cells[name]
                good = [t for t in tries if "error" not in t]
                best = min(good, key=lambda t: t["seconds"]) if good else tries[0]
                row = {"dataset": dataset, "n_samples": len(X), "n_features": X.shape[1],
                       "n_classes": len(np.unique(y)), "solver": solver, "contender": name, "library": library,
                       "params": {**settings, "solver": solver, **extra}, "blas_threads": threads, "folds": folds,
                       **best,
                       "all_seconds": [t["seconds"] for t in tries],
                       "median_seconds": statistics.median(t["seconds"] for t in tries)}
                if "scores" in row:
                    row["accuracy_mean"] = float(np.mean(row["scores"]))
                    row["accuracy_std"] = float(np.std(row["scores"]))
                bases[name] = row
            for row in bases.values():  # every contender's row of this dataset × solver
                row["time_ratio"] = {base: row["seconds"] / bases[base]["seconds"] for base in BASES
                                     if base in bases and "error" not in bases[base] and "error" not in row}
                found.append(row)
                print(_row(row), flush=True)
    return found


HEADER = ("| dataset | solver | contender | accuracy (mean ± std) | seconds best (median) | ÷ scikit-learn "
          "| ÷ scikit-learn 1 thread | epochs/iterations mean (min-max) | ConvergenceWarnings / folds |\n"
          "|---|---|---|---|---|---|---|---|---|")


def _row(r: dict) -> str:
    if "error" in r:
        return f"| {r['dataset']} | {r['solver']} | {r['contender']} | **failed**: {r['error'][:120]} | | | | | |"
    ratio = " | ".join(f"{r['time_ratio'][b]:.2f}×" if b in r["time_ratio"] else "–" for b in BASES)
    return (f"| {r['dataset']} | {r['solver']} | {r['contender']} | {r['accuracy_mean']:.4f} ± "
            f"{r['accuracy_std']:.4f} | {r['seconds']:.2f} ({r['median_seconds']:.2f}) | {ratio} | "
            f"{statistics.mean(r['n_iter']):.0f} "
            f"({min(r['n_iter'])}-{max(r['n_iter'])}) | {r['convergence_warnings']}/{r['folds']} |")


def report(info: dict, found: list[dict]) -> str:
    settings = ", ".join(f"{k}={v!r}" for k, v in info["settings"].items())
    timed = f"best of {info['repeats']} round-robin runs, median in brackets" if info["repeats"] > 1 else "one run"
    lines = [
        f"Run {info['date']} on {info['cpu']} ({info['cores']} cores); Python {info['python']}, TensorFlow "
        f"{info['tensorflow']}, Keras {info['keras']}, scikit-learn {info['scikit-learn']}, numpy {info['numpy']}. "
        f"Load average {info['load_average_start'][0]:.1f} at start, {info['load_average_end']:.1f} at end; "
        f"total {info['total_seconds']:.0f} s (kerasact warm-up {info['warm_up_seconds']:.1f} s, not timed).",
        "",
        f"`make_pipeline(StandardScaler(), MLPClassifier(solver=..., {settings}))`, "
        f"`StratifiedKFold({info['folds']}, shuffle=True, random_state=0)`; seconds: the whole cross-validation "
        f"(fits and scoring, {timed}); "
        "÷: the ratio of best seconds within this run. kerasact = dtype None (float64 here, as "
        "scikit-learn); kerasact float32 = dtype='float32'.",
        "",
        HEADER,
        *(_row(r) for r in found),
    ]
    others = sorted({(r["contender"], w) for r in found for w in r.get("other_warnings", [])})
    if others:
        lines += ["", "Other warnings raised during the runs:", "",
                  *(f"- {contender}: {message}" for contender, message in others)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 folds, max_iter=20: a smoke test")
    parser.add_argument("--solvers", nargs="+", default=list(SOLVERS), help="solvers to compare (adam lbfgs sgd ...)")
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"time each cell this many times, round-robin; show the best (default {REPEATS}, "
                             "--quick 1)")
    parser.add_argument("--no-float32", action="store_true", help="leave out the kerasact float32 row")
    parser.add_argument("--no-single-thread", action="store_true", help="leave out the 1-BLAS-thread scikit-learn row")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.perf_counter()
    settings = {**SETTINGS, "max_iter": QUICK["max_iter"]} if args.quick else dict(SETTINGS)
    folds = QUICK["folds"] if args.quick else FOLDS
    contenders = {k: v for k, v in CONTENDERS.items() if not (args.no_float32 and v[1].get("dtype") == "float32")}
    if args.no_single_thread:
        contenders.pop(BASES[1])
    solvers = tuple(args.solvers)
    repeats = max(1, args.repeats or (1 if args.quick else REPEATS))
    info = workloads.machine(optional=())
    info["warm_up_seconds"] = warm_up(solvers)
    found = run(solvers, folds, settings, repeats, contenders)
    info.update({"settings": settings, "folds": folds, "repeats": repeats, "quick": args.quick,
                 "load_average_end": os.getloadavg()[0], "total_seconds": time.perf_counter() - started})
    text = report(info, found)
    print("\n" + text)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "sklearn_mlp.json").write_text(json.dumps({"machine": info, "results": found}, indent=2, default=str))
    (results / "sklearn_mlp.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
