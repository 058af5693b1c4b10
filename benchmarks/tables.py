"""Streaming tables larger than memory: `kerasact.train_table(csv, target, stream=True)` on
generated CSV files of 10^5 and 10^6 rows, one epoch each, in a fresh subprocess per size.

Measures rows/s (training rows / wall time of the whole call: scan, build, the epoch with its
validation pass, test and validation scoring) and the subprocess's peak resident memory
(`VmHWM`, TensorFlow included), and checks the goal: peak memory at 10^6 rows within 1.5× of
that at 10^5 rows, i.e. memory that does not grow with the rows. A reference row trains the
10^5-row file in memory (`stream=False`) in the same run.

Usage:
    .venv/bin/python benchmarks/tables.py            # 10^5 and 10^6 rows (~3 minutes on 2 cores)
    .venv/bin/python benchmarks/tables.py --quick    # 10^4 and 10^5 rows: a smoke test
    .venv/bin/python benchmarks/tables.py --readme   # also paste the table into benchmarks/README.md
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SIZES = (100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
GOAL = 1.5  # peak RSS at the larger size ÷ at the smaller one
BATCH = 256
EPOCHS = 1
WRITE_ROWS = 100_000  # rows generated and written at a time
CITIES = np.array([f"city_{i:02d}" for i in range(20)])


def table(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """~10 columns of customer-like data: numbers with gaps, text categories with gaps, a binary target."""
    age, income = rng.normal(40, 12, n).round(), rng.lognormal(10, 0.6, n).round(-1)
    tenure, balance, score = rng.exponential(3, n), rng.normal(0, 1, n), rng.uniform(0, 100, n)
    city = CITIES[rng.integers(0, len(CITIES), n)]
    plan = np.array(["free", "basic", "plus", "pro", "team"])[rng.integers(0, 5, n)]
    device = np.array(["ios", "android", "web"])[rng.integers(0, 3, n)]
    weekday = rng.integers(1, 8, n)
    logit = (0.04 * (age - 40) - 0.3 * tenure + 0.8 * balance + (plan == "free") * 1.2 - (device == "web") * 0.7
             + 0.3 * np.isin(city, CITIES[:5]) - 0.01 * (score - 50))
    frame = pd.DataFrame({"age": age, "income": income, "tenure": tenure.round(2), "balance": balance.round(3),
                          "score": score.round(1), "city": city, "plan": plan, "device": device, "weekday": weekday,
                          "churn": np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")})
    for name, rate in (("age", 0.05), ("income", 0.02), ("balance", 0.1), ("city", 0.03), ("plan", 0.05)):
        frame[name] = frame[name].mask(rng.random(n) < rate)
    return frame


def write_csv(path: Path, n: int, seed: int = 0) -> float:
    """Write `n` rows to `path` a block at a time; return the file's size in MB."""
    rng = np.random.default_rng(seed)
    for start in range(0, n, WRITE_ROWS):
        block = table(min(WRITE_ROWS, n - start), rng)
        block.to_csv(path, mode="a" if start else "w", header=start == 0, index=False)
    return path.stat().st_size / 2**20


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def child(path: str, stream: bool) -> None:
    """One measurement in this fresh process: train, then print one JSON line."""
    import kerasact
    import kerasact.training.streaming  # noqa: F401  (TensorFlow, Keras, scikit-learn, matplotlib)

    floor = peak_rss_mb()
    with tempfile.TemporaryDirectory() as log_dir:
        start = time.perf_counter()
        result = kerasact.train_table(path, "churn", stream=stream, epochs=EPOCHS, batch_size=BATCH, hidden=[64, 32],
                                      patience=None, seed=0, verbose=0, log_dir=log_dir)
        seconds = time.perf_counter() - start
        rows = json.loads((result.run_dir / "metrics.json").read_text())["n_samples"]
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "imports_mb": floor, "rows": rows,
                      "accuracy": result.metrics["accuracy"], "roc_auc": result.metrics["roc_auc"]}), flush=True)


def measure(path: Path, stream: bool) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(path), "--stream", str(int(stream))],
                         capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    if out.returncode != 0:
        raise RuntimeError(f"the child run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(sizes: tuple[int, ...]) -> list[dict]:
    """Generate each size's CSV and train on it streamed and in memory, one process each."""
    found = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            path = Path(folder) / f"rows-{n}.csv"
            megabytes = write_csv(path, n)
            for stream in (True, False):
                found.append({"n": n, "mb": megabytes, "stream": stream, **measure(path, stream)})
                print(_row(found[-1]), flush=True)
            path.unlink()
    return found


def _row(r: dict) -> str:
    mode = "streamed" if r["stream"] else "in memory (reference)"
    return (f"| {r['n']:,} | {mode} | {r['mb']:.0f} | {r['seconds']:.1f} | {r['n'] / r['seconds']:,.0f} | "
            f"{r['rows']['train'] / r['seconds']:,.0f} | {r['peak_rss_mb']:,.0f} | "
            f"{r['peak_rss_mb'] - r['imports_mb']:,.0f} | {r['accuracy']:.3f} | {r['roc_auc']:.3f} |")


def growth(found: list[dict], stream: bool) -> tuple[float, float]:
    """Peak RSS at the largest size ÷ at the smallest, in all and above the imports' own memory."""
    rows = [r for r in found if r["stream"] == stream]
    small, large = rows[0], rows[-1]
    return large["peak_rss_mb"] / small["peak_rss_mb"], ((large["peak_rss_mb"] - large["imports_mb"])
                                                         / (small["peak_rss_mb"] - small["imports_mb"]))


def report(found: list[dict]) -> str:
    import platform

    import keras
    import tensorflow as tf

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    (streamed, streamed_above), (whole, whole_above) = growth(found, True), growth(found, False)
    sizes = f"{found[-1]['n']:,} ÷ {found[0]['n']:,} rows"
    return "\n".join([
        f"Run {time.strftime('%Y-%m-%d %H:%M')} on {cpu} ({os.cpu_count()} cores); Python "
        f"{platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}. Load average "
        f"{os.getloadavg()[0]:.1f} at the end. One epoch, batch {BATCH}, hidden [64, 32]; each row a fresh process.",
        "",
        "| rows | mode | CSV MB | seconds | rows/s (file) | rows/s (train split) | peak RSS MB | of it above the "
        "imports | test accuracy | test ROC AUC |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *(_row(r) for r in found),
        "",
        f"Peak RSS growth, {sizes}: streamed **{streamed:.2f}×** (goal ≤ {GOAL}×: "
        f"{'met' if streamed <= GOAL else '**not met**'}; above the imports {streamed_above:.2f}×); in memory "
        f"{whole:.2f}× (above the imports {whole_above:.2f}×)."])


def paste_readme(text: str) -> None:
    readme = HERE / "README.md"
    start, end = "<!-- tables:start -->", "<!-- tables:end -->"
    body = readme.read_text()
    if start not in body:
        raise SystemExit(f"{readme} has no {start} ... {end} section to paste into.")
    head, rest = body.split(start, 1)
    readme.write_text(head + start + "\n" + text + "\n" + end + rest.split(end, 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^4 and 10^5 rows: a smoke test")
    parser.add_argument("--readme", action="store_true", help="paste the table into benchmarks/README.md")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--stream", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, bool(args.stream))
    found = run(QUICK_SIZES if args.quick else SIZES)
    text = report(found)
    print("\n" + text)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "tables.json").write_text(json.dumps(found, indent=2))
    (results / "tables.md").write_text(text + "\n")
    if args.readme:
        paste_readme(text)


if __name__ == "__main__":
    main()
