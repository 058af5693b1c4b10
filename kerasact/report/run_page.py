"""One run directory → `report.html`: the data, the result beside the baselines, where the model
errs, which columns mattered, how training went, and the model — from the files the run left
(metrics.json, test_outputs.npz, baselines.json when `kerasact train` wrote one), so rebuilding
a page needs neither TensorFlow nor the training rows."""

from __future__ import annotations

import json
import math
import os
import shlex
from pathlib import Path
from typing import Any

from kerasact import plots
from kerasact.report import _html as H
from kerasact.report import figures as drawn

REPORT_FILE, RUN_FILE = "report.html", "metrics.json"
BASELINES_FILE = "baselines.json"  # `kerasact train`'s test metrics beside its baselines
REFERENCE = "HistGradientBoosting"  # the baseline the verdict line names when the run has it


def read_run(run_dir: str | os.PathLike) -> dict[str, Any]:
    """A run directory's metrics.json, with one clear error when it is not a finished kerasact run.

    Example:
        >>> read_run("runs/binary/20261207-101500-relu-64-1a2b")["problem"]  # doctest: +SKIP
        'binary'
    """
    path = Path(run_dir) / RUN_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"run_dir={str(run_dir)!r} has no {RUN_FILE}: pass a finished run's directory "
                         f"(runs/<recipe>/<run>), or a log directory to compare its runs.") from None
    except ValueError as err:
        raise ValueError(f"{path} is not valid JSON ({err}); the run did not finish: train it again.") from None
    if not (isinstance(data, dict) and data.get("problem") and isinstance(data.get("hparams"), dict)):
        raise ValueError(f"{path} is not a kerasact run's metrics.json (no problem or hparams): pass a directory "
                         f"that `kerasact train` or `kerasact.train(log_dir=...)` wrote.")
    return data


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _against(mine: float, name: str, theirs: float) -> tuple[int, str]:
    """(-1 / 0 / 1, "worse than X by d (x)" / "level with X (x)" / "better than …"); higher is better,
    compared at the 4 decimals shown (a float32 metric and a float64 one that tie are level)."""
    sign = (round(mine, 4) > round(theirs, 4)) - (round(mine, 4) < round(theirs, 4))
    if sign == 0:
        return 0, f"level with {name} ({theirs:.4f})"
    return sign, f"{'better' if sign > 0 else 'worse'} than {name} by {abs(mine - theirs):.4f} ({theirs:.4f})"


def _verdict_line(run: dict[str, Any], baselines: dict[str, Any] | None) -> tuple[str, bool]:
    """The sentence a user reads first, and whether it is bad news: the test score against every
    yardstick of the same split — HistGradientBoosting and the linear model when `kerasact train`
    saved its baselines, the verdict's constant predictor and linear model — the ones it loses to
    first (the verdict's metrics, accuracy or R², are higher-is-better)."""
    verdict = run.get("verdict") or {}
    metric, mine = verdict.get("metric"), verdict.get("model")
    if not metric:
        return "No verdict: this run kept no test rows in memory.", False
    references = {"the constant predictor": verdict.get("constant"), verdict.get("linear_model"): verdict.get("linear")}
    if baselines:
        row = dict((m, v) for m, v in baselines["rows"]).get(metric)
        if row and _finite(row[0]):
            mine = row[0]  # the table beside it shows this one
            references |= {name: row[1 + i] for i, name in enumerate(baselines["names"])}
    if not _finite(mine):
        return f"Test {metric} is undefined on these test rows (too few, or one class only).", True
    said = sorted((_against(mine, name, value) for name, value in references.items() if _finite(value)),
                  key=lambda found: found[0])  # losses first: the news a user must not miss
    if not said:
        return f"Test {metric} {mine:.4f}: no yardstick to compare with.", False
    return (f"Test {metric} {mine:.4f}: {', '.join(text for _, text in said)} on the same split.",
            said[0][0] < 0)


def _result(run: dict[str, Any], baselines: dict[str, Any] | None, figures: dict[str, bytes]) -> str:
    line, bad = _verdict_line(run, baselines)
    parts = [f'<p class="verdict{" bad" if bad else ""}">{H.esc(line)}</p>']
    warning = (run.get("verdict") or {}).get("warning")
    if warning:  # what the run printed, with its fix
        parts.append(f"<p class=warn>{H.esc(warning.removeprefix('kerasact: '))}</p>")
    if baselines:
        names = baselines["names"]
        parts.append(f"<p class=muted>Baselines fit on the same {baselines['train_rows']} training rows and scored on "
                     f"the same {baselines['test_rows']} test rows.</p>")
        parts.append(H.table(["metric", "kerasact", *names], [[m, *v] for m, v in baselines["rows"]],
                             keys=[[None, f"test.{m}", *[None] * len(names)] for m, _ in baselines["rows"]]))
    test, val = run.get("test") or {}, run.get("validation") or {}
    parts.append(H.table(["metric", "test", "validation"], [[m, v, val.get(m)] for m, v in test.items()],
                         keys=[[None, f"test.{m}", f"validation.{m}"] for m in test]))
    if "loss" in test and "log_loss" in test:
        parts.append("<p class=muted><code>loss</code> is the training objective as compiled (label smoothing and "
                     "weights included); <code>log_loss</code> is the plain cross-entropy of the probabilities, as "
                     "any other model's is measured.</p>")
    verdict = run.get("verdict")
    if verdict:
        parts.append(H.table([f"yardstick ({verdict['metric']})", "score"],
                             [["kerasact", verdict["model"]], ["constant predictor", verdict["constant"]],
                              [verdict["linear_model"], verdict["linear"]]]))
    kept = run.get("kept_epoch")
    caption = f"learning curves; the dotted line is epoch {kept}, whose weights the run kept" if kept else \
        "learning curves; the run kept its last epoch"
    parts.append(H.image(figures["learning_curves"], caption))
    return "".join(parts)


def _data(run: dict[str, Any]) -> str:
    n = run.get("n_samples") or {}
    parts = [H.table(["rows", "count"], [[k, v] for k, v in n.items()], keys=[[None, f"n_samples.{k}"] for k in n])]
    evidence = run.get("evidence") or {}
    classes = evidence.get("classes") or (run.get("labels") or {}).get("classes")
    target = (f"target: {run['target']}; " if run.get("target") else "") + f"problem: {run['problem']}" + (
        f"; labels {evidence['labels']}" if evidence.get("labels") else "")
    if classes:
        target += f"; classes {', '.join(map(str, classes))}"
    parts.append(f"<p>{H.esc(target)}</p>")
    schema = (run.get("schema") or {}).get("columns")
    if schema:
        read = (run.get("schema") or {}).get("rows")  # the rows the schema was read from (the training rows)
        if read:
            parts.append(f"<p class=muted>Read from {read} rows (<code>train_table</code>: the training rows); the "
                         f"missing and distinct values count there.</p>")
        parts.append(H.table(["column", "kind", "why", "missing", "missing share", "distinct values"],
                             [[c["name"], c["kind"], c.get("why", c["rule"]), c["missing"],
                               f"{c['missing'] / read:.1%}" if read else None, c["distinct"]] for c in schema],
                             sortable=True))
    return "".join(parts)


def _value(value: Any) -> Any:
    """A raw table value as a person reads it: 40.2, not 40.2000 (the column's own precision)."""
    return f"{value:.6g}" if isinstance(value, float) else value


def _errors(run: dict[str, Any], figures: dict[str, bytes]) -> str:
    evidence = run.get("evidence") or {}
    parts = [H.image(png, name.replace("_", " ")) for name, png in figures.items() if name != "learning_curves"
             and name != "training_health"]
    worst = evidence.get("worst_rows") or []
    if worst:
        columns = list(worst[0]["values"])
        parts.append(f"<h3>The {len(worst)} test rows with the highest loss</h3><p class=muted>row: its place in "
                     f"the data as the run read it (0 is the first row under a CSV's header).</p>")
        parts.append(H.table(
            ["row", "loss", "truth", "prediction", *columns],
            [[w["row"], w["loss"], w["truth"], w["prediction"], *(_value(w["values"][c]) for c in columns)]
             for w in worst],
            sortable=True))
    return "".join(parts) or "<p>No test outputs were kept for this run.</p>"


def _importance(run: dict[str, Any]) -> str:
    found = (run.get("evidence") or {}).get("importance")
    if not found:
        return "<p>No permutation importance: the inputs are not a table of columns (or the run kept no test rows).</p>"
    top = max([abs(c["mean"]) for c in found["columns"]] + [1e-12])
    rows = [[c["column"], c["mean"], c["std"],
             H.Raw(f'<span class=bar style="width:{max(c["mean"], 0) / top * 200:.0f}px"></span>')]
            for c in found["columns"]]
    return (f"<p>How much the test {H.esc(found['metric'])} falls when a column's values are shuffled "
            f"(scikit-learn's <code>permutation_importance</code> on the model that takes raw rows; "
            f"{found['repeats']} shuffles of {found['rows']} test rows; ± is their standard deviation).</p>"
            + H.table(["column", f"drop in {found['metric']}", "±", ""], rows, sortable=True))


def _health(run: dict[str, Any], figures: dict[str, bytes]) -> str:
    report = run.get("diagnostics")
    if not report:
        return "<p>Diagnostics were off for this run (<code>diagnostics=True</code> turns them on).</p>"
    if "skipped" in report:
        return f"<p>Diagnostics did not run: {H.esc(report['skipped'])}.</p>"
    warnings = report.get("warnings") or []
    parts = [f'<p class=warn>{H.esc(w["message"])} <b>Fix:</b> {H.esc(w["fix"])}</p>' for w in warnings] or [
        "<p class=ok>No dead or saturated layers and no vanishing gradients were found.</p>"]
    ratio = report.get("gradient_ratio")
    if ratio is not None:
        parts.append(f"<p>Gradient into the first layer ÷ gradient into the head at the last probe: {ratio:.3g}.</p>")
    if "training_health" in figures:
        parts.append(H.image(figures["training_health"], "gradient flow and dead units at the last probe"))
    return "".join(parts)


def _model(run: dict[str, Any], run_dir: Path) -> str:
    model = (run.get("evidence") or {}).get("model")
    parts = []
    if model:
        parts.append(f"<p>{model['params']:,} parameters ({model['trainable']:,} trainable).</p>")
        parts.append(H.table(["layer", "type", "output", "parameters"],
                             [[r["name"], r["type"], r["output"], r["params"]] for r in model["layers"]]))
    settings = [[k, H.setting(v)] for k, v in run["hparams"].items()]
    parts.append("<h3>Settings</h3>" + H.table(["setting", "value"], settings))
    again = run.get("refit")
    if again and again.get("kept") == "first":  # an older run's refit, undone by its validation rows
        parts.append(f"<p class=warn>model.keras is the first fit: learning again from {again.get('rows')} rows did "
                     f"worse on the validation rows.</p>")
    elif again:
        parts.append(f"<p class=warn>model.keras is the refit model: it learned again from all {again.get('rows')} "
                     f"rows for {again.get('epochs')} epochs; every number on this page is the first fit's.</p>")
    parts.append(f"<p class=muted>Trained {run.get('epochs_run', '?')} epochs in {run.get('train_seconds', 0):.1f} s; "
                 f"seed {run.get('seed')}.</p>")
    parts.append("<h3>Versions</h3>" + H.table(["library", "version"], list((run.get("versions") or {}).items())))
    model_file = run_dir / "model.keras"  # run_dir is absolute here: the commands work from any folder
    parts.append("<h3>Use it</h3><pre>" + H.esc(
        f"# predictions for new rows (a CSV with the same columns)\n"
        f"kerasact predict {shlex.quote(str(model_file))} DATA.csv\n"
        f"# in Python\nimport kerasact\nmodel = kerasact.load_model({str(model_file)!r})\n"
        f"# rebuild this page\nkerasact report {shlex.quote(str(run_dir))}\n"
        f"# the run in TensorBoard\ntensorboard --logdir {shlex.quote(str(run_dir.parent.parent))}") + "</pre>")
    return "".join(parts)


def build_run(run_dir: str | os.PathLike) -> Path:
    """Write `report.html` into a finished run's directory (over an older one); returns its path.

    Args:
        run_dir: the run directory (`TrainResult.run_dir`, `runs/<recipe>/<run>`).

    Example:
        >>> build_run(result.run_dir)  # doctest: +SKIP
        PosixPath('runs/binary/20261207-101500-relu-64-1a2b/report.html')
    """
    run_dir = Path(run_dir).resolve()  # `kerasact report .` inside a run still names the run
    run = read_run(run_dir)
    baselines_path = run_dir / BASELINES_FILE
    baselines = json.loads(baselines_path.read_text(encoding="utf-8")) if baselines_path.is_file() else None
    figures = {name: plots.png_bytes(make()) for name, make in drawn.makers(run, drawn.outputs(run_dir)).items()}
    n = run.get("n_samples") or {}
    subtitle = [f"{run['problem']} · {run_dir.name}",
                " · ".join(f"{v} {k} rows" for k, v in n.items()) + f" · {run.get('train_seconds', 0):.1f} s training"]
    sections = [("result", "Result", _result(run, baselines, figures)), ("data", "Data", _data(run)),
                ("errors", "Errors", _errors(run, figures)), ("importance", "What mattered", _importance(run)),
                ("health", "Training health", _health(run, figures)), ("model", "Model", _model(run, run_dir))]
    text = H.page(f"kerasact run: {run_dir.parent.name}/{run_dir.name}", subtitle, sections)
    target = run_dir / REPORT_FILE
    staging = target.with_name(f".{REPORT_FILE}.{os.getpid()}.tmp")
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, target)  # atomic: a reader never sees half a page
    return target
