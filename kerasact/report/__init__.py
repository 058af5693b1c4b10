"""A run directory → one self-contained `report.html` (images inline, no network), and a log
directory → one page comparing its runs. Reads the files a run left (no TensorFlow)."""

from __future__ import annotations

import os
from pathlib import Path

from kerasact.report.figures import OUTPUTS_FILE
from kerasact.report.leaderboard import compare, find_runs
from kerasact.report.run_page import BASELINES_FILE, REPORT_FILE, RUN_FILE, build_run, read_run


def build(path: str | os.PathLike) -> Path:
    """(Re)build the report of `path`: a run directory's own page, or the page comparing every run
    under a log directory; returns the `report.html` written.

    Example:
        >>> build("runs")  # doctest: +SKIP
        PosixPath('runs/report.html')
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"path={str(path)!r} does not exist: pass a run directory (runs/<recipe>/<run>) or a log "
                         f"directory (runs) to compare its runs.")
    if not path.is_dir():
        raise ValueError(f"path={str(path)!r} is not a folder: pass a run directory (runs/<recipe>/<run>) or a log "
                         f"directory (runs) to compare its runs.")
    return build_run(path) if (path / RUN_FILE).is_file() else compare(path)


__all__ = ["BASELINES_FILE", "OUTPUTS_FILE", "REPORT_FILE", "RUN_FILE", "build", "build_run", "compare", "find_runs",
           "read_run"]
