"""The measurements behind `kerasact.runtime.execution`'s rules (`bench.py --rules`).

Each question trains the same kerasact model with one switch changed, round-robin, best of
the rounds: steps per execution, the input pipeline, XLA, and bfloat16 by layer width and
batch size. Results go to `results/rules.json` and `results/rules.md`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from contenders import Kerasact
from workloads import WORKLOADS, Workload, machine, teacher_data


class _Numpy(Kerasact):
    """kerasact's model, fed numpy arrays through Keras's own adapter instead of the pipeline."""

    def fit(self, X, y, epochs, batch_size, callbacks=()):
        from kerasact.runtime import execution

        execution.configure(self.model, batch_size=batch_size, n_samples=len(X))
        self.model.fit(X, y, batch_size=batch_size, epochs=epochs, verbose=0)


class _PerEpoch(Kerasact):
    """kerasact's pipeline with one finite pass (and so one iterator) per epoch."""

    def fit(self, X, y, epochs, batch_size, callbacks=()):
        from kerasact.runtime import execution, pipeline

        execution.configure(self.model, batch_size=batch_size, n_samples=len(X))
        if self.data is None:
            self.data = pipeline.make_dataset(X, y, batch_size=batch_size, seed=0)
        self.model.fit(self.data, epochs=epochs, shuffle=False, verbose=0)


def _compare(w: Workload, variants: dict, rounds: int) -> dict[str, float]:
    """Best samples/s of each variant (a factory of a contender), one epoch per round."""
    X, y, _, _ = teacher_data(w, n_test=0)
    models = {name: make(w) for name, make in variants.items()}
    for m in models.values():
        m.fit(X, y, 1, w.batch)
    best = dict.fromkeys(models, 0.0)
    for _ in range(rounds):
        for name, m in models.items():
            start = time.perf_counter()
            m.fit(X, y, 1, w.batch)
            best[name] = max(best[name], w.n / (time.perf_counter() - start))
    return best


def _ka(**switches):
    return lambda w: Kerasact(w.d, w.hidden, w.classes, 0, **switches)


def main(quick: bool, out: Path) -> dict:
    rounds = 1 if quick else 3
    overhead, compute = WORKLOADS
    if quick:
        overhead = Workload(**{**overhead.__dict__, "n": 4_000})
        compute = Workload(**{**compute.__dict__, "n": 6_000})
    steps = -(-overhead.n // overhead.batch)
    found = {"machine": machine(), "rounds": rounds}
    spe = {f"spe={s}": _ka(steps_per_execution=s) for s in (1, 8, 64, 256, steps)}
    found["steps_per_execution"] = _compare(overhead, spe, rounds)
    inputs = {"pipeline (endless)": _ka(),
              "pipeline, a pass per epoch": lambda w: _PerEpoch(w.d, w.hidden, w.classes, 0),
              "numpy (Keras adapter)": lambda w: _Numpy(w.d, w.hidden, w.classes, 0)}
    found["input"] = _compare(overhead, inputs, rounds)
    found["jit_compile"] = {w.key: _compare(w, {"jit off": _ka(jit_compile=False, mixed_precision=False),
                                                "jit on": _ka(jit_compile=True, mixed_precision=False)}, rounds)
                            for w in (overhead, compute)}
    found["bfloat16"] = {}
    for width in (128, 256, 512, 1024):
        for batch in (32, 512):
            w = Workload("bf16", "", 4_096 if quick else 16_384, width, (width, width), 10, batch, 1)
            speed = _compare(w, {"float32": _ka(mixed_precision=False), "bfloat16": _ka(mixed_precision=True)}, rounds)
            from kerasact import build_model
            from kerasact.runtime import execution

            flops = execution.flops_per_sample(build_model("multiclass", width, n_classes=10, hidden=[width, width]))
            found["bfloat16"][f"width {width}, batch {batch}"] = {"flops_per_sample": flops, **speed,
                                                                  "speed-up": speed["bfloat16"] / speed["float32"]}
    spe = found["steps_per_execution"]
    found["seconds_per_call_overhead"] = (overhead.batch / spe["spe=1"] - overhead.batch / spe[f"spe={steps}"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "rules.json").write_text(json.dumps(found, indent=2, default=str))
    (out / "rules.md").write_text(_markdown(found))
    print(_markdown(found))
    return found


def _markdown(found: dict) -> str:
    lines = [f"Rules measured {found['machine']['date']} on {found['machine']['cpu']} "
             f"(best of {found['rounds']} rounds, samples/s).", ""]
    for key in ("steps_per_execution", "input"):
        lines += [f"**{key}** (overhead-bound workload): "
                  + ", ".join(f"{k} {v:,.0f}" for k, v in found[key].items()), ""]
    for wkey, res in found["jit_compile"].items():
        lines += [f"**jit_compile** ({wkey}): " + ", ".join(f"{k} {v:,.0f}" for k, v in res.items()), ""]
    lines += ["**bfloat16 vs float32** (hidden (w, w), inputs w):", "",
              "| case | train FLOP/sample | float32 | bfloat16 | speed-up |", "|---|---|---|---|---|"]
    lines += [f"| {k} | {v['flops_per_sample']:,} | {v['float32']:,.0f} | {v['bfloat16']:,.0f} | {v['speed-up']:.2f}× |"
              for k, v in found["bfloat16"].items()]
    lines += ["", f"Per-call overhead of the train function: {found['seconds_per_call_overhead'] * 1e3:.2f} ms "
              "(batch time at steps_per_execution=1 minus at one call per epoch)."]
    return "\n".join(lines) + "\n"
