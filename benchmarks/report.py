"""Tables, targets and the markdown report of `bench.py` (formatting only, no measuring)."""

from __future__ import annotations

from pathlib import Path

KA = "kerasact"
SERVE = "kerasact.serve (numpy)"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a and b else "–"


def _find(rows: list[dict], name: str) -> dict:
    return next(r for r in rows if r["contender"] == name)


def throughput_table(w, rows: list[dict]) -> str:
    ka = _find(rows, KA)["samples_per_s"]
    title = (f"### {w.title}: {w.n:,} × {w.d} → {' → '.join(map(str, w.hidden))} → {w.classes}, "
             f"batch {w.batch}, {w.epochs} epochs a round\n\n")
    return title + _table(
        ["contender", "samples/s best (median)", "GFLOP/s", "% of f32 peak", "kerasact ÷ it", "test acc (same epochs)"],
        [[r["contender"], f"{r['samples_per_s']:,.0f} ({r['median_samples_per_s']:,.0f})", f"{r['gflops']:.1f}",
          f"{r['pct_peak']:.0f}%", _ratio(ka, r["samples_per_s"]), f"{r['test_accuracy']:.3f}"] for r in rows]) + "\n"


def digits_table(rows: list[dict], target: float) -> str:
    ka = _find(rows, KA)["seconds"]
    return (f"### (c) digits: wall time to {target:.0%} test accuracy (build + train, median over seeds)\n\n"
            + _table(["contender", "seconds", "of which build + first epoch", "epochs", "reached", "it ÷ kerasact"],
                     [[r["contender"], f"{r['seconds']:.2f}" if r["seconds"] else "not reached",
                       f"{r['first_epoch']:.2f}",
                       f"{r['epochs']:g}" if r["epochs"] else "–", r["reached"], _ratio(r["seconds"], ka)]
                      for r in rows]) + "\n")


def latency_table(rows: list[dict]) -> str:
    ka = _find(rows, KA)["us"]
    return ("### (d) single-row prediction latency\n\n"
            + _table(["contender", "µs best (median)", "it ÷ kerasact"],
                     [[r["contender"], f"{r['us']:,.0f} ({r['median_us']:,.0f})", _ratio(r["us"], ka)]
                      for r in rows]) + "\n")


def targets(results: dict) -> list[dict]:
    """The performance issue's goals, each measured on the best round and on the median round.

    A goal is met when the statistic it names (`judged`) meets it: (b)'s share of peak on the
    median round, the others on the best (a shared machine's noise only ever slows a round).
    """
    a, b = (results["workloads"][k]["rows"] for k in ("overhead", "compute"))
    c, d = results["digits"], results["latency"]
    trained = {r["key"]: r for r in results.get("train_vs_fit", [])}
    peak = results["peak"]["float32_peak"]
    measured: dict[str, list] = {}
    for stat, rate, us in (("best", "samples_per_s", "us"), ("median", "median_samples_per_s", "median_us")):
        ka_b = _find(b, KA)
        ka_c, sk_c = _find(c, KA)["seconds"], _find(c, "scikit-learn")["seconds"]
        measured[stat] = [
            _find(a, KA)[rate] / _find(a, "scikit-learn")[rate],
            ka_b[rate] / _find(b, "Keras defaults")[rate],
            ka_b[rate] * ka_b["gflops"] / ka_b["samples_per_s"] / peak,
            ka_c / sk_c if ka_c and sk_c else None,
            _find(d, SERVE)[us] / _find(d, "scikit-learn")[us],
            *(trained[k]["fit_phase_ratio" if stat == "best" else "median_fit_phase_ratio"] if k in trained else None
              for k in ("overhead", "compute")),
        ]
    goals = [("(a) kerasact ≥ 1.5× scikit-learn samples/s, overhead-bound", 1.5, False, "best"),
             ("(b) kerasact ≥ Keras defaults samples/s, compute-bound", 1.0, False, "best"),
             ("(b) kerasact ≥ 75% of float32 matmul peak (median round)", 0.75, False, "median"),
             ("(c) kerasact's wall time to 97% on digits ≤ 2× scikit-learn's", 2.0, True, "best"),
             ("(d) single-row latency (kerasact.serve) ≤ scikit-learn's", 1.0, True, "best"),
             ("`train` ≥ 80% of bare `fit` samples/s, (a), 10 epochs", 0.8, False, "best"),
             ("`train` ≥ 80% of bare `fit` samples/s, (b), 10 epochs", 0.8, False, "best")]
    rows = []
    for i, (name, goal, lower, judged) in enumerate(goals):
        best, median = measured["best"][i], measured["median"][i]
        value = best if judged == "best" else median
        met = value is not None and (value <= goal if lower else value >= goal)
        rows.append({"target": name, "measured": best, "median": median, "goal": goal, "met": met,
                     "lower_is_better": lower, "judged": judged})
    return rows


def targets_table(rows: list[dict]) -> str:
    def fmt(value: float | None) -> str:
        return "–" if value is None else f"{value:.2f}"

    def gap(r: dict) -> str:
        value = r["measured"] if r["judged"] == "best" else r["median"]
        if r["met"] or value is None:
            return "–"
        return f"{value / r['goal']:.2f}× over" if r["lower_is_better"] else f"{value / r['goal']:.0%} of goal"

    return "### targets (ratios within this run)\n\n" + _table(
        ["target", "best rounds", "median rounds", "goal", "met", "gap"],
        [[r["target"], fmt(r["measured"]), fmt(r["median"]),
          ("≤ " if r["lower_is_better"] else "≥ ") + f"{r['goal']:g}", "yes" if r["met"] else "**no**", gap(r)]
         for r in rows]) + "\n"


def crossover_table(rows: list[dict]) -> str:
    """µs per call of `kerasact.serve` (numpy below its crossover) and `kerasact.predict` by batch size."""
    return ("### one-row serving: numpy against the compiled function, by batch size (model of (a))\n\n"
            + _table(["rows", "numpy (µs)", "compiled `predict` (µs)", "numpy ÷ compiled", "`serve` runs"],
                     [[str(r["rows"]), f"{r['numpy_us']:,.0f}", f"{r['predict_us']:,.0f}",
                       f"{r['numpy_us'] / r['predict_us']:.2f}", r["served_by"]] for r in rows]) + "\n")


def train_table(rows: list[dict]) -> str:
    lines = ["### `train` against a bare `fit` (same model, same rows, 10 epochs; best of rounds)\n",
             "| workload | `train` samples/s (fit phase) | bare `fit` samples/s | fit phase ÷ bare fit (median) "
             "| fit phase ÷ a fit validating each epoch | whole `train` ÷ build + fit |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['workload']} | {r['train_samples_per_s']:,.0f} | {r['fit_samples_per_s']:,.0f} | "
                     f"{r['fit_phase_ratio']:.2f} ({r['median_fit_phase_ratio']:.2f}) | {r['vs_validating_fit']:.2f} | "
                     f"{r['whole_call_ratio']:.2f} |")
    return "\n".join(lines) + "\n"


def markdown(results: dict) -> str:
    m, p = results["machine"], results["peak"]
    head = (f"Run {m['date']} on {m['cpu']} ({m['cores']} cores, native bfloat16: {m['native_bfloat16']}); "
            f"Python {m['python']}, TensorFlow {m['tensorflow']}, Keras {m['keras']}, "
            f"scikit-learn {m['scikit-learn']}, "
            f"PyTorch {m['torch'] or 'not installed'}. Load average {m['load_average_start'][0]:.1f} at start, "
            f"{m['load_average_end'][0]:.1f} at end (a shared machine is noisy: best of {results['rounds']} "
            f"round-robin rounds, median in brackets{'; QUICK run' if results['quick'] else ''}).\n\n"
            f"Matmul 2048² peak: float32 {p['float32_peak']:.0f} GFLOP/s (TF {p['tf_float32']:.0f}, numpy "
            f"{p['numpy_float32']:.0f}); bfloat16 (TF) {p['tf_bfloat16']:.0f}.\n\n")
    from types import SimpleNamespace

    parts = [throughput_table(SimpleNamespace(**v["workload"]), v["rows"]) for v in results["workloads"].values()]
    parts += [digits_table(results["digits"], 0.97), latency_table(results["latency"])]
    parts += [crossover_table(results["crossover"])] if results.get("crossover") else []
    parts += [train_table(results["train_vs_fit"])] if results.get("train_vs_fit") else []
    parts += (["### the other benchmarks (`others.py`), reduced to fit this run\n\n" + results["others_table"]]
              if results.get("others_table") else [])
    parts += [targets_table(results["targets"])]
    return head + "\n".join(parts)


def paste_into_readme(readme: Path, table: str, level: str = "###") -> None:
    """Replace the text between the bench markers of `readme` with `table`."""
    text = readme.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{readme} has no {START} ... {END} markers to paste the table between.")
    before, rest = text.split(START, 1)
    if level != "###":  # the top-level README nests the tables one level deeper
        table = "\n".join(level + line[3:] if line.startswith("### ") else line for line in table.splitlines()) + "\n"
    readme.write_text(before + START + "\n" + table + "\n" + END + rest.split(END, 1)[1])
