"""A log directory → `report.html` comparing every finished run under it: a sortable leaderboard
(the settings that differ between runs, test metrics, time), the best run of each recipe and problem
marked,
each run linked to its own page. `kerasact search` leaves one in its study folder."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kerasact.report import _html as H
from kerasact.report.run_page import REPORT_FILE, RUN_FILE

DEPTH = 5  # runs are found this many folder levels below the log directory at most (`<study>/<trial>/...`)
HEADLINE = ("accuracy", "r2", "f1_macro", "binary_accuracy")  # the first of these a run has ranks it (higher wins)
SHOWN_METRICS = ("accuracy", "r2", "roc_auc", "log_loss", "f1_macro", "rmse", "mae", "loss")
SKIPPED_SETTINGS = ("recipe", "problem")  # columns of their own


def find_runs(log_dir: Path, depth: int = DEPTH) -> list[tuple[Path, dict[str, Any]]]:
    """(run directory, metrics.json) of each finished kerasact run below `log_dir`, by path; hidden
    folders and links are skipped, damaged files left out.

    Example:
        >>> [path.name for path, _ in find_runs(Path("runs"))]  # doctest: +SKIP
        ['20261207-101500-relu-64-1a2b']
    """
    found: list[tuple[Path, dict[str, Any]]] = []
    try:
        entries = sorted(os.scandir(log_dir), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
            continue
        folder = Path(entry.path)
        try:
            data = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and data.get("problem") and isinstance(data.get("hparams"), dict):
            found.append((folder, data))
        elif depth > 1:
            found += find_runs(folder, depth - 1)
    return found


def _headline(run: dict[str, Any]) -> tuple[str, float] | None:
    """The run's first `HEADLINE` test metric with a finite value (a NaN R² never ranks)."""
    test = run.get("test") or {}
    return next(((m, test[m]) for m in HEADLINE if isinstance(test.get(m), (int, float)) and math.isfinite(test[m])),
                None)


def _rank(run: dict[str, Any]) -> tuple[float, float] | None:
    """How a run ranks among its rivals: its headline, then (ties are common in accuracy on small
    test sets) the lower held-out log-loss, else the lower loss."""
    found = _headline(run)
    if found is None:
        return None
    test = run.get("test") or {}
    second = next((test[m] for m in ("log_loss", "loss") if isinstance(test.get(m), (int, float))
                   and math.isfinite(test[m])), 0.0)
    return found[1], -second


def _group(path: Path, run: dict[str, Any]) -> tuple[str, str]:
    """Runs that compete: the same recipe (a data file's name, a recipe, a study) and problem."""
    return str(run["hparams"].get("recipe", path.parent.name)), str(run["problem"])


def compare(log_dir: str | os.PathLike) -> Path:
    """Write `log_dir/report.html`, the leaderboard of the runs below `log_dir`; returns its path.

    Example:
        >>> compare("runs")  # doctest: +SKIP
        PosixPath('runs/report.html')
    """
    log_dir = Path(log_dir)
    runs = find_runs(log_dir)
    if not runs:
        raise ValueError(f"log_dir={str(log_dir)!r} holds no finished kerasact run (a folder with {RUN_FILE}) in "
                         f"its {DEPTH} levels below: pass the --log-dir of `kerasact train` or a search's study "
                         f"folder.")
    settings: dict[str, set[str]] = {}
    for _, run in runs:
        for key, value in run["hparams"].items():
            settings.setdefault(key, set()).add(repr(value))
    differing = [k for k, seen in settings.items() if len(seen) > 1 and k not in SKIPPED_SETTINGS]
    metrics = [m for m in SHOWN_METRICS if any(m in (run.get("test") or {}) for _, run in runs)]
    best: dict[tuple[str, str], tuple[float, float]] = {}
    rivals = Counter(_group(path, run) for path, run in runs)  # a run alone in its group is nobody's best
    for path, run in runs:
        rank = _rank(run)
        if rank is not None:
            best[_group(path, run)] = max(best.get(_group(path, run), rank), rank)
    rows, marked, keys = [], [], []
    for path, run in runs:
        name = path.relative_to(log_dir).as_posix()
        page = path / REPORT_FILE
        # A relative URL, each part percent-encoded: a folder named "a#1" or "javascript:x" stays a path.
        href = "./" + quote((page.relative_to(log_dir)).as_posix())
        link = H.Raw(f'<a href="{H.esc(href)}">{H.esc(name)}</a>') if page.is_file() else name
        test, rank = run.get("test") or {}, _rank(run)
        seconds = run.get("train_seconds")
        seconds = f"{seconds:.1f}" if isinstance(seconds, (int, float)) else None
        rows.append([link, run["hparams"].get("recipe", path.parent.name), run["problem"],
                     *(test.get(m) for m in metrics), run.get("epochs_run"), seconds,
                     *(H.setting(run["hparams"].get(k, "")) for k in differing)])
        keys.append([None] * 3 + [f"{name}:test.{m}" for m in metrics] + [None] * (2 + len(differing)))
        marked.append(rank is not None and rivals[_group(path, run)] > 1 and rank == best.get(_group(path, run)))
    head = ["run", "recipe", "problem", *(f"test {m}" for m in metrics), "epochs", "seconds", *differing]
    intro = (f"<p>{len(runs)} runs below <code>{H.esc(log_dir)}</code>. Click a column to sort; the best run of each "
             f"recipe and problem (by test {' / '.join(HEADLINE[:2])}, then log-loss) is marked green. Settings "
             f"shown are those that differ between runs.</p>")
    board = H.table(head, rows, sortable=True, keys=keys, marked=marked)
    text = H.page(f"kerasact runs: {log_dir.resolve().name}", [f"{len(runs)} runs · {log_dir}"],
                  [("leaderboard", "Leaderboard", intro + board)])
    target = log_dir / REPORT_FILE
    staging = target.with_name(f".{REPORT_FILE}.{os.getpid()}.tmp")
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, target)
    return target
