"""Multi-worker training, measured: `kerasact.train` under `tf.distribute.MultiWorkerMirroredStrategy`
with 2 local workers against one process, on the same data, in one run on one machine.

A CORRECTNESS DEMO, NOT A SCALING CLAIM: both workers run on this machine's cores and talk over
loopback gRPC, so "2 workers" splits the same cores the 1-process runs use. What it shows: the
2-worker run trains the same model (the workers end with identical weights; the per-epoch loss
follows the 1-process run's, and in float64 the weights agree to ~1e-16), what a step under the
strategy costs here, and the numbers (parameter bytes, collectives per step, all-reduce time)
that the scaling model of `benchmarks/README.md` ("Multi-worker training: a scaling model") takes.

Data: 20,480 × 64 standard-normal rows (numpy seed 0), 10 classes = argmax of a random linear
projection; `kerasact.train`'s split (seed 0, val 0.15, test 0.15) leaves 14,336 training rows,
56 global batches of 256. Models: `build_model("multiclass", 64, n_classes=10, hidden=H, seed=0)`
for H = [128, 64] (17k parameters), [512, 512] (301k), [2048, 1024] (2.2M); Adam, no early
stopping, no log_dir; `train(..., epochs=5, batch_size=256, patience=None)`.

Launches, each in fresh process(es) with `tf.config.threading` set before TensorFlow starts
(inter-op 1 thread everywhere), one after another, never overlapping:

* 1 process, 1 intra-op thread, no strategy: kerasact's default steps_per_execution (up to the
  whole epoch per compiled call), again with `steps_per_execution=1` (what a model under a
  strategy gets), and the 301k model in float64;
* 1 process, 2 intra-op threads: the first two;
* 1 process under a 1-worker MultiWorkerMirroredStrategy (no TF_CONFIG), 1 thread: the
  strategy's machinery (distributed dataset, one step per call, local collectives), no peer;
* 2 workers (TF_CONFIG on 127.0.0.1, RING all-reduce), 1 intra-op thread each, global batch 256
  (128 rows per worker per step); the 301k model again in float64.

Timing: a Keras callback clocks each epoch's training part (on_epoch_begin to on_test_begin,
i.e. without the validation pass); epoch 1 (tracing) is dropped, the best of epochs 2..E is
shown (the median too: other processes may share the cores). samples/s = training rows ÷ that
time. After training, each worker also times the
gradient all-reduce alone: `replica_context.all_reduce("SUM", tensors shaped like the model's
weights)`, as Keras's optimizer calls it, one tf.function call from Python each, the median of
20 calls; and the same for one float (the latency floor). It counts the all-reduce ops in the
traced train step (Keras internals; None if a release changes them).

Every launch has a deadline (a SIGKILL to its process group: TensorFlow ignores SIGTERM while it
waits for a peer), and a failed worker's peer is killed too, so the script never hangs.

Usage:
    .venv/bin/python benchmarks/distributed.py            # 3 models, 5 epochs (~3 minutes on 2 cores)
    .venv/bin/python benchmarks/distributed.py --quick    # the small model, 2 epochs: a smoke test
    .venv/bin/python benchmarks/distributed.py --models 17k 301k --epochs 3
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from kerasact.cli._launch import free_ports  # the launcher's own: TensorFlow-free

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script, as bench.py is

HERE = Path(__file__).resolve().parent
N_ROWS, N_FEATURES, N_CLASSES = 20_480, 64, 10
BATCH = 256
EPOCHS = 5
MODELS = {"17k": [128, 64], "301k": [512, 512], "2.2M": [2048, 1024]}
QUICK = {"models": ["17k"], "epochs": 2}
JOIN_TIMEOUT = 60          # seconds for the two workers to find each other
RUN_TIMEOUT = 420          # seconds any one launch (process or cluster) may take; then SIGKILL
ALLREDUCE_CALLS = 20
# variant -> the build_model options it adds
VARIANTS = {"default": {}, "steps/call 1": {"steps_per_execution": 1}, "float64": {"dtype": "float64"}}
FLOAT64_MODEL = "301k"     # the float64 check runs this model only (the first one asked for, if not among them)
# launch name -> (intra-op threads, strategy: None / "mwms1" / "cluster", variants)
LAUNCHES = {
    "1 process, 1 thread": (1, None, ("default", "steps/call 1", "float64")),
    "1 process, 2 threads": (2, None, ("default", "steps/call 1")),
    "1 process, MWMS 1 worker, 1 thread": (1, "mwms1", ("default",)),
    "2 workers, 1 thread each": (1, "cluster", ("default", "float64")),
}
REFERENCE = "1 process, 1 thread"  # each row is compared to this launch's run of the same model and dtype
BANDWIDTHS_GBIT = (1, 10, 100)
FAST_ALPHA_S = 50e-6   # a per-hop latency for comparison: a fast network whose stack adds little
SCALING_WORKERS = (2, 8)


def data() -> tuple[np.ndarray, np.ndarray]:
    """The same rows in every process: features N(0, 1), labels argmax of a random projection."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_ROWS, N_FEATURES)).astype(np.float32)
    y = np.argmax(X @ rng.standard_normal((N_FEATURES, N_CLASSES)), axis=1).astype(np.int32)
    return X, y


# ---------------------------------------------------------------------------------------------
# In a child process: train, time, save the weights, print nothing but write one JSON file.


def child(config: dict) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if config["strategy"] == "cluster":
        workers = [f"127.0.0.1:{p}" for p in config["ports"]]
        os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": workers},
                                              "task": {"type": "worker", "index": config["index"]}})
    else:
        os.environ.pop("TF_CONFIG", None)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(config["threads"])
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import kerasact

    # first thing after the threading settings: TensorFlow fixes its cluster at start-up
    strategy = kerasact.multi_worker_strategy(join_timeout=JOIN_TIMEOUT) if config["strategy"] else None
    import keras

    class Clock(keras.callbacks.Callback):
        """Seconds of each epoch's training part (before the validation pass)."""

        def __init__(self) -> None:
            super().__init__()
            self.seconds, self._start = [], None

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_test_begin(self, logs=None):
            if self._start is not None:
                self.seconds.append(time.perf_counter() - self._start)
                self._start = None

    X, y = data()
    out = {"runs": [], "allreduce": {}, "replicas": None}
    for name in config["models"]:
        for variant in config["variants"]:
            if variant == "float64" and name != config["float64_model"]:
                continue
            model = kerasact.build_model("multiclass", N_FEATURES, n_classes=N_CLASSES, hidden=MODELS[name], seed=0,
                                         strategy=strategy, **VARIANTS[variant])
            clock = Clock()
            result = kerasact.train(model, X, y, epochs=config["epochs"], batch_size=BATCH, patience=None, verbose=0,
                                    log_dir=None, callbacks=[clock])
            weights = model.get_weights()
            path = Path(config["folder"]) / f"{config['tag']}-{name}-{variant.replace('/', '').replace(' ', '_')}.npz"
            np.savez(path, *weights)
            out["runs"].append({"model": name, "variant": variant, "dtype": str(weights[0].dtype),
                                "steps_per_execution": int(getattr(model, "steps_per_execution", 1) or 1),
                                "params": int(sum(w.size for w in weights)), "train_rows": len(result.split.y_train),
                                "epoch_seconds": clock.seconds, "loss": result.history["loss"],
                                "val_loss": result.history.get("val_loss"),
                                "test_accuracy": float(result.metrics["accuracy"]), "weights": str(path)})
            if strategy is not None:
                out["replicas"] = int(strategy.num_replicas_in_sync)
            if config["strategy"] == "cluster" and variant == "default":
                out["allreduce"][name] = time_allreduce(strategy, [w.shape for w in model.trainable_weights])
                out["allreduce"][name]["collectives_per_step"] = collectives_per_step(model)
    if config["strategy"] == "cluster":
        out["allreduce"]["1 float"] = time_allreduce(strategy, [(1,)])
    Path(config["out"]).write_text(json.dumps(out))


def collectives_per_step(model) -> dict | None:
    """The all-reduces in Keras's traced train step (and its input iterator), by what they reduce.

    Reads Keras 3.15's `train_function` closure (`multi_step_on_iterator`, a tf.function): None
    when a Keras release changes it.
    """
    try:
        cells = {getattr(c.cell_contents, "__name__", ""): c.cell_contents for c in model.train_function.__closure__}
        found = []
        for concrete in cells["multi_step_on_iterator"]._list_all_concrete_functions():
            nodes = [(n.name, n.input[0]) for f in concrete.graph.as_graph_def().library.function for n in f.node_def
                     if n.op.startswith("CollectiveReduce")]
            nodes += [(op.name, op.inputs[0].name) for op in concrete.graph.get_operations()
                      if op.type.startswith("CollectiveReduce")]
            found.append(nodes)
        return {"count": max(len(n) for n in found), "ops": max(found, key=len)} if found else None
    except Exception:  # noqa: BLE001  (Keras internals: report nothing rather than fail the run)
        return None


def time_allreduce(strategy, shapes: list) -> dict:
    """Median seconds of one all-reduce of float32 tensors of these shapes, one call from Python each."""
    import tensorflow as tf

    tensors = [tf.ones(s, tf.float32) for s in shapes]

    @tf.function
    def step():
        return strategy.run(lambda: tf.distribute.get_replica_context().all_reduce("SUM", tensors))

    for _ in range(3):
        step()
    seconds = []
    for _ in range(ALLREDUCE_CALLS):
        start = time.perf_counter()
        result = step()
        float(strategy.experimental_local_results(result)[0][0].numpy().ravel()[0])  # wait for it
        seconds.append(time.perf_counter() - start)
    return {"bytes": int(4 * sum(int(np.prod(s)) for s in shapes)), "median_s": statistics.median(seconds),
            "min_s": min(seconds)}


# ---------------------------------------------------------------------------------------------
# In the parent: launch, wait with timeouts, kill with SIGKILL, collect.


def launch(name: str, models: list[str], epochs: int, folder: Path) -> list[dict]:
    """Run one launch of LAUNCHES (1 process, or the 2-worker cluster); its children's JSON outputs."""
    threads, strategy, variants = LAUNCHES[name]
    tag = name.replace(" ", "_").replace(",", "")
    n = 2 if strategy == "cluster" else 1
    ports = free_ports(n) if strategy == "cluster" else []
    configs = [{"models": models, "epochs": epochs, "threads": threads, "strategy": strategy,
                "variants": list(variants),
                "float64_model": FLOAT64_MODEL if FLOAT64_MODEL in models else models[0],
                "ports": ports, "index": i, "folder": str(folder), "tag": f"{tag}-{i}",
                "out": str(folder / f"{tag}-{i}.json")} for i in range(n)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    env.pop("TF_CONFIG", None)
    procs, logs = [], []
    for config in configs:
        log = open(folder / f"{config['tag']}.log", "w")
        logs.append(log)
        procs.append(subprocess.Popen([sys.executable, __file__, "--child", json.dumps(config)], stdout=log,
                                      stderr=subprocess.STDOUT, env=env, start_new_session=True))
    deadline, failed = time.monotonic() + RUN_TIMEOUT, None
    try:
        while any(p.poll() is None for p in procs):
            if time.monotonic() > deadline:
                failed = f"timed out after {RUN_TIMEOUT} s"
                break
            if any(p.poll() not in (None, 0) for p in procs):
                failed = "a process failed"
                # give the peer a few seconds to fail in its own words, then kill it
                end = time.monotonic() + 15
                while time.monotonic() < end and any(p.poll() is None for p in procs):
                    time.sleep(0.2)
                break
            time.sleep(0.2)
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)   # TensorFlow ignores SIGTERM while it waits in the cluster
                p.wait()
        for log in logs:
            log.close()
    if failed or any(p.returncode != 0 for p in procs):
        tails = "\n".join(f"--- {c['tag']} (exit {p.returncode}):\n" + (folder / f"{c['tag']}.log").read_text()[-3000:]
                          for c, p in zip(configs, procs))
        raise RuntimeError(f"{name}: {failed or 'a process failed'}\n{tails}")
    return [json.loads(Path(c["out"]).read_text()) for c in configs]


def measure(models: list[str], epochs: int) -> tuple[list[dict], dict]:
    rows, allreduce = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        weights = {}
        for name in LAUNCHES:
            start = time.perf_counter()
            outs = launch(name, models, epochs, folder)
            wall = time.perf_counter() - start
            chief = outs[0]
            for i, run in enumerate(chief["runs"]):
                timed = run["epoch_seconds"][1:] or run["epoch_seconds"]
                seconds, median = min(timed), statistics.median(timed)   # other processes share the cores
                steps = -(-run["train_rows"] // BATCH)
                row = {"launch": name, "workers": len(outs), "threads": LAUNCHES[name][0], **run,
                       "epoch_train_seconds": seconds, "median_epoch_train_seconds": median,
                       "samples_per_s": run["train_rows"] / seconds, "steps_per_epoch": steps,
                       "steps_per_s": steps / seconds, "ms_per_step": 1000 * seconds / steps,
                       "median_ms_per_step": 1000 * median / steps,
                       "replicas": chief["replicas"], "launch_wall_seconds": wall}
                w = [np.load(o["runs"][i]["weights"]) for o in outs]
                weights[(name, run["variant"], run["model"])] = [w[0][k] for k in w[0].files]
                if len(outs) > 1:
                    row["workers_max_abs_weight_diff"] = max(
                        float(np.max(np.abs(w[0][k] - other[k]))) for other in w[1:] for k in w[0].files)
                    row["workers_loss_identical"] = all(o["runs"][i]["loss"] == run["loss"] for o in outs[1:])
                rows.append(row)
            if len(outs) > 1:
                allreduce = {"per_worker": [o["allreduce"] for o in outs]}
            print(f"  {name}: {wall:.0f} s", flush=True)
        for row in rows:
            base = "float64" if row["variant"] == "float64" else "default"
            ref = next(r for r in rows if (r["launch"], r["variant"], r["model"]) == (REFERENCE, base, row["model"]))
            row["reference"] = f"{REFERENCE}, {base}"
            row["max_abs_loss_diff_vs_reference"] = max(abs(a - b) for a, b in zip(row["loss"], ref["loss"]))
            mine = weights[(row["launch"], row["variant"], row["model"])]
            theirs = weights[(REFERENCE, base, row["model"])]
            row["max_abs_weight_diff_vs_reference"] = max(float(np.max(np.abs(a - b))) for a, b in zip(mine, theirs))
            row["speed_vs_reference"] = row["samples_per_s"] / ref["samples_per_s"]
            row.pop("weights", None)
    return rows, allreduce


# ---------------------------------------------------------------------------------------------
# The report.


def _label(r: dict) -> str:
    return f"{r['launch']}, steps/call {r['steps_per_execution']}" + (", float64" if r["variant"] == "float64" else "")


HEADER = ("| model | parameters (all-reduce bytes/step) | run | samples/s | steps/s | ms/step | × 1 process 1 thread "
          "| max \\|Δ loss\\| per epoch vs it | max \\|Δ weight\\| vs it | test accuracy |\n"
          "|---|---|---|---|---|---|---|---|---|---|")


def _row(r: dict) -> str:
    return (f"| {r['model']} {MODELS[r['model']]} | {r['params']:,} ({4 * r['params'] / 2**20:.2f} MiB) | "
            f"{_label(r)} | "
            f"{r['samples_per_s']:,.0f} | {r['steps_per_s']:.1f} | "
            f"{r['ms_per_step']:.2f} ({r['median_ms_per_step']:.2f}) | "
            f"{r['speed_vs_reference']:.2f} | {r['max_abs_loss_diff_vs_reference']:.1e} | "
            f"{r['max_abs_weight_diff_vs_reference']:.1e} | {r['test_accuracy']:.3f} |")


def derived(rows: list[dict], allreduce: dict) -> list[dict]:
    """Per model: the measured all-reduce, and the per-step overhead of 2 workers beyond halved compute."""
    out = []
    chief = allreduce.get("per_worker", [{}])[0]
    floor = chief.get("1 float", {}).get("median_s")
    for name in dict.fromkeys(r["model"] for r in rows):
        one = next(r for r in rows if (r["launch"], r["variant"], r["model"]) == (REFERENCE, "steps/call 1", name))
        two = next((r for r in rows if r["model"] == name and r["workers"] == 2 and r["variant"] == "default"), None)
        if two is None:
            continue
        ar = chief.get(name, {})
        bytes_ = ar.get("bytes", 4 * one["params"])
        collectives = (ar.get("collectives_per_step") or {}).get("count")
        # ring, W=2: each worker sends and receives 2(W-1)/W = 1 × the parameter bytes per step
        moved = 2 * (2 - 1) / 2 * bytes_
        bandwidth = moved / (ar["median_s"] - floor) if ar and floor and ar["median_s"] > floor else None
        # the sum of the parts: half the compute, the gradient all-reduce, the other collectives at the floor
        predicted = (one["ms_per_step"] / 2 + 1000 * ar["median_s"] + 1000 * floor * (collectives - 1)
                     if ar and floor and collectives else None)
        out.append({"model": name, "params": one["params"], "bytes": bytes_,
                    "compute_ms_1thread": one["ms_per_step"], "two_workers_ms": two["ms_per_step"],
                    "overhead_ms": two["ms_per_step"] - one["ms_per_step"] / 2,
                    "allreduce_ms": 1000 * ar["median_s"] if ar else None,
                    "allreduce_min_ms": 1000 * ar["min_s"] if ar else None,
                    "latency_floor_ms": 1000 * floor if floor else None,
                    "collectives_per_step": collectives,
                    "collective_ops": (ar.get("collectives_per_step") or {}).get("ops"),
                    "predicted_two_workers_ms": predicted,
                    "loopback_bytes_per_s": bandwidth,
                    "workers_max_abs_weight_diff": two["workers_max_abs_weight_diff"],
                    "workers_loss_identical": two["workers_loss_identical"],
                    "loss_diff_vs_1_process": two["max_abs_loss_diff_vs_reference"]})
    return out


def scaling(found: list[dict], alpha_s: float, collectives: int) -> list[dict]:
    """The README's model: step = t_c/W + C·2(W-1)·α + 2(W-1)/W·P/β, t_c the measured 1-core step."""
    out = []
    for d in found:
        t_c = d["compute_ms_1thread"] / 1000
        for workers in SCALING_WORKERS:
            compute = t_c / workers
            latency = collectives * 2 * (workers - 1) * alpha_s
            fast = collectives * 2 * (workers - 1) * FAST_ALPHA_S
            links = {}
            for gbit in BANDWIDTHS_GBIT:
                transfer = 2 * (workers - 1) / workers * d["bytes"] / (gbit * 1e9 / 8)
                step = compute + latency + transfer
                links[gbit] = {"transfer_ms": 1000 * transfer, "step_ms": 1000 * step, "speedup": t_c / step,
                               "speedup_fast_latency": t_c / (compute + fast + transfer),
                               "bound": max((compute, "compute"), (latency, "latency"), (transfer, "bandwidth"))[1],
                               # the global batch at which the per-worker compute equals the all-reduce
                               "break_even_batch": BATCH * workers * (latency + transfer) / t_c}
            out.append({"model": d["model"], "bytes": d["bytes"], "workers": workers, "compute_ms": 1000 * compute,
                        "latency_ms": 1000 * latency, "links": links})
    return out


def report(info: dict, rows: list[dict], found: list[dict], model: list[dict], alpha_s: float,
           collectives: int) -> str:
    f32 = [r for r in rows if r["variant"] != "float64"]
    lines = [
        f"Run {info['date']} on {info['cpu']} ({info['cores']} cores); Python {info['python']}, TensorFlow "
        f"{info['tensorflow']}, Keras {info['keras']}, numpy {info['numpy']}. Load average "
        f"{info['load_average_start'][0]:.1f} at start, {info['load_average_end']:.1f} at end; total "
        f"{info['total_seconds']:.0f} s.",
        "",
        f"**A correctness demo on {info['cores']} cores, not a scaling claim**: the 2 workers are 2 processes on "
        "this machine's cores, talking over loopback gRPC, so they split the very cores the 1-process runs use. "
        f"{N_ROWS:,} × {N_FEATURES} generated rows, {N_CLASSES} classes; {rows[0]['train_rows']:,} training rows, "
        f"global batch {BATCH} ({rows[0]['steps_per_epoch']} steps an epoch), {info['epochs']} epochs, Adam; the "
        "time of each epoch's training part (no validation pass): the best of epochs 2.."
        f"{info['epochs']} (ms/step: the median in brackets). Every process: inter-op 1 thread, intra-op as "
        "named. \"steps/call\": batches per "
        "compiled call (kerasact's default runs a whole epoch per call without a strategy, one step per call "
        "under one). ×, Δ: against \"1 process, 1 thread\" (kerasact's default steps/call) on the same model and "
        "dtype.",
        "",
        HEADER,
        *(_row(r) for r in f32),
        "",
        "2 workers, per model: the parameters' float32 bytes are what each step all-reduces (RING, W=2: each "
        "worker sends and receives 2(W−1)/W = 1 × those bytes). Gradient all-reduce: that exchange alone, timed "
        f"in the workers after training (median of {ALLREDUCE_CALLS} calls from Python). Collectives: the "
        "all-reduce ops in Keras's traced train step. Overhead: the 2-worker step minus half the 1-thread, "
        "1-step-per-call single-process step (perfectly halved compute). Sum of parts: half that compute + the "
        "gradient all-reduce + the other collectives at the 1-float all-reduce's time.",
        "",
        "| model | all-reduce bytes | 1-process step, 1 thread, 1 step/call (ms) | 2-worker step (ms) | overhead "
        "beyond halved compute (ms) | gradient all-reduce alone (ms) | collectives per step | sum of parts (ms) | "
        "loopback throughput | workers' weights max \\|Δ\\| | workers' losses identical | max \\|Δ loss\\| vs 1 "
        "process |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for d in found:
        bw = f"{d['loopback_bytes_per_s'] / 1e9 * 8:.1f} Gbit/s" if d["loopback_bytes_per_s"] else "—"
        ar = f"{d['allreduce_ms']:.2f}" if d["allreduce_ms"] is not None else "—"
        parts = f"{d['predicted_two_workers_ms']:.2f}" if d["predicted_two_workers_ms"] is not None else "—"
        lines.append(f"| {d['model']} | {d['bytes'] / 2**20:.2f} MiB | {d['compute_ms_1thread']:.2f} | "
                     f"{d['two_workers_ms']:.2f} | {d['overhead_ms']:.2f} | {ar} | {d['collectives_per_step']} | "
                     f"{parts} | {bw} | {d['workers_max_abs_weight_diff']:.1e} | {d['workers_loss_identical']} | "
                     f"{d['loss_diff_vs_1_process']:.1e} |")
    if found and found[0]["latency_floor_ms"] is not None:
        ops = found[0]["collective_ops"] or []
        lines += ["", f"All-reduce of 1 float (the latency floor, 2 workers on loopback): "
                  f"{found[0]['latency_floor_ms']:.3f} ms. The collectives of one step: "
                  + ", ".join(f"`{name}` (of `{source}`)" for name, source in ops) + "."]
    f64 = {r["launch"]: r for r in rows if r["variant"] == "float64"}
    two64 = next((r for r in f64.values() if r["workers"] == 2), None)
    if two64 is not None:
        two32 = next(r for r in f32 if r["workers"] == 2 and r["model"] == two64["model"])
        lines += ["", f"Where the float32 differences come from ({two64['model']}, same runs in float64): 2 workers "
                  f"against 1 process, max |Δ weight| {two32['max_abs_weight_diff_vs_reference']:.1e} in float32, "
                  f"{two64['max_abs_weight_diff_vs_reference']:.1e} in float64 (workers' own max |Δ weight| "
                  f"{two64['workers_max_abs_weight_diff']:.1e}); max |Δ loss| per epoch "
                  f"{two32['max_abs_loss_diff_vs_reference']:.1e} and {two64['max_abs_loss_diff_vs_reference']:.1e} "
                  "(Keras logs the loss in float32). The 2-worker run takes the same steps as the 1-process run: "
                  "a batch summed as 2 × 128 rows then all-reduced rounds differently from 256 rows at once, and "
                  "training amplifies float32 rounding (Adam turns near-zero gradients into full-size steps; a "
                  "ReLU near 0 flips), as any change of summation order would. 1-process float64: "
                  f"{f64[REFERENCE]['samples_per_s']:,.0f} samples/s, 2 workers float64 "
                  f"{two64['samples_per_s']:,.0f}."]
    lines += [
        "",
        "Scaling model (benchmarks/README.md): step = t_c/W + C·2(W−1)·α + 2(W−1)/W·P/β, with t_c the measured "
        f"1-thread, 1-step-per-call step at global batch {BATCH} (one core does the whole batch), C = {collectives} "
        f"collectives per step (measured above), α = {1e6 * alpha_s:.0f} µs per ring hop (the measured 1-float "
        "loopback all-reduce ÷ 2(W−1): TensorFlow's per-collective cost on this machine, not a wire's), P the "
        "parameter bytes, β the link. Speed-up: t_c ÷ step (1.0: as fast as one worker). Bound by: the largest "
        "term. Break-even batch: the global batch at which t_c/W equals the all-reduce (latency + transfer), "
        "taking t_c ∝ batch (true of the 2.2M model; the 17k model's step is mostly per-step overhead, so its "
        "break-even batch is larger still); above it compute dominates.",
        "",
        "| model | P | W | compute t_c/W (ms) | latency C·2(W−1)·α (ms) | transfer at "
        + " / ".join(f"{g}" for g in BANDWIDTHS_GBIT) + " Gbit/s (ms) | speed-up at "
        + " / ".join(f"{g}" for g in BANDWIDTHS_GBIT) + " | bound by | break-even global batch at "
        + " / ".join(f"{g}" for g in BANDWIDTHS_GBIT) + f" | speed-up if α = {1e6 * FAST_ALPHA_S:.0f} µs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in model:
        links = [s["links"][g] for g in BANDWIDTHS_GBIT]
        lines.append(f"| {s['model']} | {s['bytes'] / 2**20:.2f} MiB | {s['workers']} | {s['compute_ms']:.2f} | "
                     f"{s['latency_ms']:.2f} | " + " / ".join(f"{x['transfer_ms']:.2f}" for x in links) + " | "
                     + " / ".join(f"{x['speedup']:.2f}" for x in links) + " | "
                     + " / ".join(x["bound"] for x in links) + " | "
                     + " / ".join(f"{x['break_even_batch']:,.0f}" for x in links) + " | "
                     + " / ".join(f"{x['speedup_fast_latency']:.2f}" for x in links) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small model, 2 epochs: a smoke test")
    parser.add_argument("--epochs", type=int, default=None, help=f"epochs per run (default {EPOCHS})")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=None, help="models (default: all)")
    parser.add_argument("--rerender", action="store_true",
                        help="measure nothing: rewrite results/distributed.md (and the model) from distributed.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    results = HERE / "results"
    if args.rerender:
        saved = json.loads((results / "distributed.json").read_text())
        info, rows, allreduce = saved["machine"], saved["runs"], saved["allreduce"]
    else:
        import workloads

        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        started = time.perf_counter()
        models = args.models or (QUICK["models"] if args.quick else list(MODELS))
        epochs = args.epochs or (QUICK["epochs"] if args.quick else EPOCHS)
        info = workloads.machine(optional=())
        print(f"{len(LAUNCHES)} launches, models {models}, {epochs} epochs:", flush=True)
        rows, allreduce = measure(models, epochs)
        info.update({"epochs": epochs, "batch": BATCH, "quick": args.quick, "load_average_end": os.getloadavg()[0],
                     "total_seconds": time.perf_counter() - started})
    found = derived(rows, allreduce)
    floor = found[0]["latency_floor_ms"] if found else None
    alpha_s = (floor / 1000) / 2 if floor else 100e-6
    collectives = next((d["collectives_per_step"] for d in found if d["collectives_per_step"]), 4)
    model = scaling(found, alpha_s, collectives)
    info.update({"alpha_s": alpha_s, "collectives_per_step": collectives})
    text = report(info, rows, found, model, alpha_s, collectives)
    print("\n" + text)
    results.mkdir(exist_ok=True)
    (results / "distributed.json").write_text(json.dumps({"machine": info, "runs": rows, "allreduce": allreduce,
                                                          "per_model": found, "scaling": model}, indent=2,
                                                         default=str))
    (results / "distributed.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
