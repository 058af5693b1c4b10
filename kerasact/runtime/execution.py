"""How a model is run: steps per execution, XLA and bfloat16, chosen by measured rules.

Keras's defaults pay a fixed cost per batch (a Python round trip into the compiled graph,
callbacks, the progress bar) that dwarfs the arithmetic of a small MLP: on the 2-core CPU of
`benchmarks/` a 64→128→64→10 network at batch 32 trains 3.3× faster with a whole epoch per
call. The rules below are the measurements of `benchmarks/bench.py --rules`
(`benchmarks/results/rules-<kind>.md`, one per CPU kind); each has a switch in `Execution` (and the same field of
`ModelSpec`): `None` lets the rule decide.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, fields, replace
from typing import Any

import keras
import tensorflow as tf

from kerasact.runtime import serving
from kerasact.runtime.cpu import native_bfloat16

DEFAULT_BATCH_SIZE = 32          # kerasact.train's default, assumed until fit time says otherwise
# Work per call into the train function. Each call costs ~0.8-1.3 ms beyond its steps
# (measured: steps_per_execution=1 vs one call per epoch; 64→128→64→10 at batch 32 went from
# 27k to 88k samples/s); 1e10 FLOP (~0.1 s at 100 GFLOP/s) makes that ~1%.
EXECUTION_FLOPS = 1e10
MAX_STEPS_PER_EXECUTION = 1000   # epochs shorter than this run in one call
# Rows per batch when only predicting (validation, test scoring): Keras's fit validates at its
# own default of 32 rows when the training data is a dataset, which took ~80% of an epoch's
# time on benchmark (b) (12,857 validation rows at 32 against training at 512). On (a) and (b)
# 1024 rows took 0.6-0.7x the time of the training batch and was within noise of 4096.
EVAL_BATCH_SIZE = 1024
# bfloat16 pays off once a step's matmuls are large. Speed-up over float32 by training FLOPs
# per step (batch × per sample), two AMD EPYC runs and one Intel Xeon (AMX) run: 6.5e6:
# 0.83-0.88×; 2.6e7: 0.91-0.98×; 1e8: 0.88-1.08× (width 128, batch 512) or 1.01-1.24× (width 512,
# batch 32); 4e8: 1.00-1.41×; 1.6e9: 1.26-1.58×; 6.5e9: 1.50-2.82×. The threshold sits above the
# mixed band (benchmarks/results/rules-bfloat16.md checks each case against it).
BF16_MIN_STEP_FLOPS = 2e8
# XLA by accelerator. On CPU it was within noise of the graph executor (from 0.75× to 1.07×
# across runs and workloads) and adds a compilation to every first fit: off, as in Keras's
# own "auto". On GPU/TPU this is Keras's "auto" choice too (not measured here).
_JIT = {"CPU": False, "GPU": True, "TPU": True}
# Layers that stay float32 under mixed precision: the output head (the loss needs float32
# probabilities) is handled by position; normalisation is cheap and sets the input scale.
_KEEP_FLOAT32 = (keras.layers.Normalization,)
_SWITCHES = {"steps_per_execution": (int, "an int >= 1"), "jit_compile": (bool, "True or False"),
             "mixed_precision": (bool, "True or False")}


def validate(source: Any) -> None:
    """Check the switch fields of an `Execution` or `ModelSpec` (None or the type in `_SWITCHES`)."""
    for name, (kind, valid) in _SWITCHES.items():
        value = getattr(source, name)
        if value is not None and (type(value) is not kind or (kind is int and value < 1)):
            error = TypeError if type(value) is not kind else ValueError
            raise error(f"{name} must be None (automatic) or {valid}; got {value!r}.")


@dataclass(frozen=True)
class Execution:
    """Execution switches; `None` (the default) lets kerasact's measured rule decide.

    Attributes:
        steps_per_execution: batches per call into the compiled train function (Keras's
            `steps_per_execution`); 1 turns the batching off.
        jit_compile: XLA compilation of the train step; False turns it off.
        mixed_precision: hidden layers compute in bfloat16 (weights stay float32, the output
            layer stays float32); False turns it off. Only CPUs with native bfloat16
            matmuls (AVX512-BF16, AMX) turn it on by themselves; GPUs were not measured.

    Example:
        >>> Execution(jit_compile=False, mixed_precision=False)   # never XLA, never bfloat16
        Execution(steps_per_execution=None, jit_compile=False, mixed_precision=False)
    """

    steps_per_execution: int | None = None
    jit_compile: bool | None = None
    mixed_precision: bool | None = None

    def __post_init__(self) -> None:
        validate(self)

    @classmethod
    def of(cls, source: Any) -> Execution:
        """The switches of an `Execution`, a `ModelSpec` or None (all automatic)."""
        return (source if isinstance(source, cls)
                else cls(**{f.name: getattr(source, f.name, None) for f in fields(cls)}))


AUTO = Execution()
_REQUESTED: weakref.WeakKeyDictionary[keras.Model, Execution] = weakref.WeakKeyDictionary()


def device_kind() -> str:
    """`"GPU"`, `"TPU"` or `"CPU"`: the accelerator TensorFlow would train on."""
    kinds = {d.device_type for d in tf.config.list_physical_devices()}
    return next((k for k in ("TPU", "GPU") if k in kinds), "CPU")


def eval_batch_size(batch_size: int) -> int:
    """Rows per batch for a forward-only pass (validation, scoring): the training batch, or
    `EVAL_BATCH_SIZE` when that is larger (the results do not depend on it).

    Example:
        >>> eval_batch_size(32)
        1024
    """
    return max(int(batch_size), EVAL_BATCH_SIZE)


def flops_per_sample(model: keras.Model) -> int:
    """Training FLOPs per sample: 3× the forward pass's 2·in·out per dense kernel.

    Example:
        >>> flops_per_sample(build_model("multiclass", 64, n_classes=10, hidden=[128, 64]))
        102144
    """
    kernels = [w for layer in model.layers for w in layer.weights if len(w.shape) == 2 and "kernel" in w.path]
    return 3 * sum(2 * math.prod(w.shape) for w in kernels)


def settings(model: keras.Model, requested: Any = AUTO, *, batch_size: int = DEFAULT_BATCH_SIZE,
             n_samples: int | None = None) -> Execution:
    """Resolve every `None` switch of `requested` by the measured rules.

    Args:
        model: the built model (its dense kernels give the work per sample).
        requested: an `Execution`, a `ModelSpec`, or None; set fields are kept as given.
        batch_size: samples per gradient step.
        n_samples: training samples per epoch, when known (caps steps per execution).

    Returns:
        An `Execution` with no `None` fields.

    Example:
        >>> settings(build_model("multiclass", 64, n_classes=10, hidden=[128, 64]), batch_size=32)
        Execution(steps_per_execution=1000, jit_compile=False, mixed_precision=False)
    """
    requested = Execution.of(requested)
    work = flops_per_sample(model)
    steps = math.ceil(EXECUTION_FLOPS / max(1, work * batch_size))
    cap = MAX_STEPS_PER_EXECUTION if n_samples is None else max(1, math.ceil(n_samples / batch_size))
    kind = device_kind()
    # Keras 3.15's multi-step loop fails under a tf.distribute strategy ("You must feed a value
    # for placeholder tensor ..."), so distributed models take one step per call.
    distributed = _has_strategy(model)
    auto = Execution(
        steps_per_execution=1 if distributed else max(1, min(steps, cap, MAX_STEPS_PER_EXECUTION)),
        jit_compile=_JIT[kind],
        mixed_precision=(kind == "CPU" and native_bfloat16() and work * batch_size >= BF16_MIN_STEP_FLOPS
                         and model_dtype(model) == "float32"),
    )
    return replace(auto, **{f.name: getattr(requested, f.name) for f in fields(Execution)
                            if getattr(requested, f.name) is not None})


def _has_strategy(model: keras.Model) -> bool:
    return tf.distribute.has_strategy() or strategy_of(model) is not None


def strategy_of(model: keras.Model) -> tf.distribute.Strategy | None:
    """The `tf.distribute` strategy `model` was built in, or None (TensorFlow's default strategy).

    Example:
        >>> strategy_of(build_model("binary", 4)) is None
        True
    """
    own = getattr(model, "_distribute_strategy", None)  # Keras sets it only when built in a strategy's scope
    return own if own is not None and own is not tf.distribute.get_strategy() else None


def set_precision(model: keras.Model, mixed: bool) -> None:
    """Put the hidden layers in `mixed_bfloat16` (or back to `float32`); the head stays float32.

    Example:
        >>> set_precision(model, True)  # doctest: +SKIP
    """
    if model_dtype(model) != "float32":  # a float64 model keeps its precision: bfloat16 never applies
        return
    policy = "mixed_bfloat16" if mixed else "float32"
    for layer in model.layers[:-1]:
        if not isinstance(layer, _KEEP_FLOAT32):
            layer.dtype_policy = policy


def model_dtype(model: keras.Model) -> str:
    """The precision a model was built in: its first input's dtype (`"float32"` or `"float64"`).

    Example:
        >>> model_dtype(build_model("binary", 4, dtype="float64"))  # doctest: +SKIP
        'float64'
    """
    inputs = getattr(model, "inputs", None) or []
    dtype = str(getattr(inputs[0], "dtype", "float32")) if len(inputs) == 1 else "float32"
    return dtype if dtype in ("float32", "float64") else "float32"


def compile_model(model: keras.Model, requested: Any = AUTO, **compile_kwargs: Any) -> Execution:
    """`model.compile(**compile_kwargs)` with the execution settings the rules choose.

    The switches are remembered, so `configure` can re-decide the automatic ones when the
    batch size and data size are known.

    Example:
        >>> compile_model(model, spec, optimizer="adam", loss="mse")  # doctest: +SKIP
        Execution(steps_per_execution=1000, jit_compile=False, mixed_precision=False)
    """
    chosen = settings(model, requested)
    set_precision(model, chosen.mixed_precision)
    model.compile(**compile_kwargs, steps_per_execution=chosen.steps_per_execution, jit_compile=chosen.jit_compile)
    _REQUESTED[model] = Execution.of(requested)
    return chosen


def configure(model: keras.Model, *, batch_size: int, n_samples: int | None = None) -> Execution | None:
    """Re-decide the automatic settings of a model compiled by `compile_model`, for this fit.

    Steps per execution and bfloat16 depend on the batch size, which is known only now.
    Models compiled elsewhere are left as their author compiled them (returns None).

    Example:
        >>> configure(model, batch_size=512, n_samples=60_000)  # doctest: +SKIP
    """
    requested = _REQUESTED.get(model)
    if requested is None:
        build_optimizer(model)
        return None
    chosen = settings(model, requested, batch_size=batch_size, n_samples=n_samples)
    mixed = any(layer.dtype_policy.name == "mixed_bfloat16" for layer in model.layers)
    if (chosen.steps_per_execution, chosen.jit_compile, chosen.mixed_precision) != (
            model.steps_per_execution, model.jit_compile, mixed):
        set_precision(model, chosen.mixed_precision)
        model.steps_per_execution, model.jit_compile = chosen.steps_per_execution, chosen.jit_compile
        model.train_function = model.test_function = model.predict_function = None  # retrace with them
        serving.clear(model)
    build_optimizer(model)
    return chosen


def build_optimizer(model: keras.Model) -> None:
    """Create the optimizer's slot variables now, before `fit` traces the train step.

    Without a distribution strategy Keras 3.15 defers them to the first trace of the train
    step (`_maybe_symbolic_build` returns early), and a `tf.function` that creates variables
    on its first trace is traced a second time: ~0.2 s of a digits-sized first epoch
    (`benchmarks/profile_run.py`). Under a strategy Keras builds them itself, in its scope.

    Example:
        >>> build_optimizer(model)  # doctest: +SKIP
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or optimizer.built or _has_strategy(model) or not model.built:
        return
    optimizer.build(model.trainable_variables)
