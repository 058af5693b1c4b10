"""`search`: hyperparameter search over the templates, on Optuna (TPE sampling, median pruning,
a journal-file or database storage), resumable, parallel, every trial a TensorBoard run.

The study lives in `log_dir/name/`: `study.journal` (Optuna's storage unless `storage` is
given), one run directory per trial (listed in `log_dir`'s one HParams config,
`kerasact.training.experiment`, as every run under `log_dir` is), and at the end
`best.toml` (the best `ModelSpec`), `best.keras` (its model) and `report.html` (a leaderboard of
the trials, each linked to its run's page). Started again with the same
`log_dir` and `name` (or `storage`), a search keeps its finished trials and runs the rest of
the budget; a trial whose process died is marked failed.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import optuna
import pandas as pd

from kerasact import _errors, report, tabular
from kerasact.inputs import validate
from kerasact.model import ModelSpec, build_from_spec, load_model
from kerasact.problems import infer_problem
from kerasact.training import TrainResult, train, train_table
from kerasact.training.tables import BUILD_FIELDS
from kerasact.tuning import checks
from kerasact.tuning.checks import MINIMIZE
from kerasact.tuning.processes import run_trials
from kerasact.tuning.space import as_space
from kerasact.tuning.trials import DIED, Job, pruner

# The spec fields a table model takes from `train_table` (the rest come from the table's schema): a
# table trial's spec is the one built, the preset's defaults included, so retraining passes them all.
TABLE_OPTIONS = tuple(sorted(BUILD_FIELDS))


@dataclass
class SearchResult:
    """What `search` returns.

    Attributes:
        best_spec: the best trial's `ModelSpec` (`best_spec.save("best.toml")` to keep it).
        best_model: its trained model (None when another machine sharing the storage ran it:
            its run folder, named in `trials`, is there; or `retrain` here).
        best_metrics: its validation metrics (`test_metrics` for the held-out test split);
            `data_loss` is the loss without the L2 penalty, what objective `"loss"` compares.
        best_train_options: the `train` options it ran with (`batch_size`, `class_weight`, ...).
        trials: one row per trial: number, state, value, seconds, memory, params, metrics, error.
        study: the Optuna study.
        study_dir: the folder holding the study, its runs and `best.toml` / `best.keras`.
    """

    best_spec: ModelSpec
    best_model: keras.Model | None
    best_metrics: dict[str, float]
    test_metrics: dict[str, float]
    best_train_options: dict[str, Any]
    trials: pd.DataFrame
    study: optuna.Study
    study_dir: Path

    def retrain(self, X: Any, y: Any = None, *, target: str | None = None, **train_options: Any) -> TrainResult:
        """Train the best spec from scratch with the best trial's options and seed (a table's
        preprocessing is rebuilt on its training rows, as in the search).

        Example:
            >>> again = result.retrain(ds.X, ds.y)  # doctest: +SKIP
            >>> again.val_metrics["loss"] == result.best_metrics["loss"]  # doctest: +SKIP
            True
        """
        options = {**self.best_train_options, **train_options, "seed": self.best_spec.seed}
        if target is not None:
            spec = self.best_spec.to_dict()
            build = {k: v for k, v in spec.items() if k in TABLE_OPTIONS and k != "seed"}  # seed: in options
            return train_table(X, target, problem=self.best_spec.problem, **build, **options)
        return train(build_from_spec(self.best_spec), X, y, **options)


def search(X: Any, y: Any = None, *, trials: int, space: Any = None, objective: str | None = None,
           log_dir: str | os.PathLike = "runs", seed: int = 0, timeout: float | None = None, workers: int = 1,
           storage: str | None = None, target: str | None = None, name: str = "search", verbose: bool = True,
           **train_options: Any) -> SearchResult:
    """Search the template space for the best model on `(X, y)` (or a table's `target`).

    Args:
        X: features (array), or a table (DataFrame, dict of columns, `.csv` path) with `target`.
        y: targets for arrays; None for a table.
        trials: the trial budget of the study (finished trials of a resumed study count).
        space: None (the problem's default, `kerasact.tuning.default_space`), a dict or `Space`,
            or a TOML file (its `[search]` table).
        objective: a validation metric: `"loss"` (the default, minimised: the loss without the L2
            penalty, so trials with different penalties compare fairly), or a score such as
            `"accuracy"`, `"roc_auc"`, `"r2"` (maximised).
        log_dir: parent folder of the study folder `log_dir/name`.
        seed: seeds the sampler, the split and every trial's weights.
        timeout: seconds after which no new trial starts.
        workers: trial processes on this machine, sharing the study's storage.
        storage: an Optuna storage URL (`"sqlite:///study.db"`, a database several machines
            share) or a journal file path; None: `log_dir/name/study.journal`.
        target: the target column of a table `X`.
        name: the study's name and folder.
        verbose: print one line per finished trial.
        **train_options: passed to every trial's `kerasact.train` (`epochs`, `patience`, `val_size`, ...).

    Returns:
        A `SearchResult`.

    Example:
        >>> ds = kerasact.data.load_dataset("breast_cancer")
        >>> result = search(ds.X, ds.y, trials=20, epochs=50, log_dir="runs")  # doctest: +SKIP
        >>> result.best_spec.hidden  # doctest: +SKIP
    """
    checks.check_arguments(trials=trials, workers=workers, timeout=timeout, seed=seed, log_dir=log_dir, name=name,
                           verbose=verbose, y=y, target=target)
    checks.check_train_options(train_options)
    if storage is not None and not isinstance(storage, str):
        raise _errors.invalid("storage", storage, "None, a database URL or a journal file path", kind=TypeError)
    job = _job(X, y, target, trials=trials, space=space, objective=objective or "loss", seed=seed,
               study_dir=Path(log_dir) / name, name=name, storage=storage, timeout=timeout, verbose=verbose,
               train_options=train_options)
    job.study_dir.mkdir(parents=True, exist_ok=True)
    job.storage = _storage(storage, job.study_dir)
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the live table of trials replaces Optuna's log lines
    try:
        return _run(job, name, workers)
    finally:
        optuna.logging.set_verbosity(verbosity)


def _run(job: Job, name: str, workers: int) -> SearchResult:
    current = optuna.create_study(study_name=name, storage=job.storage, load_if_exists=True, pruner=pruner(),
                                  direction="minimize" if job.objective in MINIMIZE else "maximize")
    if current.user_attrs.get("objective", job.objective) != job.objective:
        raise ValueError(f"objective={job.objective!r}, but the study {name!r} in {str(job.study_dir)!r} searched "
                         f"{current.user_attrs['objective']!r}; use another name= or the same objective.")
    if current.user_attrs.get("fingerprint", job.fingerprint) != job.fingerprint:
        raise ValueError(f"the study {name!r} in {str(job.study_dir)!r} searched other data or train options; "
                         "a resumed search needs the same ones: use another name= for this search.")
    current.set_user_attr("fingerprint", job.fingerprint)
    _fail_dead_trials(current)
    run_trials(job, workers)
    found = _result(optuna.load_study(study_name=name, storage=job.storage), job)
    if report.find_runs(job.study_dir):  # the study's leaderboard page, each trial's run linked
        report.compare(job.study_dir)
    return found



def _job(X: Any, y: Any, target: str | None, **kw: Any) -> Job:
    space_arg = kw.pop("space")
    timeout = kw.pop("timeout")
    if target is not None:  # a table: the problem follows the target rule printed by train_table
        frame, values = tabular.split_target(tabular.read_table(X), target)
        problem, counts, _ = tabular.target_plan(values, None)
        input_dim, X, y = len(tabular.infer_schema(frame).features), tabular.read_table(X), None
    else:
        if y is None:
            raise ValueError("search needs targets: pass y=... for arrays, or target='column' for a table.")
        checked = validate(X, y)  # bad input is one clear error before any trial starts
        found = infer_problem(checked.y)
        problem, input_dim = found.problem, checked.X.shape[1]
        counts = {"n_classes": found.n_classes, "n_outputs": found.n_outputs}
    objective = kw["objective"]
    checks.check_objective(objective, problem)
    space = as_space(space_arg, problem, table=target is not None)
    if space_arg is None:  # the default space leaves to the user what the user already chose
        space.dims = {k: v for k, v in space.dims.items() if k not in kw["train_options"]}
    clash = sorted(set(space.dims) & set(kw["train_options"]))
    if clash:
        raise ValueError(f"search: {clash} are both in space= and passed to every trial; give each once.")
    checks.check_space(space, problem, counts, input_dim)
    deadline = None if timeout is None else time.time() + float(timeout)
    return Job(X=X, y=y, target=target, problem=problem, counts=counts, input_dim=input_dim, space=space,
               objective=objective, trials=kw["trials"], seed=kw["seed"], study_dir=kw["study_dir"],
               study_name=kw["name"], storage=kw["storage"], deadline=deadline,
               train_options=kw["train_options"], verbose=kw["verbose"],
               fingerprint=checks.fingerprint(X, y, objective, kw["train_options"]))


def _storage(storage: str | None, study_dir: Path) -> Any:
    """Optuna's storage: a database URL as given, else a journal file (file-locked, so worker
    processes on one machine, or machines sharing the file system, can share it)."""
    if storage is not None and "://" in storage:
        try:
            return optuna.storages.get_storage(storage)
        except Exception as err:  # a missing driver, a bad URL or path, a database that refuses
            raise ValueError(f"storage={storage!r} cannot be opened: {type(err).__name__}: "
                             f"{str(err).splitlines()[0][:120]}") from None
    path = Path(storage) if storage is not None else study_dir / "study.journal"
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))


def _fail_dead_trials(current: optuna.Study) -> None:
    """Trials left running by a process of this machine that no longer exists (a killed search)."""
    here = socket.gethostname()
    # A trial killed between Optuna's ask and its first attribute has no pid: it is dead when every
    # worker that ever ran on the study was on this machine and none is alive.
    workers = [k.split(" ")[1:] for k in current.user_attrs if k.startswith("worker ")]
    none_alive = bool(workers) and all(host == here and not _alive(int(pid)) for host, pid in workers)
    for trial in current.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        pid = trial.user_attrs.get("pid")
        mine = trial.user_attrs.get("host") == here and pid is not None and not _alive(pid)
        if mine or (pid is None and none_alive):
            optuna.Trial(current, trial._trial_id).set_user_attr("error", DIED)
            current.tell(trial.number, state=optuna.trial.TrialState.FAIL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process of that number: alive
        return True
    return True


def _result(current: optuna.Study, job: Job) -> SearchResult:
    table = trials_table(current)
    done = [t for t in current.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        reasons = sorted({t.user_attrs.get("error", t.state.name) for t in current.get_trials(deepcopy=False)})
        raise RuntimeError(f"search: no trial completed ({len(table)} ran); reasons: {reasons[:3]}")
    best = current.best_trial
    spec = ModelSpec.from_dict(best.user_attrs["spec"])
    run_dir = job.study_dir / best.user_attrs["run"]
    spec.save(job.study_dir / "best.toml")
    with open(job.study_dir / "best.toml", "a", encoding="utf-8") as handle:
        handle.write(f"# best trial {best.number} ({job.objective} = {best.value:.6g}); train options: "
                     f"{best.user_attrs.get('train_options', {})}\n")
    model = None
    if (run_dir / "model.keras").exists():  # with a database shared by machines it may have run on another
        shutil.copyfile(run_dir / "model.keras", job.study_dir / "best.keras")
        model = load_model(job.study_dir / "best.keras")
    return SearchResult(best_spec=spec, best_model=model,
                        best_metrics=dict(best.user_attrs["val_metrics"]),
                        test_metrics=dict(best.user_attrs["test_metrics"]),
                        best_train_options={**job.train_options, **best.user_attrs.get("train_options", {})},
                        trials=table, study=current, study_dir=job.study_dir)


def trials_table(current: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, value, seconds, memory, params, validation metrics, error.

    Example:
        >>> trials_table(result.study)[["number", "state", "value"]]  # doctest: +SKIP
    """
    rows = []
    for t in current.get_trials(deepcopy=False):
        row = {"number": t.number, "state": t.state.name, "value": t.value, "run": t.user_attrs.get("run"),
               "seconds": t.user_attrs.get("seconds"), "epochs": t.user_attrs.get("epochs"),
               "rss_mb": t.user_attrs.get("rss_mb"), "peak_rss_mb": t.user_attrs.get("peak_rss_mb")}
        row |= {f"param_{k}": v for k, v in t.params.items()}
        row |= {f"val_{k}": v for k, v in t.user_attrs.get("val_metrics", {}).items()}
        row["error"] = t.user_attrs.get("error")
        rows.append(row)
    return pd.DataFrame(rows)

