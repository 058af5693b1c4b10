"""What the execution rules need to know about the CPU: its flags, and whether TensorFlow
multiplies bfloat16 natively here (the flags, unless oneDNN is capped below them or off).

Machines differ: the benchmark CPUs have AVX-512 and AVX512-BF16/AMX, CI's and a user's may
have AVX2 only; `benchmarks/results/rules-<kind>.md` holds the rules' measurements per
`cpu_kind()`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

# CPU flags of native bfloat16 matmul (Linux /proc/cpuinfo names).
_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}
# oneDNN's instruction sets in its dispatch order (ONEDNN_MAX_CPU_ISA's values). A cap below
# AVX512_CORE_BF16, e.g. to run as an AVX2 CPU would, leaves TensorFlow 2.21 unable to build a
# bfloat16 matmul at all ("could not create a primitive descriptor", then abort), so the cap
# counts as the CPU's flags; so does TF_ENABLE_ONEDNN_OPTS=0 (Eigen's bfloat16 matmul converts
# to float32 and back: slower than float32).
_ONEDNN_ISAS = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI",
                "AVX512_CORE_BF16", "AVX10_1_512", "AVX512_CORE_FP16", "AVX10_1_512_AMX", "AVX512_CORE_AMX",
                "AVX10_1_512_AMX_FP16", "AVX512_CORE_AMX_FP16", "DEFAULT", "ALL")


@lru_cache(maxsize=1)
def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU's feature flags as Linux lists them (empty where unknown)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return frozenset()
    return frozenset(next((line.split(":", 1)[1].split() for line in text.splitlines()
                           if line.startswith("flags")), []))


def onednn_cap() -> str | None:
    """`ONEDNN_MAX_CPU_ISA` when it names an instruction set oneDNN knows (it ignores others), else None."""
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    return cap if cap in _ONEDNN_ISAS else None


def native_bfloat16() -> bool:
    """True when TensorFlow multiplies bfloat16 natively here: the CPU has AVX512-BF16 or AMX, and
    neither `ONEDNN_MAX_CPU_ISA` nor `TF_ENABLE_ONEDNN_OPTS=0` takes oneDNN's bfloat16 kernels away.

    Example:
        >>> native_bfloat16() in (True, False)
        True
    """
    cap = onednn_cap()
    capped = cap is not None and _ONEDNN_ISAS.index(cap) < _ONEDNN_ISAS.index("AVX512_CORE_BF16")
    onednn_off = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip() in ("0", "false", "False")
    return bool(_BF16_FLAGS & cpu_flags()) and not capped and not onednn_off


def cpu_kind() -> str:
    """What the rules depend on, in one word: `"bfloat16"` (native bfloat16), `"avx512"`, `"avx2"`, or
    `"other"`; an `ONEDNN_MAX_CPU_ISA` cap counts as the CPU's flags (`benchmarks/results/rules-<kind>.md`).

    Example:
        >>> cpu_kind() in ("bfloat16", "avx512", "avx2", "other")
        True
    """
    flags, cap = cpu_flags(), onednn_cap()
    below = (lambda isa: cap is not None and _ONEDNN_ISAS.index(cap) < _ONEDNN_ISAS.index(isa))
    if native_bfloat16():
        return "bfloat16"
    if "avx512f" in flags and not below("AVX512_CORE"):
        return "avx512"
    return "avx2" if "avx2" in flags else "other"
