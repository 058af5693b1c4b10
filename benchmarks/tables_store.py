"""The results file of `tables_suite.py`, `results/tables_suite.json`: one cell per (table, seed,
contender), merged in under a lock and written atomically as each is done, so a long run resumes
where it stopped and two runs at once keep each other's cells.

A cell holds its metrics (or the reason it failed), its fit seconds, the rows, the load average
as it began, and the `version` it ran at (`tables_contenders.version`); a cell is written as
"running" before its fit, so one whose process died is known on the next run.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "tables_suite.json"
MAX_ATTEMPTS = 2  # a cell found still running this often (its process died in it) counts as failed


def cell_key(table: str, seed: int, contender: str) -> str:
    return f"{table} | {seed} | {contender}"


def read() -> dict:
    """{"machine": the last run's machine, "cells": {key: cell}}."""
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {"machine": None, "cells": {}}


@contextlib.contextmanager
def _locked():
    """Hold the results file's lock: two runs at once merge their cells instead of losing them."""
    RESULTS.parent.mkdir(exist_ok=True)
    with open(Path(tempfile.gettempdir()) / "kerasact-tables_suite.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def save(cell: dict | None = None, machine: dict | None = None) -> None:
    """Merge one cell (and the run's machine) into the results file, atomically."""
    with _locked():
        stored = read()
        if cell is not None:
            stored["cells"][cell_key(cell["table"], cell["seed"], cell["contender"])] = cell
        if machine is not None:
            stored["machine"] = machine
        part = RESULTS.with_suffix(".part")
        part.write_text(json.dumps(stored, indent=1, sort_keys=True))
        part.replace(RESULTS)


def alive(cell: dict) -> bool:
    """Whether the process that wrote this running cell still runs (another run is fitting it)."""
    try:
        os.kill(cell["pid"], 0)
    except (OSError, KeyError):
        return False
    return cell["pid"] != os.getpid()


def died(cell: dict) -> bool:
    """A cell whose process died in its fit `MAX_ATTEMPTS` times: a failure, not tried again."""
    return cell["status"] == "running" and not alive(cell) and cell.get("attempts", 1) >= MAX_ATTEMPTS


def reusable(cell: dict | None, version: str) -> bool:
    """A saved cell of the same code that needs no run: done, failed, died, or being run elsewhere."""
    if cell is None or cell["version"] != version:
        return False
    return cell["status"] != "running" or alive(cell) or died(cell)
