"""A trial process of `search(..., workers=N)`: `python -m kerasact.tuning.worker JOB INDEX`.

It reads the job the search pickled into its study folder and runs trials against the same
storage until the study's budget or deadline is spent.
"""

from __future__ import annotations

import pickle
import sys

from kerasact._quiet import quiet_tensorflow

quiet_tensorflow(False)  # before TensorFlow loads: a worker's start-up lines would interleave with the table

from kerasact.tuning.trials import work  # noqa: E402


def main(argv: list[str]) -> int:
    """Run as worker `INDEX` of the job in the file `JOB`.

    Example:
        >>> main(["runs/search/job.pkl", "1"])  # doctest: +SKIP
    """
    path, index = argv
    with open(path, "rb") as handle:  # written by this search's own process, in its study folder
        job = pickle.load(handle)  # noqa: S301
    work(job, int(index))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
