"""One worker of a 2-worker test cluster on 127.0.0.1 (run as a script by test_multi_worker.py).

    python mw_worker.py MODE INDEX PORTS OUT [LOG_DIR]

MODE: `train` (kerasact.train under the multi-worker strategy; INDEX -1 is one process, no
strategy), `stock` (the same, with kerasact's keras#20585 fixes kept out: stock Keras fit),
`versions` (worker 1 claims another Keras version), `stream` (`train_table` streaming
OUT/table.csv). Writes OUT/<INDEX>.npz (final weights) and prints one `RESULT {json}` line.
"""

import json
import os
import sys

mode, index, ports, out = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), sys.argv[4]
log_dir = sys.argv[5] if len(sys.argv) > 5 else None
if index >= 0:
    os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                                          "task": {"type": "worker", "index": index}})
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)

import kerasact  # noqa: E402
from kerasact.runtime import _keras_compat  # noqa: E402
from kerasact.training import runs  # noqa: E402

strategy = kerasact.multi_worker_strategy(join_timeout=60) if index >= 0 else None
if mode == "stock":
    _keras_compat.install = lambda: []  # noqa: E731 - stock Keras: the layer kept out
if mode == "versions" and index == 1:
    real = runs.library_versions
    runs.library_versions = lambda: {**real(), "keras": "3.14.0"}

rng = np.random.default_rng(0)
X = rng.normal(size=(732, 8)).astype("float32")  # 512 training rows: 8 whole global batches of 64
y = (X[:, :3].sum(axis=1) + 0.3 * rng.normal(size=732) > 0).astype("int64")
try:
    if mode == "stream":  # OUT/table.csv, streamed in chunks by every worker (auto-shard policy DATA)
        result = kerasact.train_table(os.path.join(out, "table.csv"), "label", stream=True, chunk_rows=500,
                                      shuffle_rows=1000, epochs=2, batch_size=64, verbose=0, log_dir=log_dir,
                                      recipe="mw", hidden=[16], seed=0, strategy=strategy)
        model = result.model
    else:
        model = kerasact.build_model("binary", 8, hidden=[16], optimizer="sgd", learning_rate=0.1, seed=0,
                                     strategy=strategy)
        result = kerasact.train(model, X, y, epochs=4, batch_size=64, patience=None, verbose=0, log_dir=log_dir,
                                recipe="mw")
except Exception as err:  # the test reads what failed
    print("FAILED", type(err).__name__, " ".join(str(err).split())[:600], flush=True)
    sys.exit(3)
np.savez(os.path.join(out, f"{index}.npz"), *model.get_weights())
print("RESULT", json.dumps({"history": result.history, "metrics": result.metrics,
                            "run_dir": None if result.run_dir is None else str(result.run_dir),
                            "fixes": _keras_compat.install() if mode == "train" else []}), flush=True)
