"""The measurements behind `kerasact.runtime.execution`'s rules (`bench.py --rules`).

Each question trains the same kerasact model with one switch changed, round-robin, best of
the rounds: steps per execution, the input pipeline, XLA, and bfloat16 by layer width and
batch size (only where the CPU multiplies bfloat16 natively: elsewhere the rule keeps
float32, and TensorFlow 2.21 under an `ONEDNN_MAX_CPU_ISA` cap aborts on a bfloat16 matmul).
Then each rule's choice is checked against the fastest measured option: it holds when it is
within `HOLDS` of it. Results go to `results/rules-<kind>.json` and `.md`, one pair per CPU
kind (`kerasact.runtime.cpu.cpu_kind()`); to measure as an AVX2-only CPU would on an
AVX-512 machine, run with `ONEDNN_MAX_CPU_ISA=AVX2` (oneDNN then dispatches AVX2 kernels).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from contenders import Kerasact
from workloads import WORKLOADS, Workload, machine, teacher_data

HOLDS = 0.9  # a rule's choice within 10% of the fastest option: run-to-run noise on a shared 2-core machine


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
    from kerasact.runtime import cpu

    # XLA's CPU matmul keeps the machine's own instructions under ONEDNN_MAX_CPU_ISA (and under
    # XLA_FLAGS=--xla_cpu_max_isa): a 1024² matmul ran at 272-283 GFLOP/s with either capped to
    # AVX2 or SSE4_2 on an AVX-512 machine, against ~200 for the capped graph executor. So a
    # capped run cannot compare XLA with an AVX2 CPU's graph executor: not measured there.
    found["jit_compile"] = {} if cpu.onednn_cap() else {
        w.key: _compare(w, {"jit off": _ka(jit_compile=False, mixed_precision=False),
                            "jit on": _ka(jit_compile=True, mixed_precision=False)}, rounds)
        for w in (overhead, compute)}
    from kerasact import build_model
    from kerasact.runtime import execution

    found["cpu_kind"] = cpu.cpu_kind()
    found["bfloat16"] = {}
    for width in (128, 256, 512, 1024) if cpu.native_bfloat16() else ():
        for batch in (32, 512):
            w = Workload("bf16", "", 4_096 if quick else 16_384, width, (width, width), 10, batch, 1)
            speed = _compare(w, {"float32": _ka(mixed_precision=False), "bfloat16": _ka(mixed_precision=True)}, rounds)
            flops = execution.flops_per_sample(build_model("multiclass", width, n_classes=10, hidden=[width, width]))
            found["bfloat16"][f"width {width}, batch {batch}"] = {"flops_per_sample": flops, **speed,
                                                                  "speed-up": speed["bfloat16"] / speed["float32"]}
    spe = found["steps_per_execution"]
    found["seconds_per_call_overhead"] = (overhead.batch / spe["spe=1"] - overhead.batch / spe[f"spe={steps}"])
    found["checks"] = _checks(found, overhead, compute)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rules-{found['cpu_kind']}.json").write_text(json.dumps(found, indent=2, default=str))
    (out / f"rules-{found['cpu_kind']}.md").write_text(_markdown(found))
    print(_markdown(found))
    return found


def _checks(found: dict, overhead: Workload, compute: Workload) -> list[dict]:
    """Each rule's choice on this CPU against the fastest option measured for the same question."""
    from kerasact import build_model
    from kerasact.runtime import execution

    def check(rule: str, chosen: str, options: dict[str, float]) -> dict:
        best = max(options, key=options.get)
        return {"rule": rule, "chosen": chosen, "fastest": best, "chosen_vs_fastest": options[chosen] / options[best],
                "holds": options[chosen] >= HOLDS * options[best]}

    model = build_model("multiclass", overhead.d, n_classes=overhead.classes, hidden=list(overhead.hidden))
    spe = execution.settings(model, batch_size=overhead.batch, n_samples=overhead.n).steps_per_execution
    rows = [check("steps_per_execution", f"spe={spe}", found["steps_per_execution"]),
            check("input pipeline", "pipeline (endless)", found["input"])]
    rows += [check(f"jit_compile ({key})", "jit on" if execution._JIT["CPU"] else "jit off", res)
             for key, res in found["jit_compile"].items()]
    for case, res in found["bfloat16"].items():
        batch = int(case.rsplit(" ", 1)[1])
        mixed = res["flops_per_sample"] * batch >= execution.BF16_MIN_STEP_FLOPS
        rows.append(check(f"bfloat16 ({case})", "bfloat16" if mixed else "float32",
                          {k: res[k] for k in ("float32", "bfloat16")}))
    return rows


def _markdown(found: dict) -> str:
    cap = found["machine"].get("onednn_cap")
    lines = [f"Rules measured {found['machine']['date']} on {found['machine']['cpu']}, CPU kind "
             f"`{found['cpu_kind']}`{f' (ONEDNN_MAX_CPU_ISA={cap})' if cap else ''} "
             f"(best of {found['rounds']} rounds, samples/s).", ""]
    for key in ("steps_per_execution", "input"):
        lines += [f"**{key}** (overhead-bound workload): "
                  + ", ".join(f"{k} {v:,.0f}" for k, v in found[key].items()), ""]
    for wkey, res in found["jit_compile"].items():
        lines += [f"**jit_compile** ({wkey}): " + ", ".join(f"{k} {v:,.0f}" for k, v in res.items()), ""]
    if not found["jit_compile"]:
        lines += ["**jit_compile**: not measured under an ONEDNN_MAX_CPU_ISA cap: XLA's CPU matmul keeps the "
                  "machine's own instructions (272-283 GFLOP/s for a 1024² matmul with oneDNN and XLA capped to "
                  "AVX2 or SSE4_2, against ~200 for the capped graph executor), so this run cannot say how XLA "
                  "does on an AVX2 CPU.", ""]
    if found["bfloat16"]:
        lines += ["**bfloat16 vs float32** (hidden (w, w), inputs w):", "",
                  "| case | train FLOP/sample | float32 | bfloat16 | speed-up |", "|---|---|---|---|---|"]
    lines += [f"| {k} | {v['flops_per_sample']:,} | {v['float32']:,.0f} | {v['bfloat16']:,.0f} | {v['speed-up']:.2f}× |"
              for k, v in found["bfloat16"].items()]
    if not found["bfloat16"]:
        lines += ["**bfloat16**: not measured here: no native bfloat16 on this CPU (or oneDNN capped below it), so the "
                  "rule keeps float32."]
    lines += ["", f"Per-call overhead of the train function: {found['seconds_per_call_overhead'] * 1e3:.2f} ms "
              "(batch time at steps_per_execution=1 minus at one call per epoch).", "",
              f"**Does each rule hold here?** (its choice within {HOLDS:.0%} of the fastest option)", "",
              "| rule | chosen | fastest | chosen ÷ fastest | holds |", "|---|---|---|---|---|"]
    lines += [f"| {c['rule']} | {c['chosen']} | {c['fastest']} | {c['chosen_vs_fastest']:.2f} | "
              f"{'yes' if c['holds'] else '**no**'} |" for c in found["checks"]]
    return "\n".join(lines) + "\n"
