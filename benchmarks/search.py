"""Hyperparameter search with the same budget: `kerasact.search` against scikit-learn's
`RandomizedSearchCV` and `GridSearchCV` over `make_pipeline(StandardScaler(), MLPClassifier())`,
N trials each, on the bundled breast-cancer and digits data, in one run on one machine.

Every contender sees the same rows: `kerasact.search` splits each trial's data with
`kerasact.train`'s split (seed=0, val_size=0.15, test_size=0.15, stratified); this script
takes the same split from the same kerasact functions (`kerasact.inputs.validate` and
`kerasact.training._rows.split`, checked against a real `kerasact.train` run before any timing),
and gives scikit-learn a `PredefinedSplit` with one validation fold: it fits on the training
rows and scores on the validation rows. The test rows are touched once per contender, by its
best model: kerasact's `result.test_metrics` (the best trial's model), scikit-learn's best
parameters refitted on the training rows (random_state=0, so the very model the search scored).

Contenders, N trials each (`--trials`, 12), E epochs at most (`--epochs`, 60):

* kerasact: `kerasact.search(X, y, trials=N, objective="accuracy", epochs=E, seed=0, ...)`:
  Optuna TPE over the default space (`kerasact/tuning/space.py`), median pruning, early
  stopping (patience 10 on the validation loss).
* scikit-learn random: `RandomizedSearchCV(n_iter=N, random_state=0)` over hidden_layer_sizes
  (1-3 layers, widths 16-256), activation (relu/tanh/logistic), alpha (log 1e-7..1e-2),
  learning_rate_init (log 1e-4..3e-2), batch_size (32/64/128); `MLPClassifier(max_iter=E,
  early_stopping=False, random_state=0)` (it stops itself after 10 epochs without training-loss
  improvement).
* scikit-learn grid: `GridSearchCV` over a grid of exactly N points (`grid(N)`: depth, then
  activation, then learning rate take N's factors; alpha 1e-4 and batch size 64 fixed when not).
* both scikit-learn searches again with their BLAS held to 1 thread (threadpoolctl): on a shared
  2-core machine OpenBLAS's spin-waiting threads can make a fit 5-40× slower (see sklearn_mlp.py);
  the scores are the same, only the time differs.

Per dataset × contender: trials per minute, the best validation accuracy after N trials, the
test accuracy of that best model, the wall seconds of the search call (scikit-learn's refit of
the best on the training rows is timed apart), and pruned/failed trials. ConvergenceWarnings
are silenced and counted.

Usage:
    .venv/bin/python benchmarks/search.py              # N=12 trials, 60 epochs (~5-10 minutes on 2 cores)
    .venv/bin/python benchmarks/search.py --quick      # N=3, 10 epochs: a smoke test
    .venv/bin/python benchmarks/search.py --trials 20 --epochs 100
    .venv/bin/python benchmarks/search.py --contenders kerasact "scikit-learn random"
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script, as bench.py is
import workloads  # noqa: E402

HERE = Path(__file__).resolve().parent
DATASETS = ("breast_cancer", "digits")
TRIALS, EPOCHS = 12, 60
QUICK = {"trials": 3, "epochs": 10}
SPLIT = {"val_size": 0.15, "test_size": 0.15, "seed": 0}  # kerasact.train's defaults, spelled out
# contender name -> (search kind, BLAS threads for scikit-learn: None is the library's default)
CONTENDERS = {"kerasact": ("kerasact", None), "scikit-learn random": ("random", None),
              "scikit-learn grid": ("grid", None), "scikit-learn random 1 BLAS thread": ("random", 1),
              "scikit-learn grid 1 BLAS thread": ("grid", 1)}
# The grid's axes, in the order they take N's prime factors; None: any number of log-spaced points.
GRID_AXES = {
    "hidden_layer_sizes": [(64,), (128, 64), (256, 128, 64)],
    "activation": ["relu", "tanh", "logistic"],
    "learning_rate_init": None,   # log-spaced in 3e-4..1e-2 (2 points: 7.2e-4, 4.2e-3); 1e-3 alone
    "alpha": None,                # log-spaced in 1e-6..1e-2 (2 points: 1e-5, 1e-3); 1e-4 alone
    "batch_size": [64, 32, 128],
}
GRID_RANGES = {"learning_rate_init": (3e-4, 1e-2, 1e-3), "alpha": (1e-6, 1e-2, 1e-4)}  # (low, high, single value)


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    import kerasact

    ds = kerasact.data.load_dataset(name)
    return ds.X, ds.y


def split_rows(X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The row indices of kerasact.train's train/validation/test split, from kerasact's own functions."""
    import kerasact
    from kerasact.inputs import validate
    from kerasact.problems import infer_problem
    from kerasact.training import _rows

    found = infer_problem(y)
    model = kerasact.build_model(found.problem, X.shape[1], n_classes=found.n_classes, normalize=True)
    checked = validate(X, y, model=model, encode=True)
    indexed = dataclasses.replace(checked, X=np.arange(len(y)))  # the same split of row numbers instead of X
    parts, _, _ = _rows.split(indexed, **{k: SPLIT[k] for k in ("test_size", "val_size", "seed")})
    return {"train": parts.X_train, "val": parts.X_val, "test": parts.X_test}


def check_split(X: np.ndarray, y: np.ndarray, rows: dict[str, np.ndarray], log_dir: str) -> float:
    """One short kerasact.train run (also TensorFlow's warm-up): its split must be our rows. Returns its seconds."""
    import kerasact
    from kerasact.problems import infer_problem

    found = infer_problem(y)
    start = time.perf_counter()
    model = kerasact.build_model(found.problem, X.shape[1], n_classes=found.n_classes, normalize=True)
    result = kerasact.train(model, X, y, epochs=1, log_dir=log_dir, verbose=0, **SPLIT)
    for part in ("train", "val", "test"):
        if not np.array_equal(np.asarray(getattr(result.split, f"X_{part}")), X[rows[part]]):
            raise RuntimeError(f"the reproduced {part} rows differ from kerasact.train's split")
    return time.perf_counter() - start


def run_kerasact(X: np.ndarray, y: np.ndarray, trials: int, epochs: int, log_dir: str) -> dict:
    import kerasact

    start = time.perf_counter()
    result = kerasact.search(X, y, trials=trials, objective="accuracy", epochs=epochs, seed=0, log_dir=log_dir,
                             verbose=False, **{k: SPLIT[k] for k in ("val_size", "test_size")})
    seconds = time.perf_counter() - start
    table = result.trials
    states = table["state"].value_counts().to_dict()
    done = table[table["state"] == "COMPLETE"]
    return {"seconds": seconds, "trials": len(table), "states": {str(k): int(v) for k, v in states.items()},
            "pruned": int(states.get("PRUNED", 0)), "failed": int(states.get("FAIL", 0)),
            "best_val_accuracy": float(result.best_metrics["accuracy"]),
            "best_value": float(done["value"].max()),
            "test_accuracy": float(result.test_metrics["accuracy"]),
            "trial_seconds": [None if s is None or s != s else float(s) for s in table["seconds"]],
            "trial_values": [None if v is None or v != v else float(v) for v in table["value"]],
            "trial_epochs": [None if e is None or e != e else int(e) for e in table["epochs"]],
            "errors": sorted({str(e)[:200] for e in table["error"] if isinstance(e, str)}),
            "best_params": {"hidden": [list(layer) for layer in result.best_spec.hidden],
                            **{k: getattr(result.best_spec, k) for k in ("dropout", "l2", "batch_norm", "optimizer",
                                                                         "learning_rate")},
                            **result.best_train_options}}


class HiddenLayers:
    """hidden_layer_sizes as kerasact's default space draws `hidden`: a depth uniform in 1-3, then
    each layer's width log-uniform in 16-256 (a scipy-like distribution: RandomizedSearchCV calls `rvs`)."""

    def __init__(self, depth: tuple[int, int] = (1, 3), width: tuple[int, int] = (16, 256)) -> None:
        self.depth, self.width = depth, width

    def rvs(self, random_state=None) -> tuple[int, ...]:
        rng = np.random.default_rng(random_state.randint(2**31) if hasattr(random_state, "randint") else random_state)
        low, high = np.log(self.width[0]), np.log(self.width[1] + 1)  # as Optuna's log int: each int equally log-wide
        depth = int(rng.integers(self.depth[0], self.depth[1] + 1))
        return tuple(int(np.floor(np.exp(rng.uniform(low, high)))) for _ in range(depth))

    def __repr__(self) -> str:
        return f"depth {self.depth[0]}-{self.depth[1]}, widths log-uniform {self.width[0]}-{self.width[1]}"


def random_space() -> dict:
    from scipy.stats import loguniform

    return {"mlpclassifier__hidden_layer_sizes": HiddenLayers(),
            "mlpclassifier__activation": ["relu", "tanh", "logistic"],
            "mlpclassifier__alpha": loguniform(1e-7, 1e-2),
            "mlpclassifier__learning_rate_init": loguniform(1e-4, 3e-2),
            "mlpclassifier__batch_size": [32, 64, 128]}


def _primes(n: int) -> list[int]:
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return sorted(out, reverse=True)


def grid(n: int) -> dict:
    """A grid of exactly `n` points: N's prime factors go to the axes in order, each to the
    smallest axis that can take it (the listed axes hold at most their values)."""
    sizes = dict.fromkeys(GRID_AXES, 1)
    for p in _primes(n):
        fits = [a for a, values in GRID_AXES.items() if values is None or sizes[a] * p <= len(values)]
        axis = min(fits, key=lambda a: (sizes[a], list(GRID_AXES).index(a)))
        sizes[axis] *= p
    out = {}
    for axis, k in sizes.items():
        values = GRID_AXES[axis]
        if values is None:
            low, high, single = GRID_RANGES[axis]
            centres = np.exp(np.log(low) + (np.arange(k) + 0.5) * np.log(high / low) / k)  # of k equal log-bins
            chosen = [single] if k == 1 else [float(f"{v:.2g}") for v in centres]
        elif axis == "hidden_layer_sizes" and k == 1:
            chosen = [values[1]]
        else:
            chosen = values[:k]
        out[f"mlpclassifier__{axis}"] = chosen
    if math.prod(len(v) for v in out.values()) != n:
        raise RuntimeError(f"the grid has {math.prod(len(v) for v in out.values())} points, not {n}")
    return out


def _describe(distribution) -> str:
    if hasattr(distribution, "dist"):  # a frozen scipy distribution
        return f"{distribution.dist.name}{tuple(float(f'{a:.3g}') for a in distribution.args)}"
    return repr(distribution)


def run_sklearn(kind: str, X: np.ndarray, y: np.ndarray, rows: dict, trials: int, epochs: int,
                threads: int | None) -> dict:
    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV, PredefinedSplit, RandomizedSearchCV
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=epochs, early_stopping=False, random_state=0))
    fit_rows = np.concatenate([rows["train"], rows["val"]])
    cv = PredefinedSplit(np.r_[np.full(len(rows["train"]), -1), np.zeros(len(rows["val"]), dtype=int)])
    if kind == "random":
        searcher = RandomizedSearchCV(pipe, random_space(), n_iter=trials, cv=cv, random_state=0, n_jobs=1,
                                      refit=False)
        space = {k: v if isinstance(v, list) else _describe(v) for k, v in random_space().items()}
    else:
        space = grid(trials)
        searcher = GridSearchCV(pipe, space, cv=cv, n_jobs=1, refit=False)
    with warnings.catch_warnings(record=True) as caught, threadpool_limits(threads, user_api="blas"):
        warnings.simplefilter("always")
        start = time.perf_counter()
        searcher.fit(X[fit_rows], y[fit_rows])
        seconds = time.perf_counter() - start
        best = clone(pipe).set_params(**searcher.best_params_)
        refit_start = time.perf_counter()
        best.fit(X[rows["train"]], y[rows["train"]])
        refit_seconds = time.perf_counter() - refit_start
    scores = searcher.cv_results_["mean_test_score"]
    val_again = float(best.score(X[rows["val"]], y[rows["val"]]))
    if not math.isclose(val_again, searcher.best_score_):
        raise RuntimeError(f"the refitted best scores {val_again} on the validation rows, the search said "
                           f"{searcher.best_score_}")
    convergence = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return {"seconds": seconds, "refit_seconds": refit_seconds, "trials": len(scores),
            "pruned": 0, "failed": int(np.isnan(scores).sum()),
            "best_val_accuracy": float(searcher.best_score_),
            "test_accuracy": float(best.score(X[rows["test"]], y[rows["test"]])),
            "trial_seconds": [float(s) for s in searcher.cv_results_["mean_fit_time"]
                              + searcher.cv_results_["mean_score_time"]],
            "trial_values": [float(s) for s in scores],
            "best_params": {k.removeprefix("mlpclassifier__"): v for k, v in searcher.best_params_.items()},
            "best_epochs": int(best[-1].n_iter_), "convergence_warnings": int(convergence),
            "space": {k.removeprefix("mlpclassifier__"): v for k, v in space.items()},
            "other_warnings": sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0][:200]}"
                                      for w in caught if not issubclass(w.category, ConvergenceWarning)})}


def run(trials: int, epochs: int, contenders: list[str]) -> tuple[list[dict], float]:
    found, warm = [], 0.0
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory() as log_dir:
        for dataset in DATASETS:
            X, y = load(dataset)
            rows = split_rows(X, y)
            warm += check_split(X, y, rows, str(Path(log_dir) / "check"))
            for name in contenders:
                kind, threads = CONTENDERS[name]
                if kind == "kerasact":
                    out = run_kerasact(X, y, trials, epochs, str(Path(log_dir) / dataset))
                else:
                    out = run_sklearn(kind, X, y, rows, trials, epochs, threads)
                row = {"dataset": dataset, "contender": name, "blas_threads": threads, "n_samples": len(y),
                       "n_features": X.shape[1], "n_classes": len(np.unique(y)),
                       "rows": {k: len(v) for k, v in rows.items()}, "budget": trials, "epochs": epochs, **out,
                       "trials_per_minute": 60 * out["trials"] / out["seconds"]}
                found.append(row)
                print(_row(row), flush=True)
    return found, warm


HEADER = ("| dataset | contender | trials | trials/min | best val accuracy | its test accuracy | search seconds "
          "| pruned / failed | best parameters |\n|---|---|---|---|---|---|---|---|---|")


def _params(r: dict) -> str:
    p = r["best_params"]
    if r["contender"] == "kerasact":
        hidden = " → ".join(f"{w} {a}" for w, a in p["hidden"])
        text = (f"{hidden}; lr {p['learning_rate']:.1e}, {p['optimizer']}, dropout {p['dropout']:.2f}, "
                f"l2 {p['l2']:.0e}, bn {p['batch_norm']}, batch {p.get('batch_size')}")
        return text + (f", class_weight {p['class_weight']}" if p.get("class_weight") else "")
    return (f"{tuple(p['hidden_layer_sizes'])} {p['activation']}; lr {p['learning_rate_init']:.1e}, "
            f"alpha {p['alpha']:.0e}, batch {p['batch_size']}")


def _row(r: dict) -> str:
    extra = f" (+{r['refit_seconds']:.1f} refit)" if "refit_seconds" in r else ""
    return (f"| {r['dataset']} | {r['contender']} | {r['trials']} | {r['trials_per_minute']:.1f} | "
            f"{r['best_val_accuracy']:.4f} | {r['test_accuracy']:.4f} | {r['seconds']:.1f}{extra} | "
            f"{r['pruned']} / {r['failed']} | {_params(r)} |")


def report(info: dict, found: list[dict]) -> str:
    rows = found[0]["rows"] if found else {}
    grid_space = next((r["space"] for r in found if r["contender"].startswith("scikit-learn grid")), None)
    lines = [
        f"Run {info['date']} on {info['cpu']} ({info['cores']} cores); Python {info['python']}, TensorFlow "
        f"{info['tensorflow']}, Keras {info['keras']}, scikit-learn {info['scikit-learn']}, Optuna {info['optuna']}, "
        f"numpy {info['numpy']}. Load average {info['load_average_start'][0]:.1f} at start, "
        f"{info['load_average_end']:.1f} at end; total {info['total_seconds']:.0f} s (split check and warm-up "
        f"{info['warm_up_seconds']:.1f} s, not timed).",
        "",
        f"Budget {info['trials']} trials each, at most {info['epochs']} epochs a trial. Same rows for all: "
        f"kerasact.train's split (seed 0, val_size 0.15, test_size 0.15, stratified; breast_cancer "
        f"{rows.get('train')}/{rows.get('val')}/{rows.get('test')} rows). Best val accuracy: the best trial's "
        "accuracy on the validation rows; its test accuracy: that model on the test rows. kerasact: "
        "`kerasact.search(objective='accuracy')` over its default space (TPE, median pruning, patience 10); "
        "scikit-learn: `StandardScaler` + `MLPClassifier(max_iter=E, early_stopping=False, random_state=0)`, "
        "one `PredefinedSplit` validation fold, `refit=False`, then the best refitted on the training rows "
        "(timed apart); \"1 BLAS thread\": the same search with OpenBLAS held to one thread. "
        "Seconds: the whole search call.",
        "",
        HEADER,
        *(_row(r) for r in found),
    ]
    if grid_space:
        lines += ["", "scikit-learn grid: " + "; ".join(f"{k} {v}" for k, v in grid_space.items())]
    convergence = [f"{r['dataset']} {r['contender']} {r['convergence_warnings']}/{r['trials'] + 1}" for r in found
                   if r.get("convergence_warnings")]
    if convergence:
        lines += ["", "ConvergenceWarnings (fits that hit max_iter, of the trials + the refit): "
                  + ", ".join(convergence) + "."]
    errors = sorted({(r["contender"], e) for r in found for e in r.get("errors", []) + r.get("other_warnings", [])})
    if errors:
        lines += ["", "Errors and other warnings:", "", *(f"- {c}: {e}" for c, e in errors)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 trials, 10 epochs: a smoke test")
    parser.add_argument("--trials", type=int, default=None, help=f"trials per contender (default {TRIALS})")
    parser.add_argument("--epochs", type=int, default=None, help=f"epochs per trial at most (default {EPOCHS})")
    parser.add_argument("--contenders", nargs="+", default=list(CONTENDERS), choices=CONTENDERS, metavar="NAME",
                        help=f"contenders to run (default: all of {', '.join(repr(c) for c in CONTENDERS)})")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.perf_counter()
    trials = args.trials or (QUICK["trials"] if args.quick else TRIALS)
    epochs = args.epochs or (QUICK["epochs"] if args.quick else EPOCHS)
    info = workloads.machine(optional=("optuna",))
    found, warm = run(trials, epochs, args.contenders)
    info.update({"trials": trials, "epochs": epochs, "quick": args.quick, "warm_up_seconds": warm,
                 "load_average_end": os.getloadavg()[0], "total_seconds": time.perf_counter() - started})
    text = report(info, found)
    print("\n" + text)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "search.json").write_text(json.dumps({"machine": info, "results": found}, indent=2, default=str))
    (results / "search.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
