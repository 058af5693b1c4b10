"""kerasact's default training and prediction against hand-written Keras, scikit-learn and
a plain PyTorch loop, on one machine in one run.

Measures (a) an overhead-bound and (b) a compute-bound training workload (samples/s,
GFLOP/s, % of the machine's float32 matmul peak measured in the same run), (c) wall time to
97% test accuracy on the digits data, (d) single-row prediction latency (`kerasact.predict`
and `kerasact.serve`) and where numpy stops beating the compiled function, `kerasact.train`
against a bare `fit` (`train_vs_fit.py`), and a summary row of each other benchmark
(`others.py`: streaming CSV, cross-validation, search, diagnostics); prints every ratio, the
targets table, and writes `results/latest.json` and `results/latest.md`.

Usage:
    .venv/bin/python benchmarks/bench.py            # full run (~15 minutes on 2 cores)
    .venv/bin/python benchmarks/bench.py --quick    # smaller data, one round: a smoke test
    .venv/bin/python benchmarks/bench.py --readme   # also paste the tables into both READMEs
    .venv/bin/python benchmarks/bench.py --rules    # the measurements behind kerasact.runtime.execution
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
warnings.filterwarnings("ignore")  # scikit-learn's ConvergenceWarning on purpose-short fits
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import contenders  # noqa: E402
import numpy as np  # noqa: E402
import others  # noqa: E402
import report  # noqa: E402
import rules  # noqa: E402
import train_vs_fit  # noqa: E402
from workloads import WORKLOADS, Workload, machine, teacher_data  # noqa: E402

DIGITS_TARGET = 0.97


def matmul_peak(size: int = 2048, repeats: int = 5) -> dict:
    """Best-of-`repeats` GFLOP/s of a size² matmul: TensorFlow float32 and bfloat16, numpy float32."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size)).astype(np.float32) for _ in range(2))
    runs = {"tf_float32": tf.function(lambda x, y: tf.linalg.matmul(x, y)), "numpy_float32": np.matmul}
    args = {"tf_float32": (tf.constant(a), tf.constant(b)), "numpy_float32": (a, b),
            "tf_bfloat16": (tf.constant(a, tf.bfloat16), tf.constant(b, tf.bfloat16))}
    runs["tf_bfloat16"] = tf.function(lambda x, y: tf.linalg.matmul(x, y))
    out = {}
    for name, fn in runs.items():
        np.asarray(fn(*args[name]))
        best = min(_timed(lambda: np.asarray(fn(*args[name]))) for _ in range(repeats))
        out[name] = 2 * size**3 / best / 1e9
    out["float32_peak"] = max(out["tf_float32"], out["numpy_float32"])
    return out


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def accuracy(model, X, y) -> float:
    return float(np.mean(np.argmax(model.proba(X), axis=1) == y))


def throughput(w: Workload, kinds: list, rounds: int, peak: float) -> tuple[list[dict], dict]:
    """Warm-up epoch, then `rounds` round-robin rounds of `w.epochs` epochs per contender."""
    import kerasact

    X, y, Xt, yt = teacher_data(w, n_test=5_000)
    models = [kind(w.d, w.hidden, w.classes, seed=0) for kind in kinds]
    flops = kerasact.runtime.execution.flops_per_sample(models[0].model)  # same network for everyone
    for m in models:
        m.fit(X, y, 1, w.batch)  # warm-up: tracing, compilation, caches
    rates = {m.name: [] for m in models}
    for _ in range(rounds):
        for m in models:
            rates[m.name].append(w.epochs * w.n / _timed(lambda: m.fit(X, y, w.epochs, w.batch)))
    rows = []
    for m in models:
        best = max(rates[m.name])
        rows.append({"contender": m.name, "samples_per_s": best,
                     "median_samples_per_s": statistics.median(rates[m.name]),
                     "gflops": best * flops / 1e9, "pct_peak": 100 * best * flops / 1e9 / peak,
                     "test_accuracy": accuracy(m, Xt, yt), "epochs_trained": 1 + rounds * w.epochs})
    return rows, {"models": models, "X_test": Xt}


def digits_split(seed: int) -> tuple:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(Xa)
    return (scaler.transform(Xa).astype(np.float32), ya.astype(np.int32),
            scaler.transform(Xb).astype(np.float32), yb.astype(np.int32))


def time_to_accuracy(kind, seed: int, max_epochs: int, batch: int = 32, hidden=(128, 64)) -> dict:
    """Wall time from building the model to `DIGITS_TARGET` test accuracy; checks not counted."""
    X, y, Xt, yt = digits_split(seed)
    start = time.perf_counter()
    model = kind(X.shape[1], hidden, 10, seed=seed)
    state = {"excluded": 0.0, "epochs": None, "first": None}

    def check(epoch: int) -> bool:
        tick = time.perf_counter()
        if epoch == 0:  # build + first epoch: tracing and compilation show up here
            state["first"] = tick - start - state["excluded"]
        reached = accuracy(model, Xt, yt) >= DIGITS_TARGET
        state["excluded"] += time.perf_counter() - tick
        if reached and state["epochs"] is None:
            state["epochs"] = epoch + 1
        return reached

    if hasattr(model.model, "stop_training"):  # Keras: one fit, a callback checks each epoch
        import keras

        class Stop(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                self.model.stop_training = check(epoch)

        model.fit(X, y, max_epochs, batch, callbacks=[Stop()])
    else:
        for epoch in range(max_epochs):
            model.fit(X, y, 1, batch)
            if check(epoch):
                break
    seconds = time.perf_counter() - start - state["excluded"]
    return {"seconds": seconds if state["epochs"] else None, "epochs": state["epochs"], "first_epoch": state["first"]}


def digits(kinds: list, seeds: list[int], max_epochs: int) -> list[dict]:
    rows = []
    for kind in kinds:
        runs = [time_to_accuracy(kind, seed, max_epochs) for seed in seeds]
        reached = [r for r in runs if r["seconds"] is not None]
        rows.append({"contender": kind.name, "runs": runs, "reached": f"{len(reached)}/{len(runs)}",
                     "seconds": statistics.median(r["seconds"] for r in reached) if reached else None,
                     "epochs": statistics.median(r["epochs"] for r in reached) if reached else None,
                     "first_epoch": statistics.median(r["first_epoch"] for r in runs)})
    return rows


def _per_call_us(fn, repeats: int = 5, seconds: float = 0.1) -> tuple[float, float, int]:
    """Best and median µs per call of `fn` over `repeats` loops of ~`seconds`, and the calls made."""
    fn()
    k = max(3, int(seconds / max(_timed(fn), 1e-6)))
    loops = [_timed(lambda: [fn() for _ in range(k)]) / k * 1e6 for _ in range(repeats)]
    return min(loops), statistics.median(loops), k * repeats


def latency(models: list, X: np.ndarray, repeats: int = 5) -> list[dict]:
    """Microseconds per one-row prediction: best and median of `repeats` loops of ~0.1 s."""
    import kerasact

    row = X[:1]
    calls = []
    for m in models:
        calls.append((m.name, lambda m=m: m.proba(row)))
        if m.name == "kerasact":  # the frozen numpy forward pass, made once (`serve` is not in the loop)
            served = kerasact.serve(m.model)
            calls.append((report.SERVE, lambda: served(row)))
        if m.name == "Keras defaults":
            calls.append(("Keras predict_on_batch", lambda m=m: m.model.predict_on_batch(row)))
    rows = []
    for name, fn in calls:
        best, median, n = _per_call_us(fn, repeats)
        rows.append({"contender": name, "us": best, "median_us": median, "calls": n})
    return rows


def crossover(model, d: int, sizes=(1, 8, 32, 64, 128, 256, 1024, 4096)) -> list[dict]:
    """`kerasact.serve`'s numpy pass against `kerasact.predict` by batch size (where numpy stops winning)."""
    import kerasact

    served = kerasact.serve(model)
    numpy_only = kerasact.serve(model)
    numpy_only._numpy_rows = max(sizes)  # the numpy pass at every size, to see where it loses
    rows = []
    for n in sizes:
        X = np.random.default_rng(n).standard_normal((n, d)).astype(np.float32)
        np.testing.assert_allclose(numpy_only(X), kerasact.predict(model, X), rtol=1e-5, atol=1e-5)
        rows.append({"rows": n, "numpy_us": _per_call_us(lambda: numpy_only(X), 3, 0.05)[0],
                     "predict_us": _per_call_us(lambda: kerasact.predict(model, X), 3, 0.05)[0],
                     "served_by": "numpy" if n <= served._numpy_rows else "compiled"})
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, one round (a smoke test, not a measurement)")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds per contender (default 5; quick 1)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even when installed")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="folder for latest.json and latest.md")
    parser.add_argument("--readme", action="store_true",
                        help="paste the tables into benchmarks/README.md and the project README")
    parser.add_argument("--no-others", action="store_true",
                        help="leave out the other benchmarks' summary rows (streaming, CV, search, diagnostics)")
    parser.add_argument("--rules", action="store_true",
                        help="run the measurements behind kerasact.runtime.execution instead")
    args = parser.parse_args(argv)
    if args.rules:
        return rules.main(args.quick, args.out)
    rounds = args.rounds or (1 if args.quick else 5)
    kinds = contenders.available(not args.no_torch)
    workloads = [Workload(w.key, w.title, w.n // 10, w.d, w.hidden, w.classes, w.batch, 1) if args.quick else w
                 for w in WORKLOADS]
    info = machine()
    print(f"{info['date']}  {info['cpu']} ({info['cores']} cores)  TF {info['tensorflow']}, Keras {info['keras']}",
          flush=True)
    peak = matmul_peak()
    print(f"matmul 2048²: {json.dumps({k: round(v, 1) for k, v in peak.items()})} GFLOP/s", flush=True)
    results = {"machine": info, "rounds": rounds, "quick": args.quick, "peak": peak, "workloads": {}}
    models = None
    for w in workloads:
        extra = {"overhead": [contenders.KerasactLossOnly],
                 "compute": [contenders.KerasactF32] if info["native_bfloat16"] else []}
        variants = kinds + extra[w.key]
        rows, found = throughput(w, variants, rounds, peak["float32_peak"])
        results["workloads"][w.key] = {"workload": asdict(w), "rows": rows}
        models = [m for m in found["models"] if type(m) in kinds] if w.key == "overhead" else models
        print(report.throughput_table(w, rows), flush=True)
    results["digits"] = digits(kinds, [0] if args.quick else [0, 1, 2], max_epochs=60 if args.quick else 200)
    print(report.digits_table(results["digits"], DIGITS_TARGET), flush=True)
    results["latency"] = latency(models, teacher_data(workloads[0], 10)[2])
    print(report.latency_table(results["latency"]), flush=True)
    ka = next(m for m in models if m.name == "kerasact")
    results["crossover"] = crossover(ka.model, workloads[0].d)
    print(report.crossover_table(results["crossover"]), flush=True)
    results["train_vs_fit"] = train_vs_fit.measure(workloads, epochs=10, rounds=1 if args.quick else 3)
    print(report.train_table(results["train_vs_fit"]), flush=True)
    if not args.no_others:
        results["others"] = others.summaries(args.quick)
        results["others_table"] = others.table(results["others"])
        print(results["others_table"], flush=True)
    info["load_average_end"] = os.getloadavg()
    results["targets"] = report.targets(results)
    markdown = report.markdown(results)
    print(report.targets_table(results["targets"]))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    (args.out / "latest.md").write_text(markdown)
    if args.readme:
        report.paste_into_readme(HERE / "README.md", markdown)
        report.paste_into_readme(HERE.parent / "README.md", markdown, level="####")
    print(f"wrote {args.out / 'latest.json'} and {args.out / 'latest.md'}")
    return results


if __name__ == "__main__":
    main()
