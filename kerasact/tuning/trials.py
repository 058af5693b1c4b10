"""Running trials: a worker asks the study for trials until the budget or the deadline is
spent; each trial samples the space, trains one kerasact run (its own run directory, its
hyperparameters in TensorBoard's HParams) and is told back as complete, pruned or failed.

A worker is the search's own process or one started by `workers=N`
(`python -m kerasact.tuning.worker JOB INDEX`); they share the study through its storage.
"""

from __future__ import annotations

import gc
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import optuna

from kerasact.model import ModelSpec, build_from_spec
from kerasact.training import train, train_table
from kerasact.tuning.hparams import hparam_value
from kerasact.tuning.space import SPEC_OPTIONS, TRAIN_OPTIONS, Space

# The per-epoch Keras log the pruner watches for an objective ("loss": val_loss less the L2 penalty).
PRUNE_ON = {"roc_auc": "val_auc"}


@dataclass
class Job:
    """Everything a worker needs, pickled once into the study folder for worker processes."""

    X: Any
    y: Any
    target: str | None          # a table's target column (tables), else None (arrays)
    problem: str
    counts: dict[str, int | None]
    input_dim: int
    space: Space
    objective: str
    trials: int
    seed: int
    study_dir: Path
    study_name: str
    storage: Any
    deadline: float | None      # time.time() after which no new trial starts
    train_options: dict[str, Any] = field(default_factory=dict)
    verbose: bool = True
    fingerprint: str = ""
    trials_per_process: int | None = None  # a worker process's share before it is replaced


class Pruning(keras.callbacks.Callback):
    """Reports the validation objective each epoch; stops the run when Optuna's pruner says so."""

    def __init__(self, trial: optuna.Trial, objective: str) -> None:
        super().__init__()
        self.trial, self.objective, self.pruned = trial, objective, False
        self.monitor = PRUNE_ON.get(objective, f"val_{objective}")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is None:  # no per-epoch Keras log of this objective (r2): nothing to prune on
            return
        if self.objective == "loss":  # Keras's val_loss includes the L2 penalty: compare the data loss
            value = float(value) - float(sum(float(x) for x in self.model.losses))
        self.trial.report(float(value), epoch)
        if self.trial.should_prune():
            self.pruned = True
            self.model.stop_training = True


def study(job: Job) -> optuna.Study:
    return optuna.load_study(study_name=job.study_name, storage=job.storage, pruner=pruner())


def pruner() -> optuna.pruners.BasePruner:
    # Median pruning once 3 trials finished, judging from the 5th epoch on: a trial whose
    # validation curve is worse than the median of earlier trials at the same epoch stops.
    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=5)


def work(job: Job, worker: int = 0) -> None:
    """Ask for and run trials until the study holds `job.trials` of them, this process has run its
    share (`job.trials_per_process`), or the deadline passes."""
    current, done = study(job), 0
    current.set_user_attr(f"worker {socket.gethostname()} {os.getpid()}", time.time())  # see study._fail_dead_trials
    while (job.deadline is None or time.time() < job.deadline) and done < (job.trials_per_process or job.trials):
        started = counted(current)
        if started >= job.trials:
            break
        # Seeded by (seed, worker, trials so far): the same seed gives the same sequence of trials,
        # and other seeds other sequences (not shifted copies of it).
        state = int(np.random.SeedSequence([job.seed, worker, started]).generate_state(1)[0])
        current.sampler = optuna.samplers.TPESampler(seed=state,
                                                     n_startup_trials=min(10, max(3, job.trials // 3)))
        trial = current.ask()
        try:
            state, value = run(trial, job)
        except BaseException:  # the user's mistake (a wrong objective) or an interrupt: not left running
            current.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        current.tell(trial, value, state=state)
        done += 1
        if state == optuna.trial.TrialState.COMPLETE:  # the objective is a real metric: a resumed search must match it
            current.set_user_attr("objective", job.objective)
        if job.verbose:
            print(line(current.get_trials(deepcopy=False)[trial.number]), flush=True)


DIED = "its process died (the search was killed)"  # a trial that does not count against the budget


def counted(current: optuna.Study) -> int:
    """Trials that count against the budget: all but those a killed process left behind."""
    return sum(t.user_attrs.get("error") != DIED for t in current.get_trials(deepcopy=False))


def run(trial: optuna.Trial, job: Job) -> tuple[optuna.trial.TrialState, float | None]:
    """One trial: sample, train, record; returns its state and objective value."""
    trial.set_user_attr("pid", os.getpid())
    trial.set_user_attr("host", socket.gethostname())
    options = job.space.sample(trial)
    name = trial_name(trial.number, options)
    trial.set_user_attr("run", name)
    build = {k: v for k, v in options.items() if k in SPEC_OPTIONS or k == "hidden"}
    sampled = {k: v for k, v in options.items() if k in TRAIN_OPTIONS}
    run_options = {**job.train_options, **sampled}
    trial.set_user_attr("train_options", sampled)  # the rest are the search's own train options
    # Only what this trial sampled (no width_3 when depth is 2), as values HParams takes (None as text).
    hparams = {k: hparam_value(v) for k, v in trial.params.items()}
    pruning = Pruning(trial, job.objective)
    started = time.perf_counter()
    try:
        spec = ModelSpec(job.problem, job.input_dim, **job.counts, seed=job.seed,
                         **{"normalize": job.target is None, **build})  # arrays are standardised unless the space says
        trial.set_user_attr("spec", spec.to_dict())
        # No per-epoch backup: a trial killed mid-way is failed and the budget runs another (~25 ms an epoch saved).
        # log_dir: the search's own, whose one HParams config lists the trials beside the other runs there.
        common = dict(seed=job.seed, run_dir=job.study_dir / name, log_dir=job.study_dir.parent, hparams=hparams,
                      recipe=job.study_dir.name, callbacks=[pruning], verbose=0, backup=False)
        if job.target is not None:  # a table: its preprocessing is adapted on the training rows
            # refit=False: trials are compared on their validation rows, and Optuna takes each epoch once.
            result = train_table(job.X, job.target, problem=job.problem, refit=False, **build, **common,
                                 **run_options)
            # The spec as built (the preset's defaults under the sampled fields), not the bare ModelSpec's.
            trial.set_user_attr("spec", result.model.kerasact_spec.to_dict())
        else:
            result = train(build_from_spec(spec), job.X, job.y, **common, **run_options)
    except (FloatingPointError, ValueError, TypeError) as err:  # a NaN loss, a bad combination
        trial.set_user_attr("error", f"{type(err).__name__}: {err}"[:500])
        return optuna.trial.TrialState.FAIL, None
    finally:
        keras.backend.clear_session()  # trials must not accumulate graphs: memory stays flat
        gc.collect()
        trial.set_user_attr("seconds", round(time.perf_counter() - started, 3))
        trial.set_user_attr("rss_mb", _memory_mb("VmRSS"))
        trial.set_user_attr("peak_rss_mb", _memory_mb("VmHWM"))
    val_metrics = {**result.val_metrics, "data_loss": _data_loss(result)}
    trial.set_user_attr("val_metrics", val_metrics)
    trial.set_user_attr("test_metrics", result.metrics)
    trial.set_user_attr("epochs", result.epochs_run)
    if pruning.pruned:
        return optuna.trial.TrialState.PRUNED, None
    return optuna.trial.TrialState.COMPLETE, float(val_metrics["data_loss" if job.objective == "loss" else
                                                               job.objective])


def _data_loss(result: Any) -> float:
    """The validation loss without the L2 penalty (Keras's `loss` adds `model.losses`)."""
    penalty = float(sum(float(x) for x in result.model.losses))
    return float(result.val_metrics["loss"]) - penalty


def trial_name(number: int, options: dict[str, Any]) -> str:
    """A run name that says what the trial is: `trial-007 depth=2 relu lr=3e-3`.

    Example:
        >>> trial_name(7, {"hidden": [(64, "relu"), (32, "relu")], "learning_rate": 0.003})
        'trial-007 depth=2 relu lr=3e-03'
    """
    acts = list(dict.fromkeys(act for _, act in options["hidden"]))
    parts = [f"trial-{number:03d}", f"depth={len(options['hidden'])}", "+".join(acts)]
    if options.get("learning_rate") is not None:
        parts.append(f"lr={options['learning_rate']:.0e}")
    return " ".join(parts)


def line(trial: optuna.trial.FrozenTrial) -> str:
    """One line of the live table of trials."""
    value = "" if trial.value is None else f"{trial.value:.4f}"
    extra = trial.user_attrs.get("error", "")[:60]
    return (f"{trial.number:>4}  {trial.state.name:<8} {value:>8}  {trial.user_attrs.get('seconds', 0):>6.1f}s  "
            f"{trial.user_attrs.get('run', '')}  {extra}").rstrip()


def _memory_mb(field_name: str) -> float | None:
    try:
        for text in Path("/proc/self/status").read_text().splitlines():
            if text.startswith(field_name + ":"):
                return round(int(text.split()[1]) / 1024, 1)
    except OSError:  # not Linux: no /proc
        return None
    return None
