"""The report of `tables_suite.py`: per-table metrics, the aggregates against HistGradientBoosting,
and issue 25's targets checked for the `kerasact` row, as markdown.

Only saved cells of the code as it is now count (`tables_contenders.version`); a table's number is
the mean over the seeds a contender finished. Aggregates, each contender over the tables it and
the reference both finished, on the seeds both finished:
- error = 1 − accuracy (classes) or RMSE ÷ std(y_test) (regression); an error of 0 counts as half a
  test row wrong (1 ÷ (2 · test rows)), so a perfect score on a small table stays a finite ratio;
- error ÷ HGB's: the geometric mean over tables of the contender's mean error ÷ HistGradientBoosting's;
- wins: tables where its mean error is below HistGradientBoosting's;
- below linear: tables where its accuracy is more than 0.02 (R² more than 0.03) below logistic/ridge's;
- log-loss ÷ HGB's: the geometric mean over the classification tables;
- fit s / 1k rows: all its fit seconds ÷ all its training rows × 1,000.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import tables_contenders
import tables_store

REFERENCE, LINEAR, SUBJECT = "HistGradientBoosting", "logistic/ridge", "kerasact"
MARGINS = {"classification": ("accuracy", 0.02), "regression": ("r2", 0.03)}  # below linear: metric, margin
TARGETS = {"error_ratio": 0.95, "wins": 0.60, "log_loss_ratio": 1.0}  # issue 25
README_HEADING = "## Development tables"
START, END = "<!-- tables_suite:start -->", "<!-- tables_suite:end -->"


def current(stored: dict, tables: list, seeds: tuple[int, ...]) -> tuple[dict, list[str]]:
    """{(table, contender): {seed: cell}} of the chosen tables and seeds (done or failed), and notes.

    Per contender, the cells of one version: today's code if it has any, else the newest saved (a
    report written after kerasact changed shows the run that was made, and says so)."""
    keys, versions = {t.key for t in tables}, defaultdict(lambda: defaultdict(list))
    for cell in stored["cells"].values():
        if cell["table"] in keys and cell["seed"] in seeds and cell["contender"] in tables_contenders.CONTENDERS:
            versions[cell["contender"]][cell["version"]].append(cell)
    chosen, notes = defaultdict(dict), []
    for name, saved in versions.items():
        today = tables_contenders.version(name)
        picked = today if today in saved else max(saved, key=lambda v: max(c["date"] for c in saved[v]))
        if picked != today:
            other = [part for part in picked.split(", ") if part not in today.split(", ")]
            notes.append(f"{name}: its cells ran at {', '.join(other)}, not today's code or packages")
        left = sum(len(cells) for version, cells in saved.items() if version != picked)
        if left:
            notes.append(f"{name}: {left} saved cells of other versions left out")
        for cell in saved[picked]:
            if tables_store.died(cell):
                cell = {**cell, "reason": "the process died in it"}
            elif cell["status"] == "running":
                continue
            chosen[cell["table"], name][cell["seed"]] = cell
    return chosen, notes


def _done(cells: dict) -> dict:
    return {seed: c for seed, c in cells.items() if c["status"] == "done"}


def _pair(chosen: dict, table: str, a: str, b: str, metric: str) -> tuple[float, float] | None:
    """Both contenders' mean `metric` on the seeds both finished, or None."""
    mine, theirs = _done(chosen.get((table, a), {})), _done(chosen.get((table, b), {}))
    seeds = sorted(set(mine) & set(theirs))
    if not seeds:
        return None
    return float(np.mean([mine[s][metric] for s in seeds])), float(np.mean([theirs[s][metric] for s in seeds]))


def _errors(chosen: dict, table: str, a: str, b: str) -> tuple[float, float] | None:
    """Both mean errors on the seeds both finished, an error of 0 counted as half a test row wrong."""
    pair = _pair(chosen, table, a, b, "error")
    if pair is None:
        return None
    n_test = next(iter(_done(chosen[table, a]).values()))["n_test"]
    return max(pair[0], 1 / (2 * n_test)), max(pair[1], 1 / (2 * n_test))


def _geo(values: list[float]) -> float | None:
    return float(np.exp(np.mean(np.log(values)))) if values else None


def aggregates(chosen: dict, tables: list, name: str) -> dict:
    """One contender's row of the aggregates table (see the module docstring)."""
    ratios, wins, below, losses, seconds, rows = [], 0, [], [], 0.0, 0
    for table in tables:
        pair = _errors(chosen, table.key, name, REFERENCE)
        if pair:
            mine, theirs = pair
            ratios.append(mine / theirs)
            wins += mine < theirs
        metric, margin = MARGINS[table.problem]
        linear = _pair(chosen, table.key, name, LINEAR, metric)
        if linear and linear[0] < linear[1] - margin:
            below.append(table.key)
        logs = _pair(chosen, table.key, name, REFERENCE, "log_loss") if table.problem == "classification" else None
        if logs:
            losses.append(logs[0] / logs[1])
        for cell in _done(chosen.get((table.key, name), {})).values():
            seconds, rows = seconds + cell["fit_seconds"], rows + cell["n_train"]
    return {"error_ratio": _geo(ratios), "wins": wins, "tables": len(ratios), "below_linear": below,
            "log_loss_ratio": _geo(losses), "fit_rate": 1000 * seconds / rows if rows else None}


def fit_rates(chosen: dict, a: str, b: str) -> tuple[float, float, int] | None:
    """Both contenders' fit seconds per 1,000 training rows over the cells both finished."""
    pairs = [(_done(cells), _done(chosen.get((table, b), {}))) for (table, name), cells in chosen.items() if name == a]
    common = [(mine[s], theirs[s]) for mine, theirs in pairs for s in set(mine) & set(theirs)]
    if not common:
        return None
    rows = sum(m["n_train"] for m, _ in common)
    return (1000 * sum(m["fit_seconds"] for m, _ in common) / rows,
            1000 * sum(t["fit_seconds"] for _, t in common) / rows, len(common))


def targets(chosen: dict, tables: list, rows: dict) -> list[str]:
    """Issue 25's targets for the `kerasact` row: one line each, met or not, with its numbers."""
    if SUBJECT not in rows:
        return [f"No `{SUBJECT}` cells in this selection: no targets to check."]
    mine = rows[SUBJECT]

    def line(text: str, met: bool | None) -> str:
        return f"- {text}: " + ("n/a" if met is None else "**met**" if met else "**not met**")
    ratio, losses = mine["error_ratio"], mine["log_loss_ratio"]
    covered = [t for t in tables if _done(chosen.get((t.key, SUBJECT), {}))]
    partial = ([f"- **partial**: `{SUBJECT}` has results on {len(covered)} of {len(tables)} tables; the lines below "
                "speak for those only."] if len(covered) < len(tables) else [])
    catboost, catboost_tables = rows.get("CatBoost", {}).get("error_ratio"), rows.get("CatBoost", {}).get("tables")
    out = [*partial, line(f"error ÷ HGB's ≤ {TARGETS['error_ratio']}: {_num(ratio)}", None if ratio is None
                else ratio <= TARGETS["error_ratio"]),
           line(f"below CatBoost's: {_num(ratio)} against {_num(catboost)} (over {mine['tables']} and "
                f"{catboost_tables or 0} tables)",
                None if ratio is None or catboost is None else ratio < catboost),
           line(f"better than HGB on ≥ {TARGETS['wins']:.0%} of tables: {mine['wins']} of {mine['tables']}",
                None if not mine["tables"] else mine["wins"] >= TARGETS["wins"] * mine["tables"]),
           line(f"no table below the linear baseline: {len(mine['below_linear'])}"
                + (f" ({', '.join(mine['below_linear'])})" if mine["below_linear"] else ""), not mine["below_linear"]),
           line(f"log-loss ÷ HGB's ≤ {TARGETS['log_loss_ratio']}: {_num(losses)}",
                None if losses is None else losses <= TARGETS["log_loss_ratio"])]
    rates = fit_rates(chosen, SUBJECT, "RealMLP-TD")
    out.append(line("fit s / 1k rows ≤ RealMLP-TD's: " + (f"{rates[0]:.2f} against {rates[1]:.2f} ({rates[2]} cells)"
                                                          if rates else "no common cells"),
                    None if rates is None else rates[0] <= rates[1]))
    against = [p[0] / p[1] for t in tables if (p := _errors(chosen, t.key, SUBJECT, "RealMLP-TD"))]
    out.append(f"- (for reference) error ÷ RealMLP-TD's: {_num(_geo(against))} over {len(against)} tables")
    return out


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


class Notes:
    """Footnotes for the cells that failed: one per (contender, reason), listing where."""

    def __init__(self) -> None:
        self.notes: dict[tuple[str, str], list[str]] = {}

    def mark(self, name: str, table: str, cells: dict) -> str:
        failed = [c for c in cells.values() if c["status"] != "done"]
        marks = []
        for cell in failed:
            key = (name, cell["reason"])
            self.notes.setdefault(key, [])
            if f"{table} seed {cell['seed']}" not in self.notes[key]:
                self.notes[key].append(f"{table} seed {cell['seed']}")
            marks.append(list(self.notes).index(key) + 1)
        return "".join(f"[{m}]" for m in sorted(set(marks)))

    def lines(self) -> list[str]:
        return [f"{i}. {name}: {reason} ({', '.join(where)})"
                for i, ((name, reason), where) in enumerate(self.notes.items(), 1)]


def _metric_table(chosen: dict, tables: list, names: list[str], shapes: dict, notes: Notes, metrics: tuple,
                  digits: tuple) -> list[str]:
    lines = ["| table | rows × columns | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for table in tables:
        means = {}
        for name in names:
            done = _done(chosen.get((table.key, name), {}))
            if done:
                means[name] = [float(np.mean([c[m] for c in done.values()])) for m in (*metrics, "error")]
        best = min((v[-1] for v in means.values()), default=None)
        cells = []
        for name in names:
            text = " / ".join(f"{v:.{d}f}" for v, d in zip(means[name], digits)) if name in means else "-"
            text = f"**{text}**" if name in means and means[name][-1] == best else text
            cells.append(text + notes.mark(name, table.key, chosen.get((table.key, name), {})))
        rows, columns, classes = shapes[table.key]
        label = f"{table.key} ({classes} classes)" if classes else table.key
        lines.append(f"| {label} | {rows:,} × {columns} | " + " | ".join(cells) + " |")
    return lines


def _speed_table(chosen: dict, tables: list, names: list[str]) -> list[str]:
    lines = ["| table | training rows | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for table in tables:
        cells, n_train = [], "-"
        for name in names:
            done = _done(chosen.get((table.key, name), {}))
            n_train = next((f"{c['n_train']:,}" for c in done.values()), n_train)
            cells.append(_num(float(np.mean([1000 * c["fit_seconds"] / c["n_train"] for c in done.values()])), 2)
                         if done else "-")
        lines.append(f"| {table.key} | {n_train} | " + " | ".join(cells) + " |")
    return lines


def report(stored: dict, tables: list, seeds: tuple[int, ...], shapes: dict, missing: list[str]) -> str:
    chosen, stale = current(stored, tables, seeds)
    names = [n for n in tables_contenders.CONTENDERS if any(name == n for (_, name) in chosen)]
    machine, notes = stored.get("machine") or {}, Notes()
    versions = ", ".join(f"{k} {machine.get(k)}" for k in ("tensorflow", "keras", "scikit-learn", "lightgbm",
                                                           "catboost", "pytabkit", "torch") if machine.get(k))
    done = sum(len(_done(cells)) for cells in chosen.values())
    lines = [f"Run {machine.get('date', '?')} on {machine.get('cpu', '?')} ({machine.get('cores', '?')} cores); "
             f"Python {machine.get('python', '?')}, {versions}. {len(tables)} tables × seeds "
             f"{', '.join(map(str, seeds))}: seeded 80/20 splits (stratified for classes), training rows capped at "
             f"10,000, every test row scored; each number the mean over the seeds. {done} cells done"
             + f"; load average {_num((machine.get('load_average_start') or [None])[0], 1)} as the last run began; "
             f"threads per contender: {tables_contenders.THREADS or 'library defaults'}.", ""]
    for problem, title, metrics, digits in (
            ("classification", "Classification: accuracy / log-loss", ("accuracy", "log_loss"), (3, 3)),
            ("regression", "Regression: R² / RMSE ÷ std(y)", ("r2", "rmse_std"), (3, 3))):
        chosen_tables = [t for t in tables if t.problem == problem]
        if chosen_tables and names:
            lines += [f"**{title}** (bold: the lowest error in the row)", "",
                      *_metric_table(chosen, chosen_tables, names, shapes, notes, metrics, digits), ""]
    rows = {name: aggregates(chosen, tables, name) for name in names}
    lines += ["**Fit seconds per 1,000 training rows**", "", *_speed_table(chosen, tables, names), "",
              "**Aggregates** (error: 1 − accuracy, or RMSE ÷ std; ratios are geometric means over tables of "
              "the mean over seeds; below linear: accuracy −0.02 or R² −0.03 under logistic/ridge)", "",
              "| contender | error ÷ HGB's | wins vs HGB | below linear | log-loss ÷ HGB's | fit s / 1k rows |",
              "|---|---|---|---|---|---|"]
    for name, row in rows.items():
        lines.append(f"| {name} | {_num(row['error_ratio'])} | {row['wins']} of {row['tables']} | "
                     f"{len(row['below_linear'])} | {_num(row['log_loss_ratio'])} | {_num(row['fit_rate'], 2)} |")
    lines += ["", f"**Targets (issue 25) for `{SUBJECT}`**", "", *targets(chosen, tables, rows)]
    if notes.notes or missing:
        lines += ["", "Not measured:", "", *notes.lines(), *(f"- not loaded: {m}" for m in missing)]
    if stale:
        lines += ["", "Versions:", "", *(f"- {line}" for line in stale)]
    return "\n".join(lines)


def paste_readme(readme: Path, text: str) -> None:
    """Put `text` between the markers (the project README keeps them in its own section), adding
    a `README_HEADING` section at the end if they are missing."""
    body = readme.read_text()
    if START not in body:
        body = body.rstrip("\n") + "\n\n" + "\n".join([
            README_HEADING, "",
            "`tables_suite.py` runs kerasact's default and plain stack, logistic/ridge, HistGradientBoosting,",
            "LightGBM, CatBoost and pytabkit's RealMLP-TD, untuned, on issue 25's development tables, 3 seeded",
            "80/20 splits each, one thread per contender (`pip install -e '.[bench]'`; see its docstring). Each",
            "cell is cached in `results/tables_suite.json` with the versions it ran at, so a run resumes, and",
            "after a change to kerasact only its rows run again.", "",
            "```bash",
            ".venv/bin/python benchmarks/tables_suite.py                  # hours on 2 cores; resumes",
            ".venv/bin/python benchmarks/tables_suite.py --quick          # 2 tables, 1 seed: a smoke test",
            ".venv/bin/python benchmarks/tables_suite.py --report-only --readme   # paste the saved cells' table",
            "```", "", START, END, ""])
    head, rest = body.split(START, 1)
    readme.write_text(head + START + "\n" + text + "\n" + END + rest.split(END, 1)[1])
