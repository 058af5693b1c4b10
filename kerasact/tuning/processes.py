"""Where trials run: in the search's own process, or in worker processes that are replaced
after `TRIALS_PER_PROCESS` trials.

Keras keeps about 6 MB per trained model even after `keras.backend.clear_session()` (measured
on Keras 3.15.1 / TF 2.21 with plain `Sequential.fit`; keras-team/keras#17458, open), so a
long search in one process would grow without bound. Short single-process searches run in
place; longer ones, and every `workers=N` search, run in worker processes
(`python -m kerasact.tuning.worker JOB INDEX`), which the search replaces as they finish
their share, so memory stays bounded whatever the budget.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import time

from kerasact.tuning.trials import Job, counted, study, work

TRIALS_PER_PROCESS = 20      # trials before a worker process is replaced (~6 MB kept per trial)
GRACE = 600                  # seconds a worker may run past the deadline (its last trial) before it is killed
POLL = 0.5                   # seconds between looks at the workers
MAX_FAILURES = 3             # worker processes that may exit with an error before the search stops


def run_trials(job: Job, workers: int) -> None:
    """Run the study's remaining trials on `workers` processes (this one, for a short search).

    Example:
        >>> run_trials(job, workers=2)  # doctest: +SKIP
    """
    job.trials_per_process = TRIALS_PER_PROCESS
    if workers == 1 and job.trials <= TRIALS_PER_PROCESS:
        work(job, 0)
        return
    path = job.study_dir / "job.pkl"
    with open(path, "wb") as handle:  # the search's own data, read back only by its own workers
        pickle.dump(job, handle)
    procs: list[subprocess.Popen] = []
    started, failures = 0, 0
    try:
        while True:
            for proc in [p for p in procs if p.poll() is not None]:
                procs.remove(proc)
                failures += proc.returncode != 0
                if failures > MAX_FAILURES:
                    raise RuntimeError(f"search: {failures} worker processes failed (last exit code "
                                       f"{proc.returncode}); their error is printed above.")
            wanted = _budget_left(job)
            if not wanted and not procs:
                return
            while wanted and len(procs) < workers:
                procs.append(subprocess.Popen([sys.executable, "-m", "kerasact.tuning.worker", str(path),
                                               str(started)]))
                started += 1
            if job.deadline is not None and time.time() > job.deadline + GRACE:
                return
            time.sleep(POLL)
    finally:
        for proc in procs:  # interrupted, or past the deadline's grace: no orphan workers
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        path.unlink(missing_ok=True)  # a copy of the data: not left behind


def _budget_left(job: Job) -> bool:
    if job.deadline is not None and time.time() >= job.deadline:
        return False
    return counted(study(job)) < job.trials
